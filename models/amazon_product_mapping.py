from odoo import fields, models


class AmazonProductMapping(models.Model):
    """A seller's SKU that is not the product's internal reference."""

    _name = "amazon.product.mapping"
    _description = "Amazon SKU Mapping"
    _rec_name = "sku"

    seller_id = fields.Many2one("amazon.seller", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="seller_id.company_id", store=True)
    sku = fields.Char("Seller SKU", required=True, index=True,
                      help="The SKU as your Amazon listing and Amazon's orders name it.")
    asin = fields.Char("ASIN", help="Amazon's product number (for your reference).")
    product_id = fields.Many2one("product.product", required=True, ondelete="cascade",
                                 help="The Odoo product an order line of this SKU gets.")

    _sql_constraints = [("sku_uniq", "unique(seller_id, sku)", "This SKU is already mapped for the seller.")]
