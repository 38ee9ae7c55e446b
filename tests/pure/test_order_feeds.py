"""POST_ORDER_ACKNOWLEDGEMENT_DATA against the emulator: the XML Odoo writes, the
structure the emulator checks, per-message errors and the XML processing report."""
from services import errors
from services.const import FEED_CONTENT_TYPE_XML, FEED_ORDER_ACKNOWLEDGEMENT, FEED_PAYMENT_ADJUSTMENT
from services.order_feeds import (
    Adjustment,
    Cancellation,
    acknowledgement_feed,
    adjustment_feed,
    parse_processing_report,
)
from tools.spapi_emulator import Scenario

US = "ATVPDKIKX0DER"


def _order(scenario, status="Unshipped", skus=("SKU-1",)):
    items = [{"sku": s, "qty": 2, "price": "10.00"} for s in skus]
    return scenario.add_order(marketplace_id=US, status=status, items=items)


def _send(client, body, feed_type=FEED_ORDER_ACKNOWLEDGEMENT):
    feeds = client.feeds()
    feed_id = feeds.submit(feed_type, [US], body, FEED_CONTENT_TYPE_XML)
    status = feeds.status(feed_id)
    while status.state == "pending":
        status = feeds.status(feed_id)
    return status, parse_processing_report(feeds.result(status.result_document_id))


def _items(scenario, ref, reason="NoInventory"):
    return [(i["OrderItemId"], reason) for i in scenario.orders[ref]["items"]]


def test_accepted_shipped_and_unknown_in_one_feed(emulator, client):
    sc = Scenario()
    emulator.scenario = sc
    good, shipped = _order(sc), _order(sc, status="Shipped")
    body = acknowledgement_feed("A2TESTMERCHANT", [
        Cancellation(1, good, _items(sc, good)),
        Cancellation(2, shipped, _items(sc, shipped)),
        Cancellation(3, "111-0000000-0000000", [("12345", "NoInventory")])])
    status, report = _send(client, body)
    assert status.state == "done"
    assert (report.processed, report.successful, report.with_error) == (3, 1, 2)
    assert not report.errors_of(1)
    assert "already shipped" in report.errors_of(2)[0]
    assert "not found" in report.errors_of(3)[0]
    assert sc.orders[good]["order"]["OrderStatus"] == "Canceled"
    assert sc.orders[good]["cancellation"] == {"by": "SELLER", "reason": "NoInventory"}
    assert sc.orders[shipped]["order"]["OrderStatus"] == "Shipped"


def test_partial_cancel_keeps_other_items(emulator, client):
    sc = Scenario()
    emulator.scenario = sc
    ref = _order(sc, skus=("SKU-1", "SKU-2"))
    first = sc.orders[ref]["items"][0]["OrderItemId"]
    _status, report = _send(client, acknowledgement_feed("M", [
        Cancellation(1, ref, [(first, "NoInventory")])]))
    assert report.successful == 1
    assert sc.orders[ref]["order"]["OrderStatus"] == "Unshipped"
    assert sc.orders[ref]["items"][0]["QuantityOrdered"] == 0
    assert sc.orders[ref]["items"][1]["QuantityOrdered"] == 2
    # the same item again: Amazon refuses it, nothing changes
    _status, report = _send(client, acknowledgement_feed("M", [
        Cancellation(1, ref, [(first, "NoInventory")])]))
    assert report.with_error == 1 and "already cancelled" in report.errors_of(1)[0]
    assert sc.orders[ref]["items"][1]["QuantityOrdered"] == 2


def test_structure_errors(emulator, client):
    sc = Scenario()
    emulator.scenario = sc
    ref = _order(sc)
    item = sc.orders[ref]["items"][0]["OrderItemId"]
    body = ("<?xml version='1.0'?><AmazonEnvelope><Header><DocumentVersion>1.01</DocumentVersion>"
            "<MerchantIdentifier>M</MerchantIdentifier></Header><MessageType>OrderAcknowledgement"
            "</MessageType><Message><MessageID>1</MessageID><OrderAcknowledgement><StatusCode>Failure"
            "</StatusCode><AmazonOrderID>%s</AmazonOrderID></OrderAcknowledgement></Message>"
            "<Message><MessageID>2</MessageID><OrderAcknowledgement><AmazonOrderID>%s</AmazonOrderID>"
            "<StatusCode>Failure</StatusCode><Item><AmazonOrderItemCode>%s</AmazonOrderItemCode>"
            "<CancelReason>ChangedMyMind</CancelReason></Item></OrderAcknowledgement></Message>"
            "<Message><MessageID>3</MessageID><OrderAcknowledgement><AmazonOrderID>%s</AmazonOrderID>"
            "<StatusCode>Failure</StatusCode><Item><AmazonOrderItemCode>%s</AmazonOrderItemCode>"
            "</Item></OrderAcknowledgement></Message></AmazonEnvelope>") % (ref, ref, item, ref, item)
    status, report = _send(client, body.encode())
    assert status.state == "done"
    assert report.with_error == 3 and report.successful == 0
    assert "AmazonOrderID is required" in report.errors_of(1)[0]
    assert "CancelReason 'ChangedMyMind'" in report.errors_of(2)[0]
    assert "CancelReason is required" in report.errors_of(3)[0]
    assert sc.orders[ref]["order"]["OrderStatus"] == "Unshipped"


def test_not_xml_and_scripted_fatal(emulator, client):
    sc = Scenario()
    emulator.scenario = sc
    ref = _order(sc)
    status, report = _send(client, b"<AmazonEnvelope><Header>")
    assert status.state == "fatal" and "not well-formed" in report.general_errors[0]
    emulator.script_next_feed("FATAL")
    status, report = _send(client, acknowledgement_feed("M", [Cancellation(1, ref, _items(sc, ref))]))
    assert status.state == "fatal" and report.general_errors
    assert sc.orders[ref]["order"]["OrderStatus"] == "Unshipped"


def test_unreadable_report():
    try:
        parse_processing_report("<nope")
    except errors.AmazonDocumentError as exc:
        assert "not readable XML" in str(exc)
    else:
        raise AssertionError("no error")


def test_payment_adjustments(emulator, client):
    from decimal import Decimal
    sc = Scenario()
    emulator.scenario = sc
    shipped, unshipped = _order(sc, status="Shipped"), _order(sc)
    item = sc.orders[shipped]["items"][0]["OrderItemId"]
    paid = {"Principal": Decimal("10.00")}
    body = adjustment_feed("M", [
        Adjustment(1, shipped, "CustomerReturn", "USD", [(item, paid)]),
        Adjustment(2, shipped, "CustomerReturn", "USD", [(item, {"Principal": Decimal("0.01")})]),
        Adjustment(3, unshipped, "CustomerReturn", "USD",
                   [(sc.orders[unshipped]["items"][0]["OrderItemId"], paid)]),
        Adjustment(4, shipped, "CustomerReturn", "EUR", [(item, {"Tax": Decimal("0.01")})]),
        Adjustment(5, "111-0000000-0000000", "Other", "USD", [("1", paid)])])
    status, report = _send(client, body, FEED_PAYMENT_ADJUSTMENT)
    assert status.state == "done"
    assert (report.processed, report.successful, report.with_error) == (5, 1, 4)
    assert "exceeds what the buyer paid" in report.errors_of(2)[0]
    assert "has not shipped" in report.errors_of(3)[0]
    assert "does not match the order's currency" in report.errors_of(4)[0]
    assert "not found" in report.errors_of(5)[0]
    assert sc.orders[shipped]["refunds"] == {item: {"Principal": 10.0}}
    bad = body.replace(b"<Type>Principal</Type>", b"<Type>Bonus</Type>", 1)
    _status, report = _send(client, bad, FEED_PAYMENT_ADJUSTMENT)
    assert "Component Type 'Bonus'" in report.errors_of(1)[0]
