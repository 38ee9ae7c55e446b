from odoo import models


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    # === BUSINESS METHODS ===
    def _notify_get_recipients(self, message, msg_vals, **kwargs):
        recipients = super()._notify_get_recipients(message, msg_vals, **kwargs)
        customers = [r["id"] for r in recipients if r.get("share")]
        if not customers:
            return recipients
        sms = (msg_vals or {}).get("message_type", message.message_type) == "sms" or any(
            r.get("notif") == "sms" for r in recipients)
        blocked = self.env["res.partner"]._amazon_not_to_contact(customers, sms=sms)
        if not blocked:
            return recipients
        return [r for r in recipients if r["id"] not in blocked]
