"""One import pipeline for the three FBM flows.

    source -> normalised orders -> prices -> marketplace -> skip/classify
           -> build -> workflow -> deliver -> results

The unshipped report flow hands the orders it parsed from Amazon's report;
the shipped and missing-unshipped queues hand Amazon's order payloads (an
Orders API order, v0 or v2026). Both call ``run`` with their source and
flow, one batch at a time, record each ``Result`` on their own lines and
commit after the batch. Nothing here speaks HTTP but through the adapters.
"""
from dataclasses import dataclass

from odoo import _

from . import delivery, normalize
from .auto_workflow import AutoWorkflow
from .const import FLOW_SHIPPED, FLOW_UNSHIPPED, IMPORTABLE_UNSHIPPED_STATUSES, MFN_CHANNEL_VALUES
from .errors import AmazonError
from .marketplace_resolver import MarketplaceResolver
from .normalize import NormalizeError
from .order_builder import OrderBuilder, Result
from .pricing import PriceBook


@dataclass
class Entry:
    """One order handed to the pipeline."""
    ref: str
    order: object = None      # a normalised ``Order`` (report flow) ...
    payload: dict = None      # ... or Amazon's JSON for the order (queues)
    error: str = ""           # already known bad (an unreadable report row)


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
def run(seller, entries, *, flow, prices=None, marketplaces=None, adapter=None, date_from=None,
        defer_delivery=False):
    """Import one batch of ``entries`` for ``flow``; returns one ``Result`` per entry.

    ``prices``: a ``PriceBook``; ``marketplaces``: the marketplaces the source
    was asked for; ``adapter``: the Orders adapter (prices and marketplaces of
    stragglers); ``date_from``: the unshipped flow's window start; ``defer_delivery``:
    flag the deliveries of shipped orders for ``delivery.dispatch_pending`` (run by the
    caller after its commit) instead of validating them in this batch."""
    prices = prices or PriceBook(adapter=adapter)
    results, normalised = {}, []
    # source -> normalised orders
    for entry in entries:
        if entry.error:
            results[entry.ref] = Result(entry.ref, "failed", entry.error)
            continue
        try:
            order = entry.order if entry.order is not None else normalize.order_from_payload(entry.payload)
        except NormalizeError as exc:
            results[entry.ref] = Result(entry.ref, "failed", str(exc))
            continue
        normalised.append((entry, order))
    # One Amazon order is built once per batch: a listing can return an order that
    # changed while it was paged on two pages (the later copy is the newer); its
    # entries share the one result.
    last = {order.order_id: n for n, (_entry, order) in enumerate(normalised)}
    normalised = [pair for n, pair in enumerate(normalised) if last[pair[1].order_id] == n]
    known = _known_orders(seller, [order.order_id for _entry, order in normalised])
    prices.load([order.order_id for _entry, order in normalised])   # the batch's report prices: one search
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
    created = SaleOrder.browse([r.sale_order.id for r in built if r.state == "created"])
    existing = SaleOrder.browse([r.sale_order.id for r in built if r.state == "existing" and r.sale_order])
    _workflow_and_delivery(seller, flow, to_build, created, existing, defer_delivery)
    # -> results
    for order, res in zip(to_build, built):
        ref = ref_of[order.order_id]
        results[ref] = res if res.ref == ref else Result(ref, res.state, res.message or "", res.sale_order)
    return [results.get(entry.ref) or Result(entry.ref, "skipped", _(
        "Amazon order %s appears twice in this batch: imported once.", entry.ref)) for entry in entries]


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
    ship_by = {known[o.order_id].id: o.ship_by_date for o in orders
               if o.order_id in known and o.ship_by_date}
    if ship_by:
        seller.env["sale.order"].sudo().browse(list(ship_by))._amazon_apply_ship_by(ship_by)


def _workflow_and_delivery(seller, flow, orders, created, existing, defer_delivery=False):
    shipped = flow == FLOW_SHIPPED
    AutoWorkflow(seller.workflow_id, force_confirm=shipped).run(created)
    if shipped:
        # An order imported while unshipped and shipped since: one order, delivered.
        AutoWorkflow(None, force_confirm=True).run(existing.filtered(lambda o: o.state in ("draft", "sent")))
        if defer_delivery:
            delivery.defer(created | existing)
        else:
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
