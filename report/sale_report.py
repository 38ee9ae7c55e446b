from odoo import fields, models


class SaleReport(models.Model):
    """Sales Analysis, by Amazon seller, marketplace and Amazon order status."""

    _inherit = "sale.report"

    amazon_seller_id = fields.Many2one("amazon.seller", "Amazon Seller", readonly=True)
    amazon_marketplace_id = fields.Many2one("amazon.marketplace", "Amazon Marketplace", readonly=True)
    amazon_status = fields.Char("Amazon Status", readonly=True)

    def _select_additional_fields(self):
        res = super()._select_additional_fields()
        res["amazon_seller_id"] = "s.amazon_seller_id"
        res["amazon_marketplace_id"] = "s.amazon_marketplace_id"
        res["amazon_status"] = "s.amazon_status"
        return res

    def _group_by_sale(self):
        res = super()._group_by_sale()
        res += """,
            s.amazon_seller_id,
            s.amazon_marketplace_id,
            s.amazon_status"""
        return res
