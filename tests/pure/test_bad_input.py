"""Bad input corpus: each case is rejected with a clear message at the smallest
scope (row, order, file) while every good row still parses.

``UNSHIPPED`` cases go through ``parse_unshipped``, ``ALL_ORDERS`` cases
through ``parse_all_orders`` and ``pricing.apply_prices``, ``ORDERS_API`` cases
through the Orders API normaliser. The Odoo end-to-end half (unknown
marketplace or currency, HTML instead of a report, an order split over two
documents...) is ``tests/test_bad_input.py``.
"""
from decimal import Decimal

import pytest

from services import pricing, report_parser
from services.normalize import NormalizeError, Order, from_orders_api, item_from_orders_api

U_COLS = ("order-id", "order-item-id", "purchase-date", "payments-date", "buyer-email", "buyer-name",
          "buyer-phone-number", "sku", "product-name", "quantity-purchased", "quantity-shipped",
          "quantity-to-ship", "recipient-name", "ship-address-1", "ship-city", "ship-state",
          "ship-postal-code", "ship-country", "is-business-order")


def u_row(order_id="111-0000001-0000001", item="I1", sku="SKU-1", qty="1", date="2026-11-20T10:00:00+00:00",
          **extra):
    row = {"order-id": order_id, "order-item-id": item, "purchase-date": date, "payments-date": date,
           "buyer-email": "b@marketplace.amazon.com", "buyer-name": "Ada", "sku": sku,
           "product-name": "Thing", "quantity-purchased": qty, "quantity-shipped": "0",
           "quantity-to-ship": qty, "recipient-name": "Ada L", "ship-address-1": "1 Road",
           "ship-city": "Seattle", "ship-state": "WA", "ship-postal-code": "98101", "ship-country": "US",
           "is-business-order": "false"}
    row.update({k.replace("_", "-"): v for k, v in extra.items()})
    return row


def tsv(rows, cols=U_COLS):
    return "\t".join(cols) + "\n" + "".join("\t".join(r.get(c, "") for c in cols) + "\n" for r in rows)


GOOD = u_row("111-0000009-0000009", "G1", "GOOD-SKU")


def parse(text):
    return report_parser.parse_unshipped(text, "ATVPDKIKX0DER")


def messages(parsed):
    return " | ".join(msg for _line, _ref, msg in parsed.errors)


# ------------------------------------------------------------ whole file
@pytest.mark.parametrize("text, expect", [
    ("", "empty"),
    ("\n\n  \n", "empty"),
    ("<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head><body>Sorry</body></html>\n",
     "HTML page"),
    ('{"errorDetails": "Report request could not be processed"}\n', "not an order report"),
    ("order-item-id\tsku\tquantity-purchased\nI1\tS\t1\n", "no order-id column"),
    ("order-id\torder-item-id\tpurchase-date\tquantity-purchased\n111-1\tI1\t2026-11-20\t1\n",
     "no sku column"),
    ("order-id\tsku\tpurchase-date\n111-1\tS\t2026-11-20T10:00:00Z\n", "no quantity-purchased column"),
], ids=["empty", "blank-lines", "html-error-page", "json-error", "no-order-id", "no-sku", "no-quantity"])
def test_file_level_rejections(text, expect):
    parsed = parse(text)
    assert not parsed.orders
    assert len(parsed.errors) == 1 and parsed.errors[0][0] == 1, parsed.errors
    assert expect in parsed.errors[0][2]


def test_header_only_is_nothing_to_import_not_an_error():
    parsed = parse("\t".join(U_COLS) + "\n")
    assert not parsed.orders and not parsed.errors


# ------------------------------------------------------------ columns
def test_shuffled_columns():
    cols = list(reversed(U_COLS))
    parsed = parse(tsv([u_row(), GOOD], cols))
    assert not parsed.errors and len(parsed.orders) == 2
    assert parsed.orders["111-0000001-0000001"].ship_to.city == "Seattle"


def test_extra_unknown_columns_are_ignored():
    cols = list(U_COLS) + ["new-column-2027", "another"]
    rows = [dict(u_row(), **{"new-column-2027": "x", "another": "y"}), GOOD]
    parsed = parse(tsv(rows, cols))
    assert not parsed.errors and len(parsed.orders) == 2


def test_missing_optional_columns():
    cols = ["order-id", "purchase-date", "sku", "quantity-purchased"]
    parsed = parse(tsv([u_row(), GOOD], cols))
    assert not parsed.errors and len(parsed.orders) == 2
    assert parsed.orders["111-0000001-0000001"].buyer.email == ""


def test_header_case_spaces_bom_and_crlf():
    text = "\ufeff" + tsv([u_row(), GOOD]).replace("order-id", " Order-ID ").replace("\n", "\r\n")
    parsed = parse(text)
    assert not parsed.errors and len(parsed.orders) == 2


# ------------------------------------------------------------ rows
@pytest.mark.parametrize("bad, expect", [
    (u_row(date="yesterday"), "does not parse"),
    (u_row(date="20/11/2026 10:00"), "does not parse"),
    (u_row(date=""), "purchase date is empty"),
    (u_row(qty="two"), "not a whole number"),
    (u_row(qty="1.5"), "not a whole number"),
    (u_row(qty="-1"), "negative"),
    (u_row(sku=""), "sku is empty"),
    (u_row(quantity_shipped="x"), "quantity-shipped"),
], ids=["date-words", "date-dmy", "date-empty", "qty-words", "qty-decimal", "qty-negative", "sku-empty",
        "shipped-bad"])
def test_bad_row_fails_its_order_only(bad, expect):
    other_item_same_order = u_row(item="I2", sku="SKU-2")
    parsed = parse(tsv([bad, other_item_same_order, GOOD]))
    assert expect in messages(parsed)
    assert parsed.errors[0][0] == 2 and parsed.errors[0][1] == "111-0000001-0000001"
    assert "111-0000001-0000001" not in parsed.orders, "an order is never imported half"
    assert list(parsed.orders) == [GOOD["order-id"]]


def test_row_without_order_id_fails_alone():
    parsed = parse(tsv([u_row(order_id=""), GOOD]))
    assert "order-id is empty" in messages(parsed) and list(parsed.orders) == [GOOD["order-id"]]


def test_truncated_line_fails_alone():
    text = tsv([GOOD]) + "111-0000002-0000002\tI1\t2026-11-20\n"
    parsed = parse(text)
    assert "truncated" in messages(parsed) and list(parsed.orders) == [GOOD["order-id"]]


def test_sku_with_spaces_and_unicode_is_kept_as_amazon_wrote_it():
    rows = [u_row(sku="  MY SKU 1 "), u_row(order_id="111-0000003-0000003", sku="CAFÉ-ü-①"), GOOD]
    parsed = parse(tsv(rows))
    assert not parsed.errors
    assert parsed.orders["111-0000001-0000001"].items[0].sku == "MY SKU 1"
    assert parsed.orders["111-0000003-0000003"].items[0].sku == "CAFÉ-ü-①"


def test_duplicated_row_counts_once():
    parsed = parse(tsv([u_row(qty="2"), u_row(qty="2"), GOOD]))
    assert not parsed.errors
    order = parsed.orders["111-0000001-0000001"]
    assert [(i.sku, i.quantity) for i in order.items] == [("SKU-1", 2)]


def test_same_item_id_twice_with_different_content_fails_the_order():
    parsed = parse(tsv([u_row(qty="2"), u_row(qty="3"), GOOD]))
    assert "I1" in messages(parsed) and "twice" in messages(parsed)
    assert list(parsed.orders) == [GOOD["order-id"]]


def test_one_sku_twice_in_an_order_is_two_items():
    parsed = parse(tsv([u_row(item="I1", qty="1"), u_row(item="I2", qty="2"), GOOD]))
    assert not parsed.errors
    assert [(i.order_item_id, i.quantity) for i in parsed.orders["111-0000001-0000001"].items] == [
        ("I1", 1), ("I2", 2)]


def test_order_split_over_two_documents_parses_in_each():
    first = parse(tsv([u_row(item="I1", sku="SKU-1")]))
    second = parse(tsv([u_row(item="I2", sku="SKU-2"), GOOD]))
    assert not first.errors and not second.errors
    assert [i.sku for i in first.orders["111-0000001-0000001"].items] == ["SKU-1"]
    assert [i.sku for i in second.orders["111-0000001-0000001"].items] == ["SKU-2"]


def test_undated_time_is_utc():
    parsed = parse(tsv([u_row(date="2026-11-20 10:00:00")]))
    assert not parsed.errors
    assert parsed.orders["111-0000001-0000001"].purchase_date.isoformat() == "2026-11-20T10:00:00"


# ------------------------------------------------------------ All Orders (prices)
A_COLS = ["amazon-order-id", "purchase-date", "order-status", "fulfillment-channel", "sales-channel",
          "sku", "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price",
          "shipping-tax", "item-promotion-discount"]


def a_row(order_id="111-0000001-0000001", sku="SKU-1", qty="1", price="10.00", **extra):
    row = {"amazon-order-id": order_id, "purchase-date": "2026-11-20T10:00:00+00:00",
           "order-status": "Unshipped", "fulfillment-channel": "Merchant", "sales-channel": "Amazon.com",
           "sku": sku, "item-status": "Unshipped", "quantity": qty, "currency": "USD",
           "item-price": price, "item-tax": "0.83", "shipping-price": "", "shipping-tax": "",
           "item-promotion-discount": ""}
    row.update({k.replace("_", "-"): v for k, v in extra.items()})
    return row


A_GOOD = a_row("111-0000009-0000009", "GOOD-SKU")


def prices_of(rows):
    return report_parser.parse_all_orders(tsv(rows, A_COLS))


@pytest.mark.parametrize("bad, expect", [
    (a_row(price="ten"), "item-price"),
    (a_row(price="$10.00"), "item-price"),
    (a_row(price="NaN"), "item-price"),
    (a_row(price="Infinity"), "item-price"),
    (a_row(qty="-2"), "negative"),
    (a_row(item_tax="1.2.3"), "item-tax"),
], ids=["price-words", "price-symbol", "price-nan", "price-infinity", "qty-negative", "tax-two-dots"])
def test_bad_price_row_unprices_its_whole_order(bad, expect):
    # The order's other SKU priced alone would make a wrong total: the whole
    # order is left to another price source (getOrderItems) instead.
    prices, info, errors = prices_of([bad, a_row(sku="SKU-2"), A_GOOD])
    assert expect in " | ".join(m for _n, _o, m in errors)
    assert ("111-0000001-0000001", "SKU-2") not in prices
    assert ("111-0000009-0000009", "GOOD-SKU") in prices
    assert "111-0000001-0000001" not in info


def test_decimal_comma_is_read():
    prices, _info, errors = prices_of([a_row(price="12,34")])
    assert not errors and prices[("111-0000001-0000001", "SKU-1")].item_price == Decimal("12.34")


def test_duplicated_price_rows_do_not_double_the_price():
    """The All Orders report has no order item id: two identical rows may be one
    SKU on two order items, or one row twice. The quantity tells them apart when
    the order is priced: a report that disagrees with the order prices nothing."""
    prices, info, errors = prices_of([a_row(qty="1"), a_row(qty="1")])
    assert not errors
    order = Order(order_id="111-0000001-0000001", items=[
        report_parser.Item(sku="SKU-1", quantity=1, order_item_id="I1")])
    pricing.apply_prices(order, prices, info)
    assert not order.priced, "quantity 2 in the report, 1 ordered: not priced from the report"


def test_one_sku_on_two_items_shares_the_price():
    prices, info, _errors = prices_of([a_row(qty="1", price="10.00"), a_row(qty="2", price="20.00")])
    order = Order(order_id="111-0000001-0000001", items=[
        report_parser.Item(sku="SKU-1", quantity=1, order_item_id="I1"),
        report_parser.Item(sku="SKU-1", quantity=2, order_item_id="I2")])
    assert pricing.apply_prices(order, prices, info)
    assert [i.item_price for i in order.items] == [Decimal("10.00"), Decimal("20.00")]


# ------------------------------------------------------------ Orders API JSON
BASE_ORDER = {"AmazonOrderId": "111-0000001-0000001", "PurchaseDate": "2026-11-20T10:00:00Z",
              "OrderStatus": "Unshipped", "FulfillmentChannel": "MFN", "MarketplaceId": "ATVPDKIKX0DER",
              "OrderTotal": {"CurrencyCode": "USD", "Amount": "10.83"}}
BASE_ITEM = {"OrderItemId": "I1", "SellerSKU": "SKU-1", "QuantityOrdered": 1, "QuantityShipped": 0,
             "ItemPrice": {"CurrencyCode": "USD", "Amount": "10.00"},
             "ItemTax": {"CurrencyCode": "USD", "Amount": "0.83"}}


@pytest.mark.parametrize("order, expect", [
    ({k: v for k, v in BASE_ORDER.items() if k != "AmazonOrderId"}, "AmazonOrderId"),
    ({k: v for k, v in BASE_ORDER.items() if k != "PurchaseDate"}, "purchase date is empty"),
    (dict(BASE_ORDER, PurchaseDate="not a date"), "does not parse"),
    (dict(BASE_ORDER, OrderTotal={"CurrencyCode": "USD", "Amount": "ten"}), "not a number"),
], ids=["no-order-id", "no-purchase-date", "bad-purchase-date", "bad-total"])
def test_orders_api_order_with_missing_or_bad_fields(order, expect):
    with pytest.raises(NormalizeError, match=expect):
        from_orders_api(order)


@pytest.mark.parametrize("item, expect", [
    ({k: v for k, v in BASE_ITEM.items() if k != "QuantityOrdered"}, "QuantityOrdered"),
    ({k: v for k, v in BASE_ITEM.items() if k != "SellerSKU"}, "SellerSKU"),
    ({k: v for k, v in BASE_ITEM.items() if k != "ItemPrice"}, "ItemPrice"),
    (dict(BASE_ITEM, QuantityOrdered=-1), "negative"),
    (dict(BASE_ITEM, ItemPrice={"CurrencyCode": "USD", "Amount": "NaN"}), "not a number"),
], ids=["no-quantity", "no-sku", "no-price", "negative-quantity", "nan-price"])
def test_orders_api_item_with_missing_or_bad_fields(item, expect):
    with pytest.raises(NormalizeError, match=expect):
        item_from_orders_api(item)


def test_orders_api_cancelled_item_without_price_is_fine():
    item = item_from_orders_api(dict({k: v for k, v in BASE_ITEM.items() if k != "ItemPrice"},
                                     QuantityOrdered=0))
    assert item.quantity == 0 and item.item_price == 0


# ------------------------------------------------------------ Orders API 2026-01-01 JSON
def v2026(**item_changes):
    item = {"orderItemId": "I1", "quantityOrdered": 1, "product": {"sellerSku": "SKU-1"},
            "proceeds": {"proceedsTotal": {"amount": "10.83", "currencyCode": "USD"}, "breakdowns": [
                {"type": "ITEM", "subtotal": {"amount": "10.00", "currencyCode": "USD"}},
                {"type": "TAX", "subtotal": {"amount": "0.83", "currencyCode": "USD"}}]}}
    item.update(item_changes)
    return {"orderId": "111-0000001-0000001", "createdTime": "2026-11-20T10:00:00Z",
            "salesChannel": {"marketplaceId": "ATVPDKIKX0DER"},
            "fulfillment": {"fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT"},
            "orderItems": [item]}


@pytest.mark.parametrize("payload, expect", [
    (v2026(proceeds=None), "no proceeds"),
    (v2026(proceeds={"breakdowns": []}), "no proceeds"),
    (v2026(quantityOrdered=None), "quantityOrdered"),
    (v2026(product={}), "sellerSku"),
    (v2026(proceeds={"breakdowns": [{"type": "ITEM", "subtotal": {"amount": "NaN", "currencyCode": "USD"}}]}),
     "not a number"),
    (dict(v2026(), createdTime="someday"), "does not parse"),
    ("not an object", "not a JSON object"),
], ids=["v2026-no-proceeds", "v2026-empty-proceeds", "v2026-no-quantity", "v2026-no-sku", "v2026-nan",
        "v2026-bad-date", "v2026-not-object"])
def test_orders_2026_order_rejected_with_a_clear_message(payload, expect):
    from services.normalize import order_from_payload
    with pytest.raises(NormalizeError, match=expect):
        order_from_payload(payload)


def test_orders_2026_good_order_reads():
    from services.normalize import order_from_payload
    order = order_from_payload(v2026())
    assert order.priced and order.items[0].item_price == Decimal("10.00")
