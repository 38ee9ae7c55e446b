"""Notifications API v1 of the emulator, and its ORDER_CHANGE publisher.

- Destinations (``createDestination``, ``getDestinations``, ``getDestination``,
  ``deleteDestination``) and ``getSubscriptionById`` / ``deleteSubscriptionById``
  are **grantless**: only an access token of the ``client_credentials`` grant with
  scope ``sellingpartnerapi::notifications`` is accepted (a seller's token gets
  Amazon's 403), and a grantless token is refused by every other operation.
- ``createSubscription`` / ``getSubscription`` use the seller's token; one
  subscription per seller, notification type and payload version (a second
  ``createSubscription`` answers 409 Conflict); the ``ORDER_CHANGE`` event filter
  (``eventFilterType`` required, marketplaceIds, orderChangeTypes) is checked and
  applied.
- Publishing: ``Emulator.publish_changes()`` compares the orders with what it last
  saw and sends one ORDER_CHANGE message (payload version 1.0, the shape of
  Amazon's ``OrderChangeNotification`` schema) per change to each subscribed SQS
  queue, with boto3: a new order, a status change (shipped, cancelled...) is an
  ``OrderStatusChange``; a buyer's new cancellation request a
  ``BuyerRequestedChange``. A background thread calls it every ``notify_interval``
  seconds; tests call it directly.
"""
import json
import re
import secrets
import threading
import time
import uuid
from datetime import datetime, timezone

GRANTLESS_SCOPE = "sellingpartnerapi::notifications"
GRANTLESS_OPERATIONS = {"createDestination", "getDestinations", "getDestination", "deleteDestination",
                        "getSubscriptionById", "deleteSubscriptionById"}
NOTIFICATION_USAGE_PLANS = dict.fromkeys(GRANTLESS_OPERATIONS | {"createSubscription", "getSubscription"}, (1.0, 5))
ROUTES = [
    ("GET", r"/notifications/v1/destinations", "get_destinations", "getDestinations"),
    ("POST", r"/notifications/v1/destinations", "create_destination", "createDestination"),
    ("GET", r"/notifications/v1/destinations/(?P<id>[^/]+)", "get_destination", "getDestination"),
    ("DELETE", r"/notifications/v1/destinations/(?P<id>[^/]+)", "delete_destination", "deleteDestination"),
    ("GET", r"/notifications/v1/subscriptions/(?P<kind>[A-Z_]+)", "get_subscription", "getSubscription"),
    ("POST", r"/notifications/v1/subscriptions/(?P<kind>[A-Z_]+)", "create_subscription", "createSubscription"),
    ("GET", r"/notifications/v1/subscriptions/(?P<kind>[A-Z_]+)/(?P<id>[^/]+)", "get_subscription_by_id",
     "getSubscriptionById"),
    ("DELETE", r"/notifications/v1/subscriptions/(?P<kind>[A-Z_]+)/(?P<id>[^/]+)", "delete_subscription",
     "deleteSubscriptionById"),
]
SUPPORTED_TYPES = {"ORDER_CHANGE"}
ORDER_CHANGE_TYPES = {"BuyerRequestedChange", "DeliveryTipChange", "OrderStatusChange"}
ARN = re.compile(r"^arn:aws:sqs:(?P<region>[^:\s]+):(?P<account>[^:\s]+):(?P<name>[^:\s]+)$")


def _now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        "%03dZ" % (datetime.now(timezone.utc).microsecond // 1000)


class NotificationsState:
    """The emulator's destinations, subscriptions and publishing (mixed into Emulator)."""

    def reset_notifications(self):
        self.grantless_tokens = {}     # token -> client id
        self.destinations = {}         # id -> {"destinationId", "name", "resource"}
        self.subscriptions = {}        # (refresh token, type) -> subscription
        self.published = []            # every message sent: (queue arn, body)
        self.publish_failures = 0
        self._seen = None              # order id -> (status, cancel request ids)

    # ------------------------------------------------------------- publishing
    def _order_state(self, entry):
        return (entry["order"]["OrderStatus"], tuple(sorted(entry.get("cancel_requests") or ())))

    def _snapshot(self):
        return {oid: self._order_state(entry) for oid, entry in self.scenario.orders.items()}

    def publish_changes(self):
        """Send one ORDER_CHANGE message per order change since the last call (or
        since the first subscription). Returns the number of messages sent."""
        with self.lock:
            if not self.subscriptions:
                self._seen = None
                return 0
            if self._seen is None:
                self._seen = self._snapshot()
                return 0
            changes = []
            for oid, entry in self.scenario.orders.items():
                state = self._order_state(entry)
                before = self._seen.get(oid)
                if before == state:
                    continue
                self._seen[oid] = state
                if before is None or before[0] != state[0]:
                    reason = "NewOrder" if before is None else "StatusChange"
                    changes.append((entry, "OrderStatusChange", reason))
                if set(state[1]) - set(before[1] if before else ()):
                    changes.append((entry, "BuyerRequestedChange", "BuyerRequestedCancel"))
            messages = []
            for (_principal, kind), sub in self.subscriptions.items():
                if kind != "ORDER_CHANGE":
                    continue
                destination = self.destinations.get(sub["destinationId"])
                if not destination:
                    continue
                flt = (sub.get("processingDirective") or {}).get("eventFilter") or {}
                for entry, change_type, reason in changes:
                    order = entry["order"]
                    if flt.get("marketplaceIds") and order["MarketplaceId"] not in flt["marketplaceIds"]:
                        continue
                    if flt.get("orderChangeTypes") and change_type not in flt["orderChangeTypes"]:
                        continue
                    messages.append((destination["resource"]["sqs"]["arn"],
                                     self.order_change_message(entry, change_type, reason, sub)))
        sent = 0
        for arn, body in messages:
            if self._send_sqs(arn, body):
                sent += 1
        return sent

    def order_change_message(self, entry, change_type, reason, subscription):
        order = entry["order"]
        items = []
        for item in entry["items"]:
            status = "Shipped" if item["QuantityShipped"] >= item["QuantityOrdered"] > 0 else (
                "Canceled" if order["OrderStatus"] == "Canceled" else "Unshipped")
            items.append({
                "OrderItemId": item["OrderItemId"], "SellerSKU": item["SellerSKU"],
                "SupplySourceId": "", "OrderItemStatus": status,
                "Quantity": item["QuantityOrdered"], "QuantityShipped": item["QuantityShipped"],
                "IsBuyerRequestedCancel": item["OrderItemId"] in (entry.get("cancel_requests") or {}),
                "ItemEarliestDeliveryDate": order.get("EarliestDeliveryDate") or "",
                "ItemLatestDeliveryDate": order.get("LatestDeliveryDate") or ""})
        now = _now_iso()
        return {
            "NotificationVersion": "1.0",
            "NotificationType": "ORDER_CHANGE",
            "PayloadVersion": "1.0",
            "EventTime": now,
            "Payload": {"OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": self.merchant_id,
                "AmazonOrderId": order["AmazonOrderId"],
                "OrderChangeType": change_type,
                # when the order changed: its LastUpdateDate, as Amazon's listing says it
                "OrderChangeTrigger": {"TimeOfOrderChange": order.get("LastUpdateDate") or now,
                                       "ChangeReason": reason},
                "Summary": {
                    "MarketplaceId": order["MarketplaceId"],
                    "OrderStatus": order["OrderStatus"],
                    "PurchaseDate": order["PurchaseDate"],
                    "DestinationPostalCode": (order.get("ShippingAddress") or {}).get("PostalCode") or "",
                    "FulfillmentType": order["FulfillmentChannel"],
                    "OrderType": order.get("OrderType") or "StandardOrder",
                    "NumberOfItemsShipped": order.get("NumberOfItemsShipped") or 0,
                    "NumberOfItemsUnshipped": order.get("NumberOfItemsUnshipped") or 0,
                    "EarliestShipDate": order.get("EarliestShipDate") or "",
                    "LatestShipDate": order.get("LatestShipDate") or "",
                    "OrderItems": items,
                }}},
            "NotificationMetadata": {
                "ApplicationId": "amzn1.sellerapps.app.%s" % subscription["_client_id"],
                "SubscriptionId": subscription["subscriptionId"],
                "PublishTime": now,
                "NotificationId": str(uuid.uuid4()),
            },
        }

    def _sqs(self, region):
        import boto3
        key = ("sqs", region)
        clients = self.__dict__.setdefault("_sqs_clients", {})
        if key not in clients:
            kwargs = {"region_name": region, "aws_access_key_id": "amazon-notifications",
                      "aws_secret_access_key": "amazon-notifications"}
            if self.sqs_endpoint:
                kwargs["endpoint_url"] = self.sqs_endpoint
            clients[key] = boto3.session.Session().client("sqs", **kwargs)
        return clients[key]

    def _queue_url(self, arn):
        match = ARN.match(arn)
        if not match:
            return None
        sqs = self._sqs(match["region"])
        try:
            return sqs.get_queue_url(QueueName=match["name"],
                                     QueueOwnerAWSAccountId=match["account"])["QueueUrl"]
        except Exception:  # noqa: BLE001 - any SQS refusal: Amazon cannot deliver
            return None

    def _send_sqs(self, arn, body):
        """Amazon delivers to the queue; when it cannot, the message is lost to us
        (Amazon retries for a while, then drops it): the safety net listing finds it."""
        url = self._queue_url(arn)
        if url:
            try:
                self._sqs(ARN.match(arn)["region"]).send_message(QueueUrl=url, MessageBody=json.dumps(body))
                with self.lock:
                    self.published.append((arn, body))
                return True
            except Exception:  # noqa: BLE001
                pass
        with self.lock:
            self.publish_failures += 1
        return False

    # ----------------------------------------------------------------- live mode
    def start_publisher(self, interval=0.5, live_every=None, live_factory=None):
        """A thread publishing changes every ``interval`` seconds; with ``live_every``,
        it also places a new order (``live_factory()``) every ``live_every`` seconds."""
        def loop():
            last_order = time.monotonic()
            while not self._publisher_stop.is_set():
                if live_every and live_factory and time.monotonic() - last_order >= live_every:
                    with self.lock:
                        live_factory()
                    last_order = time.monotonic()
                try:
                    self.publish_changes()
                except Exception:  # noqa: BLE001 - keep publishing
                    pass
                self._publisher_stop.wait(interval)
        self._publisher_stop = threading.Event()
        self._publisher = threading.Thread(target=loop, daemon=True, name="spapi-notifications")
        self._publisher.start()

    def stop_publisher(self):
        if getattr(self, "_publisher", None):
            self._publisher_stop.set()
            self._publisher.join(5)
            self._publisher = None


class NotificationsHandlerMixin:
    """HTTP handlers of the Notifications API (mixed into the request handler)."""

    def _grantless_principal(self):
        emu = self.emulator
        token = self.headers.get("x-amz-access-token", "")
        with emu.lock:
            client_id = emu.grantless_tokens.get(token)
        if client_id is None:
            self._error(403, "Unauthorized", "Access to requested resource is denied.",
                        "This operation is grantless: it needs an access token of the "
                        "client_credentials grant with scope %s." % GRANTLESS_SCOPE)
            return None
        return "grantless:" + client_id

    def _json_body(self):
        try:
            data = json.loads(self.body or b"null")
        except ValueError:
            self._error(400, "InvalidInput", "The request body is not valid JSON.")
            return None
        if not isinstance(data, dict):
            self._error(400, "InvalidInput", "The request body must be a JSON object.")
            return None
        return data

    def h_get_destinations(self):
        self._send(200, {"payload": list(self.emulator.destinations.values())})

    def h_get_destination(self, id):
        dest = self.emulator.destinations.get(id)
        if not dest:
            return self._error(404, "NotFound", "Destination %s not found" % id)
        self._send(200, {"payload": dest})

    def h_create_destination(self):
        emu = self.emulator
        data = self._json_body()
        if data is None:
            return None
        spec = data.get("resourceSpecification") or {}
        if not data.get("name") or not isinstance(spec, dict) or not spec:
            return self._error(400, "InvalidInput", "name and resourceSpecification are required.")
        if len(data["name"]) > 256:
            return self._error(400, "InvalidInput", "name is longer than 256 characters.")
        arn = (spec.get("sqs") or {}).get("arn") or ""
        if not ARN.match(arn):
            return self._error(400, "InvalidInput", "resourceSpecification.sqs.arn is not an SQS queue ARN.")
        for dest in emu.destinations.values():
            if dest["resource"].get("sqs", {}).get("arn") == arn:
                return self._error(409, "Conflict", "A destination for %s already exists: %s."
                                   % (arn, dest["destinationId"]))
        if emu.check_queues and emu._queue_url(arn) is None:
            return self._error(400, "InvalidInput", "Amazon cannot send messages to %s: the queue does "
                               "not exist or its policy does not allow Amazon to send." % arn)
        dest_id = str(uuid.uuid4())
        emu.destinations[dest_id] = {"destinationId": dest_id, "name": data["name"],
                                     "resource": {"sqs": {"arn": arn}}}
        self._send(200, {"payload": emu.destinations[dest_id]})

    def h_delete_destination(self, id):
        emu = self.emulator
        if id not in emu.destinations:
            return self._error(404, "NotFound", "Destination %s not found" % id)
        if any(s["destinationId"] == id for s in emu.subscriptions.values()):
            return self._error(409, "Conflict", "The destination has subscriptions: delete them first.")
        del emu.destinations[id]
        self._send(200, {})

    def _check_kind(self, kind):
        if kind not in SUPPORTED_TYPES:
            self._error(400, "InvalidInput", "Unsupported notificationType %s." % kind)
            return False
        return True

    def h_get_subscription(self, kind):
        if not self._check_kind(kind):
            return None
        sub = self.emulator.subscriptions.get((self.principal, kind))
        if not sub:
            return self._error(404, "NotFound", "No subscription for %s." % kind)
        self._send(200, {"payload": _public(sub)})

    def h_create_subscription(self, kind):
        emu = self.emulator
        if not self._check_kind(kind):
            return None
        data = self._json_body()
        if data is None:
            return None
        if not data.get("destinationId") or not data.get("payloadVersion"):
            return self._error(400, "InvalidInput", "destinationId and payloadVersion are required.")
        if data["payloadVersion"] != "1.0":
            return self._error(400, "InvalidInput", "payloadVersion %s is not supported for %s."
                               % (data["payloadVersion"], kind))
        if data["destinationId"] not in emu.destinations:
            return self._error(404, "NotFound", "Destination %s not found." % data["destinationId"])
        directive = data.get("processingDirective")
        if directive is not None:
            flt = (directive or {}).get("eventFilter")
            if flt is not None:
                if flt.get("eventFilterType") != "ORDER_CHANGE":
                    return self._error(400, "InvalidInput", "eventFilter.eventFilterType is required and "
                                       "must be ORDER_CHANGE for ORDER_CHANGE.")
                bad = set(flt.get("orderChangeTypes") or ()) - ORDER_CHANGE_TYPES
                if bad:
                    return self._error(400, "InvalidInput", "Unknown orderChangeTypes: %s." % ", ".join(sorted(bad)))
                if not isinstance(flt.get("marketplaceIds", []), list):
                    return self._error(400, "InvalidInput", "marketplaceIds must be a list.")
        key = (self.principal, kind)
        if key in emu.subscriptions:
            return self._error(409, "Conflict", "You have already subscribed to %s with subscription "
                               "id %s." % (kind, emu.subscriptions[key]["subscriptionId"]))
        sub = {"subscriptionId": str(uuid.uuid4()), "payloadVersion": data["payloadVersion"],
               "destinationId": data["destinationId"],
               "_client_id": emu.refresh_tokens[self.principal]["client_id"]}
        if directive:
            sub["processingDirective"] = directive
        emu.subscriptions[key] = sub
        self._send(200, {"payload": _public(sub)})

    def h_get_subscription_by_id(self, kind, id):
        for sub in self.emulator.subscriptions.values():
            if sub["subscriptionId"] == id:
                return self._send(200, {"payload": _public(sub)})
        self._error(404, "NotFound", "Subscription %s not found." % id)

    def h_delete_subscription(self, kind, id):
        emu = self.emulator
        for key, sub in list(emu.subscriptions.items()):
            if sub["subscriptionId"] == id and key[1] == kind:
                del emu.subscriptions[key]
                return self._send(200, {})
        self._error(404, "NotFound", "Subscription %s not found." % id)

    def lwa_client_credentials(self, form):
        """The client_credentials grant (grantless operations)."""
        emu = self.emulator
        if form.get("scope") != GRANTLESS_SCOPE:
            return self._send(400, {"error": "invalid_scope",
                                    "error_description": "The requested scope is invalid"})
        token = "Atc|" + secrets.token_urlsafe(24)
        emu.grantless_tokens[token] = form["client_id"]
        self._send(200, {"access_token": token, "scope": GRANTLESS_SCOPE,
                         "token_type": "bearer", "expires_in": 3600})


def _public(sub):
    return {k: v for k, v in sub.items() if not k.startswith("_")}
