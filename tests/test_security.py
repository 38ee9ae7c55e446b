"""Security suite: secrets unreadable by anyone but an Amazon manager, through
every door (ORM, JSON-RPC, exports, the web client), encrypted in the
database, never logged, and neither is buyer data; one company sees nothing
of another's Amazon business."""
import json
import logging
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import AmazonCase

SECRET_FIELDS = ("lwa_client_secret", "refresh_token", "lwa_client_secret_enc", "refresh_token_enc")


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append("%s %s" % (record.name, text))


@tagged("post_install", "-at_install")
class TestSecurity(AmazonCase):

    def users(self):
        plain = new_test_user(self.env, "sec_plain", groups="base.group_user")
        amazon = new_test_user(self.env, "sec_amazon", groups="base.group_user,base.group_allow_export,"
                                                               "amazon_fbm_connector.group_amazon_user")
        return plain, amazon

    # ------------------------------------------------------------- secrets
    def test_plain_and_amazon_users_cannot_read_secrets_through_the_orm(self):
        plain, amazon = self.users()
        with self.assertRaises(AccessError):
            self.seller.with_user(plain).read(["name"])      # no access to sellers at all
        seller = self.seller.with_user(amazon)
        for field in SECRET_FIELDS:
            with self.assertRaises(AccessError):
                seller.read([field])
            with self.assertRaises(AccessError):
                seller.search_read([], [field])
            with self.assertRaises(AccessError):
                seller.export_data([field])
            with self.assertRaises(AccessError):
                self.env["amazon.seller"].with_user(amazon).search([(field, "!=", False)])
            with self.assertRaises(AccessError):
                seller.web_read({field: {}})
        everything = seller.read()[0]
        self.assertFalse(set(SECRET_FIELDS) & set(everything))
        exported = seller.export_data(["name", "lwa_client_id"])["datas"]
        self.assertEqual(exported[0][0], "Test Seller")
        self.assertFalse(set(SECRET_FIELDS) & set(seller.fields_get()))
        arch = self.env["amazon.seller"].with_user(amazon).get_views([(False, "form")])["views"]["form"]["arch"]
        for field in SECRET_FIELDS:
            self.assertNotIn('name="%s"' % field, arch, "the web client never gets the field")

    def test_secrets_encrypted_in_the_database_and_not_in_chatter(self):
        self.seller.write({"lwa_client_secret": "rotated-Secret-42", "refresh_token": "Atzr|rotated-42"})
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("SELECT row_to_json(s)::text FROM amazon_seller s WHERE id = %s", (self.seller.id,))
        row = cr.fetchone()[0]
        for plain in ("rotated-Secret-42", "Atzr|rotated-42"):
            self.assertNotIn(plain, row)
            for table, column in (("mail_message", "body"), ("mail_tracking_value", "old_value_char"),
                                  ("mail_tracking_value", "new_value_char"), ("ir_attachment", "name")):
                cr.execute("SELECT count(*) FROM %s WHERE %s::text LIKE %%s" % (table, column),  # noqa: S608
                           ("%" + plain + "%",))
                self.assertEqual(cr.fetchone()[0], 0, "%s.%s holds a secret" % (table, column))

    # ------------------------------------------------------------- logs
    def test_no_log_line_holds_a_secret_a_token_or_buyer_data(self):
        """Every logger at DEBUG (Odoo's SQL trace excepted: it prints every query's
        data by design) during a full unshipped and shipped import."""
        refs = [self.add_us_order(buyer_name="Zelda Quixote%d" % n, buyer_email="zq%d@marketplace.amazon.com" % n,
                                  address={"AddressLine1": "77%d Privacy Lane" % n, "Phone": "+1 555 0100%d" % n})
                for n in range(3)]
        shipped = self.add_us_order(status="Shipped", buyer_name="Yorick Shipped",
                                    buyer_email="yorick@marketplace.amazon.com",
                                    address={"AddressLine1": "9 Secret Street"})
        capture = _Capture()
        root = logging.getLogger()
        sql = logging.getLogger("odoo.sql_db")
        old_levels = root.level, sql.level
        root.addHandler(capture)
        root.setLevel(logging.DEBUG)
        sql.setLevel(logging.INFO)
        try:
            request = self.env["amazon.report.request"]._request_unshipped(
                self.seller, self.mp_us, fields.Datetime.now() - timedelta(days=10), fields.Datetime.now(),
                auto=False)
            request.action_check_status()
            request.action_check_status()
            self.process_file(request)
            self.env["amazon.order.queue"]._import_shipped(
                self.seller, self.mp_us, fields.Datetime.now() - timedelta(days=10), fields.Datetime.now())
            for _run in range(3):
                self.env["amazon.order.queue"]._cron_process_queues()
            self.seller.action_test_connection()
        finally:
            root.removeHandler(capture)
            root.setLevel(old_levels[0])
            sql.setLevel(old_levels[1])
        self.assertEqual(len(self.orders_of(refs + [shipped])), 4, "the run imported the orders")
        self.assertTrue(capture.lines, "the capture saw the run's logs")
        forbidden = {"client secret": self.seller.sudo().lwa_client_secret,
                     "refresh token": self.seller.sudo().refresh_token}
        forbidden.update({"access token %d" % n: t for n, t in enumerate(self.emulator.access_tokens)})
        forbidden.update({"restricted data token %d" % n: t for n, t in enumerate(self.emulator.rdts)})
        for entry in self.scenario.orders.values():
            order = entry["order"]
            forbidden["buyer e-mail " + order["AmazonOrderId"]] = order["BuyerInfo"]["BuyerEmail"]
            forbidden["buyer name " + order["AmazonOrderId"]] = order["BuyerInfo"]["BuyerName"]
            forbidden["street " + order["AmazonOrderId"]] = order["ShippingAddress"]["AddressLine1"]
            forbidden["phone " + order["AmazonOrderId"]] = order["ShippingAddress"]["Phone"]
        self.assertTrue(self.emulator.access_tokens and self.emulator.rdts)
        for line in capture.lines:
            for what, value in forbidden.items():
                self.assertNotIn(value, line, "a log line holds the %s: %s" % (what, line[:300]))

    # ------------------------------------------------------------- companies
    def test_company_b_sees_nothing_of_company_a(self):
        ref = self.add_us_order(status="Shipped")
        self.env["amazon.order.queue"]._import_shipped(
            self.seller, self.mp_us, fields.Datetime.now() - timedelta(days=10), fields.Datetime.now())
        for _run in range(2):
            self.env["amazon.order.queue"]._cron_process_queues()
        request = self.env["amazon.report.request"]._request_unshipped(
            self.seller, self.mp_us, fields.Datetime.now() - timedelta(days=3), fields.Datetime.now(), auto=False)
        order = self.orders_of([ref])
        self.assertTrue(order.picking_ids and request)
        company_b = self.env["res.company"].create({"name": "Company B"})
        user_b = new_test_user(self.env, "sec_company_b", company_id=company_b.id,
                               groups="base.group_user,amazon_fbm_connector.group_amazon_manager,"
                                      "sales_team.group_sale_manager,stock.group_stock_manager")
        user_b.company_ids = company_b
        env_b = self.env(user=user_b, context={"allowed_company_ids": company_b.ids})
        for model in ("amazon.seller", "amazon.marketplace", "amazon.report.request",
                      "amazon.report.request.line", "amazon.price.report", "amazon.order.queue",
                      "amazon.order.queue.line", "sale.order", "stock.picking", "stock.move"):
            self.assertFalse(env_b[model].search([]), "company B sees %s of company A" % model)
        with self.assertRaises(AccessError):
            order.with_env(env_b).read(["amazon_order_ref", "state"])
        with self.assertRaises(AccessError):
            order.picking_ids.with_env(env_b).read(["state"])
        with self.assertRaises(AccessError):
            self.seller.with_env(env_b).read(["name"])


@tagged("post_install", "-at_install")
class TestSecretsOverRpc(HttpCase):
    """The web client's own door: JSON-RPC ``/web/dataset/call_kw``."""

    def setUp(self):
        super().setUp()
        self.seller = self.env["amazon.seller"].create({
            "name": "RPC seller", "lwa_client_id": "amzn1.application-oa2-client.rpc",
            "lwa_client_secret": "rpc-secret-value", "refresh_token": "Atzr|rpc-refresh-value",
            "api_endpoint": "http://127.0.0.1:9", "lwa_endpoint": "http://127.0.0.1:9"})
        new_test_user(self.env, "rpc_amazon", password="rpc_amazon_pw1",
                      groups="base.group_user,amazon_fbm_connector.group_amazon_user")
        new_test_user(self.env, "rpc_plain", password="rpc_plain_pw1", groups="base.group_user")

    def call(self, method, args, kwargs=None):
        response = self.url_open("/web/dataset/call_kw", data=json.dumps({
            "jsonrpc": "2.0", "method": "call", "id": 1, "params": {
                "model": "amazon.seller", "method": method, "args": args, "kwargs": kwargs or {}}}),
            headers={"Content-Type": "application/json"})
        return response.json(), response.text

    def assertNoSecret(self, text):
        self.assertNotIn("rpc-secret-value", text)
        self.assertNotIn("Atzr|rpc-refresh-value", text)

    def test_rpc_never_returns_a_secret(self):
        for login in ("rpc_amazon", "rpc_plain"):
            self.authenticate(login, login + "_pw1")
            for field in SECRET_FIELDS:
                for method, args, kwargs in (
                        ("read", [[self.seller.id], [field]], {}),
                        ("search_read", [[]], {"fields": [field]}),
                        ("web_search_read", [[]], {"specification": {field: {}}}),
                        ("web_read", [[self.seller.id]], {"specification": {field: {}}}),
                        ("export_data", [[self.seller.id], [field]], {})):
                    body, text = self.call(method, args, kwargs)
                    self.assertIn("error", body, "%s %s(%s) answered" % (login, method, field))
                    self.assertNoSecret(text)
            body, text = self.call("read", [[self.seller.id]])
            self.assertNoSecret(text)
            if login == "rpc_amazon":
                self.assertEqual(body["result"][0]["name"], "RPC seller")
            body, text = self.call("get_views", [[[False, "form"], [False, "list"]]])
            self.assertNoSecret(text)
            self.assertNotIn("refresh_token", text)
