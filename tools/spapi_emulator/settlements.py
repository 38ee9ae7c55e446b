"""Settlement reports as Amazon serves them (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``).

Amazon schedules them every 14 days or so; nobody can request one (createReport answers
400 "Request for report type 1118 is not allowed at this time"). They are found with
getReports. A document has the 24 V2 columns, the summary as its first data row, then one
row per amount of one transaction. ``settlement_text`` builds one from the scenario's own
orders, so its amounts are those of the invoices Odoo made of them.
"""
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from .scenario import MARKETPLACES, SALES_CHANNELS

REPORT_SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
# Report types that only Amazon creates (the type numbers Amazon names in its refusal).
NOT_REQUESTABLE = {REPORT_SETTLEMENT: 1118, "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE": 1117,
                   "GET_V2_SETTLEMENT_REPORT_DATA_XML": 1116}
COLUMNS = [
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date",
    "total-amount", "currency", "transaction-type", "order-id", "merchant-order-id",
    "adjustment-id", "shipment-id", "marketplace-name", "amount-type", "amount-description",
    "amount", "fulfillment-id", "posted-date", "posted-date-time", "order-item-code",
    "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
    "promotion-id",
]
CENT = Decimal("0.01")
COMMISSION_RATE = Decimal("0.15")


def _d(money):
    return Decimal((money or {}).get("Amount") or "0")


def _when(dt):
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC")


class SettlementBuilder:
    """Rows of one settlement; ``text()`` writes the document (summary first)."""

    def __init__(self, settlement_id, start, end, deposit, currency, marketplace_id):
        self.settlement_id = str(settlement_id)
        self.start, self.end, self.deposit = start, end, deposit
        self.currency = currency
        self.marketplace_id = marketplace_id
        self.rows = []

    def row(self, transaction_type, amount_type, description, amount, *, order_id="",
            adjustment_id="", shipment_id="", sku="", quantity="", item_code="",
            posted=None, promotion_id=""):
        posted = posted or self.end - timedelta(days=1)
        country = MARKETPLACES[self.marketplace_id][0]
        self.rows.append({
            "settlement-id": self.settlement_id, "transaction-type": transaction_type,
            "order-id": order_id, "adjustment-id": adjustment_id, "shipment-id": shipment_id,
            "marketplace-name": SALES_CHANNELS[country] if order_id else "",
            "amount-type": amount_type, "amount-description": description,
            "amount": "%.2f" % Decimal(amount), "fulfillment-id": "MFN" if order_id else "",
            "posted-date": posted.strftime("%Y-%m-%d"), "posted-date-time": _when(posted),
            "order-item-code": item_code, "sku": sku,
            "quantity-purchased": str(quantity) if quantity else "", "promotion-id": promotion_id,
        })

    def order(self, entry, posted=None, collects_tax=None):
        """Every amount of a shipped order: what the buyer paid, the tax Amazon withheld
        (marketplace facilitator), Amazon's commission and closing fee."""
        order = entry["order"]
        oid = order["AmazonOrderId"]
        vat = MARKETPLACES[order["MarketplaceId"]][2]
        collects = vat is None if collects_tax is None else collects_tax
        shipment = "S%s" % oid.replace("-", "")[-9:]
        for item in entry["items"]:
            common = {"order_id": oid, "shipment_id": shipment, "sku": item["SellerSKU"],
                      "quantity": item["QuantityOrdered"], "item_code": item["OrderItemId"],
                      "posted": posted}
            price, tax = _d(item["ItemPrice"]), _d(item["ItemTax"])
            ship, ship_tax = _d(item["ShippingPrice"]), _d(item["ShippingTax"])
            promo, ship_disc = _d(item["PromotionDiscount"]), _d(item["ShippingDiscount"])
            gift = item.get("BuyerInfo") or {}
            wrap, wrap_tax = _d(gift.get("GiftWrapPrice")), _d(gift.get("GiftWrapTax"))
            self.row("Order", "ItemPrice", "Principal", price, **common)
            if vat is None:   # sales tax is charged on top; VAT is in the price
                self.row("Order", "ItemPrice", "Tax", tax, **common)
            if ship:
                self.row("Order", "ItemPrice", "Shipping", ship, **common)
                if vat is None:
                    self.row("Order", "ItemPrice", "ShippingTax", ship_tax, **common)
            if wrap:
                self.row("Order", "ItemPrice", "GiftWrap", wrap, **common)
                if vat is None:
                    self.row("Order", "ItemPrice", "GiftWrapTax", wrap_tax, **common)
            promo_id = ",".join(item.get("PromotionIds") or [])
            if promo:
                self.row("Order", "Promotion", "Principal", -promo, promotion_id=promo_id, **common)
            if ship_disc:
                self.row("Order", "Promotion", "Shipping", -ship_disc, promotion_id=promo_id,
                         **common)
            if collects and vat is None:
                if tax:
                    self.row("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal",
                             -tax, **common)
                if ship_tax:
                    self.row("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Shipping",
                             -ship_tax, **common)
            base = price + ship + wrap - promo - ship_disc
            self.row("Order", "ItemFees", "Commission",
                     -(base * COMMISSION_RATE).quantize(CENT, ROUND_HALF_UP), **common)
            self.row("Order", "ItemFees", "FixedClosingFee", Decimal("-0.99"), **common)

    def refund(self, entry, adjustment_id, posted=None):
        """The whole order refunded: the buyer's amounts back, the withheld tax returned,
        the commission returned less Amazon's refund commission."""
        order = entry["order"]
        oid = order["AmazonOrderId"]
        vat = MARKETPLACES[order["MarketplaceId"]][2]
        for item in entry["items"]:
            common = {"order_id": oid, "adjustment_id": adjustment_id, "sku": item["SellerSKU"],
                      "quantity": item["QuantityOrdered"], "item_code": item["OrderItemId"],
                      "posted": posted}
            price, tax = _d(item["ItemPrice"]), _d(item["ItemTax"])
            ship, ship_tax = _d(item["ShippingPrice"]), _d(item["ShippingTax"])
            promo, ship_disc = _d(item["PromotionDiscount"]), _d(item["ShippingDiscount"])
            self.row("Refund", "ItemPrice", "Principal", -price, **common)
            if vat is None:
                self.row("Refund", "ItemPrice", "Tax", -tax, **common)
            if ship:
                self.row("Refund", "ItemPrice", "Shipping", -ship, **common)
                if vat is None:
                    self.row("Refund", "ItemPrice", "ShippingTax", -ship_tax, **common)
            if promo:
                self.row("Refund", "Promotion", "Principal", promo, **common)
            if ship_disc:
                self.row("Refund", "Promotion", "Shipping", ship_disc, **common)
            if vat is None:
                if tax:
                    self.row("Refund", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal",
                             tax, **common)
                if ship_tax:
                    self.row("Refund", "ItemWithheldTax", "MarketplaceFacilitatorTax-Shipping",
                             ship_tax, **common)
            commission = ((price + ship - promo - ship_disc) * COMMISSION_RATE).quantize(
                CENT, ROUND_HALF_UP)
            self.row("Refund", "ItemFees", "Commission", commission, **common)
            self.row("Refund", "ItemFees", "RefundCommission",
                     -min(Decimal("5.00"), (commission * Decimal("0.2")).quantize(CENT, ROUND_HALF_UP)),
                     **common)

    def other(self, description, amount, amount_type="other-transaction",
              transaction_type="other-transaction"):
        self.row(transaction_type, amount_type, description, amount)

    @property
    def total(self):
        return sum((Decimal(r["amount"]) for r in self.rows), Decimal("0"))

    def lines(self):
        """The document line by line (a big settlement is never one string)."""
        yield "\t".join(COLUMNS)
        summary = dict.fromkeys(COLUMNS, "")
        summary.update({"settlement-id": self.settlement_id,
                        "settlement-start-date": _when(self.start),
                        "settlement-end-date": _when(self.end),
                        "deposit-date": _when(self.deposit),
                        "total-amount": "%.2f" % self.total, "currency": self.currency})
        yield "\t".join(summary[c] for c in COLUMNS)
        for row in self.rows:
            yield "\t".join(row.get(c, "") for c in COLUMNS)

    def text(self):
        return "".join(line + "\n" for line in self.lines())


def build_settlement(scenario, order_ids, *, settlement_id, start, end, deposit=None,
                     marketplace_id="ATVPDKIKX0DER", refunds=(), fees=(), reserve_previous=None,
                     reserve_current=None, unknown_orders=(), unknown_amounts=(), extra=()):
    """A settlement of the scenario's orders ``order_ids`` (every amount), the refunds of
    ``refunds`` (order ids, refunded whole), ``fees`` ((description, amount) not tied to an
    order, e.g. ("Subscription Fee", "-39.99")), reserve movements, orders Amazon settles
    but the seller's Odoo never imported (``unknown_orders``: order ids, each one sale of
    19.99 with its commission), and ``unknown_amounts`` ((amount-type, description, amount)
    Amazon may add one day)."""
    currency = MARKETPLACES[marketplace_id][1]
    builder = SettlementBuilder(settlement_id, start, end, deposit or end + timedelta(days=2),
                                currency, marketplace_id)
    for oid in order_ids:
        builder.order(scenario.orders[oid])
    for n, oid in enumerate(refunds, start=1):
        builder.refund(scenario.orders[oid], "amzn1.adj.%s.%d" % (settlement_id, n))
    for oid in unknown_orders:
        builder.row("Order", "ItemPrice", "Principal", "19.99", order_id=oid, sku="UNKNOWN-SKU",
                    quantity=1, item_code="99999999999999")
        builder.row("Order", "ItemFees", "Commission", "-3.00", order_id=oid, sku="UNKNOWN-SKU",
                    quantity=1, item_code="99999999999999")
    for description, amount in fees:
        builder.other(description, amount)
    for amount_type, description, amount in unknown_amounts:
        builder.other(description, amount, amount_type=amount_type)
    for row in extra:
        builder.row(*row)
    if reserve_previous:
        builder.other("Previous Reserve Amount Balance", reserve_previous)
    if reserve_current:
        builder.other("Current Reserve Amount", reserve_current)
    return builder


def add_settlement(emu, order_ids, *, created=None, marketplace_id="ATVPDKIKX0DER", **kw):
    """Store the settlement as Amazon does: a DONE report with its document."""
    from .scenario import iso
    now = datetime.now(timezone.utc).replace(microsecond=0)
    created = created or now
    kw.setdefault("settlement_id", str(10000000000 + len(emu.reports) + int(emu._new_id())))
    kw.setdefault("end", created - timedelta(hours=1))
    kw.setdefault("start", kw["end"] - timedelta(days=14))
    builder = build_settlement(emu.scenario, order_ids, marketplace_id=marketplace_id, **kw)
    report_id = emu._new_id()
    report = {"reportId": report_id, "reportType": REPORT_SETTLEMENT,
              "marketplaceIds": [marketplace_id], "dataStartTime": iso(builder.start),
              "dataEndTime": iso(builder.end), "createdTime": iso(created),
              "processingStartTime": iso(created), "processingEndTime": iso(created),
              "processingStatus": "DONE", "_polls": 0, "_outcome": "DONE", "_options": {}}
    report["reportDocumentId"] = emu._store_document(builder.text(), report)
    emu.reports[report_id] = report
    return report_id, builder


PROCESSING_STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
RETENTION = timedelta(days=90)


def get_reports(handler):
    """getReports as the 2021-06-30 model has it: reportTypes (1-10) or nextToken, and
    nextToken alone; processingStatuses from the enum; pageSize 1-100 (default 10);
    createdSince (default and at most 90 days ago: reports are kept 90 days),
    createdUntil; marketplaceIds (a report matching one of them)."""
    import base64
    import json
    emu = handler.emulator
    query = handler.query
    if "nextToken" in query:
        if len(query) > 1:
            return handler._error(400, "InvalidInput", "nextToken must be the only parameter "
                                  "when it is present.")
        try:
            state = json.loads(base64.b64decode(query["nextToken"][0]))
            query, offset = state["q"], state["offset"]
        except (ValueError, KeyError, TypeError):
            return handler._error(400, "InvalidInput", "Invalid nextToken.")
    else:
        offset = 0
    csv = lambda key: [v for raw in query.get(key, []) for v in raw.split(",") if v]  # noqa: E731
    types = csv("reportTypes")
    if not types:
        return handler._error(400, "InvalidInput", "Either reportTypes or nextToken is required.")
    if len(types) > 10:
        return handler._error(400, "InvalidInput", "reportTypes accepts at most 10 values.")
    statuses = csv("processingStatuses")
    if any(s not in PROCESSING_STATUSES for s in statuses):
        return handler._error(400, "InvalidInput", "Invalid input in processing status")
    marketplaces = csv("marketplaceIds")
    try:
        size = int((query.get("pageSize") or ["10"])[0])
    except ValueError:
        size = 0
    if not 1 <= size <= 100:
        return handler._error(400, "InvalidInput", "pageSize must be between 1 and 100.")
    now = datetime.now(timezone.utc)
    try:
        since = _dt((query.get("createdSince") or [""])[0]) or now - RETENTION
        until = _dt((query.get("createdUntil") or [""])[0]) or now
    except ValueError:
        return handler._error(400, "InvalidInput", "createdSince and createdUntil must be ISO 8601 "
                              "date-times.")
    since = max(since, now - RETENTION)
    found = []
    for report in emu.reports.values():
        created = _dt(report["createdTime"])
        if report["reportType"] not in types or not since <= created <= until:
            continue
        if statuses and report["processingStatus"] not in statuses:
            continue
        if marketplaces and not set(marketplaces) & set(report.get("marketplaceIds") or []):
            continue
        found.append(report)
    found.sort(key=lambda r: (r["createdTime"], int(r["reportId"])), reverse=True)  # newest first
    page = found[offset:offset + size]
    body = {"reports": [{k: v for k, v in r.items() if not k.startswith("_") and v is not None}
                        for r in page]}
    if offset + size < len(found):
        body["nextToken"] = base64.b64encode(json.dumps(
            {"q": dict(query), "offset": offset + size}).encode()).decode()
    handler._send(200, body)
    return None


def _dt(value):
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
