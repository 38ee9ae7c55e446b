"""Bad input end to end: each bad case fails at its smallest scope (row, order,
file) with a message on the report or queue line, and every good order of the
same run is imported. The parser-level corpus is tests/pure/test_bad_input.py."""
import gzip
import json
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import AmazonCase


@tagged("post_install", "-at_install")
class TestBadInput(AmazonCase):

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        self.good = [self.add_us_order(buyer_email="good%d@marketplace.amazon.com" % n) for n in range(3)]

    def run_unshipped(self, marketplaces=None, before_process=None):
        # each run a window of its own: two runs within one second would otherwise be
        # the same request, which the report request cancels as a duplicate
        self._runs = getattr(self, "_runs", 0) + 1
        date_to = fields.Datetime.now() + timedelta(seconds=self._runs)
        request = self.env["amazon.report.request"]._request_unshipped(
            self.seller, marketplaces or self.mp_us, date_to - timedelta(days=10), date_to, auto=False)
        request.action_check_status()
        request.action_check_status()
        self.assertEqual(request.state, "done", request.message)
        if before_process:
            before_process(request)
        self.process_file(request)
        return request

    def rewrite_document(self, request, change):
        """Amazon's document as it might have been: ``change(header, rows)`` edits
        the rows (lists of cells) in place."""
        doc = self.emulator.documents[request.amazon_document_id]
        body = gzip.decompress(doc["body"]) if doc["gzip"] else doc["body"]
        lines = body.decode(doc["charset"]).splitlines()
        header, rows = lines[0].split("\t"), [line.split("\t") for line in lines[1:]]
        change(header, rows)
        text = "\n".join(["\t".join(header)] + ["\t".join(r) for r in rows]) + "\n"
        body = text.encode(doc["charset"])
        doc["body"] = gzip.compress(body) if doc["gzip"] else body

    def failed(self, request):
        return {line.amazon_order_ref: line.message for line in request.line_ids if line.state == "failed"}

    def assertGoodImported(self):
        orders = self.orders_of(self.good)
        self.assertEqual(len(orders), len(self.good), "every good order imports")
        for order in orders:
            self.assertTotal(order, order.amazon_order_ref)

    # ------------------------------------------------------------- file
    def test_html_page_instead_of_the_report(self):
        saved = {}

        def html(request):
            doc = self.emulator.documents[request.amazon_document_id]
            saved.update(doc)
            doc.update(body=b"<html><head><title>503 Service Unavailable</title></head></html>",
                       gzip=False)
        request = self.run_unshipped(before_process=html)
        self.assertEqual(request.count_created, 0)
        self.assertEqual(len(request.line_ids), 1)
        self.assertIn("HTML page (503 Service Unavailable)", request.line_ids.message)
        self.assertFalse(self.orders_of(self.good))
        # processed again once Amazon serves the real document: nothing was lost
        self.emulator.documents[request.amazon_document_id].update(saved)
        request.attachment_id.unlink()
        self.process_file(request)
        self.assertGoodImported()
        self.assertFalse(self.failed(request))

    # ------------------------------------------------------------- rows
    def test_bad_rows_duplicates_and_good_rows(self):
        bad = self.add_us_order(buyer_email="bad@marketplace.amazon.com")
        dup = self.add_us_order(buyer_email="dup@marketplace.amazon.com", items=[
            {"sku": "SKU-B", "qty": 2, "price": "20.00", "tax": "1.65"}])

        def change(header, rows):
            qty = header.index("quantity-purchased")
            for row in list(rows):
                if row[0] == bad:
                    row[qty] = "-1"
                if row[0] == dup:
                    rows.append(list(row))     # the same row twice
        request = self.run_unshipped(before_process=lambda r: self.rewrite_document(r, change))
        failed = self.failed(request)
        self.assertEqual(set(failed), {bad})
        self.assertIn("negative", failed[bad])
        self.assertFalse(self.orders_of([bad]), "an order with a bad row is not imported half")
        order = self.orders_of([dup])
        self.assertEqual(order.order_line.filtered(lambda l: l.product_id.default_code == "SKU-B")
                         .product_uom_qty, 2, "a row twice counts once")
        self.assertTotal(order, dup)
        self.assertGoodImported()

    def test_unknown_marketplace_fails_that_order_only(self):
        # An order Amazon sold on a marketplace this seller has not configured
        # (France): the report names its sales channel, the price report
        # (asked for the configured marketplaces) does not list it.
        stray = self.scenario.add_order(marketplace_id="A13V1IB3VIYZZH", items=[
            {"sku": "SKU-EU", "qty": 1, "price": "12.00", "tax": "2.00"}])
        stray_rows = self.scenario.unshipped_report([self.scenario.orders[stray]],
                                                    show_sales_channel=True).splitlines()[1:]

        def change(header, rows):
            rows.extend(row.split("\t") for row in stray_rows)
        request = self.run_unshipped(marketplaces=self.mp_us | self.mp_de,
                                     before_process=lambda r: self.rewrite_document(r, change))
        failed = self.failed(request)
        self.assertEqual(set(failed), {stray})
        self.assertIn("Amazon.fr", failed[stray])
        self.assertIn("Marketplaces", failed[stray], "the message says what to configure")
        self.assertGoodImported()

    def test_order_split_over_two_documents_is_imported_whole_once(self):
        split = self.add_us_order(items=[
            {"sku": "SKU-B", "qty": 1, "price": "10.00", "tax": "0.83"},
            {"sku": "SKU-C", "qty": 1, "price": "5.00", "tax": "0.41"}])

        def drop_second_item(header, rows):
            sku = header.index("sku")
            rows[:] = [r for r in rows if not (r[0] == split and r[sku] == "SKU-C")]
        self.run_unshipped(before_process=lambda r: self.rewrite_document(r, drop_second_item))
        request = self.run_unshipped()      # the next document lists the whole order
        order = self.orders_of([split])
        self.assertEqual(len(order), 1)
        self.assertEqual(sorted(order.order_line.product_id.mapped("default_code")), ["SKU-B", "SKU-C"],
                         "the price report made the order whole on the first run")
        self.assertTotal(order, split)
        self.assertEqual(request.line_ids.filtered(lambda l: l.amazon_order_ref == split).state, "existing")
        self.assertGoodImported()

    def test_rows_of_one_order_apart_in_the_document_import_one_order(self):
        # the report is read as a stream, an order handed on after its last row:
        # rows of one order with other orders between them are still one order
        apart = self.add_us_order(items=[
            {"sku": "SKU-B", "qty": 1, "price": "10.00", "tax": "0.83"},
            {"sku": "SKU-C", "qty": 1, "price": "5.00", "tax": "0.41"}])

        def move_first_item_first(header, rows):
            sku = header.index("sku")
            [first] = [r for r in rows if r[0] == apart and r[sku] == "SKU-B"]
            rows.remove(first)
            rows.insert(0, first)
            self.assertNotEqual(rows[1][0], apart, "other orders lie between the two rows")
        request = self.run_unshipped(before_process=lambda r: self.rewrite_document(r, move_first_item_first))
        order = self.orders_of([apart])
        self.assertEqual(sorted(order.order_line.product_id.mapped("default_code")), ["SKU-B", "SKU-C"])
        self.assertTotal(order, apart)
        self.assertEqual(request.line_ids.filtered(lambda l: l.amazon_order_ref == apart).mapped("state"),
                         ["created"])
        self.assertFalse(self.failed(request))
        self.assertGoodImported()

    # ------------------------------------------------------------- queues (Orders API JSON)
    def test_queue_payloads_with_missing_fields_or_unknown_currency(self):
        no_date = self.add_us_order(buyer_email="nodate@marketplace.amazon.com")
        odd_currency = self.add_us_order(buyer_email="xyz@marketplace.amazon.com")
        headers = []
        for ref in self.good + [no_date, odd_currency]:
            header = dict(self.scenario.orders[ref]["order"])
            if ref == no_date:
                header.pop("PurchaseDate")
            if ref == odd_currency:
                header["OrderTotal"] = {"CurrencyCode": "XYZ", "Amount": "1.00"}
            headers.append(header)
        queue = self.env["amazon.order.queue"]._create_queues(self.seller, "missing_unshipped", headers)
        self.env["amazon.order.queue"]._cron_process_queues()
        lines = {line.amazon_order_ref: line for line in queue.line_ids}
        self.assertEqual(lines[no_date].state, "failed")
        self.assertIn("purchase date is empty", lines[no_date].message)
        self.assertEqual(lines[odd_currency].state, "failed")
        self.assertIn("XYZ", lines[odd_currency].message)
        self.assertEqual(json.loads(lines[no_date].payload)["AmazonOrderId"], no_date, "payload kept")
        self.assertGoodImported()
        self.assertEqual(queue.state, "partial")
