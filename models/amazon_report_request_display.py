import re
from urllib.parse import quote

from odoo import _, api, fields, models
from odoo.tools.translate import _lt

from ..services.const import REPORT_ALL_ORDERS, REPORT_UNSHIPPED

REPORT_TYPE_NAMES = {
    REPORT_UNSHIPPED: _lt("Unshipped Orders report"),
    REPORT_ALL_ORDERS: _lt("All Orders report (by order date)"),
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL": _lt("All Orders report (by last update)"),
}


class AmazonReportRequest(models.Model):
    """Plain words on the Sale Order Report: Amazon's name of the report and what to do next."""

    _inherit = "amazon.report.request"

    report_type_name = fields.Char("Report", compute="_compute_report_type_name",
                                   help="The report Odoo asks Amazon for, as Seller Central names it.")
    state_hint = fields.Char("Next Step", compute="_compute_state_hint",
                             help="What happens next with this report.")

    # === COMPUTE METHODS ===
    @api.depends("report_type")
    def _compute_report_type_name(self):
        for req in self:
            name = REPORT_TYPE_NAMES.get(req.report_type)
            req.report_type_name = str(name) if name else req.report_type

    @api.depends("state", "auto_process", "message")
    def _compute_state_hint(self):
        manual = {
            "draft": _("Not sent to Amazon yet: press Request Report."),
            "submitted": _("Amazon has queued the report: press Check Status in a minute."),
            "in_progress": _("Amazon is preparing the report: press Check Status in a minute."),
            "done": _("Amazon finished the report: press Process File to create the orders."),
            "fatal": _("Amazon could not build this report (see why below): request it again "
                       "from Amazon > Operations in a few minutes."),
        }
        auto = _("The scheduler checks this report every few minutes and imports its orders with "
                 "no click; you may press Check Status to hurry it.")
        for req in self:
            if req.state == "processed":
                req.state_hint = _("Done: %s See the orders in the Orders tab.", req.message or "")
            elif req.state == "cancelled":
                req.state_hint = req.message or _("Cancelled: nothing was imported.")
            elif req.auto_process and req.state in ("submitted", "in_progress", "done"):
                req.state_hint = auto
            else:
                req.state_hint = manual.get(req.state, "")

    # === BUSINESS METHODS ===
    def _download_filename(self):
        """The file a seller downloads, named in words: "Amazon Unshipped Orders report
        2026-12-07 (Amazon.com) 12345.tsv.gz", not Amazon's report type."""
        self.ensure_one()
        when = fields.Datetime.context_timestamp(self, self.create_date or fields.Datetime.now())
        where = ", ".join(self.marketplace_ids.mapped("name"))
        ext = ".tsv.gz" if self.document_compression == "GZIP" else ".tsv"
        name = "Amazon %s %s%s %s" % (self.report_type_name, when.strftime("%Y-%m-%d"),
                                      " (%s)" % where if where else "", self.amazon_report_id or "")
        return re.sub(r'[\\/:*?"<>|]+', "-", name.strip()) + ext

    def _download_url(self):
        return "/web/content/%s?download=true&filename=%s" % (
            self.attachment_id.id, quote(self._download_filename()))


class AmazonReportRequestLine(models.Model):
    """The chatter of an order created from a report says where it came from."""

    _inherit = "amazon.report.request.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        for request in lines.request_id:
            created = lines.filtered(lambda l, r=request: l.request_id == r and l.state == "created")
            created.sale_order_id._amazon_log_origin(request)
        return lines
