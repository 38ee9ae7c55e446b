"""A partially shipped order is Amazon's whole order in Odoo: every item and
Amazon's total, with what Amazon already shipped delivered. The Unshipped
Orders report lists only the items left to ship."""
import gzip
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import AmazonCase


@tagged("post_install", "-at_install")
class TestWholeOrders(AmazonCase):

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        self.ref = self.add_us_order(status="PartiallyShipped", items=[
            # shipped already: not in the Unshipped Orders report
            {"sku": "SKU-A", "qty": 2, "shipped": 2, "price": "20.00", "tax": "1.65", "shipping": "4.99",
             "shipping_tax": "0.41"},
            # one of three shipped
            {"sku": "SKU-B", "qty": 3, "shipped": 1, "price": "30.00", "tax": "2.48"},
            {"sku": "SKU-C", "qty": 1, "price": "5.55", "tax": "0.46"}])

    def import_report(self, date_from=None):
        wizard = self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]})
        if date_from:
            # another window: the same one again in the same second is a duplicate, cancelled
            # (the wizard answers "until now" for an end in the future)
            wizard.date_from = date_from
        request = self.env["amazon.report.request"].browse(wizard.action_execute()["res_id"])
        request.action_check_status()
        request.action_check_status()
        self.process_file(request)
        self.assertEqual(request.state, "processed", request.message)
        return request

    def assertWhole(self, request=None):
        if request:
            self.assertEqual(request.count_created, 1, request.line_ids.mapped("message"))
        order = self.orders_of([self.ref])
        skus = [code for code in order.order_line.product_id.mapped("default_code") if code.startswith("SKU-")]
        self.assertEqual(sorted(skus), ["SKU-A", "SKU-B", "SKU-C"], "every item of Amazon's order")
        self.assertTotal(order, self.ref)
        self.assertEqual(order.state, "sale")
        delivered = {}
        for move in order.picking_ids.filtered(lambda p: p.state == "done").move_ids:
            delivered[move.product_id.default_code] = delivered.get(move.product_id.default_code, 0) + move.quantity
        self.assertEqual(delivered, {"SKU-A": 2, "SKU-B": 1}, "what Amazon shipped is delivered")
        to_ship = {}
        for move in order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel")).move_ids:
            to_ship[move.product_id.default_code] = move.product_uom_qty
        self.assertEqual(to_ship, {"SKU-B": 2, "SKU-C": 1}, "the rest is left to ship")
        return order

    def test_report_lists_only_what_is_left(self):
        """The emulator is no kinder than Amazon: the shipped item is not in the report."""
        request = self.import_report()
        body = gzip.decompress(request.attachment_id.raw).decode()
        self.assertNotIn("\tSKU-A\t", body)
        self.assertIn("\tSKU-B\t", body)

    def test_items_from_the_all_orders_report(self):
        self.assertWhole(self.import_report())
        self.assertEqual(self.emulator.calls["getOrderItems"], 0)

    def test_items_from_the_orders_api(self):
        self.emulator.script_next_report("DONE")    # the unshipped report
        self.emulator.script_next_report("FATAL")   # no price report
        self.assertWhole(self.import_report())
        # one call: getOrder (Orders API 2026-01-01, the default) or getOrderItems (v0)
        self.assertEqual(self.emulator.calls["getOrder2026"] + self.emulator.calls["getOrderItems"], 1)

    def test_items_from_the_orders_api_in_the_missing_unshipped_queue(self):
        self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_missing_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]}).action_execute()
        self.run_listings()
        self.env["amazon.order.queue"]._cron_process_queues()
        order = self.assertWhole()
        self.assertEqual(order.amazon_status, "PartiallyShipped")

    def test_shipped_since_is_delivered_when_seen_again(self):
        self.assertWhole(self.import_report())
        order = self.orders_of([self.ref])
        # Amazon ships a second SKU-B; the next report lists the order again
        self.scenario.orders[self.ref]["items"][1]["QuantityShipped"] = 2
        calls = self.emulator.calls["getOrderItems"] + self.emulator.calls["getOrder2026"]
        request = self.import_report(date_from=fields.Datetime.now() - timedelta(days=29))
        line = request.line_ids.filtered(lambda l: l.amazon_order_ref == self.ref)
        self.assertEqual(line.state, "existing")
        self.assertEqual(self.orders_of([self.ref]), order, "still one order")
        self.assertEqual(self.emulator.calls["getOrderItems"] + self.emulator.calls["getOrder2026"], calls,
                         "Amazon is not asked again")
        done = order.picking_ids.filtered(lambda p: p.state == "done").move_ids
        self.assertEqual(sum(done.filtered(lambda m: m.product_id.default_code == "SKU-B").mapped("quantity")), 2)
        left = order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel")).move_ids
        self.assertEqual({m.product_id.default_code: m.product_uom_qty for m in left}, {"SKU-B": 1, "SKU-C": 1})
