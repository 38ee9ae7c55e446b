"""Orders API 2026-01-01: the adapter against the emulator, and the normaliser."""
import copy
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest
from conftest import shared_path

from services import errors
from services.const import INCLUDED_DATA_IMPORT
from services.normalize import NormalizeError, Order, from_orders_api, order_from_payload, payload_marketplace_id, payload_order_id
from services.spapi_client import SpApiClient
from tools.spapi_emulator import Emulator, Scenario

US, DE, UK = "ATVPDKIKX0DER", "A1PA6795UKMFR9", "A1F83G8C2ARO7P"
AFTER = datetime.now(timezone.utc) - timedelta(days=40)


def make_client(emulator, refresh_token=None, **kw):
    client_id, secret = next(iter(emulator.apps.items()))
    kw.setdefault("rate_scale", 100.0)
    return SpApiClient(client_id=client_id, client_secret=secret,
                       refresh_token=refresh_token or next(iter(emulator.refresh_tokens)),
                       api_endpoint=emulator.url, lwa_endpoint=emulator.url, timeout=5,
                       backoff_cap=0.2, **kw)


def model_example():
    with open(shared_path("models", "orders_2026-01-01.json")) as fh:
        spec = json.load(fh)
    response = spec["paths"]["/orders/2026-01-01/orders"]["get"]["responses"]["200"]
    return response["examples"]["application/json"]["orders"][0]


# ------------------------------------------------------------------ adapter
def test_search_orders_paginates_without_rdt_and_keeps_parameters():
    scenario = Scenario.generate(250, seed=5, shipped_ratio=0.2)
    with Emulator(scenario, rate_scale=200) as emulator:
        client = make_client(emulator, rate_scale=200)
        adapter = client.orders()
        assert adapter.version == "2026-01-01", "2026-01-01 is the default"
        orders = list(adapter.list_orders([US], created_after=AFTER, statuses=["Unshipped"]))
        expected = [e for e in scenario.orders.values() if e["order"]["OrderStatus"] == "Unshipped"]
        assert len(orders) == len(expected) and len({o["orderId"] for o in orders}) == len(expected)
        assert client.calls["searchOrders"] == -(-len(expected) // 100)
        assert not client.calls["createRestrictedDataToken"], "2026-01-01 needs no RDT"
        assert not client.calls["getOrderItems"] and not client.calls["getOrders"]
        assert adapter.window_end, "Amazon's createdBefore is kept for a cursor"
        assert all(o["buyer"]["buyerName"] and o["recipient"]["deliveryAddress"]["addressLine1"]
                   for o in orders), "buyer and address by role on every page"
        assert all(order_from_payload(o).priced for o in orders)
        # A pagination token is only good with the parameters it was issued for.
        access = httpx.post(emulator.url + "/auth/o2/token", data={
            "grant_type": "refresh_token", "client_id": next(iter(emulator.apps)),
            "client_secret": next(iter(emulator.apps.values())),
            "refresh_token": next(iter(emulator.refresh_tokens))}).json()["access_token"]
        params = {"createdAfter": AFTER.strftime("%Y-%m-%dT%H:%M:%SZ"), "marketplaceIds": US,
                  "maxResultsPerPage": "10"}
        headers = {"x-amz-access-token": access}
        url = emulator.url + "/orders/2026-01-01/orders"
        first = httpx.get(url, params=params, headers=headers).json()
        next_token = first["pagination"]["nextToken"]
        alone = httpx.get(url, params={"paginationToken": next_token}, headers=headers)
        assert alone.status_code == 400, "the token alone is refused: the other parameters must come too"
        changed = httpx.get(url, params=dict(params, maxResultsPerPage="20", paginationToken=next_token),
                            headers=headers)
        assert changed.status_code == 400
        same = httpx.get(url, params=dict(params, paginationToken=next_token), headers=headers)
        assert same.status_code == 200 and same.json()["orders"][0]["orderId"] not in {
            o["orderId"] for o in first["orders"]}
        emulator.pagination_ttl = 0
        expired = httpx.get(url, params=dict(params, paginationToken=next_token), headers=headers)
        assert expired.status_code == 400 and "expired" in expired.text


def test_search_orders_filters_like_amazon():
    scenario = Scenario()
    unshipped = scenario.add_order(marketplace_id=US, items=[{"sku": "A", "price": "10.00"}])
    shipped = scenario.add_order(marketplace_id=US, status="Shipped", items=[{"sku": "A", "price": "10.00"}])
    scenario.add_order(marketplace_id=US, channel="AFN", items=[{"sku": "A", "price": "10.00"}])
    german = scenario.add_order(marketplace_id=DE, items=[{"sku": "A", "price": "11.90", "tax": "1.90"}])
    with Emulator(scenario, rate_scale=200) as emulator:
        adapter = make_client(emulator).orders()
        ids = lambda **kw: {o["orderId"] for o in adapter.list_orders(created_after=AFTER, **kw)}  # noqa: E731
        assert ids(marketplace_ids=[US, DE], statuses=["Unshipped", "PartiallyShipped"]) == {unshipped, german}
        assert ids(marketplace_ids=[US], statuses=["Shipped"]) == {shipped}
        assert ids(marketplace_ids=[US, DE], order_ids=[german]) == {german}
        updated = {o["orderId"] for o in adapter.list_orders(
            [US], last_updated_after=AFTER, statuses=["Shipped"])}
        assert updated == {shipped}
        # createdBefore must be two minutes in the past: the adapter keeps it there.
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        assert ids(marketplace_ids=[US], statuses=["Unshipped"], created_before=now) == {unshipped}
        with pytest.raises(ValueError):
            list(adapter.search_orders([US]))


def test_pii_comes_by_role_not_by_token():
    scenario = Scenario()
    order_id = scenario.add_order(marketplace_id=US, buyer_name="Grace Hopper",
                                  items=[{"sku": "A", "price": "10.00", "gift_message": "For you"}])
    with Emulator(scenario, rate_scale=200) as emulator:
        emulator.add_refresh_token("Atzr|no-pii", roles={"orders", "reports", "sellers"})
        full = order_from_payload(next(iter(make_client(emulator).orders().list_orders(
            [US], created_after=AFTER))))
        assert full.buyer.name == "Grace Hopper" and full.ship_to.street and full.ship_to.phone
        assert full.items[0].gift_message == "For you"
        plain_payload = next(iter(make_client(emulator, "Atzr|no-pii").orders().list_orders(
            [US], created_after=AFTER)))
        plain = order_from_payload(plain_payload)
        assert "buyer" not in plain_payload
        assert plain.buyer.name == "" and plain.ship_to.street == "" and plain.ship_to.name == ""
        assert plain.ship_to.city == "Seattle" and plain.ship_to.country_code == "US"
        assert plain.items[0].gift_message == ""
        assert plain.priced, "prices need no PII role"
        assert emulator.calls["createRestrictedDataToken"] == 0
        # Asked without BUYER/RECIPIENT, the data does not come even with the role.
        bare = next(iter(make_client(emulator).orders().list_orders([US], created_after=AFTER, with_pii=False)))
        assert "buyer" not in bare and "recipient" not in bare
        assert scenario.orders[order_id]


def test_v0_reads_retired_v2026_and_confirm_shipment_work():
    scenario = Scenario()
    order_id = scenario.add_order(marketplace_id=US, items=[{"sku": "A", "price": "10.00"}])
    with Emulator(scenario, rate_scale=200, v0_reads_retired=True) as emulator:
        client = make_client(emulator)
        with pytest.raises(errors.AmazonRequestError) as exc:
            list(client.orders("v0").list_orders([US], created_after=AFTER))
        assert "Orders API version to 2026-01-01" in str(exc.value)
        with pytest.raises(errors.AmazonRequestError):
            client.orders("v0").get_order_items(order_id)
        assert [o["orderId"] for o in client.orders().list_orders([US], created_after=AFTER)] == [order_id]
        items = client.orders().get_order_items(order_id)
        assert items[0]["proceeds"], "2026-01-01 items come with their proceeds"
        item_id = scenario.orders[order_id]["items"][0]["OrderItemId"]
        client.orders().confirm_shipment(order_id, US, {
            "packageReferenceId": "1", "carrierCode": "UPS", "trackingNumber": "1Z999",
            "shipDate": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "orderItems": [{"orderItemId": item_id, "quantity": 1}]})
        assert client.calls["confirmShipment"] == 1
        assert scenario.orders[order_id]["order"]["OrderStatus"] == "Shipped"


# ---------------------------------------------------------------- normaliser
def test_both_apis_tell_the_same_story():
    """Every scenario order, normalised from 2026-01-01 and from v0 (header +
    getOrderItems), gives the same normalised order."""
    scenario = Scenario.generate(60, seed=11, shipped_ratio=0.3)
    scenario.add_order(marketplace_id=DE, is_business=True, buyer_company="Muster GmbH",
                       buyer_vat="DE123456789", purchase_order_number="PO-9", seller_order_id="S-1",
                       items=[{"sku": "B", "qty": 2, "price": "119.00", "tax": "19.00",
                               "gift_wrap": "2.38", "gift_wrap_tax": "0.38", "gift_message": "Hi",
                               "promotion": "11.90", "promotion_tax": "1.90"}])
    scenario.add_order(marketplace_id=UK, status="Shipped", is_prime=True,
                       items=[{"sku": "C", "price": "12.00", "tax": "2.00", "shipping": "3.60",
                               "shipping_tax": "0.60", "shipping_discount": "3.60"}])
    with Emulator(scenario, rate_scale=200) as emulator:
        adapter = make_client(emulator).orders()
        payloads = list(adapter.list_orders([US, DE, UK], created_after=AFTER,
                                            included_data=INCLUDED_DATA_IMPORT))
    assert len(payloads) == len(scenario.orders)
    for payload in payloads:
        new = order_from_payload(payload)
        entry = scenario.orders[new.order_id]
        old = from_orders_api(entry["order"], entry["items"])
        if old.status == "Shipped":   # 2026-01-01 withholds the phone of shipped orders
            assert not new.ship_to.phone
            old.ship_to.phone = ""
        assert new == old, new.order_id
        assert new.total(price_includes_tax=new.marketplace_id != US) == new.amazon_total


def test_proceeds_fill_every_money_field():
    example = model_example()
    order = order_from_payload(example)
    assert order.order_id == "123-4567890-1234567" and order.priced
    first, second = order.items
    assert (first.sku, first.asin, first.order_item_id, first.quantity) == (
        "ECHO-DOT-4-CHARCOAL", "B08N5WRWNW", "12345678901234", 2)
    assert first.item_price == Decimal("99.98") and first.item_tax == Decimal("0.02")
    assert second.item_price == Decimal("49.99") and second.item_tax == 0
    assert first.gift_message.startswith("Happy Holidays")
    # The delivery tip is charged apart from the goods.
    assert order.amazon_total == Decimal("149.99")
    assert order.programs == ["PRIME", "AMAZON_BUSINESS"] and order.is_business and order.is_prime
    assert order.aliases == ["SELLER-ORDER-2024-001"]
    assert order.ship_by_date == datetime(2024, 12, 27, 23, 59, 59)
    assert order.deliver_by_date == datetime(2024, 12, 30, 23, 59, 59)
    assert order.status == "Shipped" and order.fulfillment_channel == "MFN"
    assert order.marketplace_id == "ATVPDKIKX0DER" and order.sales_channel == "Amazon.com"
    assert order.cancellation == {"by": "MERCHANT", "reason": "Buyer requested cancellation",
                                  "requested": False}
    # Every breakdown and sub-breakdown lands in its field.
    usd = lambda amount: {"amount": amount, "currencyCode": "EUR"}  # noqa: E731
    item = copy.deepcopy(example["orderItems"][1])
    item["proceeds"] = {"proceedsTotal": usd("128.52"), "breakdowns": [
        {"type": "ITEM", "subtotal": usd("119.00")},
        {"type": "SHIPPING", "subtotal": usd("5.95")},
        {"type": "GIFT_WRAP", "subtotal": usd("2.38")},
        {"type": "TAX", "subtotal": usd("18.53"), "detailedBreakdowns": [
            {"subtype": "ITEM", "value": usd("19.00")}, {"subtype": "SHIPPING", "value": usd("0.95")},
            {"subtype": "GIFT_WRAP", "value": usd("0.38")}, {"subtype": "DISCOUNT", "value": usd("-1.80")}]},
        {"type": "DISCOUNT", "subtotal": usd("-16.95"), "detailedBreakdowns": [
            {"subtype": "ITEM", "value": usd("-11.00")}, {"subtype": "SHIPPING", "value": usd("-5.95")}]}]}
    payload = dict(example, orderItems=[item], proceeds={"grandTotal": usd("109.43")})
    (it,) = order_from_payload(payload).items
    assert (it.item_price, it.shipping_price, it.gift_wrap_price) == (
        Decimal("119.00"), Decimal("5.95"), Decimal("2.38"))
    assert (it.item_tax, it.shipping_tax, it.gift_wrap_tax, it.promotion_discount_tax) == (
        Decimal("19.00"), Decimal("0.95"), Decimal("0.38"), Decimal("1.80"))
    assert (it.promotion_discount, it.shipping_discount) == (Decimal("11.00"), Decimal("5.95"))
    assert order_from_payload(payload).currency == "EUR"
    # A TAX breakdown without sub-breakdowns is the item's tax.
    item["proceeds"]["breakdowns"] = [{"type": "ITEM", "subtotal": usd("10.00")},
                                      {"type": "TAX", "subtotal": usd("0.83")}]
    (it,) = order_from_payload(dict(example, orderItems=[item])).items
    assert it.item_tax == Decimal("0.83") and it.shipping_tax == 0


def test_business_order():
    payload = copy.deepcopy(model_example())
    payload["tax"] = {"taxRegistrations": [
        {"entityType": "BUYER", "taxRegistrationType": "VAT", "taxRegistrationNumber": "DE811907980"},
        {"entityType": "MARKETPLACE", "taxRegistrationType": "VAT", "taxRegistrationNumber": "DE814584193"}]}
    order = order_from_payload(payload)
    assert order.is_business and "AMAZON_BUSINESS" in order.programs
    assert order.buyer.company == "Smith Industries LLC"
    assert order.purchase_order_number == "PO-2024-12345"
    assert order.buyer_tax_ids == ["DE811907980"], "only the buyer's registration"
    assert order.ship_to.name == "John Smith" and order.ship_to.street2 == "Suite 456"
    back = Order.from_dict(json.loads(json.dumps(order.to_dict())))
    assert back == order, "the normalised order survives a queue payload"


def test_order_without_proceeds_is_refused_clearly():
    payload = copy.deepcopy(model_example())
    for item in payload["orderItems"]:
        item.pop("proceeds")
    with pytest.raises(NormalizeError) as exc:
        order_from_payload(payload)
    message = str(exc.value)
    assert "no proceeds" in message and "12345678901234" in message and "123-4567890-1234567" in message
    with pytest.raises(NormalizeError):
        order_from_payload({"orderItems": []})
    with pytest.raises(NormalizeError):
        order_from_payload(dict(payload, orderId="1", createdTime="yesterday"))


def test_payload_helpers_read_both_versions():
    v2026 = model_example()
    scenario = Scenario()
    v0 = scenario.orders[scenario.add_order(marketplace_id=DE, items=[{"sku": "A", "price": "1.00"}])]["order"]
    assert payload_order_id(v2026) == "123-4567890-1234567"
    assert payload_marketplace_id(v2026) == "ATVPDKIKX0DER"
    assert payload_order_id(v0) == v0["AmazonOrderId"] and payload_marketplace_id(v0) == DE
    normalised = order_from_payload(v0).to_dict()
    assert payload_order_id(normalised) == v0["AmazonOrderId"] and payload_marketplace_id(normalised) == DE
    assert not order_from_payload(v0).priced, "a v0 header has no items"
    assert payload_order_id({}) == "" and payload_marketplace_id({}) == ""
