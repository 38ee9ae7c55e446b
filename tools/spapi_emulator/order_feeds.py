"""The order acknowledgement feed ``POST_ORDER_ACKNOWLEDGEMENT_DATA`` in the emulator.

A seller cancels an order (or some of its items) that has not shipped with an
XML ``AmazonEnvelope`` of ``OrderAcknowledgement`` messages, ``StatusCode``
``Failure`` and, per cancelled item, a ``CancelReason``. The feed goes through
the Feeds API like any other (``listings.py``: createFeedDocument, upload,
createFeed at 0.0083/s burst 15, getFeed, getFeedDocument; ``script_next_feed
("FATAL")`` aborts the next one, nothing applied) and its processing report is
Amazon's XML ``ProcessingReport``: ``MessagesProcessed`` / ``MessagesSuccessful``
/ ``MessagesWithError`` / ``MessagesWithWarning`` and one ``Result`` per message
in error or warning (``ResultCode``, ``ResultMessageCode``,
``ResultDescription``, ``AdditionalInfo/AmazonOrderID``).

No XSD is in ../shared/reference/spapi: the structure checked here is the one of
Amazon's published ``amzn-envelope.xsd`` / ``OrderAcknowledgement.xsd``, element
by element, in order (see docs/cancellations.md):

    AmazonEnvelope
      Header: DocumentVersion, MerchantIdentifier (both required)
      MessageType: OrderAcknowledgement
      Message+ : MessageID (positive integer, unique in the feed),
                 OperationType? ,
                 OrderAcknowledgement:
                   AmazonOrderID (3-7-7 digits), MerchantOrderID?,
                   StatusCode (Success | Failure),
                   Item*: AmazonOrderItemCode, MerchantOrderItemID?, CancelReason?

A document that is not well-formed XML or not an OrderAcknowledgement envelope
is FATAL (nothing applied). A message that breaks the structure, names an order
Amazon does not have in the feed's marketplaces, an order already shipped (in
part for a whole-order cancel, or the item for an item cancel) or cancelled, or
an unknown item, is answered in error and changes nothing; the others apply.
A ``Failure`` without items cancels the whole order; with items, those items
(their whole unshipped quantity) with their reason. ``Failure`` needs a reason:
on every item, or (whole order) on none is an error, as Seller Central's
"CancelReason is required" answer. ``Success`` (acknowledging an order) changes
nothing here and is accepted.
"""
import re
import secrets
import xml.etree.ElementTree as ET

from . import shipments

FEED_TYPE = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
CANCEL_REASONS = ("NoInventory", "ShippingAddressUndeliverable", "CustomerExchange",
                  "BuyerCanceled", "GeneralAdjustment", "CarrierCreditDecision",
                  "RiskAssessmentInformationNotValid", "CarrierCoverageFailure",
                  "CustomerReturn", "MerchandiseNotReceived")
ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
# Amazon's result message codes (as seen in order feed processing reports).
CODE_XML = "5000"          # the message does not follow the schema
CODE_UNKNOWN_ORDER = "18028"
CODE_SHIPPED = "18123"
CODE_CANCELLED = "18124"
CODE_UNKNOWN_ITEM = "18029"
CODE_REASON = "18185"


class _Invalid(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


def _children(element):
    return [c for c in element if isinstance(c.tag, str)]


def _text(element):
    return (element.text or "").strip() if element is not None else ""


def _sequence(element, spec, where):
    """Check ``element``'s children against ``spec`` [(tag, min, max)] in order;
    returns {tag: [elements]}."""
    children = _children(element)
    found, i = {}, 0
    for tag, low, high in spec:
        run = []
        while i < len(children) and children[i].tag == tag:
            run.append(children[i])
            i += 1
        if len(run) < low:
            raise _Invalid(CODE_XML, "XML Parsing Error: %s: the element %s is required here."
                           % (where, tag))
        if high is not None and len(run) > high:
            raise _Invalid(CODE_XML, "XML Parsing Error: %s: %s may appear at most %d time(s)."
                           % (where, tag, high))
        found[tag] = run
    if i < len(children):
        raise _Invalid(CODE_XML, "XML Parsing Error: %s: unexpected element %s." % (where, children[i].tag))
    return found


def parse_envelope(body):
    """bytes -> (merchant id, [Message elements]); raises ``_Invalid`` (FATAL)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise _Invalid(CODE_XML, "XML Parsing Fatal Error: the feed is not well-formed XML: %s" % exc) from None
    if root.tag != "AmazonEnvelope":
        raise _Invalid(CODE_XML, "XML Parsing Fatal Error: the root element must be AmazonEnvelope, "
                                 "not %s." % root.tag)
    parts = _sequence(root, [("Header", 1, 1), ("MessageType", 1, 1), ("PurgeAndReplace", 0, 1),
                             ("Message", 1, None)], "AmazonEnvelope")
    header = _sequence(parts["Header"][0], [("DocumentVersion", 1, 1), ("MerchantIdentifier", 1, 1)],
                       "Header")
    merchant = _text(header["MerchantIdentifier"][0])
    if not merchant or not _text(header["DocumentVersion"][0]):
        raise _Invalid(CODE_XML, "XML Parsing Fatal Error: Header needs DocumentVersion and "
                                 "MerchantIdentifier.")
    if _text(parts["MessageType"][0]) != "OrderAcknowledgement":
        raise _Invalid(CODE_XML, "XML Parsing Fatal Error: MessageType %r does not match the feed "
                                 "type %s (OrderAcknowledgement)." % (_text(parts["MessageType"][0]), FEED_TYPE))
    return merchant, parts["Message"]


def message_id(message):
    mid = _text(message.find("MessageID"))
    return int(mid) if mid.isdigit() and int(mid) > 0 else None


def parse_message(message):
    """One Message -> (message id, dict); raises ``_Invalid``."""
    mid = message_id(message)
    parts = _sequence(message, [("MessageID", 1, 1), ("OperationType", 0, 1),
                                ("OrderAcknowledgement", 1, 1)], "Message")
    if mid is None:
        raise _Invalid(CODE_XML, "XML Parsing Error: MessageID must be a positive integer.")
    ack = _sequence(parts["OrderAcknowledgement"][0],
                    [("AmazonOrderID", 1, 1), ("MerchantOrderID", 0, 1), ("StatusCode", 1, 1),
                     ("Item", 0, None)], "OrderAcknowledgement")
    order_id = _text(ack["AmazonOrderID"][0])
    status = _text(ack["StatusCode"][0])
    if not ORDER_ID.match(order_id):
        raise _Invalid(CODE_XML, "XML Parsing Error: AmazonOrderID %r is not an Amazon order id "
                                 "(3-7-7 digits)." % order_id)
    if status not in ("Success", "Failure"):
        raise _Invalid(CODE_XML, "XML Parsing Error: StatusCode %r is not one of Success, Failure."
                       % status)
    items = []
    for item in ack["Item"]:
        fields = _sequence(item, [("AmazonOrderItemCode", 1, 1), ("MerchantOrderItemID", 0, 1),
                                  ("CancelReason", 0, 1), ("Quantity", 0, 1)], "Item")
        code = _text(fields["AmazonOrderItemCode"][0])
        reason = _text(fields["CancelReason"][0]) if fields["CancelReason"] else ""
        if not code.isdigit():
            raise _Invalid(CODE_XML, "XML Parsing Error: AmazonOrderItemCode %r must be digits." % code)
        if reason and reason not in CANCEL_REASONS:
            raise _Invalid(CODE_XML, "XML Parsing Error: CancelReason %r is not one of %s."
                           % (reason, ", ".join(CANCEL_REASONS)))
        items.append({"code": code, "reason": reason})
    return mid, {"order_id": order_id, "status": status, "items": items}


def _check(emu, feed, data):
    """Amazon's business checks of a well-formed message; returns the scenario entry."""
    entry = emu.scenario.orders.get(data["order_id"])
    if entry is None or entry["order"]["MarketplaceId"] not in feed["marketplaceIds"]:
        raise _Invalid(CODE_UNKNOWN_ORDER, "The order id %s was not found in the marketplace(s) of "
                                           "this feed." % data["order_id"])
    if data["status"] != "Failure":
        return entry
    order = entry["order"]
    if order["OrderStatus"] == "Canceled":
        raise _Invalid(CODE_CANCELLED, "Order %s is already cancelled." % data["order_id"])
    items = {i["OrderItemId"]: i for i in entry["items"]}
    if not data["items"]:
        if order["OrderStatus"] in ("Shipped", "PartiallyShipped"):
            raise _Invalid(CODE_SHIPPED, "Order %s has already shipped (%s): it cannot be cancelled."
                           % (data["order_id"], order["OrderStatus"]))
        raise _Invalid(CODE_REASON, "CancelReason is required to cancel order %s: give it on each "
                                    "item (AmazonOrderItemCode)." % data["order_id"])
    for item in data["items"]:
        if item["code"] not in items:
            raise _Invalid(CODE_UNKNOWN_ITEM, "Order item %s is not part of order %s."
                           % (item["code"], data["order_id"]))
        if not item["reason"]:
            raise _Invalid(CODE_REASON, "CancelReason is required for order item %s of order %s."
                           % (item["code"], data["order_id"]))
        if _unshipped(items[item["code"]]) <= 0 and item["code"] in (entry.get("item_cancellations") or {}) \
                and not items[item["code"]].get("QuantityShipped"):
            raise _Invalid(CODE_CANCELLED, "Order item %s of order %s is already cancelled."
                           % (item["code"], data["order_id"]))
        if order["OrderStatus"] == "Shipped" or _unshipped(items[item["code"]]) <= 0:
            raise _Invalid(CODE_SHIPPED, "Order item %s of order %s has already shipped: it cannot "
                                         "be cancelled." % (item["code"], data["order_id"]))
    return entry


def _unshipped(item):
    return item["QuantityOrdered"] - (item.get("QuantityShipped") or 0)


def _apply(entry, data):
    if data["status"] != "Failure":
        return
    codes = {i["code"] for i in data["items"]}
    whole = (codes >= {i["OrderItemId"] for i in entry["items"]}
             and not any(i.get("QuantityShipped") for i in entry["items"]))
    if whole:
        shipments.cancel_order(entry, by="SELLER", reason=data["items"][0]["reason"])
        return
    for item in data["items"]:
        shipments.cancel_item(entry, item["code"], by="SELLER", reason=item["reason"])


def _report(merchant, results, processed, successful, errors, warnings=0):
    root = ET.Element("AmazonEnvelope", {
        "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "xsi:noNamespaceSchemaLocation": "amzn-envelope.xsd"})
    header = ET.SubElement(root, "Header")
    ET.SubElement(header, "DocumentVersion").text = "1.02"
    ET.SubElement(header, "MerchantIdentifier").text = merchant or "UNKNOWN"
    ET.SubElement(root, "MessageType").text = "ProcessingReport"
    message = ET.SubElement(root, "Message")
    ET.SubElement(message, "MessageID").text = "1"
    report = ET.SubElement(message, "ProcessingReport")
    ET.SubElement(report, "DocumentTransactionID").text = str(secrets.randbelow(10 ** 11))
    ET.SubElement(report, "StatusCode").text = "Complete"
    summary = ET.SubElement(report, "ProcessingSummary")
    for tag, value in (("MessagesProcessed", processed), ("MessagesSuccessful", successful),
                       ("MessagesWithError", errors), ("MessagesWithWarning", warnings)):
        ET.SubElement(summary, tag).text = str(value)
    for mid, code, description, order_id, kind in results:
        result = ET.SubElement(report, "Result")
        ET.SubElement(result, "MessageID").text = str(mid or 0)
        ET.SubElement(result, "ResultCode").text = kind
        ET.SubElement(result, "ResultMessageCode").text = code
        ET.SubElement(result, "ResultDescription").text = description
        if order_id:
            ET.SubElement(ET.SubElement(result, "AdditionalInfo"), "AmazonOrderID").text = order_id
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def fatal_report(emu, feed, reason):
    """The report of a feed Amazon aborted: one error, nothing processed."""
    return _report(emu.merchant_id, [(0, "5001", reason, "", "Error")], 0, 0, 0)


def process(emu, feed, body):
    """A POST_ORDER_ACKNOWLEDGEMENT_DATA feed -> (fatal, processing report); good messages applied."""
    try:
        merchant, messages = parse_envelope(body)
    except _Invalid as exc:
        return True, _report(emu.merchant_id, [(0, exc.code, exc.message, "", "Error")], 0, 0, 1)
    results, good, seen = [], [], set()
    for message in messages:
        mid, data = message_id(message), None
        try:
            mid, data = parse_message(message)
            if mid in seen:
                raise _Invalid(CODE_XML, "MessageID %s is used twice in the feed." % mid)
            seen.add(mid)
            entry = _check(emu, feed, data)
            _apply(entry, data)
            good.append(mid)
        except _Invalid as exc:
            results.append((mid, exc.code, exc.message, (data or {}).get("order_id")
                            or _text(message.find("OrderAcknowledgement/AmazonOrderID")), "Error"))
    emu.feed_log.append({"feedId": feed["feedId"], "feedType": feed["feedType"],
                         "messages": len(messages)})
    return False, _report(merchant, results, len(messages), len(good), len(results))


# ------------------------------------------------------------ refunds
ADJUSTMENT_FEED_TYPE = "POST_PAYMENT_ADJUSTMENT_DATA"
ADJUSTMENT_REASONS = ("NoInventory", "CustomerReturn", "GeneralAdjustment", "CouldNotShip",
                      "DifferentItem", "Abandoned", "CustomerCancel", "PriceError",
                      "ProductOutofStock", "CustomerAddressIncorrect", "Exchange", "Other",
                      "CarrierCreditDecision", "RiskAssessmentInformationNotValid",
                      "CarrierCoverageFailure", "TransactionRecord", "Undeliverable",
                      "RefusedDelivery")
# what the buyer paid per component: the charge less its discount
COMPONENTS = {"Principal": ("ItemPrice", "PromotionDiscount"), "Tax": ("ItemTax", "PromotionDiscountTax"),
              "Shipping": ("ShippingPrice", "ShippingDiscount"),
              "ShippingTax": ("ShippingTax", "ShippingDiscountTax")}
CODE_NOT_SHIPPED = "18305"
CODE_TOO_MUCH = "18306"
MONEY = re.compile(r"^\d+(\.\d{1,2})?$")


def _adjustment_message(message):
    """One OrderAdjustment message -> dict; raises ``_Invalid``."""
    mid = message_id(message)
    parts = _sequence(message, [("MessageID", 1, 1), ("OperationType", 0, 1),
                                ("OrderAdjustment", 1, 1)], "Message")
    if mid is None:
        raise _Invalid(CODE_XML, "XML Parsing Error: MessageID must be a positive integer.")
    adj = _sequence(parts["OrderAdjustment"][0],
                    [("AmazonOrderID", 1, 1), ("MerchantOrderID", 0, 1), ("ActionType", 0, 1),
                     ("AdjustedItem", 1, None)], "OrderAdjustment")
    order_id = _text(adj["AmazonOrderID"][0])
    if not ORDER_ID.match(order_id):
        raise _Invalid(CODE_XML, "XML Parsing Error: AmazonOrderID %r is not an Amazon order id." % order_id)
    items = []
    for item in adj["AdjustedItem"]:
        f = _sequence(item, [("AmazonOrderItemCode", 1, 1), ("MerchantAdjustmentItemID", 0, 1),
                             ("AdjustmentReason", 1, 1), ("ItemPriceAdjustments", 1, 1),
                             ("QuantityCancelled", 0, 1)], "AdjustedItem")
        reason = _text(f["AdjustmentReason"][0])
        if not _text(f["AmazonOrderItemCode"][0]).isdigit():
            raise _Invalid(CODE_XML, "XML Parsing Error: AmazonOrderItemCode %r must be digits."
                           % _text(f["AmazonOrderItemCode"][0]))
        if reason not in ADJUSTMENT_REASONS:
            raise _Invalid(CODE_XML, "XML Parsing Error: AdjustmentReason %r is not one of Amazon's "
                                     "adjustment reasons." % reason)
        components = {}
        for comp in _sequence(f["ItemPriceAdjustments"][0], [("Component", 1, None)],
                              "ItemPriceAdjustments")["Component"]:
            c = _sequence(comp, [("Type", 1, 1), ("Amount", 1, 1)], "Component")
            kind, amount = _text(c["Type"][0]), c["Amount"][0]
            if kind not in COMPONENTS:
                raise _Invalid(CODE_XML, "XML Parsing Error: Component Type %r is not supported "
                                         "(Principal, Shipping, Tax, ShippingTax)." % kind)
            if not MONEY.match(_text(amount)) or not amount.get("currency"):
                raise _Invalid(CODE_XML, "XML Parsing Error: Amount %r of %s must be a positive "
                                         "decimal with a currency attribute." % (_text(amount), kind))
            components[kind] = (float(_text(amount)), amount.get("currency"))
        items.append({"code": _text(f["AmazonOrderItemCode"][0]), "reason": reason,
                      "components": components})
    return mid, {"order_id": order_id, "items": items}


def _check_adjustment(emu, feed, data):
    entry = emu.scenario.orders.get(data["order_id"])
    if entry is None or entry["order"]["MarketplaceId"] not in feed["marketplaceIds"]:
        raise _Invalid(CODE_UNKNOWN_ORDER, "The order id %s was not found in the marketplace(s) of "
                                           "this feed." % data["order_id"])
    items = {i["OrderItemId"]: i for i in entry["items"]}
    refunded = entry.get("refunds") or {}
    for item in data["items"]:
        it = items.get(item["code"])
        if it is None:
            raise _Invalid(CODE_UNKNOWN_ITEM, "Order item %s is not part of order %s."
                           % (item["code"], data["order_id"]))
        if not it.get("QuantityShipped"):
            raise _Invalid(CODE_NOT_SHIPPED, "Order item %s of order %s has not shipped: Amazon has "
                                             "not charged the buyer. Cancel it instead of refunding."
                           % (item["code"], data["order_id"]))
        for kind, (amount, currency) in item["components"].items():
            key, discount_key = COMPONENTS[kind]
            charged = it.get(key) or {"Amount": "0", "CurrencyCode": currency}
            if currency != charged["CurrencyCode"]:
                raise _Invalid(CODE_XML, "Currency %s of %s does not match the order's currency %s."
                               % (currency, kind, charged["CurrencyCode"]))
            paid = float(charged["Amount"]) - float((it.get(discount_key) or {}).get("Amount") or 0)
            done = refunded.get(item["code"], {}).get(kind, 0.0)
            if round(done + amount, 2) > round(paid, 2) + 1e-9:
                raise _Invalid(CODE_TOO_MUCH, "The %s refund of order item %s (%.2f, %.2f refunded "
                                              "before) exceeds what the buyer paid (%.2f)."
                               % (kind, item["code"], amount, done, paid))
    return entry


def _apply_adjustment(entry, data):
    refunds = entry.setdefault("refunds", {})
    for item in data["items"]:
        done = refunds.setdefault(item["code"], {})
        for kind, (amount, _currency) in item["components"].items():
            done[kind] = round(done.get(kind, 0.0) + amount, 2)


def process_adjustments(emu, feed, body):
    """A POST_PAYMENT_ADJUSTMENT_DATA feed -> (fatal, processing report); good messages applied."""
    try:
        root = ET.fromstring(body)
        if root.tag != "AmazonEnvelope":
            raise _Invalid(CODE_XML, "XML Parsing Fatal Error: the root element must be AmazonEnvelope.")
        parts = _sequence(root, [("Header", 1, 1), ("MessageType", 1, 1), ("Message", 1, None)],
                          "AmazonEnvelope")
        header = _sequence(parts["Header"][0], [("DocumentVersion", 1, 1), ("MerchantIdentifier", 1, 1)],
                           "Header")
        merchant = _text(header["MerchantIdentifier"][0])
        if _text(parts["MessageType"][0]) != "OrderAdjustment":
            raise _Invalid(CODE_XML, "XML Parsing Fatal Error: MessageType must be OrderAdjustment "
                                     "for %s." % ADJUSTMENT_FEED_TYPE)
    except ET.ParseError as exc:
        return True, _report(emu.merchant_id, [(0, CODE_XML, "XML Parsing Fatal Error: the feed is "
                                                "not well-formed XML: %s" % exc, "", "Error")], 0, 0, 1)
    except _Invalid as exc:
        return True, _report(emu.merchant_id, [(0, exc.code, exc.message, "", "Error")], 0, 0, 1)
    results, good, seen = [], 0, set()
    for message in parts["Message"]:
        mid, data = message_id(message), None
        try:
            mid, data = _adjustment_message(message)
            if mid in seen:
                raise _Invalid(CODE_XML, "MessageID %s is used twice in the feed." % mid)
            seen.add(mid)
            _apply_adjustment(_check_adjustment(emu, feed, data), data)
            good += 1
        except _Invalid as exc:
            results.append((mid, exc.code, exc.message, (data or {}).get("order_id")
                            or _text(message.find("OrderAdjustment/AmazonOrderID")), "Error"))
    emu.feed_log.append({"feedId": feed["feedId"], "feedType": feed["feedType"],
                         "messages": len(parts["Message"])})
    return False, _report(merchant, results, len(parts["Message"]), good, len(results))
