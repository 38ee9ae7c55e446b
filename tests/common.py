"""Shared set-up of the Odoo suite: a real SP-API emulator on loopback and a
seller wired to it, with US / DE / UK marketplaces and products."""
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from unittest.mock import patch

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tests.common import TransactionCase, get_db_name
from odoo.tools import config, mute_logger

from ..services.order_builder import OrderBuilder
from ..services.rate_limit import RateLimiter
from ..services.spapi_client import _token_cache
from ..tools.spapi_emulator import Emulator, Scenario

US = "ATVPDKIKX0DER"
DE = "A1PA6795UKMFR9"
UK = "A1F83G8C2ARO7P"
DE_ADDRESS = {"City": "Berlin", "PostalCode": "10115", "CountryCode": "DE", "StateOrRegion": ""}
UK_ADDRESS = {"City": "London", "PostalCode": "SW1A 1AA", "CountryCode": "GB", "StateOrRegion": ""}


class AmazonCase(TransactionCase):
    """The production code commits through ``services.runner``; here it runs on Odoo's
    test cursor (``registry.cursor()`` in test mode), whose commit and rollback are
    savepoints inside the test's transaction: the same code path, nothing committed.
    Classes whose threads open cursors of their own (``real_cursors``) and browser
    tours (HttpCase, in test mode already) use the plain test transaction."""
    emulator_rate_scale = 500.0
    real_cursors = False

    @staticmethod
    def _last_seller_id(registry):
        with registry.cursor() as cr:
            cr.execute("SELECT COALESCE(MAX(id), 0) FROM amazon_seller")
            return cr.fetchone()[0]

    @staticmethod
    def _retire_committed_sellers(registry, last_id):
        """The sellers a class with real cursors committed stay in the database (their
        rows are locked by the class's own transaction until it ends): archived, so that
        the crons of later classes, which look at every active seller, pass them by
        instead of calling their stopped emulators."""
        with registry.cursor() as cr:
            cr.execute("SET LOCAL lock_timeout = '10s'")
            cr.execute("UPDATE amazon_seller SET active = FALSE WHERE id > %s", (last_id,))
            cr.commit()  # pylint: disable=invalid-commit

    @classmethod
    def _uses_test_cursor(cls):
        from odoo.tests import HttpCase
        return not cls.real_cursors and not issubclass(cls, HttpCase)

    @classmethod
    def setUpClass(cls):
        if cls.real_cursors:
            # registered first: runs last, once the class's own transaction is closed
            registry = odoo.registry(get_db_name())
            cls.addClassCleanup(cls._retire_committed_sellers, registry, cls._last_seller_id(registry))
        super().setUpClass()
        if cls._uses_test_cursor():
            cls.registry.enter_test_mode(cls.cr)
            cls.addClassCleanup(cls.registry.leave_test_mode)
            test_cursor = cls.registry.cursor()
            cls.addClassCleanup(test_cursor.close)
            cls.env = api.Environment(test_cursor, SUPERUSER_ID, {})
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        RateLimiter.reset()
        cls.now = datetime.now(timezone.utc).replace(microsecond=0)
        cls.scenario = Scenario(now=cls.now)
        cls.emulator = Emulator(cls.scenario, rate_scale=cls.emulator_rate_scale, polls_to_done=2)
        cls.emulator.start()
        cls.addClassCleanup(cls.emulator.stop)
        cls.env["ir.config_parameter"].sudo().set_param(
            "amazon_fbm_connector.rate_scale", str(cls.emulator_rate_scale))
        env = cls.env
        cls.company = env.company
        cls.company.country_id = env.ref("base.us")
        for code in ("EUR", "GBP"):
            env.ref("base.%s" % code).active = True
        cls.tax_us = env["account.tax"].create({
            "name": "US Sales Tax 8.25%", "amount": 8.25, "amount_type": "percent",
            "type_tax_use": "sale", "company_id": cls.company.id})
        cls.tax_vat = env["account.tax"].create({
            "name": "VAT 19%", "amount": 19.0, "amount_type": "percent",
            "type_tax_use": "sale", "company_id": cls.company.id})
        cls.warehouse = env["stock.warehouse"].search([("company_id", "=", cls.company.id)], limit=1)
        cls.workflow = env["amazon.sale.workflow"].create({"name": "Confirm only", "confirm_order": True})
        client_id, secret = next(iter(cls.emulator.apps.items()))
        cls.seller = env["amazon.seller"].create({
            "name": "Test Seller", "region": "na", "merchant_id": "A2TESTMERCHANT",
            "lwa_client_id": client_id, "lwa_client_secret": secret,
            "refresh_token": next(iter(cls.emulator.refresh_tokens)),
            "api_endpoint": cls.emulator.url, "lwa_endpoint": cls.emulator.url,
            "workflow_id": cls.workflow.id, "order_prefix": "AMZ-",
        })
        cls.analytic_plan = env["account.analytic.plan"].create({"name": "Channels"})
        cls.analytic = env["account.analytic.account"].create({
            "name": "Amazon US", "plan_id": cls.analytic_plan.id})
        cls.tag = env["crm.tag"].create({"name": "Amazon"})
        Marketplace = env["amazon.marketplace"]
        cls.mp_us = Marketplace.create({
            "seller_id": cls.seller.id, "reference_id": env.ref("amazon_fbm_connector.marketplace_us").id,
            "warehouse_id": cls.warehouse.id, "analytic_distribution": {str(cls.analytic.id): 100},
            "tag_ids": [(6, 0, cls.tag.ids)]})
        cls.mp_de = Marketplace.create({
            "seller_id": cls.seller.id, "reference_id": env.ref("amazon_fbm_connector.marketplace_de").id,
            "warehouse_id": cls.warehouse.id})
        cls.mp_uk = Marketplace.create({
            "seller_id": cls.seller.id, "reference_id": env.ref("amazon_fbm_connector.marketplace_uk").id,
            "warehouse_id": cls.warehouse.id})
        Product = env["product.product"]
        cls.products = {}
        for sku in ("SKU-A", "SKU-B", "SKU-C", "SKU-D"):
            cls.products[sku] = Product.create({
                "name": "Product %s" % sku, "default_code": sku, "detailed_type": "product",
                "list_price": 10.0, "taxes_id": [(6, 0, cls.tax_us.ids)]})
        cls.products["SKU-EU"] = Product.create({
            "name": "EU product", "default_code": "SKU-EU", "detailed_type": "product",
            "taxes_id": [(6, 0, cls.tax_vat.ids)]})

    def setUp(self):
        if self._uses_test_cursor():
            # What the class set up is "committed" before the test's savepoint: a commit
            # in the test then releases savepoints inside it, never outside.
            self.env.cr.commit()  # pylint: disable=invalid-commit  # a savepoint of the test cursor
        super().setUp()
        if self._uses_test_cursor():
            self.addCleanup(self._forget_test_cursor_savepoint)
        self.emulator.reset_state()
        RateLimiter.reset()
        # The emulator's buckets are full again: so are ours (shared in the database).
        self.env["amazon.rate.bucket"]._store().reset()
        _token_cache.clear()   # the emulator forgot its access tokens

    def _forget_test_cursor_savepoint(self):
        """Before the test's savepoint is rolled back: drop the test cursor's own
        savepoint (inside it), so the next test starts from the class's state."""
        test_cursor = self.env.cr
        if test_cursor._savepoint:
            test_cursor._savepoint.rollback()
            test_cursor._savepoint.close(rollback=False)
            test_cursor._savepoint = None

    # ------------------------------------------------------------- helpers
    def process_file(self, request):
        """Process File, then the scheduler's pass that imports the report."""
        action = request.action_process_file()
        self.env["amazon.report.request"]._cron_process_reports()
        request.invalidate_recordset()
        return action

    def run_listings(self):
        """The listing cron's pass: the listings an Operations click started."""
        self.env["amazon.order.listing"]._cron_continue()
    def add_us_order(self, **kw):
        items = kw.pop("items", None) or [
            # US: Amazon taxes the discounted price (8.25% of 18.00 = 1.49), and
            # PromotionDiscountTax is zero.
            {"sku": "SKU-A", "qty": 2, "price": "20.00", "tax": "1.49", "shipping": "4.99",
             "shipping_tax": "0.41", "promotion": "2.00"}]
        kw.setdefault("purchase_date", self.now - timedelta(days=1))
        return self.scenario.add_order(marketplace_id=US, items=items, **kw)

    def amazon_total(self, order_id):
        return Decimal(self.scenario.orders[order_id]["order"]["OrderTotal"]["Amount"])

    def assertTotal(self, sale_order, order_id):
        expected = float(self.amazon_total(order_id))
        self.assertAlmostEqual(sale_order.amount_total, expected, places=2,
                               msg="%s: Odoo %.2f != Amazon %.2f" % (order_id, sale_order.amount_total, expected))

    def orders_of(self, refs):
        return self.env["sale.order"].search([("amazon_seller_id", "=", self.seller.id),
                                              ("amazon_order_ref", "in", list(refs))])

    @classmethod
    def stock_up(cls, skus=("SKU-A", "SKU-B"), qty=50):
        """``qty`` of each SKU on hand in the FBM warehouse (for deliveries to validate)."""
        stock = cls.warehouse.lot_stock_id
        for sku in skus:
            cls.env["stock.quant"]._update_available_quantity(cls.products[sku], stock, qty)

    @classmethod
    def ups_carrier(cls):
        """An Odoo carrier whose name Amazon's carrier codes know (UPS)."""
        fee = cls.env["product.product"].create({"name": "Carrier fee", "detailed_type": "service"})
        return cls.env["delivery.carrier"].create({"name": "UPS Ground", "product_id": fee.id})

    def build(self, order_ids, shipped=False, workflow=True):
        """Orders API data -> normalised orders -> builder (+ workflow)."""
        from ..services.auto_workflow import AutoWorkflow
        from ..services.normalize import from_orders_api
        from ..services.order_builder import OrderBuilder
        orders = [from_orders_api(self.scenario.orders[o]["order"], self.scenario.orders[o]["items"])
                  for o in order_ids]
        results = OrderBuilder(self.seller, shipped=shipped).build(orders)
        created = self.env["sale.order"].browse([r.sale_order.id for r in results if r.state == "created"])
        if workflow:
            AutoWorkflow(self.seller.workflow_id, force_confirm=shipped).run(created)
        return results


class TaxedCase(AmazonCase):
    """Products (``taxed_skus``) with the company's default sale tax (15 %, generic chart),
    also on shipping, gift wrap and discounts; a workflow that confirms, invoices and posts."""
    taxed_skus = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.default_tax = cls.company.account_sale_tax_id
        assert cls.default_tax and cls.default_tax.amount == 15, "the generic chart's 15 % tax"
        cls.vat_account = cls.default_tax.invoice_repartition_line_ids.filtered(
            lambda l: l.repartition_type == "tax").account_id
        for sku in cls.taxed_skus:
            cls.products[sku] = env["product.product"].create({
                "name": "Taxed %s" % sku, "default_code": sku, "detailed_type": "product",
                "taxes_id": [(6, 0, cls.default_tax.ids)]})
        for product in (cls.seller.shipping_product_id, cls.seller.gift_wrap_product_id,
                        cls.seller.discount_product_id):
            product.taxes_id = cls.default_tax
        journal = env["account.journal"].search([("type", "=", "bank"),
                                                 ("company_id", "=", cls.company.id)], limit=1)
        cls.seller.workflow_id = env["amazon.sale.workflow"].create({
            "name": "Post", "confirm_order": True, "create_invoice": True,
            "validate_invoice": True, "invoice_date_is_order_date": True,
            "payment_journal_id": journal.id})


class CancellationCase(AmazonCase):
    """What the cancellation tests share (both directions): a bank journal, a carrier,
    a workflow that invoices, an imported order, a shipped delivery."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.journal = cls.env["account.journal"].search([
            ("type", "=", "bank"), ("company_id", "=", cls.company.id)], limit=1)
        cls.carrier = cls.env["delivery.carrier"].create({
            "name": "USPS", "product_id": cls.env["product.product"].create({
                "name": "Postage", "detailed_type": "service"}).id})

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        self.seller.fbm_status_sync_cursor = False

    def use_workflow(self, pay=False):
        self.seller.workflow_id = self.env["amazon.sale.workflow"].create({
            "name": "Invoice", "confirm_order": True, "create_invoice": True, "validate_invoice": True,
            "register_payment": pay, "payment_journal_id": self.journal.id})

    def import_order(self, items=None):
        ref = self.add_us_order(items=items) if items else self.add_us_order()
        [res] = self.build([ref])
        self.assertEqual(res.state, "created", res.message)
        return ref, res.sale_order

    def ship(self, picking, tracking="9400100000000000000000"):
        picking.write({"carrier_id": self.carrier.id, "carrier_tracking_ref": tracking})
        for move in picking.move_ids.filtered(lambda m: m.state != "cancel"):
            move.quantity = move.product_uom_qty
            move.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")


@contextmanager
def cron_pass_began(seconds_ago, limit=120):
    """The current thread as Odoo marks a cron thread whose pass began ``seconds_ago``
    (``limit_time_real`` = ``limit``): what ``runner.deadline`` reads."""
    thread = threading.current_thread()
    saved = {name: getattr(thread, name, None) for name in ("type", "start_time")}
    thread.type, thread.start_time = "cron", time.time() - seconds_ago
    try:
        with patch.dict(config.options, {"limit_time_real": limit, "limit_time_real_cron": -1}):
            yield
    finally:
        for name, value in saved.items():
            if value is None:
                delattr(thread, name)
            else:
                setattr(thread, name, value)


@contextmanager
def first_builds_at_once(parties=2, delays=None):
    """Two (``parties``) workers' threads build their first batch at the same
    instant: ``OrderBuilder.build`` waits at a barrier on each thread's first
    call, then sleeps ``delays[thread name]`` seconds if given (to let one
    worker create first). Yields the names of the threads that built."""
    barrier = threading.Barrier(parties, timeout=30)
    built = set()
    original = OrderBuilder.build

    def build_together(builder, orders):
        name = threading.current_thread().name
        if name not in built:
            built.add(name)
            barrier.wait()   # the workers look for buyers, SKUs and taxes at the same instant
            time.sleep((delays or {}).get(name, 0))
        return original(builder, orders)

    with patch.object(OrderBuilder, "build", build_together):
        yield built


def run_in_threads(targets, timeout=120):
    """``{thread name: callable}``: each in its own thread, all started, all joined."""
    threads = [threading.Thread(target=target, name=name) for name, target in targets.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)


_sql_mute = {"lock": threading.Lock(), "depth": 0, "muted": None}


@contextmanager
def sql_errors_muted():
    """``mute_logger("odoo.sql_db")`` shared by threads: muted from the first thread in
    to the last one out. Odoo's ``mute_logger`` saves the logger's handlers on entry and
    puts them back on exit: threads entering and leaving in turn would unmute it while
    another still runs (its refused query then logs an ERROR), or leave it muted for
    good (hiding later tests' errors)."""
    with _sql_mute["lock"]:
        if not _sql_mute["depth"]:
            _sql_mute["muted"] = mute_logger("odoo.sql_db")
            _sql_mute["muted"].__enter__()
        _sql_mute["depth"] += 1
    try:
        yield
    finally:
        with _sql_mute["lock"]:
            _sql_mute["depth"] -= 1
            if not _sql_mute["depth"]:
                _sql_mute["muted"].__exit__()


def cron_worker(registry, model, method, errors):
    """What one cron thread of a server does: ``env[model].method()`` on a cursor
    of its own, committed; an exception is appended to ``errors``. A worker that
    meets another's commit gets a serialization failure, which odoo.sql_db logs
    (muted here, for as long as any worker runs); the cron job handles it."""
    try:
        with sql_errors_muted(), registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            getattr(env[model], method)()
            cr.commit()  # pylint: disable=invalid-commit
    except Exception as exc:  # noqa: BLE001
        errors.append(exc)
