"""Authorize with Amazon (website authorization workflow), driven over HTTP: the button
(JSON-RPC, as the web client calls it) -> the consent URL -> the emulator's consent page
and its Confirm -> the callback on this test server's Odoo, in the logged-in session."""
import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from ..services.const import AUTHORIZE_CALLBACK_PATH
from ..services.spapi_client import _token_cache
from .common import US, AmazonCase

APP = "amzn1.sp.solution.0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"


@tagged("post_install", "-at_install")
class TestAuthorizeWithAmazon(HttpCase, AmazonCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.redirect_uri = cls.base_url() + AUTHORIZE_CALLBACK_PATH
        cls.emulator.register_application(APP, name="Odoo FBM (tests)", redirect_uris=[cls.redirect_uri])
        client_id, secret = next(iter(cls.emulator.apps.items()))
        # A new seller account: app credentials typed in, no refresh token, no merchant id yet.
        cls.new_seller = cls.env["amazon.seller"].create({
            "name": "Authorize Seller", "region": "na", "lwa_client_id": client_id,
            "lwa_client_secret": secret, "api_endpoint": cls.emulator.url, "lwa_endpoint": cls.emulator.url,
            "spapi_app_id": APP, "seller_central_url": cls.emulator.url})
        cls.env["amazon.marketplace"].create({
            "seller_id": cls.new_seller.id, "reference_id": cls.env.ref("amazon_fbm_connector.marketplace_us").id,
            "warehouse_id": cls.warehouse.id})

    def setUp(self):
        super().setUp()
        for token in self.issued_tokens():   # what earlier tests were given
            del self.emulator.refresh_tokens[token]
        self.authenticate("admin", "admin")

    # ------------------------------------------------------------- helpers
    def click_authorize(self, seller):
        """The button, as the web client calls it: the action it answers."""
        response = self.url_open("/web/dataset/call_button", data=json.dumps({
            "jsonrpc": "2.0", "method": "call", "id": 1, "params": {
                "model": "amazon.seller", "method": "action_authorize_with_amazon",
                "args": [[seller.id]], "kwargs": {}}}), headers={"Content-Type": "application/json"})
        body = response.json()
        self.assertNotIn("error", body, body.get("error"))
        return body["result"]

    def consent(self, url):
        """Seller Central (the emulator): the consent page, then its Confirm button.
        Returns the URL Amazon sends the browser back to."""
        page = httpx.get(url)
        self.assertEqual(page.status_code, 200, page.text)
        self.assertIn("Odoo FBM (tests)", page.text)
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
        answer = httpx.post(self.emulator.url + "/apps/authorize/confirm", data=form)
        self.assertEqual(answer.status_code, 302, answer.text)
        return answer.headers["location"]

    def callback(self, location):
        self.assertTrue(location.startswith(self.redirect_uri), location)
        return self.url_open(location, allow_redirects=False)

    def assertRefused(self, response, text):
        self.assertEqual(response.status_code, 400, response.text[:500])
        self.assertIn("o_amazon_authorize_refused", response.text)
        self.assertIn(text, response.text)

    def stored(self, seller):
        self.env.invalidate_all()
        self.env.cr.execute("SELECT refresh_token_enc, merchant_id, authorize_state_hash FROM amazon_seller "
                            "WHERE id = %s", (seller.id,))
        return self.env.cr.fetchone()

    def issued_tokens(self):
        return [t for t, info in self.emulator.refresh_tokens.items() if info.get("selling_partner_id")]

    # --------------------------------------------------------------- tests
    def test_authorize_stores_the_refresh_token_and_it_works(self):
        seller = self.new_seller
        action = self.click_authorize(seller)
        self.assertEqual(action["type"], "ir.actions.act_url")
        url = urlsplit(action["url"])
        self.assertEqual("%s://%s%s" % (url.scheme, url.netloc, url.path), self.emulator.url + "/apps/authorize/consent")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.assertEqual((query["application_id"], query["version"], query["redirect_uri"]),
                         (APP, "beta", self.redirect_uri))
        self.assertGreaterEqual(len(query["state"]), 40)
        enc, merchant, state_hash = self.stored(seller)
        self.assertFalse(enc)
        self.assertNotIn(query["state"], state_hash, "only the state's hash is kept")

        location = self.consent(action["url"])
        response = self.callback(location)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertIn("/web#id=%d&model=amazon.seller&view_type=form" % seller.id, response.headers["Location"])

        [token] = self.issued_tokens()
        enc, merchant, state_hash = self.stored(seller)
        self.assertTrue(enc.startswith("fernet:"))
        self.assertNotIn(token.split("|")[1], enc)
        self.assertFalse(state_hash, "the state is spent")
        self.assertEqual(merchant, self.emulator.merchant_id, "the selling partner id was recorded")
        self.assertEqual(seller.refresh_token, token)
        self.assertTrue(seller.message_ids.filtered(lambda m: "Authorized with Amazon" in (m.body or "")))
        notification = self.env["bus.bus"].search([("message", "like", "Authorize Seller is authorized")])
        self.assertIn("simple_notification", notification.message)

        # an API call with the stored token, through a fresh login (refresh_token grant)
        _token_cache.clear()
        self.emulator.access_tokens.clear()
        self.scenario.participations = [US]
        self.addCleanup(setattr, self.scenario, "participations", None)
        result = seller.action_test_connection()
        self.assertEqual((result["params"]["type"], seller.connection_state), ("success", "ok"), result)
        self.assertEqual(set(self.emulator.access_tokens.values()), {token})

        # the same answer of Amazon again: its state is spent, nothing changes
        response = self.callback(location)
        self.assertRefused(response, "unknown or was already used")
        self.assertEqual(self.stored(seller)[0], enc)

    def test_forged_state_is_refused(self):
        seller = self.new_seller
        location = self.consent(self.click_authorize(seller)["url"])
        forged = re.sub(r"state=[^&]+", "state=forged-state-value", location)
        self.assertRefused(self.callback(forged), "unknown or was already used")
        self.assertRefused(self.callback(re.sub(r"&?state=[^&]+", "", location)), "carries no state")
        enc, merchant, state_hash = self.stored(seller)
        self.assertFalse(enc or merchant)
        self.assertTrue(state_hash, "the real state is still waiting for its answer")
        self.assertFalse(self.issued_tokens(), "no code was exchanged")

    def test_expired_state_is_refused(self):
        seller = self.new_seller
        location = self.consent(self.click_authorize(seller)["url"])
        seller.sudo().authorize_state_expires = fields.Datetime.now() - timedelta(seconds=1)
        self.assertRefused(self.callback(location), "expired")
        enc, merchant, state_hash = self.stored(seller)
        self.assertFalse(enc or merchant or state_hash)
        self.assertFalse(self.issued_tokens())

    def test_state_of_another_user_is_refused(self):
        seller = self.new_seller
        location = self.consent(self.click_authorize(seller)["url"])
        new_test_user(self.env, "amz_other_manager", password="amz_other_manager_pw1",
                      groups="base.group_user,amazon_fbm_connector.group_amazon_manager")
        self.authenticate("amz_other_manager", "amz_other_manager_pw1")
        self.assertRefused(self.callback(location), "another Odoo user")
        self.assertFalse(self.stored(seller)[0])
        self.assertFalse(self.issued_tokens())

    def test_reused_code_is_refused(self):
        seller = self.new_seller
        first = self.consent(self.click_authorize(seller)["url"])
        self.assertEqual(self.callback(first).status_code, 303)
        enc = self.stored(seller)[0]
        # a new click, answered with the code Amazon already exchanged
        second = self.consent(self.click_authorize(seller)["url"])
        old_code = parse_qs(urlsplit(first).query)["spapi_oauth_code"][0]
        replay = re.sub(r"spapi_oauth_code=[^&]+", "spapi_oauth_code=" + old_code, second)
        self.assertRefused(self.callback(replay), "already used")
        self.assertEqual(self.stored(seller)[0], enc, "the refresh token is unchanged")
        self.assertEqual(len(self.issued_tokens()), 1)

    def test_other_selling_partner_is_refused(self):
        seller = self.new_seller
        seller.merchant_id = "A9OTHERACCOUNT"
        location = self.consent(self.click_authorize(seller)["url"])
        self.assertRefused(self.callback(location), "A9OTHERACCOUNT")
        self.assertFalse(self.stored(seller)[0])
        self.assertFalse(self.issued_tokens())

    def test_managers_only(self):
        user = new_test_user(self.env, "amz_plain_user", password="amz_plain_user_pw1",
                             groups="base.group_user,amazon_fbm_connector.group_amazon_user")
        arch = self.env["amazon.seller"].with_user(user).get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn("action_authorize_with_amazon", arch)
        with self.assertRaises(AccessError):
            self.new_seller.with_user(user).action_authorize_with_amazon()
        location = self.consent(self.click_authorize(self.new_seller)["url"])
        self.authenticate("amz_plain_user", "amz_plain_user_pw1")
        self.assertRefused(self.callback(location), "managers")
        self.assertFalse(self.stored(self.new_seller)[0])

    def test_seller_central_url_defaults(self):
        seller = self.env["amazon.seller"].create({"name": "EU seller", "region": "eu"})
        self.assertEqual(seller.seller_central_url, "https://sellercentral-europe.amazon.com")
        self.env["amazon.marketplace"].create({
            "seller_id": seller.id, "reference_id": self.env.ref("amazon_fbm_connector.marketplace_se").id,
            "warehouse_id": self.warehouse.id})
        self.assertEqual(seller.seller_central_url, "https://sellercentral.amazon.se")
        seller.region = "fe"
        self.assertEqual(seller.seller_central_url, "https://sellercentral.amazon.se", "its marketplace decides")
        seller.seller_central_url = "http://127.0.0.1:9"
        seller.region = "na"
        self.assertEqual(seller.seller_central_url, "http://127.0.0.1:9", "an override survives")
        self.assertEqual(self.new_seller.seller_central_url, self.emulator.url)
