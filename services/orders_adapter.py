"""Every Orders API call goes through this adapter.

It speaks Orders API v0 today. Orders API v0 is deprecated in favour of
2026-01-01 (migration due 2027-03-27): the move touches this file only; the
rest of the addon sees plain dicts in v0's shape (``AmazonOrderId``,
``OrderItems``...) and the normalised orders of ``normalize``.
"""
from sp_api.api import OrdersV0

from .const import ORDERS_RESTRICTED_ELEMENTS
from .spapi_client import _iso

PAGE_SIZE = 100


class OrdersAdapter:
    def __init__(self, client):
        self.client = client

    def list_orders(self, marketplace_ids, *, created_after=None, created_before=None,
                    last_updated_after=None, statuses=None, channels=("MFN",),
                    with_pii=True, order_ids=None):
        """Yield every order header of the window, all pages, 100 a page.

        Buyer and ship-to data come with one Restricted Data Token for the
        whole listing (the token covers every page of ``/orders/v0/orders``).
        """
        token = None
        if with_pii:
            token = self.client.create_restricted_data_token([{
                "method": "GET", "path": "/orders/v0/orders",
                "dataElements": ORDERS_RESTRICTED_ELEMENTS}])
        api = self.client.api(OrdersV0, restricted_data_token=token)
        params = {"MarketplaceIds": list(marketplace_ids), "MaxResultsPerPage": PAGE_SIZE}
        if created_after:
            params["CreatedAfter"] = _iso(created_after)
        if created_before:
            params["CreatedBefore"] = _iso(created_before)
        if last_updated_after:
            params["LastUpdatedAfter"] = _iso(last_updated_after)
        if statuses:
            params["OrderStatuses"] = list(statuses)
        if channels:
            params["FulfillmentChannels"] = list(channels)
        if order_ids:
            params["AmazonOrderIds"] = list(order_ids)
        next_token = None
        while True:
            page_params = {"NextToken": next_token, "MarketplaceIds": params["MarketplaceIds"]} \
                if next_token else dict(params)
            payload = self.client.call("getOrders", api.get_orders, **page_params).payload or {}
            yield from payload.get("Orders", [])
            next_token = payload.get("NextToken")
            if not next_token:
                return

    def get_order_items(self, order_id):
        """All items of one order (getOrderItems pages)."""
        api = self.client.api(OrdersV0)
        items, next_token = [], None
        while True:
            kwargs = {"NextToken": next_token} if next_token else {}
            payload = self.client.call("getOrderItems", api.get_order_items, order_id, **kwargs).payload or {}
            items.extend(payload.get("OrderItems", []))
            next_token = payload.get("NextToken")
            if not next_token:
                return items

    def confirm_shipment(self, order_id, marketplace_id, package):
        api = self.client.api(OrdersV0)
        return self.client.call("confirmShipment", api.confirm_shipment, order_id,
                                marketplaceId=marketplace_id, packageDetail=package)
