"""The Reports adapter against the emulator: life cycle, options, documents."""
from services.const import REPORT_ALL_ORDERS, REPORT_UNSHIPPED
from services.report_parser import parse_unshipped, read_rows
from services.reports_adapter import ReportsAdapter


def _done(reports, report_type, codes=("ATVPDKIKX0DER",), options=None):
    if options is None:
        report_id = reports.request(report_type, list(codes))
    else:   # a request made without the adapter's options
        report_id = reports.client.reports().create_report(report_type, list(codes), options=options or None)
    status = reports.status(report_id, report_type)
    while status.state == "pending":
        status = reports.status(report_id, report_type)
    return status


def test_unshipped_report_has_sales_channel_only_when_asked(client):
    reports = ReportsAdapter(client)
    asked = _done(reports, REPORT_UNSHIPPED)
    assert asked.state == "done"
    text = reports.fetch(asked.document_id, REPORT_UNSHIPPED).text
    columns, _rows = read_rows(text)
    assert "sales_channel" in columns
    assert {o.sales_channel for o in parse_unshipped(text).orders.values()} == {"Amazon.com"}
    plain = _done(reports, REPORT_UNSHIPPED, options={})
    columns, _rows = read_rows(reports.fetch(plain.document_id, REPORT_UNSHIPPED).text)
    assert "sales_channel" not in columns, "Amazon adds the column only with ShowSalesChannel"


def test_status_mapping_and_fatal_document(client, emulator):
    reports = ReportsAdapter(client)
    emulator.script_next_report("FATAL_WITH_DOCUMENT")
    fatal = _done(reports, REPORT_ALL_ORDERS)
    assert fatal.state == "fatal"
    assert "identical request" in fatal.error
    emulator.script_next_report("CANCELLED")
    assert _done(reports, REPORT_ALL_ORDERS).state == "cancelled"


def test_stored_document_decodes(client):
    reports = ReportsAdapter(client)
    status = _done(reports, REPORT_ALL_ORDERS)
    document = reports.fetch(status.document_id, REPORT_ALL_ORDERS)
    assert document.compression == "GZIP"
    assert reports.decode(document.raw, document.compression, document.charset) == document.text
