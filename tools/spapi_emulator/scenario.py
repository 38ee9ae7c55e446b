"""One story of orders that the Orders API and the reports both tell."""
import random
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
# The v0 OrderItem's tax amounts (optional in the model): absent when Amazon states no tax.
TAX_KEYS = ("ItemTax", "ShippingTax", "PromotionDiscountTax", "ShippingDiscountTax")

# marketplace id -> (country, currency, VAT rate when prices include tax, or None)
MARKETPLACES = {
    "ATVPDKIKX0DER": ("US", "USD", None),
    "A2EUQ1WTGCTBG2": ("CA", "CAD", None),
    "A1F83G8C2ARO7P": ("GB", "GBP", Decimal("0.20")),
    "A1PA6795UKMFR9": ("DE", "EUR", Decimal("0.19")),
    "A13V1IB3VIYZZH": ("FR", "EUR", Decimal("0.20")),
    "APJ6JRA9NG5V4": ("IT", "EUR", Decimal("0.22")),
    "A1RKKUPIHCS9HS": ("ES", "EUR", Decimal("0.21")),
    "A1VC38T7YXB528": ("JP", "JPY", Decimal("0.10")),
}
SALES_CHANNELS = {"US": "Amazon.com", "CA": "Amazon.ca", "GB": "Amazon.co.uk", "DE": "Amazon.de",
                  "FR": "Amazon.fr", "IT": "Amazon.it", "ES": "Amazon.es", "JP": "Amazon.co.jp"}
US_STATES = [("CA", "Los Angeles", "90001"), ("NY", "New York", "10001"),
             ("TX", "Austin", "73301"), ("WA", "Seattle", "98101")]
FIRST = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken"]
LAST = ["Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson"]


def iso(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(currency, amount):
    return {"CurrencyCode": currency, "Amount": str(amount)}


class Scenario:
    """Orders in Orders API v0 shape: ``orders[id] = {"order": {...}, "items": [...]}``."""

    def __init__(self, now=None):
        self.now = now or datetime.now(timezone.utc).replace(microsecond=0)
        self.orders = {}
        self._seq = 0

    # ---------------------------------------------------------------- building
    def add_order(self, *, marketplace_id="ATVPDKIKX0DER", status="Unshipped", channel="MFN",
                  items, purchase_date=None, buyer_name="Ada Lovelace",
                  buyer_email=None, order_id=None, address=None, is_business=False,
                  buyer_company="", buyer_vat="", purchase_order_number="", seller_order_id="",
                  is_prime=False, tax_data=True):
        """``items``: dicts with sku, qty, price (line total), and optional tax,
        shipping, shipping_tax, gift_wrap, gift_wrap_tax, promotion,
        promotion_tax, gift_message, title. The order is kept in Orders API v0
        shape; ``orders_2026.order_2026`` tells the same story in 2026-01-01.

        ``tax_data=False``: Amazon states no tax for the order, as it may (its
        tax service had not answered, a marketplace it does not compute VAT
        for): v0 items without ``ItemTax`` / ``ShippingTax`` /
        ``PromotionDiscountTax`` / ``ShippingDiscountTax`` / ``GiftWrapTax``,
        2026-01-01 items without a ``TAX`` breakdown, All Orders rows with empty
        tax cells. An explicit zero (``tax`` "0.00") is still stated."""
        self._seq += 1
        order_id = order_id or "%03d-%07d-%07d" % (111 + self._seq % 800, 1000000 + self._seq,
                                                   2000000 + self._seq)
        country, currency, _vat = MARKETPLACES[marketplace_id]
        purchase_date = purchase_date or self.now - timedelta(hours=2)
        address = dict(address or {})
        address.setdefault("Name", buyer_name)
        address.setdefault("AddressLine1", "%d Main Street" % (10 + self._seq % 90))
        address.setdefault("City", "Seattle" if country == "US" else "Berlin")
        address.setdefault("StateOrRegion", "WA" if country == "US" else "")
        address.setdefault("PostalCode", "98101" if country == "US" else "10115")
        address.setdefault("CountryCode", country)
        address.setdefault("Phone", "+1 206-555-01%02d" % (self._seq % 100))
        address.setdefault("AddressType", "Residential")
        order_items, total = [], Decimal("0")
        for idx, spec in enumerate(items, start=1):
            item = {
                "ASIN": spec.get("asin", "B0%08d" % (abs(hash(spec["sku"])) % 10 ** 8)),
                "SellerSKU": spec["sku"],
                "OrderItemId": "%014d" % (self._seq * 100 + idx),
                "Title": spec.get("title", "Product %s" % spec["sku"]),
                "QuantityOrdered": spec.get("qty", 1),
                "QuantityShipped": spec.get("qty", 1) if status == "Shipped" else spec.get("shipped", 0),
                "ItemPrice": money(currency, spec["price"]),
                "ItemTax": money(currency, spec.get("tax", "0.00")),
                "ShippingPrice": money(currency, spec.get("shipping", "0.00")),
                "ShippingTax": money(currency, spec.get("shipping_tax", "0.00")),
                "ShippingDiscount": money(currency, spec.get("shipping_discount", "0.00")),
                "ShippingDiscountTax": money(currency, "0.00"),
                "PromotionDiscount": money(currency, spec.get("promotion", "0.00")),
                "PromotionDiscountTax": money(currency, spec.get("promotion_tax", "0.00")),
                "IsGift": "true" if spec.get("gift_message") or spec.get("gift_wrap") else "false",
                "IsTransparency": False,
                "SerialNumberRequired": False,
            }
            if spec.get("promotion"):
                item["PromotionIds"] = ["PROMO-%s" % spec["sku"]]
            if spec.get("gift_wrap") or spec.get("gift_message"):
                item["BuyerInfo"] = {
                    "GiftWrapPrice": money(currency, spec.get("gift_wrap", "0.00")),
                    "GiftWrapTax": money(currency, spec.get("gift_wrap_tax", "0.00")),
                    "GiftMessageText": spec.get("gift_message", ""),
                    "GiftWrapLevel": "Classic",
                }
            if not tax_data:
                for key in TAX_KEYS:
                    item.pop(key, None)
                (item.get("BuyerInfo") or {}).pop("GiftWrapTax", None)
            order_items.append(item)
            d = lambda k, spec=spec: Decimal(str(spec.get(k, "0")))  # noqa: E731
            total += d("price") + d("shipping") + d("gift_wrap") - d("promotion") - d("shipping_discount")
            if _vat is None and tax_data:
                total += d("tax") + d("shipping_tax") + d("gift_wrap_tax") - d("promotion_tax")
        unshipped = sum(i["QuantityOrdered"] - i["QuantityShipped"] for i in order_items)
        order = {
            "AmazonOrderId": order_id,
            "PurchaseDate": iso(purchase_date),
            "LastUpdateDate": iso(purchase_date + timedelta(minutes=5)),
            "OrderStatus": status,
            "FulfillmentChannel": channel,
            "SalesChannel": SALES_CHANNELS[country],
            "ShipServiceLevel": "Std US D2D Dom" if country == "US" else "Std DE Dom",
            "OrderTotal": money(currency, total.quantize(CENT)),
            "NumberOfItemsShipped": sum(i["QuantityShipped"] for i in order_items),
            "NumberOfItemsUnshipped": unshipped,
            "PaymentMethod": "Other",
            "PaymentMethodDetails": ["Standard"],
            "MarketplaceId": marketplace_id,
            "ShipmentServiceLevelCategory": "Standard",
            "OrderType": "StandardOrder",
            "EarliestShipDate": iso(purchase_date + timedelta(days=1)),
            "LatestShipDate": iso(purchase_date + timedelta(days=2)),
            "EarliestDeliveryDate": iso(purchase_date + timedelta(days=3)),
            "LatestDeliveryDate": iso(purchase_date + timedelta(days=7)),
            "IsBusinessOrder": is_business,
            "IsPrime": is_prime,
            "IsPremiumOrder": False,
            "IsGlobalExpressEnabled": False,
            "IsReplacementOrder": False,
            "IsSoldByAB": False,
            "IsISPU": False,
            "IsAccessPointOrder": False,
            "HasRegulatedItems": False,
            "BuyerInfo": {
                "BuyerEmail": buyer_email or "%s@marketplace.amazon.com" % order_id.replace("-", ""),
                "BuyerName": buyer_name,
            },
            "ShippingAddress": address,
        }
        if buyer_company:
            order["BuyerInfo"]["BuyerCompanyName"] = buyer_company
        if buyer_vat:
            order["BuyerInfo"]["BuyerTaxInfo"] = {
                "CompanyLegalName": buyer_company or buyer_name,
                "TaxClassifications": [{"Name": "VATNumber", "Value": buyer_vat}]}
        if purchase_order_number:
            order["BuyerInfo"]["PurchaseOrderNumber"] = purchase_order_number
        if seller_order_id:
            order["SellerOrderId"] = seller_order_id
        self.orders[order_id] = {"order": order, "items": order_items}
        return order_id

    def set_status(self, order_id, status, when=None):
        """Amazon changes an order's status, now (real time) unless ``when``."""
        entry = self.orders[order_id]
        entry["order"]["OrderStatus"] = status
        entry["order"]["LastUpdateDate"] = iso(when or max(self.now, datetime.now(timezone.utc).replace(microsecond=0)))
        if status == "Shipped":
            for item in entry["items"]:
                item["QuantityShipped"] = item["QuantityOrdered"]
            entry["order"]["NumberOfItemsShipped"] = sum(i["QuantityOrdered"] for i in entry["items"])
            entry["order"]["NumberOfItemsUnshipped"] = 0

    @classmethod
    def generate(cls, count, *, marketplace_id="ATVPDKIKX0DER", seed=7, now=None, days=25,
                 shipped_ratio=0.0, skus=None, max_items=3):
        """``count`` orders spread over the last ``days`` days, deterministic."""
        scenario = cls(now=now)
        rnd = random.Random(seed)
        skus = skus or ["SKU-%04d" % n for n in range(1, 41)]
        _country, _currency, vat = MARKETPLACES[marketplace_id]
        for n in range(count):
            lines = []
            for sku in rnd.sample(skus, rnd.randint(1, max_items)):
                qty = rnd.randint(1, 3)
                unit = Decimal(rnd.randint(500, 9999)) / 100
                price = (unit * qty).quantize(CENT)
                if vat is None:
                    tax = (price * Decimal("0.0825")).quantize(CENT, ROUND_HALF_UP)
                else:
                    tax = (price - price / (1 + vat)).quantize(CENT, ROUND_HALF_UP)
                spec = {"sku": sku, "qty": qty, "price": str(price), "tax": str(tax)}
                if rnd.random() < 0.3:
                    spec["shipping"] = "4.99"
                    spec["shipping_tax"] = "0.41" if vat is None else "0.80"
                if rnd.random() < 0.1:
                    spec["promotion"] = "1.00"
                lines.append(spec)
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            status = "Shipped" if rnd.random() < shipped_ratio else "Unshipped"
            purchase = scenario.now - timedelta(days=days * (n + 1) / (count + 1))
            scenario.add_order(marketplace_id=marketplace_id, status=status, items=lines,
                               purchase_date=purchase, buyer_name="%s %s" % (first, last),
                               buyer_email="%s.%s.%d@marketplace.amazon.com" % (first, last, n))
        return scenario

    # ------------------------------------------------------------------ reports
    def select(self, *, marketplace_ids=None, start=None, end=None, statuses=None,
               channels=None, updated_after=None, updated_before=None, order_ids=None):
        out = []
        for entry in self.orders.values():
            order = entry["order"]
            purchased = _parse(order["PurchaseDate"])
            if marketplace_ids and order["MarketplaceId"] not in marketplace_ids:
                continue
            if start and purchased < start or end and purchased > end:
                continue
            if updated_after and _parse(order["LastUpdateDate"]) < updated_after:
                continue
            if updated_before and _parse(order["LastUpdateDate"]) > updated_before:
                continue
            if statuses and order["OrderStatus"] not in statuses:
                continue
            if channels and order["FulfillmentChannel"] not in channels:
                continue
            if order_ids and order["AmazonOrderId"] not in order_ids:
                continue
            out.append(entry)
        out.sort(key=lambda e: e["order"]["PurchaseDate"])
        return out

    def unshipped_report(self, entries, show_sales_channel=False):
        """Amazon's Unshipped Orders report: the items left to ship; the
        ``sales-channel`` column only when the request asked for it."""
        header = ["order-id", "order-item-id", "purchase-date", "payments-date", "reporting-date",
                  "promise-date", "days-past-promise", "buyer-email", "buyer-phone-number", "sku",
                  "product-name", "quantity-purchased", "quantity-shipped", "quantity-to-ship",
                  "ship-service-level", "recipient-name", "ship-address-1", "ship-address-2",
                  "ship-address-3", "ship-city", "ship-state", "ship-postal-code", "ship-country",
                  "is-business-order", "purchase-order-number", "price-designation", "is-prime"]
        if show_sales_channel:
            header.append("sales-channel")
        rows = ["\t".join(header)]
        for entry in entries:
            o, a = entry["order"], entry["order"]["ShippingAddress"]
            for it in entry["items"]:
                if it["QuantityShipped"] >= it["QuantityOrdered"]:
                    continue   # shipped already: not actionable
                purchase = o["PurchaseDate"].replace("Z", "+00:00")
                extra = [o["SalesChannel"]] if show_sales_channel else []
                rows.append("\t".join([
                    o["AmazonOrderId"], it["OrderItemId"], purchase, purchase, purchase,
                    o["LatestShipDate"].replace("Z", "+00:00"), "0", o["BuyerInfo"]["BuyerEmail"],
                    a.get("Phone", ""), it["SellerSKU"], it["Title"], str(it["QuantityOrdered"]),
                    str(it["QuantityShipped"]), str(it["QuantityOrdered"] - it["QuantityShipped"]),
                    "Standard", a.get("Name", ""), a.get("AddressLine1", ""),
                    a.get("AddressLine2", ""), "", a.get("City", ""), a.get("StateOrRegion", ""),
                    a.get("PostalCode", ""), a.get("CountryCode", ""),
                    "true" if o["IsBusinessOrder"] else "false", "", "", "false"] + extra))
        return "\n".join(rows) + "\n"

    def all_orders_report(self, entries):
        header = ["amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date",
                  "order-status", "fulfillment-channel", "sales-channel", "order-channel",
                  "ship-service-level", "product-name", "sku", "asin", "item-status", "quantity",
                  "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
                  "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount",
                  "ship-promotion-discount", "ship-city", "ship-state", "ship-postal-code",
                  "ship-country", "promotion-ids", "cpf", "is-business-order",
                  "purchase-order-number", "price-designation"]
        rows = ["\t".join(header)]
        for entry in entries:
            o, a = entry["order"], entry["order"]["ShippingAddress"]
            channel = "Merchant" if o["FulfillmentChannel"] == "MFN" else "Amazon"
            for it in entry["items"]:
                gift = it.get("BuyerInfo") or {}
                amt = lambda m: (m or {}).get("Amount", "")  # noqa: E731
                promo = it["PromotionDiscount"]["Amount"]
                rows.append("\t".join([
                    o["AmazonOrderId"], "", o["PurchaseDate"].replace("Z", "+00:00"),
                    o["LastUpdateDate"].replace("Z", "+00:00"), _report_status(o["OrderStatus"]),
                    channel, o["SalesChannel"], "", "Standard", it["Title"], it["SellerSKU"],
                    it["ASIN"], "Shipped" if it["QuantityShipped"] >= it["QuantityOrdered"] else "Unshipped",
                    str(it["QuantityOrdered"]), it["ItemPrice"]["CurrencyCode"],
                    amt(it["ItemPrice"]), amt(it.get("ItemTax")), amt(it["ShippingPrice"]),
                    amt(it.get("ShippingTax")), amt(gift.get("GiftWrapPrice")),
                    amt(gift.get("GiftWrapTax")), "-" + promo if Decimal(promo) else "",
                    "-" + amt(it["ShippingDiscount"]) if Decimal(amt(it["ShippingDiscount"])) else "",
                    a.get("City", ""), a.get("StateOrRegion", ""), a.get("PostalCode", ""),
                    a.get("CountryCode", ""), ",".join(it.get("PromotionIds", [])), "",
                    "true" if o["IsBusinessOrder"] else "false", "", ""]))
        return "\n".join(rows) + "\n"


def _report_status(status):
    # The flat file says "Pending" for Unshipped orders in some versions; we
    # keep Orders API words, which the All Orders report also uses.
    return status


def _parse(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def add_taxed_order(scenario, *, items, marketplace_id="ATVPDKIKX0DER", rate="0",
                    per_unit=False, purchase_order_number="", **kw):
    """``Scenario.add_order`` with Amazon's taxes worked out from rates, as Amazon
    charges them: VAT marketplaces (EU, UK, JP) price tax included, the tax of a
    line being ``gross - gross / (1 + rate)``; elsewhere (US) ``net x rate``,
    rounded per unit and multiplied when ``per_unit`` (Amazon's US tax engine
    rounds each unit). ``items``: dicts with sku, qty, unit (price of one
    unit), optional rate (percent, else the order's), shipping, gift_wrap.
    ``purchase_order_number`` is the buyer's PO (Amazon Business); ``tax_data=False``
    (see ``Scenario.add_order``): the same order with Amazon stating no tax."""
    _country, currency, vat = MARKETPLACES[marketplace_id]
    included = vat is not None

    def tax_of(amount, pct, qty=1):
        pct = Decimal(str(pct)) / 100
        if included:
            return (amount - amount / (1 + pct)).quantize(CENT, ROUND_HALF_UP)
        if qty > 1:
            return (amount / qty * pct).quantize(CENT, ROUND_HALF_UP) * qty
        return (amount * pct).quantize(CENT, ROUND_HALF_UP)

    specs = []
    for spec in items:
        spec = dict(spec)
        qty, pct = spec.get("qty", 1), spec.pop("rate", rate)
        price = Decimal(str(spec.pop("unit"))) * qty
        spec.update(qty=qty, price=str(price), tax=str(tax_of(price, pct, qty if per_unit else 1)))
        for key in ("shipping", "gift_wrap"):
            if spec.get(key):
                spec[key + "_tax"] = str(tax_of(Decimal(str(spec[key])), pct))
        specs.append(spec)
    order_id = scenario.add_order(marketplace_id=marketplace_id, items=specs, **kw)
    if purchase_order_number:
        scenario.orders[order_id]["order"]["BuyerInfo"]["PurchaseOrderNumber"] = purchase_order_number
    return order_id
