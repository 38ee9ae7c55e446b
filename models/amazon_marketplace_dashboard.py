from datetime import datetime, time, timedelta

import pytz

from odoo import _, fields, models
from odoo.tools.misc import format_datetime

from ..services.const import FBM_FLOWS, UNSHIPPED_STATUSES

# dashboard counter -> (search filter of the FBM orders list, extra domain)
ORDER_COUNTERS = ("today", "week", "unshipped", "late", "to_confirm", "confirm_failed")


class AmazonMarketplace(models.Model):
    """The Amazon dashboard: one card per marketplace of a seller, with the seller's flows."""

    _inherit = "amazon.marketplace"

    dashboard_today_count = fields.Integer("Orders Today", compute="_compute_dashboard")
    dashboard_week_count = fields.Integer("Orders in the Last 7 Days", compute="_compute_dashboard")
    dashboard_unshipped_count = fields.Integer("Unshipped", compute="_compute_dashboard")
    dashboard_late_count = fields.Integer("Late to Ship", compute="_compute_dashboard")
    dashboard_to_confirm_count = fields.Integer("Shipments to Confirm", compute="_compute_dashboard")
    dashboard_confirm_failed_count = fields.Integer("Failed Confirmations", compute="_compute_dashboard")
    dashboard_failed_count = fields.Integer(related="seller_id.failed_item_count", string="Failed Items")
    dashboard_report_pending_count = fields.Integer("Reports in Progress", compute="_compute_dashboard")
    dashboard_queue_pending_count = fields.Integer("Queues in Progress", compute="_compute_dashboard")
    connection_state = fields.Selection(related="seller_id.connection_state")
    connection_checked_at = fields.Datetime(related="seller_id.connection_checked_at")
    dashboard_flow_unshipped = fields.Char("Unshipped Imports", compute="_compute_dashboard_flows")
    dashboard_flow_shipped = fields.Char("Shipped Imports", compute="_compute_dashboard_flows")
    dashboard_flow_missing = fields.Char("Missing Orders Checks", compute="_compute_dashboard_flows")

    # === COMPUTE METHODS ===
    def _start_of_today(self):
        """Midnight of the user's today, in UTC (naive, like the database)."""
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        midnight = tz.localize(datetime.combine(datetime.now(tz).date(), time.min))
        return midnight.astimezone(pytz.utc).replace(tzinfo=None)

    def _dashboard_order_domain(self, counter):
        """The orders behind one dashboard number."""
        if counter == "today":
            return [("date_order", ">=", self._start_of_today())]
        if counter == "week":
            return [("date_order", ">=", self._start_of_today() - timedelta(days=6))]
        if counter == "unshipped":
            return [("amazon_status", "in", list(UNSHIPPED_STATUSES)), ("state", "!=", "cancel"),
                    ("delivery_status", "!=", "full")]
        if counter == "late":
            return [("amazon_late", "=", True)]
        if counter == "to_confirm":
            return [("picking_ids.amazon_confirm_state", "=", "to_send")]
        if counter == "confirm_failed":
            return [("picking_ids.amazon_confirm_state", "=", "failed")]
        raise ValueError(counter)

    def _compute_dashboard(self):
        SaleOrder = self.env["sale.order"]
        base = [("amazon_marketplace_id", "in", self.ids)]
        counts = {}
        for counter in ORDER_COUNTERS:
            groups = SaleOrder._read_group(base + self._dashboard_order_domain(counter),
                                           ["amazon_marketplace_id"], ["__count"])
            counts[counter] = {mp.id: count for mp, count in groups}
        sellers = self.seller_id.ids
        reports = dict(self.env["amazon.report.request"]._read_group(
            [("seller_id", "in", sellers), ("state", "in", ("submitted", "in_progress", "done"))],
            ["seller_id"], ["__count"]))
        queues = dict(self.env["amazon.order.queue"]._read_group(
            [("seller_id", "in", sellers), ("state", "in", ("new", "in_progress"))],
            ["seller_id"], ["__count"]))
        for mp in self:
            for counter in ORDER_COUNTERS:
                mp["dashboard_%s_count" % counter] = counts[counter].get(mp.id, 0)
            mp.dashboard_report_pending_count = reports.get(mp.seller_id, 0)
            mp.dashboard_queue_pending_count = queues.get(mp.seller_id, 0)

    def _compute_dashboard_flows(self):
        def when(value):
            return format_datetime(self.env, value, dt_format="short") if value else _("never")

        for mp in self:
            seller = mp.seller_id
            for flow in FBM_FLOWS:
                nxt = seller[flow.next_run]
                if not seller[flow.auto]:
                    nxt = _("by hand")
                else:
                    nxt = when(nxt) if nxt else _("due now")
                mp[flow.dashboard] = "%s / %s" % (when(seller[flow.last_run]), nxt)

    # === ACTION METHODS ===
    def action_dashboard_orders(self):
        """One dashboard number, opened: the FBM orders behind it, filtered."""
        self.ensure_one()
        counter = self.env.context.get("amazon_counter")
        action = self.env["ir.actions.act_window"]._for_xml_id("amazon_fbm_connector.action_amazon_fbm_orders")
        context = {"search_default_amazon_marketplace_id": self.id, "create": False}
        if counter:
            context["search_default_amazon_%s" % counter] = 1
        action["context"] = context
        action["name"] = _("FBM Orders of %s", self.display_name)
        return action

    def action_dashboard_reports(self):
        action = self.seller_id.action_view_report_requests()
        action["context"] = dict(action["context"], search_default_pending=1)
        return action

    def action_dashboard_queues(self):
        action = self.seller_id.action_view_queues()
        action["context"] = dict(action["context"], search_default_not_done=1)
        return action

    def action_dashboard_failed(self):
        return self.env["amazon.import.failure"].action_open(self.seller_id)

    def action_dashboard_operations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_fbm_connector.action_amazon_operation_wizard")
        action["context"] = {"default_seller_id": self.seller_id.id,
                             "default_marketplace_ids": [self.id]}
        return action

    def action_dashboard_seller(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": "amazon.seller", "res_id": self.seller_id.id,
                "view_mode": "form", "name": self.seller_id.name}
