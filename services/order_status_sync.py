"""Follow what happens to imported orders on Amazon after the import.

``fetch_updates`` lists the seller's FBM orders updated since a cursor
(``lastUpdatedAfter``) and normalises them; ``apply_updates`` brings Odoo in
line:

- cancelled on Amazon, not shipped in Odoo: the order is cancelled with its
  delivery; a posted invoice is reversed by a credit note (refund paid back
  on the workflow's payment journal when the invoice was paid); a note says
  who cancelled and why;
- cancelled on Amazon, shipped in Odoo: nothing is undone; the salesperson
  gets an activity to arrange the return;
- one item cancelled: that line is reduced to what Amazon still sells;
- a buyer's pending cancellation request: flagged on the order, which blocks
  validating its delivery until the request is answered;
- shipped on Amazon (label bought on Amazon): deliveries not yet confirmed
  need no confirmation.
"""
import logging

from odoo import _, fields
from odoo.tools import float_compare

from .const import INCLUDED_DATA_STATUS, MFN
from .normalize import is_orders_2026, item_from_orders_api, order_from_payload

_logger = logging.getLogger(__name__)
OPEN_STATUSES = ("Unshipped", "PartiallyShipped")
CANCELLED = "Canceled"


# ============================================================ Amazon side
def fetch_updates(adapter, marketplace_ids, since, needs_items=None):
    """Normalised orders updated on Amazon since ``since``.

    Orders API v0 lists headers only: the items (quantities left after a partial
    cancellation, ``BuyerRequestedCancel``) cost one getOrderItems per order, so
    they are fetched only for the open orders ``needs_items(order_ids)`` returns
    (orders Odoo has and has not finished delivering). Orders API 2026-01-01
    orders carry their items and cancellations: no call per order."""
    payloads = list(adapter.list_orders(
        marketplace_ids, last_updated_after=since, statuses=None, channels=(MFN,), with_pii=False,
        included_data=INCLUDED_DATA_STATUS))
    if payloads and is_orders_2026(payloads[0]):
        return [order_from_payload(p, require_proceeds=False) for p in payloads]
    orders = [order_from_payload(header) for header in payloads]
    open_ids = [o.order_id for o in orders if o.status in OPEN_STATUSES]
    wanted = set(needs_items(open_ids) if needs_items else open_ids)
    for order in orders:
        if order.status == CANCELLED:
            order.cancellation = dict(order.cancellation or {}, requested=False)
        elif order.order_id in wanted:
            items = adapter.get_order_items(order.order_id)
            order.items = [item_from_orders_api(raw) for raw in items]
            asked = [raw["BuyerRequestedCancel"] for raw in items if str(
                (raw.get("BuyerRequestedCancel") or {}).get("IsBuyerRequestedCancel")).lower() == "true"]
            order.cancellation = {"by": "BUYER", "requested": True,
                                  "reason": asked[0].get("BuyerCancelReason") or ""} if asked else {}
    return orders


# ============================================================ Odoo side
def _shipped_in_odoo(order):
    return any(p.state == "done" and p.location_dest_id.usage == "customer" for p in order.picking_ids)


def _who(cancellation):
    by = (cancellation or {}).get("by") or ""
    return {"BUYER": _("the buyer"), "MERCHANT": _("the seller"), "SELLER": _("the seller"),
            "AMAZON": _("Amazon")}.get(by.upper(), by or _("someone (Amazon does not say who)"))


def apply_updates(seller, orders):
    """Apply normalised Amazon orders to the seller's sale orders; returns counters."""
    env = seller.env
    counts = {"cancelled": 0, "cancelled_shipped": 0, "reduced": 0, "requests": 0, "updated": 0}
    refs = [o.order_id for o in orders]
    sale_orders = {so.amazon_order_ref: so for so in env["sale.order"].search([
        ("amazon_seller_id", "=", seller.id), ("amazon_order_ref", "in", refs)])}
    for order in orders:
        so = sale_orders.get(order.order_id)
        if not so:
            continue
        previous = so.amazon_status
        if order.status and order.status != previous:
            so.amazon_status = order.status
            counts["updated"] += 1
        if order.status == CANCELLED:
            if previous != CANCELLED and so.state != "cancel":
                if _shipped_in_odoo(so):
                    _cancelled_after_shipping(so, order)
                    counts["cancelled_shipped"] += 1
                else:
                    _cancel(so, order, seller)
                    counts["cancelled"] += 1
            continue
        cancellation = order.cancellation or {}
        requested = bool(cancellation.get("requested"))
        if requested != so.amazon_cancel_requested:
            so.write({"amazon_cancel_requested": requested,
                      "amazon_cancel_request_reason": cancellation.get("reason") or False if requested else False})
            if requested:
                counts["requests"] += 1
                so.message_post(subtype_xmlid="mail.mt_note", body=_(
                    "The buyer asked Amazon to cancel this order (%(reason)s). Its delivery cannot be "
                    "validated until the request is answered in Seller Central.",
                    reason=cancellation.get("reason") or _("no reason given")))
        if order.items and so.state == "sale":
            counts["reduced"] += _reduce_lines(so, order, seller)
        if order.status == "Shipped":
            _shipped_on_amazon(so)
    return counts


def _cancel(so, order, seller):
    """Amazon cancelled an order Odoo has not shipped: cancel it, reverse its invoice."""
    posted = so.invoice_ids.filtered(lambda m: m.state == "posted" and m.move_type == "out_invoice")
    if so.locked:
        so.action_unlock()
    so.with_context(disable_cancel_warning=True).action_cancel()
    refunds = _refund(posted, seller, _("Cancelled on Amazon (order %s)", order.order_id))
    cancellation = order.cancellation or {}
    body = _("Amazon cancelled this order: cancelled by %(who)s, reason: %(reason)s. The order "
             "and its delivery are cancelled in Odoo.", who=_who(cancellation),
             reason=cancellation.get("reason") or _("not given"))
    if refunds:
        body += " " + _("Credit note(s) %s reverse the posted invoice.", ", ".join(refunds.mapped("name")))
    so.write({"amazon_cancelled_by": cancellation.get("by") or False,
              "amazon_cancel_reason": cancellation.get("reason") or False,
              "amazon_cancel_requested": False})
    so.message_post(subtype_xmlid="mail.mt_note", body=body)


def _refund(invoices, seller, reason):
    """Credit notes for posted invoices, the way Odoo refunds: an unpaid invoice is
    reversed and reconciled; a paid one gets a posted credit note whose refund is
    registered on the workflow's payment journal (or left to pay, when none)."""
    refunds = invoices.browse()
    today = fields.Date.context_today(invoices) if invoices else None
    for invoice in invoices:
        paid = invoice.payment_state in ("paid", "in_payment", "partial")
        refund = invoice._reverse_moves([{"ref": reason, "date": today, "invoice_date": today}],
                                        cancel=not paid)
        if refund.state == "draft":
            refund.action_post()
        journal = seller.workflow_id.payment_journal_id
        if paid and journal and refund.payment_state in ("not_paid", "partial"):
            _pay_refund(invoice, refund, journal)
        refunds |= refund
    return refunds


def _pay_refund(invoice, refund, journal):
    # Use what the invoice received: its outstanding residual is reconciled first.
    receivable = refund.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable")
    residual_invoice = invoice.line_ids.filtered(
        lambda l: l.account_id.account_type == "asset_receivable" and not l.reconciled)
    if residual_invoice:
        (receivable | residual_invoice).reconcile()
    if refund.payment_state in ("paid", "in_payment"):
        return
    refund.env["account.payment.register"].with_context(
        active_model="account.move", active_ids=refund.ids).create({
            "journal_id": journal.id})._create_payments()


def _cancelled_after_shipping(so, order):
    cancellation = order.cancellation or {}
    so.write({"amazon_cancelled_by": cancellation.get("by") or False,
              "amazon_cancel_reason": cancellation.get("reason") or False,
              "amazon_cancel_requested": False})
    note = _("Cancelled by %(who)s, reason: %(reason)s. The order had already left the warehouse: "
             "nothing was undone in Odoo. Arrange the return with the buyer, then refund.",
             who=_who(cancellation), reason=cancellation.get("reason") or _("not given"))
    so.activity_schedule("mail.mail_activity_data_todo",
                         summary=_("Amazon cancelled an order you shipped: arrange the return"),
                         note=note, user_id=so.user_id.id or so.env.uid)
    so.message_post(subtype_xmlid="mail.mt_note", body=_(
        "Amazon cancelled this order after it shipped. %s", note))


def _reduce_lines(so, order, seller):
    """A partial cancellation: lines of an order item Amazon sells fewer of are reduced
    (never below what Odoo delivered). Returns the number of lines reduced."""
    wanted = {item.order_item_id: item.quantity for item in order.items if item.order_item_id}
    reduced = 0
    notes = []
    by_item = {}
    for line in so.order_line.filtered("amazon_order_item_id"):
        by_item.setdefault(line.amazon_order_item_id, []).append(line)
    for item_id, lines in by_item.items():
        if item_id not in wanted:
            continue
        have = sum(l.product_uom_qty for l in lines)
        excess = have - wanted[item_id]
        if float_compare(excess, 0, precision_digits=3) <= 0:
            continue
        for line in sorted(lines, key=lambda l: -l.id):
            cut = min(excess, line.product_uom_qty - line.qty_delivered)
            if cut <= 0:
                continue
            _reduce_moves(line, cut)
            line.product_uom_qty -= cut
            excess -= cut
            reduced += 1
            notes.append(_("%(product)s: %(old)s -> %(new)s", product=line.product_id.display_name,
                           old=line.product_uom_qty + cut, new=line.product_uom_qty))
            if excess <= 0:
                break
    if notes:
        cancellation = order.cancellation or {}
        so.message_post(subtype_xmlid="mail.mt_note", body=_(
            "Amazon cancelled part of this order (by %(who)s, reason: %(reason)s); lines reduced: %(lines)s.",
            who=_who(cancellation), reason=cancellation.get("reason") or _("not given"),
            lines="; ".join(notes)))
        _refund_reduced(so, seller)
    return reduced


def _reduce_moves(line, cut):
    """Take ``cut`` units off the line's open delivery moves first: Odoo then sees
    nothing left to procure (it would otherwise plan a return from the customer)."""
    moves = line.move_ids.filtered(lambda m: m.state not in ("done", "cancel")
                                   and m.location_dest_id.usage == "customer"
                                   and m.product_id == line.product_id)
    for move in moves.sorted("id", reverse=True):
        if cut <= 0:
            break
        units = line.product_uom._compute_quantity(cut, move.product_uom)
        take = min(units, move.product_uom_qty)
        if float_compare(take, move.product_uom_qty, precision_rounding=move.product_uom.rounding) >= 0:
            move._action_cancel()
        else:
            move.product_uom_qty -= take
            if move.quantity > move.product_uom_qty:
                move.quantity = move.product_uom_qty
        cut -= move.product_uom._compute_quantity(take, line.product_uom)


def _refund_reduced(so, seller):
    """When the reduced lines were invoiced already, credit the difference."""
    if not any(float_compare(l.qty_to_invoice, 0, precision_digits=3) < 0 for l in so.order_line):
        return
    if not so.invoice_ids.filtered(lambda m: m.state == "posted"):
        return
    credit = so._create_invoices(final=True)
    credit.filtered(lambda m: m.state == "draft").action_post()


def _shipped_on_amazon(so):
    """Amazon shows the order shipped and Odoo told Amazon nothing: the shipment was
    confirmed elsewhere (a label bought on Amazon). Pending confirmations are not needed."""
    pickings = so.picking_ids
    if any(p.amazon_confirm_state == "sent" for p in pickings):
        return
    pending = pickings.filtered(lambda p: p.amazon_confirm_state in ("to_send", "failed"))
    if pending:
        pending.write({"amazon_confirm_state": "not_needed", "amazon_confirm_next_try": False,
                       "amazon_confirm_message": _("Amazon already shows this order shipped "
                                                   "(confirmed outside Odoo): nothing to confirm.")})
