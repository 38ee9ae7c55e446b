"""The import window: every operation defaults to the seller's Import Days;
scheduled imports continue from a cursor on Amazon's last-update time, so an
order whose status changes after its creation is seen again."""
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import AmazonCase


@tagged("post_install", "-at_install")
class TestImportWindow(AmazonCase):

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()

    def run_cron(self):
        self.env["amazon.order.queue"]._cron_process_queues()

    def scheduler(self):
        self.seller.fbm_shipped_next_run = fields.Datetime.now() - timedelta(minutes=1)
        self.env["amazon.seller"]._cron_fbm_scheduler()

    def test_every_operation_defaults_to_import_days(self):
        self.seller.import_days = 45
        for operation in ("fbm_import_unshipped", "fbm_import_shipped", "fbm_import_missing_unshipped"):
            wizard = self.env["amazon.operation.wizard"].create({
                "seller_id": self.seller.id, "operation": operation})
            self.assertAlmostEqual((wizard.date_to - wizard.date_from).total_seconds(), 45 * 86400,
                                   delta=5, msg=operation)
            self.assertTrue(wizard._fields["date_from"].help)

    def test_shipped_wizard_defaults_import_order_shipped_20_days_ago(self):
        ref = self.add_us_order(status="Shipped", purchase_date=self.now - timedelta(days=21))
        self.scenario.set_status(ref, "Shipped", when=self.now - timedelta(days=20))
        recent = self.add_us_order(status="Shipped", purchase_date=self.now - timedelta(days=2),
                                   buyer_email="recent@example.com")
        wizard = self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_shipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]})
        wizard.action_execute()
        self.run_listings()
        self.run_cron()
        orders = self.orders_of([ref, recent])
        self.assertEqual(len(orders), 2)
        for order in orders:
            self.assertEqual(order.picking_ids.state, "done")
            self.assertTotal(order, order.amazon_order_ref)

    def test_scheduled_shipped_sees_order_shipped_after_previous_run(self):
        self.seller.fbm_shipped_auto = True
        later = self.add_us_order(purchase_date=self.now - timedelta(days=5))        # unshipped yet
        first = self.add_us_order(status="Shipped", purchase_date=self.now - timedelta(days=3),
                                  buyer_email="first@example.com")
        self.scheduler()
        cursor = self.seller.fbm_shipped_cursor
        self.assertTrue(cursor, "the cursor is stored once the orders are queued")
        self.run_cron()
        self.assertEqual(len(self.orders_of([first])), 1)
        self.assertFalse(self.orders_of([later]))
        # Amazon ships the older order after the run; its creation is before the cursor
        self.scenario.set_status(later, "Shipped")
        self.scheduler()
        queue_refs = self.env["amazon.order.queue"].search(
            [("seller_id", "=", self.seller.id)]).line_ids.mapped("amazon_order_ref")
        self.assertEqual(sorted(queue_refs), sorted([first, later]), "each order queued once")
        self.assertGreaterEqual(self.seller.fbm_shipped_cursor, cursor)
        self.run_cron()
        order = self.orders_of([later])
        self.assertEqual(len(order), 1)
        self.assertEqual(order.amazon_status, "Shipped")
        self.assertEqual(order.picking_ids.state, "done")
        self.assertTotal(order, later)

    def test_unshipped_order_later_shipped_gets_status_and_delivery(self):
        """Imported while unshipped by the report, seen shipped by the scheduled import."""
        ref = self.add_us_order(purchase_date=self.now - timedelta(days=2))
        request = self.env["amazon.report.request"]._request_unshipped(self.seller, self.mp_us, auto=False)
        request.action_check_status()
        request.action_check_status()
        self.process_file(request)
        order = self.orders_of([ref])
        self.assertEqual(order.amazon_status, "Unshipped")
        self.seller.fbm_shipped_auto = True
        self.scheduler()
        self.scenario.set_status(ref, "Shipped")
        self.scheduler()
        self.run_cron()
        self.assertEqual(self.orders_of([ref]), order, "one order")
        self.assertEqual(order.amazon_status, "Shipped")
        self.assertEqual(order.picking_ids.state, "done")

    @mute_logger("odoo.addons.amazon_fbm_connector.services.spapi_client")
    def test_cursor_stays_when_listing_fails(self):
        self.seller.fbm_shipped_auto = True
        ref = self.add_us_order(status="Shipped", purchase_date=self.now - timedelta(days=3))
        cursor = fields.Datetime.now() - timedelta(days=4)
        self.seller.fbm_shipped_cursor = cursor
        self.emulator.fail_next("getOrders", count=7, status=503)
        self.emulator.fail_next("searchOrders", count=7, status=503)
        self.scheduler()
        self.assertEqual(self.seller.fbm_shipped_cursor, cursor, "nothing listed, nothing skipped")
        self.assertFalse(self.env["amazon.order.queue"].search([("seller_id", "=", self.seller.id)]))
        self.scheduler()
        self.assertGreater(self.seller.fbm_shipped_cursor, cursor + timedelta(days=3))
        self.run_cron()
        self.assertEqual(len(self.orders_of([ref])), 1)
