"""The JSON_LISTINGS_FEED of FBM quantities, and its processing report.

``quantity_feed`` writes the document (listings-feed-schema-v2: a header and
one ``PATCH`` message per SKU, the same JSON Patch ``merge`` as
``patchListingsItem``); ``parse_report`` reads Amazon's processing report
(listings-feed-processing-report-schema-v2) into the issues of each message.
"""
import json
from dataclasses import dataclass, field

from . import errors
from .listings_adapter import Issue, fulfillment_patch


@dataclass
class FeedMessage:
    message_id: int
    sku: str
    product_type: str
    quantity: int


@dataclass
class ProcessingReport:
    issues: dict = field(default_factory=dict)   # message id -> [Issue]
    general: list = field(default_factory=list)  # issues of no message (the feed itself)
    summary: dict = field(default_factory=dict)

    def errors_of(self, message_id):
        return [i for i in self.issues.get(message_id, ()) if i.severity == "ERROR"]

    @property
    def general_errors(self):
        return [i for i in self.general if i.severity == "ERROR"]


def quantity_feed(seller_id, messages, issue_locale="en_US"):
    """``messages``: ``FeedMessage`` list -> the feed document (UTF-8 bytes)."""
    if not messages:
        raise ValueError("a feed carries at least one message")
    doc = {
        "header": {"sellerId": seller_id, "version": "2.0", "issueLocale": issue_locale},
        "messages": [{
            "messageId": m.message_id, "sku": m.sku, "operationType": "PATCH",
            "productType": m.product_type, "patches": fulfillment_patch(m.quantity),
        } for m in messages],
    }
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def parse_report(text):
    """A processing report's text -> ``ProcessingReport``."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise errors.AmazonDocumentError(
            "Amazon's feed processing report is not JSON (%s)." % exc) from None
    if not isinstance(data, dict) or "summary" not in data:
        raise errors.AmazonDocumentError(
            "Amazon's feed processing report has no summary: it is not a JSON listings "
            "feed report.")
    report = ProcessingReport(summary=data.get("summary") or {})
    for raw in data.get("issues") or ():
        issue = Issue(raw.get("severity") or "ERROR", raw.get("message") or "", raw.get("code") or "")
        message_id = raw.get("messageId")
        if message_id is None:
            report.general.append(issue)
        else:
            report.issues.setdefault(int(message_id), []).append(issue)
    return report
