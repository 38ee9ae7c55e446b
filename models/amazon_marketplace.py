from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class AmazonMarketplace(models.Model):
    """One marketplace of a seller, with where and how its orders land in Odoo."""

    _name = "amazon.marketplace"
    _description = "Amazon Marketplace of a Seller"
    _inherit = ["analytic.mixin"]

    seller_id = fields.Many2one("amazon.seller", required=True, ondelete="cascade", index=True,
                                help="The seller account that sells on this marketplace.")
    company_id = fields.Many2one(related="seller_id.company_id", store=True)
    reference_id = fields.Many2one(
        "amazon.marketplace.reference", string="Amazon Marketplace",
        help="Pick the marketplace from Amazon's list, or enter its Amazon marketplace id: "
             "either way its name, sales channel, country and currency come from Amazon's "
             "reference data for that id.")
    name = fields.Char(compute="_compute_name", store=True, readonly=False,
                       help="The marketplace's name, as Amazon's reports write it (e.g. Amazon.de).")
    active = fields.Boolean(default=True)
    amazon_marketplace_id = fields.Char(
        "Marketplace ID", compute="_compute_amazon_marketplace_id", store=True, readonly=False,
        help="Amazon's id of the marketplace (e.g. A1PA6795UKMFR9 for Amazon.de). Orders are "
             "matched to the marketplace by this id.")
    sales_channel = fields.Char(
        compute="_compute_sales_channel", store=True, readonly=False,
        help="How Amazon's reports name this marketplace (e.g. Amazon.de). Filled from "
             "Amazon's reference data by the marketplace id; set it only for a marketplace "
             "that the reference data does not know yet.")
    country_id = fields.Many2one("res.country", compute="_compute_country_id", store=True,
                                 readonly=False, help="The country of the marketplace.")
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id", store=True,
                                  readonly=False, help="The currency Amazon's buyers pay in here.")
    price_includes_tax = fields.Boolean("Prices Include Tax", compute="_compute_price_includes_tax",
                                        store=True, readonly=False,
                                        help="Amazon's prices include VAT/GST here (EU, UK, JP...): "
                                             "orders use tax-included prices.")
    warehouse_id = fields.Many2one("stock.warehouse", string="FBM Warehouse",
                                   domain="[('company_id', '=', company_id)]",
                                   help="The warehouse you ship this marketplace's orders from.")
    pricelist_id = fields.Many2one("product.pricelist",
                                   help="The pricelist set on the orders (empty: one in the "
                                        "marketplace's currency is used).")
    tag_ids = fields.Many2many("crm.tag", string="Order Tags",
                               help="Tags put on every order of this marketplace.")
    team_id = fields.Many2one("crm.team", string="Sales Team",
                              help="The sales team of the orders, for your sales reports.")
    analytic_distribution = fields.Json(
        help="The analytic accounts the orders' lines are booked to.")

    _sql_constraints = [("seller_marketplace_uniq", "unique(seller_id, amazon_marketplace_id)",
                         "This marketplace is already configured for the seller.")]

    # === COMPUTE METHODS ===
    # One method per field: a value the seller gives for one of them (creating a
    # marketplace by its id, or with its own name) leaves the others computed.
    @api.depends("reference_id")
    def _compute_name(self):
        for mp in self.filtered("reference_id"):
            ref = mp.reference_id
            mp.name = ref.sales_channel or ref.name

    @api.depends("reference_id")
    def _compute_amazon_marketplace_id(self):
        for mp in self.filtered("reference_id"):
            mp.amazon_marketplace_id = mp.reference_id.amazon_marketplace_id

    @api.depends("reference_id")
    def _compute_sales_channel(self):
        for mp in self.filtered("reference_id"):
            mp.sales_channel = mp.reference_id.sales_channel

    @api.depends("reference_id")
    def _compute_country_id(self):
        for mp in self.filtered("reference_id"):
            mp.country_id = mp.reference_id.country_id

    @api.depends("reference_id")
    def _compute_currency_id(self):
        for mp in self.filtered("reference_id"):
            mp.currency_id = mp.reference_id.currency_id

    @api.depends("reference_id")
    def _compute_price_includes_tax(self):
        for mp in self.filtered("reference_id"):
            mp.price_includes_tax = mp.reference_id.price_includes_tax

    @api.onchange("amazon_marketplace_id")
    def _onchange_amazon_marketplace_id(self):
        for mp in self:
            ref = self._reference_for(mp.amazon_marketplace_id)
            if ref and ref != mp.reference_id:
                mp.reference_id = ref

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._complete_from_id(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._complete_from_id(vals)
        return super().write(vals)

    @api.model
    def _complete_from_id(self, vals):
        """A marketplace entered by its Amazon id gets the reference data of that id."""
        if vals.get("amazon_marketplace_id") and not vals.get("reference_id"):
            vals["amazon_marketplace_id"] = vals["amazon_marketplace_id"].strip()
            ref = self._reference_for(vals["amazon_marketplace_id"])
            if ref:
                vals["reference_id"] = ref.id

    @api.model
    def _reference_for(self, code):
        if not code:
            return self.env["amazon.marketplace.reference"]
        return self.env["amazon.marketplace.reference"].search(
            [("amazon_marketplace_id", "=", code.strip())], limit=1)

    @api.depends("name", "seller_id.name")
    def _compute_display_name(self):
        for mp in self:
            mp.display_name = "%s — %s" % (mp.name, mp.seller_id.name) if mp.seller_id.name else mp.name

    @api.constrains("amazon_marketplace_id", "name")
    def _check_identity(self):
        for mp in self:
            if not mp.amazon_marketplace_id or not mp.name:
                raise ValidationError(_("Pick the Amazon marketplace (or enter its id and name)."))
