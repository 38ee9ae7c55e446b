"""Follow what happens to imported orders on Amazon after the import: the Amazon side.

``read_updates`` reads one page of the listing of the seller's FBM orders updated
since a cursor (``lastUpdatedAfter``) and normalises them; ``sale.order.
_amazon_apply_updates`` (model methods, extensible) brings Odoo in line:

- cancelled on Amazon, not shipped in Odoo: the order is cancelled with its
  delivery; a posted invoice is reversed by a credit note (refund paid back
  on the workflow's payment journal when the invoice was paid); a note says
  who cancelled and why;
- cancelled on Amazon, shipped in Odoo: nothing is undone; the salesperson
  gets an activity to arrange the return;
- one item cancelled: that line is reduced to what Amazon still sells;
- a buyer's pending cancellation request: flagged on the order, which blocks
  validating its delivery until the request is answered;
- shipped on Amazon (label bought on Amazon): deliveries not yet confirmed
  need no confirmation.
"""
import logging

from .const import INCLUDED_DATA_STATUS, MFN
from .normalize import is_orders_2026, item_from_orders_api, order_from_payload

_logger = logging.getLogger(__name__)
OPEN_STATUSES = ("Unshipped", "PartiallyShipped")
CANCELLED = "Canceled"


# ============================================================ Amazon side
def listing_params(adapter, marketplace_ids, since):
    """The parameters of the listing of the seller's FBM orders Amazon updated since
    ``since``, read page by page (``adapter.read_page``): no buyer data."""
    return adapter.listing_params(marketplace_ids, last_updated_after=since, statuses=None,
                                  channels=(MFN,), included_data=INCLUDED_DATA_STATUS)


def read_updates(adapter, params, token=None, needs_items=None):
    """One page of the listing: ``(normalised orders, next-page token, window end)``.

    Orders API v0 lists headers only: the items (quantities left after a partial
    cancellation, ``BuyerRequestedCancel``) cost one getOrderItems per order, so
    they are fetched only for the open orders ``needs_items(order_ids)`` returns
    (orders Odoo has and has not finished delivering). Orders API 2026-01-01
    orders carry their items and cancellations: no call per order."""
    page = adapter.read_page(params, token, with_pii=False)
    return normalise_updates(adapter, page.orders, needs_items), page.next_token, page.window_end


def normalise_updates(adapter, payloads, needs_items=None):
    if payloads and is_orders_2026(payloads[0]):
        return [order_from_payload(p, require_proceeds=False) for p in payloads]
    orders = [order_from_payload(header) for header in payloads]
    open_ids = [o.order_id for o in orders if o.status in OPEN_STATUSES]
    wanted = set(needs_items(open_ids) if needs_items else open_ids)
    for order in orders:
        if order.status == CANCELLED:
            order.cancellation = dict(order.cancellation or {}, requested=False)
        elif order.order_id in wanted:
            items = adapter.get_order_items(order.order_id)
            order.items = [item_from_orders_api(raw) for raw in items]
            asked = [raw["BuyerRequestedCancel"] for raw in items if str(
                (raw.get("BuyerRequestedCancel") or {}).get("IsBuyerRequestedCancel")).lower() == "true"]
            order.cancellation = {"by": "BUYER", "requested": True,
                                  "reason": asked[0].get("BuyerCancelReason") or ""} if asked else {}
    return orders
