import threading
from datetime import timedelta
from functools import partial
from unittest.mock import patch

from lxml import etree

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import tagged

from ..services.order_builder import OrderBuilder
from ..services.rate_limit import RateLimiter
from .common import AmazonCase, cron_worker, run_in_threads


@tagged("post_install", "-at_install")
class TestOrderQueues(AmazonCase):

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        journal = self.env["account.journal"].search([("type", "=", "bank"),
                                                      ("company_id", "=", self.company.id)], limit=1)
        self.seller.workflow_id = self.env["amazon.sale.workflow"].create({
            "name": "Invoice", "confirm_order": False, "create_invoice": False})
        self.invoice_workflow = self.env["amazon.sale.workflow"].create({
            "name": "Confirm + invoice + post", "confirm_order": True, "create_invoice": True,
            "validate_invoice": True, "payment_journal_id": journal.id})

    def wizard(self, operation, **vals):
        action = self.env["amazon.operation.wizard"].create(dict({
            "seller_id": self.seller.id, "operation": operation,
            "marketplace_ids": [(6, 0, self.mp_us.ids)],
            "date_from": fields.Datetime.now() - timedelta(days=10),
            "date_to": fields.Datetime.now()}, **vals)).action_execute()
        self.run_listings()
        return action

    def queues(self):
        return self.env["amazon.order.queue"].search([("seller_id", "=", self.seller.id)])

    def run_cron(self, times=1):
        for _ in range(times):
            self.env["amazon.order.queue"]._cron_process_queues()

    def shipped(self, **kw):
        kw.setdefault("status", "Shipped")
        return self.add_us_order(**kw)

    # ------------------------------------------------------------------ shipped
    def test_an_order_listed_twice_is_built_once(self):
        """A listing can return an order that changed while it was paged on two pages."""
        self.seller.workflow_id = self.invoice_workflow
        ref = self.shipped(buyer_email="twice@marketplace.amazon.com")
        header = self.scenario.orders[ref]["order"]
        queue = self.env["amazon.order.queue"]._create_queues(self.seller, "shipped", [header, header])
        self.assertEqual(len(queue.line_ids), 2)
        self.run_cron()
        order = self.orders_of([ref])
        self.assertEqual(len(order), 1, "one sale order")
        self.assertEqual(set(queue.line_ids.mapped("state")), {"done"})
        self.assertEqual(queue.line_ids.sale_order_id, order)
        self.assertEqual(len(order.invoice_ids), 1)

    def test_shipped_end_to_end(self):
        self.seller.workflow_id = self.invoice_workflow
        refs = [self.shipped(buyer_email="s%d@marketplace.amazon.com" % n) for n in range(3)]
        self.add_us_order()   # an unshipped order is not part of this flow
        action = self.wizard("fbm_import_shipped")
        queue = self.queues()
        self.assertEqual(action["tag"], "display_notification", "the click returns at once")
        opened = action["params"]["next"]
        self.assertEqual(opened["res_model"], "amazon.order.queue")
        self.assertEqual(self.env["amazon.order.queue"].search(opened["domain"]), queue,
                         "the wizard opens the queues its listing made")
        self.assertEqual(queue.state, "new")
        self.assertEqual(sorted(queue.line_ids.mapped("amazon_order_ref")), sorted(refs))
        self.assertFalse(self.orders_of(refs), "nothing happens before the cron")
        self.run_cron()
        orders = self.orders_of(refs)
        self.assertEqual(len(orders), 3)
        for order in orders:
            self.assertEqual(order.state, "sale")
            self.assertEqual(order.picking_ids.state, "done")
            self.assertEqual(order.picking_ids.picking_type_id.warehouse_id, self.warehouse)
            self.assertEqual(order.invoice_ids.state, "posted")
            self.assertTotal(order, order.amazon_order_ref)
            self.assertAlmostEqual(order.invoice_ids.amount_total, float(self.amazon_total(order.amazon_order_ref)))
        self.assertEqual(queue.state, "done")
        # done queues leave the default list
        action = self.env.ref("amazon_fbm_connector.action_amazon_order_queue")
        self.assertIn("search_default_not_done", action.context)
        self.assertFalse(self.env["amazon.order.queue"].search([("id", "=", queue.id), ("state", "!=", "done")]))
        # the same import again queues nothing new
        self.wizard("fbm_import_shipped")
        self.assertEqual(len(self.queues()), 1)

    def test_shipped_confirmed_even_if_workflow_does_not(self):
        ref = self.shipped()
        self.wizard("fbm_import_shipped")
        self.run_cron()
        order = self.orders_of([ref])
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.invoice_ids, "invoicing follows the workflow")
        self.assertEqual(order.picking_ids.state, "done")

    def test_untracked_product_goes_negative(self):
        product = self.products["SKU-B"]
        ref = self.shipped(items=[{"sku": "SKU-B", "qty": 4, "price": "40.00", "tax": "3.30"}])
        self.wizard("fbm_import_shipped")
        self.run_cron()
        self.assertEqual(self.orders_of([ref]).picking_ids.state, "done")
        self.assertEqual(product.with_context(warehouse=self.warehouse.id).qty_available, -4)

    def test_tracked_product_waits_then_dispatches(self):
        lot_product = self.env["product.product"].create({
            "name": "Serial thing", "default_code": "LOT-1", "detailed_type": "product", "tracking": "lot"})
        ref = self.shipped(items=[{"sku": "LOT-1", "qty": 2, "price": "30.00"}])
        self.wizard("fbm_import_shipped")
        self.run_cron()
        order = self.orders_of([ref])
        picking = order.picking_ids
        self.assertEqual(order.state, "sale")
        self.assertNotEqual(picking.state, "done")
        self.assertTrue(picking.amazon_waiting_stock)
        self.env["stock.picking"]._cron_amazon_dispatch_waiting()
        self.assertNotEqual(picking.state, "done", "still no stock")
        lot = self.env["stock.lot"].create({"name": "LOT-A", "product_id": lot_product.id,
                                            "company_id": self.company.id})
        self.env["stock.quant"]._update_available_quantity(lot_product, self.warehouse.lot_stock_id, 5, lot_id=lot)
        self.env["stock.picking"]._cron_amazon_dispatch_waiting()
        self.assertEqual(picking.state, "done")
        self.assertFalse(picking.amazon_waiting_stock)
        self.assertEqual(picking.move_line_ids.lot_id, lot)

    def test_kit_components_delivered(self):
        kit = self.env["product.product"].create({"name": "Kit", "default_code": "KIT-Q", "detailed_type": "product"})
        self.env["mrp.bom"].create({
            "product_tmpl_id": kit.product_tmpl_id.id, "type": "phantom",
            "bom_line_ids": [(0, 0, {"product_id": self.products["SKU-C"].id, "product_qty": 2}),
                             (0, 0, {"product_id": self.products["SKU-D"].id, "product_qty": 1})]})
        ref = self.shipped(items=[{"sku": "KIT-Q", "qty": 1, "price": "25.00"}])
        self.wizard("fbm_import_shipped")
        self.run_cron()
        picking = self.orders_of([ref]).picking_ids
        self.assertEqual(picking.state, "done")
        self.assertEqual(set(picking.move_ids.product_id.ids), {self.products["SKU-C"].id, self.products["SKU-D"].id})
        self.assertEqual(sum(picking.move_ids.filtered(lambda m: m.product_id == self.products["SKU-C"]).mapped("quantity")), 2)

    def test_unshipped_then_shipped_is_one_delivered_order(self):
        self.seller.workflow_id.confirm_order = True
        ref = self.add_us_order()
        self.build([ref])
        order = self.orders_of([ref])
        self.assertNotEqual(order.picking_ids.state, "done")
        self.scenario.set_status(ref, "Shipped")
        self.wizard("fbm_import_shipped")
        self.run_cron()
        self.assertEqual(self.orders_of([ref]), order, "no second order")
        self.assertEqual(order.picking_ids.state, "done")
        self.assertEqual(order.amazon_status, "Shipped")
        self.assertEqual(self.queues().line_ids.state, "done")

    # ------------------------------------------------------- missing unshipped
    def test_missing_unshipped_imports_exactly_what_odoo_lacks(self):
        refs = [self.add_us_order(buyer_email="m%d@marketplace.amazon.com" % n) for n in range(5)]
        self.shipped()   # not unshipped: not this flow
        self.build(refs[:2])
        self.wizard("fbm_import_missing_unshipped")
        queue = self.queues()
        self.assertEqual(sorted(queue.line_ids.mapped("amazon_order_ref")), sorted(refs[2:]))
        self.run_cron()
        self.assertEqual(len(self.orders_of(refs)), 5)
        for order in self.orders_of(refs[2:]):
            self.assertTotal(order, order.amazon_order_ref)
            self.assertNotEqual(order.picking_ids.state, "done")
        self.assertEqual(queue.state, "done")

    def test_many_orders_priced_by_one_report(self):
        self.seller.orders_api_version = "v0"   # 2026-01-01 orders come priced: no report
        refs = [self.add_us_order(buyer_email="p%d@marketplace.amazon.com" % n) for n in range(25)]
        self.seller.queue_size = 10
        self.wizard("fbm_import_missing_unshipped")
        self.assertEqual(len(self.queues()), 3)
        self.assertEqual(self.emulator.calls["createReport"], 1)
        self.run_cron()           # the price report is still in progress: nothing claimed
        self.assertFalse(self.orders_of(refs))
        self.run_cron()
        self.assertEqual(len(self.orders_of(refs)), 25, (self.queues().price_report_id.mapped("state"),
                                                         self.queues().price_report_id.mapped("message")))
        self.assertEqual(self.emulator.calls["getOrderItems"], 0)
        for order in self.orders_of(refs):
            self.assertTotal(order, order.amazon_order_ref)

    # ----------------------------------------------------------- failures
    def test_failed_lines_keep_reason_and_retry(self):
        bad = self.add_us_order(items=[{"sku": "LATE-SKU", "qty": 1, "price": "8.00"}])
        good = self.add_us_order()
        self.wizard("fbm_import_missing_unshipped")
        self.run_cron()
        queue = self.queues()
        line = queue.line_ids.filtered(lambda l: l.amazon_order_ref == bad)
        self.assertEqual(line.state, "failed")
        self.assertIn("LATE-SKU", line.message)
        self.assertEqual(line.attempts, 1)
        self.assertEqual(queue.state, "partial", "a queue with failed lines stays visible")
        self.assertTrue(self.orders_of([good]))
        self.run_cron()
        self.assertEqual(line.attempts, 1, "not retried before its next try")
        self.env["product.product"].create({"name": "Late", "default_code": "LATE-SKU", "detailed_type": "product"})
        line.next_try = fields.Datetime.now() - timedelta(minutes=1)
        self.run_cron()
        self.assertEqual(line.state, "done")
        self.assertEqual(queue.state, "done")
        self.assertEqual(len(self.orders_of([bad, good])), 2)

    def test_retries_are_bounded(self):
        bad = self.add_us_order(items=[{"sku": "NEVER-SKU", "qty": 1, "price": "8.00"}])
        self.wizard("fbm_import_missing_unshipped")
        line = self.queues().line_ids
        for _ in range(5):
            line.next_try = fields.Datetime.now() - timedelta(minutes=1)
            self.run_cron()
        self.assertEqual(line.attempts, self.seller.max_line_attempts)
        self.assertEqual(line.state, "failed")
        self.assertFalse(self.orders_of([bad]))

    def test_no_manual_processing_path(self):
        for view in ("amazon_order_queue_view_form", "amazon_order_queue_view_tree"):
            arch = etree.fromstring(self.env.ref("amazon_fbm_connector.%s" % view).arch)
            self.assertFalse(arch.xpath("//button"), "%s has a button" % view)
        public = [name for name in dir(type(self.env["amazon.order.queue"]))
                  if name.startswith("action_") and "process" in name]
        self.assertFalse(public)

    def test_purge_done_queues(self):
        self.shipped()
        self.wizard("fbm_import_shipped")
        self.run_cron()
        queue = self.queues()
        queue.done_date = fields.Datetime.now() - timedelta(days=8)
        self.env["amazon.order.queue"]._cron_purge_done()
        self.assertFalse(queue.exists())


@tagged("post_install", "-at_install")
class TestQueueConcurrency(AmazonCase):
    real_cursors = True  # its workers open committed cursors of their own
    """Real commits on separate cursors, like several Odoo workers.

    The committed rows stay in the throw-away test database: deleting them
    would wait on the row locks of this test's own open transaction."""

    def _committed_queue(self, count):
        refs = [self.add_us_order(buyer_email="c%d@marketplace.amazon.com" % n,
                                  items=[{"sku": "CONC-SKU", "qty": 1, "price": "10.00", "tax": "0.83"}])
                for n in range(count)]
        queue_size = 10
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            seller = env["amazon.seller"].create({
                "name": "Concurrency seller", "lwa_client_id": self.seller.lwa_client_id,
                "lwa_client_secret": self.seller.lwa_client_secret,
                "refresh_token": self.seller.refresh_token, "api_endpoint": self.emulator.url,
                "lwa_endpoint": self.emulator.url, "queue_size": queue_size,
                "order_prefix": "CONC-"})
            env["product.product"].create({"name": "Concurrency product", "default_code": "CONC-SKU",
                                           "detailed_type": "consu"})
            env["amazon.marketplace"].create({
                "seller_id": seller.id, "reference_id": env.ref("amazon_fbm_connector.marketplace_us").id,
                "warehouse_id": self.warehouse.id})
            headers = [self.scenario.orders[r]["order"] for r in refs]
            env["amazon.order.queue"]._create_queues(seller, "missing_unshipped", headers)
            cr.commit()  # pylint: disable=invalid-commit
            seller_id = seller.id
        return seller_id, refs

    def _worker(self, errors):
        cron_worker(self.registry, "amazon.order.queue", "_cron_process_queues", errors)

    def _result(self, seller_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            lines = env["amazon.order.queue.line"].search([("seller_id", "=", seller_id)])
            orders = env["sale.order"].search([("amazon_seller_id", "=", seller_id)])
            return ({l.amazon_order_ref: (l.state, l.sale_order_id.id, l.attempts) for l in lines},
                    orders.mapped("amazon_order_ref"))

    def test_two_workers_process_each_line_once(self):
        seller_id, refs = self._committed_queue(30)
        RateLimiter.reset()
        claimed = {}
        barrier = threading.Barrier(2, timeout=30)
        Queue = type(self.env["amazon.order.queue"])
        original = Queue._claim

        def spy_claim(queue_self, runner, limit):
            lines = original(queue_self, runner, limit)
            name = threading.current_thread().name
            if name not in claimed:
                claimed[name] = set(lines.ids)
                barrier.wait()   # both workers hold their locks at the same time
            else:
                claimed[name] |= set(lines.ids)
            return lines

        errors = []
        with patch.object(Queue, "_claim", spy_claim):
            run_in_threads({"worker-%d" % n: partial(self._worker, errors) for n in range(2)})
        self.assertFalse(errors, errors)
        a, b = claimed.values()
        self.assertTrue(a and b, "both workers got lines")
        self.assertFalse(a & b, "no line claimed twice")
        lines, orders = self._result(seller_id)
        self.assertEqual(sorted(orders), sorted(refs), "every order exactly once")
        self.assertTrue(all(state == "done" and so for state, so, _att in lines.values()))

    def test_crash_mid_batch_then_next_run_finishes(self):
        seller_id, refs = self._committed_queue(30)   # three queues of 10
        RateLimiter.reset()
        original = OrderBuilder.build
        calls = []

        def crashing_build(builder_self, orders):
            result = original(builder_self, orders)
            calls.append(len(orders))
            if len(calls) == 3:   # one queue a batch: the third batch dies
                raise RuntimeError("worker killed mid-batch")
            return result

        errors = []
        with patch.object(OrderBuilder, "build", crashing_build):
            run_in_threads({"worker": partial(self._worker, errors)})
        self.assertEqual(len(errors), 1)
        lines, orders = self._result(seller_id)
        self.assertEqual(len(orders), 20, "two batches were committed, the crashed one rolled back")
        self.assertEqual(sum(1 for s, _so, _a in lines.values() if s == "pending"), 10)
        errors = []
        run_in_threads({"worker": partial(self._worker, errors)})
        self.assertFalse(errors, errors)
        lines, orders = self._result(seller_id)
        self.assertEqual(sorted(orders), sorted(refs), "finished, no duplicates")
        self.assertTrue(all(state == "done" for state, _so, _a in lines.values()))
