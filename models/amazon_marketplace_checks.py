from odoo import _, api, fields, models
from odoo.osv import expression


class AmazonMarketplace(models.Model):
    """Configuration that says what is wrong before it bites."""

    _inherit = "amazon.marketplace"

    # === FIELDS ===
    amazon_participation = fields.Selection(
        [("unknown", "Not Checked"), ("selling", "Selling"), ("not_selling", "Not Selling")],
        string="Seller Sells Here", default="unknown", required=True, copy=False, readonly=True,
        help="Whether Amazon lists the seller on this marketplace, as the last Test Connection "
             "of the seller found.")
    config_warning = fields.Text(
        "Configuration Problem", compute="_compute_config_warning",
        help="What in this marketplace's configuration keeps orders from importing or "
             "shipping as they should, and how to fix it.")

    # === COMPUTE METHODS ===
    @api.depends("warehouse_id", "amazon_participation", "name", "seller_id.name", "company_id")
    def _compute_config_warning(self):
        for mp in self:
            problems = []
            if not mp.warehouse_id:
                problems.append(_(
                    "No FBM warehouse: orders of %(marketplace)s are shipped from the company's "
                    "first warehouse. Choose the warehouse you ship them from.", marketplace=mp.name))
            if mp.amazon_participation == "not_selling":
                problems.append(_(
                    "Amazon does not list seller %(seller)s on %(marketplace)s (last Test "
                    "Connection): nothing can be imported or confirmed here. Archive this "
                    "marketplace, or register the seller for it in Seller Central.",
                    seller=mp.seller_id.name, marketplace=mp.name))
            mp.config_warning = "\n".join(problems) or False

    # === BUSINESS METHODS ===
    def _amazon_note_participation(self, marketplace_ids):
        """The marketplaces Amazon lists the seller on (Test Connection): the others are
        flagged. Returns the marketplaces the seller does not sell on."""
        selling = self.filtered(lambda mp: mp.amazon_marketplace_id in marketplace_ids)
        (self - selling).sudo().amazon_participation = "not_selling"
        selling.sudo().amazon_participation = "selling"
        return self - selling


class AmazonMarketplaceReference(models.Model):
    _inherit = "amazon.marketplace.reference"

    _rec_names_search = ["name", "sales_channel", "amazon_marketplace_id"]

    @api.model
    def _name_search(self, name, domain=None, operator="ilike", limit=None, order=None):
        """"Amazon.de", "A1PA6795UKMFR9" or "DE" finds Amazon Germany: an exact sales
        channel, marketplace id or country code first, then names that contain the text."""
        term = (name or "").strip()
        if term and operator in ("ilike", "=ilike", "like", "="):
            exact = self._search(expression.AND([domain or [], [
                "|", "|", ("sales_channel", "=ilike", term), ("amazon_marketplace_id", "=ilike", term),
                ("country_id.code", "=ilike", term)]]), limit=limit, order=order)
            if exact:
                return exact
        return super()._name_search(term or name, domain, operator, limit, order)

    @api.depends("name", "sales_channel")
    def _compute_display_name(self):
        for ref in self:
            ref.display_name = "%s (%s)" % (ref.name, ref.sales_channel) if ref.sales_channel else ref.name
