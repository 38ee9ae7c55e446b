"""The emulator's answers validate against Amazon's official models, so it
cannot drift from Amazon without this test failing."""
import json
from datetime import datetime, timedelta, timezone

import httpx
import jsonschema
import pytest
from conftest import shared_path

MODELS = shared_path("models")


def schema_for(model_file, definition):
    with open("%s/%s" % (MODELS, model_file)) as fh:
        spec = json.load(fh)
    return {"$ref": "#/definitions/%s" % definition, "definitions": spec["definitions"]}


def validate(model_file, definition, body):
    jsonschema.Draft4Validator(schema_for(model_file, definition)).validate(body)


@pytest.fixture
def token(emulator):
    client_id, secret = next(iter(emulator.apps.items()))
    res = httpx.post(emulator.url + "/auth/o2/token", data={
        "grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
        "refresh_token": next(iter(emulator.refresh_tokens))})
    assert res.status_code == 200
    return res.json()["access_token"]


def get(emulator, token, path, **params):
    return httpx.get(emulator.url + path, params=params, headers={"x-amz-access-token": token})


def post(emulator, token, path, body):
    return httpx.post(emulator.url + path, json=body, headers={"x-amz-access-token": token})


def test_orders_responses_match_orders_v0(emulator, token):
    after = (datetime.now(timezone.utc) - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rdt = post(emulator, token, "/tokens/2021-03-01/restrictedDataToken", {"restrictedResources": [
        {"method": "GET", "path": "/orders/v0/orders", "dataElements": ["buyerInfo", "shippingAddress"]}]})
    validate("tokens_2021-03-01.json", "CreateRestrictedDataTokenResponse", rdt.json())
    res = get(emulator, rdt.json()["restrictedDataToken"], "/orders/v0/orders",
              MarketplaceIds="ATVPDKIKX0DER", CreatedAfter=after, MaxResultsPerPage=10)
    assert res.status_code == 200
    validate("ordersV0.json", "GetOrdersResponse", res.json())
    assert res.json()["payload"]["NextToken"]
    order_id = res.json()["payload"]["Orders"][0]["AmazonOrderId"]
    items = get(emulator, token, "/orders/v0/orders/%s/orderItems" % order_id)
    validate("ordersV0.json", "GetOrderItemsResponse", items.json())
    one = get(emulator, token, "/orders/v0/orders/%s" % order_id)
    validate("ordersV0.json", "GetOrderResponse", one.json())


def test_reports_responses_match_reports_2021(emulator, token):
    created = post(emulator, token, "/reports/2021-06-30/reports", {
        "reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL", "marketplaceIds": ["ATVPDKIKX0DER"]})
    assert created.status_code == 202
    validate("reports_2021-06-30.json", "CreateReportResponse", created.json())
    report_id = created.json()["reportId"]
    for _ in range(3):
        report = get(emulator, token, "/reports/2021-06-30/reports/%s" % report_id).json()
        validate("reports_2021-06-30.json", "Report", report)
    assert report["processingStatus"] == "DONE"
    doc = get(emulator, token, "/reports/2021-06-30/documents/%s" % report["reportDocumentId"]).json()
    validate("reports_2021-06-30.json", "ReportDocument", doc)
    assert doc["compressionAlgorithm"] == "GZIP"


def test_errors_match_error_list(emulator, token):
    missing = get(emulator, token, "/reports/2021-06-30/reports/nope")
    assert missing.status_code == 404
    validate("reports_2021-06-30.json", "ErrorList", missing.json())
    emulator.enforce_limits = True
    statuses = [post(emulator, token, "/reports/2021-06-30/reports", {
        "reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
        "marketplaceIds": ["ATVPDKIKX0DER"]}) for _ in range(17)]
    throttled = [r for r in statuses if r.status_code == 429]
    assert throttled, "createReport's burst of 15 is enforced"
    body = throttled[0].json()
    validate("reports_2021-06-30.json", "ErrorList", body)
    assert body["errors"][0]["code"] == "QuotaExceeded"
    unauthorized = get(emulator, "bogus", "/orders/v0/orders/x/orderItems")
    assert unauthorized.status_code == 403
    validate("ordersV0.json", "GetOrderItemsResponse", unauthorized.json())


def test_pii_needs_rdt(emulator, token):
    after = (datetime.now(timezone.utc) - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    res = get(emulator, token, "/orders/v0/orders", MarketplaceIds="ATVPDKIKX0DER", CreatedAfter=after)
    order = res.json()["payload"]["Orders"][0]
    assert order["BuyerInfo"] == {}
    assert set(order["ShippingAddress"]) <= {"City", "StateOrRegion", "PostalCode", "CountryCode"}


ALL_INCLUDED = "BUYER,RECIPIENT,PROCEEDS,EXPENSE,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES,TAX,PAYMENT"


def test_orders_2026_responses_match_orders_2026_model(emulator, token):
    """searchOrders / getOrder with every dataset, on plain, shipped, business,
    gift-wrapped and discounted orders of three marketplaces."""
    scenario = emulator.scenario
    scenario.add_order(marketplace_id="A1PA6795UKMFR9", is_business=True, buyer_company="Muster GmbH",
                       buyer_vat="DE123456789", purchase_order_number="PO-77", seller_order_id="MY-1",
                       items=[{"sku": "SKU-B", "qty": 2, "price": "119.00", "tax": "19.00",
                               "gift_wrap": "2.38", "gift_wrap_tax": "0.38", "gift_message": "Happy day",
                               "promotion": "11.90", "promotion_tax": "1.90"}])
    scenario.add_order(marketplace_id="A1F83G8C2ARO7P", status="Shipped", is_prime=True,
                       items=[{"sku": "SKU-C", "price": "12.00", "tax": "2.00",
                               "shipping": "3.60", "shipping_tax": "0.60", "shipping_discount": "3.60"}])
    after = (datetime.now(timezone.utc) - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = get(emulator, token, "/orders/2026-01-01/orders", createdAfter=after,
                marketplaceIds="ATVPDKIKX0DER,A1PA6795UKMFR9,A1F83G8C2ARO7P", fulfilledBy="MERCHANT",
                includedData=ALL_INCLUDED, maxResultsPerPage=20)
    assert first.status_code == 200, first.text
    validate("orders_2026-01-01.json", "SearchOrdersResponse", first.json())
    assert first.json()["pagination"]["nextToken"] and first.json()["createdBefore"]
    second = get(emulator, token, "/orders/2026-01-01/orders", createdAfter=after,
                 marketplaceIds="ATVPDKIKX0DER,A1PA6795UKMFR9,A1F83G8C2ARO7P", fulfilledBy="MERCHANT",
                 includedData=ALL_INCLUDED, maxResultsPerPage=20,
                 paginationToken=first.json()["pagination"]["nextToken"])
    assert second.status_code == 200, second.text
    validate("orders_2026-01-01.json", "SearchOrdersResponse", second.json())
    orders = first.json()["orders"] + second.json()["orders"]
    assert len(orders) == len(scenario.orders) and "pagination" not in second.json()
    business = next(o for o in orders if "AMAZON_BUSINESS" in o["programs"])
    assert business["buyer"]["buyerCompanyName"] == "Muster GmbH"
    assert business["tax"]["taxRegistrations"][0]["taxRegistrationNumber"] == "DE123456789"
    for order in orders:
        one = get(emulator, token, "/orders/2026-01-01/orders/%s" % order["orderId"], includedData=ALL_INCLUDED)
        assert one.status_code == 200
        validate("orders_2026-01-01.json", "GetOrderResponse", one.json())
        assert one.json()["order"] == order, "searchOrders and getOrder tell the same story"
    missing = get(emulator, token, "/orders/2026-01-01/orders/nope")
    assert missing.status_code == 404
    validate("orders_2026-01-01.json", "ErrorList", missing.json())
    bad = get(emulator, token, "/orders/2026-01-01/orders", createdAfter=after, lastUpdatedAfter=after)
    assert bad.status_code == 400
    validate("orders_2026-01-01.json", "ErrorList", bad.json())


def test_v0_reads_retired_answer_errors_confirm_shipment_works(emulator, token):
    order_id = next(iter(emulator.scenario.orders))
    emulator.v0_reads_retired = True
    after = (datetime.now(timezone.utc) - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for path, params in (("/orders/v0/orders", {"MarketplaceIds": "ATVPDKIKX0DER", "CreatedAfter": after}),
                         ("/orders/v0/orders/%s" % order_id, {}),
                         ("/orders/v0/orders/%s/orderItems" % order_id, {}),
                         ("/orders/v0/orders/%s/address" % order_id, {}),
                         ("/orders/v0/orders/%s/buyerInfo" % order_id, {})):
        res = get(emulator, token, path, **params)
        assert res.status_code == 404, path
        validate("ordersV0.json", "GetOrdersResponse", res.json())
        assert "retired" in res.json()["errors"][0]["message"]
    items = [{"orderItemId": it["OrderItemId"], "quantity": it["QuantityOrdered"]}
             for it in emulator.scenario.orders[order_id]["items"]]
    confirmed = post(emulator, token, "/orders/v0/orders/%s/shipmentConfirmation" % order_id, {
        "marketplaceId": "ATVPDKIKX0DER", "packageDetail": {
            "packageReferenceId": "1", "carrierCode": "UPS", "trackingNumber": "1Z1",
            "shipDate": after, "orderItems": items}})
    assert confirmed.status_code == 204
    searched = get(emulator, token, "/orders/2026-01-01/orders", createdAfter=after)
    assert searched.status_code == 200
    emulator.v0_reads_retired = False
    res = get(emulator, token, "/orders/v0/orders/%s/address" % order_id)
    validate("ordersV0.json", "GetOrderAddressResponse", res.json())
    res = get(emulator, token, "/orders/v0/orders/%s/buyerInfo" % order_id)
    validate("ordersV0.json", "GetOrderBuyerInfoResponse", res.json())
