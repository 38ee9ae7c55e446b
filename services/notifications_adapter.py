"""Every Notifications API v1 call goes through this adapter.

``ORDER_CHANGE`` notifications reach an SQS queue in two steps:

1. a *destination*: the queue's ARN, registered once per application
   (``createDestination`` / ``getDestinations``, **grantless**: their LWA token
   comes from the ``client_credentials`` grant with scope
   ``sellingpartnerapi::notifications``, not from the seller's refresh token);
2. a *subscription* of the seller to ``ORDER_CHANGE`` on that destination
   (``createSubscription`` / ``getSubscription``, the seller's own token), with
   an event filter: the seller's marketplaces, and the order changes
   ``OrderStatusChange`` and ``BuyerRequestedChange``.

``deleteSubscriptionById`` (grantless) ends the subscription. What exists
already is found again, never created twice: ``subscribe`` may run any number
of times.
"""
from datetime import datetime, timezone
from urllib.parse import urlsplit

from sp_api.api import Notifications

from . import errors
from .const import (
    NOTIFICATION_DESTINATION_PREFIX,
    NOTIFICATION_ORDER_CHANGE,
    NOTIFICATION_PAYLOAD_VERSION,
    NOTIFICATIONS_PATH,
    ORDER_CHANGE_TYPES,
)


class _Notifications(Notifications):
    """The library's grantless requests name the host by cutting ``https://`` off the
    endpoint; any base URL (an emulator on ``http://``) needs the real host."""

    def _request_grantless_operation(self, path, *, data=None, params=None):
        headers = {
            "host": urlsplit(self.endpoint).netloc,
            "user-agent": self.user_agent,
            "x-amz-access-token": self.grantless_auth.access_token,
            "x-amz-date": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
            "content-type": "application/json",
        }
        return self._request(path, data=data, params=params, headers=headers)


def destination_name(queue_arn):
    """Our name for the destination of a queue (Amazon's limit: 256 characters)."""
    return ("%s-%s" % (NOTIFICATION_DESTINATION_PREFIX, queue_arn.rsplit(":", 1)[-1]))[:256]


def event_filter(marketplace_ids):
    return {"eventFilter": {
        "eventFilterType": NOTIFICATION_ORDER_CHANGE,
        "marketplaceIds": sorted(marketplace_ids),
        "orderChangeTypes": list(ORDER_CHANGE_TYPES),
    }}


class NotificationsAdapter:
    def __init__(self, client):
        self.client = client

    @property
    def api(self):
        return self.client.api(_Notifications)

    # ------------------------------------------------------------ destinations
    def get_destinations(self):
        api = self.api
        res = self.client.call("getDestinations", api._request_grantless_operation,
                               NOTIFICATIONS_PATH + "/destinations", params={"method": "GET"})
        return res.payload or []

    def find_destination(self, queue_arn):
        for destination in self.get_destinations():
            if ((destination.get("resource") or {}).get("sqs") or {}).get("arn") == queue_arn:
                return destination
        return None

    def create_destination(self, queue_arn, name=None):
        api = self.api
        body = {"name": name or destination_name(queue_arn),
                "resourceSpecification": {"sqs": {"arn": queue_arn}}}
        res = self.client.call("createDestination", api._request_grantless_operation,
                               NOTIFICATIONS_PATH + "/destinations", data=dict(body, method="POST"))
        return res.payload

    def ensure_destination(self, queue_arn):
        """The destination of the queue: found again, else created (once)."""
        found = self.find_destination(queue_arn)
        if found:
            return found, False
        try:
            return self.create_destination(queue_arn), True
        except errors.AmazonRequestError as exc:
            if exc.status != 409:
                raise
            # Created in between (another server): read it back.
            found = self.find_destination(queue_arn)
            if not found:
                raise
            return found, False

    # ------------------------------------------------------------ subscriptions
    def get_subscription(self):
        """The seller's ORDER_CHANGE subscription, or None."""
        api = self.api
        try:
            res = self.client.call("getSubscription", api.get_subscription, NOTIFICATION_ORDER_CHANGE,
                                   payloadVersion=NOTIFICATION_PAYLOAD_VERSION)
        except errors.AmazonRequestError as exc:
            if exc.status == 404:
                return None
            raise
        return res.payload or None

    def create_subscription(self, destination_id, marketplace_ids):
        api = self.api
        res = self.client.call("createSubscription", api.create_subscription, NOTIFICATION_ORDER_CHANGE,
                               destination_id=destination_id,
                               payload_version=NOTIFICATION_PAYLOAD_VERSION,
                               processingDirective=event_filter(marketplace_ids))
        return res.payload

    def delete_subscription(self, subscription_id):
        api = self.api
        path = "%s/subscriptions/%s/%s" % (NOTIFICATIONS_PATH, NOTIFICATION_ORDER_CHANGE, subscription_id)
        try:
            self.client.call("deleteSubscriptionById", api._request_grantless_operation, path,
                             params={"method": "DELETE"})
        except errors.AmazonRequestError as exc:
            if exc.status != 404:   # gone already: what was asked
                raise
        return True

    def subscribe(self, queue_arn, marketplace_ids):
        """Destination and subscription for ``ORDER_CHANGE``: what exists is kept when
        it already points at the queue with the same filter; a subscription to another
        destination or filter is replaced. Returns ``(destination, subscription)``."""
        destination, _created = self.ensure_destination(queue_arn)
        wanted = event_filter(marketplace_ids)["eventFilter"]
        current = self.get_subscription()
        if current:
            have = (current.get("processingDirective") or {}).get("eventFilter") or {}
            same_filter = (sorted(have.get("marketplaceIds") or []) == wanted["marketplaceIds"]
                           and sorted(have.get("orderChangeTypes") or []) == sorted(wanted["orderChangeTypes"]))
            if current.get("destinationId") == destination["destinationId"] and same_filter:
                return destination, current
            self.delete_subscription(current["subscriptionId"])
        try:
            subscription = self.create_subscription(destination["destinationId"], marketplace_ids)
        except errors.AmazonRequestError as exc:
            if exc.status != 409:
                raise
            subscription = self.get_subscription()
            if not subscription:
                raise
        return destination, subscription

    def unsubscribe(self, subscription_id=None):
        """Ends the seller's ORDER_CHANGE subscription (the destination stays: other
        sellers of the application may use the same queue)."""
        if not subscription_id:
            current = self.get_subscription()
            subscription_id = current and current.get("subscriptionId")
        if subscription_id:
            self.delete_subscription(subscription_id)
        return bool(subscription_id)
