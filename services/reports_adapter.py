"""Every Reports API call goes through this adapter (the Orders API has its own).

The Reports API 2021-06-30 in one place, over the client's one call helper
(``SpApiClient.call``): ``createReport`` with the options a report type needs,
``getReport`` mapped onto our four steps (``const.REPORT_STATUS``), a FATAL
report's error document, ``getReportDocument`` (with a Restricted Data Token
for a restricted report), the download of its presigned URL, checked whole,
and the document read by ``document_stream``'s one set of rules. Models keep
the state; they never read Amazon's status words or formats.
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

import httpx
from sp_api.api import Reports
from sp_api.base.exceptions import get_exception_for_code

from . import errors
from .const import (
    GET_REPORTS_PAGE_SIZE,
    PATH_REPORT_DOCUMENT,
    REPORT_OPTIONS,
    REPORT_STATUS,
    RESTRICTED_REPORT_TYPES,
)
from .document_stream import DocumentLines, decode_document
from .errors import _lt
from .normalize import iso_time

_logger = logging.getLogger(__name__)
DOCUMENT_URLS = 3   # fresh document URLs (getReportDocument) tried, one download each
DOWNLOAD_ATTEMPTS = 3   # downloads of one URL whose copy came cut short


@dataclass
class ReportStatus:
    """Where a report stands: ``pending``, ``done``, ``cancelled`` or ``fatal``."""
    state: str
    document_id: str = ""
    error: str = ""              # FATAL: Amazon's error document, when it sent one
    error_unreadable: str = ""   # FATAL: why that document could not be read


@dataclass
class ReportDocument:
    """A downloaded report document: the bytes as Amazon sent them (gzip when
    ``compression``), the charset of the download, checked whole when made."""
    raw: bytes
    charset: str = ""
    compression: str = ""

    @property
    def text(self):
        """The whole document decoded (small documents; a big one: ``ReportsAdapter.lines``)."""
        return decode_document(self.raw, self.compression or None, self.charset or None)


class ReportsAdapter:
    def __init__(self, client):
        self.client = client

    # === AMAZON'S OPERATIONS ===
    def create_report(self, report_type, marketplace_ids, date_from=None, date_to=None, options=None):
        """createReport; returns Amazon's report id."""
        body = {"reportType": report_type, "marketplaceIds": list(marketplace_ids)}
        if date_from:
            body["dataStartTime"] = iso_time(date_from)
        if date_to:
            body["dataEndTime"] = iso_time(date_to)
        if options:
            body["reportOptions"] = options
        res = self.client.call("createReport", self.client.api(Reports).create_report, **body)
        return res.payload["reportId"]

    def get_report(self, report_id):
        """getReport: Amazon's report as it answered."""
        return self.client.call("getReport", self.client.api(Reports).get_report, report_id).payload

    def get_document(self, document_id, report_type=None):
        """getReportDocument (a Restricted Data Token first for a restricted report)."""
        token = None
        if report_type in RESTRICTED_REPORT_TYPES:
            token = self.client.create_restricted_data_token([{
                "method": "GET", "path": PATH_REPORT_DOCUMENT % document_id}])
        reports = self.client.api(Reports, restricted_data_token=token)
        return self.client.call("getReportDocument", reports.get_report_document, document_id).payload

    def download(self, document, attempts=DOWNLOAD_ATTEMPTS):
        """A report document's URL -> ``ReportDocument`` (``download_document``)."""
        return download_document(self.client, document, attempts)

    # === OUR STEPS ===
    def request(self, report_type, marketplace_ids, date_from=None, date_to=None):
        """createReport with the options the report type needs; returns Amazon's report id."""
        return self.create_report(report_type, marketplace_ids, date_from, date_to,
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
        report = self.get_report(report_id)
        raw = report.get("processingStatus")
        state = REPORT_STATUS.get(raw)
        if state is None:
            raise errors.AmazonDocumentError(_lt(
                "Amazon answered an unknown report status %(status)r for report %(report)s."),
                params={"status": raw, "report": report_id})
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
            document = self.get_document(document_id, report_type)
            try:
                return self.download(document, attempts=1)
            except errors.AmazonDocumentError as exc:
                last = exc
        raise errors.AmazonDocumentError(_lt(
            "%(error)s It was downloaded from %(urls)s fresh URLs and was damaged each time."),
            params={"error": last, "urls": DOCUMENT_URLS}) from None

    @staticmethod
    def decode(raw, compression=None, charset=None):
        """A stored document (bytes as Amazon sent them) -> text."""
        return decode_document(raw, compression or None, charset or None)

    @staticmethod
    def lines(raw, compression=None, charset=None):
        """A stored document -> its lines, read chunk by chunk as often as iterated
        (``document_stream.DocumentLines``): the text is never held whole."""
        return DocumentLines(raw, compression or None, charset or None)


def download_document(client, document, attempts=DOWNLOAD_ATTEMPTS):
    """Fetch a document's presigned URL (a report's or a feed's processing report):
    a ``ReportDocument`` once it reads to its end (gzip and charset; streamed, the
    text is not kept). A copy cut short is a transport accident: it is downloaded
    again, up to ``attempts`` times."""
    def fetch():
        with httpx.Client(timeout=client.timeout) as http:
            response = http.get(document["url"])
        if response.status_code >= 400:
            raise get_exception_for_code(response.status_code)(
                [{"code": "DownloadFailed", "message": "HTTP %s" % response.status_code}],
                headers=response.headers)
        return response
    compression = document.get("compressionAlgorithm") or ""
    last = None
    for attempt in range(1, attempts + 1):
        response = client.call("downloadDocument", fetch)
        raw = response.content
        charset = getattr(response, "charset_encoding", None) or ""
        try:
            DocumentLines(raw, compression, charset).check()
        except errors.AmazonDocumentError as exc:
            last = exc
            client.damaged_downloads += 1
            _logger.warning("Document download %d of %d was damaged (%s bytes).", attempt, attempts, len(raw))
            continue
        return ReportDocument(raw, charset, compression)
    raise errors.AmazonDocumentError(_lt(
        "%(error)s It was downloaded %(times)s times and was damaged each time."),
        params={"error": last, "times": attempts}) from None
