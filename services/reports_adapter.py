"""Every Reports API call goes through this adapter (the Orders API has its own).

The Reports API 2021-06-30 life cycle in one place: ``createReport`` with the
options a report type needs, ``getReport`` mapped onto our four steps
(``const.REPORT_STATUS``), a FATAL report's error document, and the document
itself (``getReportDocument``, download, gunzip, charset). Models keep the
state; they never read Amazon's status words or formats.
"""
from dataclasses import dataclass
from datetime import datetime, timezone

from sp_api.api import Reports

from . import errors
from .const import GET_REPORTS_PAGE_SIZE, REPORT_OPTIONS, REPORT_STATUS
from .document_stream import DocumentLines
from .spapi_client import decode_document

DOCUMENT_URLS = 3   # fresh document URLs (getReportDocument) tried, one download each


@dataclass
class ReportStatus:
    """Where a report stands: ``pending``, ``done``, ``cancelled`` or ``fatal``."""
    state: str
    document_id: str = ""
    error: str = ""              # FATAL: Amazon's error document, when it sent one
    error_unreadable: str = ""   # FATAL: why that document could not be read


@dataclass
class ReportDocument:
    raw: bytes          # as Amazon sent it (gzip when ``compression``)
    charset: str = ""
    compression: str = ""

    @property
    def text(self):
        """The whole document decoded (small documents; a big one: ``ReportsAdapter.lines``)."""
        return decode_document(self.raw, self.compression or None, self.charset or None)


class ReportsAdapter:
    def __init__(self, client):
        self.client = client

    def request(self, report_type, marketplace_ids, date_from=None, date_to=None):
        """createReport; returns Amazon's report id."""
        return self.client.create_report(report_type, marketplace_ids, date_from, date_to,
                                         options=REPORT_OPTIONS.get(report_type))

    def list_done(self, report_type, created_since, marketplace_ids=None):
        """getReports: the reports of ``report_type`` Amazon finished (DONE) since
        ``created_since``, oldest first, every page read (``nextToken`` alone on the next
        call, as the model requires). Reports Amazon schedules itself (settlements) are
        found only this way. ``marketplace_ids`` narrows the search to the seller's
        marketplaces; without it python-amazon-sp-api would narrow it to Amazon.com."""
        since = created_since
        if isinstance(since, datetime):
            if since.tzinfo is None:
                since = since.replace(tzinfo=timezone.utc)
            since = since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        params = {"reportTypes": [report_type], "processingStatuses": ["DONE"],
                  "pageSize": GET_REPORTS_PAGE_SIZE}
        if since:
            params["createdSince"] = since
        if marketplace_ids:
            params["marketplaceIds"] = list(marketplace_ids)[:10]
        reports = []
        while True:
            res = self.client.call("getReports", self.client.api(Reports).get_reports, **params)
            payload = res.payload or {}
            if isinstance(payload, list):   # the library unwraps some answers
                payload = {"reports": payload, "nextToken": (res.next_token or "")}
            for report in payload.get("reports") or []:
                if report.get("processingStatus") == "DONE" and report.get("reportDocumentId"):
                    reports.append(report)
            token = payload.get("nextToken") or getattr(res, "next_token", None)
            if not token:
                break
            params = {"nextToken": token}
        reports.sort(key=lambda r: (r.get("createdTime") or "", r.get("reportId") or ""))
        return reports

    def status(self, report_id, report_type=None):
        """getReport -> ``ReportStatus`` (a FATAL report's error text read too)."""
        report = self.client.get_report(report_id)
        raw = report.get("processingStatus")
        state = REPORT_STATUS.get(raw)
        if state is None:
            raise errors.AmazonDocumentError(
                "Amazon answered an unknown report status %r for report %s." % (raw, report_id))
        result = ReportStatus(state, report.get("reportDocumentId") or "")
        if state == "fatal" and result.document_id:
            try:
                result.error = self.fetch(result.document_id, report_type).text.strip()[:2000]
            except errors.AmazonError as exc:
                result.error_unreadable = str(exc)
        return result

    def fetch(self, document_id, report_type=None):
        """getReportDocument + download -> ``ReportDocument`` (checked, not decoded).

        A download that does not read to its end is not downloaded again from the
        same URL (a damaged copy can stay behind it): getReportDocument gives a
        fresh URL, up to ``DOCUMENT_URLS`` times. Then ``AmazonDocumentError``:
        the caller requests the report again (``amazon.price.report``)."""
        last = None
        for _url in range(DOCUMENT_URLS):
            document = self.client.get_report_document(document_id, report_type)
            try:
                download = self.client.download_document(document, attempts=1)
            except errors.AmazonDocumentError as exc:
                last = exc
                continue
            return ReportDocument(download.raw, download.charset or "",
                                  document.get("compressionAlgorithm") or "")
        raise errors.AmazonDocumentError(
            "%s It was downloaded from %d fresh URLs and was damaged each time."
            % (last, DOCUMENT_URLS)) from None

    @staticmethod
    def decode(raw, compression=None, charset=None):
        """A stored document (bytes as Amazon sent them) -> text."""
        return decode_document(raw, compression or None, charset or None)

    @staticmethod
    def lines(raw, compression=None, charset=None):
        """A stored document -> its lines, read chunk by chunk as often as iterated
        (``document_stream.DocumentLines``): the text is never held whole."""
        return DocumentLines(raw, compression or None, charset or None)
