"""Joining Amazon's sources into priced, normalised orders for the three flows.

The unshipped report has buyers and addresses but no prices; the All Orders
report has prices but no buyers; Orders API headers have buyers but no
items. Prices for a whole window cost a constant number of calls (one
report); ``getOrderItems`` is called only for the few orders a price report
does not cover yet (orders newer than the report's lag).
"""
import dataclasses

from .normalize import NormalizeError, from_orders_api, item_from_orders_api
from .report_parser import apply_prices, index_by_order

# Below this many orders, getOrderItems per order is cheaper than a report.
ITEMS_CALL_THRESHOLD = 10


def fill_from_order_items(adapter, order):
    """Price one order with getOrderItems (one call per order: only for stragglers)."""
    api_items = [item_from_orders_api(it) for it in adapter.get_order_items(order.order_id)]
    if not order.items:
        order.items = api_items
        return order
    by_id = {it.order_item_id: it for it in api_items}
    by_sku = {it.sku: it for it in api_items}
    for item in order.items:
        src = by_id.get(item.order_item_id) or by_sku.get(item.sku)
        if src:
            for name in ("item_price", "item_tax", "shipping_price", "shipping_tax",
                         "gift_wrap_price", "gift_wrap_tax", "promotion_discount",
                         "promotion_discount_tax", "shipping_discount", "shipping_discount_tax"):
                setattr(item, name, getattr(src, name))
            item.gift_message = item.gift_message or src.gift_message
            item.asin = item.asin or src.asin
            item.priced = True
    return order


def classify_unshipped(order, date_from=None):
    """None when the order is to import, else the reason to skip it."""
    if order.fulfillment_channel and order.fulfillment_channel not in ("MFN", "Merchant"):
        return "fulfilled by Amazon (%s), not FBM" % order.fulfillment_channel
    if order.status and order.status not in ("Unshipped", "PartiallyShipped", "Pending"):
        return "no longer unshipped on Amazon (status %s)" % order.status
    if date_from and order.purchase_date and order.purchase_date < date_from:
        return "purchased before the import window (%s)" % order.purchase_date
    return None


def price_orders(orders, prices, price_info, adapter=None, marketplace_for=None):
    """Apply report prices; fall back to getOrderItems for the rest.

    Returns the list of (order, error message or None)."""
    out = []
    for order in orders:
        apply_prices(order, prices, price_info)
        if marketplace_for and not order.marketplace_id:
            order.marketplace_id = marketplace_for(order, price_info.get(order.order_id) or {})
        if not order.priced and adapter is not None:
            try:
                fill_from_order_items(adapter, order)
            except NormalizeError as exc:
                out.append((order, str(exc)))
                continue
        out.append((order, None))
    return out


def orders_from_headers(headers, prices=None, price_info=None, adapter=None):
    """Orders API headers (queue payloads) -> priced normalised orders."""
    by_order = index_by_order(prices or {})
    out = []
    for header in headers:
        try:
            order = from_orders_api(header)
        except NormalizeError as exc:
            out.append((None, header.get("AmazonOrderId", ""), str(exc)))
            continue
        items = by_order.get(order.order_id)
        if items and _report_matches(header, items):
            order.items = [dataclasses.replace(item) for item in items]
        elif adapter is not None:
            try:
                fill_from_order_items(adapter, order)
            except NormalizeError as exc:
                out.append((None, order.order_id, str(exc)))
                continue
        out.append((order, order.order_id, None))
    return out


def _report_matches(header, items):
    expected = header.get("NumberOfItemsShipped", 0) + header.get("NumberOfItemsUnshipped", 0)
    return not expected or sum(i.quantity for i in items) == expected
