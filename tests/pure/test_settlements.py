"""Settlement reports: the emulator serves them as Amazon does (listed by getReports only,
V2 columns, summary first), the Reports adapter lists them page by page, and the streamed
parser reads them by column name."""
import gzip
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest
from conftest import shared_path
from test_emulator_models import get, post, token, validate  # noqa: F401

from services import errors
from services.const import REPORT_SETTLEMENT, SETTLEMENT_COLUMNS
from services.document_stream import DocumentLines
from services.reports_adapter import ReportsAdapter
from services.settlement_parser import (
    KIND_CHARGE,
    KIND_COMMISSION,
    KIND_FEE,
    KIND_RESERVE,
    KIND_UNKNOWN,
    KIND_WITHHELD_TAX,
    parse_amount,
    parse_date,
    read_settlement,
)


def _settle(emulator, scenario, **kw):
    orders = [oid for oid, e in scenario.orders.items()
              if e["order"]["OrderStatus"] == "Shipped"][:5]
    kw.setdefault("refunds", orders[:1])
    kw.setdefault("fees", [("Subscription Fee", "-39.99")])
    kw.setdefault("reserve_previous", "50.00")
    kw.setdefault("reserve_current", "-60.00")
    kw.setdefault("unknown_orders", ["999-0000000-0000001"])
    kw.setdefault("unknown_amounts", [("NewAmountType2027", "Something new", "-2.50")])
    return emulator.add_settlement(orders, **kw)


def test_header_is_amazons_v2_header():
    with open(shared_path("flatfile", "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2.header.tsv")) as fh:
        assert tuple(fh.readline().rstrip("\n").split("\t")) == SETTLEMENT_COLUMNS


def test_settlements_cannot_be_requested(emulator, token):  # noqa: F811
    res = post(emulator, token, "/reports/2021-06-30/reports",
               {"reportType": REPORT_SETTLEMENT, "marketplaceIds": ["ATVPDKIKX0DER"]})
    assert res.status_code == 400
    validate("reports_2021-06-30.json", "ErrorList", res.json())
    assert "not allowed" in res.json()["errors"][0]["message"]


def test_get_reports_follows_the_model(emulator, scenario, token):  # noqa: F811
    for _n in range(3):
        _settle(emulator, scenario)
    path = "/reports/2021-06-30/reports"
    assert get(emulator, token, path).status_code == 400      # reportTypes or nextToken
    bad = get(emulator, token, path, reportTypes=REPORT_SETTLEMENT, processingStatuses="BAD_VALUE")
    assert bad.status_code == 400
    first = get(emulator, token, path, reportTypes=REPORT_SETTLEMENT, processingStatuses="DONE",
                pageSize=2)
    assert first.status_code == 200, first.text
    validate("reports_2021-06-30.json", "GetReportsResponse", first.json())
    assert len(first.json()["reports"]) == 2 and first.json()["nextToken"]
    mixed = get(emulator, token, path, nextToken=first.json()["nextToken"], pageSize=2)
    assert mixed.status_code == 400, "nextToken must come alone"
    second = get(emulator, token, path, nextToken=first.json()["nextToken"])
    validate("reports_2021-06-30.json", "GetReportsResponse", second.json())
    assert len(second.json()["reports"]) == 1 and "nextToken" not in second.json()
    elsewhere = get(emulator, token, path, reportTypes=REPORT_SETTLEMENT,
                    marketplaceIds="A1PA6795UKMFR9")
    assert elsewhere.json()["reports"] == []
    later = get(emulator, token, path, reportTypes=REPORT_SETTLEMENT,
                createdSince=(datetime.now(timezone.utc) + timedelta(hours=1)).isoformat())
    assert later.json()["reports"] == []


def test_adapter_lists_every_page_and_parses_the_document(emulator, scenario, client):
    ids = [_settle(emulator, scenario)[0] for _n in range(12)]   # more than one page of 10
    reports = ReportsAdapter(client)
    found = reports.list_done(REPORT_SETTLEMENT, datetime.now(timezone.utc) - timedelta(days=30),
                              ["ATVPDKIKX0DER"])
    assert [r["reportId"] for r in found] == ids        # oldest first, all pages
    assert client.calls["getReports"] == 1              # pageSize 100
    document = reports.fetch(found[0]["reportDocumentId"], REPORT_SETTLEMENT)
    settlement = read_settlement(reports.lines(document.raw, document.compression,
                                               document.charset))
    rows = list(settlement.rows())
    assert settlement.summary.total_amount == sum(r.amount for r in rows)
    kinds = {r.kind for r in rows}
    assert kinds == {KIND_CHARGE, KIND_COMMISSION, KIND_FEE, KIND_WITHHELD_TAX, KIND_RESERVE,
                     KIND_UNKNOWN}
    assert {r.transaction_type for r in rows} >= {"Order", "Refund", "other-transaction"}


def test_parser_matches_columns_by_name_and_reads_eu_numbers():
    header = list(SETTLEMENT_COLUMNS)
    order = list(reversed(header))          # any column order
    def line(**cells):
        return "\t".join(cells.get(c.replace("-", "_"), "") for c in order)
    text = "\n".join([
        "\t".join(order),
        line(settlement_id="123", settlement_start_date="01.11.2026 10:00:00 UTC",
             settlement_end_date="15.11.2026 10:00:00 UTC", deposit_date="17.11.2026 10:00:00 UTC",
             total_amount="1.234,56", currency="EUR"),
        line(settlement_id="123", transaction_type="Order", order_id="302-1", amount_type="ItemPrice",
             amount_description="Principal", amount="1.250,00", posted_date="02.11.2026",
             quantity_purchased="2"),
        line(settlement_id="123", transaction_type="Order", order_id="302-1", amount_type="ItemFees",
             amount_description="Commission", amount="-15,44"),
        line(settlement_id="123", transaction_type="Order", order_id="302-1", amount_type="ItemFees",
             amount_description="Commission", amount="n/a"),
    ]) + "\n"
    settlement = read_settlement(DocumentLines(gzip.compress(text.encode("utf-8")), "GZIP"))
    assert settlement.summary.settlement_id == "123"
    assert settlement.summary.total_amount == Decimal("1234.56")
    assert settlement.summary.date_end == datetime(2026, 11, 15, 10, 0)
    rows = list(settlement.rows())
    assert [r.amount for r in rows] == [Decimal("1250.00"), Decimal("-15.44"), None]
    assert rows[0].quantity == 2 and rows[0].posted_date.isoformat() == "2026-11-02"
    assert [r.kind for r in rows[:2]] == [KIND_CHARGE, KIND_COMMISSION]
    assert "cannot be read" in rows[2].error and rows[2].line_no == 5


def test_parser_refuses_what_is_not_a_settlement():
    with pytest.raises(errors.AmazonDocumentError, match="not a settlement report"):
        read_settlement(["order-id\tsku", "1\t2"])
    with pytest.raises(errors.AmazonDocumentError, match="not its summary"):
        header = "\t".join(SETTLEMENT_COLUMNS)
        row = "\t".join("Order" if c == "transaction-type" else "1" for c in SETTLEMENT_COLUMNS)
        read_settlement([header, row])


@pytest.mark.parametrize("raw,expected", [("-3.75", "-3.75"), ("1,234.56", "1234.56"),
                                          ("1.234,56", "1234.56"), ("-3,75", "-3.75"),
                                          ("(55.00)", "-55.00")])
def test_amounts(raw, expected):
    assert parse_amount(raw) == Decimal(expected)


def test_dates():
    assert parse_date("2026-11-04 21:04:48 UTC") == datetime(2026, 11, 4, 21, 4, 48)
    assert parse_date("2026-11-04T21:04:48+01:00") == datetime(2026, 11, 4, 20, 4, 48)
    assert parse_date("04/11/2026") == datetime(2026, 11, 4)
    assert parse_date("") is None


def test_download_is_gzip_text(emulator, scenario):
    report_id, builder = _settle(emulator, scenario)
    doc = emulator.documents[emulator.reports[report_id]["reportDocumentId"]]
    assert doc["gzip"] and gzip.decompress(doc["body"]).decode() == builder.text()
    assert httpx.get(emulator.url + "/download/" + emulator.reports[report_id]["reportDocumentId"]
                     ).status_code == 200


def test_demo_control_route_closes_a_settlement(emulator, scenario, client):
    """The emulator's own route (the demo's pictures): a settlement of the given orders,
    then listed by getReports like any other; unknown order ids are left out."""
    shipped = [oid for oid, e in scenario.orders.items()
               if e["order"]["OrderStatus"] == "Shipped"][:2]
    res = httpx.post(emulator.url + "/_emulator/settlements", json={
        "orders": shipped + ["999-0000000-0000009"], "fees": [["Subscription Fee", "-39.99"]]})
    assert res.status_code == 200, res.text
    assert res.json()["orders"] == shipped
    assert httpx.post(emulator.url + "/_emulator/settlements", content=b"{").status_code == 400
    reports = ReportsAdapter(client)
    [found] = reports.list_done(REPORT_SETTLEMENT, datetime.now(timezone.utc) - timedelta(days=30),
                                ["ATVPDKIKX0DER"])
    assert found["reportId"] == res.json()["reportId"]
    document = reports.fetch(found["reportDocumentId"], REPORT_SETTLEMENT)
    settlement = read_settlement(reports.lines(document.raw, document.compression,
                                               document.charset))
    rows = list(settlement.rows())
    assert settlement.summary.settlement_id == res.json()["settlementId"]
    assert {r.order_id for r in rows if r.order_id} == set(shipped)
    assert str(settlement.summary.total_amount) == res.json()["total"]


def test_tab_reader_skips_blank_lines_and_numbers_them():
    from services.tab_reader import TabReader
    reader = TabReader(["\ufeffB\tA\tB\n", "\n", "  \n", "2\t1\n", "4\t3\t5\n"])
    assert reader.names == ["b", "a", "b"] and reader.index == {"b": 0, "a": 1}
    line = reader.next_line()
    assert reader.line_no == 4
    cell = reader.cells(line)
    assert (cell("a"), cell("b"), cell("missing")) == ("1", "2", "")
    assert reader.cells(reader.next_line())("b") == "4" and reader.line_no == 5
    assert reader.next_line() is None
    assert TabReader(["", "  "]).names is None
