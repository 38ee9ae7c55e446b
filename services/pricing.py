"""Prices of the orders an import brings, and whole orders.

The Unshipped Orders report and Orders API v0 headers carry no prices. The
window's All Orders report prices every order in a handful of calls whatever
its size, and lists every item of an order (the Unshipped Orders report lists
only what is left to ship); ``getOrderItems`` is called only for the few
orders the report does not cover (newer than its lag, or the report failed).
Orders API 2026-01-01 orders come priced and whole.
"""
import dataclasses
from decimal import Decimal

from . import normalize
from .const import MONEY_FIELDS, REPORT_MONEY_FIELDS

# Below this many orders, getOrderItems per order is cheaper than a price report.
ITEMS_CALL_THRESHOLD = 10


class PriceBook:
    """What prices a batch: the window's All Orders report (a handful of calls
    whatever its size), then getOrderItems for the few orders it lacks.

    ``prices``/``info``: the report's prices by (order, sku) and order facts,
    held whole (small reports, tests). ``loader``: instead, a function
    ``order ids -> (prices, info)`` of just those orders (a stored price report,
    ``amazon.price.report._prices_of``); ``load`` asks it once per batch and
    the book then holds that batch only."""

    def __init__(self, prices=None, info=None, adapter=None, loader=None):
        self.adapter = adapter
        self.loader = loader
        self.loaded = set()     # with a loader: the order ids of the batch held
        self._hold(prices or {}, info or {})

    def _hold(self, prices, info):
        self.prices, self.info = prices, info
        self.by_order = index_by_order(prices)

    def load(self, order_ids):
        """Hold the report's prices of ``order_ids`` (one batch; the previous
        batch's are dropped). Without a loader the book holds all it has."""
        if self.loader is not None:
            self.loaded = set(order_ids)
            self._hold(*self.loader(self.loaded) if self.loaded else ({}, {}))

    def price(self, order, payload=None, fetch=True):
        """Price ``order`` and make it whole (every item of Amazon's order); with
        ``fetch``, getOrderItems for what the report lacks. Raises
        ``NormalizeError`` when Amazon's items cannot be read."""
        if order.items and order.priced and payload is not None:
            return order                       # an Orders API order that came priced (v2026)
        if self.loader is not None and order.order_id not in self.loaded:
            self.load([order.order_id])        # priced outside a batch's ``load``: one order
        if order.items:                        # a report order: buyer and items, no prices
            apply_prices(order, self.prices, self.info, self.by_order)
        else:                                  # an Orders API header: no items
            items = self.by_order.get(order.order_id)
            if items and _report_matches(payload or {}, items):
                order.items = [dataclasses.replace(item) for item in items]
        if fetch and not order.priced and self.adapter is not None:
            fill_from_order_items(self.adapter, order)
        return order


def _report_matches(payload, items):
    expected = (payload.get("NumberOfItemsShipped") or 0) + (payload.get("NumberOfItemsUnshipped") or 0)
    return not expected or sum(i.quantity for i in items) == expected


def fill_from_order_items(adapter, order):
    """Price one order with getOrderItems (one call per order: only for stragglers).
    Items the order lacks (shipped parts of a partially shipped order) are added."""
    raw_items = adapter.get_order_items(order.order_id)
    api_items = [normalize.item_from_orders_api(it) for it in raw_items]
    if not order.currency:
        order.currency = next((it["ItemPrice"].get("CurrencyCode") for it in raw_items
                               if isinstance(it.get("ItemPrice"), dict)), "") or ""
    if not order.items:
        order.items = api_items
        return order
    by_id = {it.order_item_id: it for it in api_items if it.order_item_id}
    by_sku = {it.sku: it for it in api_items}
    used = set()
    for item in order.items:
        src = by_id.get(item.order_item_id) or by_sku.get(item.sku)
        if src:
            used.add(id(src))
            for name in MONEY_FIELDS:
                setattr(item, name, getattr(src, name))
            item.tax_stated = src.tax_stated
            item.gift_message = item.gift_message or src.gift_message
            item.asin = item.asin or src.asin
            item.order_item_id = item.order_item_id or src.order_item_id
            item.quantity_shipped = max(item.quantity_shipped, src.quantity_shipped)
            item.priced = True
    order.items += [it for it in api_items if id(it) not in used]
    return order


# === JOINS: the price report's amounts onto an order ===
def apply_prices(order, prices, price_orders, by_order=None):
    """Copy the price report's amounts onto ``order``'s items; True when all priced.

    With ``by_order`` (``index_by_order(prices)``), the report's items of the
    order that ``order`` lacks are added: the Unshipped Orders report lists
    only what is left to ship of a partially shipped order, the All Orders
    report lists every item."""
    info = price_orders.get(order.order_id)
    if info:
        order.status = info["status"] or order.status
        order.fulfillment_channel = info["channel"] or order.fulfillment_channel
        order.currency = info["currency"] or order.currency
        order.sales_channel = info["sales_channel"] or order.sales_channel
    by_sku = {}
    for item in order.items:
        by_sku.setdefault(item.sku, []).append(item)
    for sku, items in by_sku.items():
        price = prices.get((order.order_id, sku))
        if price is None:
            continue
        total_qty = sum(i.quantity for i in items) or 1
        if price.quantity and price.quantity != total_qty:
            # The report disagrees with the order (a row twice, or a part of
            # the order missing): its amounts would not be this order's.
            continue
        if len(items) == 1:
            _copy_amounts(items[0], price, 1, 1)
        else:  # one SKU on several order items: share the amounts by quantity
            for idx, item in enumerate(items):
                _copy_amounts(item, price, item.quantity, total_qty, last=idx == len(items) - 1,
                              done=items[:idx])
    if by_order and order.items:
        for price in by_order.get(order.order_id, ()):
            if price.sku not in by_sku:
                order.items.append(dataclasses.replace(price))
    return order.priced


CENT = Decimal("0.01")


def _copy_amounts(item, price, qty, total_qty, last=True, done=()):
    for name in REPORT_MONEY_FIELDS:
        full = getattr(price, name)
        if qty == total_qty:
            value = full
        elif last:
            value = full - sum(getattr(d, name) for d in done)
        else:
            value = (full * qty / total_qty).quantize(CENT)
        setattr(item, name, value)
    item.asin = item.asin or price.asin
    item.priced = True
    item.tax_stated = price.tax_stated


def index_by_order(prices):
    by_order = {}
    for (oid, _sku), price in prices.items():
        by_order.setdefault(oid, []).append(price)
    return by_order
