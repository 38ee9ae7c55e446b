"""A damaged price document is fetched again, never replaced by one call per order.

The queue flows (Orders API v0) price their orders with one All Orders report.
When its document does not read to its end, the connector asks
getReportDocument for a fresh URL; when the document itself stays damaged, it
requests the report again. Meanwhile the queues wait (the scheduler resumes
them); no order is priced with a getOrderItems / getOrder call of its own.
"""
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import AmazonCase

N = 12   # above the price report threshold: the queues are priced by one report
ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"


@tagged("post_install", "-at_install")
class TestDamagedPriceDocument(AmazonCase):

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        self.seller.orders_api_version = "v0"    # getOrders: the queues need a price report
        self.refs = [self.add_us_order(status="Shipped", buyer_email="damaged%d@marketplace.amazon.com" % n,
                                       items=[{"sku": "SKU-A", "qty": 1, "price": "10.00", "tax": "0.83"}])
                     for n in range(N)]

    def import_shipped(self):
        self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_shipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)],
            "date_from": fields.Datetime.now() - timedelta(days=10),
            "date_to": fields.Datetime.now()}).action_execute()
        self.run_listings()
        queues = self.env["amazon.order.queue"].search([("seller_id", "=", self.seller.id)])
        self.assertTrue(queues.price_report_id, "a price report prices the queues")
        return queues

    def scheduler(self, times):
        with mute_logger("odoo.addons.amazon_fbm_connector.services.spapi_client"):
            for _run in range(times):
                self.env["amazon.order.queue"]._cron_process_queues()

    def per_order_calls(self):
        calls = self.emulator.calls
        return calls["getOrderItems"] + calls["getOrder"] + calls["getOrder2026"]

    def test_damaged_url_is_replaced_by_a_fresh_one(self):
        """The first document URL serves a truncated file at every download: it is
        downloaded once, a fresh URL is asked for, and that one reads whole."""
        self.emulator.faults["damaged_urls"] = 1
        queues = self.import_shipped()
        self.scheduler(4)
        report = queues.price_report_id
        self.assertEqual(report.state, "done", report.message)
        self.assertEqual(self.emulator.calls["truncatedDownload"], 1, "the damaged URL once, not 3 times")
        self.assertEqual(self.emulator.calls["getReportDocument"], 2)
        self.assertEqual(self.emulator.calls["createReport"], 1)
        self.assertEqual(self.per_order_calls(), 0, "no call per order")
        self.assertEqual(set(queues.line_ids.mapped("state")), {"done"})
        self.assertEqual(len(self.orders_of(self.refs)), N)

    def test_damaged_document_is_requested_again_and_the_queues_wait(self):
        """The document itself is damaged (every URL): after fresh URLs, the report
        is requested again; the queues wait for it, then import with its prices."""
        self.emulator.faults["truncate_documents"] = True
        queues = self.import_shipped()
        report = queues.price_report_id
        first_id = report.amazon_report_id
        for _run in range(4):
            self.scheduler(1)
            if report.state != "requested" or self.emulator.calls["createReport"] > 1:
                break
        # the queues wait: nothing imported, nothing priced order by order
        self.assertEqual(self.per_order_calls(), 0)
        self.assertEqual(report.state, "requested", report.message)
        self.assertEqual(set(queues.line_ids.mapped("state")), {"pending"})
        self.assertFalse(self.orders_of(self.refs))
        self.assertEqual(self.emulator.calls["createReport"], 2)
        self.assertEqual(self.emulator.calls["getReportDocument"], 3, "three fresh URLs")
        self.assertNotEqual(report.amazon_report_id, first_id)
        self.assertIn("requested again", report.message)
        self.assertEqual(report.request_count, 2)
        self.assertIn("waiting for Amazon's price report: 12", queues[0].summary)
        # Amazon's next document is whole: the scheduler resumes the queues
        self.emulator.faults["truncate_documents"] = False
        self.scheduler(4)
        self.assertEqual(report.state, "done", report.message)
        self.assertEqual(set(queues.line_ids.mapped("state")), {"done"})
        self.assertEqual(len(self.orders_of(self.refs)), N)
        self.assertEqual(self.per_order_calls(), 0, "no call per order")

    def test_document_damaged_at_every_request_fails_with_its_reason(self):
        """Amazon's document stays damaged for every request: the report fails after
        a bounded number of requests, saying why (no endless requests)."""
        self.emulator.faults["truncate_documents"] = True
        queues = self.import_shipped()
        report = queues.price_report_id
        self.scheduler(12)
        self.assertEqual(report.state, "failed")
        self.assertEqual(self.emulator.calls["createReport"], 3)
        self.assertIn("damaged for each of the 3 requests", report.message)
        self.assertEqual(report.request_count, 3)
