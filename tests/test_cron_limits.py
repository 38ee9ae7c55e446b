"""Cron runs end before Odoo's time limit, and what a killed worker leaves is finished.

Odoo's threaded server reloads itself when a cron thread's pass (or a request)
runs longer than ``limit_time_real``. These tests make the current thread look
like a cron thread whose pass began long ago, the way Odoo marks it."""
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..models.amazon_order_queue import QUEUE_WORKER_CRONS
from .common import AmazonCase, cron_pass_began


@tagged("post_install", "-at_install")
class TestCronLimits(AmazonCase):

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        self.seller.workflow_id = self.env["amazon.sale.workflow"].create({
            "name": "Confirm + invoice + post", "confirm_order": True, "create_invoice": True,
            "validate_invoice": True})

    def import_shipped(self, count=3):
        refs = [self.add_us_order(status="Shipped", buyer_email="k%d@marketplace.amazon.com" % n)
                for n in range(count)]
        self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_shipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)],
            "date_from": fields.Datetime.now() - timedelta(days=10),
            "date_to": fields.Datetime.now()}).action_execute()
        self.run_listings()
        return refs, self.env["amazon.order.queue"].search([("seller_id", "=", self.seller.id)])

    def triggers(self, xmlids):
        crons = [self.env.ref(x).id for x in xmlids]
        return self.env["ir.cron.trigger"].search_count([("cron_id", "in", crons)])

    def test_new_queues_wake_every_queue_worker(self):
        before = self.triggers(QUEUE_WORKER_CRONS)
        self.import_shipped(1)
        self.assertEqual(self.triggers(QUEUE_WORKER_CRONS) - before, len(QUEUE_WORKER_CRONS))

    def test_queue_worker_stops_before_odoos_limit_and_continues_next_pass(self):
        refs, queue = self.import_shipped()
        before = self.triggers(QUEUE_WORKER_CRONS)
        with cron_pass_began(100):   # 100 s of a 120 s limit gone: no batch may start
            self.env["amazon.order.queue"]._cron_process_queues()
        self.assertEqual(set(queue.line_ids.mapped("state")), {"pending"})
        self.assertFalse(self.orders_of(refs))
        self.assertEqual(self.triggers(QUEUE_WORKER_CRONS) - before, len(QUEUE_WORKER_CRONS),
                         "the workers are triggered to go on in the next pass")
        with cron_pass_began(0):
            self.env["amazon.order.queue"]._cron_process_queues()
        self.assertEqual(set(queue.line_ids.mapped("state")), {"done"})
        self.assertEqual(len(self.orders_of(refs)), 3)

    def test_shipped_deliveries_are_dispatched_after_the_batch(self):
        refs, queue = self.import_shipped()
        self.env["amazon.order.queue"]._cron_process_queues()
        pickings = self.orders_of(refs).picking_ids
        self.assertEqual(len(pickings), 3)
        self.assertEqual(set(pickings.mapped("state")), {"done"})
        self.assertFalse(any(pickings.mapped("amazon_dispatch_pending")))

    def test_deliveries_a_killed_worker_left_flagged_are_dispatched_by_the_next_run(self):
        refs, queue = self.import_shipped()
        # The batch committed (orders, invoices, lines done) and the worker died before
        # its dispatch: exactly what _process_lines leaves without dispatch_pending.
        self.env["amazon.order.queue"]._process_lines(queue.line_ids)
        pickings = self.orders_of(refs).picking_ids
        self.assertEqual(set(queue.line_ids.mapped("state")), {"done"})
        self.assertTrue(all(pickings.mapped("amazon_dispatch_pending")))
        self.assertNotIn("done", pickings.mapped("state"))
        self.env["amazon.order.queue"]._cron_process_queues()   # no line left to claim
        self.assertEqual(set(pickings.mapped("state")), {"done"})
        self.assertFalse(any(pickings.mapped("amazon_dispatch_pending")))

    def test_report_stops_before_odoos_limit_and_the_scheduler_finishes_it(self):
        refs = [self.add_us_order(buyer_email="r%d@marketplace.amazon.com" % n) for n in range(3)]
        wizard = self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]})
        request = self.env["amazon.report.request"].browse(wizard.action_execute()["res_id"])
        request.action_check_status()
        request.action_check_status()
        self.assertEqual(request.state, "done")
        self.assertFalse(request.auto_process, "requested by a click")
        before = self.triggers(["amazon_fbm_connector.ir_cron_amazon_report_requests"])
        request.action_process_file()   # the click hands it to the scheduler and returns
        self.assertTrue(request.auto_process, "the scheduler takes it over")
        self.assertEqual(self.triggers(["amazon_fbm_connector.ir_cron_amazon_report_requests"]) - before, 1)
        before = self.triggers(["amazon_fbm_connector.ir_cron_amazon_report_requests"])
        with cron_pass_began(100):   # the scheduler's pass, late in its run
            self.env["amazon.report.request"]._cron_process_reports()
        self.assertEqual(request.state, "done")
        self.assertIn("0 orders processed so far", request.message)
        self.assertEqual(self.triggers(["amazon_fbm_connector.ir_cron_amazon_report_requests"]) - before, 1,
                         "the pass that stopped wakes the scheduler again")
        self.assertFalse(self.orders_of(refs))
        with cron_pass_began(0):
            self.env["amazon.report.request"]._cron_process_reports()
        self.assertEqual(request.state, "processed", request.message)
        self.assertEqual(len(self.orders_of(refs)), 3)
