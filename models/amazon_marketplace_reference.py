from odoo import fields, models


class AmazonMarketplaceReference(models.Model):
    """Amazon's marketplaces, shipped as data; a seller's marketplace points to one."""

    _name = "amazon.marketplace.reference"
    _description = "Amazon Marketplace (reference)"
    _order = "region, name"

    name = fields.Char(required=True)
    amazon_marketplace_id = fields.Char("Marketplace ID", required=True)
    country_id = fields.Many2one("res.country", required=True)
    currency_id = fields.Many2one("res.currency", required=True)
    region = fields.Selection([("na", "North America"), ("eu", "Europe"), ("fe", "Far East")],
                              required=True)
    sales_channel = fields.Char(help="How Amazon's reports name it, e.g. Amazon.com.")
    price_includes_tax = fields.Boolean(help="Amazon's item prices include VAT/GST here.")

    _sql_constraints = [("marketplace_uniq", "unique(amazon_marketplace_id)",
                         "This Amazon marketplace is already defined.")]
