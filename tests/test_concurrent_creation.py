"""Same-instant creation: two workers (real cursors and commits, like two Odoo
servers' cron threads) import two orders of one new buyer with one new
product at the same instant: the buyer and the product are created once; two
orders of other buyers at one new Amazon tax rate: the tax is created once."""
from functools import partial

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged

from ..services.rate_limit import RateLimiter
from .common import AmazonCase, cron_worker, first_builds_at_once, run_in_threads

EMAIL = "twin.buyer@marketplace.amazon.com"
SKU = "TWIN-NEW-SKU"


@tagged("post_install", "-at_install")
class TestConcurrentCreation(AmazonCase):
    real_cursors = True  # its workers open committed cursors of their own
    """Committed rows stay in the throw-away test database (see TestQueueConcurrency)."""

    def _committed_queues(self, twins=None):
        primer = self.add_us_order(buyer_email="primer@marketplace.amazon.com",
                                   items=[{"sku": "PRIMER-SKU", "qty": 1, "price": "10.00", "tax": "0.83"}])
        refs = [self.add_us_order(**kw) for kw in twins or [
            {"buyer_email": EMAIL, "buyer_name": "Twin Buyer",
             "items": [{"sku": SKU, "qty": 1, "price": "10.00", "tax": "0.83"}]}] * 2]
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            seller = env["amazon.seller"].create({
                "name": "Twin seller", "lwa_client_id": self.seller.lwa_client_id,
                "lwa_client_secret": self.seller.lwa_client_secret,
                "refresh_token": self.seller.refresh_token, "api_endpoint": self.emulator.url,
                "lwa_endpoint": self.emulator.url, "queue_size": 1, "order_prefix": "TWIN-",
                "create_product_if_missing": True})
            env["amazon.marketplace"].create({
                "seller_id": seller.id, "reference_id": env.ref("amazon_fbm_connector.marketplace_us").id,
                "warehouse_id": self.warehouse.id})
            env["amazon.order.queue"]._create_queues(
                seller, "missing_unshipped", [self.scenario.orders[primer]["order"]])
            cr.commit()  # pylint: disable=invalid-commit
            seller_id = seller.id
        # A first import makes what every order of the company shares (the tax
        # records); the race under test is the buyer's and the product's.
        errors = []
        self._worker(errors)
        self.assertFalse(errors, errors)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            headers = [self.scenario.orders[r]["order"] for r in refs]
            env["amazon.order.queue"]._create_queues(env["amazon.seller"].browse(seller_id),
                                                     "missing_unshipped", headers)
            cr.commit()  # pylint: disable=invalid-commit
        return seller_id, refs

    def _worker(self, errors):
        cron_worker(self.registry, "amazon.order.queue", "_cron_process_queues", errors)

    def _together(self):
        """Both workers run the queue cron, and build at the same instant."""
        RateLimiter.reset()
        errors = []
        with first_builds_at_once() as built:
            run_in_threads({"twin-%d" % n: partial(self._worker, errors) for n in range(2)})
        self.assertFalse(errors, errors)
        self.assertEqual(len(built), 2, "both workers built at once")

    def _orders_once_each(self, env, seller_id, refs):
        orders = env["sale.order"].search([("amazon_seller_id", "=", seller_id),
                                           ("amazon_order_ref", "in", refs)])
        self.assertEqual(sorted(orders.mapped("amazon_order_ref")), sorted(refs), "both orders, once each")
        return orders

    def test_one_new_buyer_and_product_created_once(self):
        seller_id, refs = self._committed_queues()
        self._together()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            orders = self._orders_once_each(env, seller_id, refs)
            partners = env["res.partner"].with_context(active_test=False).search(
                [("email", "=", EMAIL), ("parent_id", "=", False)])
            self.assertEqual(len(partners), 1, "one buyer")
            products = env["product.product"].with_context(active_test=False).search(
                [("default_code", "=", SKU)])
            self.assertEqual(len(products), 1, "one product")
            self.assertEqual(orders.partner_id, partners)
            self.assertEqual(orders.order_line.product_id.filtered(lambda p: p.default_code == SKU), products)

    def test_one_new_rate_tax_created_once(self):
        # 6.5 % is a rate this company has no tax for: each worker's order needs it.
        seller_id, refs = self._committed_queues([
            {"buyer_email": "rate.%d@marketplace.amazon.com" % n, "buyer_name": "Rate Buyer %d" % n,
             "items": [{"sku": "PRIMER-SKU", "qty": 1, "price": "10.00", "tax": "0.65"}]} for n in range(2)])
        self._together()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            orders = self._orders_once_each(env, seller_id, refs)
            taxes = env["account.tax"].with_context(active_test=False).search(
                [("company_id", "=", self.company.id), ("amount", "=", 6.5)])
            self.assertEqual(len(taxes), 1, "one 6.5 %% tax, not %s" % taxes.mapped("name"))
            self.assertEqual(orders.order_line.tax_id.filtered(lambda t: t.amount == 6.5), taxes)
