"""The price report is stored one line per Amazon order while its document is
read, and a batch is priced from its own orders' lines only."""
import gzip
import json
from datetime import timedelta

from odoo.tests import new_test_user, tagged

from ..services import errors, normalize, report_parser
from ..services.document_stream import DocumentLines
from .common import US, AmazonCase

A_COLS = ("amazon-order-id", "sku", "asin", "item-status", "quantity", "currency", "item-price",
          "item-tax", "shipping-price", "order-status", "fulfillment-channel", "sales-channel")


def tsv(rows):
    return "\n".join(["\t".join(A_COLS)] + ["\t".join(r) for r in rows]) + "\n"


def a_row(order, sku="SKU-A", qty="1", price="10.00", tax="0.83", shipping="", status="Unshipped"):
    return (order, sku, "B0" + sku[-1], "Unshipped", qty, "USD", price, tax, shipping, status,
            "Merchant", "Amazon.com")


@tagged("post_install", "-at_install")
class TestPriceReportLines(AmazonCase):

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        skus = ["SKU-A", "SKU-B", "SKU-C", "SKU-D"]
        self.refs = []
        for n in range(120):
            items = [{"sku": skus[(n + k) % 4], "qty": 1 + (n + k) % 3, "price": "%d.%02d" % (10 + n, k * 7),
                      "tax": "0.%02d" % (n % 100), "shipping": "4.99" if k else "0.00"}
                     for k in range(1 + n % 3)]
            self.refs.append(self.add_us_order(items=items, purchase_date=self.now - timedelta(hours=n // 2 + 1)))

    def price_report(self):
        Report = self.env["amazon.price.report"]
        now = self.now.replace(tzinfo=None)
        report = Report._request(self.seller, [US], now - timedelta(days=3), now)
        while not report._poll():
            pass
        self.assertEqual(report.state, "done", report.message)
        reports = self.seller._get_client().reports()
        document = reports.fetch(reports.status(report.amazon_report_id).document_id, report.report_type)
        return report, report_parser.parse_all_orders(document.text)

    def header(self, ref):
        payload = json.loads(json.dumps(self.scenario.orders[ref]["order"]))
        return normalize.order_from_payload(payload), payload

    def test_price_book_holds_only_the_orders_it_prices(self):
        report, (prices, info, errs) = self.price_report()
        self.assertFalse(errs)
        self.assertEqual(report.message, "%d priced items; 0 unreadable rows." % len(prices))
        book = report._price_book()
        batch = self.refs[10:60]
        for ref in batch:
            order, payload = self.header(ref)
            book.price(order, payload, fetch=False)
            self.assertTrue(order.priced, ref)
            self.assertEqual(order.total(price_includes_tax=False), self.amazon_total(ref), ref)
            self.assertLessEqual(set(book.by_order), set(batch),
                                 "the book holds the orders it priced, not the whole report")
        for start in range(0, len(self.refs), 50):
            batch = set(self.refs[start:start + 50])
            book.load(batch)
            self.assertEqual(book.prices, {k: v for k, v in prices.items() if k[0] in batch},
                             "the stored prices are the report's, to the cent")
            self.assertEqual(book.info, {k: v for k, v in info.items() if k in batch})
        lines = self.env["amazon.price.report.line"].search([("price_report_id", "=", report.id)])
        self.assertEqual(sorted(lines.mapped("amazon_order_ref")), sorted(self.refs), "one line per order")

    def test_stored_by_order_rows_apart_and_unreadable_rows(self):
        """Rows of an order apart in the document (one line, added up), an order
        with an unreadable row after its first lines were stored (no line), and
        more orders than one create stores."""
        rows = [a_row("S-1"), a_row("BAD-1", price="3.00")]
        rows += [a_row("O-%04d" % n, price="%d.50" % n) for n in range(2100)]
        rows += [a_row("S-1", qty="2", price="20.00", tax="1.66", shipping="4.99", status="Shipped"),
                 a_row("S-1", sku="SKU-B", price="7.00", status="Shipped"), a_row("BAD-1", sku="SKU-B", price="x")]
        text = tsv(rows)
        prices, info, errs = report_parser.parse_all_orders(text)
        report = self.env["amazon.price.report"].create({
            "seller_id": self.seller.id, "marketplace_codes": US, "amazon_report_id": "stored-1"})
        self.assertEqual(report._store_prices(report_parser.document_stream.text_lines(text)),
                         (len(prices), len(errs)))
        refs = self.env["amazon.price.report.line"].search(
            [("price_report_id", "=", report.id)]).mapped("amazon_order_ref")
        self.assertEqual(len(refs), 2101)
        self.assertEqual(refs.count("S-1"), 1)
        self.assertNotIn("BAD-1", refs)
        got_prices, got_info = report._prices_of(["S-1", "BAD-1", "O-0007"])
        self.assertEqual(got_prices, {k: v for k, v in prices.items() if k[0] in ("S-1", "O-0007")})
        self.assertEqual(got_prices[("S-1", "SKU-A")].quantity, 3)
        self.assertEqual(str(got_prices[("S-1", "SKU-A")].item_price), "30.00")
        self.assertEqual(got_info["S-1"]["status"], "Shipped")
        self.assertEqual(got_info, {k: v for k, v in info.items() if k in ("S-1", "O-0007")})

    def test_company_b_sees_no_line_of_company_a(self):
        report = self.env["amazon.price.report"].create({
            "seller_id": self.seller.id, "marketplace_codes": US, "amazon_report_id": "stored-2"})
        report._store_prices(report_parser.document_stream.text_lines(tsv([a_row("C-1"), a_row("C-2")])))
        company_b = self.env["res.company"].create({"name": "Company B"})
        user_a = new_test_user(self.env, "prices_company_a", groups="base.group_user,amazon_fbm_connector.group_amazon_user")
        user_b = new_test_user(self.env, "prices_company_b", company_id=company_b.id,
                               groups="base.group_user,amazon_fbm_connector.group_amazon_manager")
        user_b.company_ids = company_b
        Line = self.env["amazon.price.report.line"]
        self.assertEqual(len(Line.with_user(user_a).search([("price_report_id", "=", report.id)])), 2)
        self.assertFalse(Line.with_user(user_b).with_context(allowed_company_ids=company_b.ids).search([]))

    def test_document_cut_short_while_stored_leaves_no_line(self):
        """A document that turns out unreadable after some orders were stored (the
        download check reads it whole first, so this is a last defence) leaves none."""
        raw = gzip.compress(tsv([a_row("O-%04d" % n, price="%d.25" % n) for n in range(2500)]).encode())
        report = self.env["amazon.price.report"].create({
            "seller_id": self.seller.id, "marketplace_codes": US, "amazon_report_id": "stored-3"})
        Line = self.env["amazon.price.report.line"]
        try:     # not assertRaises: Odoo's rolls back to a savepoint, as _poll does not
            report._store_prices(DocumentLines(raw[:-100], "GZIP", "utf-8"))
        except errors.AmazonDocumentError:
            pass
        else:
            self.fail("the cut document was read to its end")
        self.assertGreaterEqual(Line.search_count([("price_report_id", "=", report.id)]), 1000,
                                "orders were stored before the document broke off")
        report._drop_orders()
        self.assertFalse(Line.search_count([("price_report_id", "=", report.id)]))
