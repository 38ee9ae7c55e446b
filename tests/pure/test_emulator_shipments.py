"""confirmShipment on the emulator: requests and answers match Amazon's
Orders v0 model, and the emulator refuses what Amazon refuses."""
import httpx
import jsonschema
import pytest
from test_emulator_models import schema_for, validate

from tools.spapi_emulator import Emulator, Scenario
from tools.spapi_emulator.shipments import v2026_item_cancellation, v2026_packages

US = "ATVPDKIKX0DER"


@pytest.fixture
def emu():
    scenario = Scenario()
    emulator = Emulator(scenario, rate_scale=50.0)
    emulator.order_id = scenario.add_order(items=[
        {"sku": "A", "qty": 2, "price": "20.00"}, {"sku": "B", "qty": 1, "price": "5.00"}])
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def token(emu):
    client_id, secret = next(iter(emu.apps.items()))
    res = httpx.post(emu.url + "/auth/o2/token", data={
        "grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
        "refresh_token": next(iter(emu.refresh_tokens))})
    return res.json()["access_token"]


def items_of(emu):
    return [i["OrderItemId"] for i in emu.scenario.orders[emu.order_id]["items"]]


def package(emu, ref="1", **kw):
    a, b = items_of(emu)
    body = {"marketplaceId": US, "packageDetail": dict({
        "packageReferenceId": ref, "carrierCode": "UPS", "shippingMethod": "UPS Ground",
        "trackingNumber": "1Z999AA10123456784", "shipDate": "2026-11-27T10:00:00Z",
        "orderItems": [{"orderItemId": a, "quantity": 1}, {"orderItemId": b, "quantity": 1}]}, **kw)}
    return body


def confirm(emu, token, body, order_id=None):
    return httpx.post("%s/orders/v0/orders/%s/shipmentConfirmation" % (emu.url, order_id or emu.order_id),
                      json=body, headers={"x-amz-access-token": token})


def test_confirm_moves_order_to_partially_shipped_then_shipped(emu, token):
    a, _b = items_of(emu)
    body = package(emu)
    validate("ordersV0.json", "ConfirmShipmentRequest", body)
    res = confirm(emu, token, body)
    assert res.status_code == 204, res.text
    assert res.content == b""
    order = emu.scenario.orders[emu.order_id]["order"]
    assert order["OrderStatus"] == "PartiallyShipped"
    assert (order["NumberOfItemsShipped"], order["NumberOfItemsUnshipped"]) == (2, 1)
    # the same reference again edits the package (no double count)
    res = confirm(emu, token, package(emu, trackingNumber="1ZNEW"))
    assert res.status_code == 204
    assert emu.packages(emu.order_id)["1"]["trackingNumber"] == "1ZNEW"
    assert order["OrderStatus"] == "PartiallyShipped"
    second = package(emu, ref="2", orderItems=[{"orderItemId": a, "quantity": 1}])
    assert confirm(emu, token, second).status_code == 204
    assert order["OrderStatus"] == "Shipped"
    packages = v2026_packages(emu.scenario.orders[emu.order_id])
    assert [p["packageReferenceId"] for p in packages] == ["1", "2"]
    assert packages[0]["carrier"] == "UPS" and packages[0]["trackingNumber"] == "1ZNEW"
    schema = schema_for("orders_2026-01-01.json", "OrderPackage")
    for p in packages:
        jsonschema.Draft4Validator(schema).validate(p)


@pytest.mark.parametrize("change, message", [
    ({"carrierCode": "Speedy Parcels"}, "Invalid carrierCode"),
    ({"carrierCode": "Other"}, "carrierName is required"),
    ({"trackingNumber": ""}, "trackingNumber"),
    ({"packageReferenceId": "abc"}, "positive number"),
    ({"shipDate": "11/27/2026"}, "ISO 8601"),
    ({"orderItems": [{"orderItemId": "99999", "quantity": 1}]}, "not part of order"),
    ({"orderItems": []}, "orderItems"),
])
def test_refusals_match_error_model(emu, token, change, message):
    res = confirm(emu, token, package(emu, **change))
    assert res.status_code == 400
    validate("ordersV0.json", "ConfirmShipmentErrorResponse", res.json())
    assert message in res.json()["errors"][0]["message"]
    assert emu.scenario.orders[emu.order_id]["order"]["OrderStatus"] == "Unshipped"
    assert not emu.packages(emu.order_id)


def test_quantity_left_to_ship_and_other_carrier(emu, token):
    a, _b = items_of(emu)
    ok = package(emu, carrierCode="Other", carrierName="Speedy Parcels",
                 orderItems=[{"orderItemId": a, "quantity": 2}])
    assert confirm(emu, token, ok).status_code == 204
    again = confirm(emu, token, package(emu, ref="2", orderItems=[{"orderItemId": a, "quantity": 1}]))
    assert again.status_code == 400
    assert "exceeds the quantity left to ship (0)" in again.json()["errors"][0]["message"]
    assert v2026_packages(emu.scenario.orders[emu.order_id])[0]["carrier"] == "Speedy Parcels"


def test_missing_marketplace_and_unknown_order(emu, token):
    body = package(emu)
    del body["marketplaceId"]
    res = confirm(emu, token, body)
    assert res.status_code == 400 and "marketplaceId" in res.json()["errors"][0]["message"]
    res = confirm(emu, token, package(emu), order_id="999-0000000-0000000")
    assert res.status_code == 404
    validate("ordersV0.json", "ConfirmShipmentErrorResponse", res.json())


def test_cancellations_on_command(emu, token):
    a, b = items_of(emu)
    emu.request_cancellation(emu.order_id, reason="Ordered by mistake")
    items = httpx.get("%s/orders/v0/orders/%s/orderItems" % (emu.url, emu.order_id),
                      headers={"x-amz-access-token": token}).json()
    validate("ordersV0.json", "GetOrderItemsResponse", items)
    assert items["payload"]["OrderItems"][0]["BuyerRequestedCancel"]["IsBuyerRequestedCancel"] == "true"
    entry = emu.scenario.orders[emu.order_id]
    assert v2026_item_cancellation(entry, a) == {
        "cancellationRequest": {"requester": "BUYER", "cancelReason": "Ordered by mistake"}}
    emu.cancel_item(emu.order_id, b, reason="Out of stock")
    assert entry["items"][1]["QuantityOrdered"] == 0
    assert entry["order"]["OrderStatus"] == "Unshipped"
    assert v2026_item_cancellation(entry, b)["cancellationExecution"] == {
        "cancelledBy": "MERCHANT", "cancelReason": "Out of stock"}
    emu.cancel_order(emu.order_id, by="BUYER", reason="Ordered by mistake")
    assert entry["order"]["OrderStatus"] == "Canceled"
    res = confirm(emu, token, package(emu, orderItems=[{"orderItemId": a, "quantity": 1}]))
    assert res.status_code == 400 and "cancelled" in res.json()["errors"][0]["message"]
    schema = schema_for("orders_2026-01-01.json", "ItemCancellation")
    jsonschema.Draft4Validator(schema).validate(v2026_item_cancellation(entry, a))
