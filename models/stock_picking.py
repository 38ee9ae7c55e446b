import time

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services import delivery
from ..services import runner as runner_mod
from ..services import shipment_confirmation as confirmation

CONFIRM_BATCH = 50
CONFIRM_CRON = "amazon_fbm_connector.ir_cron_amazon_confirm_shipments"


class StockPicking(models.Model):
    _inherit = "stock.picking"

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

    # === ACTION METHODS ===
    def button_validate(self):
        self._amazon_check_cancel_request()
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
        counts = confirmation.send(pickings, manual=True)
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
    def _amazon_check_cancel_request(self):
        for picking in self:
            order = picking.sale_id
            if picking.picking_type_code != "outgoing" or not order.amazon_order_ref:
                continue
            if order.amazon_status == "Canceled":
                raise UserError(_(
                    "Do not ship %(picking)s: Amazon cancelled order %(order)s. Cancel the delivery.",
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
        states = confirmation.states_on_validation(self.filtered(lambda p: p.state == "done"),
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
        return confirmation.send(pickings, deadline=runner.stop_at)
