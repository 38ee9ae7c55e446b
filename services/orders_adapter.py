"""Every Orders API call goes through this adapter.

It speaks Orders API 2026-01-01 by default and v0 on request (a seller's
``orders_api_version``). Amazon retires v0's read operations on 2027-03-27;
``confirmShipment`` stays on v0, which Amazon has not deprecated.

What the callers get:

- ``list_orders`` yields the orders of a window as Amazon sent them: v0
  headers (``AmazonOrderId``...) or 2026-01-01 orders (``orderId``, with
  items, proceeds, buyer and recipient). ``normalize.order_from_payload``
  turns either into the one normalised order; ``payload_order_id`` /
  ``payload_marketplace_id`` read them without normalising.
- After a listing has been read to its end, ``window_end`` holds the
  ``createdBefore`` / ``lastUpdatedBefore`` Amazon answered (a cursor may
  advance to it once the work it covers is committed).

In 2026-01-01, buyer and recipient data come by the app's roles, without a
Restricted Data Token, and every order carries its items and their proceeds,
so no getOrderItems call and no price report are needed.
"""
from datetime import datetime, timedelta, timezone

from sp_api.api import OrdersV0, OrdersV20260101

from . import errors
from .const import (
    FULFILLED_BY_2026,
    FULFILLMENT_STATUS_2026,
    INCLUDED_DATA_IMPORT,
    MFN,
    ORDERS_API_2026,
    ORDERS_API_DEFAULT,
    ORDERS_API_V0,
    ORDERS_API_VERSIONS,
    ORDERS_RESTRICTED_ELEMENTS,
    PATH_ORDERS_V0,
    V0_READS_RETIRED_ON,
)
from .errors import _lt
from .normalize import iso_time

PAGE_SIZE = 100
PII_DATASETS = ("BUYER", "RECIPIENT")
# searchOrders: createdBefore / lastUpdatedBefore must be at least two minutes
# before the request.
MIN_AGE = timedelta(minutes=2, seconds=10)


class OrdersAdapter:
    def __init__(self, client, version=None):
        version = version or ORDERS_API_DEFAULT
        if version not in ORDERS_API_VERSIONS:
            raise ValueError("unknown Orders API version %r" % version)
        self.client = client
        self.version = version
        self.window_end = None
        self._v0_api = None

    @property
    def is_v0(self):
        return self.version == ORDERS_API_V0

    # ------------------------------------------------------------ listing
    def list_orders(self, marketplace_ids, *, created_after=None, created_before=None,
                    last_updated_after=None, last_updated_before=None, statuses=None,
                    channels=(MFN,), with_pii=True, order_ids=None,
                    included_data=INCLUDED_DATA_IMPORT):
        """Yield every order of the window, all pages, 100 a page.

        ``statuses`` and ``channels`` are given in v0's words (``Unshipped``,
        ``MFN``) for both versions. ``included_data`` applies to 2026-01-01.
        """
        if self.is_v0:
            return self._list_v0(marketplace_ids, created_after=created_after,
                                 created_before=created_before,
                                 last_updated_after=last_updated_after,
                                 last_updated_before=last_updated_before, statuses=statuses,
                                 channels=channels, with_pii=with_pii, order_ids=order_ids)
        if not with_pii:
            included_data = [d for d in included_data if d not in PII_DATASETS]
        if order_ids and created_after:
            # searchOrders has no order id filter: search the window they were created
            # in (one call per 100 orders of the window), keep the ids asked for.
            wanted = set(order_ids)
            return (order for order in self.search_orders(
                marketplace_ids, created_after=created_after, created_before=created_before,
                fulfilled_by=[FULFILLED_BY_2026.get(c, c) for c in channels or ()],
                included_data=included_data) if order.get("orderId") in wanted)
        if order_ids:
            # No window known: one getOrder per id (only for a few).
            return (self.get_order(order_id, included_data) for order_id in order_ids)
        return self.search_orders(
            marketplace_ids, created_after=created_after, created_before=created_before,
            last_updated_after=last_updated_after, last_updated_before=last_updated_before,
            fulfillment_statuses=[FULFILLMENT_STATUS_2026.get(s, s) for s in statuses or ()],
            fulfilled_by=[FULFILLED_BY_2026.get(c, c) for c in channels or ()],
            included_data=included_data)

    def search_orders(self, marketplace_ids, *, created_after=None, created_before=None,
                      last_updated_after=None, last_updated_before=None,
                      fulfillment_statuses=None, fulfilled_by=("MERCHANT",),
                      included_data=INCLUDED_DATA_IMPORT):
        """Orders API 2026-01-01 ``searchOrders``: yield every order, all pages.

        Exactly one of ``created_after`` / ``last_updated_after``. The
        ``paginationToken`` of the next page is sent with the same other
        parameters, as Amazon requires."""
        params = self._search_params(
            marketplace_ids, created_after=created_after, created_before=created_before,
            last_updated_after=last_updated_after, last_updated_before=last_updated_before,
            fulfillment_statuses=fulfillment_statuses, fulfilled_by=fulfilled_by,
            included_data=included_data)
        return self._all_pages(params)

    def _search_params(self, marketplace_ids, *, created_after=None, created_before=None,
                       last_updated_after=None, last_updated_before=None,
                       fulfillment_statuses=None, fulfilled_by=("MERCHANT",),
                       included_data=INCLUDED_DATA_IMPORT):
        if bool(created_after) == bool(last_updated_after):
            raise ValueError("searchOrders needs exactly one of created_after and last_updated_after")
        latest = datetime.now(timezone.utc).replace(tzinfo=None) - MIN_AGE
        params = {"maxResultsPerPage": PAGE_SIZE}
        if marketplace_ids:
            params["marketplaceIds"] = list(marketplace_ids)
        if created_after:
            params["createdAfter"] = iso_time(created_after)
            if created_before:
                params["createdBefore"] = iso_time(_not_after(created_before, latest))
        else:
            params["lastUpdatedAfter"] = iso_time(last_updated_after)
            if last_updated_before:
                params["lastUpdatedBefore"] = iso_time(_not_after(last_updated_before, latest))
        if fulfillment_statuses:
            params["fulfillmentStatuses"] = list(fulfillment_statuses)
        if fulfilled_by:
            params["fulfilledBy"] = list(fulfilled_by)
        if included_data:
            params["includedData"] = list(included_data)
        return params

    def _all_pages(self, params):
        self.window_end = None
        token = None
        while True:
            page = self.read_page(params, token)
            yield from page.orders
            token = page.next_token
            if not token:
                self.window_end = page.window_end
                return

    # ------------------------------------------------------------ page by page
    def listing_params(self, marketplace_ids, *, created_after=None, created_before=None,
                       last_updated_after=None, last_updated_before=None, statuses=None,
                       channels=(MFN,), included_data=INCLUDED_DATA_IMPORT):
        """The exact parameters of a listing read page by page (``read_page``),
        JSON-serialisable, so a listing stopped between pages can continue in
        another run with the same parameters its next-page token requires."""
        if self.is_v0:
            return self._v0_params(marketplace_ids, created_after=created_after,
                                   created_before=created_before,
                                   last_updated_after=last_updated_after,
                                   last_updated_before=last_updated_before, statuses=statuses,
                                   channels=channels)
        return self._search_params(
            marketplace_ids, created_after=created_after, created_before=created_before,
            last_updated_after=last_updated_after, last_updated_before=last_updated_before,
            fulfillment_statuses=[FULFILLMENT_STATUS_2026.get(s, s) for s in statuses or ()],
            fulfilled_by=[FULFILLED_BY_2026.get(c, c) for c in channels or ()],
            included_data=included_data)

    def read_page(self, params, token=None, with_pii=True):
        """One page of a listing: ``params`` from ``listing_params``, ``token`` the
        next-page token of the previous page (2026-01-01 ``paginationToken``,
        valid 24 hours with the same parameters; v0 ``NextToken``). ``with_pii``
        False: v0 reads no buyer data (no Restricted Data Token); 2026-01-01 reads
        what ``params``' included data names."""
        if self.is_v0:
            api = self._v0_listing_api() if with_pii else self.client.api(OrdersV0)
            page_params = {"NextToken": token, "MarketplaceIds": params["MarketplaceIds"]} \
                if token else dict(params)
            payload = self._v0_call("getOrders", api.get_orders, **page_params).payload or {}
            return Page(payload.get("Orders") or [], payload.get("NextToken"),
                        payload.get("LastUpdatedBefore") or payload.get("CreatedBefore"))
        api = self.client.api(OrdersV20260101)
        page = dict(params, paginationToken=token) if token else dict(params)
        res = self.client.call("searchOrders", api.search_orders, **page)
        payload = res.payload or {}
        token = (res.pagination or payload.get("pagination") or {}).get("nextToken")
        return Page(payload.get("orders") or [], token,
                    payload.get("lastUpdatedBefore") or payload.get("createdBefore"))

    def get_order(self, order_id, included_data=INCLUDED_DATA_IMPORT):
        """One order as Amazon sends it (2026-01-01 ``Order`` or v0 header)."""
        if self.is_v0:
            api = self.client.api(OrdersV0)
            return self._v0_call("getOrder", api.get_order, order_id).payload
        api = self.client.api(OrdersV20260101)
        kwargs = {"includedData": list(included_data)} if included_data else {}
        res = self.client.call("getOrder2026", api.get_order, order_id, **kwargs)
        return (res.payload or {}).get("order") or {}

    def get_order_items(self, order_id):
        """All items of one order: getOrderItems pages (v0), or the items of one
        getOrder with their proceeds (2026-01-01; ``normalize.item_from_orders_api``
        reads both)."""
        if not self.is_v0:
            order = self.get_order(order_id, ("PROCEEDS", "PROMOTION", "FULFILLMENT"))
            return order.get("orderItems") or []
        api = self.client.api(OrdersV0)
        items, next_token = [], None
        while True:
            kwargs = {"NextToken": next_token} if next_token else {}
            payload = self._v0_call("getOrderItems", api.get_order_items, order_id, **kwargs).payload or {}
            items.extend(payload.get("OrderItems", []))
            next_token = payload.get("NextToken")
            if not next_token:
                return items

    def confirm_shipment(self, order_id, marketplace_id, package):
        """Orders API v0 ``confirmShipment`` (not deprecated; whatever the version)."""
        api = self.client.api(OrdersV0)
        return self.client.call("confirmShipment", api.confirm_shipment, order_id,
                                marketplaceId=marketplace_id, packageDetail=package)

    # ------------------------------------------------------------------ v0
    def _v0_call(self, operation, fn, *args, **kwargs):
        try:
            return self.client.call(operation, fn, *args, **kwargs)
        except errors.AmazonRequestError as exc:
            # Amazon's wording for a retired operation is not documented: a listing (no
            # order id to be unknown) answered 404, or any answer saying "retired".
            if exc.status in (404, 410) and ("retired" in str(exc).lower() or operation == "getOrders"):
                raise errors.AmazonRequestError(_lt(
                    "Amazon no longer answers Orders API v0 %(operation)s (v0 reads are retired "
                    "since %(date)s): set the seller's Orders API version to %(version)s."),
                    params={"operation": operation, "date": V0_READS_RETIRED_ON, "version": ORDERS_API_2026},
                    operation=operation, status=exc.status, amazon_code=exc.amazon_code) from None
            raise

    def _list_v0(self, marketplace_ids, *, created_after=None, created_before=None,
                 last_updated_after=None, last_updated_before=None, statuses=None,
                 channels=(MFN,), with_pii=True, order_ids=None):
        """Orders API v0 getOrders. Buyer and ship-to data come with one Restricted
        Data Token for the whole listing (it covers every page of ``/orders/v0/orders``)."""
        self._v0_api = None if with_pii else self.client.api(OrdersV0)
        params = self._v0_params(marketplace_ids, created_after=created_after,
                                 created_before=created_before,
                                 last_updated_after=last_updated_after,
                                 last_updated_before=last_updated_before, statuses=statuses,
                                 channels=channels, order_ids=order_ids)
        return self._all_pages(params)

    def _v0_params(self, marketplace_ids, *, created_after=None, created_before=None,
                   last_updated_after=None, last_updated_before=None, statuses=None,
                   channels=(MFN,), order_ids=None):
        params = {"MarketplaceIds": list(marketplace_ids), "MaxResultsPerPage": PAGE_SIZE}
        if created_after and not order_ids:
            params["CreatedAfter"] = iso_time(created_after)
        if created_before and not order_ids:
            params["CreatedBefore"] = iso_time(created_before)
        if last_updated_after:
            params["LastUpdatedAfter"] = iso_time(last_updated_after)
        if last_updated_before:
            params["LastUpdatedBefore"] = iso_time(last_updated_before)
        if statuses:
            params["OrderStatuses"] = list(statuses)
        if channels:
            params["FulfillmentChannels"] = list(channels)
        if order_ids:
            params["AmazonOrderIds"] = list(order_ids)
        return params

    def _v0_listing_api(self):
        """getOrders with buyer and ship-to data: one Restricted Data Token per
        adapter (valid an hour; a listing continued in another run gets its own)."""
        if getattr(self, "_v0_api", None) is None:
            token = self.client.create_restricted_data_token([{
                "method": "GET", "path": PATH_ORDERS_V0,
                "dataElements": ORDERS_RESTRICTED_ELEMENTS}])
            self._v0_api = self.client.api(OrdersV0, restricted_data_token=token)
        return self._v0_api


class Page:
    """One page of a listing: its orders, the token of the next page (None on
    the last), and the end of the window Amazon says it covers."""

    __slots__ = ("orders", "next_token", "window_end")

    def __init__(self, orders, next_token, window_end):
        self.orders = orders
        self.next_token = next_token
        self.window_end = window_end


def _not_after(value, latest):
    """``value`` (naive UTC datetime or ISO text) capped at ``latest``."""
    if isinstance(value, str):
        return value
    if value.tzinfo:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return min(value, latest)
