from odoo.exceptions import UserError
from odoo.tests import tagged

from ..services import delivery
from .common import AmazonCase


@tagged("post_install", "-at_install")
class TestShipmentConfirmation(AmazonCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        ship_product = env["product.product"].create({"name": "Carrier fee", "detailed_type": "service"})
        Carrier = env["delivery.carrier"]
        cls.ups = Carrier.create({"name": "UPS Ground", "product_id": ship_product.id})
        cls.royal = Carrier.create({"name": "Royal Mail", "product_id": ship_product.id})
        cls.speedy = Carrier.create({"name": "Speedy Parcels", "product_id": ship_product.id})
        # a kit of C + 2 x D
        cls.kit = env["product.product"].create({
            "name": "Gift kit", "default_code": "SKU-KIT", "detailed_type": "consu",
            "taxes_id": [(6, 0, cls.tax_us.ids)]})
        env["mrp.bom"].create({
            "product_tmpl_id": cls.kit.product_tmpl_id.id, "product_qty": 1, "type": "phantom",
            "bom_line_ids": [(0, 0, {"product_id": cls.products["SKU-C"].id, "product_qty": 1}),
                             (0, 0, {"product_id": cls.products["SKU-D"].id, "product_qty": 2})]})

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()

    # ------------------------------------------------------------- helpers
    def import_order(self, items=None, **kw):
        ref = self.add_us_order(items=items, **kw) if items else self.add_us_order(**kw)
        [res] = self.build([ref])
        self.assertEqual(res.state, "created", res.message)
        return ref, res.sale_order

    def ship(self, picking, quantities=None, carrier=None, tracking="1Z999AA10123456784"):
        """Validate a delivery like a warehouse user: carrier, tracking, quantities."""
        picking.write({"carrier_id": (carrier or self.ups).id, "carrier_tracking_ref": tracking})
        for move in picking.move_ids.filtered(lambda m: m.state != "cancel"):
            move.quantity = (quantities or {}).get(move.product_id, move.product_uom_qty)
            move.picked = True
        # without a tracking number: the seller chose "Validate Without" at the check
        picking.with_context(skip_backorder=True, amazon_skip_shipping_check=not tracking).button_validate()
        self.assertEqual(picking.state, "done")
        return picking

    def send(self):
        return self.env["stock.picking"]._cron_amazon_confirm_shipments()

    def amazon(self, ref):
        return self.scenario.orders[ref]

    def item_ids(self, ref):
        return [i["OrderItemId"] for i in self.amazon(ref)["items"]]

    def open_delivery(self, so):
        return so.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))

    # ---------------------------------------------------------------- tests
    def test_validated_delivery_makes_amazon_show_shipped(self):
        ref, so = self.import_order()
        picking = self.ship(so.picking_ids)
        self.assertEqual(picking.amazon_confirm_state, "to_send")
        self.assertEqual(self.amazon(ref)["order"]["OrderStatus"], "Unshipped", "sent by the cron, not at once")
        self.assertEqual(self.send(), 1)
        self.assertEqual(picking.amazon_confirm_state, "sent", picking.amazon_confirm_message)
        self.assertTrue(picking.amazon_confirm_date)
        order = self.amazon(ref)["order"]
        self.assertEqual(order["OrderStatus"], "Shipped")
        [package] = self.emulator.packages(ref).values()
        self.assertEqual(package["packageReferenceId"], str(picking.id))
        self.assertEqual(package["carrierCode"], "UPS")     # "UPS Ground": named like a code
        self.assertEqual(package["shippingMethod"], "UPS Ground")
        self.assertEqual(package["trackingNumber"], "1Z999AA10123456784")
        self.assertEqual(package["orderItems"], [{"orderItemId": self.item_ids(ref)[0], "quantity": 2}])
        # nothing left to send; a second cron run calls Amazon no more
        self.assertEqual(self.send(), 0)
        self.assertEqual(self.emulator.calls["confirmShipment"], 1)
        self.assertEqual(so.amazon_shipment_state, "sent")

    def test_two_partial_deliveries_two_packages(self):
        ref, so = self.import_order(items=[
            {"sku": "SKU-A", "qty": 3, "price": "30.00", "tax": "2.48"},
            {"sku": "SKU-B", "qty": 1, "price": "10.00", "tax": "0.83"}])
        item_a, item_b = self.item_ids(ref)
        first = self.ship(so.picking_ids, {self.products["SKU-A"]: 1, self.products["SKU-B"]: 0},
                          tracking="TRACK-1")
        second = self.open_delivery(so)
        self.assertEqual(len(second), 1, "a backorder for the rest")
        self.send()
        self.assertEqual(first.amazon_confirm_state, "sent", first.amazon_confirm_message)
        self.assertEqual(self.amazon(ref)["order"]["OrderStatus"], "PartiallyShipped")
        self.ship(second, carrier=self.royal, tracking="TRACK-2")
        self.send()
        self.assertEqual(second.amazon_confirm_state, "sent", second.amazon_confirm_message)
        packages = self.emulator.packages(ref)
        self.assertEqual(sorted(packages), sorted([str(first.id), str(second.id)]))
        self.assertEqual(packages[str(first.id)]["orderItems"], [{"orderItemId": item_a, "quantity": 1}])
        self.assertEqual(sorted(packages[str(second.id)]["orderItems"], key=lambda i: i["orderItemId"]),
                         [{"orderItemId": item_a, "quantity": 2}, {"orderItemId": item_b, "quantity": 1}])
        self.assertEqual(packages[str(second.id)]["carrierCode"], "Royal Mail")
        self.assertEqual(self.amazon(ref)["order"]["OrderStatus"], "Shipped")
        # Orders API 2026-01-01 tells the same: two packages, the order shipped
        order = self.seller._get_client().orders().get_order(ref, ("PACKAGES", "FULFILLMENT"))
        self.assertEqual(order["fulfillment"]["fulfillmentStatus"], "SHIPPED")
        self.assertEqual([(p["packageReferenceId"], p["carrier"], p["trackingNumber"]) for p in order["packages"]],
                         [(str(first.id), "UPS", "TRACK-1"), (str(second.id), "Royal Mail", "TRACK-2")])
        # a re-send edits the same package on Amazon (no third package)
        second.carrier_tracking_ref = "TRACK-2B"
        second.action_amazon_send_confirmation()
        self.assertEqual(len(self.emulator.packages(ref)), 2)
        self.assertEqual(self.emulator.packages(ref)[str(second.id)]["trackingNumber"], "TRACK-2B")

    def test_kit_item_ships_when_all_components_shipped(self):
        ref, so = self.import_order(items=[
            {"sku": "SKU-KIT", "qty": 1, "price": "40.00", "tax": "3.30"},
            {"sku": "SKU-A", "qty": 1, "price": "10.00", "tax": "0.83"}])
        kit_item, a_item = self.item_ids(ref)
        c, d, a = self.products["SKU-C"], self.products["SKU-D"], self.products["SKU-A"]
        self.assertEqual(sorted(so.picking_ids.move_ids.product_id.ids), sorted((a | c | d).ids))
        first = self.ship(so.picking_ids, {c: 1, d: 1, a: 1}, tracking="KIT-1")   # one D of two
        self.send()
        self.assertEqual(self.emulator.packages(ref)[str(first.id)]["orderItems"],
                         [{"orderItemId": a_item, "quantity": 1}], "the kit is not complete yet")
        second = self.ship(self.open_delivery(so), tracking="KIT-2")
        self.send()
        self.assertEqual(self.emulator.packages(ref)[str(second.id)]["orderItems"],
                         [{"orderItemId": kit_item, "quantity": 1}])
        self.assertEqual(self.amazon(ref)["order"]["OrderStatus"], "Shipped")

    def test_unmapped_carrier_goes_as_other_with_its_name(self):
        ref, so = self.import_order()
        picking = self.ship(so.picking_ids, carrier=self.speedy, tracking="SP-123")
        self.send()
        self.assertEqual(picking.amazon_confirm_state, "sent", picking.amazon_confirm_message)
        package = self.emulator.packages(ref)[str(picking.id)]
        self.assertEqual((package["carrierCode"], package["carrierName"]), ("Other", "Speedy Parcels"))

    def test_mapped_carrier_uses_the_table(self):
        self.env.ref("amazon_fbm_connector.carrier_code_dpd").carrier_ids = [(4, self.speedy.id)]
        ref, so = self.import_order()
        picking = self.ship(so.picking_ids, carrier=self.speedy)
        self.send()
        self.assertEqual(self.emulator.packages(ref)[str(picking.id)]["carrierCode"], "DPD")

    def test_refused_confirmation_shows_amazon_message_then_succeeds(self):
        # A code typed wrong in the editable table: Amazon refuses it.
        wrong = self.env["amazon.carrier.code"].create({"code": "UPSS", "carrier_ids": [(4, self.ups.id)]})
        ref, so = self.import_order()
        picking = self.ship(so.picking_ids)
        self.send()
        self.assertEqual(picking.amazon_confirm_state, "failed")
        self.assertIn("Invalid carrierCode 'UPSS'", picking.amazon_confirm_message)
        self.assertIn("Amazon > Configuration > Carrier Codes", picking.amazon_confirm_message)
        self.assertFalse(self.emulator.packages(ref))
        failed = self.env["stock.picking"].search(
            [("amazon_confirm_state", "=", "failed")] + [("id", "=", picking.id)])
        self.assertEqual(failed, picking, "listed among failed confirmations")
        self.send()
        self.assertEqual(self.emulator.calls["confirmShipment"], 1, "a refusal waits for the seller")
        wrong.carrier_ids = [(5,)]     # the fix: "UPS Ground" is named like Amazon's UPS
        picking.action_amazon_send_confirmation()
        self.assertEqual(picking.amazon_confirm_state, "sent", picking.amazon_confirm_message)
        self.assertEqual(self.amazon(ref)["order"]["OrderStatus"], "Shipped")

    def test_missing_tracking_number_says_what_to_fix(self):
        ref, so = self.import_order()
        picking = self.ship(so.picking_ids, tracking=False)
        self.send()
        self.assertEqual(picking.amazon_confirm_state, "failed")
        self.assertIn("Enter the tracking number", picking.amazon_confirm_message)
        self.assertEqual(self.emulator.calls["confirmShipment"], 0, "not sent: Amazon would refuse it")
        picking.carrier_tracking_ref = "1ZFIXED"
        picking.action_amazon_send_confirmation()
        self.assertEqual(picking.amazon_confirm_state, "sent")
        self.assertEqual(self.emulator.packages(ref)[str(picking.id)]["trackingNumber"], "1ZFIXED")

    def test_quantity_already_shipped_on_amazon(self):
        ref, so = self.import_order()
        picking = self.ship(so.picking_ids)
        self.scenario.orders[ref]["packages"] = {"999": {
            "packageReferenceId": "999", "carrierCode": "USPS", "carrierName": "", "shippingMethod": "",
            "trackingNumber": "X", "shipDate": "2026-01-01T00:00:00Z", "createdTime": "2026-01-01T00:00:00Z",
            "orderItems": [{"orderItemId": self.item_ids(ref)[0], "quantity": 2}]}}
        self.send()
        self.assertEqual(picking.amazon_confirm_state, "failed")
        self.assertIn("exceeds the quantity left to ship", picking.amazon_confirm_message)
        self.assertIn("Amazon already counts these items as shipped", picking.amazon_confirm_message)
        picking.action_amazon_confirmation_not_needed()
        self.assertEqual(picking.amazon_confirm_state, "not_needed")

    def test_transient_failures_retry_with_backoff_then_wait(self):
        ref, so = self.import_order()
        picking = self.ship(so.picking_ids)
        self.emulator.fail_next("confirmShipment", count=100, status=503)
        self.send()
        self.assertEqual(picking.amazon_confirm_state, "to_send")
        self.assertEqual(picking.amazon_confirm_attempts, 1)
        self.assertTrue(picking.amazon_confirm_next_try)
        self.send()
        self.assertEqual(picking.amazon_confirm_attempts, 1, "not retried before its next try")
        for _attempt in range(5):
            picking.amazon_confirm_next_try = False
            self.send()
        self.assertEqual(picking.amazon_confirm_state, "failed")
        self.assertIn("Send to Amazon", picking.amazon_confirm_message)
        self.emulator.reset_state()
        picking.action_amazon_send_confirmation()
        self.assertEqual(picking.amazon_confirm_state, "sent")

    def test_shipped_flow_order_is_never_confirmed(self):
        ref = self.add_us_order(status="Shipped")
        [res] = self.build([ref], shipped=True)
        so = res.sale_order
        delivery.deliver(so)
        picking = so.picking_ids
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.amazon_confirm_state, "not_needed")
        self.send()
        self.assertEqual(self.emulator.calls["confirmShipment"], 0)

    def test_order_amazon_reports_shipped_is_not_confirmed(self):
        ref, so = self.import_order()
        self.scenario.set_status(ref, "Shipped")     # label bought on Amazon
        self.seller._sync_order_status()
        self.assertEqual(so.amazon_status, "Shipped")
        picking = self.ship(so.picking_ids)
        self.assertEqual(picking.amazon_confirm_state, "not_needed")
        self.send()
        self.assertEqual(self.emulator.calls["confirmShipment"], 0)

    def test_non_amazon_delivery_untouched(self):
        so = self.env["sale.order"].create({
            "partner_id": self.env["res.partner"].create({"name": "Shop buyer"}).id,
            "order_line": [(0, 0, {"product_id": self.products["SKU-A"].id, "product_uom_qty": 1})]})
        so.action_confirm()
        picking = self.ship(so.picking_ids)
        self.assertFalse(picking.amazon_confirm_state)
        with self.assertRaises(UserError):
            picking.action_amazon_send_confirmation()
