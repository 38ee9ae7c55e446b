from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class AmazonMarketplace(models.Model):
    """One marketplace of a seller, with where and how its orders land in Odoo."""

    _name = "amazon.marketplace"
    _description = "Amazon Marketplace of a Seller"
    _inherit = ["analytic.mixin"]

    seller_id = fields.Many2one("amazon.seller", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="seller_id.company_id", store=True)
    reference_id = fields.Many2one("amazon.marketplace.reference", string="Amazon Marketplace")
    name = fields.Char(compute="_compute_from_reference", store=True, readonly=False)
    active = fields.Boolean(default=True)
    amazon_marketplace_id = fields.Char("Marketplace ID", compute="_compute_from_reference",
                                        store=True, readonly=False)
    country_id = fields.Many2one("res.country", compute="_compute_from_reference", store=True,
                                 readonly=False)
    currency_id = fields.Many2one("res.currency", compute="_compute_from_reference", store=True,
                                  readonly=False)
    price_includes_tax = fields.Boolean(compute="_compute_from_reference", store=True,
                                        readonly=False)
    warehouse_id = fields.Many2one("stock.warehouse", string="FBM Warehouse",
                                   domain="[('company_id', '=', company_id)]")
    pricelist_id = fields.Many2one("product.pricelist")
    tag_ids = fields.Many2many("crm.tag", string="Order Tags")
    team_id = fields.Many2one("crm.team", string="Sales Team")

    _sql_constraints = [("seller_marketplace_uniq", "unique(seller_id, amazon_marketplace_id)",
                         "This marketplace is already configured for the seller.")]

    @api.depends("reference_id")
    def _compute_from_reference(self):
        for mp in self:
            ref = mp.reference_id
            if not ref:
                continue
            mp.name = "%s (%s)" % (ref.name, mp.seller_id.name or "") if mp.seller_id else ref.name
            mp.amazon_marketplace_id = ref.amazon_marketplace_id
            mp.country_id = ref.country_id
            mp.currency_id = ref.currency_id
            mp.price_includes_tax = ref.price_includes_tax

    @api.constrains("amazon_marketplace_id", "name")
    def _check_identity(self):
        for mp in self:
            if not mp.amazon_marketplace_id or not mp.name:
                raise ValidationError(_("Pick the Amazon marketplace (or enter its id and name)."))
