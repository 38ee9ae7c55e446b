from datetime import timedelta

from odoo import api, fields, models

from ..services.const import FLOW_SHIPPED

RESULTS = [("pending", "Waiting"), ("created", "Created"), ("updated", "Updated: shipped"),
           ("existing", "Already in Odoo"), ("skipped", "Skipped"), ("failed", "Failed")]


class AmazonOrderQueueLine(models.Model):
    _name = "amazon.order.queue.line"
    _inherit = ["amazon.refresh.mixin"]
    _description = "Amazon Order Data Queue Line"
    _order = "id"

    # === FIELDS ===
    queue_id = fields.Many2one("amazon.order.queue", required=True, ondelete="cascade", index=True)
    seller_id = fields.Many2one(related="queue_id.seller_id", store=True, index=True)
    company_id = fields.Many2one(related="queue_id.company_id", store=True)
    amazon_order_ref = fields.Char("Amazon Order ID", required=True, index=True)
    payload = fields.Text(required=True, help="The order as Amazon sent it (JSON).")
    state = fields.Selection([("pending", "Pending"), ("done", "Done"), ("failed", "Failed"),
                              ("skipped", "Skipped")], default="pending", required=True, index=True)
    message = fields.Text()
    attempts = fields.Integer(default=0)
    next_try = fields.Datetime()
    sale_order_id = fields.Many2one("sale.order", ondelete="set null")
    outcome = fields.Selection([("created", "Created"), ("updated", "Updated: shipped"),
                                ("existing", "Already in Odoo")], readonly=True, copy=False,
                               help="What importing this order did in Odoo.")
    result = fields.Selection(RESULTS, compute="_compute_result",
                              help="Created: a new order. Updated: an order Odoo had, now shipped "
                                   "on Amazon, got its delivery validated. Skipped and Failed say "
                                   "why in the message.")

    # === COMPUTE METHODS ===
    @api.depends("state", "outcome")
    def _compute_result(self):
        for line in self:
            line.result = line.outcome if line.state == "done" and line.outcome else line.state

    # === BUSINESS METHODS ===
    def _amazon_refresh_targets(self):
        return {"amazon.order.queue": self.queue_id}

    def _done(self, order, message=None):
        """Imported: the line says what importing it did in Odoo, the order's chatter
        says which queue imported it (or that Amazon shipped it)."""
        for line in self:
            queue = line.queue_id
            new = bool(order) and not order.amazon_source_ref
            outcome = "created" if new else ("updated" if queue.flow == FLOW_SHIPPED else "existing")
            line.write({"state": "done", "message": message or False, "outcome": outcome if order else False,
                        "sale_order_id": order.id if order else False})
            if new:
                order._amazon_log_origin(queue)
            elif order and outcome == "updated":
                order._amazon_log_shipped(queue)

    def _fail(self, message):
        now = fields.Datetime.now()
        for line in self:
            attempts = line.attempts + 1
            line.write({"state": "failed", "message": message, "attempts": attempts,
                        "next_try": now + timedelta(minutes=5 * attempts)})
