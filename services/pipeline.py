"""One import pipeline for the three FBM flows.

    source -> normalised orders -> prices -> marketplace -> skip/classify
           -> build -> workflow -> deliver -> results

The unshipped report flow hands the orders it parsed from Amazon's report;
the shipped and missing-unshipped queues hand Amazon's order payloads (an
Orders API order, v0 or v2026). Both call ``run`` with their source and
flow, one batch at a time, record each ``Result`` on their own lines and
commit after the batch. Nothing here speaks HTTP but through the adapters.
"""
import dataclasses
import logging
from dataclasses import dataclass

from odoo import _

from . import delivery, normalize
from .auto_workflow import AutoWorkflow
from .const import FLOW_SHIPPED, FLOW_UNSHIPPED, IMPORTABLE_UNSHIPPED_STATUSES, MFN_CHANNEL_VALUES, MONEY_FIELDS
from .errors import AmazonError
from .normalize import NormalizeError
from .order_builder import OrderBuilder
from .report_parser import apply_prices, index_by_order

_logger = logging.getLogger(__name__)

# Below this many orders, getOrderItems per order is cheaper than a price report.
ITEMS_CALL_THRESHOLD = 10
# Orders the Orders API returns for one list of ids (getOrders AmazonOrderIds).
IDS_PER_CALL = 50


@dataclass
class Entry:
    """One order handed to the pipeline."""
    ref: str
    order: object = None      # a normalised ``Order`` (report flow) ...
    payload: dict = None      # ... or Amazon's JSON for the order (queues)
    error: str = ""           # already known bad (an unreadable report row)


@dataclass
class Result:
    ref: str
    state: str                # created / existing / skipped / failed
    message: str = ""
    sale_order: object = None


# ====================================================================== source
def order_from_payload(payload):
    """Amazon's JSON for one order (Orders API v0 header or v2026 order) -> ``Order``."""
    convert = getattr(normalize, "order_from_payload", None)
    return convert(payload) if convert else normalize.from_orders_api(payload)


def payload_marketplace_id(payload):
    read = getattr(normalize, "payload_marketplace_id", None)
    return read(payload) if read else payload.get("MarketplaceId") or ""


# ====================================================================== prices
class PriceBook:
    """What prices a batch: the window's All Orders report (a handful of calls
    whatever its size), then getOrderItems for the few orders it lacks."""

    def __init__(self, prices=None, info=None, adapter=None):
        self.prices = prices or {}
        self.info = info or {}
        self.by_order = index_by_order(self.prices)
        self.adapter = adapter

    def price(self, order, payload=None, fetch=True):
        """Price ``order`` and make it whole (every item of Amazon's order); with
        ``fetch``, getOrderItems for what the report lacks. Raises
        ``NormalizeError`` when Amazon's items cannot be read."""
        if order.items and order.priced and payload is not None:
            return order                       # an Orders API order that came priced (v2026)
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
            item.gift_message = item.gift_message or src.gift_message
            item.asin = item.asin or src.asin
            item.order_item_id = item.order_item_id or src.order_item_id
            item.quantity_shipped = max(item.quantity_shipped, src.quantity_shipped)
            item.priced = True
    order.items += [it for it in api_items if id(it) not in used]
    return order


# ================================================================= marketplace
class MarketplaceResolver:
    """Which of the seller's marketplaces an order belongs to, from Amazon's data
    only: the Orders API's marketplace id, the sales channel (report column or
    All Orders report), the Orders API asked by order id, the ship-to country
    when it names exactly one requested marketplace. Never a default."""

    def __init__(self, seller, requested=None, adapter=None):
        marketplaces = seller.marketplace_ids
        self.seller = seller
        self.known = {m.amazon_marketplace_id for m in marketplaces}
        self.by_channel = {m.sales_channel.strip().lower(): m.amazon_marketplace_id
                           for m in marketplaces if m.sales_channel}
        self.requested = requested if requested else marketplaces
        self.adapter = adapter

    def resolve(self, orders):
        """Set ``marketplace_id`` on each order; returns ``{order_id: message}`` for
        the orders whose marketplace cannot be established."""
        failed, unknown = {}, []
        codes = self.requested.mapped("amazon_marketplace_id")
        for order in orders:
            if order.marketplace_id:
                if order.marketplace_id not in self.known:
                    failed[order.order_id] = self._not_configured(order.marketplace_id)
                continue
            channel = (order.sales_channel or "").strip()
            if channel:
                code = self.by_channel.get(channel.lower())
                if code:
                    order.marketplace_id = code
                else:
                    failed[order.order_id] = _(
                        "Amazon sold this order on %(channel)s, which is not a marketplace of "
                        "seller %(seller)s: add that marketplace under Amazon > Configuration > "
                        "Marketplaces (pick it from the list, or enter its Amazon marketplace id).",
                        channel=channel, seller=self.seller.name)
                continue
            if len(codes) == 1:
                order.marketplace_id = codes[0]   # the report was asked for one marketplace
                continue
            unknown.append(order)
        if unknown and self.adapter is not None:
            self._ask_orders_api(unknown, codes)
        for order in unknown:
            if order.marketplace_id:
                if order.marketplace_id not in self.known:
                    failed[order.order_id] = self._not_configured(order.marketplace_id)
                continue
            country = order.ship_to.country_code
            matches = self.requested.filtered(lambda m, o=order: m.country_id.code == o.ship_to.country_code and (
                not o.currency or m.currency_id.name == o.currency)) if country else []
            if len(matches) == 1:
                order.marketplace_id = matches.amazon_marketplace_id
                continue
            failed[order.order_id] = _(
                "Amazon did not say on which marketplace this order was sold: the report has no "
                "sales channel for it, the All Orders report and the Orders API did not list it, "
                "and its ship-to country (%(country)s) matches %(count)s of the requested "
                "marketplaces. Check that every marketplace of seller %(seller)s is configured "
                "(Amazon > Configuration > Marketplaces) and process the report again.",
                country=country or "?", count=len(matches), seller=self.seller.name)
        return failed

    def _ask_orders_api(self, orders, codes):
        by_id = {o.order_id: o for o in orders}
        ids = list(by_id)
        for start in range(0, len(ids), IDS_PER_CALL):
            chunk = ids[start:start + IDS_PER_CALL]
            try:
                for payload in self.adapter.list_orders(codes, order_ids=chunk, with_pii=False):
                    order = by_id.get(normalize_ref(payload))
                    if order is not None:
                        order.marketplace_id = payload_marketplace_id(payload)
            except AmazonError as exc:
                _logger.info("amazon: marketplace lookup by order id failed: %s", exc)
                return

    def _not_configured(self, code):
        return _("Marketplace %(mp)s is not configured for seller %(seller)s: add it under "
                 "Amazon > Configuration > Marketplaces.", mp=code, seller=self.seller.name)


def normalize_ref(payload):
    read = getattr(normalize, "payload_order_id", None)
    return read(payload) if read else payload.get("AmazonOrderId") or ""


# ==================================================================== classify
def classify_unshipped(order, date_from=None):
    """None when a report order is to import, else the reason to skip it."""
    if order.fulfillment_channel and order.fulfillment_channel not in MFN_CHANNEL_VALUES:
        return _("Fulfilled by Amazon (%s), not by the merchant.", order.fulfillment_channel)
    if order.status and order.status not in IMPORTABLE_UNSHIPPED_STATUSES:
        return _("Skipped: no longer unshipped on Amazon (status %s).", order.status)
    if date_from and order.purchase_date and order.purchase_date < date_from:
        return _("Skipped: purchased before the import window (%s).", order.purchase_date)
    return None


# ======================================================================== run
def run(seller, entries, *, flow, prices=None, marketplaces=None, adapter=None, date_from=None):
    """Import one batch of ``entries`` for ``flow``; returns one ``Result`` per entry.

    ``prices``: a ``PriceBook``; ``marketplaces``: the marketplaces the source
    was asked for; ``adapter``: the Orders adapter (prices and marketplaces of
    stragglers); ``date_from``: the unshipped flow's window start."""
    prices = prices or PriceBook(adapter=adapter)
    results, normalised = {}, []
    # source -> normalised orders
    for entry in entries:
        if entry.error:
            results[entry.ref] = Result(entry.ref, "failed", entry.error)
            continue
        try:
            order = entry.order if entry.order is not None else order_from_payload(entry.payload)
        except NormalizeError as exc:
            results[entry.ref] = Result(entry.ref, "failed", str(exc))
            continue
        normalised.append((entry, order))
    known = _known_orders(seller, [order.order_id for _entry, order in normalised])
    # -> prices (Amazon is asked only for orders Odoo does not have yet)
    orders, ref_of = [], {}
    for entry, order in normalised:
        try:
            prices.price(order, entry.payload, fetch=order.order_id not in known)
        except (NormalizeError, AmazonError) as exc:
            results[entry.ref] = Result(entry.ref, "failed", str(exc))
            continue
        ref_of[order.order_id] = entry.ref
        orders.append(order)
    _sync_status(seller, known, orders)
    # -> marketplace, skip / classify
    failed = MarketplaceResolver(seller, marketplaces, adapter).resolve(
        [o for o in orders if o.order_id not in known])
    to_build = []
    for order in orders:
        ref = ref_of[order.order_id]
        if order.order_id in failed:
            results[ref] = Result(ref, "failed", failed[order.order_id])
            continue
        reason = classify_unshipped(order, date_from) if flow == FLOW_UNSHIPPED else None
        if reason:
            results[ref] = Result(ref, "skipped", reason)
        else:
            to_build.append(order)
    # -> build -> workflow -> deliver
    builder = OrderBuilder(seller, shipped=flow == FLOW_SHIPPED)
    built = builder.build(to_build)
    SaleOrder = seller.env["sale.order"]
    created = SaleOrder.browse([r.sale_order.id for r in built if r.status == "created"])
    existing = SaleOrder.browse([r.sale_order.id for r in built if r.status == "existing" and r.sale_order])
    _workflow_and_delivery(seller, flow, to_build, created, existing)
    # -> results
    for order, res in zip(to_build, built):
        ref = ref_of[order.order_id]
        results[ref] = Result(ref, res.status, res.message or "", res.sale_order)
    return [results[entry.ref] for entry in entries]


def _known_orders(seller, refs):
    """``{Amazon order id: sale.order}`` of the orders Odoo has already (one search)."""
    if not refs:
        return {}
    found = seller.env["sale.order"].sudo().with_context(active_test=False).search([
        ("amazon_seller_id", "=", seller.id), ("amazon_order_ref", "in", list(refs))])
    return {so.amazon_order_ref: so for so in found}


def _sync_status(seller, known, orders):
    """Orders Odoo already has take Amazon's current status. This is the hook for
    steps driven by a status change: ``sale.order._amazon_apply_status``."""
    statuses = {known[o.order_id].id: o.status for o in orders if o.order_id in known and o.status}
    if statuses:
        seller.env["sale.order"].sudo().browse(list(statuses))._amazon_apply_status(statuses)


def _workflow_and_delivery(seller, flow, orders, created, existing):
    shipped = flow == FLOW_SHIPPED
    AutoWorkflow(seller.workflow_id, force_confirm=shipped).run(created)
    if shipped:
        # An order imported while unshipped and shipped since: one order, delivered.
        AutoWorkflow(None, force_confirm=True).run(existing.filtered(lambda o: o.state in ("draft", "sent")))
        delivery.deliver(created | existing)
        return
    # A partially shipped order: what Amazon shipped already is delivered.
    partial = {o.order_id: o for o in orders if any(i.quantity_shipped for i in o.items)}
    candidates = (created | existing).filtered(lambda so: so.amazon_order_ref in partial)
    if not candidates:
        return
    products = _products(seller, {i.sku for o in partial.values() for i in o.items})
    quantities = {}
    for so in candidates:
        quantities.update(_to_deliver(so, partial[so.amazon_order_ref], products))
    to_deliver = candidates.filtered(lambda so: so.order_line.filtered(lambda ln: ln.id in quantities))
    if not to_deliver:
        return
    AutoWorkflow(None, force_confirm=True).run(to_deliver.filtered(lambda o: o.state in ("draft", "sent")))
    delivery.deliver_quantities(to_deliver, quantities)


def _products(seller, skus):
    """``{sku: product}`` as the builder maps them (SKU mapping, else internal reference)."""
    env = seller.env
    out = {m.sku: m.product_id for m in env["amazon.product.mapping"].sudo().search([
        ("seller_id", "=", seller.id), ("sku", "in", list(skus))])}
    missing = [sku for sku in skus if sku not in out]
    if missing:
        for product in env["product.product"].sudo().with_context(active_test=False).search([
                ("default_code", "in", missing)]):
            out.setdefault(product.default_code, product)
    return out


def _to_deliver(sale_order, order, products):
    """``{sale.order.line id: quantity}`` Amazon shipped that Odoo has not delivered yet."""
    out = {}
    lines = sale_order.order_line
    for item in order.items:
        left = item.quantity_shipped
        product = products.get(item.sku)
        if not left or not product:
            continue
        candidates = lines.filtered(lambda ln, p=product, i=item: ln.product_id == p and (
            not i.order_item_id or not ln.amazon_order_item_id or ln.amazon_order_item_id == i.order_item_id))
        for line in candidates:
            take = min(left, line.product_uom_qty)
            left -= take
            missing = take - line.qty_delivered
            if missing > 0:
                out[line.id] = missing
            if not left:
                break
    return out
