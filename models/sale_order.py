from datetime import timedelta
from types import SimpleNamespace

from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare
from odoo.tools.misc import format_datetime

from ..services import errors as amazon_errors
from ..services.const import (
    CANCEL_FEED_TIMEOUT_HOURS,
    CANCEL_REASONS,
    FEED_CONTENT_TYPE_XML,
    FEED_ORDER_ACKNOWLEDGEMENT,
    MFN,
    UNSHIPPED_STATUSES,
)

AMAZON_CANCELLED = "Canceled"

CANCEL_CRON = "amazon_fbm_connector.ir_cron_amazon_send_cancellations"
CANCEL_STATES = [("to_send", "Cancellation Queued"), ("sent", "Cancellation Sent"),
                 ("accepted", "Accepted by Amazon"), ("rejected", "Rejected")]
CANCEL_REASON_LABELS = {
    "NoInventory": "No inventory", "ShippingAddressUndeliverable": "Shipping address undeliverable",
    "CustomerExchange": "Customer exchange", "BuyerCanceled": "Buyer cancelled",
    "GeneralAdjustment": "General adjustment", "CarrierCreditDecision": "Carrier credit decision",
    "RiskAssessmentInformationNotValid": "Risk assessment information not valid",
    "CarrierCoverageFailure": "Carrier coverage failure", "CustomerReturn": "Customer return",
    "MerchandiseNotReceived": "Merchandise not received"}
CANCEL_REASON_SELECTION = [(code, CANCEL_REASON_LABELS[code]) for code in CANCEL_REASONS]

SOURCE_KINDS = [("amazon.report.request", "Sale Order Report"), ("amazon.order.queue", "Order Data Queue")]


def _span(delta):
    """A duration as a seller reads it: "2 days 3 h", "5 h", "40 min"."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h", days=days, hours=hours) if hours else _("%s d", days)
    if hours:
        return _("%s h", hours)
    return _("%s min", max(minutes, 1))


class SaleOrder(models.Model):
    _inherit = "sale.order"
    _sql_constraints = [
        ("amazon_order_uniq", "unique(amazon_seller_id, amazon_order_ref)",
         "This Amazon order is already imported for this seller."),
    ]

    # === FIELDS ===
    amazon_order_ref = fields.Char("Amazon Order ID", copy=False, index=True, readonly=True)
    amazon_seller_id = fields.Many2one("amazon.seller", copy=False, readonly=True, index=True)
    amazon_marketplace_id = fields.Many2one("amazon.marketplace", copy=False, readonly=True)
    amazon_fulfillment_channel = fields.Selection([(MFN, "Fulfilled by Merchant (FBM)"),
                                                   ("AFN", "Fulfilled by Amazon (FBA)")],
                                                  copy=False, readonly=True)
    amazon_status = fields.Char("Amazon Status", copy=False, readonly=True)
    amazon_total = fields.Monetary("Amazon Total", copy=False, readonly=True)
    amazon_gift_message = fields.Text(copy=False)
    amazon_workflow_message = fields.Text("Auto Workflow Problem", copy=False, readonly=True)
    amazon_ship_by_date = fields.Datetime(
        "Ship By", copy=False, readonly=True, index=True,
        help="The latest ship date Amazon promised the buyer; an order not shipped by then is late.")
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
    amazon_time_to_ship = fields.Char(
        "Time to Ship", compute="_compute_amazon_time_to_ship",
        help="Time left until Amazon's ship-by date; \"late by\" once it passed, \"shipped\" "
             "once the order left.")
    amazon_tax_note = fields.Text(
        "Amazon Taxes", copy=False, readonly=True,
        help="Which taxes carry the tax Amazon charged on this order, and why.")
    amazon_tax_problem = fields.Text(
        "Amazon Tax Problem", copy=False, readonly=True,
        help="Odoo's taxes could not reproduce Amazon's: the configuration to check.")
    amazon_source_ref = fields.Reference(
        SOURCE_KINDS, string="Imported From", copy=False, readonly=True,
        help="The Sale Order Report or order data queue that created this order.")
    amazon_late = fields.Boolean(
        "Late to Ship", compute="_compute_amazon_late", search="_search_amazon_late",
        help="Amazon still waits for this order's shipment and its ship-by date has passed.")
    # Cancellations sent to Amazon (docs/cancellations.md)
    amazon_cancel_state = fields.Selection(
        CANCEL_STATES, string="Cancellation on Amazon", copy=False, readonly=True, index=True,
        help="A cancellation asked of Amazon from Odoo: queued (the next feed sends it), sent "
             "(Amazon is processing the feed), accepted (the order is cancelled in Odoo) or "
             "rejected (Amazon's message says why; nothing was cancelled).")
    amazon_cancel_code = fields.Selection(
        CANCEL_REASON_SELECTION, string="Cancel Reason Sent", copy=False, readonly=True,
        help="Amazon's CancelReason sent with the cancellation.")
    amazon_cancel_line_ids = fields.Many2many(
        "sale.order.line", "amazon_cancel_sale_order_line_rel", "order_id", "line_id",
        string="Lines to Cancel on Amazon", copy=False, readonly=True,
        help="The lines whose Amazon items are cancelled; empty: the whole order.")
    amazon_cancel_feed_ref = fields.Char("Cancellation Feed ID", copy=False, readonly=True, index=True)
    amazon_cancel_message = fields.Text("Amazon's Answer", copy=False, readonly=True)
    amazon_cancel_request_declined = fields.Boolean(
        "Shipping Despite the Request", copy=False, readonly=True,
        help="The seller chose to ship although the buyer asked to cancel: the request no longer "
             "blocks the delivery.")
    amazon_return_ids = fields.One2many("amazon.return", "sale_order_id", string="Amazon Returns")
    amazon_return_count = fields.Integer("Amazon Return Count", compute="_compute_amazon_return_count")

    # === COMPUTE METHODS ===
    @api.depends("amazon_return_ids")
    def _compute_amazon_return_count(self):
        counts = dict(self.env["amazon.return"]._read_group(
            [("sale_order_id", "in", self.ids)], ["sale_order_id"], ["__count"]))
        for order in self:
            order.amazon_return_count = counts.get(order, 0)

    @api.depends("amazon_order_ref", "picking_ids.amazon_confirm_state")
    def _compute_amazon_shipment_state(self):
        rank = ["failed", "to_send", "sent", "not_needed"]
        for order in self:
            if not order.amazon_order_ref:
                order.amazon_shipment_state = False
                continue
            states = [p.amazon_confirm_state for p in order.picking_ids if p.amazon_confirm_state]
            order.amazon_shipment_state = min(states, key=rank.index) if states else "none"

    @api.depends("amazon_ship_by_date", "amazon_status", "state", "delivery_status")
    def _compute_amazon_time_to_ship(self):
        now = fields.Datetime.now()
        for order in self:
            order.amazon_time_to_ship = order._amazon_time_to_ship(now)

    @api.depends("amazon_status", "amazon_ship_by_date", "state", "delivery_status")
    def _compute_amazon_late(self):
        now = fields.Datetime.now()
        for order in self:
            order.amazon_late = bool(
                order.amazon_status in UNSHIPPED_STATUSES and order.state != "cancel"
                and order.delivery_status != "full"
                and order.amazon_ship_by_date and order.amazon_ship_by_date < now)

    def _search_amazon_late(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(_("Search 'Late to Ship' with = True or = False."))
        late = self._search(self._amazon_late_domain())
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", late)]

    # === ACTION METHODS ===
    def action_view_amazon_returns(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "name": _("Amazon Returns"),
                "res_model": "amazon.return", "view_mode": "tree,form",
                "domain": [("sale_order_id", "=", self.id)]}

    def action_amazon_cancel_on_amazon(self, reason=False):
        """Cancel on Amazon: the wizard that asks Amazon's reason (and, optionally, the lines)."""
        self.ensure_one()
        problem = self._amazon_cannot_cancel_reason()
        if problem:
            raise UserError(problem)
        context = {"default_sale_order_id": self.id}
        if reason:
            context["default_reason"] = reason
        return {
            "type": "ir.actions.act_window", "res_model": "amazon.order.cancel.wizard",
            "name": _("Cancel on Amazon"), "view_mode": "form", "target": "new", "context": context}

    def action_amazon_accept_cancel_request(self):
        """The buyer asked to cancel: accept, i.e. cancel on Amazon with reason BuyerCanceled."""
        self.ensure_one()
        if not self.amazon_cancel_requested:
            raise UserError(_("The buyer has not asked Amazon to cancel order %s.", self.amazon_order_ref))
        return self.action_amazon_cancel_on_amazon(reason="BuyerCanceled")

    def action_amazon_ship_anyway(self):
        """The buyer asked to cancel, the seller ships: the request no longer blocks the delivery."""
        for order in self:
            if not order.amazon_cancel_requested:
                raise UserError(_("The buyer has not asked Amazon to cancel order %s.",
                                  order.amazon_order_ref))
            order.write({"amazon_cancel_requested": False, "amazon_cancel_request_declined": True})
            order.message_post(subtype_xmlid="mail.mt_note", body=_(
                "%(user)s chose to ship despite the buyer's cancellation request (%(reason)s): the "
                "delivery is no longer blocked. The request stays open on Amazon until it expires; "
                "Amazon may still cancel the order if the buyer insists.",
                user=self.env.user.name, reason=order.amazon_cancel_request_reason or _("no reason given")))
        return True

    # === BUSINESS METHODS ===
    def _amazon_subscribe_customers(self):
        """Make each order's customer a follower, as ``action_confirm`` does order
        by order (``message_subscribe``: active partners only, customers with
        the external default subtypes), for the whole batch in one ``create``;
        ``action_confirm`` then finds them following and skips them."""
        orders = self.filtered(lambda so: so.partner_id.active and so.partner_id not in so.message_partner_ids)
        if not orders:
            return
        every, _internal, external = self.env["mail.message.subtype"].default_subtypes(self._name)
        self.env["mail.followers"].sudo().create([{
            "res_model": self._name, "res_id": so.id, "partner_id": so.partner_id.id,
            "subtype_ids": [Command.set((external if so.partner_id.partner_share else every).ids)],
        } for so in orders])
        orders.invalidate_recordset(["message_follower_ids", "message_partner_ids"])

    def _amazon_apply_status(self, statuses):
        """Amazon's current status of orders Odoo already has (``{order id: status}``),
        as an import saw them again. Every flow calls this through the import
        pipeline; steps driven by a status change (e.g. a cancellation) extend it.
        Returns the orders whose status changed."""
        changed = self.filtered(lambda so: statuses.get(so.id) and so.amazon_status != statuses[so.id])
        by_status = {}
        for order in changed:
            by_status.setdefault(statuses[order.id], []).append(order.id)
        for status, ids in by_status.items():
            self.browse(ids).write({"amazon_status": status})
        return changed

    def _amazon_time_to_ship(self, now):
        self.ensure_one()
        if not self.amazon_order_ref:
            return False
        if self.state == "cancel" or self.amazon_status == "Canceled":
            return _("cancelled")
        if self.delivery_status == "full" or (
                self.amazon_status and self.amazon_status not in UNSHIPPED_STATUSES + ("Pending",)):
            return _("shipped")
        if not self.amazon_ship_by_date:
            return False
        left = self.amazon_ship_by_date - now
        if left < timedelta(0):
            return _("late by %s", _span(-left))
        return _("%s left", _span(left))

    def _amazon_apply_ship_by(self, dates):
        """Amazon's ship-by dates of orders Odoo already has (``{order id: datetime}``),
        as an import saw them again: the orders and their open deliveries take them."""
        changed = self.filtered(lambda so: dates.get(so.id) and so.amazon_ship_by_date != dates[so.id])
        for order in changed:
            order.amazon_ship_by_date = dates[order.id]
        changed._amazon_set_delivery_deadline()
        return changed

    def _amazon_set_delivery_deadline(self):
        """The open deliveries are due by the ship-by date: their deadline and
        scheduled date (unless the seller promised a delivery date himself)."""
        for order in self.filtered(lambda so: so.amazon_ship_by_date and not so.commitment_date):
            pickings = order.picking_ids.filtered(
                lambda p: p.picking_type_code == "outgoing" and p.state not in ("done", "cancel"))
            if not pickings:
                continue
            deadline = order.amazon_ship_by_date
            pickings.move_ids.filtered(lambda m: m.state not in ("done", "cancel")).write(
                {"date_deadline": deadline})
            pickings.write({"scheduled_date": order._amazon_planned_date()})

    def _amazon_planned_date(self):
        self.ensure_one()
        return self.amazon_ship_by_date - timedelta(days=self.company_id.security_lead)

    @api.model
    def _amazon_late_domain(self):
        return [("amazon_status", "in", list(UNSHIPPED_STATUSES)), ("state", "!=", "cancel"),
                ("delivery_status", "!=", "full"), ("amazon_ship_by_date", "!=", False),
                ("amazon_ship_by_date", "<", fields.Datetime.now())]

    def _amazon_source_link(self, source):
        kind = dict(self._fields["amazon_source_ref"]._description_selection(self.env))[source._name]
        return Markup('%s <a href="#" data-oe-model="%s" data-oe-id="%s">%s</a>') % (
            kind, source._name, source.id, source.name)

    def _amazon_log_origin(self, source):
        """Record and say in the chatter which report or queue created these orders."""
        orders = self.filtered(lambda o: not o.amazon_source_ref)
        if not orders:
            return
        orders.write({"amazon_source_ref": "%s,%s" % (source._name, source.id)})
        when = format_datetime(self.env, fields.Datetime.now(), tz=self.env.user.tz or "UTC")
        body = Markup(_("Imported from %(source)s on %(when)s.")) % {
            "source": self._amazon_source_link(source), "when": when}
        orders._message_log_batch({order.id: body for order in orders})

    def _amazon_log_shipped(self, source):
        body = Markup(_("Amazon reports this order shipped (%(source)s): its delivery is validated.")) % {
            "source": self._amazon_source_link(source)}
        self._message_log_batch({order.id: body for order in self})

    @api.model
    def _amazon_apply_updates(self, seller, orders):
        """Bring the seller's sale orders in line with Amazon's (normalised orders, as
        ``order_status_sync.read_updates`` reads them); returns counters. Extend the
        per-order steps below (``_amazon_apply_update`` and the ones it calls)."""
        counts = {"cancelled": 0, "cancelled_shipped": 0, "reduced": 0, "requests": 0, "updated": 0}
        refs = [o.order_id for o in orders]
        sale_orders = {so.amazon_order_ref: so for so in self.search([
            ("amazon_seller_id", "=", seller.id), ("amazon_order_ref", "in", refs)])}
        for order in orders:
            so = sale_orders.get(order.order_id)
            if so:
                so._amazon_apply_update(order, seller, counts)
        return counts

    def _amazon_apply_update(self, order, seller, counts):
        """One order Amazon changed: its status, a cancellation (before or after it
        shipped), a buyer's cancellation request, items Amazon sells fewer of, a
        shipment confirmed outside Odoo."""
        self.ensure_one()
        previous = self.amazon_status
        if self._amazon_apply_status({self.id: order.status} if order.status else {}):
            counts["updated"] += 1
        if order.status == AMAZON_CANCELLED:
            if previous != AMAZON_CANCELLED and self.state != "cancel":
                if self._amazon_shipped_in_odoo():
                    self._amazon_cancelled_after_shipping(order)
                    counts["cancelled_shipped"] += 1
                else:
                    self._amazon_cancel_from_amazon(order, seller)
                    counts["cancelled"] += 1
            return
        cancellation = order.cancellation or {}
        requested = bool(cancellation.get("requested")) and not self.amazon_cancel_request_declined
        if requested != self.amazon_cancel_requested:
            self.write({"amazon_cancel_requested": requested,
                        "amazon_cancel_request_reason": cancellation.get("reason") or False if requested else False})
            if requested:
                counts["requests"] += 1
                self.message_post(subtype_xmlid="mail.mt_note", body=_(
                    "The buyer asked Amazon to cancel this order (%(reason)s). Its delivery cannot be "
                    "validated until the request is answered in Seller Central.",
                    reason=cancellation.get("reason") or _("no reason given")))
        if order.items and self.state == "sale":
            counts["reduced"] += self._amazon_reduce_lines(order, seller)
        if order.status == "Shipped":
            self._amazon_shipped_on_amazon()

    def _amazon_shipped_in_odoo(self):
        return any(p.state == "done" and p.location_dest_id.usage == "customer" for p in self.picking_ids)

    @api.model
    def _amazon_who(self, cancellation):
        by = (cancellation or {}).get("by") or ""
        return {"BUYER": _("the buyer"), "MERCHANT": _("the seller"), "SELLER": _("the seller"),
                "AMAZON": _("Amazon")}.get(by.upper(), by or _("someone (Amazon does not say who)"))

    def _amazon_cancel_from_amazon(self, order, seller):
        """Amazon cancelled an order Odoo has not shipped: cancel it, reverse its invoice."""
        self.ensure_one()
        posted = self.invoice_ids.filtered(lambda m: m.state == "posted" and m.move_type == "out_invoice")
        if self.locked:
            self.action_unlock()
        self.with_context(disable_cancel_warning=True).action_cancel()
        refunds = self._amazon_refund(posted, seller, _("Cancelled on Amazon (order %s)", order.order_id))
        cancellation = order.cancellation or {}
        body = _("Amazon cancelled this order: cancelled by %(who)s, reason: %(reason)s. The order "
                 "and its delivery are cancelled in Odoo.", who=self._amazon_who(cancellation),
                 reason=cancellation.get("reason") or _("not given"))
        if refunds:
            body += " " + (_("Credit note %s reverses the posted invoice.", refunds.name) if len(refunds) == 1
                           else _("Credit notes %s reverse the posted invoice.", ", ".join(refunds.mapped("name"))))
        self.write({"amazon_cancelled_by": cancellation.get("by") or False,
                    "amazon_cancel_reason": cancellation.get("reason") or False,
                    "amazon_cancel_requested": False})
        self.message_post(subtype_xmlid="mail.mt_note", body=body)

    @api.model
    def _amazon_refund(self, invoices, seller, reason):
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
                self._amazon_pay_refund(invoice, refund, journal)
            refunds |= refund
        return refunds

    @api.model
    def _amazon_pay_refund(self, invoice, refund, journal):
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

    def _amazon_cancelled_after_shipping(self, order):
        self.ensure_one()
        cancellation = order.cancellation or {}
        self.write({"amazon_cancelled_by": cancellation.get("by") or False,
                    "amazon_cancel_reason": cancellation.get("reason") or False,
                    "amazon_cancel_requested": False})
        note = _("Cancelled by %(who)s, reason: %(reason)s. The order had already left the warehouse: "
                 "nothing was undone in Odoo. Arrange the return with the buyer, then refund.",
                 who=self._amazon_who(cancellation), reason=cancellation.get("reason") or _("not given"))
        self.activity_schedule("mail.mail_activity_data_todo",
                               summary=_("Amazon cancelled an order you shipped: arrange the return"),
                               note=note, user_id=self.user_id.id or self.env.uid)
        self.message_post(subtype_xmlid="mail.mt_note", body=_(
            "Amazon cancelled this order after it shipped. %s", note))

    def _amazon_reduce_lines(self, order, seller):
        """A partial cancellation: lines of an order item Amazon sells fewer of are reduced
        (never below what Odoo delivered). Returns the number of lines reduced."""
        self.ensure_one()
        wanted = {item.order_item_id: item.quantity for item in order.items if item.order_item_id}
        reduced = 0
        notes = []
        by_item = {}
        for line in self.order_line.filtered("amazon_order_item_id"):
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
                line._amazon_reduce_moves(cut)
                line.product_uom_qty -= cut
                excess -= cut
                reduced += 1
                notes.append(_("%(product)s: %(old)s -> %(new)s", product=line.product_id.display_name,
                               old=line.product_uom_qty + cut, new=line.product_uom_qty))
                if excess <= 0:
                    break
        if notes:
            cancellation = order.cancellation or {}
            self.message_post(subtype_xmlid="mail.mt_note", body=_(
                "Amazon cancelled part of this order (by %(who)s, reason: %(reason)s); lines reduced: %(lines)s.",
                who=self._amazon_who(cancellation), reason=cancellation.get("reason") or _("not given"),
                lines="; ".join(notes)))
            self._amazon_refund_reduced()
        return reduced

    def _amazon_refund_reduced(self):
        """When the reduced lines were invoiced already, credit the difference."""
        if not any(float_compare(l.qty_to_invoice, 0, precision_digits=3) < 0 for l in self.order_line):
            return
        if not self.invoice_ids.filtered(lambda m: m.state == "posted"):
            return
        credit = self._create_invoices(final=True)
        credit.filtered(lambda m: m.state == "draft").action_post()

    def _amazon_shipped_on_amazon(self):
        """Amazon shows the order shipped and Odoo told Amazon nothing: the shipment was
        confirmed elsewhere (a label bought on Amazon). Pending confirmations are not needed."""
        pickings = self.picking_ids
        if any(p.amazon_confirm_state == "sent" for p in pickings):
            return
        pending = pickings.filtered(lambda p: p.amazon_confirm_state in ("to_send", "failed"))
        if pending:
            pending.write({"amazon_confirm_state": "not_needed", "amazon_confirm_next_try": False,
                           "amazon_confirm_message": _("Amazon already shows this order shipped "
                                                       "(confirmed outside Odoo): nothing to confirm.")})

    # Cancellations sent to Amazon: POST_ORDER_ACKNOWLEDGEMENT_DATA (docs/cancellations.md)
    def _amazon_cannot_cancel_reason(self):
        """Why this order cannot be cancelled on Amazon from Odoo (False: it can)."""
        self.ensure_one()
        if not self.amazon_order_ref or self.amazon_fulfillment_channel != MFN:
            return _("Only Amazon FBM orders can be cancelled on Amazon from Odoo.")
        if self.state == "cancel" or self.amazon_status == AMAZON_CANCELLED:
            return _("Order %s is already cancelled.", self.amazon_order_ref)
        if self._amazon_shipped_in_odoo() or (
                self.amazon_status and self.amazon_status not in UNSHIPPED_STATUSES + ("Pending",)):
            return _("Order %s has shipped: Amazon does not cancel a shipped order. Refund it "
                     "instead.", self.amazon_order_ref)
        if self.amazon_cancel_state in ("to_send", "sent"):
            return _("A cancellation of order %s is already on its way to Amazon.", self.amazon_order_ref)
        if self.amazon_cancel_state == "accepted":
            return _("Amazon already accepted the cancellation of order %s.", self.amazon_order_ref)
        return False

    def _amazon_request_cancel(self, reason, lines):
        """Record a cancellation to send (the cron sends a seller's together in one feed)."""
        self.ensure_one()
        problem = self._amazon_cannot_cancel_reason()
        if problem:
            raise UserError(problem)
        if reason not in CANCEL_REASONS:
            raise UserError(_("Choose one of Amazon's cancel reasons."))
        items = self.order_line.filtered("amazon_order_item_id")
        lines = lines & items
        if not items:
            raise UserError(_("Order %s has no Amazon order items to cancel.", self.amazon_order_ref))
        if set(lines.mapped("amazon_order_item_id")) >= set(items.mapped("amazon_order_item_id")):
            lines = lines.browse()    # every item: the whole order
        self.write({"amazon_cancel_state": "to_send", "amazon_cancel_code": reason,
                    "amazon_cancel_line_ids": [Command.set(lines.ids)], "amazon_cancel_feed_ref": False,
                    "amazon_cancel_message": False})
        what = (_("lines %s", ", ".join(lines.mapped("product_id.display_name"))) if lines
                else _("the whole order"))
        self.message_post(subtype_xmlid="mail.mt_note", body=_(
            "Cancellation of %(what)s asked of Amazon by %(user)s (reason: %(reason)s). Nothing is "
            "cancelled in Odoo until Amazon accepts it.", what=what, user=self.env.user.name,
            reason=CANCEL_REASON_LABELS[reason]))
        from ..services.runner import Runner
        Runner(self.env).trigger(cron=CANCEL_CRON)

    @api.model
    def _cron_send_cancellations(self):
        """Send each seller's queued cancellations in one feed; read Amazon's answers back."""
        from ..services.runner import Runner
        runner = Runner(self.env, cron=CANCEL_CRON)
        sellers = self.sudo().search([("amazon_cancel_state", "in", ("to_send", "sent"))]).amazon_seller_id
        for seller in sellers:
            if runner.out_of_time():
                runner.trigger()
                break
            client = runner.client(seller)

            def recorded(exc, seller=seller):
                # Amazon refused the call: the orders stay queued, with the reason.
                self.sudo().search([("amazon_seller_id", "=", seller.id),
                                    ("amazon_cancel_state", "=", "to_send")]).write(
                    {"amazon_cancel_message": str(exc)})
            for feed_ref in set(self.sudo().search([
                    ("amazon_seller_id", "=", seller.id), ("amazon_cancel_state", "=", "sent")
            ]).mapped("amazon_cancel_feed_ref")):

                def unread(exc, seller=seller, feed_ref=feed_ref):
                    # Amazon's answer could not be read: the orders wait, with the reason.
                    self.sudo().search([("amazon_seller_id", "=", seller.id),
                                        ("amazon_cancel_state", "=", "sent"),
                                        ("amazon_cancel_feed_ref", "=", feed_ref)]).write(
                        {"amazon_cancel_message": str(exc)})
                if runner.run_batch(self._amazon_check_cancel_feed, seller, client, feed_ref,
                                    on_error=unread) is False:
                    runner.trigger()
            if runner.run_batch(self._amazon_send_cancellations, seller, client,
                                on_error=recorded) is False:
                runner.trigger()
        if not runner.triggered and self.sudo().search_count([("amazon_cancel_state", "=", "sent")]):
            runner.trigger(wait=60)    # Amazon's answers: poll again in a minute
        return True

    @api.model
    def _amazon_send_cancellations(self, seller, client):
        """One unit: the seller's queued cancellations (not locked by another worker) in one
        POST_ORDER_ACKNOWLEDGEMENT_DATA feed. Returns False when out of time."""
        from ..services.order_feeds import Cancellation, acknowledgement_feed
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id FROM sale_order WHERE amazon_seller_id = %s AND amazon_cancel_state = 'to_send' "
            "ORDER BY id FOR UPDATE SKIP LOCKED", (seller.id,))
        orders = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        if not orders:
            return True
        cancellations = []
        for order in orders:
            lines = order.amazon_cancel_line_ids or order.order_line.filtered("amazon_order_item_id")
            codes = sorted(set(lines.mapped("amazon_order_item_id")))
            # MessageID: the order's id, unique in the feed and found again in the report.
            cancellations.append(Cancellation(order.id, order.amazon_order_ref,
                                              [(code, order.amazon_cancel_code) for code in codes]))
        if not seller.merchant_id:
            raise UserError(_("Set the Merchant (Seller) ID of seller %s: Amazon's order feeds "
                              "need it.", seller.name))
        feed = acknowledgement_feed(seller.merchant_id, cancellations)
        marketplaces = orders.amazon_marketplace_id.mapped("amazon_marketplace_id")
        try:
            feed_id = client.feeds().submit(FEED_ORDER_ACKNOWLEDGEMENT, marketplaces, feed,
                                            FEED_CONTENT_TYPE_XML)
        except amazon_errors.AmazonOutOfTime:
            return False
        orders.write({"amazon_cancel_state": "sent", "amazon_cancel_feed_ref": feed_id,
                      "amazon_cancel_message": False})
        body = _("Cancellation sent to Amazon (feed %s); Amazon's answer comes back in a few minutes.",
                 feed_id)
        orders._message_log_batch({order.id: body for order in orders})
        return True

    @api.model
    def _amazon_check_cancel_feed(self, seller, client, feed_ref):
        """One unit: getFeed; once processed, each order of the feed gets Amazon's answer:
        accepted cancels it in Odoo (the inbound path), rejected records the message."""
        from ..services.order_feeds import parse_processing_report
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id FROM sale_order WHERE amazon_seller_id = %s AND amazon_cancel_state = 'sent' "
            "AND amazon_cancel_feed_ref = %s FOR UPDATE SKIP LOCKED", (seller.id, feed_ref))
        orders = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        if not orders:
            return True
        feeds = client.feeds()
        try:
            status = feeds.status(feed_ref)
            report = None
            if status.result_document_id:
                try:
                    report = parse_processing_report(feeds.result(status.result_document_id))
                except amazon_errors.AmazonDocumentError as exc:
                    if status.state == "done":
                        raise
                    report = SimpleNamespace(general_errors=[str(exc)])
        except amazon_errors.AmazonOutOfTime:
            return False
        if status.state == "pending":
            if min(orders.mapped("write_date")) < fields.Datetime.now() - timedelta(
                    hours=CANCEL_FEED_TIMEOUT_HOURS):
                orders._amazon_cancel_rejected(_(
                    "Amazon had not processed feed %(feed)s after %(hours)s hours: nothing was "
                    "cancelled. Check the order in Seller Central, then cancel again.",
                    feed=feed_ref, hours=CANCEL_FEED_TIMEOUT_HOURS))
            return True
        if status.state in ("fatal", "cancelled"):
            why = " ".join(report.general_errors) if report else ""
            orders._amazon_cancel_rejected(_(
                "Amazon aborted feed %(feed)s (%(status)s)%(why)s: nothing was cancelled. Cancel "
                "again.", feed=feed_ref, status=status.raw_status, why=": %s" % why if why else ""))
            return True
        if report is None:
            orders._amazon_cancel_rejected(_("Amazon sent no processing report for feed %s: "
                                             "nothing was cancelled.", feed_ref))
            return True
        for order in orders:
            problems = report.errors_of(order.id) or report.general_errors
            if problems:
                order._amazon_cancel_rejected(" ".join(problems))
            else:
                order._amazon_cancel_accepted(seller)
        return True

    def _amazon_cancel_rejected(self, message):
        self.write({"amazon_cancel_state": "rejected", "amazon_cancel_message": message})
        body = _("Amazon rejected the cancellation: %s Nothing was cancelled in Odoo.", message)
        self._message_log_batch({order.id: body for order in self})

    def _amazon_cancel_accepted(self, seller):
        """Amazon cancelled what Odoo asked: cancel it here the way an inbound cancellation
        does (order, delivery, invoice -> credit note, refund when paid), once."""
        self.ensure_one()
        self.write({"amazon_cancel_state": "accepted",
                    "amazon_cancel_message": _("Accepted by Amazon (feed %s).", self.amazon_cancel_feed_ref)})
        cancellation = {"by": "SELLER", "reason": self.amazon_cancel_code}
        if self.state == "cancel":
            return      # the status sync saw Amazon's cancellation first and did it already
        if not self.amazon_cancel_line_ids:
            self._amazon_cancel_from_amazon(
                SimpleNamespace(order_id=self.amazon_order_ref, cancellation=cancellation), seller)
            return
        cancelled = set(self.amazon_cancel_line_ids.mapped("amazon_order_item_id"))
        wanted = {}
        for line in self.order_line.filtered("amazon_order_item_id"):
            item = line.amazon_order_item_id
            wanted[item] = 0 if item in cancelled else wanted.get(item, 0) + line.product_uom_qty
        items = [SimpleNamespace(order_item_id=item, quantity=qty) for item, qty in wanted.items()]
        self._amazon_reduce_lines(SimpleNamespace(order_id=self.amazon_order_ref,
                                                  cancellation=cancellation, items=items), seller)

