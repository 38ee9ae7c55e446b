"""Order flat-file reports -> normalised orders.

Columns are matched by name (``const.COLUMN_ALIASES``), never by position, so
Amazon's header variants (documented, MWS-era, marketplace-specific) all
parse. One row is one order item; a bad row is reported and skipped, the
other rows of the file still count.
"""
import itertools
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from . import document_stream
from .const import COLUMN_ALIASES, MFN, REPORT_MONEY_FIELDS, STATUS_UNSHIPPED
from .normalize import Address, Buyer, Item, NormalizeError, Order, money, parse_bool, parse_datetime, parse_quantity, stated


@dataclass
class ParseResult:
    orders: "OrderedDict[str, Order]" = field(default_factory=OrderedDict)
    errors: list = field(default_factory=list)   # (line number, order id or '', message)
    rows: int = 0
    failed_order_ids: set = field(default_factory=set)


@dataclass(frozen=True)
class RowError:
    """A row (or, line 1, the whole file) that could not be read."""
    line: int
    order_id: str       # '' when the row has none (or the file is unreadable)
    message: str


HEAD_CHARS = 65536      # how much of a document's start tells what it is


def _lines(source):
    """A text, or an iterable of lines without their ends -> an iterator of lines."""
    if isinstance(source, str):
        return document_stream.text_lines(source)
    return iter(source)


def _open(source):
    """-> (header cells, column index by canonical name, the document's first
    characters, iterator of (line number, line)) of the non-blank lines after the
    header. Reads only the header and the head before it returns."""
    lines = _lines(source)
    first = True
    for line in lines:
        if first:
            line, first = line.lstrip("\ufeff"), False
        if line.strip():
            break
    else:
        return [], {}, "", iter(())
    header = [h.strip().lower() for h in line.split("\t")]
    index = {}
    for canonical, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in header:
                index[canonical] = header.index(alias)
                break
    peeked, size = [line], len(line)
    for line in lines:
        if size >= HEAD_CHARS:
            lines = itertools.chain((line,), lines)
            break
        peeked.append(line)
        size += len(line) + 1
    head = "\n".join(peeked)
    numbered = ((number, line) for number, line in enumerate(itertools.chain(peeked[1:], lines), start=2)
                if line.strip())
    return header, index, head, numbered


def _cells(line, header, index):
    """One line -> its cells, or a ``ValueError`` when it was cut short."""
    cells = line.split("\t")
    if len(cells) < len(header) and len(cells) < max(index.values(), default=0) + 1:
        # Amazon pads rows to the header width; a shorter row was cut.
        return ValueError("row has %d fields, the header has %d (truncated line?)"
                          % (len(cells), len(header)))
    return cells


def read_rows(source):
    """TSV (a text, or an iterable of lines) -> (column index by canonical name,
    iterator of (line number, dict by canonical name, or a ``ValueError`` for a
    truncated line)). Rows are read as they are iterated; an empty document
    gives an empty index."""
    header, index, _head, numbered = _open(source)
    return index, _rows(header, index, numbered)


def _rows(header, index, numbered):
    for number, line in numbered:
        cells = _cells(line, header, index)
        if isinstance(cells, Exception):
            yield number, cells
            continue
        yield number, {name: cells[pos].strip() if pos < len(cells) else ""
                       for name, pos in index.items()}


# Columns without which an unshipped report cannot be read at all.
UNSHIPPED_REQUIRED = (("order_id", "order-id"), ("sku", "sku"),
                      ("quantity", "quantity-purchased"), ("purchase_date", "purchase-date"))


def document_problem(text, columns, required=UNSHIPPED_REQUIRED):
    """Why a whole document is not a readable order report, or None. ``text`` is
    the document or its start (``HEAD_CHARS``). (A header without rows is a
    readable report with nothing to import.)"""
    body = text.lstrip("\ufeff").strip()
    if not body:
        return "the document is empty: Amazon sent no header and no rows. Request the report again."
    if body[:1] == "<":
        match = re.search(r"<title>(.*?)</title>", body, re.I | re.S)
        what = match.group(1).strip()[:100] if match else body[:100]
        return ("Amazon sent an HTML page (%s) instead of the report: nothing was imported "
                "from it. Download or request the report again later." % what)
    if body[:1] in "{[":
        return "Amazon sent JSON, not an order report: %s" % body[:300]
    for name, label in required:
        if name not in columns:
            return "the file has no %s column: not an order report this import can read" % label
    return None


def _require(row, name, label):
    value = row.get(name, "")
    if not value:
        raise NormalizeError("%s is empty" % label)
    return value


class _Pending:
    """An order whose last row is still to come."""
    __slots__ = ("order", "items", "bad")

    def __init__(self):
        self.order, self.items, self.bad = None, {}, False


class UnshippedStream:
    """GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING, streamed: iterating yields
    each ``Order`` (buyer, ship-to, items, no prices) once its last row is read,
    and a ``RowError`` for each row (line 1: the file) that cannot be read.

    ``source`` is a text or a re-iterable of lines (``document_stream.DocumentLines``);
    it is read twice and never held whole. The first reading (at construction)
    checks the document and notes the line of each order's last row, so that
    the rows of one order need not be adjacent: an order is yielded whole or,
    when one of its rows is bad, not at all. What is kept meanwhile is that
    index and the orders whose last row is still to come (one, when Amazon's
    rows of an order are adjacent, as it writes them)."""

    def __init__(self, source, marketplace_id=""):
        if not isinstance(source, str) and iter(source) is source:
            raise TypeError("the report is read twice: give a text or a re-iterable of lines")
        self.source, self.marketplace_id = source, marketplace_id
        self.rows = 0           # rows read by the last iteration (blank lines aside)
        header, index, head, numbered = _open(source)
        self.problem = document_problem(head, index)
        self.last_line = {}     # order id -> line number of its last row
        if self.problem:
            return
        position = index["order_id"]
        for number, line in numbered:
            cells = _cells(line, header, index)
            if isinstance(cells, Exception) or position >= len(cells):
                continue
            order_id = cells[position].strip()
            if order_id:
                self.last_line[order_id] = number

    def __iter__(self):
        self.rows = 0
        if self.problem:
            yield RowError(1, "", self.problem)
            return
        header, index, _head, numbered = _open(self.source)
        pending = {}
        for number, row in _rows(header, index, numbered):
            self.rows += 1
            if isinstance(row, Exception):
                yield RowError(number, "", str(row))
                continue
            order_id = row.get("order_id", "")
            try:
                order_id = _require(row, "order_id", "order-id")
                state = pending.get(order_id)
                if state is None:
                    state = pending[order_id] = _Pending()
                self._add_row(state, order_id, row)
            except NormalizeError as exc:
                # An order with one bad row is not imported half: the whole order
                # is reported, the other orders of the file still import.
                yield RowError(number, order_id, str(exc))
                if order_id:
                    pending.setdefault(order_id, _Pending()).bad = True
            if order_id and self.last_line.get(order_id, number) <= number:
                state = pending.pop(order_id, None)
                if state and not state.bad and state.order:
                    yield state.order
        for state in pending.values():   # the document changed between the readings
            if not state.bad and state.order:
                yield state.order

    def _add_row(self, state, order_id, row):
        sku = _require(row, "sku", "sku")
        item_id = row.get("order_item_id", "")
        if item_id:
            previous = state.items.setdefault(item_id, row)
            if previous is not row:
                if previous == row:
                    return     # the same row twice: it counts once
                raise NormalizeError(
                    "order item %s appears twice with different data (lines disagree on "
                    "SKU, quantity or address); check the order in Seller Central" % item_id)
        qty = parse_quantity(row.get("quantity") or "0", "quantity-purchased")
        order = state.order
        if order is None:
            order = Order(
                order_id=order_id, marketplace_id=self.marketplace_id,
                purchase_date=parse_datetime(row.get("purchase_date")),
                status=STATUS_UNSHIPPED, fulfillment_channel=MFN,
                sales_channel=row.get("sales_channel", ""),
                is_business=parse_bool(row.get("is_business")),
                is_prime=parse_bool(row.get("is_prime")),
                buyer=Buyer(name=row.get("buyer_name", ""), email=row.get("buyer_email", ""),
                            phone=row.get("buyer_phone", "")),
                ship_to=Address(
                    name=row.get("recipient_name", ""), street=row.get("ship_address_1", ""),
                    street2=row.get("ship_address_2", ""), street3=row.get("ship_address_3", ""),
                    city=row.get("ship_city", ""), state=row.get("ship_state", ""),
                    zip=row.get("ship_postal_code", ""),
                    country_code=row.get("ship_country", "").upper(),
                    phone=row.get("ship_phone", "") or row.get("buyer_phone", "")),
                ship_by_date=parse_ship_by(row.get("ship_by")),
            )
        shipped = parse_quantity(row.get("quantity_shipped") or "0", "quantity-shipped")
        order.items.append(Item(sku=sku, quantity=qty, quantity_shipped=min(shipped, qty),
                                order_item_id=row.get("order_item_id", ""),
                                title=row.get("title", ""),
                                gift_message=row.get("gift_message", "")))
        state.order = order


def parse_ship_by(value):
    """The report's promise date -> naive UTC datetime, or None when empty or
    unreadable (the order still imports; only its deadline is unknown). A range
    ("<earliest> to <latest>", as Seller Central shows it) gives its end."""
    text = (value or "").strip()
    if " to " in text:
        text = text.rsplit(" to ", 1)[1].strip()
    if not text:
        return None
    try:
        return parse_datetime(text)
    except NormalizeError:
        return None


def read_unshipped(source, marketplace_id=""):
    """The Unshipped Orders report as an ``UnshippedStream`` (what the import uses)."""
    return UnshippedStream(source, marketplace_id)


def parse_unshipped(text, marketplace_id=""):
    """The whole Unshipped Orders report at once, as a ``ParseResult``: for small
    documents and tests. The import iterates ``read_unshipped`` instead."""
    stream = read_unshipped(text, marketplace_id)
    result = ParseResult()
    for got in stream:
        if isinstance(got, RowError):
            result.errors.append((got.line, got.order_id, got.message))
            if got.order_id:
                result.failed_order_ids.add(got.order_id)
        else:
            result.orders[got.order_id] = got
    result.rows = stream.rows
    return result


@dataclass
class PriceRow:
    order_id: str
    sku: str
    status: str
    item_status: str
    channel: str
    currency: str
    marketplace_hint: str
    item: Item


class AllOrdersReader:
    """GET_FLAT_FILE_ALL_ORDERS_DATA*, streamed: iterating yields, for each run
    of adjacent rows of one order, ``(order id, order facts, {sku: Item})``
    (several rows of one SKU added up), never the whole report.

    Amazon writes the rows of an order together; when it does not, an order
    comes in more than one run and the reader's user adds them up
    (``merge_prices``). Once iterated, ``errors`` holds ``(line, order id,
    message)`` of the unreadable rows and ``bad`` the orders they belong to: no
    row of those prices anything (its other rows alone would make a wrong
    total), runs of them already yielded are to be dropped."""

    def __init__(self, source):
        self.source = source
        self.errors = []
        self.bad = set()

    def __iter__(self):
        self.errors, self.bad = [], set()
        _columns, rows = read_rows(self.source)
        current, info, items = None, None, {}
        for number, row in rows:
            if isinstance(row, Exception):
                self.errors.append((number, "", str(row)))
                continue
            order_id = row.get("order_id", "")
            if order_id != current:
                if items and current not in self.bad:
                    yield current, info, items
                current, info, items = order_id, None, {}
            try:
                order_id = _require(row, "order_id", "amazon-order-id")
                item = _price_item(row)
            except NormalizeError as exc:
                self.errors.append((number, order_id, str(exc)))
                self.bad.add(order_id)
                continue
            if row.get("item_status", "").lower() == "cancelled" and not item.item_price:
                continue
            _add_item(items, item)
            info = {
                "status": row.get("status", ""),
                "channel": row.get("channel", ""),
                "currency": row.get("currency", ""),
                "sales_channel": row.get("sales_channel", ""),
                "purchase_date": row.get("purchase_date", ""),
            }
        if items and current not in self.bad:
            yield current, info, items


def _price_item(row):
    sku = _require(row, "sku", "sku")
    qty = parse_quantity(row.get("quantity") or "0")
    item = Item(
        sku=sku, quantity=qty, asin=row.get("asin", ""), title=row.get("title", ""),
        item_price=money(row.get("item_price"), "item-price"),
        item_tax=money(row.get("item_tax"), "item-tax"),
        shipping_price=money(row.get("shipping_price"), "shipping-price"),
        shipping_tax=money(row.get("shipping_tax"), "shipping-tax"),
        gift_wrap_price=money(row.get("gift_wrap_price"), "gift-wrap-price"),
        gift_wrap_tax=money(row.get("gift_wrap_tax"), "gift-wrap-tax"),
        promotion_discount=abs(money(row.get("promotion_discount"), "item-promotion-discount")),
        shipping_discount=abs(money(row.get("shipping_discount"), "ship-promotion-discount")),
        priced=True,
        tax_stated=stated(row.get("item_tax")),
    )
    if row.get("item_status", "").lower() == "shipped":
        item.quantity_shipped = qty
    return item


def _add_item(items, item):
    """Several rows for one SKU of an order: add them up (the first row's ASIN and title)."""
    prev = items.get(item.sku)
    if prev is None:
        items[item.sku] = item
        return
    prev.quantity += item.quantity
    prev.quantity_shipped += item.quantity_shipped
    prev.tax_stated = prev.tax_stated and item.tax_stated
    for name in REPORT_MONEY_FIELDS:
        setattr(prev, name, getattr(prev, name) + getattr(item, name))


def merge_prices(items, more):
    """Add the ``{sku: Item}`` of a later run of an order's rows to ``items``."""
    for item in more.values():
        _add_item(items, item)
    return items


def read_all_orders(source):
    """The All Orders report as an ``AllOrdersReader`` (what the price report stores)."""
    return AllOrdersReader(source)


def parse_all_orders(text):
    """GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL -> (prices by (order, sku),
    order facts by order, errors), all at once: for small documents and tests.
    ``text``: the document, or its lines (``document_stream.DocumentLines``)."""
    reader = read_all_orders(text)
    by_order, orders = {}, {}
    for order_id, info, items in reader:
        if order_id in by_order:
            merge_prices(by_order[order_id], items)
        else:
            by_order[order_id] = items
        orders[order_id] = info
    # An order with an unreadable row is priced by no row of this report.
    prices = {(oid, sku): item for oid, items in by_order.items() if oid not in reader.bad
              for sku, item in items.items()}
    orders = {oid: info for oid, info in orders.items() if oid not in reader.bad}
    return prices, orders, reader.errors


def dump_order_prices(info, items):
    """One order's facts and priced items (``{sku: Item}``) -> the compact JSON
    text ``order_prices_from_json`` reads back (one price report line)."""
    # An item whose tax Amazon did not state ends with a 0 (older lines have no flag).
    return json.dumps([info, [[item.sku, item.quantity, item.quantity_shipped, item.asin, item.title]
                              + [str(getattr(item, name)) for name in REPORT_MONEY_FIELDS]
                              + ([] if item.tax_stated else [0])
                              for item in items.values()]], separators=(",", ":"))


def order_prices_from_json(text, amounts=None):
    """``dump_order_prices``' text -> (order facts, ``{sku: Item}``). ``amounts``: a
    dict shared across calls, so that equal amounts are one ``Decimal``."""
    amounts = {} if amounts is None else amounts
    info, rows = json.loads(text)
    items = {}
    for sku, quantity, shipped, asin, title, *money_texts in rows:
        item = Item(sku=sku, quantity=quantity, quantity_shipped=shipped, asin=asin, title=title, priced=True)
        if len(money_texts) > len(REPORT_MONEY_FIELDS):
            item.tax_stated = bool(money_texts[len(REPORT_MONEY_FIELDS)])
        for name, value in zip(REPORT_MONEY_FIELDS, money_texts):
            amount = amounts.get(value)
            if amount is None:
                amount = amounts[value] = Decimal(value)
            setattr(item, name, amount)
        items[sku] = item
    return info, items
