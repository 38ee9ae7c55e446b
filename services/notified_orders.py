"""What an ORDER_CHANGE notification (or the safety-net listing) leads to in Odoo.

A notification only says *that* an order changed. The order is always read
again from the Orders API before anything is done, so duplicates and messages
arriving out of order are harmless: Odoo acts on Amazon's current state, and
every step below is idempotent.

- ``plan_reads`` / ``read_orders``: one ``getOrder`` per notified order while its
  quota lasts; when orders arrive faster than that, the waiting ones are read
  with one ``searchOrders`` listing of the orders Amazon updated since the
  earliest change (``lastUpdatedAfter``), then ``getOrder`` for any the listing
  did not return.
- ``apply_orders``: an unshipped order Odoo lacks is queued for import (the
  missing-unshipped flow of ``amazon.order.queue``); a shipped one is queued in
  the shipped flow (created delivered, or its delivery validated); an order Odoo
  has gets the status sync (``sale.order._amazon_apply_updates``: cancelled,
  buyer's cancellation request, lines reduced, shipped outside Odoo).
"""
import logging
from datetime import timedelta

from . import errors
from .const import (
    FLOW_MISSING_UNSHIPPED,
    FLOW_SHIPPED,
    INCLUDED_DATA_SHIPPED,
    MFN_CHANNEL_VALUES,
    SEARCH_ORDERS_OPERATION,
    SHIPPED_STATUSES,
    UNSHIPPED_STATUSES,
)
from .normalize import NormalizeError, order_from_payload, parse_datetime, payload_order_id

_logger = logging.getLogger(__name__)
# A notification's TimeOfOrderChange and the order's LastUpdateDate are the same
# instant; the margin only absorbs clocks. An order the listing misses is read with
# getOrder, so a small margin costs nothing but saves listing orders read already.
SEARCH_OVERLAP = timedelta(seconds=2)
# A few orders getOrder's quota reads within this many seconds are not worth a listing.
GET_ORDER_WAIT = 10


def read_orders(adapter, order_ids, marketplace_ids, changed_at=None, search=False):
    """Amazon's current data of the notified orders: ``(payloads by order id, ids
    Amazon does not know, ids left for later)``. ``changed_at``: order id -> when its
    change was notified (naive UTC). ``search``: many orders wait (``plan_reads``):
    they are listed by last update since the earliest change (less a small margin),
    page by page until every one is found or the listing's quota runs out, instead
    of read one by one. Those a whole listing did not return are left for later (the
    caller reads them with ``getOrder``); those a listing stopped by its quota did
    not reach are neither found nor left for later (listed again)."""
    wanted = list(dict.fromkeys(order_ids))
    changed_at = changed_at or {}
    found, later = {}, []
    since = min((changed_at[o] for o in wanted if changed_at.get(o)), default=None)
    if search and since:
        keep = set(wanted)
        params = adapter.listing_params(marketplace_ids, last_updated_after=since - SEARCH_OVERLAP,
                                        included_data=INCLUDED_DATA_SHIPPED)
        token = None
        while True:
            page = adapter.read_page(params, token)
            for payload in page.orders:
                order_id = payload_order_id(payload)
                if order_id in keep:
                    found[order_id] = payload
            token = page.next_token
            # Listed in order of last update: the pages after the last wanted order hold
            # only orders changed since, whose notifications are still to come.
            if not token or len(found) == len(keep):
                break
            if adapter.client.available(SEARCH_ORDERS_OPERATION)[0] < 1:
                # Out of listing quota: the orders not reached yet stay listable.
                return found, [], []
        return found, [], [o for o in wanted if o not in found]
    unknown = []
    for order_id in wanted:
        try:
            found[order_id] = adapter.get_order(order_id, INCLUDED_DATA_SHIPPED)
        except errors.AmazonRequestError as exc:
            if exc.status not in (400, 404):
                raise
            unknown.append(order_id)
    return found, unknown, later


def plan_reads(orders, get_tokens, search_ready, oldest_age, search_age, get_rate=0.0,
               get_wait=GET_ORDER_WAIT):
    """Which waiting orders to read now, and how: ``("get", ids)``, ``("search", ids)``
    or ``(None, [])`` (nothing yet: wait for quota or for more orders).

    ``orders``: the distinct notified order ids, oldest notification first, each with
    whether a listing may read it (``(id, searchable)``); ``get_tokens``, ``get_rate``:
    the getOrder calls its quota allows now, and per second; ``search_ready``: a
    searchOrders call is allowed now; ``oldest_age``: seconds since the oldest was
    sent; ``search_age``: how old the oldest may grow before one listing reads them all.

    ``getOrder`` (0.5/s, burst 30) reads the oldest while its quota lasts. Orders
    arriving faster than that wait; once more wait than getOrder's quota reads within
    ``get_wait`` seconds and the oldest waited ``search_age`` seconds, one
    ``searchOrders`` page (0.0056/s, burst 20, 100 orders) reads them all at once."""
    ids = [o for o, _s in orders]
    if not ids:
        return None, []
    searchable = [o for o, can in orders if can]
    soon = len(ids) <= get_tokens + get_rate * get_wait
    if not soon and searchable and search_ready and oldest_age >= search_age:
        return "search", searchable
    if get_tokens >= 1:
        return "get", ids[:int(get_tokens)]
    return None, []


def changed_at(event_time):
    """A notification's TimeOfOrderChange as naive UTC, or None."""
    try:
        return parse_datetime(event_time) if event_time else None
    except ValueError:
        return None


def apply_orders(seller, payloads, client):
    """Bring Odoo in line with Amazon for these orders (2026-01-01 payloads read with
    ``INCLUDED_DATA_SHIPPED``). Returns counters and the per-order problems."""
    env = seller.env
    counts = {"queued_unshipped": 0, "queued_shipped": 0, "updated": 0, "cancelled": 0,
              "requests": 0, "ignored": 0}
    problems = {}
    normalised = []
    for payload in payloads:
        try:
            order = order_from_payload(payload, require_proceeds=False)
        except NormalizeError as exc:
            problems[payload_order_id(payload)] = str(exc)
            continue
        if order.fulfillment_channel not in MFN_CHANNEL_VALUES:
            counts["ignored"] += 1
            continue
        normalised.append((payload, order))
    refs = [o.order_id for _p, o in normalised]
    known = {so.amazon_order_ref: so for so in env["sale.order"].with_context(active_test=False).search([
        ("amazon_seller_id", "=", seller.id), ("amazon_order_ref", "in", refs)])}
    # 1. Orders Odoo has: the status sync (cancel, request, reduce, shipped elsewhere).
    status = env["sale.order"]._amazon_apply_updates(seller, [o for _p, o in normalised if o.order_id in known])
    for key in ("updated", "cancelled", "requests"):
        counts[key] += status.get(key, 0)
    counts["cancelled"] += status.get("cancelled_shipped", 0)
    # 2. Imports through the order queues (their workers build the orders).
    unshipped, shipped = [], []
    for payload, order in normalised:
        so = known.get(order.order_id)
        if order.status in SHIPPED_STATUSES:
            if so is None or (so.state == "sale" and so.delivery_status != "full"):
                shipped.append(payload)
        elif order.status in UNSHIPPED_STATUSES and so is None:
            unshipped.append(payload)
    codes = seller.marketplace_ids.mapped("amazon_marketplace_id")
    Queue = env["amazon.order.queue"]
    if unshipped:
        queues = Queue._queue_new(seller, client, codes, FLOW_MISSING_UNSHIPPED, unshipped, None, None)
        counts["queued_unshipped"] += len(queues.line_ids)
    if shipped:
        queues = Queue._queue_new(seller, client, codes, FLOW_SHIPPED, shipped, None, None)
        counts["queued_shipped"] += len(queues.line_ids)
    return counts, problems
