from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    amazon_cancel_requested = fields.Boolean(
        "Buyer Asked to Cancel", copy=False, readonly=True, index=True,
        help="The buyer asked Amazon to cancel this order. Its delivery cannot be validated "
             "until the request is answered in Seller Central.")
    amazon_cancel_request_reason = fields.Char("Buyer's Cancellation Reason", copy=False, readonly=True)
    amazon_cancelled_by = fields.Char(
        "Cancelled on Amazon By", copy=False, readonly=True,
        help="Who cancelled the order on Amazon (BUYER, MERCHANT, AMAZON), when Amazon says.")
    amazon_cancel_reason = fields.Char("Amazon Cancellation Reason", copy=False, readonly=True)
    amazon_shipment_state = fields.Selection(
        [("none", "No Delivery Validated"), ("to_send", "To Send"), ("failed", "Failed"),
         ("sent", "Sent"), ("not_needed", "Not Needed")],
        string="Amazon Shipment Confirmation", compute="_compute_amazon_shipment_state",
        store=True, index=True,
        help="Worst state of the shipment confirmations of this order's deliveries "
             "(Failed before To Send before Sent).")

    # === COMPUTE METHODS ===
    @api.depends("amazon_order_ref", "picking_ids.amazon_confirm_state")
    def _compute_amazon_shipment_state(self):
        rank = ["failed", "to_send", "sent", "not_needed"]
        for order in self:
            if not order.amazon_order_ref:
                order.amazon_shipment_state = False
                continue
            states = [p.amazon_confirm_state for p in order.picking_ids if p.amazon_confirm_state]
            order.amazon_shipment_state = min(states, key=rank.index) if states else "none"
