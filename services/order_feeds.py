"""Amazon's XML order feeds: what Odoo sends and what Amazon answers.

``acknowledgement_feed`` writes a ``POST_ORDER_ACKNOWLEDGEMENT_DATA`` envelope of
cancellations (one ``OrderAcknowledgement`` message per order, ``StatusCode``
``Failure``, one ``Item`` per cancelled order item with its ``CancelReason``);
``parse_processing_report`` reads Amazon's XML ``ProcessingReport`` back
(summary and per-message results). No Odoo import: testable with plain pytest.
The feed goes through ``FeedsAdapter`` like any other feed.
"""
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from . import errors
from .const import ADJUSTMENT_REASONS, CANCEL_REASONS


@dataclass
class Cancellation:
    """One order to cancel: ``items`` [(AmazonOrderItemCode, CancelReason)]."""
    message_id: int
    order_id: str
    items: list


@dataclass
class ProcessingReport:
    processed: int = 0
    successful: int = 0
    with_error: int = 0
    with_warning: int = 0
    # message id -> ["[code] description", ...] (errors only); 0: the feed as a whole
    errors: dict = field(default_factory=dict)
    warnings: dict = field(default_factory=dict)

    def errors_of(self, message_id):
        return self.errors.get(message_id, [])

    @property
    def general_errors(self):
        return self.errors.get(0, [])


def _envelope(merchant_id, message_type):
    """The ``AmazonEnvelope`` of an order feed: its header and message type."""
    if not merchant_id:
        raise ValueError("The seller's merchant id is required in an order feed's header.")
    root = ET.Element("AmazonEnvelope", {
        "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "xsi:noNamespaceSchemaLocation": "amzn-envelope.xsd"})
    header = ET.SubElement(root, "Header")
    ET.SubElement(header, "DocumentVersion").text = "1.01"
    ET.SubElement(header, "MerchantIdentifier").text = merchant_id
    ET.SubElement(root, "MessageType").text = message_type
    return root


def _serialise(root):
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8",
                                                                       xml_declaration=False)


def acknowledgement_feed(merchant_id, cancellations):
    """bytes of one envelope cancelling ``cancellations`` (``Cancellation``)."""
    root = _envelope(merchant_id, "OrderAcknowledgement")
    for cancellation in cancellations:
        if not cancellation.items:
            raise ValueError("Order %s: a cancellation names its items." % cancellation.order_id)
        message = ET.SubElement(root, "Message")
        ET.SubElement(message, "MessageID").text = str(cancellation.message_id)
        ack = ET.SubElement(message, "OrderAcknowledgement")
        ET.SubElement(ack, "AmazonOrderID").text = cancellation.order_id
        ET.SubElement(ack, "StatusCode").text = "Failure"
        for code, reason in cancellation.items:
            if reason not in CANCEL_REASONS:
                raise ValueError("%r is not one of Amazon's cancel reasons." % reason)
            item = ET.SubElement(ack, "Item")
            ET.SubElement(item, "AmazonOrderItemCode").text = code
            ET.SubElement(item, "CancelReason").text = reason
    return _serialise(root)


def _int(element, tag):
    text = (element.findtext(tag) or "").strip()
    return int(text) if text.isdigit() else 0


def parse_processing_report(text):
    """Amazon's XML processing report -> ``ProcessingReport``."""
    try:
        root = ET.fromstring(text.encode("utf-8") if isinstance(text, str) else text)
    except ET.ParseError as exc:
        raise errors.AmazonDocumentError(
            "Amazon's processing report is not readable XML: %s" % exc) from None
    report_el = root.find("Message/ProcessingReport")
    if report_el is None:
        raise errors.AmazonDocumentError("Amazon's processing report has no ProcessingReport.")
    summary = report_el.find("ProcessingSummary")
    report = ProcessingReport()
    if summary is not None:
        report.processed = _int(summary, "MessagesProcessed")
        report.successful = _int(summary, "MessagesSuccessful")
        report.with_error = _int(summary, "MessagesWithError")
        report.with_warning = _int(summary, "MessagesWithWarning")
    for result in report_el.findall("Result"):
        mid = (result.findtext("MessageID") or "0").strip()
        mid = int(mid) if mid.isdigit() else 0
        kind = (result.findtext("ResultCode") or "Error").strip()
        text = "[%s] %s" % ((result.findtext("ResultMessageCode") or "").strip(),
                            (result.findtext("ResultDescription") or "").strip())
        target = report.warnings if kind == "Warning" else report.errors
        target.setdefault(mid, []).append(text)
    return report


@dataclass
class Adjustment:
    """One order to refund: ``items`` [(AmazonOrderItemCode, {component: Decimal})]."""
    message_id: int
    order_id: str
    reason: str
    currency: str
    items: list


def adjustment_feed(merchant_id, adjustments):
    """bytes of one POST_PAYMENT_ADJUSTMENT_DATA envelope (``Adjustment``): per item, its
    components (Principal, Shipping, Tax, ShippingTax) as positive amounts."""
    root = _envelope(merchant_id, "OrderAdjustment")
    for adjustment in adjustments:
        if adjustment.reason not in ADJUSTMENT_REASONS:
            raise ValueError("%r is not one of Amazon's adjustment reasons." % adjustment.reason)
        message = ET.SubElement(root, "Message")
        ET.SubElement(message, "MessageID").text = str(adjustment.message_id)
        adj = ET.SubElement(message, "OrderAdjustment")
        ET.SubElement(adj, "AmazonOrderID").text = adjustment.order_id
        for code, components in adjustment.items:
            item = ET.SubElement(adj, "AdjustedItem")
            ET.SubElement(item, "AmazonOrderItemCode").text = code
            ET.SubElement(item, "AdjustmentReason").text = adjustment.reason
            prices = ET.SubElement(item, "ItemPriceAdjustments")
            for kind, amount in components.items():
                component = ET.SubElement(prices, "Component")
                ET.SubElement(component, "Type").text = kind
                ET.SubElement(component, "Amount", {"currency": adjustment.currency}).text = "%.2f" % amount
    return _serialise(root)
