from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services import errors, order_status_sync
from ..services import runner as runner_mod
from ..services.const import CURSOR_OVERLAP_MINUTES
from ..services.normalize import parse_datetime

STATUS_SYNC_CRON = "amazon_fbm_connector.ir_cron_amazon_status_sync"


class AmazonSeller(models.Model):
    _inherit = "amazon.seller"

    fbm_status_sync_auto = fields.Boolean(
        "Follow Amazon Order Changes", default=True,
        help="Every few minutes, look at the orders Amazon changed since the last look: "
             "cancellations (whole or one item), buyers' cancellation requests, and orders "
             "shipped outside Odoo.")
    fbm_status_sync_cursor = fields.Datetime(
        "Order Changes Followed Until", copy=False,
        help="The next look at Amazon's order changes covers the orders changed since this "
             "time; empty: since the start of the import window (Look Back (Days)).")

    # === ACTION METHODS ===
    def action_sync_order_status(self):
        self.ensure_one()
        try:
            counts = self._sync_order_status()
        except errors.AmazonError as exc:
            raise UserError(_("Following Amazon order changes failed: %s", str(exc))) from None
        message = _("%(updated)s order(s) changed on Amazon: %(cancelled)s cancelled, %(shipped)s cancelled "
                    "after shipping, %(requests)s cancellation request(s), %(reduced)s line(s) reduced.",
                    updated=counts["updated"], cancelled=counts["cancelled"],
                    shipped=counts["cancelled_shipped"], requests=counts["requests"],
                    reduced=counts["reduced"])
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Amazon"), "message": message, "type": "success"}}

    # === BUSINESS METHODS ===
    @api.model
    def _cron_amazon_status_sync(self):
        runner = runner_mod.Runner(self.env, cron=STATUS_SYNC_CRON)
        for seller in self.search([("fbm_status_sync_auto", "=", True)]):
            if runner.out_of_time():
                runner.trigger()
                break
            try:
                runner.run_batch(seller._sync_order_status, runner, on_error=seller._status_sync_failed)
            except errors.AmazonOutOfTime:
                runner.trigger()    # the cursor did not move: the next pass lists the window again
                break

    def _status_sync_failed(self, exc):
        if isinstance(exc, errors.AmazonOutOfTime):
            raise exc
        self.sudo().message_post(subtype_xmlid="mail.mt_note", body=_(
            "Following Amazon order changes failed: %s", str(exc)))

    def _sync_order_status(self, runner=None):
        """One pass of the status sync. Like the scheduled imports' cursors, it starts a
        little before the cursor (applying an update twice changes nothing) and moves the
        cursor to the end of Amazon's answer once the window is applied."""
        self.ensure_one()
        seller = self.sudo()
        started = fields.Datetime.now()
        cursor = seller.fbm_status_sync_cursor
        since = cursor - timedelta(minutes=CURSOR_OVERLAP_MINUTES) if cursor else \
            started - timedelta(days=seller.import_days or 30)
        adapter = (runner.client(seller) if runner else seller._get_client()).orders()
        SaleOrder = self.env["sale.order"].sudo()

        def needs_items(order_ids):
            return SaleOrder.search([
                ("amazon_seller_id", "=", seller.id), ("amazon_order_ref", "in", order_ids),
                ("state", "=", "sale"), ("delivery_status", "!=", "full"),
            ]).mapped("amazon_order_ref")

        orders = order_status_sync.fetch_updates(
            adapter, seller.marketplace_ids.mapped("amazon_marketplace_id"), since, needs_items)
        counts = order_status_sync.apply_updates(seller, orders)
        end = getattr(adapter, "window_end", None)
        end = parse_datetime(end) if end else started - timedelta(minutes=2)
        if not cursor or end > cursor:
            seller.fbm_status_sync_cursor = end
        return counts
