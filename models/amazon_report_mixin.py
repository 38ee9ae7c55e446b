from datetime import timedelta

from odoo import api, fields, models

DEFAULT_TIMEOUT_HOURS = 4


class AmazonReportMixin(models.AbstractModel):
    """One Amazon report asked with createReport, followed to its end: what the Sale
    Order Report (``amazon.report.request``) and the price report
    (``amazon.price.report``) share. Amazon's states are read by the Reports
    adapter (``services.reports_adapter``); this holds the report's identity and
    the one timeout after which a report Amazon never finishes is given up."""

    _name = "amazon.report.mixin"
    _description = "Amazon Report (life cycle)"

    # === FIELDS ===
    seller_id = fields.Many2one("amazon.seller", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="seller_id.company_id", store=True)
    report_type = fields.Char(required=True, readonly=True)
    amazon_report_id = fields.Char("Amazon Report ID", readonly=True, copy=False, index=True)
    requested_at = fields.Datetime(readonly=True, copy=False, default=fields.Datetime.now,
                                   help="When the report was last asked of Amazon.")

    # === BUSINESS METHODS ===
    def _report_status(self, reports):
        """Where Amazon's report stands (``reports_adapter.ReportStatus``)."""
        self.ensure_one()
        return reports.status(self.amazon_report_id, self.report_type)

    @api.model
    def _report_timeout(self, seller):
        return timedelta(hours=seller.report_timeout_hours or DEFAULT_TIMEOUT_HOURS)

    def _report_timed_out(self):
        """Amazon has not finished the report within the seller's Report Timeout."""
        self.ensure_one()
        started = self.requested_at or self.create_date
        return bool(started) and fields.Datetime.now() - started > self._report_timeout(self.seller_id)
