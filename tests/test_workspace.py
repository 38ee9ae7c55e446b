import re
from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import AmazonCase

CONFIG_MODELS = ("amazon.seller", "amazon.marketplace", "amazon.sale.workflow")
TECHNICAL_WORDS = re.compile(r"\b(Fbm|Lwa|Id|Ids|Enc|Ref|Uid|Qty)\b")


@tagged("post_install", "-at_install")
class TestPlainWords(AmazonCase):
    """Every field a seller sees on the configuration forms is explained and named in words."""

    def _form_fields(self, model):
        """(model, field name, label) of each visible field of the form, sub-views included."""
        arch = self.env[model].get_views([(False, "form")])["views"]["form"]["arch"]
        found = []

        def walk(node, model):
            for child in node:
                if not isinstance(child.tag, str):
                    continue
                if child.tag == "div" and "oe_chatter" in (child.get("class") or ""):
                    continue
                if child.tag == "field":
                    hidden = child.get("invisible") in ("1", "True") or child.get("column_invisible") in ("1", "True")
                    if not hidden:
                        found.append((model, child.get("name"), child.get("string")))
                    comodel = self.env[model]._fields[child.get("name")].comodel_name
                    walk(child, comodel or model)
                else:
                    walk(child, model)

        walk(etree.fromstring(arch), model)
        return found

    def test_every_form_field_has_help_and_a_word_label(self):
        missing, technical = [], []
        for model in CONFIG_MODELS:
            fields_found = self._form_fields(model)
            self.assertGreater(len(fields_found), 5, model)
            for fmodel, name, string in fields_found:
                desc = self.env[fmodel].fields_get([name], ["help", "string"])[name]
                if not (desc.get("help") or "").strip():
                    missing.append("%s.%s" % (fmodel, name))
                label = string or desc["string"]
                if TECHNICAL_WORDS.search(label) or "_" in label:
                    technical.append("%s.%s: %r" % (fmodel, name, label))
        self.assertFalse(missing, "fields without a help text on the configuration forms")
        self.assertFalse(technical, "labels that are technical names")

    def test_scheduler_labels(self):
        labels = {name: desc["string"] for name, desc in self.seller.fields_get().items()}
        self.assertEqual(labels["fbm_unshipped_next_run"], "Next Unshipped Import")
        self.assertEqual(labels["fbm_shipped_last_run"], "Last Shipped Import")

    def test_marketplace_display_name(self):
        self.assertEqual(self.mp_de.display_name, "Amazon.de — Test Seller")
        self.assertEqual(self.mp_us.display_name, "Amazon.com — Test Seller")
        self.assertNotIn("(", self.mp_us.display_name)

    def test_report_type_name_and_next_steps(self):
        self.add_us_order()
        wizard = self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]})
        request = self.env["amazon.report.request"].browse(wizard.action_execute()["res_id"])
        self.assertEqual(request.report_type_name, "Unshipped Orders report")
        self.assertIn("press Check Status in a minute", request.state_hint)
        request.action_check_status()
        self.assertEqual(request.state, "in_progress")
        self.assertEqual(request.state_hint,
                         "Amazon is preparing the report: press Check Status in a minute.")
        request.action_check_status()
        self.assertEqual(request.state, "done")
        self.assertIn("press Process File", request.state_hint)
        self.process_file(request)
        self.assertEqual(request.state, "processed")
        self.assertIn("1 created", request.state_hint)
        # the order's chatter says where it came from
        order = request.line_ids.sale_order_id
        self.assertEqual(order.amazon_source_ref, request)
        bodies = " ".join(order.message_ids.mapped("body"))
        self.assertIn("Imported from Sale Order Report", bodies)
        self.assertIn(request.name, bodies)


@tagged("post_install", "-at_install")
class TestWorkspace(AmazonCase):

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()

    def run_wizard(self, operation, marketplaces=None):
        action = self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": operation,
            "marketplace_ids": [(6, 0, (marketplaces or self.mp_us).ids)],
            "date_from": fields.Datetime.now() - timedelta(days=10),
            "date_to": fields.Datetime.now()}).action_execute()
        self.run_listings()
        return action

    def test_queue_lines_say_created_updated_and_the_queue_form_what_was_done(self):
        unshipped = self.add_us_order()
        shipped = self.add_us_order(status="Shipped")
        # the unshipped order comes first, by the missing-unshipped flow
        action = self.run_wizard("fbm_import_missing_unshipped")
        queue = self.env["amazon.order.queue"].search(action["params"]["next"]["domain"])
        self.assertEqual(queue.line_ids.mapped("amazon_order_ref"), [unshipped])
        self.assertIn("waiting for the scheduler", queue.summary)
        self.env["amazon.order.queue"]._cron_process_queues()
        self.assertEqual(queue.line_ids.result, "created")
        order = self.orders_of([unshipped])
        self.assertIn("Imported from Order Data Queue", " ".join(order.message_ids.mapped("body")))
        self.assertEqual(order.amazon_source_ref, queue)
        # Amazon ships it: the shipped flow updates the order and creates the other one
        self.scenario.orders[unshipped]["order"]["OrderStatus"] = "Shipped"
        action = self.run_wizard("fbm_import_shipped")
        queue2 = self.env["amazon.order.queue"].search(action["params"]["next"]["domain"])
        self.env["amazon.order.queue"]._cron_process_queues()
        results = {line.amazon_order_ref: line.result for line in queue2.line_ids}
        self.assertEqual(results, {unshipped: "updated", shipped: "created"})
        self.assertEqual(queue2.state, "done")
        self.assertIn("1 created, 1 updated", queue2.summary)
        self.assertTrue(queue2.summary.startswith("Done"))
        self.assertEqual(order.amazon_source_ref, queue, "still the queue that created it")
        self.assertIn("Amazon reports this order shipped", " ".join(order.message_ids.mapped("body")))

    def test_wizard_opens_the_queues_it_made(self):
        self.seller.queue_size = 2
        refs = [self.add_us_order(status="Shipped") for _n in range(3)]
        action = self.run_wizard("fbm_import_shipped")
        self.assertEqual(action["tag"], "display_notification", "the click returns at once")
        opened = action["params"]["next"]
        queues = self.env["amazon.order.queue"].search(opened["domain"])
        self.assertEqual(len(queues), 2)
        self.assertEqual(sorted(queues.line_ids.mapped("amazon_order_ref")), sorted(refs))
        self.assertEqual(opened["view_mode"], "tree,form")
        # nothing new on Amazon: the listing says so, and queues nothing
        action = self.run_wizard("fbm_import_shipped")
        self.assertFalse(self.env["amazon.order.queue"].search(action["params"]["next"]["domain"]))
        listing = self.env["amazon.order.listing"].search([("seller_id", "=", self.seller.id)], limit=1)
        self.assertIn("0 queued", listing.message)

    def test_dashboard_counts_and_their_lists(self):
        now = fields.Datetime.now()
        late = self.add_us_order(purchase_date=self.now - timedelta(days=3))
        self.add_us_order(purchase_date=self.now - timedelta(hours=1))
        self.add_us_order(purchase_date=self.now - timedelta(days=2), status="Shipped")
        old = self.add_us_order(purchase_date=self.now - timedelta(days=20))
        self.build(list(self.scenario.orders))
        self.orders_of([late]).amazon_ship_by_date = now - timedelta(hours=2)
        self.orders_of([old]).amazon_ship_by_date = now + timedelta(days=1)
        mp = self.mp_us
        mp.invalidate_recordset()
        self.assertEqual(mp.dashboard_week_count, 3)
        self.assertGreaterEqual(mp.dashboard_today_count, 1)
        self.assertEqual(mp.dashboard_unshipped_count, 3)
        self.assertEqual(mp.dashboard_late_count, 1)
        self.assertEqual(self.mp_de.dashboard_unshipped_count, 0)
        SaleOrder = self.env["sale.order"]
        self.assertEqual(SaleOrder.search([("amazon_late", "=", True)]), self.orders_of([late]))
        self.assertNotIn(self.orders_of([late]), SaleOrder.search([("amazon_late", "=", False)]))
        # each number opens the FBM orders with its filter, which exists in the search view
        action = mp.with_context(amazon_counter="late").action_dashboard_orders()
        self.assertEqual(action["res_model"], "sale.order")
        self.assertEqual(action["context"]["search_default_amazon_late"], 1)
        self.assertEqual(action["context"]["search_default_amazon_marketplace_id"], mp.id)
        search = etree.fromstring(self.env.ref("amazon_fbm_connector.sale_order_view_search_amazon_fbm").arch)
        names = set(search.xpath("//filter/@name")) | set(search.xpath("//field/@name"))
        for counter in ("today", "week", "unshipped", "late", "to_confirm", "confirm_failed"):
            self.assertIn("amazon_%s" % counter, names)
        self.assertIn("amazon_marketplace_id", names)
        for flow in ("unshipped", "shipped", "missing"):
            self.assertTrue(mp["dashboard_flow_%s" % flow].endswith("by hand"))

    def test_dashboard_counts_shipments_to_confirm_and_failed(self):
        ref = self.add_us_order()
        self.build([ref])
        order = self.orders_of([ref])
        picking = order.picking_ids
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        # validated without carrier nor tracking number ("Validate Without" of the check)
        picking.with_context(skip_backorder=True, amazon_skip_shipping_check=True).button_validate()
        self.assertEqual(picking.amazon_confirm_state, "to_send")
        self.mp_us.invalidate_recordset()
        self.assertEqual(self.mp_us.dashboard_to_confirm_count, 1)
        self.assertEqual(self.mp_us.dashboard_unshipped_count, 0, "delivered in Odoo: not to ship any more")
        picking.amazon_confirm_state = "failed"
        self.mp_us.invalidate_recordset()
        self.assertEqual((self.mp_us.dashboard_to_confirm_count, self.mp_us.dashboard_confirm_failed_count), (0, 1))
        self.assertEqual(order.amazon_shipment_state, "failed")
        action = self.mp_us.with_context(amazon_counter="confirm_failed").action_dashboard_orders()
        self.assertEqual(action["context"]["search_default_amazon_confirm_failed"], 1)

    def test_seller_smart_buttons_and_failures(self):
        ref = self.add_us_order(items=[{"sku": "NO-SUCH-SKU", "qty": 1, "price": "5.00", "tax": "0.41"}],
                                status="Shipped")
        self.run_wizard("fbm_import_shipped")
        self.env["amazon.order.queue"]._cron_process_queues()
        seller = self.seller
        seller.invalidate_recordset()
        self.assertEqual(seller.queue_count, 1)
        self.assertEqual(seller.failed_item_count, 1)
        failure = self.env["amazon.import.failure"].search([("seller_id", "=", seller.id)])
        self.assertEqual(failure.amazon_order_ref, ref)
        self.assertIn("NO-SUCH-SKU", failure.message)
        self.assertEqual(failure.action_open_source()["res_model"], "amazon.order.queue")
        self.assertIsNotNone(self.env["amazon.import.failure"].read_group([], ["source_name"], ["source_name"]))
        self.assertFalse(seller.fbm_unshipped_last_run)
        self.assertTrue(seller.fbm_shipped_last_run)

    def test_sales_analysis_by_marketplace(self):
        self.add_us_order()
        self.build(list(self.scenario.orders))
        self.env.flush_all()
        groups = self.env["sale.report"].read_group(
            [("amazon_seller_id", "=", self.seller.id)], ["price_total:sum"], ["amazon_marketplace_id"])
        self.assertEqual(len(groups), 1)
        self.assertEqual(groups[0]["amazon_marketplace_id"][0], self.mp_us.id)
        self.assertGreater(groups[0]["price_total"], 0)


@tagged("post_install", "-at_install")
class TestWorkspaceAccess(AmazonCase):

    def _user(self, login, groups):
        return self.env["res.users"].create({
            "name": login, "login": login, "company_id": self.company.id,
            "company_ids": [(6, 0, self.company.ids)],
            "groups_id": [(6, 0, [self.env.ref(g).id for g in ["base.group_user"] + groups])]})

    def _visible_menus(self, user):
        """The menus the web client gets for the user (apps and their sub-menus)."""
        menus = self.env["ir.ui.menu"].with_user(user).load_menus(debug=False)
        return {key for key in menus if isinstance(key, int)}

    def test_amazon_user_sees_dashboard_and_runs_operations_but_no_credentials(self):
        user = self._user("amz_plain_user", ["amazon_fbm_connector.group_amazon_user"])
        visible = self._visible_menus(user)
        for xmlid in ("menu_amazon_root", "menu_amazon_dashboard", "menu_amazon_operations",
                      "menu_amazon_sales_fbm_orders", "menu_amazon_report_request", "menu_amazon_order_queue",
                      "menu_amazon_reporting", "menu_amazon_report_sales", "menu_amazon_report_failures"):
            self.assertIn(self.env.ref("amazon_fbm_connector.%s" % xmlid).id, visible, xmlid)
        self.assertNotIn(self.env.ref("amazon_fbm_connector.menu_amazon_config").id, visible)
        # the dashboard
        action = self.env.ref("amazon_fbm_connector.action_amazon_dashboard")
        self.assertEqual(self.env.ref("amazon_fbm_connector.menu_amazon_root").action, action)
        cards = self.env["amazon.marketplace"].with_user(user).search([("seller_id", "=", self.seller.id)])
        self.assertEqual(cards, self.mp_us | self.mp_de | self.mp_uk)
        values = cards.read(["display_name", "dashboard_unshipped_count", "dashboard_failed_count",
                             "connection_state", "dashboard_flow_unshipped"])
        self.assertEqual(len(values), 3)
        self.assertEqual(cards[0].with_context(amazon_counter="late").action_dashboard_orders()["res_model"], "sale.order")
        self.env["sale.report"].with_user(user).read_group([], ["price_total:sum"], ["amazon_marketplace_id"])
        # an operation
        self.scenario.orders.clear()
        self.add_us_order()
        wizard = self.env["amazon.operation.wizard"].with_user(user).create({
            "seller_id": self.seller.id, "operation": "fbm_import_unshipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]})
        request = self.env["amazon.report.request"].with_user(user).browse(wizard.action_execute()["res_id"])
        request.action_check_status()
        request.action_check_status()
        self.process_file(request)
        self.assertEqual(request.state, "processed")
        self.assertEqual(request.count_created, 1)
        # ... but never a credential
        seller = self.seller.with_user(user)
        for field in ("lwa_client_secret", "refresh_token"):
            with self.assertRaises(AccessError):
                seller.read([field])
        self.assertNotIn("refresh_token", seller.fields_get())
        form = seller.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn("refresh_token", form)
        self.assertNotIn("lwa_client_secret", form)

    def test_user_without_amazon_groups_sees_no_amazon_menu(self):
        user = self._user("no_amazon", ["sales_team.group_sale_manager"])
        visible = self._visible_menus(user)
        amazon_menus = self.env["ir.ui.menu"].search([("id", "child_of", self.env.ref(
            "amazon_fbm_connector.menu_amazon_root").id)])
        self.assertFalse(set(amazon_menus.ids) & set(visible))
        with self.assertRaises(AccessError):
            self.env["amazon.marketplace"].with_user(user).search([])
