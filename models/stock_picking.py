import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services import delivery, errors
from ..services import runner as runner_mod
from ..services import shipment_confirmation as confirmation
from ..services.const import MFN

CONFIRM_BATCH = 50
CONFIRM_CRON = "amazon_fbm_connector.ir_cron_amazon_confirm_shipments"


# The context key that validates without the check (the wizard's "Validate Anyway").
SKIP_CHECK = "amazon_skip_shipping_check"


class StockPicking(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "amazon.refresh.mixin"]

    # === FIELDS ===
    amazon_waiting_stock = fields.Boolean(
        copy=False, index=True,
        help="Amazon already shipped this order; the delivery waits for tracked stock and is "
             "validated by a scheduled action once stock arrives.")
    amazon_dispatch_pending = fields.Boolean(
        copy=False, index=True, readonly=True,
        help="Amazon already shipped this order; its delivery is validated by the order queue "
             "workers right after the import batch that created it.")
    amazon_order_ref = fields.Char(related="sale_id.amazon_order_ref", string="Amazon Order ID")
    amazon_seller_id = fields.Many2one(related="sale_id.amazon_seller_id", string="Amazon Seller")
    amazon_confirm_state = fields.Selection(
        confirmation.STATES, string="Amazon Shipment State", copy=False, index=True, readonly=True,
        help="Whether Amazon was told this delivery shipped (carrier, tracking number, items). "
             "Not Needed: Amazon knows already (shipped on Amazon) or nothing to confirm.")
    amazon_confirm_message = fields.Text("Amazon Message", copy=False, readonly=True)
    amazon_confirm_attempts = fields.Integer(copy=False, readonly=True)
    amazon_confirm_next_try = fields.Datetime(copy=False, readonly=True)
    amazon_confirm_date = fields.Datetime("Confirmed to Amazon", copy=False, readonly=True)
    amazon_ship_by_date = fields.Datetime(related="sale_id.amazon_ship_by_date", string="Ship By")
    amazon_time_to_ship = fields.Char("Time to Ship", compute="_compute_amazon_time_to_ship",
                                      help="Time left until Amazon's ship-by date of the order.")

    # === COMPUTE METHODS ===
    @api.depends("sale_id.amazon_ship_by_date", "sale_id.amazon_status", "state")
    def _compute_amazon_time_to_ship(self):
        now = fields.Datetime.now()
        for picking in self:
            order = picking.sale_id
            picking.amazon_time_to_ship = order._amazon_time_to_ship(now) if order else False

    # === ACTION METHODS ===
    def button_validate(self):
        """An Amazon delivery is validated only when the buyer did not ask to cancel and
        with what Amazon needs (carrier, tracking: asked up front), and never with
        the "confirm by SMS" dialog (stock_sms asks it unless ``skip_sms``): Amazon
        buyers are not texted."""
        self._amazon_check_cancel_request()
        action = self._amazon_check_shipping()
        if action:
            return action
        if self._amazon_buyer_delivery():
            self = self.with_context(skip_sms=True)  # noqa: PLW0642
        return super().button_validate()

    def action_amazon_send_confirmation(self):
        """Send to Amazon now (the seller fixed the delivery, or will not wait for the cron)."""
        pickings = self.filtered(lambda p: p.state == "done" and p.amazon_confirm_state in (
            "to_send", "failed", "sent"))
        if not pickings:
            raise UserError(_("Only validated deliveries of Amazon orders can be sent to Amazon."))
        # Amazon's state is the addon's to keep: a salesperson may send, not edit deliveries.
        pickings = pickings.sudo()
        pickings.write({"amazon_confirm_attempts": 0, "amazon_confirm_next_try": False})
        counts = pickings._amazon_confirm_send(manual=True)
        failed = pickings.filtered(lambda p: p.amazon_confirm_state == "failed")
        if len(pickings) == 1:
            message = _("Amazon accepted the shipment.") if counts.get("sent") else \
                _("Amazon did not accept the shipment.")
        else:
            message = _("Amazon accepted %(sent)s of %(total)s deliveries.",
                        sent=counts.get("sent", 0), total=len(pickings))
        if failed:
            message += " " + failed[0].amazon_confirm_message
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "title": _("Amazon"), "message": message, "sticky": bool(failed),
            "type": "warning" if failed else "success",
            "next": {"type": "ir.actions.client", "tag": "soft_reload"}}}

    def action_amazon_confirmation_not_needed(self):
        """The seller checked Seller Central: Amazon knows this shipment already."""
        self.filtered(lambda p: p.amazon_confirm_state in ("to_send", "failed")).sudo().write({
            "amazon_confirm_state": "not_needed", "amazon_confirm_next_try": False,
            "amazon_confirm_message": _("Marked not needed by %s.", self.env.user.name)})

    # === BUSINESS METHODS ===
    def _amazon_refresh_targets(self):
        # only Amazon deliveries: their Amazon state changes in the background
        return {self._name: self.filtered("sale_id.amazon_seller_id")}

    def _amazon_check_cancel_request(self):
        for picking in self:
            order = picking.sale_id
            if picking.picking_type_code != "outgoing" or not order.amazon_order_ref:
                continue
            if order.amazon_status == "Canceled":
                raise UserError(_(
                    "Do not ship %(picking)s: Amazon cancelled order %(order)s. Cancel the delivery.",
                    picking=picking.name, order=order.amazon_order_ref))
            if order.amazon_cancel_state in ("to_send", "sent"):
                raise UserError(_(
                    "Do not ship %(picking)s: a cancellation of order %(order)s is on its way to "
                    "Amazon. Wait for Amazon's answer on the order.",
                    picking=picking.name, order=order.amazon_order_ref))
            if order.amazon_cancel_requested:
                raise UserError(_(
                    "Do not ship %(picking)s: the buyer asked Amazon to cancel order %(order)s "
                    "(%(reason)s). Answer the request in Seller Central (cancel the order, or "
                    "decline it); the next Amazon status sync then cancels or unblocks this delivery.",
                    picking=picking.name, order=order.amazon_order_ref,
                    reason=order.amazon_cancel_request_reason or _("no reason given")))

    def _action_done(self):
        res = super()._action_done()
        shipped = self.env.context.get("amazon_shipped_on_amazon")
        states = self.filtered(lambda p: p.state == "done")._amazon_confirm_states_on_validation(
            shipped_on_amazon=shipped)
        for state in ("to_send", "not_needed"):
            todo = self.browse([p.id for p, (s, _m) in states.items() if s == state])
            if todo:
                message = next(m for p, (s, m) in states.items() if s == state)
                todo.sudo().write({"amazon_confirm_state": state, "amazon_confirm_message": message,
                                   "amazon_confirm_attempts": 0})
        if any(s == "to_send" for s, _m in states.values()):
            runner_mod.Runner(self.env).trigger(CONFIRM_CRON)
        return res

    @api.model
    def _cron_amazon_dispatch_waiting(self, limit=200):
        runner = runner_mod.Runner(self.env)
        delivery.dispatch_pending(runner, limit=limit)
        return runner.run_batch(self._amazon_dispatch_waiting, limit)

    @api.model
    def _amazon_dispatch_waiting(self, limit):
        pickings = self.search([("amazon_waiting_stock", "=", True),
                                ("state", "not in", ("done", "cancel"))], limit=limit)
        orders = pickings.sale_id
        still = delivery.deliver(orders)
        (pickings - still).filtered(lambda p: p.state in ("done", "cancel")).amazon_waiting_stock = False
        return pickings - still

    def _amazon_claim_confirmations(self, runner, limit):
        """Deliveries to confirm that no other worker holds (FOR UPDATE SKIP LOCKED)."""
        return self.browse(runner.claim("""
            SELECT id FROM stock_picking
             WHERE amazon_confirm_state = 'to_send'
               AND (amazon_confirm_next_try IS NULL
                    OR amazon_confirm_next_try <= (now() at time zone 'UTC'))
          ORDER BY date_done, id
             LIMIT %s
        FOR UPDATE SKIP LOCKED""", (limit,)))

    @api.model
    def _cron_amazon_confirm_shipments(self, max_seconds=90):
        """Confirm validated deliveries to Amazon, CONFIRM_BATCH at a time (committed per
        batch by the runner; the client's bucket keeps within confirmShipment's 2/s,
        burst 10). A run stops after about ``max_seconds``, or earlier when Odoo's cron
        time limit is near, and, when deliveries remain, triggers the next run at once."""
        runner = runner_mod.Runner(self.env, cron=CONFIRM_CRON,
                                   stop_at=min(runner_mod.deadline(), time.time() + max_seconds))
        sent = 0
        while True:
            counts = runner.run_batch(self._amazon_confirm_batch, runner)
            if counts is None:
                return sent
            sent += counts.get("sent", 0)
            if counts.get("stop"):
                return sent
            if runner.out_of_time():
                runner.trigger()
                return sent

    @api.model
    def _amazon_confirm_batch(self, runner):
        """One batch of confirmations; None when none is left to send."""
        pickings = self.sudo()._amazon_claim_confirmations(runner, CONFIRM_BATCH)
        if not pickings:
            return None
        return pickings._amazon_confirm_send(deadline=runner.stop_at)

    def _amazon_check_shipping(self):
        """What Amazon needs of the Amazon deliveries being validated (carrier, tracking):
        asked up front, in a dialog for one delivery (returned), listed for several."""
        if self.env.context.get(SKIP_CHECK):
            return None
        missing = self._amazon_shipping_missing()
        if not missing:
            return None
        if len(self) == 1:
            return self._amazon_action_shipping_wizard()
        raise UserError(_(
            "Amazon needs a carrier and a tracking number for each package. Complete "
            "these deliveries (Additional Info), or validate them one by one:\n%s",
            "\n".join("- %s: %s" % (p.display_name, ", ".join(what))
                      for p, what in missing.items())))

    def _amazon_to_confirm(self):
        """The deliveries whose validation will be confirmed to Amazon."""
        if self.env.context.get("amazon_shipped_on_amazon"):
            return self.browse()
        return self.filtered(lambda p: p.state not in ("done", "cancel")
                             and p.picking_type_code == "outgoing"
                             and p.location_dest_id.usage == "customer"
                             and p.sale_id.amazon_order_ref
                             and p.sale_id.amazon_fulfillment_channel == "MFN"
                             and p.sale_id.amazon_status not in ("Shipped", "Canceled"))

    def _amazon_shipping_missing(self):
        """``{picking: [what is missing]}`` of the deliveries Amazon would refuse."""
        out = {}
        for picking in self._amazon_to_confirm():
            what = []
            if not picking.carrier_id:
                what.append(_("carrier"))
            if not (picking.carrier_tracking_ref or "").strip():
                what.append(_("tracking number"))
            if what:
                out[picking] = what
        return out

    def _amazon_action_shipping_wizard(self):
        self.ensure_one()
        wizard = self.env["amazon.shipping.check.wizard"].create({
            "picking_id": self.id, "carrier_id": self.carrier_id.id,
            "tracking_ref": self.carrier_tracking_ref})
        return {
            "name": _("Before Amazon is told: carrier and tracking number"),
            "type": "ir.actions.act_window", "res_model": "amazon.shipping.check.wizard",
            "res_id": wizard.id, "view_mode": "form", "target": "new",
            # validation flags go on (skip_backorder...); not the view flags of where the
            # seller came from (create=False of the FBM orders would open the wizard read-only)
            "context": {k: v for k, v in self.env.context.items()
                        if k not in ("create", "edit", "delete") and not k.startswith("default_")},
        }

    def _amazon_buyer_delivery(self):
        return self.filtered(lambda p: p.sale_id.amazon_order_ref and p.picking_type_code == "outgoing")

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

    def _amazon_confirm_states_on_validation(self, shipped_on_amazon=False):
        """Amazon state of deliveries just validated: ``{picking: (state, message)}``."""
        out = {}
        for picking in self:
            order = picking.sale_id
            if not (order.amazon_order_ref and order.amazon_fulfillment_channel == MFN
                    and picking.location_dest_id.usage == "customer"):
                continue
            if shipped_on_amazon or order.amazon_status == "Shipped":
                out[picking] = ("not_needed", _("Amazon already shows this order shipped: nothing to confirm."))
            else:
                out[picking] = ("to_send", False)
        return out

    def _amazon_confirm_send(self, manual=False, deadline=None):
        """Confirm these deliveries to Amazon (grouped by seller); returns ``{state: count}``.
        ``deadline`` (``time.time()``): no quota wait or retry crosses it; what is left then
        stays to send, untouched, and the count has ``stop``."""
        counts = {}
        if not self:
            return counts
        carriers = confirmation.CarrierTable(self.env)
        for seller in self.sale_id.amazon_seller_id:
            todo = self.filtered(lambda p, s=seller: p.sale_id.amazon_seller_id == s)
            try:
                client = seller._get_client()
                client.deadline = deadline
                adapter = client.orders()
            except (UserError, errors.AmazonError) as exc:   # credentials missing: the seller must act
                todo._amazon_confirm_later(str(exc), manual)
                counts["to_send"] = counts.get("to_send", 0) + len(todo)
                continue
            for index, picking in enumerate(todo):
                state = picking._amazon_confirm_one(adapter, carriers, manual)
                if state == "out_of_time":   # Odoo's time limit is near: the next run goes on
                    counts["stop"] = counts.get("stop", 0) + 1
                    return counts
                counts[state] = counts.get(state, 0) + 1
                if state == "stop":   # the seller's credentials or access: leave the rest for later
                    todo[index + 1:]._amazon_confirm_later(picking.amazon_confirm_message, manual)
                    break
        return counts

    def _amazon_confirm_one(self, adapter, carriers, manual):
        """One delivery told to Amazon; returns its new state (or ``stop``, ``out_of_time``)."""
        self.ensure_one()
        order = self.sale_id
        try:
            detail = confirmation.package_detail(self, carriers)
        except confirmation.ConfirmationProblem as exc:
            self._amazon_confirm_failed(str(exc))
            return "failed"
        if detail is None:
            self.write({"amazon_confirm_state": "not_needed", "amazon_confirm_message": _(
                "This delivery completes no Amazon order item (e.g. only part of a kit): nothing "
                "to confirm yet; the delivery that completes it confirms it.")})
            return "not_needed"
        try:
            adapter.confirm_shipment(order.amazon_order_ref,
                                     order.amazon_marketplace_id.amazon_marketplace_id, detail)
        except errors.AmazonOutOfTime:
            return "out_of_time"
        except (errors.AmazonAuthError, errors.AmazonAccessDenied) as exc:
            self._amazon_confirm_later(str(exc), manual)
            return "stop"
        except errors.AmazonError as exc:
            if exc.retryable:
                self._amazon_confirm_later(str(exc), manual)
                return self.amazon_confirm_state
            self._amazon_confirm_failed(confirmation.explain(exc, self, detail))
            return "failed"
        self.write({
            "amazon_confirm_state": "sent", "amazon_confirm_date": fields.Datetime.now(),
            "amazon_confirm_message": _("Amazon accepted package %(ref)s: %(carrier)s %(tracking)s.",
                                        ref=detail["packageReferenceId"],
                                        carrier=detail.get("carrierName") or detail["carrierCode"],
                                        tracking=detail["trackingNumber"]),
            "amazon_confirm_next_try": False})
        return "sent"

    def _amazon_confirm_failed(self, message):
        """Amazon refused: the delivery waits for the seller, with what to fix."""
        self.write({"amazon_confirm_state": "failed", "amazon_confirm_message": message,
                    "amazon_confirm_next_try": False})

    def _amazon_confirm_later(self, message, manual):
        """A transient failure: retry with backoff, at most MAX_ATTEMPTS times, then wait for
        the seller (a click on Send to Amazon fails at once, showing the message)."""
        now = fields.Datetime.now()
        for picking in self:
            attempts = picking.amazon_confirm_attempts + 1
            if manual or attempts >= confirmation.MAX_ATTEMPTS:
                picking.write({"amazon_confirm_state": "failed", "amazon_confirm_attempts": attempts,
                               "amazon_confirm_next_try": False, "amazon_confirm_message": _(
                                   "%(err)s\nAmazon could not be told after %(n)s attempt(s): click "
                                   "Send to Amazon to try again.", err=message, n=attempts)})
            else:
                picking.write({"amazon_confirm_attempts": attempts, "amazon_confirm_message": message,
                               "amazon_confirm_next_try": now + timedelta(
                                   minutes=confirmation.BACKOFF_MINUTES * 2 ** (attempts - 1))})
