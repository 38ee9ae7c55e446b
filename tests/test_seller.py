from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import AmazonCase


@tagged("post_install", "-at_install")
class TestSeller(AmazonCase):

    def test_region_defaults_and_override(self):
        seller = self.env["amazon.seller"].create({"name": "EU seller", "region": "eu"})
        self.assertEqual(seller.api_endpoint, "https://sellingpartnerapi-eu.amazon.com")
        self.assertEqual(seller.lwa_endpoint, "https://api.amazon.com")
        seller.region = "fe"
        self.assertEqual(seller.api_endpoint, "https://sellingpartnerapi-fe.amazon.com")
        seller.api_endpoint = "http://127.0.0.1:9"
        seller.region = "na"
        self.assertEqual(seller.api_endpoint, "http://127.0.0.1:9", "an override survives")

    def test_marketplace_from_reference(self):
        self.assertEqual(self.mp_de.amazon_marketplace_id, "A1PA6795UKMFR9")
        self.assertEqual(self.mp_de.currency_id, self.env.ref("base.EUR"))
        self.assertTrue(self.mp_de.price_includes_tax)
        self.assertFalse(self.mp_us.price_includes_tax)
        refs = self.env["amazon.marketplace.reference"].search([])
        for code in ("US", "CA", "MX", "BR", "GB", "DE", "FR", "IT", "ES", "NL", "SE", "PL", "BE",
                     "TR", "AE", "SA", "IN", "JP", "AU", "SG"):
            self.assertIn(code, refs.mapped("country_id.code"))

    def test_secrets_encrypted_at_rest(self):
        self.env.flush_all()
        self.env.cr.execute("SELECT lwa_client_secret_enc, refresh_token_enc FROM amazon_seller WHERE id=%s",
                            (self.seller.id,))
        secret_enc, token_enc = self.env.cr.fetchone()
        self.assertTrue(secret_enc.startswith("fernet:"))
        self.assertNotIn("demo-secret", secret_enc)
        self.assertNotIn("demo-refresh-token", token_enc)
        self.assertEqual(self.seller.lwa_client_secret, "demo-secret")
        self.assertEqual(self.seller.refresh_token, "Atzr|demo-refresh-token")

    def _user(self, login, group):
        return self.env["res.users"].create({
            "name": login, "login": login, "company_id": self.company.id,
            "company_ids": [(6, 0, self.company.ids)],
            "groups_id": [(6, 0, [self.env.ref("base.group_user").id, self.env.ref(group).id])]})

    def test_access_user_vs_manager(self):
        user = self._user("amz_user", "amazon_fbm_connector.group_amazon_user")
        manager = self._user("amz_manager", "amazon_fbm_connector.group_amazon_manager")
        seller_u = self.seller.with_user(user)
        self.assertEqual(seller_u.name, "Test Seller")
        # what a plain user can reach (read, RPC, the UI) never shows a secret
        for field in ("lwa_client_secret", "refresh_token", "lwa_client_secret_enc", "refresh_token_enc"):
            with self.assertRaises(AccessError):
                seller_u.read([field])
        self.assertNotIn("lwa_client_secret", seller_u.read()[0])
        self.assertNotIn("refresh_token_enc", seller_u.fields_get())
        with self.assertRaises(AccessError):
            seller_u.write({"name": "renamed"})
        with self.assertRaises(AccessError):
            self.env["amazon.seller"].with_user(user).create({"name": "x"})
        self.assertEqual(self.seller.with_user(manager).lwa_client_secret, "demo-secret")
        self.seller.with_user(manager).write({"order_prefix": "AZ-"})
        # every model has access rules for the user group
        for model in ("amazon.seller", "amazon.marketplace", "amazon.sale.workflow",
                      "amazon.report.request", "amazon.order.queue", "amazon.order.queue.line",
                      "amazon.product.mapping", "amazon.marketplace.reference",
                      "amazon.report.request.line", "amazon.price.report"):
            self.assertTrue(self.env[model].with_user(user).check_access_rights("read", False), model)

    def test_multi_company_rule(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        user = self._user("amz_mc", "amazon_fbm_connector.group_amazon_manager")
        other_seller = self.env["amazon.seller"].create({"name": "Other seller", "company_id": other.id})
        visible = self.env["amazon.seller"].with_user(user).search([])
        self.assertIn(self.seller, visible)
        self.assertNotIn(other_seller, visible)

    def assertConnectionFailed(self, text):
        action = self.seller.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("Connection test failed", action["params"]["message"])
        self.assertRegex(action["params"]["message"], text)
        self.assertEqual(self.seller.connection_state, "failed")

    def test_connection_success(self):
        # Amazon lists the seller on the three marketplaces configured
        self.scenario.participations = self.seller.marketplace_ids.mapped("amazon_marketplace_id")
        self.addCleanup(setattr, self.scenario, "participations", None)
        action = self.seller.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.emulator.calls["getMarketplaceParticipations"], 1)

    def test_connection_wrong_secret(self):
        self.seller.lwa_client_secret = "not-the-secret"
        self.assertConnectionFailed("client secret")

    def test_connection_revoked_refresh_token(self):
        self.emulator.add_refresh_token("Atzr|revoked", revoked=True)
        self.seller.refresh_token = "Atzr|revoked"
        self.assertConnectionFailed("refresh token")

    def test_connection_missing_role(self):
        self.emulator.add_refresh_token("Atzr|no-sellers-role", roles={"orders", "reports"})
        self.seller.refresh_token = "Atzr|no-sellers-role"
        self.assertConnectionFailed("role")

    def test_connection_unreachable(self):
        self.seller.api_endpoint = "http://127.0.0.1:9"
        self.seller.lwa_endpoint = "http://127.0.0.1:9"
        client = self.seller._get_client()
        client.max_retries = 1
        client.backoff_cap = 0.01
        from ..services.errors import AmazonUnreachable
        with self.assertRaisesRegex(AmazonUnreachable, "could not be reached"):
            client.test_connection()
