"""Orders API 2026-01-01 in the emulator: ``searchOrders`` and ``getOrder``.

The scenario keeps each order in v0 shape; ``order_2026`` tells the same
story in 2026-01-01 shape, so both APIs always agree. What Amazon documents
as conditional stays conditional:

- every dataset but the order's core and its items' products comes only when
  asked for in ``includedData`` (BUYER, RECIPIENT, PROCEEDS, FULFILLMENT...);
- buyer data, the full delivery address, gift messages and buyer tax
  registrations come only when the app has the buyer PII role (no Restricted
  Data Token in 2026-01-01: a token is not looked at); without it the address
  is reduced to city, region, postal code and country;
- the phone number is withheld for shipped orders;
- ``paginationToken`` is accepted only with the same other parameters as the
  request that returned it, and for 24 hours;
- ``createdBefore`` / ``lastUpdatedBefore`` must be two minutes in the past.

``Emulator.v0_reads_retired`` makes the v0 read operations answer as after
2027-03-27, while ``confirmShipment`` keeps working.
"""
import base64
import hashlib
import json
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from . import shipments
from .scenario import MARKETPLACES, iso

INCLUDED_DATA = ("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION",
                 "FULFILLMENT", "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS")
FULFILLMENT_STATUSES = {
    "PendingAvailability": "PENDING_AVAILABILITY", "Pending": "PENDING", "Unshipped": "UNSHIPPED",
    "PartiallyShipped": "PARTIALLY_SHIPPED", "Shipped": "SHIPPED", "Canceled": "CANCELLED",
    "Unfulfillable": "UNFULFILLABLE"}
V0_STATUS = {v: k for k, v in FULFILLMENT_STATUSES.items()}
FULFILLED_BY = {"MFN": "MERCHANT", "AFN": "AMAZON"}
V0_READS = ("getOrders", "getOrder", "getOrderItems", "getOrderAddress", "getOrderBuyerInfo",
            "getOrderItemsBuyerInfo")
V0_RETIRED_ON = "2027-03-27"
PII_ROLE = "buyer_pii"
TOKEN_TTL = 24 * 3600
MIN_AGE = timedelta(minutes=2)
ZERO = Decimal("0")


def _money(currency, amount):
    return {"amount": str(Decimal(amount).quantize(Decimal("0.01"))), "currencyCode": currency}


def _amount(v0money):
    return Decimal((v0money or {}).get("Amount") or "0")


def _window(earliest, latest):
    out = {}
    if earliest:
        out["earliestDateTime"] = earliest
    if latest:
        out["latestDateTime"] = latest
    return out


def item_proceeds(item, currency, vat_inclusive):
    """An item's v0 amounts as 2026-01-01 proceeds breakdowns, and the item's
    share of the order total (v0's OrderTotal arithmetic)."""
    gift = item.get("BuyerInfo") or {}
    price, ship = _amount(item["ItemPrice"]), _amount(item.get("ShippingPrice"))
    wrap = _amount(gift.get("GiftWrapPrice"))
    taxes = {"ITEM": _amount(item.get("ItemTax")), "SHIPPING": _amount(item.get("ShippingTax")),
             "GIFT_WRAP": _amount(gift.get("GiftWrapTax")),
             "DISCOUNT": -(_amount(item.get("PromotionDiscountTax"))
                           + _amount(item.get("ShippingDiscountTax")))}
    discounts = {"ITEM": -_amount(item.get("PromotionDiscount")),
                 "SHIPPING": -_amount(item.get("ShippingDiscount"))}
    breakdowns = [{"type": "ITEM", "subtotal": _money(currency, price)}]
    if ship:
        breakdowns.append({"type": "SHIPPING", "subtotal": _money(currency, ship)})
    if wrap:
        breakdowns.append({"type": "GIFT_WRAP", "subtotal": _money(currency, wrap)})
    tax = sum(taxes.values(), ZERO)
    # A TAX breakdown whenever Amazon stated the tax, an explicit zero too (zero-rated
    # goods, exports); none when it stated no tax (v0: no ItemTax).
    if any(taxes.values()) or item.get("ItemTax") is not None:
        breakdowns.append({"type": "TAX", "subtotal": _money(currency, tax), "detailedBreakdowns": [
            {"subtype": k, "value": _money(currency, v)} for k, v in taxes.items() if v]})
    discount = sum(discounts.values(), ZERO)
    if discount:
        breakdowns.append({"type": "DISCOUNT", "subtotal": _money(currency, discount),
                           "detailedBreakdowns": [{"subtype": k, "value": _money(currency, v)}
                                                  for k, v in discounts.items() if v]})
    total = price + ship + wrap + discount + (ZERO if vat_inclusive else tax)
    return {"proceedsTotal": _money(currency, total), "breakdowns": breakdowns}, total


def order_2026(entry, included, pii):
    """The scenario's order (v0 shape) as an Orders API 2026-01-01 ``Order``."""
    o, items = entry["order"], entry["items"]
    included = set(included or ())
    currency = o["OrderTotal"]["CurrencyCode"]
    vat_inclusive = MARKETPLACES[o["MarketplaceId"]][2] is not None
    shipped = o["OrderStatus"] == "Shipped"
    out = {
        "orderId": o["AmazonOrderId"],
        "createdTime": o["PurchaseDate"],
        "lastUpdatedTime": o["LastUpdateDate"],
        "programs": [name for flag, name in (("IsBusinessOrder", "AMAZON_BUSINESS"), ("IsPrime", "PRIME"))
                     if o.get(flag)],
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": o["MarketplaceId"],
                         "marketplaceName": o["SalesChannel"]},
    }
    if o.get("SellerOrderId") and o["SellerOrderId"] != o["AmazonOrderId"]:
        out["orderAliases"] = [{"aliasId": o["SellerOrderId"], "aliasType": "SELLER_ORDER_ID"}]
    buyer_info = o.get("BuyerInfo") or {}
    if "BUYER" in included and pii:
        buyer = {"buyerName": buyer_info.get("BuyerName", ""), "buyerEmail": buyer_info.get("BuyerEmail", "")}
        if buyer_info.get("BuyerCompanyName"):
            buyer["buyerCompanyName"] = buyer_info["BuyerCompanyName"]
        if buyer_info.get("PurchaseOrderNumber"):
            buyer["buyerPurchaseOrderNumber"] = buyer_info["PurchaseOrderNumber"]
        out["buyer"] = buyer
    if "RECIPIENT" in included:
        a = o["ShippingAddress"]
        address = {"city": a.get("City", ""), "stateOrRegion": a.get("StateOrRegion", ""),
                   "postalCode": a.get("PostalCode", ""), "countryCode": a.get("CountryCode", "")}
        if pii:
            address.update(name=a.get("Name", ""), addressLine1=a.get("AddressLine1", ""),
                           addressType=(a.get("AddressType") or "Residential").upper())
            for v0_key, key in (("AddressLine2", "addressLine2"), ("AddressLine3", "addressLine3")):
                if a.get(v0_key):
                    address[key] = a[v0_key]
            if a.get("Phone") and not shipped:
                address["phone"] = a["Phone"]
        out["recipient"] = {"deliveryAddress": address}
    if "TAX" in included and pii and buyer_info.get("BuyerTaxInfo"):
        tax_info = buyer_info["BuyerTaxInfo"]
        out["tax"] = {"taxRegistrations": [
            {"entityType": "BUYER", "legalName": tax_info.get("CompanyLegalName", ""),
             "taxRegistrationType": "VAT", "taxRegistrationNumber": c["Value"]}
            for c in tax_info.get("TaxClassifications") or [] if c.get("Value")]}
    if "FULFILLMENT" in included:
        fulfillment = {
            "fulfillmentStatus": FULFILLMENT_STATUSES[o["OrderStatus"]],
            "fulfilledBy": FULFILLED_BY.get(o["FulfillmentChannel"], "MERCHANT"),
            "fulfillmentServiceLevel": (o.get("ShipmentServiceLevelCategory") or "Standard").upper(),
            "shipByWindow": _window(o.get("EarliestShipDate"), o.get("LatestShipDate"))}
        if o.get("LatestDeliveryDate"):
            fulfillment["deliverByWindow"] = _window(o.get("EarliestDeliveryDate"), o["LatestDeliveryDate"])
        out["fulfillment"] = fulfillment
    grand, totals = ZERO, {}
    order_items = []
    for it in items:
        gift = it.get("BuyerInfo") or {}
        qty = it["QuantityOrdered"]
        unit = _amount(it["ItemPrice"]) / qty if qty else _amount(it["ItemPrice"])
        item = {"orderItemId": it["OrderItemId"], "quantityOrdered": qty,
                "product": {"asin": it["ASIN"], "title": it["Title"], "sellerSku": it["SellerSKU"],
                            "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                            "price": {"unitPrice": _money(currency, unit)}}}
        proceeds, share = item_proceeds(it, currency, vat_inclusive)
        grand += share
        for part in proceeds["breakdowns"]:
            totals[part["type"]] = totals.get(part["type"], ZERO) + Decimal(part["subtotal"]["amount"])
        if "PROCEEDS" in included:
            item["proceeds"] = proceeds
        if "PROMOTION" in included and it.get("PromotionIds"):
            item["promotion"] = {"breakdowns": [{"promotionId": p} for p in it["PromotionIds"]]}
        if "FULFILLMENT" in included:
            fulfillment = {"quantityFulfilled": it.get("QuantityShipped", 0),
                           "quantityUnfulfilled": qty - it.get("QuantityShipped", 0)}
            if gift:
                option = {"giftWrapLevel": gift.get("GiftWrapLevel") or "Classic"}
                if pii and gift.get("GiftMessageText"):
                    option["giftMessage"] = gift["GiftMessageText"]
                fulfillment["packing"] = {"giftOption": option}
            item["fulfillment"] = fulfillment
        cancellation = shipments.v2026_item_cancellation(entry, it["OrderItemId"])
        if "CANCELLATION" in included and cancellation:
            item["cancellation"] = cancellation
        order_items.append(item)
    out["orderItems"] = order_items
    if "PROCEEDS" in included:
        out["proceeds"] = {"grandTotal": _money(currency, grand), "breakdowns": [
            {"type": kind, "subtotal": _money(currency, value)} for kind, value in totals.items()]}
    packages = shipments.v2026_packages(entry)
    if "PACKAGES" in included and packages:
        out["packages"] = packages
    return out


def _dt(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Orders2026Mixin:
    """Handlers of Orders API 2026-01-01 and of the v0 reads that retire (for ``_Handler``)."""

    def _csv(self, q, key):
        return [v for v in (q.get(key) or "").split(",") if v]

    def _has_pii_role(self):
        return PII_ROLE in self.emulator.refresh_tokens[self.principal]["roles"]

    def _v0_retired(self, operation):
        """After 2027-03-27 Amazon no longer serves the v0 read operations."""
        if operation in V0_READS and getattr(self.emulator, "v0_reads_retired", False):
            self._error(404, "NotFound", "Orders API v0 %s was retired on %s. Use the Orders API "
                        "v2026-01-01 (searchOrders, getOrder)." % (operation, V0_RETIRED_ON))
            return True
        return False

    def _included(self, q):
        included = self._csv(q, "includedData")
        unknown = [v for v in included if v not in INCLUDED_DATA]
        if unknown:
            self._error(400, "InvalidInput", "Invalid includedData: %s" % ", ".join(unknown))
            return None
        return included

    def h_search_orders(self):
        emu = self.emulator
        q = {k: v[0] for k, v in self.query.items()}
        token = q.pop("paginationToken", None)
        fingerprint = hashlib.sha256(json.dumps(sorted(q.items())).encode()).hexdigest()
        offset = 0
        if token:
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
            except ValueError:
                return self._error(400, "InvalidInput", "Invalid paginationToken")
            if state.get("f") != fingerprint:
                return self._error(400, "InvalidInput", "The paginationToken does not match the "
                                   "request: send it with the same other parameters as the first request.")
            if time.time() - state.get("t", 0) > getattr(emu, "pagination_ttl", TOKEN_TTL):
                return self._error(400, "InvalidInput", "The paginationToken expired (24 hours).")
            offset = state["o"]
        created_after, updated_after = q.get("createdAfter"), q.get("lastUpdatedAfter")
        if bool(created_after) == bool(updated_after):
            return self._error(400, "InvalidInput", "Exactly one of createdAfter and lastUpdatedAfter is required.")
        if created_after and (q.get("lastUpdatedBefore") or updated_after) or \
                updated_after and q.get("createdBefore"):
            return self._error(400, "InvalidInput", "createdAfter/createdBefore cannot be combined "
                               "with lastUpdatedAfter/lastUpdatedBefore.")
        now = datetime.now(timezone.utc)
        before_key = "createdBefore" if created_after else "lastUpdatedBefore"
        try:
            after = _dt(created_after or updated_after)
            before = _dt(q[before_key]) if q.get(before_key) else None
        except ValueError:
            return self._error(400, "InvalidInput", "Dates must be ISO 8601.")
        if before and (before < after or before > now - MIN_AGE):
            return self._error(400, "InvalidInput", "%s must be after the start of the window and at "
                               "least two minutes before the time of the request." % before_key)
        try:
            size = int(q.get("maxResultsPerPage") or 100)
        except ValueError:
            size = 0
        if not 1 <= size <= 100:
            return self._error(400, "InvalidInput", "maxResultsPerPage must be between 1 and 100.")
        statuses = self._csv(q, "fulfillmentStatuses")
        if any(s not in V0_STATUS for s in statuses):
            return self._error(400, "InvalidInput", "Invalid fulfillmentStatuses: %s" % q["fulfillmentStatuses"])
        fulfilled_by = self._csv(q, "fulfilledBy")
        if any(f not in ("MERCHANT", "AMAZON") for f in fulfilled_by):
            return self._error(400, "InvalidInput", "Invalid fulfilledBy: %s" % q["fulfilledBy"])
        included = self._included(q)
        if included is None:
            return None
        marketplaces = self._csv(q, "marketplaceIds")
        v0_statuses = {V0_STATUS[s] for s in statuses}
        channels = {k for k, v in FULFILLED_BY.items() if v in fulfilled_by}
        date_key = "PurchaseDate" if created_after else "LastUpdateDate"
        entries = []
        for entry in emu.scenario.orders.values():
            o = entry["order"]
            when = _dt(o[date_key])
            if when < after or before and when > before:
                continue
            if marketplaces and o["MarketplaceId"] not in marketplaces:
                continue
            if v0_statuses and o["OrderStatus"] not in v0_statuses:
                continue
            if channels and o["FulfillmentChannel"] not in channels:
                continue
            entries.append(entry)
        entries.sort(key=lambda e: (e["order"][date_key], e["order"]["AmazonOrderId"]))
        pii = self._has_pii_role()
        page = entries[offset:offset + size]
        body = {"orders": [order_2026(e, included, pii) for e in page],
                before_key: iso(before or now)}
        if offset + size < len(entries):
            body["pagination"] = {"nextToken": base64.urlsafe_b64encode(json.dumps(
                {"f": fingerprint, "o": offset + size, "t": time.time()}).encode()).decode()}
        self._send(200, body)

    def h_get_order_2026(self, id):
        q = {k: v[0] for k, v in self.query.items()}
        included = self._included(q)
        if included is None:
            return None
        entry = self.emulator.scenario.orders.get(id)
        if not entry:
            return self._error(404, "NotFound", "Order %s not found" % id)
        self._send(200, {"order": order_2026(entry, included, self._has_pii_role())})

    # v0 operations the addon does not call, served so their retirement can be shown.
    def h_get_order_address(self, id):
        entry = self.emulator.scenario.orders.get(id)
        if not entry:
            return self._error(404, "NotFound", "Order %s not found" % id)
        view = self._order_view(entry, "/orders/v0/orders/{orderId}/address")
        self._send(200, {"payload": {"AmazonOrderId": id, "ShippingAddress": view["ShippingAddress"]}})

    def h_get_order_buyer_info(self, id):
        entry = self.emulator.scenario.orders.get(id)
        if not entry:
            return self._error(404, "NotFound", "Order %s not found" % id)
        view = self._order_view(entry, "/orders/v0/orders/{orderId}/buyerInfo")
        self._send(200, {"payload": dict(view["BuyerInfo"], AmazonOrderId=id)})
