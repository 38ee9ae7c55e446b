"""A seller's first week (issue 21), the parts without Odoo: the Unshipped report's
promise date, and the PATH every Odoo server of the tools runs with."""
import os
import subprocess
from datetime import datetime

from services.report_parser import parse_ship_by, parse_unshipped

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "spapi", "flatfile")


def _header(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return f.readline().rstrip("\n").split("\t")


def _report(header, **values):
    row = {"order-id": "111-0000000-0000001", "order-item-id": "1", "purchase-date": "2026-12-01T10:00:00+00:00",
           "sku": "SKU-A", "quantity-purchased": "1", "ship-country": "US"}
    row.update(values)
    return "\t".join(header) + "\n" + "\t".join(row.get(col, "") for col in header) + "\n"


def test_promise_date_of_every_unshipped_header_is_the_ship_by_date():
    for name in ("GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING.header.documented.tsv",
                 "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING.header.observed-2025-IN.tsv",
                 "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA.header.mws-era.tsv"):
        header = _header(name)
        assert "promise-date" in header, name
        result = parse_unshipped(_report(header, **{"promise-date": "2026-12-03T07:59:59-08:00"}))
        assert not result.errors, result.errors
        [order] = result.orders.values()
        assert order.ship_by_date == datetime(2026, 12, 3, 15, 59, 59), name
        assert order.to_dict()["ship_by_date"] == "2026-12-03T15:59:59"


def test_promise_date_forms():
    assert parse_ship_by("2026-12-03T23:59:59Z") == datetime(2026, 12, 3, 23, 59, 59)
    # Seller Central's range "earliest to latest": the latest
    assert parse_ship_by("2026-12-02T00:00:00Z to 2026-12-03T23:59:59Z") == datetime(2026, 12, 3, 23, 59, 59)
    assert parse_ship_by("") is None
    assert parse_ship_by(None) is None


def test_unreadable_promise_date_does_not_lose_the_order():
    header = _header("GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING.header.documented.tsv")
    result = parse_unshipped(_report(header, **{"promise-date": "next Tuesday"}))
    assert not result.errors
    [order] = result.orders.values()
    assert order.ship_by_date is None


def test_tools_put_their_python_first_on_path():
    """Odoo's reload re-executes "python" found on PATH (odoo.service.server._reexec):
    the environment the tools run Odoo with must be the first there."""
    script = 'source tools/common.sh >/dev/null 2>&1; echo "$PY"; command -v python'
    out = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600)
    py, found = out.stdout.split()[-2:]
    assert os.path.dirname(found) == os.path.dirname(py), out.stdout
