"""Stock export against the emulator: Odoo's FBM quantities reach Amazon."""
from odoo.tests import tagged

from ..services.const import STOCK_FEED_THRESHOLD
from .common import DE, US, AmazonCase


@tagged("post_install", "-at_install")
class TestStockExport(AmazonCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.mp_us.write({"export_stock": True})
        cls.Offer = env["amazon.stock.offer"]
        cls.stock = cls.warehouse.lot_stock_id
        cls.supplier = env.ref("stock.stock_location_suppliers")
        # a kit of 2 x SKU-B + 1 x SKU-C
        cls.kit = env["product.product"].create({
            "name": "Gift kit", "default_code": "KIT-1", "detailed_type": "consu",
            "taxes_id": [(6, 0, cls.tax_us.ids)]})
        cls.bom = env["mrp.bom"].create({
            "product_tmpl_id": cls.kit.product_tmpl_id.id, "product_qty": 1, "type": "phantom",
            "bom_line_ids": [(0, 0, {"product_id": cls.products["SKU-B"].id, "product_qty": 2}),
                             (0, 0, {"product_id": cls.products["SKU-C"].id, "product_qty": 1})]})
        cls.consumable = env["product.product"].create({
            "name": "Paper bag", "default_code": "BAG-1", "detailed_type": "consu"})

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        for sku in ("SKU-A", "SKU-B", "SKU-C", "SKU-D", "KIT-1"):
            self.emulator.add_listing(sku, US, product_type="HOME", quantity=99, lead_time=3)

    # ------------------------------------------------------------- helpers
    def receive(self, product, qty, location=None):
        """A receipt from a supplier, validated: a stock move done."""
        location = location or self.stock
        warehouse = location.warehouse_id
        picking = self.env["stock.picking"].create({
            "picking_type_id": warehouse.in_type_id.id, "location_id": self.supplier.id,
            "location_dest_id": location.id,
            "move_ids": [(0, 0, {"name": product.name, "product_id": product.id,
                                 "product_uom_qty": qty, "product_uom": product.uom_id.id,
                                 "location_id": self.supplier.id, "location_dest_id": location.id})]})
        picking.action_confirm()
        for move in picking.move_ids:
            move.quantity = qty
            move.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")

    def export(self, passes=6):
        """The stock export cron, pass after pass, until nothing is left in flight."""
        Offer = self.env["amazon.stock.offer"]
        for _n in range(passes):
            Offer._cron_export_stock()
            busy = Offer.search_count([("state", "=", "pending")]) or Offer.search_count(
                [("to_send", "=", True), ("state", "!=", "error"),
                 ("marketplace_id.export_stock", "=", True)])
            if not busy:
                return
        self.fail("the stock export did not finish in %s passes" % passes)

    def offer(self, sku, marketplace=None):
        return self.Offer.search([("sku", "=", sku),
                                  ("marketplace_id", "=", (marketplace or self.mp_us).id)])

    def amazon(self, sku, marketplace_id=US):
        return self.emulator.listing_quantity(sku, marketplace_id)

    def import_order(self, sku, qty):
        ref = self.add_us_order(items=[{"sku": sku, "qty": qty, "price": "20.00", "tax": "1.65"}])
        [res] = self.build([ref])
        self.assertEqual(res.state, "created", res.message)
        self.assertEqual(res.sale_order.state, "sale")
        return res.sale_order

    # ------------------------------------------------------------- tests
    def test_receipt_raises_amazons_quantity_and_only_changes_are_sent(self):
        self.export()
        self.assertEqual(self.amazon("SKU-A"), 0, "Odoo has none: Amazon must sell none")
        self.assertEqual(self.offer("SKU-A").state, "accepted")
        self.assertEqual(self.emulator.listing_attribute("SKU-A", US)[0]["lead_time_to_ship_max_days"], 3,
                         "merge keeps the handling time")
        self.emulator.reset_quota()
        self.receive(self.products["SKU-A"], 7)
        self.export()
        self.assertEqual(self.amazon("SKU-A"), 7)
        offer = self.offer("SKU-A")
        self.assertEqual((offer.odoo_quantity, offer.amazon_quantity, offer.differs), (7, 7, False))
        self.assertTrue(offer.amazon_date)
        self.assertEqual(self.emulator.calls["patchListingsItem"], 1, "only the changed SKU is sent")
        self.assertEqual(self.emulator.calls["getListingsItem"], 0, "the product type is read once")
        self.emulator.reset_quota()
        self.export()
        self.assertFalse(self.emulator.calls["patchListingsItem"], "nothing changed, nothing sent")

    def test_imported_order_lowers_and_cancellation_restores(self):
        self.receive(self.products["SKU-A"], 10)
        self.export()
        self.assertEqual(self.amazon("SKU-A"), 10)
        order = self.import_order("SKU-A", 3)
        self.export()
        self.assertEqual(self.amazon("SKU-A"), 7, "a confirmed order's delivery holds 3")
        order._action_cancel()
        self.export()
        self.assertEqual(self.amazon("SKU-A"), 10)

    def test_kits_offer_complete_kits(self):
        self.receive(self.products["SKU-B"], 5)
        self.receive(self.products["SKU-C"], 10)
        self.export()
        self.assertEqual(self.amazon("KIT-1"), 2, "5 B make 2 kits of 2 B")
        self.assertEqual(self.amazon("SKU-B"), 5)
        self.bom.bom_line_ids.filtered(lambda l: l.product_id == self.products["SKU-B"]).product_qty = 1
        self.export()
        self.assertEqual(self.amazon("KIT-1"), 5, "a BoM changed marks its kit")
        self.import_order("SKU-C", 8)
        self.export()
        self.assertEqual(self.amazon("KIT-1"), 2, "an order of a component lowers the kit")

    def test_reserve_and_never_below_zero(self):
        self.mp_us.stock_reserve = 3
        self.receive(self.products["SKU-A"], 5)
        self.receive(self.products["SKU-D"], 2)
        self.export()
        self.assertEqual(self.amazon("SKU-A"), 2)
        self.assertEqual(self.amazon("SKU-D"), 0)

    def test_two_warehouses_and_marketplaces(self):
        wh2 = self.env["stock.warehouse"].create({"name": "EU hub", "code": "EUH"})
        self.mp_de.write({"warehouse_id": wh2.id, "export_stock": True})
        self.emulator.add_listing("SKU-A", DE, product_type="HOME")
        self.receive(self.products["SKU-A"], 4)
        self.receive(self.products["SKU-A"], 9, location=wh2.lot_stock_id)
        self.export()
        self.assertEqual(self.amazon("SKU-A", US), 4)
        self.assertEqual(self.amazon("SKU-A", DE), 9)
        self.import_order("SKU-A", 1)
        self.export()
        self.assertEqual((self.amazon("SKU-A", US), self.amazon("SKU-A", DE)), (3, 9))

    def test_unknown_sku_is_recorded_and_not_retried_until_it_changes(self):
        # SKU-D is an Internal Reference Amazon does not list: a product not sold there.
        self.emulator.listings.pop(("*", US, "SKU-D"))
        # SKU-MAPPED is the seller's mapping of SKU-C: meant to be on Amazon, so an error.
        self.env["amazon.product.mapping"].create({
            "seller_id": self.seller.id, "sku": "SKU-MAPPED", "product_id": self.products["SKU-C"].id})
        self.export()
        offer = self.offer("SKU-D")
        self.assertEqual(offer.state, "unlisted")
        self.assertIn("no listing for SKU SKU-D", offer.message)
        self.assertIn("Resend", offer.message)
        self.assertFalse(offer.differs, "a product not sold there differs from nothing")
        mapped = self.offer("SKU-MAPPED")
        self.assertEqual(mapped.state, "error")
        self.assertIn("no listing for SKU SKU-MAPPED", mapped.message)
        self.mp_us.invalidate_recordset(["stock_error_count"])
        self.assertEqual(self.mp_us.stock_error_count, 1, "the dashboard counts the mapped SKU only")
        self.assertEqual(self.mp_us.action_open_stock_errors()["context"], {"search_default_rejected": 1})
        self.assertIn(offer, self.products["SKU-D"].product_tmpl_id.amazon_stock_offer_ids,
                      "the product form shows it")
        self.assertEqual(self.offer("SKU-A").state, "accepted", "the rest goes on")
        self.emulator.reset_quota()
        self.export()
        self.assertFalse(self.emulator.calls["getListingsItem"], "not asked again every 5 minutes")
        self.emulator.add_listing("SKU-D", US, product_type="HOME")
        self.receive(self.products["SKU-D"], 4)
        self.export()
        self.assertEqual(self.amazon("SKU-D"), 4, "retried once its quantity changed")
        self.assertEqual(self.offer("SKU-D").state, "accepted")

    def test_rejected_patch_keeps_amazons_message(self):
        self.emulator.reject_sku("SKU-B", "The listing is suppressed: it lacks a main image.")
        self.receive(self.products["SKU-B"], 3)
        self.export()
        offer = self.offer("SKU-B")
        self.assertEqual(offer.state, "error")
        self.assertIn("lacks a main image", offer.message)
        self.assertEqual(self.amazon("SKU-B"), 99)
        self.emulator.sku_rejections.clear()
        offer.action_resend()
        self.export()
        self.assertEqual(self.amazon("SKU-B"), 3, "the seller's Resend sends it")

    def test_archived_product_sends_zero_and_consumables_are_not_sent(self):
        self.receive(self.products["SKU-A"], 6)
        self.export()
        self.assertEqual(self.amazon("SKU-A"), 6)
        self.products["SKU-A"].active = False
        self.export()
        self.assertEqual(self.amazon("SKU-A"), 0)
        self.assertFalse(self.offer("BAG-1"), "a consumable has no offer")

    def test_429_storm(self):
        self.receive(self.products["SKU-A"], 2)
        self.export()
        self.receive(self.products["SKU-A"], 3)
        self.emulator.fail_next("patchListingsItem", count=1000, status=429)
        self.env["amazon.stock.offer"]._cron_export_stock()
        offer = self.offer("SKU-A")
        self.assertIn("throttled", offer.message)
        self.assertTrue(offer.to_send, "a busy Amazon is tried again at the next export")
        for _n in range(2):
            self.env["amazon.stock.offer"]._cron_export_stock()
        self.assertEqual(offer.state, "error", "not every 5 minutes forever")
        self.assertFalse(offer.to_send)
        self.emulator.faults["server_errors"].clear()
        self.receive(self.products["SKU-A"], 1)
        self.export()
        self.assertEqual(self.amazon("SKU-A"), 6)

    def test_many_changes_go_as_one_feed_with_partial_failure(self):
        Product = self.env["product.product"]
        many = Product.create([{"name": "Bulk %s" % n, "default_code": "BULK-%03d" % n,
                                "detailed_type": "product"} for n in range(STOCK_FEED_THRESHOLD + 10)])
        for product in many[:-2]:
            self.emulator.add_listing(product.default_code, US, product_type="HOME", quantity=50)
        self.emulator.reject_sku("BULK-005", "Quantity updates are blocked for this listing.")
        self.export()
        self.assertEqual(self.emulator.calls["createFeed"], 1)
        self.assertEqual(self.emulator.calls["patchListingsItem"], 0)
        self.assertLessEqual(self.emulator.calls["searchListingsItems"], 4, "20 product types a call")
        self.assertEqual(self.amazon("BULK-000"), 0)
        self.assertEqual(self.offer("BULK-000").state, "accepted")
        self.assertEqual(self.offer("BULK-005").state, "error")
        self.assertIn("blocked", self.offer("BULK-005").message)
        unknown = self.offer(many[-1].default_code)
        self.assertEqual(unknown.state, "unlisted")
        self.assertIn("no listing", unknown.message)
        feed = self.env["amazon.stock.feed"].search([])
        self.assertEqual(feed.state, "done")
        self.assertEqual(feed.invalid_count, 1)

    def test_fatal_feed(self):
        Product = self.env["product.product"]
        many = Product.create([{"name": "Bulk %s" % n, "default_code": "BULK-%03d" % n,
                                "detailed_type": "product"} for n in range(STOCK_FEED_THRESHOLD + 5)])
        for product in many:
            self.emulator.add_listing(product.default_code, US, product_type="HOME", quantity=50)
        self.emulator.script_next_feed("FATAL")
        self.export()
        offer = self.offer("BULK-001")
        self.assertEqual(offer.state, "error")
        self.assertIn("FATAL", offer.message)
        self.assertEqual(self.amazon("BULK-001"), 50, "a FATAL feed applied nothing")
        self.seller.action_resend_all_stock()
        self.export()
        self.assertEqual(self.amazon("BULK-001"), 0)
        self.assertEqual(self.offer("BULK-001").state, "accepted")

    def test_seller_wide_failure_is_recorded_on_the_marketplace(self):
        token = next(iter(self.emulator.refresh_tokens))
        self.emulator.refresh_tokens[token]["revoked"] = True
        try:
            self.env["amazon.stock.offer"]._cron_export_stock()
        finally:
            self.emulator.refresh_tokens[token]["revoked"] = False
        self.assertIn("refresh token", self.mp_us.stock_export_message)
        self.assertEqual(self.offer("SKU-A").state, "new", "nothing is lost: it is sent later")
        self.assertTrue(self.offer("SKU-A").to_send)
        self.export()
        self.assertFalse(self.mp_us.stock_export_message, "cleared once the export goes through")
        self.assertEqual(self.amazon("SKU-A"), 0)

    def test_buttons_and_operations_wake_the_cron(self):
        cron = self.env.ref("amazon_fbm_connector.ir_cron_amazon_stock_export")
        Trigger = self.env["ir.cron.trigger"]
        before = Trigger.search_count([("cron_id", "=", cron.id)])
        action = self.seller.action_export_stock()
        self.assertEqual(action["tag"], "display_notification")
        wizard = self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_export_stock"})
        action = wizard.action_execute()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 2)
        self.assertFalse(self.emulator.calls["patchListingsItem"], "a click never sends in the request")


@tagged("post_install", "-at_install")
class TestStockExportServers(AmazonCase):
    """Two Odoo servers' cron threads export at the same instant: each change once."""
    real_cursors = True  # its workers open committed cursors of their own

    def test_two_servers_send_each_change_once(self):
        from odoo import SUPERUSER_ID, api

        from .common import cron_worker, run_in_threads
        skus = ["RACE-STOCK-%02d" % n for n in range(24)]
        for sku in skus:
            self.emulator.add_listing(sku, US, product_type="HOME", quantity=99)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            seller = env["amazon.seller"].create({
                "name": "Stock race seller", "merchant_id": "A2RACESTOCK",
                "lwa_client_id": self.seller.lwa_client_id,
                "lwa_client_secret": self.seller.lwa_client_secret,
                "refresh_token": self.seller.refresh_token, "api_endpoint": self.emulator.url,
                "lwa_endpoint": self.emulator.url})
            # the database's own warehouse: a new one would install multi-warehouse groups,
            # which waits for the test's transaction
            marketplace = env["amazon.marketplace"].create({
                "seller_id": seller.id, "reference_id": env.ref("amazon_fbm_connector.marketplace_us").id,
                "warehouse_id": self.warehouse.id, "export_stock": True})
            env["product.product"].create([{"name": sku, "default_code": sku, "detailed_type": "product"}
                                           for sku in skus])
            cr.commit()  # pylint: disable=invalid-commit
        errors = []
        try:
            run_in_threads({name: (lambda: cron_worker(self.registry, "amazon.stock.offer",
                                                       "_cron_export_stock", errors))
                            for name in ("server-1", "server-2")})
            self.assertFalse(errors, errors)
            sent = [sku for sku, mp, _qty in self.emulator.patch_log if sku in skus]
            self.assertEqual(sorted(sent), sorted(skus), "each SKU sent once, by one server")
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                # (products other tests committed to this database have offers too: theirs
                # are not this race's)
                offers = env["amazon.stock.offer"].search([("marketplace_id", "=", marketplace.id),
                                                           ("sku", "in", skus)])
                self.assertEqual(set(offers.mapped("state")), {"accepted"})
                self.assertEqual(len(offers), len(skus), "one offer per SKU")
        finally:
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["amazon.marketplace"].browse(marketplace.id).export_stock = False
                env["amazon.seller"].browse(seller.id).active = False
                cr.commit()  # pylint: disable=invalid-commit
