import base64
import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.translate import _lt

from ..services import batching, errors, fbm_import, report_parser
from ..services.auto_workflow import AutoWorkflow
from ..services.const import REPORT_UNSHIPPED
from ..services.order_builder import OrderBuilder
from ..services.spapi_client import decode_document

_logger = logging.getLogger(__name__)
BATCH = 50

FATAL_PLAIN = _lt("Amazon aborted the report (FATAL) without an explanation. This happens when "
                "the same report is requested many times in a row, or when Amazon has no data "
                "for the dates; wait a few minutes and request it again.")


class AmazonReportRequest(models.Model):
    """'Sale Order Report': the unshipped-orders report asked of Amazon."""

    _name = "amazon.report.request"
    _description = "Amazon Sale Order Report"
    _inherit = ["mail.thread", "amazon.sequence.mixin"]
    _order = "id desc"
    _sequence_code = "amazon.report.request"

    seller_id = fields.Many2one("amazon.seller", required=True, ondelete="cascade", index=True,
                                tracking=True)
    company_id = fields.Many2one(related="seller_id.company_id", store=True)
    marketplace_ids = fields.Many2many("amazon.marketplace", required=True,
                                       domain="[('seller_id', '=', seller_id)]")
    report_type = fields.Char(default=REPORT_UNSHIPPED, required=True, readonly=True)
    date_from = fields.Datetime(required=True)
    date_to = fields.Datetime(required=True)
    amazon_report_id = fields.Char("Amazon Report ID", readonly=True, copy=False)
    amazon_document_id = fields.Char("Amazon Document ID", readonly=True, copy=False)
    price_report_id = fields.Many2one("amazon.price.report", readonly=True, copy=False)
    state = fields.Selection([
        ("draft", "Draft"), ("submitted", "Submitted"), ("in_progress", "In Progress"),
        ("done", "Done"), ("fatal", "Fatal"), ("cancelled", "Cancelled"),
        ("processed", "Processed")], default="draft", required=True, tracking=True, index=True)
    requested_at = fields.Datetime(readonly=True, copy=False)
    auto_process = fields.Boolean(help="Created by the scheduler: processed with no click.")
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

    @api.depends("line_ids.state")
    def _compute_counts(self):
        for req in self:
            states = req.line_ids.mapped("state")
            req.count_created = states.count("created")
            req.count_existing = states.count("existing")
            req.count_skipped = states.count("skipped")
            req.count_failed = states.count("failed")
            req.sale_order_count = len(req.line_ids.sale_order_id)

    # ================================================================ actions
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
                report_id = client.create_report(REPORT_UNSHIPPED, codes, req.date_from, req.date_to)
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
                report = client.get_report(req.amazon_report_id)
                if req.price_report_id:
                    req.price_report_id._poll(client, req.seller_id.report_timeout_hours)
            except errors.AmazonError as exc:
                req.message = str(exc)
                continue
            req._apply_status(report, client)
        return True

    def _apply_status(self, report, client):
        status = report["processingStatus"]
        prices_ready = not self.price_report_id or self.price_report_id.state != "requested"
        if status == "DONE" and prices_ready:
            self.write({"state": "done", "amazon_document_id": report.get("reportDocumentId"),
                        "message": _("Amazon finished the report: download or process it.")})
        elif status == "DONE" or status in ("IN_QUEUE", "IN_PROGRESS"):
            timeout = timedelta(hours=self.seller_id.report_timeout_hours or 4)
            if self.requested_at and fields.Datetime.now() - self.requested_at > timeout:
                self.write({"state": "cancelled", "message": _(
                    "Amazon did not finish the report within %s hours; it was closed instead of "
                    "being polled forever. Request it again.", self.seller_id.report_timeout_hours)})
            else:
                self.write({"state": "in_progress", "amazon_document_id": report.get("reportDocumentId")})
        elif status == "CANCELLED":
            self.write({"state": "cancelled", "message": _(
                "Amazon found no unshipped orders for these marketplaces and dates: there is "
                "nothing to import. This is not an error.")})
        elif status == "FATAL":
            text = str(FATAL_PLAIN)
            if report.get("reportDocumentId"):
                try:
                    document = client.get_report_document(report["reportDocumentId"], self.report_type)
                    body = client.download_document(document).text
                    text = _("Amazon aborted the report (FATAL): %s", body.strip()[:2000])
                except errors.AmazonError as exc:
                    text = str(FATAL_PLAIN) + " " + _("(Its error document could not be read: %s)", exc)
            self.write({"state": "fatal", "message": text})
            self.sudo().message_post(subtype_xmlid="mail.mt_note", body=text)

    def action_download_report(self):
        self.ensure_one()
        self._fetch_document()
        return {"type": "ir.actions.act_url", "target": "self",
                "url": "/web/content/%s?download=true" % self.attachment_id.id}

    def _fetch_document(self):
        if self.attachment_id:
            return self.attachment_id
        if self.state not in ("done", "processed") or not self.amazon_document_id:
            raise UserError(_("The report is not ready: use Check Status until it is Done."))
        client = self.seller_id._get_client()
        document = client.get_report_document(self.amazon_document_id, self.report_type)
        download = client.download_document(document)
        raw = download.raw
        compression = document.get("compressionAlgorithm") or False
        self.attachment_id = self.env["ir.attachment"].create({
            "name": "%s-%s.tsv%s" % (self.report_type, self.amazon_report_id, ".gz" if compression else ""),
            "raw": raw, "res_model": self._name, "res_id": self.id,
            "mimetype": "application/gzip" if compression else "text/tab-separated-values"})
        self.document_compression = compression
        self.document_charset = download.charset or False
        return self.attachment_id

    def action_process_file(self):
        for req in self:
            if req.state not in ("done", "processed"):
                raise UserError(_("Only a Done report can be processed."))
            try:
                req._process()
            except errors.AmazonError as exc:
                req.message = str(exc)
                req.sudo().message_post(subtype_xmlid="mail.mt_note", body=str(exc))
        return True

    def _process(self):
        attachment = self._fetch_document()
        text = decode_document(base64.b64decode(attachment.datas), self.document_compression or None,
                               self.document_charset or None)
        codes = self.marketplace_ids.mapped("amazon_marketplace_id")
        single = codes[0] if len(codes) == 1 else ""
        parsed = report_parser.parse_unshipped(text, single)
        Line = self.env["amazon.report.request.line"]
        done_refs = set(self.line_ids.filtered(lambda l: l.state in ("created", "existing", "skipped"))
                        .mapped("amazon_order_ref"))
        self.line_ids.filtered(lambda l: l.state == "failed").unlink()
        failed_vals = [{"request_id": self.id, "amazon_order_ref": ref or _("line %s", number),
                        "state": "failed", "message": _("Line %(n)s: %(m)s", n=number, m=msg)}
                       for number, ref, msg in parsed.errors]
        if failed_vals:
            Line.create(failed_vals)
        if self.price_report_id and self.price_report_id.state == "requested":
            self.price_report_id._poll(timeout_hours=0)
        prices, info = self.price_report_id._load() if self.price_report_id else ({}, {})
        client = self.seller_id._get_client()
        by_channel = {(m.reference_id.sales_channel or "").lower(): m.amazon_marketplace_id
                      for m in self.marketplace_ids}

        def marketplace_for(order, row):
            return by_channel.get((row.get("sales_channel") or "").lower(), single)

        todo = [o for o in parsed.orders.values() if o.order_id not in done_refs]
        builder = OrderBuilder(self.seller_id)
        workflow = AutoWorkflow(self.seller_id.workflow_id)
        for start in range(0, len(todo), BATCH):
            chunk = todo[start:start + BATCH]
            lines, to_build = [], []
            for order, error in fbm_import.price_orders(chunk, prices, info, client.orders(), marketplace_for):
                reason = error or fbm_import.classify_unshipped(order, self.date_from)
                if error:
                    lines.append({"amazon_order_ref": order.order_id, "state": "failed", "message": error})
                elif reason:
                    lines.append({"amazon_order_ref": order.order_id, "state": "skipped", "message": reason})
                else:
                    to_build.append(order)
            results = builder.build(to_build)
            created = self.env["sale.order"].browse([r.sale_order.id for r in results if r.status == "created"])
            workflow.run(created)
            for res in results:
                lines.append({"amazon_order_ref": res.order_id, "state": res.status,
                              "message": res.message, "sale_order_id": res.sale_order.id if res.sale_order else False})
            Line.create([dict(vals, request_id=self.id) for vals in lines])
            batching.commit(self.env)
        self.write({"state": "processed", "message": _(
            "%(c)s created, %(e)s already present, %(s)s skipped, %(f)s failed.",
            c=self.count_created, e=self.count_existing, s=self.count_skipped, f=self.count_failed)})
        self.sudo().message_post(subtype_xmlid="mail.mt_note", body=self.message)

    def action_view_orders(self):
        return {"type": "ir.actions.act_window", "res_model": "sale.order", "name": _("Orders"),
                "view_mode": "tree,form", "domain": [("id", "in", self.line_ids.sale_order_id.ids)]}

    @api.model
    def _cron_process_reports(self):
        """Scheduler: check pending requests and process the finished ones, no click."""
        for req in self.search([("state", "in", ("submitted", "in_progress")), ("auto_process", "=", True)]):
            req.action_check_status()
            batching.commit(self.env)
        for req in self.search([("state", "=", "done"), ("auto_process", "=", True)]):
            req.action_process_file()
            batching.commit(self.env)


class AmazonReportRequestLine(models.Model):
    _name = "amazon.report.request.line"
    _description = "Amazon Sale Order Report: one order"
    _order = "id"

    request_id = fields.Many2one("amazon.report.request", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="request_id.company_id", store=True)
    amazon_order_ref = fields.Char("Amazon Order ID", required=True)
    state = fields.Selection([("created", "Created"), ("existing", "Already Present"),
                              ("skipped", "Skipped"), ("failed", "Failed")], required=True)
    message = fields.Text()
    sale_order_id = fields.Many2one("sale.order", ondelete="set null")
