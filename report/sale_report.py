from odoo import fields, models


class SaleReport(models.Model):
    """Sales Analysis, by Amazon seller, marketplace and Amazon order status."""

    _inherit = "sale.report"

    amazon_seller_id = fields.Many2one("amazon.seller", "Amazon Seller", readonly=True)
    amazon_marketplace_id = fields.Many2one("amazon.marketplace", "Amazon Marketplace", readonly=True)
    amazon_status = fields.Char("Amazon Status", readonly=True)
    amazon_units = fields.Float(
        "Units Sold", readonly=True,
        help="Units of goods sold: shipping, gift wrap, promotion and adjustment lines are "
             "not units.")

    def _select_additional_fields(self):
        res = super()._select_additional_fields()
        res["amazon_seller_id"] = "s.amazon_seller_id"
        res["amazon_marketplace_id"] = "s.amazon_marketplace_id"
        res["amazon_status"] = "s.amazon_status"
        # Goods only (storable and consumable products, kits included): the service
        # lines Amazon orders carry (shipping, gift wrap, promotions) are no units sold.
        res["amazon_units"] = """CASE WHEN l.product_id IS NOT NULL THEN SUM(
            CASE WHEN t.type IN ('product', 'consu') THEN l.product_uom_qty / u.factor * u2.factor
                 ELSE 0 END) ELSE 0 END"""
        return res

    def _group_by_sale(self):
        res = super()._group_by_sale()
        res += """,
            s.amazon_seller_id,
            s.amazon_marketplace_id,
            s.amazon_status"""
        return res
