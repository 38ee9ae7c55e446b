from odoo import fields, models


class AmazonProductMapping(models.Model):
    """A seller's SKU that is not the product's internal reference."""

    _name = "amazon.product.mapping"
    _description = "Amazon SKU Mapping"
    _rec_name = "sku"

    seller_id = fields.Many2one("amazon.seller", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="seller_id.company_id", store=True)
    sku = fields.Char("Seller SKU", required=True, index=True)
    asin = fields.Char("ASIN")
    product_id = fields.Many2one("product.product", required=True, ondelete="cascade")

    _sql_constraints = [("sku_uniq", "unique(seller_id, sku)", "This SKU is already mapped for the seller.")]
