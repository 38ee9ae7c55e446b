from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    amazon_order_ref = fields.Char("Amazon Order ID", copy=False, index=True, readonly=True)
    amazon_seller_id = fields.Many2one("amazon.seller", copy=False, readonly=True, index=True)
    amazon_marketplace_id = fields.Many2one("amazon.marketplace", copy=False, readonly=True)
    amazon_fulfillment_channel = fields.Selection([("MFN", "Fulfilled by Merchant (FBM)"),
                                                   ("AFN", "Fulfilled by Amazon (FBA)")],
                                                  copy=False, readonly=True)
    amazon_status = fields.Char("Amazon Status", copy=False, readonly=True)
    amazon_total = fields.Monetary("Amazon Total", copy=False, readonly=True)
    amazon_gift_message = fields.Text(copy=False)
    amazon_workflow_message = fields.Text("Auto Workflow Problem", copy=False, readonly=True)
    amazon_ship_by_date = fields.Datetime(
        "Ship By", copy=False, readonly=True, index=True,
        help="The latest ship date Amazon promised the buyer; an order not shipped by then is late.")

    _sql_constraints = [
        ("amazon_order_uniq", "unique(amazon_seller_id, amazon_order_ref)",
         "This Amazon order is already imported for this seller."),
    ]


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    amazon_order_item_id = fields.Char(
        "Amazon Order Item ID", copy=False, readonly=True, index=True,
        help="Amazon's id of this item in the order; shipment confirmations name it.")
    amazon_asin = fields.Char("ASIN", copy=False, readonly=True)
