"""FBM returns as Amazon reports them (``GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE``).

A buyer's return of an FBM order is one RMA (Amazon RMA ID) of one or more items. The
report is requested with createReport for a window of return request dates of at most
60 days (a longer window is refused, as Amazon does); it is CANCELLED when no return
falls in the window ("no returns", not an error). One row per returned item, the
columns of a 2025 US document
(``tests/fixtures/spapi/flatfile/GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE.header.observed-2025-US.tsv``).
"""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from .scenario import MARKETPLACES

REPORT_RETURNS = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
MAX_WINDOW = timedelta(days=60)
COLUMNS = [
    "Order ID", "Order date", "Return request date", "Return request status", "Amazon RMA ID",
    "Merchant RMA ID", "Label type", "Label cost", "Currency code", "Return carrier",
    "Tracking ID", "Label to be paid by", "A-to-Z Claim", "Is prime", "ASIN", "Merchant SKU",
    "Item Name", "Return quantity", "Return Reason", "In policy", "Return type", "Resolution",
    "Invoice number", "Return delivery date", "Order Amount", "Order quantity",
    "SafeT Action reason", "SafeT claim id", "SafeT claim state", "SafeT claim creation time",
    "SafeT claim reimbursement amount", "Refunded Amount",
]


def _when(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if dt else ""


def window_error(start, end):
    """Amazon's refusal of a window longer than 60 days, else None."""
    if start and end and end - start > MAX_WINDOW:
        return ("The report date range exceeds the maximum allowed for %s: the interval "
                "between dataStartTime and dataEndTime must not exceed 60 days." % REPORT_RETURNS)
    if start and end and end < start:
        return "dataEndTime must be after dataStartTime."
    return None


def add_return(emulator, order_id, items=None, *, reason="CR-DEFECTIVE", rma_id=None,
               requested=None, status="Approved", label_type="AmazonPrePaidLabel",
               label_cost="5.60", carrier="UPS", tracking=None, label_paid_by="Seller",
               refunded=None, resolution=None, marketplace_id=None, order_date=None,
               currency=None, delivered=None):
    """A buyer returns items of an order: one RMA.

    ``items``: ``[{"sku", "qty", optional "refunded" (this item's refund), "asin", "title",
    "reason", "order_amount", "order_qty"}]``; empty: every item of the scenario's order,
    whole. ``refunded``: the RMA's refund when items give none: ``"full"`` (each item's
    price and tax), an amount (spread over the items by price) or None (not refunded
    yet: empty cells). An order the scenario lacks (``order_id`` unknown) needs
    ``items`` with ``order_amount``; a SKU the order does not have is written as given.
    Returns the RMA id."""
    entry = emulator.scenario.orders.get(order_id)
    order = entry["order"] if entry else {}
    by_sku = {it["SellerSKU"]: it for it in (entry["items"] if entry else [])}
    marketplace_id = marketplace_id or order.get("MarketplaceId") or "ATVPDKIKX0DER"
    currency = currency or MARKETPLACES[marketplace_id][1]
    if not items:
        items = [{"sku": sku, "qty": it["QuantityOrdered"]} for sku, it in by_sku.items()]
    emulator._returns_seq += 1
    seq = emulator._returns_seq
    rma_id = rma_id or "D%08dRRMA" % (41000000 + seq)
    requested = requested or datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    rows = []
    for spec in items:
        known = by_sku.get(spec["sku"])
        qty = int(spec.get("qty", 1))
        if known:
            ordered = known["QuantityOrdered"]
            amount = Decimal(known["ItemPrice"]["Amount"])
            if MARKETPLACES[marketplace_id][2] is None and known.get("ItemTax"):
                amount += Decimal(known["ItemTax"]["Amount"])
        else:
            ordered = int(spec.get("order_qty", qty))
            amount = Decimal(str(spec.get("order_amount", "0")))
        rows.append({"spec": spec, "known": known, "qty": qty, "ordered": ordered,
                     "amount": Decimal(str(spec.get("order_amount", amount)))})
    # what each item's row says was refunded
    total = sum((r["amount"] * r["qty"] / (r["ordered"] or 1) for r in rows), Decimal(0))
    for r in rows:
        if "refunded" in r["spec"]:
            r["refunded"] = Decimal(str(r["spec"]["refunded"]))
        elif refunded == "full":
            r["refunded"] = (r["amount"] * r["qty"] / (r["ordered"] or 1)).quantize(Decimal("0.01"))
        elif refunded is not None and total:
            share = r["amount"] * r["qty"] / (r["ordered"] or 1) / total
            r["refunded"] = (Decimal(str(refunded)) * share).quantize(Decimal("0.01"))
        else:
            r["refunded"] = None
    if refunded not in (None, "full") and rows and all(r["refunded"] is not None for r in rows):
        # the cents a share lost go to the first item: the rows add up to the refund
        rows[0]["refunded"] += Decimal(str(refunded)) - sum(r["refunded"] for r in rows)
    purchase = order_date or (datetime.fromisoformat(order["PurchaseDate"].replace("Z", "+00:00"))
                              if order else requested - timedelta(days=10))
    record = {"rma": rma_id, "order_id": order_id, "marketplace_id": marketplace_id,
              "requested": requested, "lines": []}
    for r in rows:
        spec, known = r["spec"], r["known"]
        record["lines"].append({
            "Order ID": order_id, "Order date": _when(purchase),
            "Return request date": _when(requested), "Return request status": status,
            "Amazon RMA ID": rma_id, "Merchant RMA ID": "",
            "Label type": label_type, "Label cost": label_cost if label_type else "",
            "Currency code": currency, "Return carrier": carrier,
            "Tracking ID": tracking if tracking is not None else "1Z%016d" % (seq * 7919),
            "Label to be paid by": label_paid_by, "A-to-Z Claim": "N",
            "Is prime": "Y" if order.get("IsPrime") else "N",
            "ASIN": spec.get("asin") or (known or {}).get("ASIN", ""),
            "Merchant SKU": spec["sku"],
            "Item Name": spec.get("title") or (known or {}).get("Title", ""),
            "Return quantity": str(r["qty"]), "Return Reason": spec.get("reason", reason),
            "In policy": "Y", "Return type": "C-Returns",
            "Resolution": resolution or ("StandardRefund" if r["refunded"] is not None else ""),
            "Invoice number": "", "Return delivery date": _when(delivered),
            "Order Amount": "%.2f" % r["amount"], "Order quantity": str(r["ordered"]),
            "Refunded Amount": "%.2f" % r["refunded"] if r["refunded"] is not None else "",
        })
    emulator.returns.append(record)
    return rma_id


def refund_return(emulator, rma_id, refunded="full", delivered=None):
    """Amazon refunds an RMA later (often once the parcel is back): its rows say the
    refund (``"full"``: each item's order amount for the quantity returned, or an amount
    spread over the rows by order amount) and ``delivered`` the parcel's return date."""
    record = next(r for r in emulator.returns if r["rma"] == rma_id)
    rows = record["lines"]
    shares = [Decimal(row["Order Amount"]) * int(row["Return quantity"]) / (int(row["Order quantity"]) or 1)
              for row in rows]
    total = sum(shares, Decimal(0))
    for row, share in zip(rows, shares):
        amount = share if refunded == "full" else Decimal(str(refunded)) * share / (total or 1)
        row["Refunded Amount"] = "%.2f" % amount.quantize(Decimal("0.01"))
        row["Resolution"] = "StandardRefund"
        if delivered:
            row["Return delivery date"] = _when(delivered)
    if refunded != "full":
        cents = Decimal(str(refunded)) - sum(Decimal(row["Refunded Amount"]) for row in rows)
        rows[0]["Refunded Amount"] = "%.2f" % (Decimal(rows[0]["Refunded Amount"]) + cents)


def returns_text(emulator, report, start, end):
    """The report's document, or None when no return was requested in the window."""
    rows = []
    for record in emulator.returns:
        if record["marketplace_id"] not in report["marketplaceIds"]:
            continue
        if not start <= record["requested"] <= end:
            continue
        rows.extend(record["lines"])
    if not rows:
        return None
    lines = ["\t".join(COLUMNS)]
    lines += ["\t".join(row.get(col, "") for col in COLUMNS) for row in rows]
    return "\n".join(lines) + "\n"
