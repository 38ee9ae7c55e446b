"""Parsers against Amazon's header variants and document encodings."""
import gzip
import os
from decimal import Decimal

import pytest
from conftest import shared_path

from services import errors, pricing, report_parser
from services.document_stream import decode_document
from services.normalize import Order, from_orders_api

FLAT = shared_path("flatfile")


def header(name):
    with open(os.path.join(FLAT, name), encoding="utf-8") as fh:
        return fh.readline().rstrip("\n").split("\t")


def row_for(columns, values):
    return "\t".join(values.get(col, "") for col in columns)


UNSHIPPED_HEADERS = [
    "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING.header.documented.tsv",
    "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING.header.observed-2025-IN.tsv",
    "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA.header.mws-era.tsv",
]


@pytest.mark.parametrize("name", UNSHIPPED_HEADERS)
def test_unshipped_header_variants(name):
    cols = header(name)
    rows = [
        {"order-id": "111-1", "order-item-id": "A1", "purchase-date": "2026-11-20T10:00:00+00:00",
         "buyer-email": "x@marketplace.amazon.com", "buyer-name": "Ada", "sku": "SKU-1",
         "product-name": "Thing", "quantity-purchased": "2", "recipient-name": "Ada L",
         "ship-address-1": "1 Road", "ship-city": "Seattle", "ship-state": "WA",
         "ship-postal-code": "98101", "ship-country": "us", "is-business-order": "false"},
        {"order-id": "111-1", "order-item-id": "A2", "purchase-date": "2026-11-20T10:00:00+00:00",
         "sku": "SKU-2", "quantity-purchased": "1", "ship-country": "US"},
    ]
    text = "\t".join(cols) + "\n" + "\n".join(row_for(cols, r) for r in rows) + "\n"
    parsed = report_parser.parse_unshipped(text, "ATVPDKIKX0DER")
    assert not parsed.errors
    order = parsed.orders["111-1"]
    assert [i.sku for i in order.items] == ["SKU-1", "SKU-2"]
    assert order.items[0].quantity == 2
    assert order.ship_to.city == "Seattle" and order.ship_to.country_code == "US"
    assert order.purchase_date.isoformat() == "2026-11-20T10:00:00"
    assert not order.priced


def test_bad_rows_are_reported_good_rows_kept():
    cols = header(UNSHIPPED_HEADERS[0])
    good = {"order-id": "111-2", "purchase-date": "2026-11-20T10:00:00+00:00", "sku": "S",
            "quantity-purchased": "1"}
    bad_date = dict(good, **{"order-id": "111-3", "purchase-date": "yesterday"})
    bad_qty = dict(good, **{"order-id": "111-4", "quantity-purchased": "two"})
    text = "\n".join(["\t".join(cols), row_for(cols, good), row_for(cols, bad_date),
                      row_for(cols, bad_qty), "111-5\tcut"]) + "\n"
    parsed = report_parser.parse_unshipped(text, "ATVPDKIKX0DER")
    assert list(parsed.orders) == ["111-2"]
    messages = {ref: msg for _n, ref, msg in parsed.errors}
    assert "does not parse" in messages["111-3"]
    assert "not a whole number" in messages["111-4"]
    assert any("truncated" in msg for _n, _ref, msg in parsed.errors)


def test_all_orders_scrubbed_sample_and_gzip():
    with open(os.path.join(FLAT, "GET_FLAT_FILE_ALL_ORDERS_DATA.sample.scrubbed.radutoev-affilitates.tsv"),
              encoding="utf-8") as fh:
        plain = fh.read()
    with open(shared_path("crypto", "all-orders-sample.tsv.gz"), "rb") as fh:
        text = decode_document(fh.read(), "GZIP", None)
    assert text == plain
    prices, info, errs = report_parser.parse_all_orders(text)
    assert not errs
    item = prices[("scrubbed", "scrubbed")]
    assert item.item_price == Decimal("89.95") and item.priced
    assert info["scrubbed"]["channel"] == "Amazon"


@pytest.mark.parametrize("name", [
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL.header.documented.tsv",
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL.header.documented.tsv",
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL.header.amz-tools-35col.tsv",
    "GET_FLAT_FILE_ALL_ORDERS_DATA.header.observed-62col.tsv",
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE.header.caponica-2020-33col.tsv",
])
def test_all_orders_header_variants(name):
    cols = header(name)
    values = {"amazon-order-id": "222-1", "sku": "SKU-9", "quantity": "3", "currency": "EUR",
              "item-price": "30.00", "item-tax": "4.79", "shipping-price": "3.00",
              "item-promotion-discount": "-1.50", "order-status": "Unshipped",
              "fulfillment-channel": "Merchant", "sales-channel": "Amazon.de",
              "purchase-date": "2026-11-20T10:00:00+00:00"}
    text = "\t".join(cols) + "\n" + row_for(cols, values) + "\n"
    prices, info, errs = report_parser.parse_all_orders(text)
    assert not errs
    item = prices[("222-1", "SKU-9")]
    assert (item.quantity, item.item_price, item.promotion_discount) == (3, Decimal("30.00"), Decimal("1.50"))
    if "shipping-price" in cols:
        assert item.shipping_price == Decimal("3.00")
    assert info["222-1"]["channel"] == "Merchant"


@pytest.mark.parametrize("charset,text", [
    ("cp1252", "Café – 5 €"), ("iso-8859-1", "Größe"), ("cp932", "日本語の商品"),
    ("windows-31j", "日本語"), ("utf-8", "Zoë ✓")])
def test_charsets_from_content_type(charset, text):
    body = ("order-id\tsku\n1\t%s\n" % text).encode("cp932" if charset == "windows-31j" else charset)
    assert text in decode_document(gzip.compress(body), "GZIP", charset)
    assert text in decode_document(body, None, charset)


def test_missing_charset_prefers_utf8_then_latin1():
    assert decode_document("Zoë".encode(), None, None) == "Zoë"
    assert decode_document("Zoë".encode("iso-8859-1"), None, None) == "Zoë"


def test_truncated_gzip_is_a_clear_error():
    body = gzip.compress(b"order-id\tsku\n" * 200)
    with pytest.raises(errors.AmazonDocumentError, match="cut short"):
        decode_document(body[: len(body) // 2], "GZIP", "utf-8")


def test_orders_api_samples_and_roundtrip():
    import json
    with open(shared_path("responses", "orders-getOrder.json")) as fh:
        order_json = json.load(fh)["payload"]
    with open(shared_path("responses", "orders-getOrderItems.json")) as fh:
        items_json = json.load(fh)["payload"]["OrderItems"]
    order = from_orders_api(order_json, items_json)
    assert order.order_id == "123-4567890-1234567"
    assert order.fulfillment_channel == "MFN" and order.priced
    assert order.items[0].sku == "gb-mg5-x116440"
    again = Order.from_dict(json.loads(json.dumps(order.to_dict())))
    assert again == order


def test_apply_prices_shares_one_sku_over_items():
    text = ("amazon-order-id\tsku\tquantity\titem-price\titem-tax\n"
            "9\tS\t1\t10.00\t1.00\n9\tS\t2\t20.00\t2.00\n")
    prices, info, errs = report_parser.parse_all_orders(text)
    cols = header(UNSHIPPED_HEADERS[0])
    base = {"order-id": "9", "purchase-date": "2026-11-20T10:00:00+00:00", "sku": "S"}
    unshipped = "\t".join(cols) + "\n" + row_for(cols, dict(base, **{"quantity-purchased": "1"})) + "\n" + \
        row_for(cols, dict(base, **{"quantity-purchased": "2"})) + "\n"
    order = report_parser.parse_unshipped(unshipped, "X").orders["9"]
    assert pricing.apply_prices(order, prices, info)
    assert sum(i.item_price for i in order.items) == Decimal("30.00")
    assert [i.item_price for i in order.items] == [Decimal("10.00"), Decimal("20.00")]
