"""The client layer against the real HTTP emulator on loopback."""

from datetime import datetime, timedelta, timezone

import pytest

from services import errors, report_parser
from services.const import REPORT_ALL_ORDERS, REPORT_UNSHIPPED
from services.spapi_client import SpApiClient
from tools.spapi_emulator import Emulator, Scenario


def make_client(emulator, **kw):
    client_id, secret = next(iter(emulator.apps.items()))
    kw.setdefault("rate_scale", 50.0)
    kw.setdefault("backoff_cap", 0.2)
    return SpApiClient(client_id=client_id, client_secret=secret,
                       refresh_token=next(iter(emulator.refresh_tokens)),
                       api_endpoint=emulator.url, lwa_endpoint=emulator.url, timeout=5, **kw)


def wait_done(client, report_id, polls=10):
    for _ in range(polls):
        report = client.reports().get_report(report_id)
        if report["processingStatus"] not in ("IN_QUEUE", "IN_PROGRESS"):
            return report
    raise AssertionError("report never finished")


def test_report_moves_through_states_and_downloads(client, emulator):
    report_id = client.reports().create_report(REPORT_UNSHIPPED, ["ATVPDKIKX0DER"])
    first = client.reports().get_report(report_id)
    assert first["processingStatus"] == "IN_PROGRESS"
    report = wait_done(client, report_id)
    assert report["processingStatus"] == "DONE"
    document = client.reports().get_document(report["reportDocumentId"], REPORT_UNSHIPPED)
    assert document["compressionAlgorithm"] == "GZIP"
    download = client.reports().download(document)
    assert download.raw[:2] == b"\x1f\x8b"
    parsed = report_parser.parse_unshipped(download.text, "ATVPDKIKX0DER")
    unshipped = [e for e in emulator.scenario.orders.values() if e["order"]["OrderStatus"] == "Unshipped"]
    assert len(parsed.orders) == len(unshipped) and not parsed.errors
    # the restricted document cost exactly one Restricted Data Token
    assert client.calls["createRestrictedDataToken"] == 1


def test_restricted_document_needs_rdt(client):
    report = wait_done(client, client.reports().create_report(REPORT_UNSHIPPED, ["ATVPDKIKX0DER"]))
    with pytest.raises(errors.AmazonAccessDenied, match="role"):
        client.reports().get_document(report["reportDocumentId"])  # no report type -> no RDT


def test_all_orders_report_prices(client, emulator):
    report = wait_done(client, client.reports().create_report(REPORT_ALL_ORDERS, ["ATVPDKIKX0DER"]))
    document = client.reports().get_document(report["reportDocumentId"], REPORT_ALL_ORDERS)
    prices, info, errs = report_parser.parse_all_orders(client.reports().download(document).text)
    assert not errs
    assert client.calls["createRestrictedDataToken"] == 0
    for oid, entry in emulator.scenario.orders.items():
        for item in entry["items"]:
            assert str(prices[(oid, item["SellerSKU"])].item_price) == item["ItemPrice"]["Amount"]


def test_cancelled_and_fatal_reports(client, emulator):
    emulator.script_next_report("CANCELLED")
    emulator.script_next_report("FATAL_WITH_DOCUMENT")
    emulator.script_next_report("FATAL")
    cancelled = wait_done(client, client.reports().create_report(REPORT_UNSHIPPED, ["ATVPDKIKX0DER"]))
    assert cancelled["processingStatus"] == "CANCELLED" and "reportDocumentId" not in cancelled
    fatal_doc = wait_done(client, client.reports().create_report(REPORT_UNSHIPPED, ["ATVPDKIKX0DER"]))
    assert fatal_doc["processingStatus"] == "FATAL"
    text = client.reports().download(client.reports().get_document(fatal_doc["reportDocumentId"], REPORT_UNSHIPPED)).text
    assert "identical request" in text
    fatal = wait_done(client, client.reports().create_report(REPORT_UNSHIPPED, ["ATVPDKIKX0DER"]))
    assert fatal["processingStatus"] == "FATAL" and "reportDocumentId" not in fatal


def test_no_data_is_cancelled():
    with Emulator(Scenario(), rate_scale=50) as emulator:
        client = make_client(emulator)
        report = wait_done(client, client.reports().create_report(REPORT_UNSHIPPED, ["ATVPDKIKX0DER"]))
        assert report["processingStatus"] == "CANCELLED"


def test_get_orders_paginates_with_one_rdt():
    scenario = Scenario.generate(250, seed=5)
    with Emulator(scenario, rate_scale=100) as emulator:
        client = make_client(emulator, rate_scale=100)
        after = datetime.now(timezone.utc) - timedelta(days=40)
        orders = list(client.orders("v0").list_orders(["ATVPDKIKX0DER"], created_after=after))
        assert len(orders) == 250
        assert len({o["AmazonOrderId"] for o in orders}) == 250
        assert client.calls["getOrders"] == 3
        assert client.calls["createRestrictedDataToken"] == 1
        assert all(o["BuyerInfo"].get("BuyerEmail") and o["ShippingAddress"].get("AddressLine1")
                   for o in orders), "the RDT covers every page"
        plain = list(client.orders("v0").list_orders(["ATVPDKIKX0DER"], created_after=after, with_pii=False))
        assert not plain[0]["BuyerInfo"] and "AddressLine1" not in plain[0]["ShippingAddress"]


def test_429_storm_every_call_succeeds_within_limits():
    """The emulator allows a quarter of what the client believes; the client gets
    429s, backs off, and every call still succeeds without exceeding its own limits."""
    scenario = Scenario.generate(40, seed=9)
    with Emulator(scenario, rate_scale=10) as emulator:
        client = make_client(emulator, rate_scale=40, max_retries=30, backoff_cap=0.3)
        ids = list(scenario.orders)
        results = [client.orders("v0").get_order_items(order_id) for order_id in ids]
        assert all(results)
        assert emulator.throttled["getOrderItems"] > 0, "the storm happened"
        assert client.throttled["getOrderItems"] == emulator.throttled["getOrderItems"]
        times = sorted(emulator.call_times["getOrderItems"])
        rate, burst = 0.5 * 40, 30  # the client's configured limit for getOrderItems
        for i, start in enumerate(times):
            for j in range(i, len(times)):
                window = times[j] - start
                assert j - i + 1 <= burst + rate * window + 1, "client exceeded its limit"


def test_server_errors_are_retried_then_reported(client, emulator):
    emulator.fail_next("getReport", 2, 503)
    report_id = client.reports().create_report(REPORT_ALL_ORDERS, ["ATVPDKIKX0DER"])
    assert client.reports().get_report(report_id)["reportId"] == report_id
    assert client.calls["getReport"] == 3
    emulator.fail_next("getReport", 10, 500)
    client.max_retries = 2
    with pytest.raises(errors.AmazonServerError, match="500"):
        client.reports().get_report(report_id)


def test_timeouts_are_typed(emulator):
    emulator.faults["latency"] = 1.0
    client = make_client(emulator, max_retries=1)
    client.timeout = 0.2
    with pytest.raises(errors.AmazonUnreachable):
        client.reports().create_report(REPORT_ALL_ORDERS, ["ATVPDKIKX0DER"])


def test_auth_errors(emulator):
    client_id = next(iter(emulator.apps))
    bad = SpApiClient(client_id=client_id, client_secret="nope", refresh_token=next(iter(emulator.refresh_tokens)),
                      api_endpoint=emulator.url, lwa_endpoint=emulator.url)
    with pytest.raises(errors.AmazonAuthError, match="180 days"):
        bad.test_connection()
    emulator.add_refresh_token("Atzr|gone", revoked=True)
    revoked = SpApiClient(client_id=client_id, client_secret=emulator.apps[client_id], refresh_token="Atzr|gone",
                          api_endpoint=emulator.url, lwa_endpoint=emulator.url)
    with pytest.raises(errors.AmazonAuthError, match="refresh token"):
        revoked.test_connection()


def test_truncated_and_other_charset_documents(client, emulator):
    emulator.faults["charset"] = "cp1252"
    emulator.scenario.add_order(items=[{"sku": "CAFÉ-1", "qty": 1, "price": "3.00", "title": "Crème brûlée"}])
    report = wait_done(client, client.reports().create_report(REPORT_ALL_ORDERS, ["ATVPDKIKX0DER"]))
    text = client.reports().download(client.reports().get_document(report["reportDocumentId"])).text
    assert "Crème brûlée" in text
    emulator.faults["truncate_documents"] = True     # damaged at the source: every download
    report = wait_done(client, client.reports().create_report(REPORT_ALL_ORDERS, ["ATVPDKIKX0DER"]))
    with pytest.raises(errors.AmazonDocumentError, match="cut short.*3 times"):
        client.reports().download(client.reports().get_document(report["reportDocumentId"]))


def test_download_cut_short_is_downloaded_again(client, emulator):
    report = wait_done(client, client.reports().create_report(REPORT_ALL_ORDERS, ["ATVPDKIKX0DER"]))
    document = client.reports().get_document(report["reportDocumentId"])
    emulator.faults["truncate_downloads"] = 2
    download = client.reports().download(document)
    prices, _info, errs = report_parser.parse_all_orders(download.text)
    assert not errs and len({oid for oid, _sku in prices}) == len(emulator.scenario.orders)
    assert emulator.calls["download"] == 3 and client.damaged_downloads == 2


def test_cp932_document_labelled_shift_jis(client, emulator):
    emulator.faults["charset"] = "cp932"
    emulator.scenario.add_order(items=[{"sku": "JP-①", "qty": 1, "price": "300", "title": "抹茶 ① セット"}])
    report = wait_done(client, client.reports().create_report(REPORT_ALL_ORDERS, ["ATVPDKIKX0DER"]))
    for doc in emulator.documents.values():
        doc["charset"] = "Shift_JIS"     # the label Amazon JP puts on Windows-31J text
    text = client.reports().download(client.reports().get_document(report["reportDocumentId"])).text
    assert "抹茶 ① セット" in text and "JP-①" in text


def test_calls_are_counted(client):
    client.reports().create_report(REPORT_ALL_ORDERS, ["ATVPDKIKX0DER"])
    assert client.calls["createReport"] == 1


def test_listing_page_by_page_and_deadline_raises_instead_of_waiting():
    """A listing read page by page with stored parameters (what a resumable
    listing keeps), and a client with a deadline: no wait for quota past it."""
    import time

    scenario = Scenario.generate(250, seed=6, shipped_ratio=1.0)
    with Emulator(scenario, rate_scale=100) as emulator:
        client = make_client(emulator, rate_scale=100)
        adapter = client.orders()
        after = datetime.now(timezone.utc) - timedelta(days=40)
        params = adapter.listing_params(["ATVPDKIKX0DER"], created_after=after, statuses=["Shipped"])
        first = adapter.read_page(params)
        assert len(first.orders) == 100 and first.next_token
        # another run, another client: the same parameters and the stored token
        again = make_client(emulator, rate_scale=100).orders()
        second = again.read_page(params, first.next_token)
        third = again.read_page(params, second.next_token)
        assert not third.next_token and third.window_end
        ids = {o["orderId"] for page in (first, second, third) for o in page.orders}
        assert len(ids) == 250
        bucket = client.limiter.bucket("searchOrders")
        bucket.drain()
        bucket.set_rate(0.01)                       # next call in 100 s
        client.deadline = time.time() + 5
        started = time.time()
        with pytest.raises(errors.AmazonOutOfTime) as caught:
            adapter.read_page(params, first.next_token)
        assert time.time() - started < 2 and caught.value.wait > 5


def test_error_messages_are_templates_rendered_when_read():
    """A message is kept as a template and its parameters (translatable in Odoo), and
    ``str`` renders it; a template without parameters keeps a literal % as is."""
    exc = errors.AmazonThrottled(errors._lt("Amazon throttled %(operation)s after %(tries)s tries."),
                                 params={"operation": "getOrders", "tries": 3})
    assert str(exc) == "Amazon throttled getOrders after 3 tries."
    assert exc.template.startswith("Amazon throttled %(operation)s")
    assert str(errors.AmazonRequestError("50% off is not a valid title")) == "50% off is not a valid title"
