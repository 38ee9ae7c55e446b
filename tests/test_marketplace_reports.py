"""One unshipped report for several marketplaces of a region (DE + UK + FR):
every row lands in the marketplace Amazon sold it on, whether the seller
configured its marketplaces by Amazon id or from the list, and whatever
source tells the marketplace (the report's sales-channel column, the All
Orders report, the Orders API); a row nothing can place fails alone."""
import base64
import gzip

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import DE, UK, AmazonCase

FR = "A13V1IB3VIYZZH"


@tagged("post_install", "-at_install")
class TestMarketplaceReports(AmazonCase):

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        self.env.ref("base.EUR").active = True
        item = {"sku": "SKU-EU", "qty": 1, "price": "23.80", "tax": "3.80"}
        self.refs = {
            "de": self.scenario.add_order(marketplace_id=DE, items=[item], buyer_email="de@example.com"),
            "uk": self.scenario.add_order(marketplace_id=UK, items=[dict(item, price="24.00", tax="4.00")],
                                          buyer_email="uk@example.com"),
            "fr": self.scenario.add_order(marketplace_id=FR, items=[dict(item, price="24.00", tax="4.00")],
                                          buyer_email="fr@example.com"),
            # sold on Amazon.de, shipped to France: the ship-to country would say FR
            "de_to_fr": self.scenario.add_order(
                marketplace_id=DE, items=[item], buyer_email="defr@example.com",
                address={"CountryCode": "FR", "City": "Paris", "PostalCode": "75001"}),
        }
        self.expected = {"de": DE, "uk": UK, "fr": FR, "de_to_fr": DE}

    def make_seller(self, by_id):
        """A seller with DE, UK and FR, configured by Amazon id only or picked from the list."""
        client_id, secret = next(iter(self.emulator.apps.items()))
        seller = self.env["amazon.seller"].create({
            "name": "EU Seller %s" % ("by id" if by_id else "from list"), "region": "eu",
            "lwa_client_id": client_id, "lwa_client_secret": secret,
            "refresh_token": next(iter(self.emulator.refresh_tokens)),
            "api_endpoint": self.emulator.url, "lwa_endpoint": self.emulator.url,
            "workflow_id": self.workflow.id})
        for code, xmlid in ((DE, "marketplace_de"), (UK, "marketplace_uk"), (FR, "marketplace_fr")):
            vals = {"seller_id": seller.id, "warehouse_id": self.warehouse.id}
            if by_id:
                vals["amazon_marketplace_id"] = code
            else:
                vals["reference_id"] = self.env.ref("amazon_fbm_connector.%s" % xmlid).id
            self.env["amazon.marketplace"].create(vals)
        return seller

    def import_report(self, seller):
        wizard = self.env["amazon.operation.wizard"].create({
            "seller_id": seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, seller.marketplace_ids.ids)]})
        request = self.env["amazon.report.request"].browse(wizard.action_execute()["res_id"])
        request.action_check_status()
        request.action_check_status()
        self.process_file(request)
        self.assertEqual(request.state, "processed", request.message)
        return request

    def report_header(self, request):
        raw = base64.b64decode(request.attachment_id.datas)
        return gzip.decompress(raw).decode().splitlines()[0].split("\t")

    def assertPlaced(self, seller, keys):
        for key in keys:
            ref = self.refs[key]
            order = self.env["sale.order"].search([("amazon_seller_id", "=", seller.id),
                                                   ("amazon_order_ref", "=", ref)])
            self.assertEqual(len(order), 1, "%s (%s) imported" % (key, ref))
            mp = order.amazon_marketplace_id
            self.assertEqual(mp.amazon_marketplace_id, self.expected[key], "%s in its marketplace" % key)
            self.assertEqual(order.currency_id, mp.currency_id)
            self.assertTotal(order, ref)

    # ------------------------------------------------------------------ tests
    def test_marketplace_by_id_gets_reference_data(self):
        seller = self.make_seller(by_id=True)
        de = seller.marketplace_ids.filtered(lambda m: m.amazon_marketplace_id == DE)
        self.assertEqual(de.reference_id, self.env.ref("amazon_fbm_connector.marketplace_de"))
        self.assertEqual(de.sales_channel, "Amazon.de")
        self.assertEqual(de.currency_id.name, "EUR")
        self.assertEqual(de.country_id.code, "DE")
        self.assertTrue(de.name)

    def _test_every_row_in_its_marketplace(self, by_id):
        seller = self.make_seller(by_id)
        request = self.import_report(seller)
        report = self.emulator.reports[request.amazon_report_id]
        self.assertEqual(report["_options"], {"ShowSalesChannel": "true"}, "we ask for the column")
        self.assertIn("sales-channel", self.report_header(request))
        self.assertEqual(request.count_created, 4, request.line_ids.mapped("message"))
        self.assertPlaced(seller, self.refs)

    def test_every_row_in_its_marketplace_by_id(self):
        self._test_every_row_in_its_marketplace(by_id=True)

    def test_every_row_in_its_marketplace_from_list(self):
        self._test_every_row_in_its_marketplace(by_id=False)

    def test_without_column_the_price_report_places_rows(self):
        """Amazon leaves the column out: the All Orders report's sales-channel places the rows."""
        self.emulator.faults["ignore_report_options"] = True
        seller = self.make_seller(by_id=True)
        request = self.import_report(seller)
        self.assertNotIn("sales-channel", self.report_header(request))
        self.assertEqual(request.count_created, 4, request.line_ids.mapped("message"))
        self.assertPlaced(seller, self.refs)
        self.assertEqual(self.emulator.calls["getOrders"], 0, "the price report told every marketplace")

    def test_without_column_and_price_report_the_orders_api_places_rows(self):
        """No column, the price report FATAL: prices from getOrderItems and marketplaces
        from the Orders API (one getOrders for the ids), even the cross-border order."""
        self.emulator.faults["ignore_report_options"] = True
        for by_id in (True, False):
            self.emulator.script_next_report("DONE")     # the unshipped report
            self.emulator.script_next_report("FATAL")    # its price report
            seller = self.make_seller(by_id)
            request = self.import_report(seller)
            self.assertEqual(request.price_report_id.state, "failed")
            self.assertEqual(request.count_created, 4, request.line_ids.mapped("message"))
            self.assertPlaced(seller, self.refs)
        calls = self.emulator.calls
        self.assertEqual(calls["getOrders"] + calls["searchOrders"], 2, "one lookup per report, not per order")
        self.assertEqual(calls["getOrder2026"] + calls["getOrderItems"], 8, "prices: one call per order")

    @mute_logger("odoo.addons.amazon_fbm_connector.services.pipeline")
    def test_row_nothing_places_fails_alone(self):
        """No column, no price report and the Orders API down: the ship-to country places
        the rows it names unambiguously; the order shipped to Austria fails alone."""
        at = self.scenario.add_order(
            marketplace_id=DE, items=[{"sku": "SKU-EU", "qty": 1, "price": "23.80", "tax": "3.80"}],
            buyer_email="at@example.com",
            address={"CountryCode": "AT", "City": "Wien", "PostalCode": "1010"})
        # (a cross-border order is left out: its country names another marketplace)
        self.scenario.orders.pop(self.refs.pop("de_to_fr"))
        self.emulator.faults["ignore_report_options"] = True
        self.emulator.script_next_report("DONE")
        self.emulator.script_next_report("FATAL")
        self.emulator.fail_next("getOrders", count=7, status=503)
        self.emulator.fail_next("searchOrders", count=7, status=503)
        seller = self.make_seller(by_id=True)
        request = self.import_report(seller)
        self.assertEqual(request.count_created, 3, request.line_ids.mapped("message"))
        self.assertPlaced(seller, self.refs)
        line = request.line_ids.filtered(lambda l: l.amazon_order_ref == at)
        self.assertEqual(line.state, "failed")
        self.assertIn("did not say on which marketplace", line.message)
        self.assertIn("AT", line.message)
        self.assertIn("Marketplaces", line.message)

    def test_unknown_sales_channel_fails_alone(self):
        """A row sold on a marketplace the seller has not configured fails alone,
        naming it; it never lands in a configured one."""
        it = self.scenario.add_order(
            marketplace_id="APJ6JRA9NG5V4", buyer_email="it@example.com",
            items=[{"sku": "SKU-EU", "qty": 1, "price": "24.40", "tax": "4.40"}])
        seller = self.make_seller(by_id=True)
        wizard = self.env["amazon.operation.wizard"].create({
            "seller_id": seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, seller.marketplace_ids.ids)]})
        request = self.env["amazon.report.request"].browse(wizard.action_execute()["res_id"])
        # Amazon's report for the seller's account lists the Italian order too
        report = self.emulator.reports[request.amazon_report_id]
        report["marketplaceIds"] = report["marketplaceIds"] + ["APJ6JRA9NG5V4"]
        request.action_check_status()
        request.action_check_status()
        self.process_file(request)
        line = request.line_ids.filtered(lambda l: l.amazon_order_ref == it)
        self.assertEqual(line.state, "failed")
        self.assertIn("Amazon.it", line.message)
        self.assertFalse(line.sale_order_id)
        self.assertEqual(request.count_created, 4)
