"""A seller's first week (issue 21): ship-by dates, marketplaces that keep their
orders, no messages to Amazon buyers, the check before validating, revenue in
the sales analysis, configuration that says what is wrong."""
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from ..services.normalize import parse_datetime
from .common import DE, AmazonCase


class FirstWeekCase(AmazonCase):

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()

    def import_order(self, **kw):
        ref = self.add_us_order(**kw)
        [res] = self.build([ref])
        self.assertEqual(res.state, "created", res.message)
        return ref, res.sale_order

    def ship_by_of(self, ref):
        return parse_datetime(self.scenario.orders[ref]["order"]["LatestShipDate"])

    def fill(self, picking):
        for move in picking.move_ids.filtered(lambda m: m.state != "cancel"):
            move.quantity = move.product_uom_qty
            move.picked = True


@tagged("post_install", "-at_install")
class TestShipByDates(FirstWeekCase):

    def run_unshipped_report(self, days=30):
        # (another window each time: the same window again is cancelled as a duplicate)
        wizard = self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)],
            "date_from": fields.Datetime.now() - timedelta(days=days)})
        request = self.env["amazon.report.request"].browse(wizard.action_execute()["res_id"])
        request.action_check_status()
        request.action_check_status()
        self.process_file(request)
        self.assertEqual(request.state, "processed", request.message)
        return request

    def test_unshipped_report_promise_date_is_the_ship_by_date(self):
        ref = self.add_us_order()
        self.run_unshipped_report()
        order = self.orders_of([ref])
        ship_by = self.ship_by_of(ref)
        self.assertEqual(order.amazon_ship_by_date, ship_by, "the report's promise-date")
        picking = order.picking_ids
        self.assertEqual(picking.date_deadline, ship_by, "the delivery's deadline is Amazon's ship-by date")
        self.assertEqual(picking.scheduled_date, ship_by)
        self.assertEqual(picking.amazon_ship_by_date, ship_by)
        # Amazon moves the ship-by date (e.g. the seller extended it): the next report says so
        later = self.now + timedelta(days=5)
        self.scenario.orders[ref]["order"]["LatestShipDate"] = later.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.run_unshipped_report(days=29)
        later = later.replace(tzinfo=None)
        self.assertEqual(order.amazon_ship_by_date, later)
        self.assertEqual(picking.date_deadline, later)
        self.assertEqual(picking.scheduled_date, later)

    def test_orders_api_ship_by_date_is_the_delivery_deadline(self):
        ref, order = self.import_order()
        ship_by = self.ship_by_of(ref)
        self.assertEqual(order.amazon_ship_by_date, ship_by)
        self.assertEqual(order.picking_ids.date_deadline, ship_by)
        self.assertEqual(order.picking_ids.scheduled_date, ship_by)

    def test_time_to_ship(self):
        _ref, order = self.import_order()
        now = fields.Datetime.now()
        order.amazon_ship_by_date = now + timedelta(days=1, hours=3, minutes=5)
        self.assertEqual(order.amazon_time_to_ship, "1 d 3 h left")
        self.env.invalidate_all()
        [values] = order.picking_ids.web_read({"amazon_time_to_ship": {}, "amazon_ship_by_date": {},
                                               "state": {}, "carrier_id": {}})
        self.assertEqual(values["amazon_time_to_ship"], "1 d 3 h left", "shown on the delivery too")
        order.amazon_ship_by_date = now - timedelta(hours=5, minutes=1)
        order.invalidate_recordset(["amazon_time_to_ship"])
        self.assertEqual(order.amazon_time_to_ship, "late by 5 h")
        self.assertTrue(order.amazon_late)
        # shipped: "shipped", not "ship by ... ago"
        picking = order.picking_ids
        picking.write({"carrier_id": self.env["delivery.carrier"].create({
            "name": "UPS", "product_id": self.env.ref("amazon_fbm_connector.product_amazon_shipping").id}).id,
            "carrier_tracking_ref": "1Z1"})
        self.fill(picking)
        picking.with_context(skip_backorder=True).button_validate()
        self.assertEqual(picking.state, "done")
        order.invalidate_recordset(["amazon_time_to_ship", "delivery_status"])
        self.assertEqual(order.amazon_time_to_ship, "shipped")
        order.amazon_status = "Shipped"
        self.assertEqual(order.amazon_time_to_ship, "shipped")


@tagged("post_install", "-at_install")
class TestMarketplaceArchive(FirstWeekCase):

    def test_marketplace_with_orders_is_archived_not_deleted(self):
        _ref, order = self.import_order()
        with self.assertRaisesRegex(UserError, "Archive it instead"):
            self.mp_us.unlink()
        self.mp_us.action_archive()
        self.assertFalse(self.mp_us.active)
        self.assertEqual(order.amazon_marketplace_id, self.mp_us, "the order keeps its marketplace")
        self.seller.invalidate_recordset(["marketplace_ids"])
        self.assertNotIn(self.mp_us, self.seller.marketplace_ids, "archived: not imported any more")

    def test_marketplace_nothing_refers_to_is_deleted(self):
        unused = self.env["amazon.marketplace"].create({
            "seller_id": self.seller.id, "reference_id": self.env.ref("amazon_fbm_connector.marketplace_ca").id})
        unused.unlink()
        self.assertFalse(unused.exists())


@tagged("post_install", "-at_install")
class TestNoBuyerContact(FirstWeekCase):

    def notified(self, partner, since):
        return self.env["mail.notification"].sudo().search([
            ("res_partner_id", "=", partner.id), ("mail_message_id", ">", since)])

    def last_message(self):
        return self.env["mail.message"].sudo().search([], order="id desc", limit=1).id

    def validate(self, picking):
        picking.write({"carrier_id": self.env["delivery.carrier"].create({
            "name": "UPS", "product_id": self.env.ref("amazon_fbm_connector.product_amazon_shipping").id}).id,
            "carrier_tracking_ref": "1Z1"})
        self.fill(picking)
        return picking.with_context(skip_backorder=True).button_validate()

    def test_delivery_and_order_mails_skip_the_amazon_buyer(self):
        self.company.stock_move_email_validation = True
        _ref, order = self.import_order(buyer_email="buyer1@marketplace.amazon.com")
        buyer = order.partner_id
        since = self.last_message()
        self.validate(order.picking_ids)
        order._send_order_confirmation_mail()
        order.message_post(body="Your order", message_type="comment", subtype_xmlid="mail.mt_comment",
                           partner_ids=buyer.ids)
        self.assertFalse(self.notified(buyer, since), "no e-mail to the Amazon buyer")
        # the seller opts in for the marketplace: Odoo's mails reach the buyer again
        self.mp_us.contact_buyers = True
        since = self.last_message()
        order.message_post(body="Your order", message_type="comment", subtype_xmlid="mail.mt_comment",
                           partner_ids=buyer.ids)
        self.assertTrue(self.notified(buyer, since))

    def test_no_sms_to_the_amazon_buyer(self):
        if "confirm.stock.sms" not in self.env:
            self.skipTest("stock_sms is not installed")
        self.company.stock_move_sms_validation = True
        self.mp_us.contact_buyers = True    # e-mail allowed; SMS never
        _ref, order = self.import_order()
        buyer = order.partner_id
        buyer.phone = "+1 555 0100"
        picking = order.picking_ids
        # stock_sms asks "confirm by SMS?" outside tests; pretend it would
        with patch.object(type(picking), "_check_warn_sms", lambda self: self):
            action = self.validate(picking)
        self.assertFalse(isinstance(action, dict) and action.get("res_model") == "confirm.stock.sms",
                         "the confirm-by-SMS dialog never opens for an Amazon delivery")
        self.assertEqual(picking.state, "done")
        sms = self.env["sms.sms"].sudo()
        before = sms.search_count([])
        order._message_sms("Your parcel left", partner_ids=buyer.ids)
        self.assertEqual(sms.search_count([]), before, "no SMS to an Amazon buyer, opted in or not")

    def test_other_customers_still_mailed(self):
        customer = self.env["res.partner"].create({"name": "Shop customer", "email": "c@example.com"})
        so = self.env["sale.order"].create({"partner_id": customer.id, "order_line": [
            (0, 0, {"product_id": self.products["SKU-A"].id, "product_uom_qty": 1})]})
        since = self.last_message()
        so.message_post(body="Hello", message_type="comment", subtype_xmlid="mail.mt_comment",
                        partner_ids=customer.ids)
        self.assertTrue(self.notified(customer, since))


@tagged("post_install", "-at_install")
class TestCheckBeforeValidating(FirstWeekCase):

    def test_validation_asks_for_carrier_and_tracking(self):
        ref, order = self.import_order()
        picking = order.picking_ids
        self.fill(picking)
        action = picking.with_context(skip_backorder=True).button_validate()
        self.assertEqual(action["res_model"], "amazon.shipping.check.wizard")
        self.assertNotEqual(picking.state, "done", "not validated before Amazon's fields are there")
        wizard = self.env["amazon.shipping.check.wizard"].browse(action["res_id"]).with_context(
            **action["context"])
        with self.assertRaisesRegex(UserError, "the carrier and the tracking number"):
            wizard.action_validate()
        # one click: Amazon's DHL code makes the Odoo carrier
        wizard.carrier_code_id = self.env.ref("amazon_fbm_connector.carrier_code_dhl")
        wizard.tracking_ref = " 00340434161094042557 "
        wizard.action_validate()
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.carrier_id.name, "DHL")
        self.assertEqual(picking.carrier_tracking_ref, "00340434161094042557")
        self.assertIn(picking.carrier_id, self.env.ref("amazon_fbm_connector.carrier_code_dhl").carrier_ids)
        self.assertEqual(picking.amazon_confirm_state, "to_send")
        self.env["stock.picking"]._cron_amazon_confirm_shipments()
        self.assertEqual(picking.amazon_confirm_state, "sent", picking.amazon_confirm_message)
        [package] = self.emulator.packages(ref).values()
        self.assertEqual((package["carrierCode"], package["trackingNumber"]), ("DHL", "00340434161094042557"))

    def test_several_deliveries_missing_fields_are_listed(self):
        _r1, first = self.import_order()
        _r2, second = self.import_order()
        pickings = first.picking_ids | second.picking_ids
        self.fill(pickings)
        with self.assertRaisesRegex(UserError, "carrier, tracking number"):
            pickings.button_validate()

    def test_validate_without(self):
        _ref, order = self.import_order()
        picking = order.picking_ids
        self.fill(picking)
        action = picking.with_context(skip_backorder=True).button_validate()
        wizard = self.env["amazon.shipping.check.wizard"].browse(action["res_id"]).with_context(
            **action["context"])
        wizard.action_validate_anyway()
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.amazon_confirm_state, "to_send")

    def test_non_amazon_and_shipped_on_amazon_deliveries_unchecked(self):
        so = self.env["sale.order"].create({
            "partner_id": self.env["res.partner"].create({"name": "Shop buyer"}).id,
            "order_line": [(0, 0, {"product_id": self.products["SKU-A"].id, "product_uom_qty": 1})]})
        so.action_confirm()
        self.fill(so.picking_ids)
        so.picking_ids.with_context(skip_backorder=True).button_validate()
        self.assertEqual(so.picking_ids.state, "done")
        _ref, order = self.import_order()
        order.amazon_status = "Shipped"      # label bought on Amazon: nothing to confirm
        self.fill(order.picking_ids)
        order.picking_ids.with_context(skip_backorder=True).button_validate()
        self.assertEqual(order.picking_ids.state, "done")

    def test_create_carrier_from_code(self):
        code = self.env.ref("amazon_fbm_connector.carrier_code_royal_mail")
        code.carrier_ids = False
        code.action_create_carrier()
        self.assertEqual(code.carrier_ids.name, "Royal Mail")
        code.action_create_carrier()
        self.assertEqual(len(code.carrier_ids), 1, "once")
        self.assertEqual(self.env["delivery.carrier"].search_count([("name", "=", "Royal Mail")]), 1)


@tagged("post_install", "-at_install")
class TestSalesAnalysis(FirstWeekCase):

    def test_revenue_net_of_tax_and_units_of_goods(self):
        # 2 x SKU-A at 20.00 with 1.49 tax, 4.99 shipping (0.41 tax), 2.00 promotion
        _ref, order = self.import_order()
        self.assertGreater(len(order.order_line), 1, "shipping and promotion lines")
        self.env.flush_all()
        [row] = self.env["sale.report"].read_group(
            [("order_reference", "=", "sale.order,%s" % order.id)],
            ["price_subtotal:sum", "price_total:sum", "amazon_units:sum", "product_uom_qty:sum"], [])
        self.assertAlmostEqual(row["price_subtotal"], order.amount_untaxed, places=2)
        self.assertLess(row["price_subtotal"], row["price_total"], "Amazon's tax is not revenue")
        self.assertEqual(row["amazon_units"], 2.0, "two units sold; shipping and promotion are no units")
        self.assertGreater(row["product_uom_qty"], 2.0)
        action = self.env.ref("amazon_fbm_connector.action_amazon_sale_report")
        for view in action.view_ids.view_id:
            self.assertIn('name="price_subtotal"', view.arch)
            self.assertNotIn('name="price_total"', view.arch)


@tagged("post_install", "-at_install")
class TestConfigurationProblems(FirstWeekCase):

    def test_marketplace_without_warehouse(self):
        self.assertFalse(self.mp_us.config_warning)
        self.mp_us.warehouse_id = False
        self.assertIn("No FBM warehouse", self.mp_us.config_warning)

    def test_marketplace_the_seller_does_not_sell_on(self):
        self.add_us_order()          # Amazon lists the seller on the US marketplace only
        action = self.seller.action_test_connection()
        self.assertEqual(self.mp_us.amazon_participation, "selling")
        self.assertEqual(self.mp_de.amazon_participation, "not_selling")
        self.assertIn("Amazon does not list seller", self.mp_de.config_warning)
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("Amazon.de", action["params"]["message"])

    def test_negative_look_back(self):
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.seller.import_days = -5

    def test_window_in_the_future(self):
        wizard = self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_shipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)],
            "date_from": fields.Datetime.now() + timedelta(days=2),
            "date_to": fields.Datetime.now() + timedelta(days=3)})
        with self.assertRaisesRegex(UserError, "starts in the future"):
            wizard.action_execute()

    def test_marketplace_picker(self):
        Reference = self.env["amazon.marketplace.reference"]
        germany = self.env.ref("amazon_fbm_connector.marketplace_de")
        for term in ("Amazon.de", "DE", "de", DE, "Germany"):
            found = Reference.browse([rid for rid, _name in Reference.name_search(term)])
            self.assertEqual(found, germany, term)

    def test_add_marketplace_from_a_new_sellers_form(self):
        form = Form(self.env["amazon.seller"])
        form.name = "New Seller"
        form.region = "eu"
        with form.marketplace_ids.new() as line:
            line.reference_id = self.env.ref("amazon_fbm_connector.marketplace_fr")
            line.warehouse_id = self.warehouse
        seller = form.save()
        self.assertEqual(seller.marketplace_ids.amazon_marketplace_id, "A13V1IB3VIYZZH")

    def test_fbm_orders_search_has_tax_problems_filter(self):
        action = self.env.ref("amazon_fbm_connector.action_amazon_fbm_orders")
        arch = self.env["sale.order"].get_views([(action.search_view_id.id, "search")])[
            "views"]["search"]["arch"]
        self.assertIn('name="amazon_tax_problem"', arch)


@tagged("post_install", "-at_install")
class TestFirstWeekWords(FirstWeekCase):

    def test_download_is_named_in_words(self):
        self.add_us_order()
        wizard = self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]})
        request = self.env["amazon.report.request"].browse(wizard.action_execute()["res_id"])
        request.action_check_status()
        request.action_check_status()
        url = request.action_download_report()["url"]
        self.assertIn("filename=Amazon%20Unshipped%20Orders%20report%20", url)
        self.assertIn("%28Amazon.com%29", url)
        self.assertTrue(url.endswith(".tsv.gz"), url)
        self.assertNotIn("GET_FLAT_FILE", url)

    def test_one_delivery_sent_in_words(self):
        _ref, order = self.import_order()
        picking = order.picking_ids
        picking.write({"carrier_tracking_ref": "1Z1", "carrier_id": self.env.ref(
            "amazon_fbm_connector.carrier_code_ups")._amazon_carrier().id})
        self.fill(picking)
        picking.with_context(skip_backorder=True).button_validate()
        action = picking.action_amazon_send_confirmation()
        self.assertEqual(action["params"]["message"], "Amazon accepted the shipment.")
        help_text = self.env["amazon.seller"]._fields["fbm_status_sync_cursor"].help
        self.assertNotIn("lastUpdatedAfter", help_text)
