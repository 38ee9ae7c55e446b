"""Listings Items and Feeds against the emulator: the adapters, and the
emulator's answers checked against Amazon's models and feed schemas."""
import gzip
import json

import httpx
import jsonschema
import pytest
from conftest import shared_path

from services import errors
from services.const import FEED_CONTENT_TYPE_JSON, FEED_JSON_LISTINGS
from services.listings_adapter import ListingNotFound
from services.listings_feed import FeedMessage, parse_report, quantity_feed

US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"
SELLER = "A2TESTMERCHANT"


def _model(name, definition):
    with open(shared_path("models", name)) as fh:
        spec = json.load(fh)
    return {"$ref": "#/definitions/%s" % definition, "definitions": spec["definitions"]}


def _schema(name):
    with open(shared_path("schemas", name)) as fh:
        return json.load(fh)


@pytest.fixture
def token(emulator):
    client_id, secret = next(iter(emulator.apps.items()))
    res = httpx.post(emulator.url + "/auth/o2/token", data={
        "grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
        "refresh_token": next(iter(emulator.refresh_tokens))})
    return res.json()["access_token"]


def _feed_until_done(feeds, feed_id):
    status = feeds.status(feed_id)
    while status.state == "pending":
        status = feeds.status(feed_id)
    return status


def test_listings_answers_match_the_model(emulator, token):
    emulator.add_listing("SKU-1", US, product_type="LUGGAGE", quantity=3, lead_time=2)
    headers = {"x-amz-access-token": token}
    url = emulator.url + "/listings/2021-08-01/items/%s/SKU-1" % SELLER
    got = httpx.get(url, params={"marketplaceIds": US, "includedData": "summaries"}, headers=headers)
    assert got.status_code == 200
    jsonschema.Draft4Validator(_model("listingsItems_2021-08-01.json", "Item")).validate(got.json())
    assert got.json()["summaries"][0]["productType"] == "LUGGAGE"
    body = {"productType": "LUGGAGE", "patches": [{"op": "merge", "path": "/attributes/fulfillment_availability",
                                                   "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}]}]}
    patched = httpx.patch(url, params={"marketplaceIds": US}, json=body, headers=headers)
    jsonschema.Draft4Validator(_model("listingsItems_2021-08-01.json",
                                      "ListingsItemSubmissionResponse")).validate(patched.json())
    assert patched.json()["status"] == "ACCEPTED"
    # merge kept the handling time
    assert emulator.listing_attribute("SKU-1", US) == [
        {"fulfillment_channel_code": "DEFAULT", "quantity": 7, "lead_time_to_ship_max_days": 2}]
    # productType is required: 400 with Amazon's error list
    bad = httpx.patch(url, params={"marketplaceIds": US}, json={"patches": body["patches"]}, headers=headers)
    assert bad.status_code == 400
    jsonschema.Draft4Validator(_model("listingsItems_2021-08-01.json", "ErrorList")).validate(bad.json())
    # a negative or fractional quantity is INVALID, nothing changes
    for qty in (-1, 2.5, "3", True):
        body["patches"][0]["value"][0]["quantity"] = qty
        answer = httpx.patch(url, params={"marketplaceIds": US}, json=body, headers=headers).json()
        assert answer["status"] == "INVALID" and answer["issues"][0]["severity"] == "ERROR"
    assert emulator.listing_quantity("SKU-1", US) == 7
    search = httpx.get(emulator.url + "/listings/2021-08-01/items/%s" % SELLER, headers=headers, params={
        "marketplaceIds": US, "identifiers": "SKU-1,NOPE", "identifiersType": "SKU", "pageSize": 20})
    jsonschema.Draft4Validator(_model("listingsItems_2021-08-01.json", "ItemSearchResults")).validate(search.json())
    assert [i["sku"] for i in search.json()["items"]] == ["SKU-1"]
    missing = httpx.get(emulator.url + "/listings/2021-08-01/items/%s/NOPE" % SELLER,
                        params={"marketplaceIds": US}, headers=headers)
    assert missing.status_code == 404


def test_listings_adapter(client, emulator):
    emulator.add_listing("SKU-1", US, product_type="SHOES")
    listings = client.listings(SELLER)
    assert listings.product_type("SKU-1", US) == "SHOES"
    with pytest.raises(ListingNotFound):
        listings.product_type("SKU-1", CA)
    answer = listings.set_quantity("SKU-1", US, "SHOES", 12)
    assert answer.accepted and emulator.listing_quantity("SKU-1", US) == 12
    unknown = listings.set_quantity("NOPE", US, "SHOES", 1)
    assert not unknown.accepted
    assert unknown.errors and "does not match any listing" in unknown.errors[0].message
    wrong_type = listings.set_quantity("SKU-1", US, "LUGGAGE", 1)
    assert not wrong_type.accepted and emulator.listing_quantity("SKU-1", US) == 12
    with pytest.raises(ValueError):
        listings.set_quantity("SKU-1", US, "SHOES", -1)
    for n in range(30):
        emulator.add_listing("MANY-%02d" % n, US, product_type="T%d" % (n % 3))
    calls = client.calls["searchListingsItems"]
    types = listings.product_types(["MANY-%02d" % n for n in range(30)] + ["NOPE"], US)
    assert client.calls["searchListingsItems"] - calls == 2, "20 SKUs a call"
    assert len(types) == 30 and types["MANY-04"] == "T1" and "NOPE" not in types


def test_feed_life_cycle_and_processing_report(client, emulator):
    emulator.add_listing("A", US, product_type="P", quantity=1)
    emulator.add_listing("B", US, product_type="P", quantity=1)
    emulator.reject_sku("B", "The listing is suppressed.")
    body = quantity_feed(SELLER, [FeedMessage(1, "A", "P", 5), FeedMessage(2, "B", "P", 6),
                                  FeedMessage(3, "GHOST", "P", 7)])
    jsonschema.Draft7Validator(_schema("listings-feed-schema-v2.json")).validate(json.loads(body))
    feeds = client.feeds()
    feed_id = feeds.submit(FEED_JSON_LISTINGS, [US], body, FEED_CONTENT_TYPE_JSON)
    status = _feed_until_done(feeds, feed_id)
    assert status.state == "done" and status.result_document_id
    text = feeds.result(status.result_document_id)
    jsonschema.Draft7Validator(_schema("listings-feed-processing-report-schema-v2.json")).validate(
        json.loads(text))
    report = parse_report(text)
    assert report.summary["messagesAccepted"] == 1 and report.summary["messagesInvalid"] == 2
    assert not report.errors_of(1)
    assert "suppressed" in report.errors_of(2)[0].message
    assert "does not match any listing" in report.errors_of(3)[0].message
    assert emulator.listing_quantity("A", US) == 5
    assert emulator.listing_quantity("B", US) == 1


def test_fatal_feed_applies_nothing(client, emulator):
    emulator.add_listing("A", US, product_type="P", quantity=1)
    emulator.script_next_feed("FATAL")
    feeds = client.feeds()
    feed_id = feeds.submit(FEED_JSON_LISTINGS, [US], quantity_feed(SELLER, [FeedMessage(1, "A", "P", 9)]),
                           FEED_CONTENT_TYPE_JSON)
    status = _feed_until_done(feeds, feed_id)
    assert status.state == "fatal"
    report = parse_report(feeds.result(status.result_document_id))
    assert report.general_errors
    assert emulator.listing_quantity("A", US) == 1


def test_feed_rules(client, emulator, token):
    headers = {"x-amz-access-token": token}
    # the removed inventory feeds are refused (by the adapter and by Amazon)
    with pytest.raises(ValueError):
        client.feeds().submit("POST_INVENTORY_AVAILABILITY_DATA", [US], b"x", "text/xml")
    doc = httpx.post(emulator.url + "/feeds/2021-06-30/documents", json={"contentType": "text/xml"},
                     headers=headers).json()
    jsonschema.Draft4Validator(_model("feeds_2021-06-30.json", "CreateFeedDocumentResponse")).validate(doc)
    refused = httpx.post(emulator.url + "/feeds/2021-06-30/feeds", headers=headers, json={
        "feedType": "POST_INVENTORY_AVAILABILITY_DATA", "marketplaceIds": [US],
        "inputFeedDocumentId": doc["feedDocumentId"]})
    assert refused.status_code == 400
    # the presigned URL checks the Content-Type it was signed for
    wrong = httpx.put(doc["url"], content=b"{}", headers={"Content-Type": "application/json"})
    assert wrong.status_code == 403
    # a feed whose document was never uploaded ends FATAL
    feed = httpx.post(emulator.url + "/feeds/2021-06-30/feeds", headers=headers, json={
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [US],
        "inputFeedDocumentId": doc["feedDocumentId"]})
    assert feed.status_code == 202
    jsonschema.Draft4Validator(_model("feeds_2021-06-30.json", "CreateFeedResponse")).validate(feed.json())
    for _ in range(3):
        got = httpx.get(emulator.url + "/feeds/2021-06-30/feeds/%s" % feed.json()["feedId"], headers=headers)
        jsonschema.Draft4Validator(_model("feeds_2021-06-30.json", "Feed")).validate(got.json())
    assert got.json()["processingStatus"] == "FATAL"
    result = httpx.get(emulator.url + "/feeds/2021-06-30/documents/%s" % got.json()["resultFeedDocumentId"],
                       headers=headers).json()
    jsonschema.Draft4Validator(_model("feeds_2021-06-30.json", "FeedDocument")).validate(result)
    raw = httpx.get(result["url"]).content
    assert "never uploaded" in gzip.decompress(raw).decode()


def test_listings_rate_limits(client, emulator):
    emulator.add_listing("A", US, product_type="P")
    emulator.rate_scale = 0.001  # Amazon's burst only: 5 patches, then 429
    emulator.reset_quota()
    client.max_retries = 0
    listings = client.listings(SELLER)
    client.limiter.limits["patchListingsItem"] = (1000.0, 1000)   # our side does not wait
    answers = []
    for qty in range(7):
        try:
            answers.append(listings.set_quantity("A", US, "P", qty).status)
        except errors.AmazonThrottled:
            answers.append("429")
    assert answers.count("ACCEPTED") == 5 and answers.count("429") == 2


def test_processing_report_reader():
    text = json.dumps({"header": {"sellerId": SELLER, "version": "2.0", "feedId": "1"},
                       "issues": [{"messageId": 2, "sku": "B", "code": "90220", "severity": "ERROR",
                                   "message": "bad"},
                                  {"messageId": 2, "sku": "B", "severity": "WARNING", "message": "meh"},
                                  {"severity": "ERROR", "message": "whole feed"}],
                       "summary": {"errors": 2, "warnings": 1, "messagesProcessed": 2,
                                   "messagesAccepted": 1, "messagesInvalid": 1}})
    report = parse_report(text)
    assert [str(i) for i in report.errors_of(2)] == ["[90220] bad"], "warnings are not rejections"
    assert not report.errors_of(1)
    assert [i.message for i in report.general_errors] == ["whole feed"]
    with pytest.raises(errors.AmazonDocumentError):
        parse_report("<xml/>")
    with pytest.raises(errors.AmazonDocumentError):
        parse_report("{}")
