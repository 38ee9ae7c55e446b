from odoo import api, fields, models
from odoo.tools import sql

from ..services.const import AMAZON_RELAY

# The import finds Amazon buyers by e-mail among partners without a parent, a batch
# at a time (order_builder._prefetch_partners, creation_lock.guard_buyers): without
# this index each batch scans every partner of the database.
BUYER_EMAIL_INDEX = "res_partner_amazon_buyer_email_index"




class ResPartner(models.Model):
    _inherit = "res.partner"

    # === FIELDS ===
    amazon_anonymised = fields.Boolean(
        "Anonymised Amazon Buyer", readonly=True, copy=False, index=True,
        help="The buyer's personal data was removed after the seller's retention period.")
    amazon_anonymised_date = fields.Datetime(readonly=True, copy=False)

    # === CRUD METHODS ===
    def init(self):
        res = super().init()
        sql.create_index(self.env.cr, BUYER_EMAIL_INDEX, self._table, ["email"], where="parent_id IS NULL")
        return res

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
