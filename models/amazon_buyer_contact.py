"""Never text an Amazon buyer: Amazon's rules allow contacting buyers only through
Buyer-Seller Messaging. Odoo's own mails and SMS to customers (order confirmation,
delivery notice, invoice, "confirm by SMS" on validation) skip the buyers of Amazon
orders unless the seller opted in for the marketplace (e-mail only; never SMS)."""
from odoo import api, fields, models

AMAZON_RELAY = "@marketplace.amazon."   # Amazon's relay addresses of buyers


class AmazonMarketplace(models.Model):
    _inherit = "amazon.marketplace"

    # === FIELDS ===
    contact_buyers = fields.Boolean(
        "E-mail Buyers", default=False,
        help="Let Odoo e-mail this marketplace's Amazon buyers (order confirmations, delivery "
             "notices, invoices). Off by default: Amazon allows contacting buyers only through "
             "Buyer-Seller Messaging, for what the order needs. Odoo never sends them SMS.")


class ResPartner(models.Model):
    _inherit = "res.partner"

    # === BUSINESS METHODS ===
    @api.model
    def _amazon_not_to_contact(self, partner_ids, sms=False):
        """The ids among ``partner_ids`` that are Amazon buyers Odoo must not write to:
        the customer, invoice or delivery address (or their company) of an Amazon order
        whose marketplace does not allow it (SMS: never allowed), or an Amazon relay
        address."""
        if not partner_ids:
            return set()
        partners = self.sudo().with_context(active_test=False).browse(list(partner_ids)).exists()
        commercial = {p.id: p.commercial_partner_id.id for p in partners}
        ids = list(set(commercial) | set(commercial.values()))
        orders = self.env["sale.order"].sudo().with_context(active_test=False).search_read([
            ("amazon_order_ref", "!=", False),
            "|", "|", ("partner_id", "in", ids), ("partner_invoice_id", "in", ids),
            ("partner_shipping_id", "in", ids)],
            ["partner_id", "partner_invoice_id", "partner_shipping_id", "amazon_marketplace_id"])
        allowed = {m.id for m in self.env["amazon.marketplace"].sudo().with_context(
            active_test=False).search([("contact_buyers", "=", True)])} if not sms else set()
        blocked, opted_in = set(), set()
        for order in orders:
            mp = order["amazon_marketplace_id"] and order["amazon_marketplace_id"][0]
            names = [order[n][0] for n in ("partner_id", "partner_invoice_id", "partner_shipping_id")
                     if order[n]]
            (opted_in if mp in allowed else blocked).update(names)
        out = {pid for pid, parent in commercial.items() if pid in blocked or parent in blocked}
        # An Amazon relay address without an order of an opted-in marketplace: blocked.
        out |= {p.id for p in partners if AMAZON_RELAY in (p.email or "").lower()
                and p.id not in opted_in and commercial[p.id] not in opted_in}
        return out


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

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


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _amazon_buyer_delivery(self):
        return self.filtered(lambda p: p.sale_id.amazon_order_ref and p.picking_type_code == "outgoing")

    def button_validate(self):
        # stock_sms asks "confirm by SMS?" on validation, unless ``skip_sms``.
        if self._amazon_buyer_delivery():
            self = self.with_context(skip_sms=True)  # noqa: PLW0642
        return super().button_validate()

    def _send_confirmation_email(self):
        # stock_sms texts the customer here, unless ``skip_sms``; the e-mail goes through
        # message_post, whose recipients leave out the buyer (``_notify_get_recipients``).
        amazon = self._amazon_buyer_delivery()
        res = None
        if amazon:
            res = super(StockPicking, amazon.with_context(skip_sms=True))._send_confirmation_email()
        rest = self - amazon
        if rest or not amazon:
            res = super(StockPicking, rest)._send_confirmation_email()
        return res
