from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services import errors
from ..services.const import FLOW_MISSING_UNSHIPPED, FLOW_SHIPPED

OPERATIONS = [
    ("fbm_import_unshipped", "Import Unshipped Orders"),
    ("fbm_import_shipped", "Import Shipped Orders"),
    ("fbm_import_missing_unshipped", "Import Missing Unshipped Orders"),
    ("fbm_export_stock", "Export Stock"),
]


class AmazonOperationWizard(models.TransientModel):
    """Amazon > Operations: start one of the three FBM flows."""

    _name = "amazon.operation.wizard"
    _description = "Amazon Operations"

    seller_id = fields.Many2one("amazon.seller", required=True,
                                default=lambda self: self.env["amazon.seller"].search([], limit=1),
                                help="The seller account to import orders of.")
    operation = fields.Selection(
        OPERATIONS, required=True, default="fbm_import_unshipped",
        help="Unshipped: asks Amazon for the Unshipped Orders report; press Check Status, then "
             "Process File. Shipped: queues the orders Amazon shipped, so Odoo delivers them. "
             "Missing unshipped: queues unshipped orders the report missed. A scheduled action "
             "imports the queues. Export stock: sends Amazon the FBM quantities that changed.")
    marketplace_ids = fields.Many2many("amazon.marketplace", domain="[('seller_id', '=', seller_id)]",
                                       compute="_compute_marketplaces", store=True, readonly=False,
                                       help="The marketplaces to import orders of.")
    date_from = fields.Datetime(
        "From", compute="_compute_dates", store=True, readonly=False,
        help="Start of the window, by default the seller's Look Back (Days) before now. "
             "Unshipped: the report lists the orders that became ready to ship since then and "
             "are not shipped yet. Shipped and missing unshipped: the orders purchased since "
             "then (shipped ones whenever they shipped).")
    date_to = fields.Datetime(
        "To", compute="_compute_dates", store=True, readonly=False,
        help="End of the window, by default now. Amazon answers up to two minutes before the "
             "request; newer orders come with the next import.")
    valuation_warning = fields.Char(compute="_compute_valuation_warning")

    @api.depends("seller_id")
    def _compute_marketplaces(self):
        for wiz in self:
            wiz.marketplace_ids = wiz.seller_id.marketplace_ids

    @api.depends("seller_id", "operation")
    def _compute_dates(self):
        now = fields.Datetime.now()
        for wiz in self:
            wiz.date_to = now
            wiz.date_from = now - timedelta(days=wiz.seller_id.import_days or 30)

    @api.depends("seller_id", "date_from")
    def _compute_valuation_warning(self):
        for wiz in self:
            old = wiz.date_from and wiz.date_from < fields.Datetime.now() - timedelta(days=3)
            if old and wiz.seller_id.realtime_valuation_warning:
                wiz.valuation_warning = _(
                    "Some product categories use automated (real-time) inventory valuation: "
                    "importing orders from before %s posts stock journal entries dated today for "
                    "deliveries Amazon made in the past.", fields.Date.to_string(wiz.date_from))
            else:
                wiz.valuation_warning = False

    def _user_time(self, value):
        return fields.Datetime.context_timestamp(self, value).strftime("%Y-%m-%d %H:%M")

    def action_execute(self):
        self.ensure_one()
        if self.operation == "fbm_export_stock":
            # Stock export: wakes its cron (never runs it in the request); the wizard closes.
            action = self.seller_id.action_export_stock()
            action["params"]["next"] = {"type": "ir.actions.act_window_close"}
            return action
        if not self.marketplace_ids:
            raise UserError(_("Choose at least one marketplace."))
        if self.date_from and self.date_to and self.date_from >= self.date_to:
            raise UserError(_("The start date must be before the end date."))
        now = fields.Datetime.now()
        if self.date_from and self.date_from > now:
            raise UserError(_(
                "The window starts in the future (%(start)s): Amazon has no orders there yet. "
                "Choose a start date in the past.", start=self._user_time(self.date_from)))
        if self.date_to and self.date_to > now:
            self.date_to = now   # Amazon answers up to now: a later end means "until now"
        try:
            if self.operation == "fbm_import_unshipped":
                request = self.env["amazon.report.request"]._request_unshipped(
                    self.seller_id, self.marketplace_ids, self.date_from, self.date_to, auto=False)
                return {"type": "ir.actions.act_window", "res_model": "amazon.report.request",
                        "res_id": request.id, "view_mode": "form", "target": "current"}
            flow = FLOW_SHIPPED if self.operation == "fbm_import_shipped" else FLOW_MISSING_UNSHIPPED
            listing = self.env["amazon.order.listing"]._list_now(
                self.seller_id, self.marketplace_ids, flow, self.date_from, self.date_to)
        except errors.AmazonError as exc:
            raise UserError(str(exc)) from None
        # The listing cron reads Amazon's pages in the background and queues the orders
        # as it goes; the queue workers import them.
        message = _("Amazon is being asked for the orders of this selection, in the background: "
                    "Amazon lists 100 orders a page and limits how often it may be asked. The "
                    "orders appear in Order Data Queues as they are listed, and are imported "
                    "by the scheduler within minutes.")
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Amazon"), "type": "info", "sticky": False, "message": message,
                           "next": listing._action_open_queues(self.operation)}}
