import itertools
import logging
import re
from datetime import timedelta
from urllib.parse import quote

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.translate import _lt

from ..services import errors, pipeline, report_parser
from ..services import runner as runner_mod
from ..services.const import FLOW_UNSHIPPED, REPORT_ALL_ORDERS, REPORT_ALL_ORDERS_BY_UPDATE, REPORT_UNSHIPPED

_logger = logging.getLogger(__name__)
BATCH = 50
FAILED_BATCH = 1000  # unreadable rows recorded at a time
REPORT_TYPE_NAMES = {
    REPORT_UNSHIPPED: _lt("Unshipped Orders report"),
    REPORT_ALL_ORDERS: _lt("All Orders report (by order date)"),
    REPORT_ALL_ORDERS_BY_UPDATE: _lt("All Orders report (by last update)"),
}
REPORT_CRON = "amazon_fbm_connector.ir_cron_amazon_report_requests"
PRICE_WAIT_SECONDS = 120   # a report waiting for its price report is looked at again after this

FATAL_PLAIN = _lt("Amazon aborted the report (FATAL) without an explanation. This happens when "
                "the same report is requested many times in a row, or when Amazon has no data "
                "for the dates; wait a few minutes and request it again.")


class AmazonReportRequest(models.Model):
    """'Sale Order Report': the unshipped-orders report asked of Amazon."""

    _name = "amazon.report.request"
    _description = "Amazon Sale Order Report"
    _inherit = ["mail.thread", "amazon.sequence.mixin", "amazon.report.mixin", "amazon.refresh.mixin"]
    _order = "id desc"
    _sequence_code = "amazon.report.request"

    # === FIELDS ===
    seller_id = fields.Many2one("amazon.seller", required=True, ondelete="cascade", index=True,
                                tracking=True)
    marketplace_ids = fields.Many2many("amazon.marketplace", required=True,
                                       domain="[('seller_id', '=', seller_id)]")
    report_type = fields.Char(default=REPORT_UNSHIPPED, required=True, readonly=True)
    date_from = fields.Datetime(required=True)
    date_to = fields.Datetime(required=True)
    amazon_document_id = fields.Char("Amazon Document ID", readonly=True, copy=False)
    price_report_id = fields.Many2one("amazon.price.report", readonly=True, copy=False)
    state = fields.Selection([
        ("draft", "Draft"), ("submitted", "Submitted"), ("in_progress", "In Progress"),
        ("done", "Done"), ("fatal", "Fatal"), ("cancelled", "Cancelled"),
        ("processed", "Processed")], default="draft", required=True, tracking=True, index=True)
    requested_at = fields.Datetime(readonly=True, copy=False, default=False)
    auto_process = fields.Boolean(help="Processed by the scheduler with no click: set on the reports "
                                  "it requests, and on a report whose processing stopped before "
                                  "Odoo's time limit (the scheduler finishes it).")
    message = fields.Text(readonly=True, copy=False)
    attachment_id = fields.Many2one("ir.attachment", readonly=True, copy=False)
    document_compression = fields.Char(readonly=True, copy=False)
    document_charset = fields.Char(readonly=True, copy=False)
    line_ids = fields.One2many("amazon.report.request.line", "request_id", readonly=True)
    count_created = fields.Integer("Created", compute="_compute_counts")
    count_existing = fields.Integer("Already Present", compute="_compute_counts")
    count_skipped = fields.Integer("Skipped", compute="_compute_counts")
    count_failed = fields.Integer("Failed", compute="_compute_counts")
    sale_order_count = fields.Integer(compute="_compute_counts")
    report_type_name = fields.Char("Report", compute="_compute_report_type_name",
                                   help="The report Odoo asks Amazon for, as Seller Central names it.")
    state_hint = fields.Char("Next Step", compute="_compute_state_hint",
                             help="What happens next with this report.")

    # === COMPUTE METHODS ===
    @api.depends("line_ids.state")
    def _compute_counts(self):
        for req in self:
            states = req.line_ids.mapped("state")
            req.count_created = states.count("created")
            req.count_existing = states.count("existing")
            req.count_skipped = states.count("skipped")
            req.count_failed = states.count("failed")
            req.sale_order_count = len(req.line_ids.sale_order_id)

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
            elif req.auto_process and req.state == "done":
                req.state_hint = _("The scheduler is importing this report's orders in the background: "
                                   "they appear here within a minute or two.")
            elif req.auto_process and req.state in ("submitted", "in_progress"):
                req.state_hint = auto
            else:
                req.state_hint = manual.get(req.state, "")

    # === ACTION METHODS ===
    @api.model
    def _request_unshipped(self, seller, marketplaces, date_from=None, date_to=None, auto=True):
        date_to = date_to or fields.Datetime.now()
        date_from = date_from or date_to - timedelta(days=seller.import_days or 30)
        request = self.create({"seller_id": seller.id, "marketplace_ids": [(6, 0, marketplaces.ids)],
                               "date_from": date_from, "date_to": date_to, "auto_process": auto})
        request.action_submit()
        return request

    def _duplicate_of(self):
        return self.search([
            ("id", "!=", self.id), ("seller_id", "=", self.seller_id.id), ("state", "=", "processed"),
            ("date_from", "=", self.date_from), ("date_to", "=", self.date_to),
            ("report_type", "=", self.report_type)]).filtered(
                lambda r: r.marketplace_ids == self.marketplace_ids)[:1]

    def action_submit(self):
        for req in self:
            if req.state != "draft":
                continue
            duplicate = req._duplicate_of()
            if duplicate:
                req.write({"state": "cancelled", "message": _(
                    "Cancelled: %s already imported this seller's orders for the same "
                    "marketplaces and dates.", duplicate.name)})
                continue
            client = req.seller_id._get_client()
            codes = req.marketplace_ids.mapped("amazon_marketplace_id")
            try:
                report_id = client.reports().request(req.report_type, codes, req.date_from, req.date_to)
                price = self.env["amazon.price.report"]._request(req.seller_id, codes, req.date_from,
                                                                 req.date_to, client=client)
            except errors.AmazonError as exc:
                req.write({"message": str(exc)})
                req.sudo().message_post(subtype_xmlid="mail.mt_note", body=_("Amazon refused the request: %s", str(exc)))
                continue
            req.write({"amazon_report_id": report_id, "price_report_id": price.id,
                       "state": "submitted", "requested_at": fields.Datetime.now(), "message": False})
        return True

    def action_check_status(self):
        for req in self.filtered(lambda r: r.state in ("submitted", "in_progress")):
            client = req.seller_id._get_client()
            try:
                status = req._report_status(client.reports())
                if req.price_report_id:
                    req.price_report_id._poll(client)
            except errors.AmazonError as exc:
                req.message = str(exc)
                continue
            req._apply_status(status)
        return True

    def _apply_status(self, status):
        """One ``reports_adapter.ReportStatus`` onto the request."""
        prices_ready = not self.price_report_id or self.price_report_id.state != "requested"
        if status.state == "done" and prices_ready:
            self.write({"state": "done", "amazon_document_id": status.document_id,
                        "message": _("Amazon finished the report: download or process it.")})
        elif status.state in ("done", "pending"):
            if self.requested_at and self._report_timed_out():
                self.write({"state": "cancelled", "message": _(
                    "Amazon did not finish the report within %s hours; it was closed instead of "
                    "being polled forever. Request it again.", self.seller_id.report_timeout_hours)})
            else:
                self.write({"state": "in_progress", "amazon_document_id": status.document_id or False})
        elif status.state == "cancelled":
            self.write({"state": "cancelled", "message": _(
                "Amazon found no unshipped orders for these marketplaces and dates: there is "
                "nothing to import. This is not an error.")})
        elif status.state == "fatal":
            if status.error:
                text = _("Amazon aborted the report (FATAL): %s", status.error)
            elif status.error_unreadable:
                text = str(FATAL_PLAIN) + " " + _("(Its error document could not be read: %s)",
                                                  status.error_unreadable)
            else:
                text = str(FATAL_PLAIN)
            self.write({"state": "fatal", "message": text})
            self.sudo().message_post(subtype_xmlid="mail.mt_note", body=text)

    def action_download_report(self):
        self.ensure_one()
        self._fetch_document()
        return {"type": "ir.actions.act_url", "target": "self",
                "url": self._download_url()}

    def _download_url(self):
        return "/web/content/%s?download=true&filename=%s" % (
            self.attachment_id.id, quote(self._download_filename()))

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

    def _fetch_document(self):
        if self.attachment_id:
            return self.attachment_id
        if self.state not in ("done", "processed") or not self.amazon_document_id:
            raise UserError(_("The report is not ready: use Check Status until it is Done."))
        document = self.seller_id._get_client().reports().fetch(self.amazon_document_id, self.report_type)
        compression = document.compression
        self.document_compression = compression or False
        self.document_charset = document.charset or False
        self.attachment_id = self.env["ir.attachment"].create({
            # named in words, as it is downloaded (not Amazon's report type)
            "name": self._download_filename(),
            "raw": document.raw, "res_model": self._name, "res_id": self.id,
            "mimetype": "application/gzip" if compression else "text/tab-separated-values"})
        return self.attachment_id

    def action_process_file(self):
        """Hand the report to the scheduler, which imports it in the background in
        batches (a click never runs the import inside the web request)."""
        for req in self:
            if req.state not in ("done", "processed"):
                raise UserError(_("Only a Done report can be processed."))
        self.write({"auto_process": True, "message": _(
            "Queued: the scheduler imports this report's orders in the background, in batches; "
            "they appear on this report within a minute or two.")})
        self.filtered(lambda r: r.state == "processed").state = "done"
        runner_mod.Runner(self.env).trigger(REPORT_CRON)
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Amazon"), "type": "info", "message": (_(
                    "Report queued: its orders appear in a minute or two. The report shows "
                    "what was created, already present, skipped or failed.") if len(self) == 1 else _(
                    "%s reports queued: the orders appear in a minute or two. The reports show "
                    "what was created, already present, skipped or failed.", len(self))),
                    "next": {"type": "ir.actions.client", "tag": "soft_reload"}}}

    def _process(self, runner):
        """Import the report's orders, ``BATCH`` at a time, one commit per batch (the
        runner's). The document is read as a stream (``report_parser.read_unshipped``):
        each order is handed on once its rows are read, never the whole file at once.
        False when it stopped before Odoo's time limit (the cron, triggered, goes on
        from there: orders already imported are skipped)."""
        attachment = runner.run_batch(self._fetch_document)
        client = runner.client(self.seller_id)
        lines = client.reports().lines(attachment.raw, self.document_compression, self.document_charset)
        stream = report_parser.read_unshipped(lines)   # reads it once: a damaged document stops here
        Line = self.env["amazon.report.request.line"]
        done_refs = set(self.line_ids.filtered(lambda l: l.state in ("created", "existing", "skipped"))
                        .mapped("amazon_order_ref"))
        self.line_ids.filtered(lambda l: l.state == "failed").unlink()
        price_report = self.price_report_id
        if price_report and price_report.state == "requested":
            price_report._poll(client)
            if price_report.state == "requested":
                # Prices are missing (Amazon is still building the price report, or it is
                # being requested again after a damaged document): the orders wait for it,
                # they are not priced one call per order. The scheduler comes back.
                self.write({"auto_process": True, "message": _(
                    "Waiting for Amazon's price report (All Orders report) before importing: the "
                    "scheduler imports the orders as soon as it is ready.")})
                runner.commit()
                runner.trigger(wait=PRICE_WAIT_SECONDS)
                return False
        adapter = client.orders()
        prices = self.price_report_id._price_book(adapter)
        runner.commit()
        todo, failed_vals, processed = [], [], 0
        for got in itertools.chain(stream, [None]):
            if isinstance(got, report_parser.RowError):
                failed_vals.append({
                    "request_id": self.id, "amazon_order_ref": got.order_id or _("line %s", got.line),
                    "state": "failed", "message": _("Line %(n)s: %(m)s", n=got.line, m=got.message)})
            elif got is not None and got.order_id not in done_refs:
                todo.append(pipeline.Entry(got.order_id, order=got))
            if got is not None and len(todo) < BATCH and len(failed_vals) < FAILED_BATCH:
                continue
            if failed_vals:
                # committed before the batch: a batch retried below must not lose them
                runner.run_batch(Line.create, failed_vals)
                failed_vals = []
            if todo and runner.out_of_time():
                # Odoo's time limit is near: the scheduler goes on from here (the
                # orders imported so far are skipped then).
                self.write({"auto_process": True, "message": _(
                    "%(d)s orders processed so far; the scheduler processes the rest in a moment.",
                    d=processed)})
                runner.commit()
                runner.trigger()
                return False
            if todo:
                processed += len(todo)
                runner.run_batch(self._import_batch, todo, prices, adapter)
                todo = []
        self.write({"state": "processed", "message": _(
            "%(c)s created, %(e)s already present, %(s)s skipped, %(f)s failed.",
            c=self.count_created, e=self.count_existing, s=self.count_skipped, f=self.count_failed)})
        self.sudo().message_post(subtype_xmlid="mail.mt_note", body=self.message)
        return True

    def _import_batch(self, todo, prices, adapter):
        """Import one batch and record its lines (the runner commits it, or rolls it back
        and runs it again on a fresh snapshot after a concurrency error)."""
        results = pipeline.run(self.seller_id, todo, flow=FLOW_UNSHIPPED, prices=prices,
                               marketplaces=self.marketplace_ids, adapter=adapter,
                               date_from=self.date_from)
        lines = self.env["amazon.report.request.line"].create([
            {"request_id": self.id, "amazon_order_ref": res.ref, "state": res.state,
             "message": res.message or False,
             "sale_order_id": res.sale_order.id if res.sale_order else False}
            for res in results])
        # the chatter of an order created from the report says where it came from
        lines.filtered(lambda l: l.state == "created").sale_order_id._amazon_log_origin(self)

    def action_view_orders(self):
        return {"type": "ir.actions.act_window", "res_model": "sale.order", "name": _("Orders"),
                "view_mode": "tree,form", "domain": [("id", "in", self.line_ids.sale_order_id.ids)]}

    @api.model
    def _cron_process_reports(self):
        """Scheduler: check pending requests and process the finished ones, no click.
        One worker processes a report at a time, across Odoo servers (the runner's
        advisory lock, held across the batch commits)."""
        runner = runner_mod.Runner(self.env, cron=REPORT_CRON)
        for req in self.search([("state", "in", ("submitted", "in_progress")), ("auto_process", "=", True)]):
            runner.run_batch(req.action_check_status)
        for req in self.search([("state", "=", "done"), ("auto_process", "=", True)]):
            # (``_process`` stops before Odoo's limit itself, saying how far it got)
            with runner.lock("report_processing", req.id) as held:
                if not held:
                    continue  # another server is processing it
                # the lock is ours: the state another server may have committed is re-read
                if req.state == "done":
                    req._process_locked(runner)
        return True

    def _process_locked(self, runner):
        """Process the report; an Amazon error is recorded on it."""
        try:
            return self._process(runner)
        except errors.AmazonOutOfTime:
            runner.rollback()
            runner.trigger()
            return False
        except errors.AmazonError as exc:
            runner.rollback()
            self.message = str(exc)
            self.sudo().message_post(subtype_xmlid="mail.mt_note", body=str(exc))
            runner.commit()
            return False

    # === BUSINESS METHODS ===
    def _amazon_refresh_targets(self):
        # the report's form and list, and the dashboard's "Reports in progress"
        return {self._name: self, "amazon.marketplace": self.seller_id.marketplace_ids}
