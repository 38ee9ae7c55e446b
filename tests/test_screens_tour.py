import threading
import time

from odoo import SUPERUSER_ID, api
from odoo.tests import HttpCase, tagged

from .common import AmazonCase

ORDERS = ("904-1111111-0000001", "904-1111111-0000002")


@tagged("post_install", "-at_install")
class TestScreensTour(HttpCase, AmazonCase):
    """Open screens follow the server, in headless Chromium
    (static/src/js/tours/amazon_screens.js): the tour clicks a button that only
    wakes a cron; the test runs that cron while the tour waits, and the open form
    shows the cron's result with no reload."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seller.name = "Screens Seller"
        cls.ups = cls.ups_carrier()
        cls.stock_up()

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        self.seller.action_test_connection()

    def run_cron_when_woken(self, xmlid, model, method, errors, timeout=90):
        """A scheduler in a thread: once the tour's click triggered cron ``xmlid``
        (an ir.cron.trigger row), wait a moment (the form first shows the click's own
        result), then run the cron's method on a cursor of the test (HttpCase's mode:
        the same transaction as the browser's requests)."""
        cron_id = self.env.ref(xmlid).id
        self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron_id)]).unlink()
        self.env.flush_all()

        stop = threading.Event()
        # The test's own thread queries the test cursor directly (authenticate, at the
        # start of start_tour): the scheduler touches it only once the browser runs.
        logged_in = threading.Event()
        authenticate = self.authenticate

        def authenticate_then_signal(*args, **kwargs):
            result = authenticate(*args, **kwargs)
            logged_in.set()
            return result

        self.authenticate = authenticate_then_signal
        self.addCleanup(vars(self).pop, "authenticate", None)

        def scheduler():
            try:
                while not logged_in.wait(0.5):
                    if stop.is_set():
                        return
                if stop.wait(2):
                    return
                deadline = time.time() + timeout
                while time.time() < deadline and not stop.is_set():
                    with self.registry.cursor() as cr:
                        cr.execute("SELECT 1 FROM ir_cron_trigger WHERE cron_id = %s", (cron_id,))
                        woken = cr.fetchone()
                    if woken:
                        break
                    stop.wait(0.5)
                else:
                    errors.append("the click did not wake %s" % xmlid)
                    return
                if stop.wait(3):
                    return
                with self.registry.cursor() as cr:
                    getattr(api.Environment(cr, SUPERUSER_ID, {})[model], method)()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        thread = threading.Thread(target=scheduler, name="screens-scheduler")
        thread.start()
        # a failed tour must not leave the thread on the test's cursor
        self.addCleanup(thread.join, 120)
        self.addCleanup(stop.set)
        return thread

    def test_delivery_form_follows_the_confirmation_cron(self):
        ref = self.add_us_order(order_id=ORDERS[0])
        self.build([ref])
        picking = self.orders_of([ref]).picking_ids
        picking.write({"carrier_id": self.ups.id, "carrier_tracking_ref": "1Z999AA10123456784"})
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        errors = []
        thread = self.run_cron_when_woken("amazon_fbm_connector.ir_cron_amazon_confirm_shipments",
                                          "stock.picking", "_cron_amazon_confirm_shipments", errors)
        self.start_tour("/web#model=stock.picking&id=%d&view_type=form" % picking.id,
                        "amazon_fbm_screens_delivery", login="admin", timeout=180)
        thread.join(120)
        self.assertFalse(errors)
        picking.invalidate_recordset()
        self.assertEqual(picking.amazon_confirm_state, "sent")

    def test_report_form_follows_the_scheduler(self):
        self.add_us_order(order_id=ORDERS[1])
        wizard = self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]})
        request = self.env["amazon.report.request"].browse(wizard.action_execute()["res_id"])
        request.action_check_status()
        request.action_check_status()
        self.assertEqual(request.state, "done")
        errors = []
        thread = self.run_cron_when_woken("amazon_fbm_connector.ir_cron_amazon_report_requests",
                                          "amazon.report.request", "_cron_process_reports", errors)
        self.start_tour("/web#model=amazon.report.request&id=%d&view_type=form" % request.id,
                        "amazon_fbm_screens_report", login="admin", timeout=180)
        thread.join(120)
        self.assertFalse(errors)
        request.invalidate_recordset()
        self.assertEqual(request.state, "processed")

    def test_wording_and_card_run_times(self):
        self.build([self.add_us_order()])
        self.start_tour("/web#action=amazon_fbm_connector.action_amazon_dashboard",
                        "amazon_fbm_screens_wording", login="admin", timeout=180)
