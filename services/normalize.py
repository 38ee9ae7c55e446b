"""One normalised order structure, built from report rows or Orders API JSON.

Money is ``Decimal``; ``to_dict`` / ``from_dict`` give a JSON-safe form for
queue payloads. ``item_price`` is Amazon's line total (price x quantity).
"""
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from .const import MONEY_FIELDS

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


@dataclass
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


@dataclass
class Order:
    order_id: str
    marketplace_id: str = ""
    purchase_date: datetime = None
    status: str = ""
    fulfillment_channel: str = "MFN"
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
    if isinstance(value, dict):  # Orders API Money {CurrencyCode, Amount}
        value = value.get("Amount")
        if value in (None, ""):
            return ZERO
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise NormalizeError("%s %r is not a number" % (what, value)) from None
    if not amount.is_finite():
        raise NormalizeError("%s %r is not a number" % (what, value))
    return amount


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
    )
    if items is not None:
        result.items = [item_from_orders_api(it) for it in items]
    return result


def item_from_orders_api(it):
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
    )
