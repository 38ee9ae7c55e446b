from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import HttpCase, tagged

from .common import US, AmazonCase

TOUR_ORDERS = ("902-1111111-0000001", "902-1111111-0000002")


@tagged("post_install", "-at_install")
class TestSellerDayTour(HttpCase, AmazonCase):
    """A seller's day, clicked through in headless Chromium against the SP-API
    emulator (static/src/js/tours/amazon_seller_day.js): an unshipped import, a
    delivery confirmed to Amazon, a stock export and a cancellation sent to Amazon.
    Between the tour's parts the test runs the crons the clicks woke up."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seller.name = "Tour Seller"
        (cls.mp_de | cls.mp_uk).active = False
        cls.mp_us.export_stock = True
        cls.ups_carrier()
        cls.stock_up()   # for the delivery the tour validates

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        self.add_us_order(order_id=TOUR_ORDERS[0])
        self.add_us_order(order_id=TOUR_ORDERS[1], items=[
            {"sku": "SKU-B", "qty": 1, "price": "10.00", "tax": "0.83"}])
        for sku in ("SKU-A", "SKU-B", "SKU-C", "SKU-D"):
            self.emulator.add_listing(sku, US, product_type="HOME", quantity=99, lead_time=3)
        self.seller.action_test_connection()

    def run_cron(self, model, method, passes=1):
        """A cron's pass on a test cursor (HttpCase's mode): its commits are savepoints."""
        self.env.flush_all()
        for _n in range(passes):
            with self.registry.cursor() as cr:
                getattr(api.Environment(cr, SUPERUSER_ID, {})[model], method)()
        self.env.invalidate_all()

    def stock_triggers(self):
        cron = self.env.ref("amazon_fbm_connector.ir_cron_amazon_stock_export")
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])

    def test_seller_day(self):
        triggers = self.stock_triggers()
        self.start_tour("/web", "amazon_fbm_seller_day", login="admin", timeout=180)
        request = self.env["amazon.report.request"].search([("seller_id", "=", self.seller.id)])
        self.assertEqual((request.state, request.auto_process), ("done", True), "handed to the scheduler")
        self.assertFalse(self.orders_of(TOUR_ORDERS), "the click imported nothing itself")
        self.assertGreater(self.stock_triggers(), triggers, "Export Stock woke the stock export")
        self.assertEqual(self.emulator.listing_quantity("SKU-A", US), 99, "the click sent nothing itself")
        # the scheduler's pass, then the stock export's (first pass: the offers and Amazon's
        # product types; the quantities of the imported orders are held back)
        self.run_cron("amazon.report.request", "_cron_process_reports")
        self.run_cron("amazon.stock.offer", "_cron_export_stock", passes=2)
        self.assertEqual(self.emulator.listing_quantity("SKU-A", US), 48, "50 on hand, 2 ordered")
        self.assertEqual(self.emulator.listing_quantity("SKU-B", US), 49, "50 on hand, 1 ordered")
        menu = self.env.ref("amazon_fbm_connector.menu_amazon_root")
        self.start_tour("/web#model=amazon.report.request&id=%d&view_type=form&menu_id=%d" % (request.id, menu.id),
                        "amazon_fbm_seller_day_orders", login="admin", timeout=180)
        orders = self.orders_of(TOUR_ORDERS)
        self.assertEqual(len(orders), 2)
        order = orders.filtered(lambda o: o.amazon_order_ref == TOUR_ORDERS[0])
        picking = order.picking_ids
        self.assertEqual(picking.state, "done", "the tour validated the delivery")
        self.assertEqual(picking.amazon_confirm_state, "sent")
        [package] = self.emulator.packages(TOUR_ORDERS[0]).values()
        self.assertEqual(package["trackingNumber"], "1Z999AA10123456784")
        self.assertEqual(package["carrierCode"], "UPS")
        request = self.env["amazon.report.request"].search([("seller_id", "=", self.seller.id)])
        self.assertEqual(request.state, "processed")
        # the tour asked Amazon to cancel the other order: the feed, Amazon's report read back
        cancelled = orders - order
        self.assertEqual((cancelled.state, cancelled.amazon_cancel_state), ("sale", "to_send"))
        self.run_cron("sale.order", "_cron_send_cancellations", passes=4)
        self.assertEqual(cancelled.amazon_cancel_state, "accepted")
        self.assertEqual(cancelled.state, "cancel")
        self.assertEqual(self.scenario.orders[TOUR_ORDERS[1]]["cancellation"]["reason"],
                         "ShippingAddressUndeliverable", "the reason chosen in the wizard")
        # the cancelled order's unit is free again: the next export gives it back to Amazon
        self.run_cron("amazon.stock.offer", "_cron_export_stock", passes=2)
        self.assertEqual(self.emulator.listing_quantity("SKU-B", US), 50)
        self.start_tour("/web#model=sale.order&id=%d&view_type=form&menu_id=%d" % (cancelled.id, menu.id),
                        "amazon_fbm_seller_day_cancelled", login="admin", timeout=180)


FIRST_WEEK_ORDERS = ("903-1111111-0000001", "903-1111111-0000002", "903-1111111-0000003")


@tagged("post_install", "-at_install")
class TestFirstWeekTour(HttpCase, AmazonCase):
    """Ship-by and the check before validating, in headless Chromium
    (static/src/js/tours/amazon_first_week.js)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stock_up()

    def setUp(self):
        super().setUp()
        from ..services import delivery
        self.scenario.orders.clear()
        to_ship, shipped, late = FIRST_WEEK_ORDERS
        self.add_us_order(order_id=to_ship)
        self.add_us_order(order_id=shipped, status="Shipped")
        self.add_us_order(order_id=late)
        self.build([to_ship, late])
        [res] = self.build([shipped], shipped=True)
        delivery.deliver(res.sale_order)
        self.orders_of([late]).amazon_ship_by_date = fields.Datetime.now() - timedelta(hours=3)
        self.orders_of([to_ship]).amazon_ship_by_date = fields.Datetime.now() + timedelta(days=2)

    def test_first_week(self):
        self.start_tour("/web#action=amazon_fbm_connector.action_amazon_fbm_orders", "amazon_fbm_first_week", login="admin", timeout=180)
        picking = self.orders_of(FIRST_WEEK_ORDERS[:1]).picking_ids
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.carrier_id.name, "Royal Mail")
        self.assertEqual(picking.carrier_tracking_ref, "RM123456785GB")
        self.assertEqual(picking.amazon_confirm_state, "to_send")
