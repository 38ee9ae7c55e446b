"""Amazon's settlement report (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``), streamed.

The document is tab-separated: a header line, then the **summary row** (settlement-id,
settlement-start-date, settlement-end-date, deposit-date, total-amount, currency; the other
cells empty), then one row per amount of one transaction (an order's Principal, its
Commission, a refund's Tax, a Subscription Fee, a reserve movement ...). Columns are matched
by name, never by position. Lines are read one at a time (``document_stream.DocumentLines``
or any iterable of lines): a 100,000-line settlement is never held whole.

Every row is classified (``kind``) for the books:

* ``charge``: what the buyer paid for an order or got back with a refund (ItemPrice,
  Promotion): the amounts of the invoice or the credit note;
* ``commission`` / ``fee``: what Amazon charges the seller (ItemFees; fees not tied to an
  order such as the Subscription Fee);
* ``withheld_tax``: tax Amazon collected and remits itself (marketplace facilitator);
* ``reserve``: money Amazon holds back from this payout or releases from the last one;
* ``unknown``: an amount type (or an other-transaction description) this parser does not
  know: never booked silently, left for a person with the reason.
"""
import re
from collections import namedtuple
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from . import errors
from .const import SETTLEMENT_COLUMNS
from .tab_reader import TabReader

SettlementSummary = namedtuple(
    "SettlementSummary", "settlement_id date_start date_end deposit_date total_amount currency")
SettlementRow = namedtuple(
    "SettlementRow",
    "line_no transaction_type order_id merchant_order_id adjustment_id shipment_id "
    "marketplace_name amount_type amount_description amount posted_date sku quantity "
    "promotion_id kind error")

REQUIRED = ("settlement-id", "total-amount", "currency", "transaction-type", "order-id",
            "amount-type", "amount-description", "amount")

KIND_CHARGE = "charge"
KIND_COMMISSION = "commission"
KIND_FEE = "fee"
KIND_WITHHELD_TAX = "withheld_tax"
KIND_RESERVE = "reserve"
KIND_UNKNOWN = "unknown"
KINDS = (KIND_CHARGE, KIND_COMMISSION, KIND_FEE, KIND_WITHHELD_TAX, KIND_RESERVE, KIND_UNKNOWN)

# amount-type -> kind, for the amounts of an order or a refund.
CHARGE_TYPES = {"itemprice", "promotion"}
FEE_TYPES = {"itemfees", "cost of advertising", "servicefee"}
WITHHELD_TYPES = {"itemwithheldtax"}
COMMISSION_DESCRIPTIONS = {"commission", "refundcommission"}
RESERVE_DESCRIPTIONS = {"current reserve amount", "previous reserve amount balance"}
# other-transaction descriptions that are Amazon's fees (seen in V2 settlements).
OTHER_FEE_DESCRIPTIONS = {
    "subscription fee", "storage fee", "shipping label purchase",
    "shipping label purchase for return", "shipping label purchase adjustment",
    "fba inbound transportation fee", "long-term storage fee", "fba long-term storage fee",
    "inbound transportation fee", "disposal fee", "removal fee", "refund administration fee",
    "digitalservicesfee", "transactiontotalamount",
}

_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M:%S",
                 "%d/%m/%Y %H:%M:%S", "%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d %H:%M:%S",
                 "%Y/%m/%d")
_TZ_SUFFIX = re.compile(r"\s*(UTC|GMT|Z|[+-]\d\d:?\d\d)$")


def parse_date(value):
    """A settlement date as Amazon writes it for the marketplace (``2026-11-04 21:04:48 UTC``,
    ``2026-11-04T21:04:48+00:00``, ``04.11.2026 21:04:48 UTC``, ``04/11/2026``) -> a naive
    UTC ``datetime``; '' -> None. Raises ValueError on anything else."""
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
    bare = _TZ_SUFFIX.sub("", value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(bare, fmt)
        except ValueError:
            continue
    raise ValueError("unreadable date %r" % value)


def parse_amount(value):
    """``-3.75``, ``1234.56``, ``1,234.56`` (US), ``1.234,56`` / ``-3,75`` (EU files) -> Decimal."""
    text = (value or "").strip().replace(" ", "").replace("\u00a0", "")
    if not text:
        raise ValueError("empty amount")
    if text.startswith("(") and text.endswith(")"):
        text = "-" + text[1:-1]
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError("unreadable amount %r" % value) from None


def classify(transaction_type, amount_type, amount_description):
    """The kind of one amount (see the module's docstring)."""
    atype = (amount_type or "").strip().lower()
    desc = (amount_description or "").strip().lower()
    if desc in RESERVE_DESCRIPTIONS:
        return KIND_RESERVE
    if atype in CHARGE_TYPES:
        return KIND_CHARGE
    if atype in WITHHELD_TYPES:
        return KIND_WITHHELD_TAX
    if atype in FEE_TYPES:
        return KIND_COMMISSION if desc in COMMISSION_DESCRIPTIONS else KIND_FEE
    if atype == "other-transaction" and desc in OTHER_FEE_DESCRIPTIONS:
        return KIND_FEE
    return KIND_UNKNOWN


class SettlementDocument:
    """``SettlementDocument(lines)``: ``summary`` is read at once (header and summary row);
    ``rows()`` then yields the amounts one by one, from the same pass over ``lines``."""

    def __init__(self, lines):
        self._reader = TabReader(lines)
        if self._reader.names is None:
            raise errors.AmazonDocumentError("The settlement report is empty.")
        names = self._reader.names
        self.index = self._reader.index
        missing = [name for name in REQUIRED if name not in self.index]
        if missing:
            raise errors.AmazonDocumentError(
                "This is not a settlement report (Flat File V2): the columns %s are missing."
                % ", ".join(missing))
        self.unknown_columns = [n for n in names if n and n not in SETTLEMENT_COLUMNS]
        self.summary = self._read_summary()

    def _read_summary(self):
        line = self._reader.next_line()
        if line is None:
            raise errors.AmazonDocumentError("The settlement report has no summary row.")
        cell = self._reader.cells(line)
        if cell("transaction-type") or not cell("settlement-id") or not cell("total-amount"):
            raise errors.AmazonDocumentError(
                "The settlement report's first row is not its summary (settlement-id, dates, "
                "total-amount, currency) but line %d: %r." % (self._reader.line_no, line[:120]))
        try:
            summary = SettlementSummary(
                cell("settlement-id"), parse_date(cell("settlement-start-date")),
                parse_date(cell("settlement-end-date")), parse_date(cell("deposit-date")),
                parse_amount(cell("total-amount")), cell("currency").upper())
        except ValueError as exc:
            raise errors.AmazonDocumentError(
                "The settlement report's summary row cannot be read: %s." % exc) from None
        if not summary.currency:
            raise errors.AmazonDocumentError("The settlement report's summary has no currency.")
        return summary

    def rows(self):
        settlement_id = self.summary.settlement_id
        while True:
            line = self._reader.next_line()
            if line is None:
                return
            cell = self._reader.cells(line)
            error = ""
            if cell("settlement-id") and cell("settlement-id") != settlement_id:
                error = "This row belongs to settlement %s, not %s." % (cell("settlement-id"),
                                                                        settlement_id)
            try:
                amount = parse_amount(cell("amount"))
            except ValueError as exc:
                amount, error = None, error or "The amount cannot be read (%s)." % exc
            posted = None
            raw_posted = cell("posted-date-time") or cell("posted-date")
            if raw_posted:
                try:
                    posted = parse_date(raw_posted)
                except ValueError:
                    posted = None
            quantity = cell("quantity-purchased")
            transaction_type, amount_type = cell("transaction-type"), cell("amount-type")
            description = cell("amount-description")
            yield SettlementRow(
                self._reader.line_no, transaction_type, cell("order-id"), cell("merchant-order-id"),
                cell("adjustment-id"), cell("shipment-id"), cell("marketplace-name"),
                amount_type, description, amount, posted.date() if posted else None,
                cell("sku"), int(quantity) if quantity.isdigit() else 0, cell("promotion-id"),
                classify(transaction_type, amount_type, description), error)


def read_settlement(lines):
    """Lines of a settlement document -> ``SettlementDocument`` (summary read, rows to come)."""
    return SettlementDocument(lines)
