"""FBM returns: the emulator serves GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE as Amazon does
(the observed 2025 US columns, at most 60 days a report, CANCELLED when there is no return),
and the streamed parser groups its rows per RMA, reading columns by name."""
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from conftest import shared_path
from test_emulator_models import post, token  # noqa: F401

from services import errors
from services.const import REPORT_RETURNS
from services.reports_adapter import ReportsAdapter
from services.returns_parser import parse_amount, parse_date, read_returns
from tools.spapi_emulator import returns as emulator_returns


def _shipped(scenario):
    return [oid for oid, e in scenario.orders.items() if e["order"]["OrderStatus"] == "Shipped"]


def _wait(reports, report_id):
    for _poll in range(10):
        status = reports.status(report_id, REPORT_RETURNS)
        if status.state != "pending":
            return status
        time.sleep(0.05)
    raise AssertionError("the report stayed pending")


def test_header_is_the_observed_us_header():
    with open(shared_path("flatfile", "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE.header.observed-2025-US.tsv"),
              encoding="utf-8") as fh:
        assert fh.read().rstrip("\n").split("\t") == emulator_returns.COLUMNS


def test_window_longer_than_60_days_is_refused(emulator, token):  # noqa: F811
    now = datetime.now(timezone.utc)
    res = post(emulator, token, "/reports/2021-06-30/reports", {
        "reportType": REPORT_RETURNS, "marketplaceIds": ["ATVPDKIKX0DER"],
        "dataStartTime": (now - timedelta(days=61)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dataEndTime": now.strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert res.status_code == 400
    assert res.json()["errors"][0]["code"] == "InvalidInput"
    assert "60 days" in res.json()["errors"][0]["message"]


def test_no_return_in_the_window_is_cancelled(emulator, client):
    reports = ReportsAdapter(client)
    now = datetime.now(timezone.utc)
    report_id = reports.request(REPORT_RETURNS, ["ATVPDKIKX0DER"], now - timedelta(days=60), now)
    assert _wait(reports, report_id).state == "cancelled"


def test_returns_report_through_the_reports_flow(emulator, scenario, client):
    first, second = _shipped(scenario)[:2]
    items = scenario.orders[first]["items"]
    rma_full = emulator.add_return(first, refunded="full", reason="CR-DEFECTIVE")
    rma_part = emulator.add_return(second, [{"sku": scenario.orders[second]["items"][0]["SellerSKU"],
                                             "qty": 1}], refunded="3.50", tracking="1ZTRACK")
    rma_unknown = emulator.add_return("999-0000000-0000009", [{"sku": "NOPE-1", "qty": 1,
                                                              "order_amount": "12.00"}])
    # a return requested long ago is outside the window
    emulator.add_return(first, requested=datetime.now(timezone.utc) - timedelta(days=90))
    reports = ReportsAdapter(client)
    now = datetime.now(timezone.utc)
    report_id = reports.request(REPORT_RETURNS, ["ATVPDKIKX0DER"], now - timedelta(days=60), now)
    status = _wait(reports, report_id)
    assert status.state == "done"
    document = reports.fetch(status.document_id, REPORT_RETURNS)
    parsed = read_returns(ReportsAdapter.lines(document.raw, document.compression, document.charset))
    found = {r.rma_id: r for r in parsed.returns()}
    assert list(found) == [rma_full, rma_part, rma_unknown]
    full = found[rma_full]
    assert full.order_id == first
    assert full.quantities() == {it["SellerSKU"]: it["QuantityOrdered"] for it in items}
    expected = sum(Decimal(it["ItemPrice"]["Amount"]) + Decimal(it["ItemTax"]["Amount"]) for it in items)
    assert full.refunded == expected
    assert full.items[0].reason == "CR-DEFECTIVE"
    assert found[rma_part].refunded == Decimal("3.50")
    assert found[rma_part].tracking == "1ZTRACK"
    assert found[rma_unknown].refunded is None and found[rma_unknown].items[0].sku == "NOPE-1"
    assert not parsed.errors


def test_parser_groups_by_rma_by_column_name():
    # columns in another order, other case; rows of one RMA apart; a bad row kept as an error
    header = "amazon rma id\tRefunded Amount\tMerchant SKU\tOrder ID\tReturn quantity\tReturn Reason\tOrder date"
    lines = iter([
        "\ufeff" + header,
        "R1\t10.00\tSKU-A\t111-1\t1\tCR-DEFECTIVE\t2026-11-01T10:00:00Z",
        "R2\t\tSKU-B\t111-2\t2\tCR-UNWANTED_ITEM\t04-Nov-2026",
        "",
        "R1\t1.234,50\tSKU-C\t111-1\t1\tCR-SWITCHEROO\t2026-11-01T10:00:00Z",
        "\t5.00\tSKU-D\t111-3\t1\tX\t",
        "R2\t\tSKU-B\t111-2\ttwo\tX\t",
        "R1\t1.00\tSKU-C\t999-9\t1\tX\t",
    ])
    parsed = read_returns(lines)
    out = list(parsed.returns())
    assert [r.rma_id for r in out] == ["R1", "R2"]
    r1, r2 = out
    assert r1.quantities() == {"SKU-A": 1, "SKU-C": 1}
    assert r1.refunded == Decimal("1244.50")
    assert r1.order_date == datetime(2026, 11, 1, 10, 0)
    assert r2.refunded is None and r2.quantities() == {"SKU-B": 2}
    assert r2.order_date == datetime(2026, 11, 4)
    assert "not a positive whole number" in r2.errors[0]
    assert "belongs to order 999-9" in r1.errors[0]
    assert parsed.errors[0].line_no == 6 and "Amazon RMA ID" in parsed.errors[0].message


def test_parser_refuses_what_is_not_a_returns_report():
    with pytest.raises(errors.AmazonDocumentError, match="Amazon RMA ID"):
        read_returns(iter(["Order ID\tMerchant SKU\tReturn quantity", "1\tA\t1"]))
    with pytest.raises(errors.AmazonDocumentError, match="empty"):
        read_returns(iter([]))


def test_amounts_and_dates():
    assert parse_amount("$1,234.56") == Decimal("1234.56")
    assert parse_amount("-3,75") == Decimal("-3.75")
    assert parse_amount("") is None
    assert parse_date("Nov 4, 2026") == datetime(2026, 11, 4)
    with pytest.raises(ValueError):
        parse_date("someday")
