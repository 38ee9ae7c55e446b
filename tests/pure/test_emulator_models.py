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
