"""The Unshipped Orders report is read as a stream: orders come out while the
document is still being read, the document is never held whole, and the
stored bytes (gzip, any charset) are decoded chunk by chunk."""
import gzip
import tracemalloc
from decimal import Decimal

import pytest

from services import document_stream, errors, report_parser
from services.document_stream import decode_document
from services.normalize import Order

COLS = ("order-id", "order-item-id", "purchase-date", "buyer-email", "buyer-name", "sku", "product-name",
        "quantity-purchased", "recipient-name", "ship-address-1", "ship-city", "ship-state",
        "ship-postal-code", "ship-country")


def row(order, item, sku="SKU-1", qty="1", date="2026-11-20T10:00:00+00:00"):
    values = {"order-id": order, "order-item-id": item, "purchase-date": date,
              "buyer-email": "b%s@marketplace.amazon.com" % order, "buyer-name": "Ada Lovelace",
              "sku": sku, "product-name": "A thing with a rather long product title, as Amazon has",
              "quantity-purchased": qty, "recipient-name": "Ada L", "ship-address-1": "1 Road",
              "ship-city": "Seattle", "ship-state": "WA", "ship-postal-code": "98101", "ship-country": "US"}
    return "\t".join(values[c] for c in COLS)


def report_lines(orders):
    """A header and two adjacent rows per order, as Amazon writes them."""
    yield "\t".join(COLS)
    for n in range(orders):
        order = "111-%07d-0000001" % n
        yield row(order, "I%d-1" % n, "SKU-1")
        yield row(order, "I%d-2" % n, "SKU-2", qty="2")


class CountingLines:
    """A re-iterable source that counts the lines each reading has taken."""

    def __init__(self, lines):
        self.lines, self.readings, self.taken = lines, 0, 0

    def __iter__(self):
        self.readings += 1
        self.taken = 0
        for line in self.lines:
            self.taken += 1
            yield line


def test_orders_come_out_while_the_document_is_read():
    source = CountingLines(list(report_lines(10000)))
    stream = report_parser.read_unshipped(source, "ATVPDKIKX0DER")
    first = next(iter(stream))
    assert isinstance(first, Order) and first.order_id == "111-0000000-0000001"
    assert [i.sku for i in first.items] == ["SKU-1", "SKU-2"]
    # what is read first is the start that tells what the file is (64 KB), not the file
    assert source.taken < 1000, "the first order waited for %d of 20,001 lines" % source.taken


def test_parsing_a_big_report_holds_neither_the_document_nor_its_orders():
    text = "\n".join(report_lines(10000)) + "\n"     # 20,000 rows, about 4 MB
    raw = gzip.compress(text.encode("utf-8"))
    del text
    tracemalloc.start()
    try:
        orders = 0
        for got in report_parser.read_unshipped(document_stream.DocumentLines(raw, "GZIP", "utf-8")):
            assert isinstance(got, Order), got
            orders += 1
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert orders == 10000
    # the orders alone, kept, take about 40 MB; the index of order ids about 1 MB
    assert peak < 12 * 2 ** 20, "parsing took %.1f MB" % (peak / 2 ** 20)


def test_rows_of_one_order_apart_are_one_order():
    lines = ["\t".join(COLS), row("A", "A1", "SKU-1"), row("B", "B1"), row("A", "A2", "SKU-2"), row("C", "C1")]
    got = list(report_parser.read_unshipped(lines))
    assert [o.order_id for o in got] == ["B", "A", "C"], "an order comes out after its last row"
    assert [i.sku for i in got[1].items] == ["SKU-1", "SKU-2"]


def test_a_bad_row_apart_from_its_order_fails_the_whole_order():
    lines = ["\t".join(COLS), row("A", "A1"), row("B", "B1"), row("A", "A2", qty="two"), row("A", "A3")]
    got = list(report_parser.read_unshipped(lines))
    assert [o.order_id for o in got if isinstance(o, Order)] == ["B"]
    [error] = [e for e in got if isinstance(e, report_parser.RowError)]
    assert (error.line, error.order_id) == (4, "A") and "not a whole number" in error.message


def test_a_duplicated_row_apart_counts_once():
    lines = ["\t".join(COLS), row("A", "A1", qty="2"), row("B", "B1"), row("A", "A1", qty="2")]
    [b, a] = list(report_parser.read_unshipped(lines))
    assert [(i.order_item_id, i.quantity) for i in a.items] == [("A1", 2)]


def test_an_html_page_is_one_file_error():
    page = "\n\n<html><head><title>503 Service Unavailable</title></head></html>\n"
    got = list(report_parser.read_unshipped(document_stream.DocumentLines(page.encode())))
    assert got == [report_parser.RowError(1, "", got[0].message)]
    assert "HTML page (503 Service Unavailable)" in got[0].message


def test_a_one_shot_iterator_is_refused():
    with pytest.raises(TypeError, match="read twice"):
        report_parser.read_unshipped(iter(["order-id\tsku"]))


# ------------------------------------------------------------ stored bytes -> lines
TEXT = "order-id\tsku\ttitle\r\n1\tCafé-ü\tZoë – 5 €\r\n2\t日本語の商品\tx\n\n3\tlast\tno end"


@pytest.mark.parametrize("charset, text", [
    ("cp1252", TEXT.replace("日本語の商品", "J")), ("iso-8859-1", TEXT.replace("日本語の商品", "J").replace(
        "–", "-").replace("€", "E")), ("cp932", TEXT.replace("é", "e").replace("ü", "u").replace("ë", "e").replace(
        "–", "-").replace("€", "E")), ("Shift_JIS", "order-id\tsku\n1\t日本語の商品\n"), ("utf-8", TEXT)])
@pytest.mark.parametrize("compression", ["GZIP", None, "sniffed"])
@pytest.mark.parametrize("chunk", [1, 7, document_stream.CHUNK])
def test_lines_match_the_whole_decoded_document(monkeypatch, charset, text, compression, chunk):
    monkeypatch.setattr(document_stream, "CHUNK", chunk)   # chunk edges inside characters and "\r\n"
    body = text.encode("cp932" if charset == "Shift_JIS" else charset)
    raw = gzip.compress(body) if compression else body
    compression = compression if compression == "GZIP" else None
    lines = document_stream.DocumentLines(raw, compression, charset)
    whole = decode_document(raw, compression, charset)
    assert "\n".join(lines) == whole.replace("\r\n", "\n").rstrip("\n")
    assert list(lines) == list(lines), "read as often as asked"


@pytest.mark.parametrize("body, charset, encoding", [
    ("Zoë".encode(), None, "utf-8"),
    ("Zoë".encode("iso-8859-1"), None, "iso-8859-1"),
    (b"\xef\xbb\xbforder-id\tsku\n", "iso-8859-1", "utf-8-sig"),   # the byte-order mark wins
])
def test_charset_choice_is_decode_documents(body, charset, encoding):
    lines = document_stream.DocumentLines(gzip.compress(body), "GZIP", charset)
    assert lines.encoding == encoding
    assert "\n".join(lines) == decode_document(gzip.compress(body), "GZIP", charset).rstrip("\n")


def test_damaged_documents_are_clear_errors():
    body = gzip.compress(("order-id\tsku\n" + "".join("%d\tS\n" % n for n in range(5000))).encode())
    with pytest.raises(errors.AmazonDocumentError, match="cut short"):
        list(document_stream.DocumentLines(body[: len(body) // 2], "GZIP", "utf-8"))
    with pytest.raises(errors.AmazonDocumentError, match="download it again"):
        list(document_stream.DocumentLines(body[: len(body) // 2], None, "utf-8"))
    with pytest.raises(errors.AmazonDocumentError, match="not valid cp932 text"):
        list(document_stream.DocumentLines(b"order-id\tsku\n1\t\x81\x20\n", None, "cp932"))
    with pytest.raises(errors.AmazonDocumentError, match="not valid"):
        document_stream.DocumentLines(b"order-id\n", None, "no-such-charset")


def test_price_report_read_from_lines_and_stored_row_by_row():
    import json
    text = ("amazon-order-id\tsku\tquantity\tcurrency\titem-price\titem-tax\torder-status\n"
            "9\tS\t1\tEUR\t10.00\t1.00\tUnshipped\n9\tS\t2\tEUR\t20.00\t2.00\tUnshipped\n"
            "8\tT\t1\tEUR\t5.00\t0.00\tShipped\n")
    from_text = report_parser.parse_all_orders(text)
    from_lines = report_parser.parse_all_orders(document_stream.DocumentLines(gzip.compress(text.encode()), "GZIP"))
    assert from_lines == from_text
    prices, info, _errs = from_text
    for order_id in info:
        items = {sku: item for (oid, sku), item in prices.items() if oid == order_id}
        stored = report_parser.dump_order_prices(info[order_id], items)
        assert report_parser.order_prices_from_json(stored) == (info[order_id], items)
    assert json.loads(stored)[1][0][:3] == ["T", 1, 0]   # compact: a list per item


def test_price_report_read_order_by_order():
    """The reader yields each run of an order's rows as it reads them; rows of an
    order apart in the document come in two runs that add up to the same prices;
    an order with an unreadable row is named in ``bad``."""
    text = ("amazon-order-id\tsku\tquantity\tcurrency\titem-price\titem-tax\torder-status\n"
            "9\tS\t1\tEUR\t10.00\t1.00\tUnshipped\n8\tT\t1\tEUR\t5.00\t0.00\tShipped\n"
            "9\tS\t2\tEUR\t20.00\t2.00\tPending\n7\tU\t1\tEUR\tten\t0\tUnshipped\n"
            "7\tV\t1\tEUR\t3.00\t0\tUnshipped\n")
    reader = report_parser.read_all_orders(text)
    runs = [(oid, info["status"], {sku: item.item_price for sku, item in items.items()})
            for oid, info, items in reader]
    assert runs == [("9", "Unshipped", {"S": Decimal("10.00")}), ("8", "Shipped", {"T": Decimal("5.00")}),
                    ("9", "Pending", {"S": Decimal("20.00")})]
    assert reader.bad == {"7"} and [e[0] for e in reader.errors] == [5]
    prices, info, _errs = report_parser.parse_all_orders(text)
    assert prices[("9", "S")].item_price == Decimal("30.00") and prices[("9", "S")].quantity == 3
    assert info["9"]["status"] == "Pending" and "7" not in info


def test_price_book_asks_its_loader_once_per_batch():
    """A price book over a stored report holds one batch: ``load`` asks for the
    batch's orders once; an order priced outside a batch is asked alone."""
    from services.pricing import PriceBook
    text = ("amazon-order-id\tsku\tquantity\tcurrency\titem-price\titem-tax\torder-status\n"
            "1\tS\t1\tEUR\t10.00\t1.00\tUnshipped\n2\tT\t2\tEUR\t20.00\t2.00\tUnshipped\n"
            "3\tU\t1\tEUR\t5.00\t0.00\tUnshipped\n")
    prices, info, _errs = report_parser.parse_all_orders(text)
    asked = []

    def loader(order_ids):
        asked.append(sorted(order_ids))
        return ({k: v for k, v in prices.items() if k[0] in order_ids},
                {k: v for k, v in info.items() if k in order_ids})

    book = PriceBook(loader=loader)
    book.load(["1", "2"])
    orders = [book.price(Order(order_id=oid), {}, fetch=False) for oid in ("1", "2")]
    assert asked == [["1", "2"]] and set(book.by_order) == {"1", "2"}
    assert [o.total(price_includes_tax=False) for o in orders] == [Decimal("11.00"), Decimal("22.00")]
    assert book.price(Order(order_id="3"), {}, fetch=False).priced
    assert asked == [["1", "2"], ["3"]] and set(book.by_order) == {"3"}
