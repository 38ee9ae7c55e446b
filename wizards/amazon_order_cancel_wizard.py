from odoo import _, fields, models

from ..models.sale_order import CANCEL_REASON_SELECTION


class AmazonOrderCancelWizard(models.TransientModel):
    """Cancel on Amazon: an FBM order (or some of its lines) that has not shipped, with
    Amazon's reason. Nothing is cancelled in Odoo until Amazon accepts it."""

    _name = "amazon.order.cancel.wizard"
    _description = "Cancel an Amazon Order on Amazon"

    # === FIELDS ===
    sale_order_id = fields.Many2one("sale.order", required=True, readonly=True, ondelete="cascade")
    amazon_order_ref = fields.Char(related="sale_order_id.amazon_order_ref")
    reason = fields.Selection(
        CANCEL_REASON_SELECTION, required=True, default="NoInventory",
        help="Amazon's CancelReason, sent with the cancellation (order acknowledgement feed). "
             "Amazon counts seller cancellations other than the buyer's own request against the "
             "seller's cancellation rate.")
    line_ids = fields.Many2many(
        "sale.order.line", string="Lines",
        domain="[('order_id', '=', sale_order_id), ('amazon_order_item_id', '!=', False)]",
        help="Cancel only these lines' Amazon items (their whole quantity). Empty: the whole order.")

    # === ACTION METHODS ===
    def action_confirm(self):
        self.ensure_one()
        self.sale_order_id._amazon_request_cancel(self.reason, self.line_ids)
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "info", "sticky": False, "title": _("Cancellation queued"),
            "message": _("Order %s: the cancellation goes to Amazon with the next feed (a few "
                         "minutes); the order shows Amazon's answer.", self.amazon_order_ref),
            "next": {"type": "ir.actions.act_window_close"}}}
