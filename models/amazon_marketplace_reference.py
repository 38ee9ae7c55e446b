from odoo import api, fields, models
from odoo.osv import expression


class AmazonMarketplaceReference(models.Model):
    """Amazon's marketplaces, shipped as data; a seller's marketplace points to one."""
    _name = "amazon.marketplace.reference"
    _description = "Amazon Marketplace (reference)"
    _order = "region, name"
    _sql_constraints = [("marketplace_uniq", "unique(amazon_marketplace_id)",
                         "This Amazon marketplace is already defined.")]
    _rec_names_search = ["name", "sales_channel", "amazon_marketplace_id"]

    # === FIELDS ===
    name = fields.Char(required=True)
    amazon_marketplace_id = fields.Char("Marketplace ID", required=True)
    country_id = fields.Many2one("res.country", required=True)
    currency_id = fields.Many2one("res.currency", required=True)
    region = fields.Selection([("na", "North America"), ("eu", "Europe"), ("fe", "Far East")],
                              required=True)
    sales_channel = fields.Char(help="How Amazon's reports name it, e.g. Amazon.com.")
    price_includes_tax = fields.Boolean(help="Amazon's item prices include VAT/GST here.")
    amazon_collects_tax = fields.Boolean(
        "Marketplace Facilitator",
        help="Marketplace facilitator laws make Amazon collect and remit the sales tax of "
             "orders in this marketplace.")

    # === CRUD METHODS ===
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
