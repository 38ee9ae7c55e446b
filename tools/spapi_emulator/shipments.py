"""Shipment confirmations and cancellations, as Amazon keeps them.

State lives beside each scenario entry (never inside the v0 ``order`` /
``items`` dicts, which must stay valid Orders API v0 shapes):

- ``entry["packages"]``: ``{packageReferenceId: package}`` (a re-send with the
  same reference edits the package, like Amazon does);
- ``entry["cancellation"]``: ``{"by", "reason"}`` once the order is cancelled;
- ``entry["item_cancellations"]``: ``{orderItemId: {"by", "reason", "quantity"}}``;
- ``entry["cancel_requests"]``: ``{orderItemId: {"reason"}}`` (a buyer asked).

``confirm_shipment`` validates a request like Amazon: required fields, ISO
dates, known order items, quantities left to ship, carrier ``Other`` needs a
name, carrier codes from Amazon's list. ``v2026_packages`` and
``v2026_item_cancellation`` render the same state in Orders API 2026-01-01
shapes (``PACKAGES`` and ``CANCELLATION`` included data).
"""
import re
from datetime import datetime, timezone

from .scenario import iso

# Amazon's carrier codes for confirmShipment (the ``CarrierCode`` values of
# Seller Central's "Confirm shipment" list, all marketplaces).
CARRIER_CODES = (
    "USPS", "UPS", "UPSMI", "FedEx", "DHL", "DHL eCommerce", "DHL Global Mail", "Fastway", "GLS",
    "GO!", "Hermes", "Hermes Logistik Gruppe", "Royal Mail", "Parcelforce", "City Link", "TNT",
    "Target", "OnTrac", "Lasership", "Streamlite", "Newgistics", "Canada Post", "Purolator",
    "Canpar", "Chronopost", "Colissimo", "Deutsche Post", "DPD", "La Poste", "Poste Italiane",
    "SDA", "BRT", "Bartolini", "Correos", "Seur", "MRW", "Nacex", "Yodel", "Asendia",
    "Australia Post", "StarTrack", "Toll", "Sendle", "Aramex", "India Post", "Blue Dart",
    "Delhivery", "DTDC", "Japan Post", "Yamato Transport", "Sagawa Express", "Nippon Express",
    "Seino Transportation", "Amazon Shipping", "PostNL", "Bpost", "Post NL", "Austrian Post",
    "Swiss Post", "Mondial Relay", "Colis Prive", "InPost", "Poczta Polska", "PostNord",
    "Evri", "Other",
)
_CODES = {c.lower(): c for c in CARRIER_CODES}


class ShipmentError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _invalid(message):
    return ShipmentError(400, "InvalidInput", message)


def _parse_date(value):
    if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", value):
        raise _invalid("shipDate %r is not an ISO 8601 date-time." % (value,))
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid("shipDate %r is not an ISO 8601 date-time." % (value,)) from None


def quantity_shipped(entry, exclude_ref=None):
    shipped = {}
    for ref, package in (entry.get("packages") or {}).items():
        if ref == exclude_ref:
            continue
        for item in package["orderItems"]:
            shipped[item["orderItemId"]] = shipped.get(item["orderItemId"], 0) + item["quantity"]
    return shipped


def confirm_shipment(entry, body, now=None):
    """Validate and record one confirmation; raises ``ShipmentError``."""
    order = entry["order"]
    if not isinstance(body, dict):
        raise _invalid("The request body must be a JSON object.")
    for key in ("marketplaceId", "packageDetail"):
        if not body.get(key):
            raise _invalid("Missing required field: %s." % key)
    if body["marketplaceId"] != order["MarketplaceId"]:
        raise _invalid("Order %s does not belong to marketplace %s."
                       % (order["AmazonOrderId"], body["marketplaceId"]))
    package = body["packageDetail"]
    if not isinstance(package, dict):
        raise _invalid("packageDetail must be an object.")
    for key in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate", "orderItems"):
        if package.get(key) in (None, "", []):
            raise _invalid("Missing required field: packageDetail.%s." % key)
    ref = package["packageReferenceId"]
    if not isinstance(ref, str) or not ref.isdigit() or int(ref) <= 0:
        raise _invalid("packageReferenceId %r must be a positive number (sent as a string)." % (ref,))
    code = package["carrierCode"]
    if not isinstance(code, str) or code.lower() not in _CODES:
        raise _invalid("Invalid carrierCode %r: not an Amazon carrier code. Use one of Amazon's "
                       "carrier codes, or Other with carrierName." % (code,))
    if _CODES[code.lower()] == "Other" and not (package.get("carrierName") or "").strip():
        raise _invalid("carrierName is required when carrierCode is Other.")
    if not isinstance(package["trackingNumber"], str) or not package["trackingNumber"].strip():
        raise _invalid("Missing required field: packageDetail.trackingNumber.")
    ship_date = _parse_date(package["shipDate"])
    if order["OrderStatus"] == "Canceled":
        raise _invalid("Order %s is cancelled: it cannot be confirmed as shipped." % order["AmazonOrderId"])
    if order["OrderStatus"] in ("Pending", "PendingAvailability"):
        raise _invalid("Order %s is pending (payment not authorised): it cannot be shipped yet."
                       % order["AmazonOrderId"])
    items = {item["OrderItemId"]: item for item in entry["items"]}
    shipped = quantity_shipped(entry, exclude_ref=ref)
    seen = {}
    for line in package["orderItems"]:
        if not isinstance(line, dict) or not line.get("orderItemId") or "quantity" not in line:
            raise _invalid("Each orderItems entry needs orderItemId and quantity.")
        item_id, qty = line["orderItemId"], line["quantity"]
        if item_id not in items:
            raise _invalid("Order item %s is not part of order %s." % (item_id, order["AmazonOrderId"]))
        if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
            raise _invalid("quantity %r of order item %s must be a positive whole number." % (qty, item_id))
        seen[item_id] = seen.get(item_id, 0) + qty
    for item_id, qty in seen.items():
        left = items[item_id]["QuantityOrdered"] - shipped.get(item_id, 0)
        if qty > left:
            raise _invalid("Quantity %d of order item %s exceeds the quantity left to ship (%d): "
                           "already shipped %d of %d." % (qty, item_id, max(left, 0),
                                                         shipped.get(item_id, 0),
                                                         items[item_id]["QuantityOrdered"]))
    now = now or datetime.now(timezone.utc)
    record = {
        "packageReferenceId": ref, "carrierCode": _CODES[code.lower()],
        "carrierName": package.get("carrierName") or "", "shippingMethod": package.get("shippingMethod") or "",
        "trackingNumber": package["trackingNumber"], "shipDate": iso(ship_date),
        "orderItems": [{"orderItemId": k, "quantity": v} for k, v in seen.items()],
        "createdTime": (entry.get("packages") or {}).get(ref, {}).get("createdTime") or iso(now),
    }
    entry.setdefault("packages", {})[ref] = record
    _update_status(entry, now)
    return record


def _update_status(entry, now):
    order = entry["order"]
    shipped = quantity_shipped(entry)
    total_shipped = total_unshipped = 0
    for item in entry["items"]:
        qty = min(shipped.get(item["OrderItemId"], 0), item["QuantityOrdered"])
        item["QuantityShipped"] = qty
        total_shipped += qty
        total_unshipped += item["QuantityOrdered"] - qty
    order["NumberOfItemsShipped"] = total_shipped
    order["NumberOfItemsUnshipped"] = total_unshipped
    if total_shipped and not total_unshipped:
        order["OrderStatus"] = "Shipped"
    elif total_shipped:
        order["OrderStatus"] = "PartiallyShipped"
    order["LastUpdateDate"] = iso(now)


# ------------------------------------------------------------------ control
def cancel_order(entry, by="BUYER", reason="", now=None):
    now = now or datetime.now(timezone.utc)
    order = entry["order"]
    if order["OrderStatus"] == "Shipped":
        raise ValueError("Amazon does not cancel a shipped order")
    order["OrderStatus"] = "Canceled"
    order["NumberOfItemsUnshipped"] = 0
    order["LastUpdateDate"] = iso(now)
    entry["cancellation"] = {"by": by, "reason": reason}
    entry.pop("cancel_requests", None)


def cancel_item(entry, order_item_id, quantity=None, by="MERCHANT", reason="", now=None):
    """Cancel ``quantity`` (default: all unshipped) units of one item. Like
    Amazon's v0 answers, the item's QuantityOrdered drops to what remains."""
    now = now or datetime.now(timezone.utc)
    item = next(i for i in entry["items"] if i["OrderItemId"] == order_item_id)
    unshipped = item["QuantityOrdered"] - item["QuantityShipped"]
    quantity = unshipped if quantity is None else quantity
    if quantity > unshipped:
        raise ValueError("only %d unit(s) of %s are unshipped" % (unshipped, order_item_id))
    item["QuantityOrdered"] -= quantity
    entry.setdefault("item_cancellations", {})[order_item_id] = {
        "by": by, "reason": reason,
        "quantity": entry.get("item_cancellations", {}).get(order_item_id, {}).get("quantity", 0) + quantity}
    (entry.get("cancel_requests") or {}).pop(order_item_id, None)
    if not any(i["QuantityOrdered"] for i in entry["items"]):
        cancel_order(entry, by=by, reason=reason, now=now)
        return
    _update_status(entry, now)


def request_cancellation(entry, reason="", order_item_id=None, now=None):
    """A buyer asks to cancel (all items, or one): v0 ``BuyerRequestedCancel``,
    v2026 ``cancellation.cancellationRequest``."""
    now = now or datetime.now(timezone.utc)
    ids = [order_item_id] if order_item_id else [i["OrderItemId"] for i in entry["items"]]
    requests = entry.setdefault("cancel_requests", {})
    for item in entry["items"]:
        if item["OrderItemId"] in ids:
            requests[item["OrderItemId"]] = {"reason": reason}
            item["BuyerRequestedCancel"] = {"IsBuyerRequestedCancel": "true", "BuyerCancelReason": reason}
    entry["order"]["LastUpdateDate"] = iso(now)


def decline_cancellation(entry, now=None):
    """The seller declined the buyer's request (Seller Central): it is gone."""
    now = now or datetime.now(timezone.utc)
    entry.pop("cancel_requests", None)
    for item in entry["items"]:
        item.pop("BuyerRequestedCancel", None)
    entry["order"]["LastUpdateDate"] = iso(now)


# ------------------------------------------------------------- v2026 shapes
def v2026_packages(entry):
    """``packages`` of an Orders API 2026-01-01 order (``PACKAGES`` included data)."""
    out = []
    for ref, package in sorted((entry.get("packages") or {}).items(), key=lambda kv: int(kv[0])):
        carrier = package["carrierName"] if package["carrierCode"] == "Other" else package["carrierCode"]
        item = {"packageReferenceId": ref, "createdTime": package["createdTime"],
                "packageStatus": {"status": "SHIPPED"}, "carrier": carrier,
                "shipTime": package["shipDate"], "trackingNumber": package["trackingNumber"],
                "packageItems": [dict(i) for i in package["orderItems"]]}
        if package["shippingMethod"]:
            item["shippingService"] = package["shippingMethod"]
        out.append(item)
    return out


def v2026_item_cancellation(entry, order_item_id):
    """``cancellation`` of one 2026-01-01 order item (``CANCELLATION`` data), or None."""
    out = {}
    request = (entry.get("cancel_requests") or {}).get(order_item_id)
    if request is not None:
        out["cancellationRequest"] = {"requester": "BUYER", "cancelReason": request["reason"]}
    done = (entry.get("item_cancellations") or {}).get(order_item_id) or entry.get("cancellation")
    if done:
        out["cancellationExecution"] = {"cancelledBy": done["by"], "cancelReason": done["reason"]}
    return out or None
