from datetime import timedelta

from odoo import api, fields, models


class AmazonNotification(models.Model):
    """One ORDER_CHANGE notification read from the seller's SQS queue: applied, or
    dropped after too many tries (with the reason). Applied ones are kept a week so
    that a duplicate (same NotificationId) is recognised without calling Amazon."""
    _name = "amazon.notification"
    _description = "Amazon Order Notification"
    _order = "id desc"
    _rec_name = "amazon_order_ref"

    # === FIELDS ===
    seller_id = fields.Many2one("amazon.seller", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="seller_id.company_id", store=True)
    notification_ref = fields.Char(
        "Notification ID", required=True,
        help="Amazon's NotificationId (or, for a message that is not a notification, the SQS "
             "message id).")
    amazon_order_ref = fields.Char("Amazon Order", index=True)
    change_type = fields.Char("Change", help="OrderStatusChange or BuyerRequestedChange.")
    amazon_status = fields.Char("Status Notified")
    event_time = fields.Datetime("Changed On", help="When the order changed on Amazon.")
    state = fields.Selection([("done", "Applied"), ("dropped", "Dropped")],
                             required=True, default="done")
    message = fields.Text(help="Why the message was dropped.")
    body = fields.Text("Message Body", help="The message as it was read from the queue (dropped ones).")
    receive_count = fields.Integer("Times Received")

    _sql_constraints = [
        ("notification_unique", "unique(seller_id, notification_ref)",
         "A notification is recorded once per seller."),
    ]

    # === BUSINESS METHODS ===
    @api.model
    def _cron_purge(self, days=7):
        """Applied notifications older than ``days`` days are deleted (dropped ones stay)."""
        old = self.search([("state", "=", "done"),
                           ("create_date", "<", fields.Datetime.now() - timedelta(days=days))])
        old.unlink()
        return True
