import base64
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import AmazonCase


@tagged("post_install", "-at_install")
class TestUnshippedReport(AmazonCase):

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        self.refs = [self.add_us_order(buyer_email="u%d@marketplace.amazon.com" % n) for n in range(3)]
        self.refs.append(self.add_us_order(items=[
            {"sku": "SKU-B", "qty": 3, "price": "10.00", "tax": "0.83"},
            {"sku": "SKU-C", "qty": 1, "price": "5.55", "tax": "0.46", "shipping": "3.00"}]))

    def execute_wizard(self, **vals):
        wizard = self.env["amazon.operation.wizard"].create(dict({
            "seller_id": self.seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]}, **vals))
        action = wizard.action_execute()
        return self.env["amazon.report.request"].browse(action["res_id"])

    def test_full_button_path(self):
        request = self.execute_wizard()
        self.assertEqual(request.state, "submitted", request.message)
        self.assertTrue(request.amazon_report_id)
        self.assertEqual(request.report_type, "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING")
        request.action_check_status()
        self.assertEqual(request.state, "in_progress")
        request.action_check_status()
        self.assertEqual(request.state, "done")
        self.process_file(request)
        self.assertEqual(request.state, "processed", request.message)
        self.assertEqual(request.count_created, 4)
        orders = self.orders_of(self.refs)
        self.assertEqual(len(orders), 4)
        for order in orders:
            self.assertEqual(order.state, "sale", "the seller's workflow confirms")
            self.assertTotal(order, order.amazon_order_ref)
            self.assertEqual(order.partner_shipping_id.street[-6:], "Street")
        self.assertIn("4 created", request.message)
        # prices for 4 orders came from one report, not from 4 getOrderItems calls
        self.assertEqual(self.emulator.calls["getOrderItems"], 0)
        self.assertEqual(self.emulator.calls["createReport"], 2)
        self.assertEqual(self.emulator.calls["createRestrictedDataToken"], 1)

    def test_download_report(self):
        request = self.execute_wizard()
        request.action_check_status()
        request.action_check_status()
        action = request.action_download_report()
        self.assertIn("/web/content/%s" % request.attachment_id.id, action["url"])
        raw = base64.b64decode(request.attachment_id.datas)
        self.assertEqual(raw[:2], b"\x1f\x8b", "stored as Amazon sent it (gzip)")
        self.assertEqual(request.document_compression, "GZIP")

    def test_fatal_with_error_document(self):
        self.emulator.script_next_report("FATAL_WITH_DOCUMENT")
        request = self.execute_wizard()
        request.action_check_status()
        request.action_check_status()
        self.assertEqual(request.state, "fatal")
        self.assertIn("identical request", request.message)

    def test_fatal_without_document(self):
        self.emulator.script_next_report("FATAL")
        request = self.execute_wizard()
        request.action_check_status()
        request.action_check_status()
        self.assertEqual(request.state, "fatal")
        self.assertIn("same report is requested many times", request.message)

    def test_cancelled_no_data(self):
        request = self.execute_wizard(date_from=fields.Datetime.now() - timedelta(days=300),
                                      date_to=fields.Datetime.now() - timedelta(days=200))
        request.action_check_status()
        request.action_check_status()
        self.assertEqual(request.state, "cancelled")
        self.assertIn("nothing to import", request.message)

    def test_duplicate_request_cancelled(self):
        date_from = fields.Datetime.now() - timedelta(days=5)
        date_to = fields.Datetime.now()
        first = self.execute_wizard(date_from=date_from, date_to=date_to)
        first.action_check_status()
        first.action_check_status()
        self.process_file(first)
        second = self.execute_wizard(date_from=date_from, date_to=date_to)
        self.assertEqual(second.state, "cancelled")
        self.assertIn(first.name, second.message)
        self.assertEqual(len(self.orders_of(self.refs)), 4)

    def test_stuck_report_closed(self):
        self.emulator.script_next_report("STUCK")
        request = self.execute_wizard()
        request.action_check_status()
        self.assertEqual(request.state, "in_progress")
        request.requested_at = fields.Datetime.now() - timedelta(hours=5)
        request.action_check_status()
        self.assertEqual(request.state, "cancelled")
        self.assertIn("did not finish", request.message)

    def test_reprocessing_creates_no_duplicates(self):
        request = self.execute_wizard()
        request.action_check_status()
        request.action_check_status()
        self.process_file(request)
        self.process_file(request)
        self.assertEqual(len(self.orders_of(self.refs)), 4)
        self.assertEqual(request.count_created, 4)

    def test_bad_rows_and_unknown_sku_keep_good_orders(self):
        bad_sku = self.add_us_order(items=[{"sku": "UNKNOWN-SKU", "qty": 1, "price": "9.00"}])
        def row(order_id, date, qty):
            cells = [""] * 27   # the documented 27-column header
            cells[0], cells[1], cells[2], cells[9], cells[11] = order_id, "1", date, "SKU-A", qty
            return "\t".join(cells)
        self.emulator.faults["extra_unshipped_rows"] = [
            row("999-0000000-0000001", "not-a-date", "1"),
            row("999-0000000-0000002", "2026-11-20T10:00:00+00:00", "many"),
            "999-0000000-0000003\t1\t2026-11-20",   # a line cut short
        ]
        request = self.execute_wizard()
        request.action_check_status()
        request.action_check_status()
        self.process_file(request)
        self.assertEqual(request.state, "processed")
        self.assertEqual(len(self.orders_of(self.refs)), 4, "every good order imports")
        failed = request.line_ids.filtered(lambda l: l.state == "failed")
        messages = " | ".join(failed.mapped("message"))
        self.assertIn("UNKNOWN-SKU", messages)
        self.assertIn("does not parse", messages)
        self.assertIn("not a whole number", messages)
        self.assertIn("truncated", messages)
        self.assertEqual(len(failed), 4)
        self.assertFalse(self.orders_of([bad_sku]))

    def test_price_report_lag_falls_back_to_order_items(self):
        """Orders newer than the price report's lag are priced with getOrderItems."""
        fresh = self.add_us_order(purchase_date=self.now - timedelta(minutes=2))
        self.emulator.faults["price_report_lag_minutes"] = 30
        request = self.execute_wizard()
        request.action_check_status()
        request.action_check_status()
        self.process_file(request)
        self.assertEqual(len(self.orders_of(self.refs + [fresh])), 5)
        # one call for the straggler: getOrder (2026-01-01, the default) or getOrderItems (v0)
        self.assertEqual(self.emulator.calls["getOrder2026"] + self.emulator.calls["getOrderItems"], 1)
        self.assertTotal(self.orders_of([fresh]), fresh)

    def test_not_unshipped_anymore_is_skipped(self):
        """Shipped between the two reports: the price report says so, the order is skipped."""
        request = self.execute_wizard()
        request.action_check_status()          # unshipped + price reports in progress
        # Amazon finishes the unshipped report (content fixed), then the order ships,
        # then the price report is built and sees the new status
        self.emulator._advance(self.emulator.reports[request.amazon_report_id])
        self.scenario.set_status(self.refs[0], "Shipped")
        request.action_check_status()
        self.process_file(request)
        line = request.line_ids.filtered(lambda l: l.amazon_order_ref == self.refs[0])
        self.assertEqual(line.state, "skipped")
        self.assertIn("no longer unshipped", line.message)

    def test_scheduler_imports_without_click(self):
        self.seller.write({"fbm_unshipped_auto": True, "fbm_unshipped_interval": 1,
                           "fbm_unshipped_interval_type": "hours"})
        self.env["amazon.seller"]._cron_fbm_scheduler()
        request = self.env["amazon.report.request"].search([("seller_id", "=", self.seller.id)])
        self.assertEqual(len(request), 1)
        self.assertTrue(request.auto_process)
        self.assertAlmostEqual((request.date_to - request.date_from).days, 30)
        self.assertGreater(self.seller.fbm_unshipped_next_run, fields.Datetime.now())
        self.env["amazon.seller"]._cron_fbm_scheduler()   # not due again yet
        self.assertEqual(self.env["amazon.report.request"].search_count([("seller_id", "=", self.seller.id)]), 1)
        Request = self.env["amazon.report.request"]
        Request._cron_process_reports()
        Request._cron_process_reports()
        self.assertEqual(request.state, "processed", request.message)
        self.assertEqual(len(self.orders_of(self.refs)), 4)
        # an order older than import_days is outside the default window
        old = self.add_us_order(purchase_date=self.now - timedelta(days=40))
        self.seller.fbm_unshipped_next_run = fields.Datetime.now() - timedelta(minutes=1)
        self.env["amazon.seller"]._cron_fbm_scheduler()
        Request._cron_process_reports()
        Request._cron_process_reports()
        self.assertFalse(self.orders_of([old]))

    def test_plain_amazon_user_runs_the_flow(self):
        """A user of the Amazon / User group (no manager, no secrets) imports orders."""
        user = self.env["res.users"].create({
            "name": "Amazon clerk", "login": "amz_clerk", "company_id": self.company.id,
            "company_ids": [(6, 0, self.company.ids)],
            "groups_id": [(6, 0, [self.env.ref("base.group_user").id,
                                  self.env.ref("amazon_fbm_connector.group_amazon_user").id])]})
        wizard = self.env["amazon.operation.wizard"].with_user(user).create({
            "seller_id": self.seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]})
        request = self.env["amazon.report.request"].with_user(user).browse(wizard.action_execute()["res_id"])
        request.action_check_status()
        request.action_check_status()
        self.process_file(request)
        self.assertEqual(request.state, "processed", request.message)
        self.assertEqual(len(self.orders_of(self.refs)), 4)
