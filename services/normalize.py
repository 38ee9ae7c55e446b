"""One normalised order structure, built from report rows or Orders API JSON.

Money is ``Decimal``; ``to_dict`` / ``from_dict`` give a JSON-safe form for
queue payloads. ``item_price`` is Amazon's line total (price x quantity).

Orders API JSON comes in two shapes: v0 (``AmazonOrderId``, items from
getOrderItems) and 2026-01-01 (``orderId``, items and proceeds inside the
order). ``order_from_payload`` tells them apart; ``payload_order_id`` and
``payload_marketplace_id`` read either without normalising.
"""
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from .const import CHANNEL_V0, MFN, MONEY_FIELDS, ORDER_STATUS_V0

ZERO = Decimal("0")
DATE_FIELDS = ("purchase_date", "last_update", "ship_by_date", "deliver_by_date")


class NormalizeError(ValueError):
    """A value Amazon sent that cannot be understood; the message names it."""


@dataclass
class Address:
    name: str = ""
    street: str = ""
    street2: str = ""
    street3: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country_code: str = ""
    phone: str = ""


@dataclass
class Buyer:
    name: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""


@dataclass(slots=True)   # a price report holds one per order line: no __dict__ each
class Item:
    sku: str
    quantity: int
    order_item_id: str = ""
    asin: str = ""
    title: str = ""
    item_price: Decimal = ZERO
    item_tax: Decimal = ZERO
    shipping_price: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    gift_wrap_price: Decimal = ZERO
    gift_wrap_tax: Decimal = ZERO
    promotion_discount: Decimal = ZERO
    promotion_discount_tax: Decimal = ZERO
    shipping_discount: Decimal = ZERO
    shipping_discount_tax: Decimal = ZERO
    gift_message: str = ""
    priced: bool = False
    quantity_shipped: int = 0   # what Amazon already shipped of ``quantity``
    # False when Amazon stated no tax for the item (v0 ItemTax absent, no 2026 TAX
    # breakdown, an empty item-tax cell): its tax amounts are unknown, not zero.
    tax_stated: bool = True


@dataclass
class Order:
    order_id: str
    marketplace_id: str = ""
    purchase_date: datetime = None
    status: str = ""
    fulfillment_channel: str = MFN
    sales_channel: str = ""
    currency: str = ""
    is_business: bool = False
    is_prime: bool = False
    buyer: Buyer = field(default_factory=Buyer)
    ship_to: Address = field(default_factory=Address)
    items: list = field(default_factory=list)
    amazon_total: Decimal = None
    last_update: datetime = None
    # Fields the v2026 Orders API (and some report columns) carry; empty when unknown.
    ship_by_date: datetime = None
    deliver_by_date: datetime = None
    purchase_order_number: str = ""
    buyer_tax_ids: list = field(default_factory=list)   # business buyer VAT numbers
    programs: list = field(default_factory=list)        # AMAZON_BUSINESS, PRIME, ...
    aliases: list = field(default_factory=list)
    cancellation: dict = field(default_factory=dict)    # {"by", "reason", "requested": bool}

    @property
    def priced(self):
        return bool(self.items) and all(item.priced for item in self.items)

    def total(self, price_includes_tax):
        """Amazon's order total from the item amounts."""
        total = ZERO
        for it in self.items:
            total += it.item_price + it.shipping_price + it.gift_wrap_price
            total -= it.promotion_discount + it.shipping_discount
            if not price_includes_tax:
                total += it.item_tax + it.shipping_tax + it.gift_wrap_tax
                total -= it.promotion_discount_tax + it.shipping_discount_tax
        return total

    def to_dict(self):
        data = dataclasses.asdict(self)
        for key in DATE_FIELDS:
            data[key] = data[key].isoformat() if data[key] else None
        data["amazon_total"] = str(self.amazon_total) if self.amazon_total is not None else None
        for item in data["items"]:
            for key in MONEY_FIELDS:
                item[key] = str(item[key])
        return data

    @classmethod
    def from_dict(cls, data):
        data = dict(data)
        data["buyer"] = Buyer(**data.get("buyer") or {})
        data["ship_to"] = Address(**data.get("ship_to") or {})
        items = []
        for raw in data.get("items") or []:
            raw = dict(raw)
            for key in MONEY_FIELDS:
                raw[key] = Decimal(raw.get(key) or "0")
            items.append(Item(**raw))
        data["items"] = items
        for key in DATE_FIELDS:
            data[key] = parse_datetime(data[key]) if data.get(key) else None
        if data.get("amazon_total") is not None:
            data["amazon_total"] = Decimal(data["amazon_total"])
        return cls(**data)


def money(value, what="amount"):
    if value in (None, ""):
        return ZERO
    if isinstance(value, dict):  # Money: v0 {CurrencyCode, Amount}, 2026 {currencyCode, amount}
        value = value.get("Amount", value.get("amount"))
        if value in (None, ""):
            return ZERO
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise NormalizeError("%s %r is not a number" % (what, value)) from None
    if not amount.is_finite():
        raise NormalizeError("%s %r is not a number" % (what, value))
    return amount


def stated(value):
    """Whether Amazon stated an amount (``"0.00"`` is stated; absent or empty is not)."""
    if isinstance(value, dict):
        value = value.get("Amount", value.get("amount"))
    return value not in (None, "") and str(value).strip() != ""


def iso_time(value):
    """A datetime (naive UTC, Odoo's convention) -> Amazon's ISO-8601 with Z; text as is."""
    if isinstance(value, str):
        return value
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value):
    """ISO-8601 with offset or Z -> naive UTC datetime (Odoo's convention)."""
    if isinstance(value, datetime):
        dt = value
    else:
        text = (value or "").strip()
        if not text:
            raise NormalizeError("the purchase date is empty")
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise NormalizeError("date %r does not parse (expected ISO-8601)" % value) from None
    if dt.tzinfo:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt


def parse_bool(value):
    return str(value or "").strip().lower() in ("true", "1", "yes", "y")


def parse_quantity(value, what="quantity"):
    try:
        qty = int(str(value).strip())
    except (TypeError, ValueError):
        raise NormalizeError("%s %r is not a whole number" % (what, value)) from None
    if qty < 0:
        raise NormalizeError("%s %r is negative" % (what, value))
    return qty


def from_orders_api(order, items=None):
    """Orders API v0 ``Order`` (+ ``OrderItem`` list) -> ``Order``."""
    if not order.get("AmazonOrderId"):
        raise NormalizeError("an order without AmazonOrderId")
    addr = order.get("ShippingAddress") or {}
    buyer = order.get("BuyerInfo") or {}
    total = order.get("OrderTotal")
    result = Order(
        order_id=order["AmazonOrderId"],
        marketplace_id=order.get("MarketplaceId") or "",
        purchase_date=parse_datetime(order.get("PurchaseDate")),
        last_update=parse_datetime(order["LastUpdateDate"]) if order.get("LastUpdateDate") else None,
        status=order.get("OrderStatus") or "",
        fulfillment_channel=order.get("FulfillmentChannel") or "",
        sales_channel=order.get("SalesChannel") or "",
        currency=(total or {}).get("CurrencyCode") or "",
        is_business=bool(order.get("IsBusinessOrder")),
        is_prime=bool(order.get("IsPrime")),
        buyer=Buyer(name=buyer.get("BuyerName") or "", email=buyer.get("BuyerEmail") or "",
                    company=(buyer.get("BuyerCompanyName") or "")),
        ship_to=Address(
            name=addr.get("Name") or "", street=addr.get("AddressLine1") or "",
            street2=addr.get("AddressLine2") or "", street3=addr.get("AddressLine3") or "",
            city=addr.get("City") or "", state=addr.get("StateOrRegion") or "",
            zip=addr.get("PostalCode") or "", country_code=addr.get("CountryCode") or "",
            phone=addr.get("Phone") or ""),
        amazon_total=money(total) if total else None,
        ship_by_date=parse_datetime(order["LatestShipDate"]) if order.get("LatestShipDate") else None,
        deliver_by_date=parse_datetime(order["LatestDeliveryDate"]) if order.get("LatestDeliveryDate") else None,
        # v0 puts the buyer's PO number in BuyerInfo (restricted data)
        purchase_order_number=buyer.get("PurchaseOrderNumber") or order.get("PurchaseOrderNumber") or "",
        buyer_tax_ids=[t for t in [((buyer.get("BuyerTaxInfo") or {}).get("TaxClassifications") or [{}])[0].get("Value")]
                       if t],
        programs=[name for flag, name in (("IsBusinessOrder", "AMAZON_BUSINESS"), ("IsPrime", "PRIME"))
                  if order.get(flag)],
        aliases=[order["SellerOrderId"]] if order.get("SellerOrderId") not in (None, "", order["AmazonOrderId"]) else [],
    )
    if items is not None:
        result.items = [item_from_orders_api(it) for it in items]
    return result


def item_from_orders_api(it):
    """Orders API ``OrderItem`` (v0; a 2026-01-01 item is recognised) -> ``Item``."""
    if "orderItemId" in it:
        return item_from_orders_2026(it)
    ref = it.get("OrderItemId") or "?"
    if it.get("QuantityOrdered") in (None, ""):
        raise NormalizeError("order item %s has no QuantityOrdered" % ref)
    if not it.get("SellerSKU"):
        raise NormalizeError("order item %s has no SellerSKU" % ref)
    if not it.get("ItemPrice") and parse_quantity(it["QuantityOrdered"], "QuantityOrdered"):
        raise NormalizeError("order item %s (SKU %s) has no ItemPrice: Amazon has not priced "
                             "it yet; it is imported on a later run" % (ref, it["SellerSKU"]))
    gift = it.get("BuyerInfo") or {}
    return Item(
        order_item_id=it.get("OrderItemId") or "",
        sku=it.get("SellerSKU") or "",
        asin=it.get("ASIN") or "",
        title=it.get("Title") or "",
        quantity=parse_quantity(it.get("QuantityOrdered", 0)),
        quantity_shipped=parse_quantity(it.get("QuantityShipped") or 0, "QuantityShipped"),
        item_price=money(it.get("ItemPrice")),
        item_tax=money(it.get("ItemTax")),
        shipping_price=money(it.get("ShippingPrice")),
        shipping_tax=money(it.get("ShippingTax")),
        gift_wrap_price=money(gift.get("GiftWrapPrice")),
        gift_wrap_tax=money(gift.get("GiftWrapTax")),
        promotion_discount=money(it.get("PromotionDiscount")),
        promotion_discount_tax=money(it.get("PromotionDiscountTax")),
        shipping_discount=money(it.get("ShippingDiscount")),
        shipping_discount_tax=money(it.get("ShippingDiscountTax")),
        gift_message=gift.get("GiftMessageText") or "",
        priced=True,
        tax_stated=stated(it.get("ItemTax")),
    )


# ---------------------------------------------------------------- payloads
def is_orders_2026(payload):
    """True for an Orders API 2026-01-01 ``Order`` (``orderId``), False for v0."""
    return isinstance(payload, dict) and "orderId" in payload


def payload_order_id(payload):
    """Amazon's order id of a raw Orders API payload (v0 or 2026-01-01) or of a
    normalised ``Order.to_dict()``; '' when it has none."""
    payload = payload or {}
    return payload.get("orderId") or payload.get("AmazonOrderId") or payload.get("order_id") or ""


def payload_marketplace_id(payload):
    """The marketplace id of a raw Orders API payload (v0 or 2026-01-01) or of a
    normalised ``Order.to_dict()``; '' when it has none."""
    payload = payload or {}
    return ((payload.get("salesChannel") or {}).get("marketplaceId")
            or payload.get("MarketplaceId") or payload.get("marketplace_id") or "")


def order_from_payload(payload, items=None, require_proceeds=True):
    """A raw Orders API order, either version, -> ``Order``.

    A 2026-01-01 order carries its items and proceeds, so it comes out priced;
    a v0 header is priced only with ``items`` (getOrderItems). With
    ``require_proceeds=False`` (status checks), a 2026-01-01 order read
    without PROCEEDS comes out with unpriced items instead of an error."""
    if not isinstance(payload, dict):
        raise NormalizeError("the order data is not a JSON object")
    if is_orders_2026(payload):
        return from_orders_2026(payload, require_proceeds)
    if "AmazonOrderId" in payload:
        return from_orders_api(payload, items)
    raise NormalizeError("the order data has neither orderId (Orders API 2026-01-01) "
                         "nor AmazonOrderId (Orders API v0)")


# ------------------------------------------------------- Orders API 2026-01-01
def _window_end(window):
    value = (window or {}).get("latestDateTime")
    return parse_datetime(value) if value else None


def from_orders_2026(order, require_proceeds=True):
    """Orders API 2026-01-01 ``Order`` -> priced ``Order``.

    Statuses and channels are given in v0's words (``Unshipped``, ``MFN``) so
    every flow classifies both versions alike. Buyer and recipient are present
    only when asked for (includedData BUYER / RECIPIENT) and the app has the
    roles; item money comes from each item's ``proceeds`` (includedData
    PROCEEDS): without it the order cannot be priced and is refused."""
    order_id = order.get("orderId")
    if not order_id:
        raise NormalizeError("an order without orderId")
    fulfillment = order.get("fulfillment") or {}
    sales = order.get("salesChannel") or {}
    buyer = order.get("buyer") or {}
    addr = (order.get("recipient") or {}).get("deliveryAddress") or {}
    programs = list(order.get("programs") or [])
    status = fulfillment.get("fulfillmentStatus") or ""
    channel = fulfillment.get("fulfilledBy") or ""
    proceeds = order.get("proceeds") or {}
    result = Order(
        order_id=order_id,
        marketplace_id=sales.get("marketplaceId") or "",
        purchase_date=parse_datetime(order.get("createdTime")),
        last_update=parse_datetime(order["lastUpdatedTime"]) if order.get("lastUpdatedTime") else None,
        status=ORDER_STATUS_V0.get(status, status),
        fulfillment_channel=CHANNEL_V0.get(channel, channel),
        sales_channel=sales.get("marketplaceName") or "",
        is_business="AMAZON_BUSINESS" in programs,
        is_prime="PRIME" in programs,
        programs=programs,
        buyer=Buyer(name=buyer.get("buyerName") or "", email=buyer.get("buyerEmail") or "",
                    company=buyer.get("buyerCompanyName") or ""),
        ship_to=Address(
            name=addr.get("name") or "", street=addr.get("addressLine1") or "",
            street2=addr.get("addressLine2") or "", street3=addr.get("addressLine3") or "",
            city=addr.get("city") or "", state=addr.get("stateOrRegion") or "",
            zip=addr.get("postalCode") or "", country_code=addr.get("countryCode") or "",
            phone=addr.get("phone") or ""),
        ship_by_date=_window_end(fulfillment.get("shipByWindow")),
        deliver_by_date=_window_end(fulfillment.get("deliverByWindow")),
        purchase_order_number=buyer.get("buyerPurchaseOrderNumber") or "",
        buyer_tax_ids=[reg["taxRegistrationNumber"]
                       for reg in (order.get("tax") or {}).get("taxRegistrations") or []
                       if reg.get("taxRegistrationNumber") and reg.get("entityType", "BUYER") == "BUYER"],
        aliases=[alias["aliasId"] for alias in order.get("orderAliases") or [] if alias.get("aliasId")],
    )
    raw_items = order.get("orderItems") or []
    result.items = [item_from_orders_2026(it, order_id, require_proceeds) for it in raw_items]
    result.currency = _currency(proceeds, raw_items)
    result.cancellation = _cancellation(raw_items)
    total = proceeds.get("grandTotal")
    if total:
        # A delivery tip is charged apart from the items; it is not part of the goods' total.
        tips = sum((money(b.get("subtotal")) for b in proceeds.get("breakdowns") or []
                    if b.get("type") == "DELIVERY_TIP"), ZERO)
        result.amazon_total = money(total, "grand total") - tips
    return result


def _currency(proceeds, raw_items):
    for candidate in [proceeds.get("grandTotal")] + [
            ((it.get("proceeds") or {}).get("proceedsTotal")) for it in raw_items]:
        if candidate and candidate.get("currencyCode"):
            return candidate["currencyCode"]
    return ""


def _cancellation(raw_items):
    """A buyer's pending request (an item asked for and not cancelled) wins over
    cancellations done; ``requested`` says which it is."""
    done = pending = None
    for it in raw_items:
        cancel = it.get("cancellation") or {}
        request, execution = cancel.get("cancellationRequest"), cancel.get("cancellationExecution")
        if execution and done is None:
            done = execution
        elif request and not execution and pending is None:
            pending = request
    if pending is not None:
        return {"by": pending.get("requester") or "BUYER", "reason": pending.get("cancelReason") or "",
                "requested": True}
    if done is not None:
        return {"by": done.get("cancelledBy") or "", "reason": done.get("cancelReason") or "",
                "requested": False}
    return {}


# proceeds breakdown type -> Item field; the TAX and DISCOUNT breakdowns are
# split by their detailedBreakdowns' subtype.
_PROCEEDS_FIELDS = {"ITEM": "item_price", "SHIPPING": "shipping_price", "GIFT_WRAP": "gift_wrap_price"}
_TAX_FIELDS = {"ITEM": "item_tax", "SHIPPING": "shipping_tax", "GIFT_WRAP": "gift_wrap_tax",
               "DISCOUNT": "promotion_discount_tax"}
_DISCOUNT_FIELDS = {"ITEM": "promotion_discount", "SHIPPING": "shipping_discount"}


def item_from_orders_2026(it, order_id="", require_proceeds=True):
    """Orders API 2026-01-01 ``OrderItem`` -> priced ``Item``.

    Amounts are taken as v0 gave them: ``ITEM`` is the line total (VAT
    included where the marketplace's prices include it), ``TAX`` its tax part
    split by subtype, ``DISCOUNT`` the promotions (Amazon sends it negative,
    as it lowers the proceeds; the normalised discount is positive)."""
    product = it.get("product") or {}
    item_id = it.get("orderItemId") or ""
    if it.get("quantityOrdered") in (None, ""):
        raise NormalizeError("order item %s of order %s has no quantityOrdered" % (item_id or "?", order_id or "?"))
    if not product.get("sellerSku"):
        raise NormalizeError("order item %s of order %s has no sellerSku" % (item_id or "?", order_id or "?"))
    proceeds = it.get("proceeds")
    if (not proceeds or not proceeds.get("breakdowns")) and not require_proceeds:
        proceeds = {"breakdowns": []}
    elif not proceeds or not proceeds.get("breakdowns"):
        raise NormalizeError(
            "Amazon sent no proceeds for item %s (SKU %s) of order %s, so it cannot be "
            "priced: the order is read with includedData=PROCEEDS, and Amazon gives "
            "proceeds only once the order is paid; it is retried later."
            % (item_id or "?", product.get("sellerSku") or "?", order_id or "?"))
    values = {}
    if proceeds["breakdowns"] and not any(p.get("type") == "TAX" for p in proceeds["breakdowns"]):
        values["tax_stated"] = False    # no TAX breakdown: Amazon stated no tax, not a zero
    for part in proceeds["breakdowns"]:
        kind = part.get("type")
        amount = money(part.get("subtotal"), "%s amount" % kind)
        if kind in _PROCEEDS_FIELDS:
            values[_PROCEEDS_FIELDS[kind]] = values.get(_PROCEEDS_FIELDS[kind], ZERO) + amount
        elif kind in ("TAX", "DISCOUNT"):
            fields_by_subtype = _TAX_FIELDS if kind == "TAX" else _DISCOUNT_FIELDS
            rest = amount
            for detail in part.get("detailedBreakdowns") or []:
                name = fields_by_subtype.get(detail.get("subtype"))
                if not name:
                    continue
                value = money(detail.get("value"), "%s %s amount" % (kind, detail.get("subtype")))
                values[name] = values.get(name, ZERO) + value
                rest -= value
            if rest:
                name = fields_by_subtype["ITEM"]
                values[name] = values.get(name, ZERO) + rest
        # COD_FEE / OTHER have no field here: the grand total keeps them
        # (the builder's adjustment line carries any difference).
    for name in ("promotion_discount", "shipping_discount", "promotion_discount_tax"):
        if name in values:
            values[name] = abs(values[name])
    fulfillment = it.get("fulfillment") or {}
    gift = (fulfillment.get("packing") or {}).get("giftOption") or {}
    return Item(
        order_item_id=item_id,
        sku=product.get("sellerSku") or "",
        asin=product.get("asin") or "",
        title=product.get("title") or "",
        quantity=parse_quantity(it.get("quantityOrdered", 0)),
        quantity_shipped=parse_quantity(fulfillment.get("quantityFulfilled") or 0, "quantityFulfilled"),
        gift_message=gift.get("giftMessage") or "",
        priced=bool(proceeds["breakdowns"]),
        **values,
    )
