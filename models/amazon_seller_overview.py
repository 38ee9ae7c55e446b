from odoo import _, api, fields, models

from ..services.const import FBM_FLOWS, FLOW_MISSING_UNSHIPPED, FLOW_SHIPPED, FLOW_UNSHIPPED

# The model and domain of each flow's records
FLOW_SOURCES = {
    FLOW_UNSHIPPED: ("amazon.report.request", []),
    FLOW_SHIPPED: ("amazon.order.queue", [("flow", "=", FLOW_SHIPPED)]),
    FLOW_MISSING_UNSHIPPED: ("amazon.order.queue", [("flow", "=", FLOW_MISSING_UNSHIPPED)]),
}


class AmazonSeller(models.Model):
    """The seller form's smart buttons and the last run of each scheduled flow."""

    _inherit = "amazon.seller"

    sale_order_count = fields.Integer("Orders", compute="_compute_overview_counts",
                                      help="Orders imported from this seller account.")
    report_request_count = fields.Integer("Reports", compute="_compute_overview_counts",
                                          help="Sale Order Reports asked of Amazon.")
    queue_count = fields.Integer("Queues", compute="_compute_overview_counts",
                                 help="Order data queues of shipped and missing orders.")
    failed_item_count = fields.Integer("Failed Items", compute="_compute_overview_counts",
                                       help="Orders of reports and queues that could not be "
                                            "imported and wait for you.")
    fbm_unshipped_last_run = fields.Datetime("Last Unshipped Import", compute="_compute_last_runs",
                                             help="When unshipped orders were last asked of Amazon.")
    fbm_shipped_last_run = fields.Datetime("Last Shipped Import", compute="_compute_last_runs",
                                           help="When shipped orders were last listed on Amazon.")
    fbm_missing_last_run = fields.Datetime("Last Missing Orders Check", compute="_compute_last_runs",
                                           help="When missing unshipped orders were last looked for.")

    # === COMPUTE METHODS ===
    def _count_by_seller(self, model, domain):
        groups = self.env[model]._read_group(domain + [("seller_id", "in", self.ids)],
                                             ["seller_id"], ["__count"])
        return {seller.id: count for seller, count in groups}

    def _compute_overview_counts(self):
        orders = self.env["sale.order"]._read_group([("amazon_seller_id", "in", self.ids)],
                                                    ["amazon_seller_id"], ["__count"])
        orders = {seller.id: count for seller, count in orders}
        reports = self._count_by_seller("amazon.report.request", [])
        queues = self._count_by_seller("amazon.order.queue", [])
        failed = self._count_by_seller("amazon.import.failure", [])
        for seller in self:
            seller.sale_order_count = orders.get(seller.id, 0)
            seller.report_request_count = reports.get(seller.id, 0)
            seller.queue_count = queues.get(seller.id, 0)
            seller.failed_item_count = failed.get(seller.id, 0)

    def _compute_last_runs(self):
        for flow in FBM_FLOWS:
            model, domain = FLOW_SOURCES[flow.flow]
            groups = self.env[model]._read_group(domain + [("seller_id", "in", self.ids)],
                                                 ["seller_id"], ["create_date:max"])
            last = {seller.id: when for seller, when in groups}
            for seller in self:
                seller[flow.last_run] = last.get(seller.id, False)

    # === ACTION METHODS ===
    def _open(self, model, name, domain, context=None, views="tree,form"):
        return {"type": "ir.actions.act_window", "res_model": model, "name": name,
                "view_mode": views, "domain": domain, "context": dict(context or {}, create=False)}

    def action_view_amazon_orders(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("amazon_fbm_connector.action_amazon_fbm_orders")
        action["domain"] = [("amazon_seller_id", "in", self.ids)]
        return action

    def action_view_report_requests(self):
        return self._open("amazon.report.request", _("Sale Order Reports"), [("seller_id", "in", self.ids)])

    def action_view_queues(self):
        return self._open("amazon.order.queue", _("Order Data Queues"), [("seller_id", "in", self.ids)])

    def action_view_failed_items(self):
        return self.env["amazon.import.failure"].action_open(self)

    @api.model
    def action_open_operations(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_fbm_connector.action_amazon_operation_wizard")
        if self:
            action["context"] = {"default_seller_id": self[:1].id}
        return action
