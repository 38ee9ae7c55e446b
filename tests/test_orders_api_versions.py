"""The queue flows on Orders API 2026-01-01 with Amazon's v0 reads retired, and
the same flows on v0 (not retired): every order, in its marketplace, to the cent."""
import json
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import DE, UK, US, AmazonCase


@tagged("post_install", "-at_install")
class TestOrdersApi2026Flows(AmazonCase):
    """Seller on 2026-01-01 (the default); the emulator answers v0 reads as after 2027-03-27."""

    api_version = "2026-01-01"
    v0_retired = True

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        self.emulator.v0_reads_retired = self.v0_retired
        self.addCleanup(setattr, self.emulator, "v0_reads_retired", False)
        self.seller.orders_api_version = self.api_version
        journal = self.env["account.journal"].search([("type", "=", "bank"),
                                                      ("company_id", "=", self.company.id)], limit=1)
        self.seller.workflow_id = self.env["amazon.sale.workflow"].create({
            "name": "Confirm + invoice + post", "confirm_order": True, "create_invoice": True,
            "validate_invoice": True, "payment_journal_id": journal.id})

    # ------------------------------------------------------------- helpers
    def story(self, status):
        """Orders of one status in US, DE and UK: discounts, shipping, gift wrap,
        several items, a business buyer with a PO number and VAT id."""
        day = self.now - timedelta(days=2)
        refs = [
            self.add_us_order(status=status, buyer_email="us1@marketplace.amazon.com"),
            self.add_us_order(status=status, buyer_email="us2@marketplace.amazon.com", items=[
                {"sku": "SKU-B", "qty": 3, "price": "45.00", "tax": "3.71"},
                {"sku": "SKU-C", "qty": 1, "price": "9.99", "tax": "0.82", "shipping": "5.99",
                 "shipping_tax": "0.49", "shipping_discount": "5.99"}]),
            self.scenario.add_order(
                marketplace_id=DE, status=status, purchase_date=day, buyer_name="Max Muster",
                buyer_email="de1@marketplace.amazon.com", items=[
                    {"sku": "SKU-EU", "qty": 2, "price": "59.50", "tax": "9.50", "gift_wrap": "2.38",
                     "gift_wrap_tax": "0.38", "gift_message": "Alles Gute", "promotion": "5.95",
                     "promotion_tax": "0.95"}]),
            self.scenario.add_order(
                marketplace_id=DE, status=status, purchase_date=day, buyer_name="Erika Einkauf",
                buyer_email="de2@marketplace.amazon.com", is_business=True,
                buyer_company="Muster GmbH %s" % status, buyer_vat="DE811907980",
                purchase_order_number="PO-4711", items=[
                    {"sku": "SKU-EU", "qty": 5, "price": "119.00", "tax": "19.00"}]),
            self.scenario.add_order(
                marketplace_id=UK, status=status, purchase_date=day, buyer_name="Ada Byron",
                buyer_email="uk1@marketplace.amazon.com", address={"City": "London", "PostalCode": "N1 9GU"},
                items=[{"sku": "SKU-EU", "qty": 1, "price": "24.00", "tax": "4.00", "shipping": "3.60",
                        "shipping_tax": "0.60"}]),
        ]
        return refs

    def wizard(self, operation):
        action = self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": operation,
            "marketplace_ids": [(6, 0, (self.mp_us | self.mp_de | self.mp_uk).ids)],
            "date_from": fields.Datetime.now() - timedelta(days=10),
            "date_to": fields.Datetime.now()}).action_execute()
        self.run_listings()
        return action

    def run_cron(self):
        self.env["amazon.order.queue"]._cron_process_queues()

    def queue_lines(self):
        return self.env["amazon.order.queue.line"].search([("seller_id", "=", self.seller.id)])

    def assertImported(self, refs, shipped):
        orders = self.orders_of(refs)
        self.assertEqual(sorted(orders.mapped("amazon_order_ref")), sorted(refs), "every order, once")
        by_ref = {o.amazon_order_ref: o for o in orders}
        expected_mp = {US: self.mp_us, DE: self.mp_de, UK: self.mp_uk}
        for ref in refs:
            order, amazon = by_ref[ref], self.scenario.orders[ref]["order"]
            self.assertEqual(order.amazon_marketplace_id, expected_mp[amazon["MarketplaceId"]], ref)
            self.assertEqual(order.currency_id.name, amazon["OrderTotal"]["CurrencyCode"], ref)
            self.assertTotal(order, ref)
            self.assertEqual(order.state, "sale")
            self.assertAlmostEqual(order.invoice_ids.amount_total, float(self.amazon_total(ref)), places=2)
            self.assertEqual(order.partner_shipping_id.street, amazon["ShippingAddress"]["AddressLine1"],
                             "the ship-to address came by role")
            self.assertEqual(fields.Datetime.to_string(order.amazon_ship_by_date),
                             amazon["LatestShipDate"].replace("T", " ").rstrip("Z"))
            self.assertEqual(set(order.order_line.mapped("amazon_order_item_id")) - {False},
                             {it["OrderItemId"] for it in self.scenario.orders[ref]["items"]})
            if shipped:
                self.assertEqual(order.picking_ids.state, "done")
            else:
                self.assertNotEqual(order.picking_ids.state, "done")
                self.assertEqual(order.picking_ids.date_deadline, order.amazon_ship_by_date,
                                 "the open delivery is due by Amazon's ship-by date")
        business = orders.filtered(lambda o: o.partner_id.is_company)
        self.assertEqual(len(business), 1)
        self.assertIn("Muster GmbH", business.partner_id.name)
        if self.api_version == "2026-01-01":
            # (v0 hides gift messages from getOrderItems without a Restricted Data Token.)
            gift = orders.filtered("amazon_gift_message")
            self.assertEqual(gift.amazon_gift_message, "Alles Gute")
        self.assertFalse(self.queue_lines().filtered(lambda l: l.state != "done"),
                         self.queue_lines().mapped("message"))

    def assertCalls(self):
        calls = self.emulator.calls
        if self.api_version == "2026-01-01":
            self.assertTrue(calls["searchOrders"])
            for operation in ("createRestrictedDataToken", "getOrders", "getOrderItems", "getOrder",
                              "getOrder2026", "createReport"):
                self.assertFalse(calls[operation], "%s was called: %s" % (operation, dict(calls)))
        else:
            self.assertTrue(calls["getOrders"])
            self.assertFalse(calls["searchOrders"])

    # --------------------------------------------------------------- tests
    def test_shipped_flow(self):
        refs = self.story("Shipped")
        self.story("Unshipped")   # not this flow
        self.wizard("fbm_import_shipped")
        payloads = [json.loads(p) for p in self.queue_lines().mapped("payload")]
        key = "orderId" if self.api_version == "2026-01-01" else "AmazonOrderId"
        self.assertTrue(all(key in p for p in payloads), "queue lines keep what Amazon sent")
        self.run_cron()
        self.assertImported(refs, shipped=True)
        self.assertCalls()

    def test_missing_unshipped_flow(self):
        refs = self.story("Unshipped")
        self.story("Shipped")    # not this flow
        self.build(refs[:1])     # Odoo already has this one
        self.wizard("fbm_import_missing_unshipped")
        self.assertEqual(sorted(self.queue_lines().mapped("amazon_order_ref")), sorted(refs[1:]))
        self.run_cron()
        self.assertImported(refs[1:], shipped=False)
        self.assertEqual(len(self.orders_of(refs)), len(refs))
        self.assertCalls()
        # Run again: nothing new.
        self.wizard("fbm_import_missing_unshipped")
        self.assertEqual(len(self.queue_lines()), len(refs) - 1)

    def test_many_orders_need_no_price_report(self):
        refs = [self.add_us_order(buyer_email="p%d@marketplace.amazon.com" % n) for n in range(25)]
        self.seller.queue_size = 10
        self.wizard("fbm_import_missing_unshipped")
        self.run_cron()
        if self.api_version == "2026-01-01":
            self.assertEqual(len(self.orders_of(refs)), 25, "priced by searchOrders, no report to wait for")
            self.assertEqual(self.emulator.calls["createReport"], 0)
            self.assertEqual(self.emulator.calls["searchOrders"], 1)
        else:
            self.assertEqual(self.emulator.calls["createReport"], 1)
            self.run_cron()
            self.assertEqual(len(self.orders_of(refs)), 25)
        self.assertFalse(self.emulator.calls["getOrderItems"])
        for order in self.orders_of(refs):
            self.assertTotal(order, order.amazon_order_ref)

    def test_throttled_listing_is_ridden_out(self):
        refs = [self.add_us_order(status="Shipped", buyer_email="t%d@marketplace.amazon.com" % n)
                for n in range(3)]
        listing = "searchOrders" if self.api_version == "2026-01-01" else "getOrders"
        self.emulator.fail_next(listing, 4, 429)
        self.wizard("fbm_import_shipped")
        self.run_cron()
        self.assertEqual(self.emulator.calls["fault:%s:429" % listing], 4)
        self.assertEqual(len(self.orders_of(refs)), 3)
        for ref in refs:
            self.assertTotal(self.orders_of([ref]), ref)

    def test_order_without_proceeds_fails_alone(self):
        if self.api_version != "2026-01-01":
            return
        good, bad = self.add_us_order(), self.add_us_order(buyer_email="np@marketplace.amazon.com")
        self.wizard("fbm_import_missing_unshipped")
        line = self.queue_lines().filtered(lambda l: l.amazon_order_ref == bad)
        payload = json.loads(line.payload)
        for item in payload["orderItems"]:
            item.pop("proceeds")
        line.payload = json.dumps(payload)
        self.run_cron()
        self.assertEqual(line.state, "failed")
        self.assertIn("no proceeds", line.message)
        self.assertTrue(self.orders_of([good]))
        self.assertFalse(self.orders_of([bad]))


@tagged("post_install", "-at_install")
class TestOrdersApiV0Flows(TestOrdersApi2026Flows):
    """The same flows with the seller switched to v0, while Amazon still serves it."""

    api_version = "v0"
    v0_retired = False

    def test_v0_after_retirement_tells_the_seller_what_to_do(self):
        self.add_us_order()
        self.emulator.v0_reads_retired = True
        self.wizard("fbm_import_missing_unshipped")
        listing = self.env["amazon.order.listing"].search([("seller_id", "=", self.seller.id)])
        self.assertEqual(listing.state, "failed")
        self.assertIn("2026-01-01", listing.message)
