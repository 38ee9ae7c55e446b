"""Fault suite: each flow replayed, and Amazon's faults as Amazon produces them
(throttling, server errors, timeouts, a login failure mid-run, reports that
never finish or fail, downloads cut short, documents in legacy charsets).
Every run completes, or stops with a clear message on the right record, and
a later run imports what was missed: no order lost, none twice."""
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..services.spapi_client import _token_cache
from .common import AmazonCase

N = 12   # above the price report threshold: queues are priced by one report


@tagged("post_install", "-at_install")
class TestFaults(AmazonCase):

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        journal = self.env["account.journal"].search([("type", "=", "bank"),
                                                      ("company_id", "=", self.company.id)], limit=1)
        self.seller.workflow_id = self.env["amazon.sale.workflow"].create({
            "name": "Everything", "confirm_order": True, "create_invoice": True,
            "validate_invoice": True, "register_payment": True, "payment_journal_id": journal.id})
        self.seller.create_product_if_missing = True
        self.env["ir.config_parameter"].sudo().set_param("amazon_fbm_connector.http_timeout", "30")
        self.runs = 0

    # ------------------------------------------------------------ helpers
    def orders(self, status="Unshipped", count=N, **kw):
        refs = []
        for n in range(count):
            items = [{"sku": "SKU-A", "qty": 1, "price": "10.00", "tax": "0.83"}]
            if n % 3 == 0:   # a product the import creates
                items.append({"sku": "FAULT-NEW-SKU", "qty": 2, "price": "7.00", "tax": "0.58"})
            refs.append(self.add_us_order(status=status, items=items,
                                          buyer_email="fault%d@marketplace.amazon.com" % n,
                                          buyer_name="Buyer %d" % n, **kw))
        return refs

    def unshipped_run(self, polls=2):
        self.runs += 1    # each run its own window end (an identical request is refused)
        wizard = self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)],
            "date_from": fields.Datetime.now() - timedelta(days=10),
            "date_to": fields.Datetime.now() - timedelta(seconds=self.runs)})
        request = self.env["amazon.report.request"].browse(wizard.action_execute()["res_id"])
        for _poll in range(polls):
            request.action_check_status()
        if request.state == "done":
            self.process_file(request)
        return request

    def queue_run(self, operation="fbm_import_shipped"):
        self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": operation,
            "marketplace_ids": [(6, 0, self.mp_us.ids)],
            "date_from": fields.Datetime.now() - timedelta(days=10),
            "date_to": fields.Datetime.now()}).action_execute()
        self.run_listings()
        self.cron()

    def cron(self, times=3):
        """The scheduler, a few times: the price report needs polls before queues run."""
        for _run in range(times):
            self.env["amazon.order.queue"]._cron_process_queues()

    def assertExactlyOnce(self, refs, shipped=False):
        orders = self.orders_of(refs)
        self.assertEqual(sorted(orders.mapped("amazon_order_ref")), sorted(refs),
                         "every Amazon order exactly once")
        partners = self.env["res.partner"].with_context(active_test=False).search(
            [("email", "=like", "fault%@marketplace.amazon.com")])
        self.assertEqual(len(partners), len(refs), "one buyer partner per buyer")
        self.assertEqual(self.env["product.product"].with_context(active_test=False).search_count(
            [("default_code", "=", "FAULT-NEW-SKU")]), 1, "the auto-created product once")
        invoices = orders.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
        self.assertEqual(len(invoices), len(refs), "one invoice per order")
        self.assertTrue(all(inv.state == "posted" for inv in invoices))
        payments = self.env["account.payment"].search([("partner_id", "in", partners.ids)])
        self.assertEqual(len(payments), len(refs), "one payment per invoice")
        self.assertTrue(all(inv.payment_state in ("paid", "in_payment") for inv in invoices))
        for order in orders:
            self.assertTotal(order, order.amazon_order_ref)
        if shipped:
            pickings = orders.picking_ids
            self.assertEqual(len(pickings), len(refs), "one delivery per order")
            self.assertTrue(all(p.state == "done" for p in pickings))
        return orders

    # -------------------------------------------------------------- replay
    def test_replay_unshipped_three_times(self):
        refs = self.orders()
        for run in range(3):
            request = self.unshipped_run()
            self.assertEqual(request.state, "processed", request.message)
            self.assertEqual(request.count_created, N if run == 0 else 0)
            self.assertEqual(request.count_existing, 0 if run == 0 else N)
        self.assertExactlyOnce(refs)

    def test_replay_shipped_three_times(self):
        refs = self.orders(status="Shipped")
        for _run in range(3):
            self.queue_run("fbm_import_shipped")
        self.assertExactlyOnce(refs, shipped=True)

    def test_replay_missing_unshipped_three_times(self):
        refs = self.orders()
        for _run in range(3):
            self.queue_run("fbm_import_missing_unshipped")
        self.assertExactlyOnce(refs)
        queued = self.env["amazon.order.queue.line"].search([("seller_id", "=", self.seller.id)])
        self.assertEqual(len(queued), N, "a replay queues nothing Odoo has")

    def test_unshipped_then_shipped_replayed(self):
        refs = self.orders()
        self.unshipped_run()
        for ref in refs:
            self.scenario.set_status(ref, "Shipped")
        for _run in range(3):
            self.queue_run("fbm_import_shipped")
        self.assertExactlyOnce(refs, shipped=True)

    # ----------------------------------------------------------- throttling
    def test_429_storm_is_ridden_out(self):
        self.seller.orders_api_version = "v0"   # getOrders, and a price report for the queues
        refs = self.orders(status="Shipped")
        self.emulator.fail_next("createRestrictedDataToken", 3, 429)
        self.emulator.fail_next("getOrders", 4, 429)
        self.emulator.fail_next("createReport", 3, 429)
        self.emulator.fail_next("getReport", 5, 429)
        self.queue_run("fbm_import_shipped")
        self.assertExactlyOnce(refs, shipped=True)
        self.assertEqual(self.emulator.calls["fault:getOrders:429"], 4)

    def test_429_storm_that_lasts_stops_cleanly_and_resumes(self):
        self.seller.orders_api_version = "v0"   # getOrders, and a price report for the queues
        refs = self.orders(status="Shipped")
        self.emulator.fail_next("getOrders", 100, 429)
        with mute_logger("odoo.addons.amazon_fbm_connector.services.spapi_client"):
            self.queue_run("fbm_import_shipped")
        listing = self.env["amazon.order.listing"].search([("seller_id", "=", self.seller.id)])
        self.assertEqual(listing.state, "failed", "a click's listing that read nothing says why")
        self.assertRegex(listing.message, "throttled getOrders.*resume")
        self.assertFalse(self.env["amazon.order.queue"].search([("seller_id", "=", self.seller.id)]))
        self.emulator.faults["server_errors"].clear()
        self.queue_run("fbm_import_shipped")
        self.assertExactlyOnce(refs, shipped=True)

    # ---------------------------------------------------------- 5xx, timeouts
    def test_server_error_bursts(self):
        refs = self.orders()
        for operation, status in (("createReport", 503), ("getReport", 500), ("getReportDocument", 503),
                                  ("createRestrictedDataToken", 500), ("download", 503)):
            self.emulator.fail_next(operation, 3, status)
        request = self.unshipped_run()
        self.assertEqual(request.state, "processed", request.message)
        self.assertExactlyOnce(refs)
        self.assertEqual(self.emulator.calls["getOrderItems"], 0, "prices still from the report")

    def test_timeouts_are_retried(self):
        refs = self.orders(status="Shipped")
        self.env["ir.config_parameter"].sudo().set_param("amazon_fbm_connector.http_timeout", "0.5")
        self.emulator.slow_next("getOrders", 2, 1.2)
        self.emulator.slow_next("getReport", 1, 1.2)
        self.queue_run("fbm_import_shipped")
        self.assertExactlyOnce(refs, shipped=True)

    def test_unreachable_amazon_says_so_on_the_request(self):
        self.orders()
        self.env["ir.config_parameter"].sudo().set_param("amazon_fbm_connector.http_timeout", "0.3")
        self.emulator.slow_next("createReport", 20, 0.6)
        with mute_logger("odoo.addons.amazon_fbm_connector.services.spapi_client"):
            request = self.unshipped_run(polls=0)
        self.assertEqual(request.state, "draft")
        self.assertIn("could not be reached", request.message)

    # ------------------------------------------------------------- LWA
    def _access_token_expires(self):
        """Amazon's access tokens last an hour: mid-run, the client logs in again."""
        self.emulator.access_tokens.clear()
        _token_cache.clear()

    def test_lwa_outage_mid_run_then_resume(self):
        self.seller.orders_api_version = "v0"   # getOrders, and a price report for the queues
        refs = self.orders(status="Shipped")
        self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_shipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)],
            "date_from": fields.Datetime.now() - timedelta(days=10),
            "date_to": fields.Datetime.now()}).action_execute()
        self.run_listings()
        self._access_token_expires()
        self.emulator.fail_next("lwaToken", 100, 503)   # LWA down (an HTML outage page)
        with mute_logger("odoo.addons.amazon_fbm_connector.services.spapi_client"):
            self.cron()
        self.assertFalse(self.orders_of(refs))
        price_report = self.env["amazon.order.queue"].search(
            [("seller_id", "=", self.seller.id)]).price_report_id
        self.assertEqual(price_report.state, "requested", "kept for the next run")
        self.assertIn("login service (LWA) answered 503", price_report.message)
        self.emulator.faults["server_errors"].clear()
        self.cron()
        self.assertExactlyOnce(refs, shipped=True)

    def test_secret_rotated_mid_run_says_what_to_do(self):
        refs = self.orders()
        wizard = self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]})
        request = self.env["amazon.report.request"].browse(wizard.action_execute()["res_id"])
        request.action_check_status()
        client_id = self.seller.lwa_client_id
        old_secret = self.emulator.apps[client_id]
        self.emulator.apps[client_id] = "rotated-secret"     # Amazon rotated it (180 days)
        self._access_token_expires()
        request.action_check_status()
        self.assertEqual(request.state, "in_progress")
        self.assertIn("180 days", request.message)
        self.emulator.apps[client_id] = self.seller.lwa_client_secret = "rotated-secret"
        request.action_check_status()
        self.process_file(request)
        self.assertEqual(request.state, "processed", request.message)
        self.assertExactlyOnce(refs)
        self.emulator.apps[client_id] = old_secret
        self.seller.lwa_client_secret = old_secret

    # ------------------------------------------------------------- reports
    def test_stuck_report_is_closed_and_the_next_one_imports(self):
        refs = self.orders()
        self.emulator.script_next_report("STUCK")
        request = self.unshipped_run(polls=3)
        self.assertEqual(request.state, "in_progress")
        request.requested_at = fields.Datetime.now() - timedelta(hours=5)
        request.action_check_status()
        self.assertEqual(request.state, "cancelled")
        self.assertIn("did not finish", request.message)
        self.assertFalse(self.orders_of(refs))
        request = self.unshipped_run()
        self.assertEqual(request.state, "processed", request.message)
        self.assertExactlyOnce(refs)

    def test_fatal_and_cancelled_then_next_run_imports(self):
        refs = self.orders()
        self.emulator.script_next_report("FATAL_WITH_DOCUMENT")
        request = self.unshipped_run()
        self.assertEqual(request.state, "fatal")
        self.assertIn("identical request", request.message)
        self.emulator.script_next_report("CANCELLED")
        request = self.unshipped_run()
        self.assertEqual(request.state, "cancelled")
        self.assertIn("not an error", request.message)
        self.assertFalse(self.orders_of(refs))
        request = self.unshipped_run()
        self.assertEqual(request.state, "processed", request.message)
        self.assertExactlyOnce(refs)

    def test_fatal_price_report_prices_each_order_instead(self):
        """The queue flows' price report FATAL: the orders are still imported, each
        priced by getOrderItems (the one case a price source is missing)."""
        self.seller.orders_api_version = "v0"   # getOrders, and a price report for the queues
        refs = self.orders(status="Shipped")
        self.emulator.script_next_report("FATAL")
        self.queue_run("fbm_import_shipped")
        self.assertExactlyOnce(refs, shipped=True)
        self.assertEqual(self.emulator.calls["getOrderItems"], N)

    # ------------------------------------------------------------ documents
    def test_download_cut_short_is_downloaded_again_not_degraded(self):
        """One truncated gzip of the price report used to make the unshipped import
        fall back to one getOrderItems call per order."""
        refs = self.orders()
        wizard = self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]})
        request = self.env["amazon.report.request"].browse(wizard.action_execute()["res_id"])
        request.action_check_status()
        self.emulator.faults["truncate_downloads"] = 1      # the price report's document
        with mute_logger("odoo.addons.amazon_fbm_connector.services.spapi_client"):
            request.action_check_status()
            self.assertEqual(request.price_report_id.state, "done", request.price_report_id.message)
            self.emulator.faults["truncate_downloads"] = 1  # the unshipped report's document
            self.process_file(request)
        self.assertEqual(request.state, "processed", request.message)
        self.assertEqual(self.emulator.calls["truncatedDownload"], 2)
        self.assertEqual(self.emulator.calls["getOrderItems"], 0, "not degraded to a call per order")
        self.assertExactlyOnce(refs)

    def test_cp1252_document(self):
        self.emulator.faults["charset"] = "cp1252"
        ref = self.add_us_order(buyer_name="José Müller-Ærø", buyer_email="cp1252@marketplace.amazon.com",
                                address={"AddressLine1": "Große Straße 5", "City": "Köln"})
        request = self.unshipped_run()
        self.assertEqual(request.state, "processed", request.message)
        order = self.orders_of([ref])
        self.assertEqual(order.partner_id.name, "José Müller-Ærø")
        self.assertEqual(order.partner_shipping_id.street, "Große Straße 5")
        self.assertEqual(request.document_charset.lower(), "cp1252")
        self.assertTotal(order, ref)

    def test_cp932_document(self):
        self.emulator.faults["charset"] = "cp932"
        ref = self.add_us_order(buyer_name="山田 太郎", buyer_email="cp932@marketplace.amazon.com",
                                address={"AddressLine1": "千代田区丸の内①-1", "City": "東京"})
        request = self.unshipped_run()
        self.assertEqual(request.state, "processed", request.message)
        order = self.orders_of([ref])
        self.assertEqual(order.partner_id.name, "山田 太郎")
        self.assertEqual(order.partner_shipping_id.street, "千代田区丸の内①-1")
        self.assertTotal(order, ref)
