"""Amazon's FBM returns report (``GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE``), streamed.

Tab-separated, a header line then one row per returned item; columns are matched by
name (case and spaces ignored), never by position. Rows are read one at a time from any
iterable of lines (``document_stream.DocumentLines``) and grouped per Amazon RMA: a
return of three items is three rows, one ``AmazonReturn`` of three ``ReturnItem``.
Only the returns are held (one per RMA), never the document. A row that cannot be read
is kept on its return as an error (or in ``ReturnsDocument.errors`` when it has no RMA):
the other returns still come through.
"""
import re
from collections import OrderedDict, namedtuple
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from . import errors
from .tab_reader import TabReader

ReturnItem = namedtuple("ReturnItem", "line_no sku asin name quantity reason order_amount "
                                      "order_quantity refunded")
RowError = namedtuple("RowError", "line_no message")

# our key -> the report's column (the 2025 US header)
COLUMNS = {
    "order_id": "Order ID", "order_date": "Order date", "request_date": "Return request date",
    "status": "Return request status", "rma_id": "Amazon RMA ID",
    "merchant_rma_id": "Merchant RMA ID", "label_type": "Label type", "label_cost": "Label cost",
    "currency": "Currency code", "carrier": "Return carrier", "tracking": "Tracking ID",
    "label_paid_by": "Label to be paid by", "a_to_z": "A-to-Z Claim", "asin": "ASIN",
    "sku": "Merchant SKU", "name": "Item Name", "quantity": "Return quantity",
    "reason": "Return Reason", "in_policy": "In policy", "return_type": "Return type",
    "resolution": "Resolution", "delivery_date": "Return delivery date",
    "order_amount": "Order Amount", "order_quantity": "Order quantity",
    "refunded": "Refunded Amount",
}
REQUIRED = ("order_id", "rma_id", "sku", "quantity")


def _key(name):
    return re.sub(r"[\s_-]+", "", (name or "").strip().lower())


def parse_amount(value):
    """``12.50``, ``1,234.56``, ``1.234,56``, ``$12.50`` -> Decimal; '' -> None."""
    text = re.sub(r"[^\d,.\-()]", "", (value or "").strip())
    if not text:
        return None
    if text.startswith("(") and text.endswith(")"):
        text = "-" + text[1:-1]
    if "," in text and "." in text:
        text = text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") \
            else text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError("unreadable amount %r" % value) from None


_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%d-%b-%Y", "%b %d, %Y", "%d/%m/%Y", "%m/%d/%Y",
                 "%Y-%m-%d", "%d.%m.%Y")


def parse_date(value):
    """ISO 8601 (``2026-11-04T21:04:48Z``), ``04-Nov-2026``, ``Nov 4, 2026`` -> naive UTC
    datetime; '' -> None; anything else ValueError."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" UTC", "+00:00"))
        if parsed.tzinfo:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        return parsed
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise ValueError("unreadable date %r" % value)


class AmazonReturn:
    """One RMA: its order, Amazon's words about it, its items and the refund."""

    def __init__(self, rma_id, cell):
        self.rma_id = rma_id
        self.order_id = cell("order_id")
        self.merchant_rma_id = cell("merchant_rma_id")
        self.status = cell("status")
        self.label_type = cell("label_type")
        self.carrier = cell("carrier")
        self.tracking = cell("tracking")
        self.label_paid_by = cell("label_paid_by")
        self.resolution = cell("resolution")
        self.currency = cell("currency").upper()
        self.return_type = cell("return_type")
        self.order_date = self.request_date = self.delivery_date = None
        self.label_cost = None
        self.items = []
        self.errors = []     # what could not be read, with its line

    @property
    def refunded(self):
        """The RMA's refund (the items' Refunded Amount added up); None when no row says one."""
        amounts = [item.refunded for item in self.items if item.refunded is not None]
        return sum(amounts, Decimal(0)) if amounts else None

    def quantities(self):
        """{sku: quantity returned}."""
        out = OrderedDict()
        for item in self.items:
            out[item.sku] = out.get(item.sku, 0) + item.quantity
        return out


class ReturnsDocument:
    """``ReturnsDocument(lines)``: the header is read at once; ``returns()`` yields the
    RMAs (in the order they first appear) once every row was read."""

    def __init__(self, lines):
        self._reader = TabReader(lines, key=_key)
        if self._reader.names is None:
            raise errors.AmazonDocumentError("The returns report is empty.")
        index = self._reader.index
        # the reader finds the columns by this parser's keys (COLUMNS: key -> Amazon's name)
        self._reader.index = self.index = {key: index[_key(col)] for key, col in COLUMNS.items()
                                           if _key(col) in index}
        missing = [COLUMNS[key] for key in REQUIRED if key not in self.index]
        if missing:
            raise errors.AmazonDocumentError(
                "This is not an Amazon returns report: the columns %s are missing."
                % ", ".join(missing))
        self.errors = []      # rows without an RMA: ``RowError``
        self.rows = 0

    def returns(self):
        found = OrderedDict()
        while True:
            line = self._reader.next_line()
            if line is None:
                break
            self.rows += 1
            cell = self._reader.cells(line)
            rma_id = cell("rma_id")
            if not rma_id or not cell("order_id"):
                self.errors.append(RowError(self._reader.line_no, "Line %d has no %s." % (
                    self._reader.line_no, "Amazon RMA ID" if not rma_id else "Order ID")))
                continue
            ret = found.get(rma_id)
            if ret is None:
                ret = found[rma_id] = AmazonReturn(rma_id, cell)
                for attr, key in (("order_date", "order_date"), ("request_date", "request_date"),
                                  ("delivery_date", "delivery_date")):
                    try:
                        setattr(ret, attr, parse_date(cell(key)))
                    except ValueError as exc:
                        ret.errors.append("Line %d: %s." % (self._reader.line_no, exc))
                try:
                    ret.label_cost = parse_amount(cell("label_cost"))
                except ValueError as exc:
                    ret.errors.append("Line %d: %s." % (self._reader.line_no, exc))
            elif cell("order_id") != ret.order_id:
                ret.errors.append("Line %d belongs to order %s, but RMA %s is of order %s." % (
                    self._reader.line_no, cell("order_id"), rma_id, ret.order_id))
                continue
            if not ret.tracking and cell("tracking"):
                ret.tracking, ret.carrier = cell("tracking"), cell("carrier") or ret.carrier
            self._item(ret, cell)
        yield from found.values()

    def _item(self, ret, cell):
        line_no = self._reader.line_no
        sku, quantity = cell("sku"), cell("quantity")
        if not sku:
            ret.errors.append("Line %d has no Merchant SKU." % line_no)
            return
        if not quantity.isdigit() or not int(quantity):
            ret.errors.append("Line %d: the return quantity %r of SKU %s is not a positive "
                              "whole number." % (line_no, quantity, sku))
            return
        amounts = {}
        for key in ("order_amount", "refunded"):
            try:
                amounts[key] = parse_amount(cell(key))
            except ValueError as exc:
                amounts[key] = None
                ret.errors.append("Line %d (SKU %s): %s." % (line_no, sku, exc))
        order_quantity = cell("order_quantity")
        ret.items.append(ReturnItem(
            line_no, sku, cell("asin"), cell("name"), int(quantity), cell("reason"),
            amounts["order_amount"], int(order_quantity) if order_quantity.isdigit() else 0,
            amounts["refunded"]))


def read_returns(lines):
    """Lines of a returns report -> ``ReturnsDocument`` (iterate ``.returns()``)."""
    return ReturnsDocument(lines)
