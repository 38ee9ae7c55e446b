from datetime import timedelta

from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.tools import float_compare
from odoo.tools.misc import format_datetime

from ..services.const import MFN, UNSHIPPED_STATUSES

AMAZON_CANCELLED = "Canceled"

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
    amazon_return_ids = fields.One2many("amazon.return", "sale_order_id", string="Amazon Returns")
    amazon_return_count = fields.Integer("Amazon Returns", compute="_compute_amazon_return_count")

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
        ``order_status_sync.fetch_updates`` reads them); returns counters. Extend the
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
        requested = bool(cancellation.get("requested"))
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
            body += " " + _("Credit note(s) %s reverse the posted invoice.", ", ".join(refunds.mapped("name")))
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
