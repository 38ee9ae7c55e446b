from odoo import fields, models


class AmazonReturnLine(models.Model):
    """One returned item of an Amazon return (one row of Amazon's returns report)."""

    _name = "amazon.return.line"
    _description = "Amazon Return Item"
    _order = "return_id, id"

    # === FIELDS ===
    return_id = fields.Many2one("amazon.return", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="return_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="return_id.currency_id")
    sku = fields.Char("SKU", required=True, readonly=True, help="Amazon's Merchant SKU.")
    asin = fields.Char("ASIN", readonly=True)
    name = fields.Char("Item", readonly=True)
    quantity = fields.Integer(required=True, readonly=True)
    reason = fields.Char(readonly=True, help="Amazon's return reason code, e.g. CR-DEFECTIVE.")
    amount_refunded = fields.Monetary("Refunded", readonly=True,
                                      help="What Amazon refunded the buyer for this item.")
    product_id = fields.Many2one("product.product", readonly=True)
    sale_line_id = fields.Many2one("sale.order.line", string="Order Line", readonly=True,
                                   index="btree_not_null")
