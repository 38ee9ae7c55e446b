import json
from datetime import datetime, timedelta
from urllib.parse import quote

from odoo import fields
from odoo.tests import tagged
from odoo.tools.misc import format_datetime

from ..models.amazon_refresh_mixin import REFRESH_CHANNEL, REFRESH_TYPE
from .common import AmazonCase


@tagged("post_install", "-at_install")
class TestScreensBus(AmazonCase):
    """Open screens follow the server (amazon.refresh.mixin): which bus messages a
    change sends, when, and to whom."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ups = cls.ups_carrier()
        cls.stock_up()

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()

    # ------------------------------------------------------------- helpers
    def last_bus_id(self):
        self.env.cr.commit()  # pylint: disable=invalid-commit  # a savepoint of the test cursor
        return self.env["bus.bus"].sudo()._bus_last_id()

    def refresh_messages(self, since):
        """[(channel, payload)] of the refresh messages written after bus id ``since``."""
        rows = self.env["bus.bus"].sudo().search([("id", ">", since)], order="id")
        messages = []
        for row in rows:
            message = json.loads(row.message)
            if message["type"] == REFRESH_TYPE:
                messages.append((json.loads(row.channel), message["payload"]))
        return messages

    def of_model(self, messages, model):
        return [payload["ids"] for channel, payload in messages if payload["model"] == model]

    def amazon_pickings(self, count):
        refs = [self.add_us_order() for _ in range(count)]
        self.build(refs)
        return self.orders_of(refs).picking_ids

    # --------------------------------------------------------------- tests
    def test_one_message_per_model_and_commit_amazon_deliveries_only(self):
        pickings = self.amazon_pickings(2)
        self.assertEqual(len(pickings), 2)
        other = self.env["stock.picking"].create({
            "picking_type_id": self.warehouse.out_type_id.id,
            "partner_id": self.env["res.partner"].create({"name": "A walk-in customer"}).id})
        since = self.last_bus_id()
        pickings[0].amazon_confirm_message = "first write"
        self.env.flush_all()
        pickings[1].amazon_confirm_message = "second write"
        other.note = "not an Amazon delivery"
        self.env.flush_all()
        self.assertFalse(self.refresh_messages(since), "nothing is sent before the commit")
        self.env.cr.commit()  # pylint: disable=invalid-commit  # a savepoint of the test cursor
        messages = self.refresh_messages(since)
        self.assertEqual(self.of_model(messages, "stock.picking"), [sorted(pickings.ids)],
                         "one message for the transaction, the Amazon deliveries only")
        [channel] = {tuple(c) for c, p in messages}
        self.assertEqual(channel, (self.env.cr.dbname, "res.company", self.company.id, REFRESH_CHANNEL))

    def test_rolled_back_changes_send_nothing(self):
        pickings = self.amazon_pickings(1)
        since = self.last_bus_id()
        pickings.amazon_confirm_message = "rolled back"
        self.env.flush_all()
        self.env.cr.rollback()
        self.env.cr.commit()  # pylint: disable=invalid-commit  # a savepoint of the test cursor
        self.assertFalse(self.refresh_messages(since))

    def test_confirmation_cron_refreshes_the_delivery(self):
        picking = self.amazon_pickings(1)
        picking.write({"carrier_id": self.ups.id, "carrier_tracking_ref": "1Z999AA10123456784"})
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        picking.with_context(skip_backorder=True).button_validate()
        self.assertEqual(picking.amazon_confirm_state, "to_send")
        since = self.last_bus_id()
        self.env["stock.picking"]._cron_amazon_confirm_shipments()
        picking.invalidate_recordset()
        self.assertEqual(picking.amazon_confirm_state, "sent")
        self.assertIn([picking.id], self.of_model(self.refresh_messages(since), "stock.picking"))

    def test_queue_cron_one_message_per_batch(self):
        refs = [self.add_us_order(status="Shipped") for _ in range(3)]
        self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_shipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)],
            "date_from": fields.Datetime.now() - timedelta(days=10),
            "date_to": fields.Datetime.now()}).action_execute()
        self.run_listings()
        queue = self.env["amazon.order.queue"].search([("seller_id", "=", self.seller.id)])
        self.assertEqual(len(queue), 1)
        self.assertEqual(len(queue.line_ids), 3)
        since = self.last_bus_id()
        self.env["amazon.order.queue"]._cron_process_queues()
        self.assertEqual(queue.state, "done")
        self.assertEqual(len(self.orders_of(refs)), 3)
        queues = self.of_model(self.refresh_messages(since), "amazon.order.queue")
        self.assertTrue(queues, "the open queue reloads")
        self.assertTrue(all(ids == [queue.id] for ids in queues), queues)
        self.assertLess(len(queues), 3 + 1, "per batch, not per line")
        # the dashboard's cards of the seller ("Queues in progress")
        self.assertIn(sorted(self.seller.marketplace_ids.ids),
                      self.of_model(self.refresh_messages(since), "amazon.marketplace"))

    def test_connection_state_refreshes_seller_and_cards(self):
        since = self.last_bus_id()
        self.seller.action_test_connection()
        self.env.cr.commit()  # pylint: disable=invalid-commit  # a savepoint of the test cursor
        messages = self.refresh_messages(since)
        self.assertEqual(self.of_model(messages, "amazon.seller"), [[self.seller.id]])
        self.assertEqual(self.of_model(messages, "amazon.marketplace"), [sorted(self.seller.marketplace_ids.ids)])

    def test_report_processing_refreshes_the_report(self):
        self.add_us_order()
        request = self.env["amazon.report.request"].browse(self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]}).action_execute()["res_id"])
        request.action_check_status()
        request.action_check_status()
        self.assertEqual(request.state, "done")
        request.action_process_file()
        since = self.last_bus_id()
        self.env["amazon.report.request"]._cron_process_reports()
        request.invalidate_recordset()
        self.assertEqual(request.state, "processed", request.message)
        self.assertIn([request.id], self.of_model(self.refresh_messages(since), "amazon.report.request"))


@tagged("post_install", "-at_install")
class TestScreensWording(AmazonCase):
    """What the screens say: empty states under filters, the Amazon Tax Problems
    filter, files and counts in words, the runs on every dashboard card."""

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()

    def test_empty_states_do_not_say_yet_where_records_exist(self):
        help_text = self.env.ref("amazon_fbm_connector.action_amazon_fbm_orders").help
        self.assertIn("No order matches these filters", help_text)
        self.assertNotIn("yet", help_text)
        for xmlid in ("action_amazon_order_queue", "action_amazon_return", "action_amazon_settlement",
                      "action_amazon_settlement_line",
                      "action_amazon_stock_offer", "action_amazon_notifications",
                      "action_amazon_order_listing", "action_amazon_carrier_code"):
            help_text = self.env.ref("amazon_fbm_connector.%s" % xmlid).help
            self.assertIn("match", help_text, xmlid)
            self.assertIn("to show", help_text, xmlid)

    def test_tax_problems_filter_in_fbm_orders(self):
        view = self.env.ref("amazon_fbm_connector.sale_order_view_search_amazon_fbm")
        arch = self.env["sale.order"].get_views([(view.id, "search")])["views"]["search"]["arch"]
        self.assertIn('name="amazon_tax_problem"', arch)
        self.assertIn("Amazon Tax Problems", arch)
        order_ref = self.add_us_order()
        self.build([order_ref])
        order = self.orders_of([order_ref])
        order.amazon_tax_problem = "Amazon's tax differs"
        found = self.env["sale.order"].search([("amazon_tax_problem", "!=", False),
                                               ("amazon_seller_id", "=", self.seller.id)])
        self.assertEqual(found, order)

    def test_report_file_named_in_words(self):
        self.add_us_order()
        request = self.env["amazon.report.request"].browse(self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]}).action_execute()["res_id"])
        request.action_check_status()
        request.action_check_status()
        request.action_download_report()
        name = request.attachment_id.name
        self.assertNotIn("GET_FLAT_FILE", name)
        self.assertIn(fields.Date.to_string(fields.Date.context_today(request)), name)
        self.assertTrue(name.endswith((".tsv", ".tsv.gz")), name)
        self.assertIn("Amazon.com", name)
        self.assertIn(quote(name), request._download_url(), "downloaded under the name it is kept")

    def test_counts_in_words(self):
        message = self.seller.action_test_connection()["params"]["message"]
        self.assertRegex(message, r"participates in (one marketplace|\d+ marketplaces)\.")
        self.assertNotIn("(s)", message)
        queue = self.env["amazon.order.queue"].create({
            "seller_id": self.seller.id, "marketplace_id": self.mp_us.id, "flow": "shipped"})
        self.env["amazon.order.queue.line"].create({
            "queue_id": queue.id, "amazon_order_ref": "111-0000000-0000001", "payload": "{}"})
        self.assertEqual(queue._action_open_made("fbm_import_shipped")["name"], "1 Order Queued")
        self.assertIn("Orders waiting for the scheduler: 1.", queue.summary)
        field = self.env["amazon.seller"]._fields["notification_safety_cursor"]
        self.assertNotIn("lastUpdatedAfter", field.help)

    def test_every_card_shows_its_schedules(self):
        cron = self.env.ref("amazon_fbm_connector.ir_cron_amazon_confirm_shipments")
        cron.lastcall = datetime(2026, 12, 7, 9, 30)
        cron._trigger(at=fields.Datetime.now() + timedelta(minutes=1))
        self.mp_us.export_stock = True
        self.mp_de.export_stock = False
        marketplaces = self.seller.marketplace_ids
        marketplaces.invalidate_recordset()
        self.assertGreater(len(marketplaces), 1)
        for mp in marketplaces:
            for name in ("dashboard_flow_unshipped", "dashboard_flow_shipped", "dashboard_flow_missing",
                         "dashboard_run_status_sync", "dashboard_run_confirmations", "dashboard_run_stock",
                         "dashboard_run_settlements", "dashboard_run_returns"):
                self.assertTrue(mp[name], (mp.name, name))
            last, nxt = mp.dashboard_run_confirmations.split(" / ")
            self.assertEqual(last, format_datetime(self.env, cron.lastcall, dt_format="short"))
            self.assertNotEqual(nxt, "never")
        self.assertIn(" / ", self.mp_us.dashboard_run_stock)
        self.assertEqual(self.mp_de.dashboard_run_stock, "off")
