"""Listings of Amazon's orders longer than one run continue in the next.

Amazon lists 100 orders a page and, past its burst, grants one searchOrders
call every few minutes; Odoo's threaded server reloads itself when a request or
a cron pass runs longer than ``limit_time_real``. These tests make the current
thread look like a cron thread whose pass began long ago (the way Odoo marks
it), so a run reaches its deadline after a page or two."""
import time
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.amazon_order_listing import LISTING_CRON
from ..services.runner import Runner
from .common import AmazonCase, cron_pass_began

ORDERS = 250  # three pages of searchOrders / getOrders


class WorkerKilled(BaseException):
    """The server died (kill -9): nothing after it runs, nothing uncommitted stays."""


@tagged("post_install", "-at_install")
class TestOrderListing(AmazonCase):
    api_version = "2026-01-01"
    list_operation = "searchOrders"

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        self.seller.orders_api_version = self.api_version
        self.refs = [self.add_us_order(status="Shipped", buyer_email="l%d@marketplace.amazon.com" % n,
                                       purchase_date=self.now - timedelta(days=2, minutes=n))
                     for n in range(ORDERS)]

    # ------------------------------------------------------------- helpers
    def wizard(self):
        return self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_shipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)],
            "date_from": fields.Datetime.now() - timedelta(days=10),
            "date_to": fields.Datetime.now()}).action_execute()

    def first_page_then_deadline(self):
        """A click starts the listing; the listing cron's pass, whose first page arrives
        after the pass's deadline (5 s left, the page takes 6 s), stops there."""
        action = self.wizard()
        self.assertFalse(self.emulator.calls[self.list_operation], "the click lists nothing itself")
        self.emulator.slow_next(self.list_operation, count=1, seconds=6.0)
        with cron_pass_began(55):
            self.env["amazon.order.listing"]._cron_continue()
        return action

    def listing(self):
        return self.env["amazon.order.listing"].search([("seller_id", "=", self.seller.id)])

    def queued_refs(self):
        return self.env["amazon.order.queue.line"].search(
            [("seller_id", "=", self.seller.id)]).mapped("amazon_order_ref")

    def continue_listings(self):
        with cron_pass_began(0):
            self.env["amazon.order.listing"]._cron_continue()

    def triggers(self):
        cron = self.env.ref(LISTING_CRON)
        return self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])

    def assertQueuedOnce(self):
        refs = self.queued_refs()
        self.assertEqual(len(refs), ORDERS, "every order queued once")
        self.assertEqual(sorted(refs), sorted(self.refs))

    # --------------------------------------------------------------- tests
    def test_long_listing_continues_in_the_next_run(self):
        action = self.first_page_then_deadline()
        listing = self.listing()
        self.assertEqual((listing.state, listing.page_count), ("running", 1),
                         "the pass stops after the page that reached the deadline")
        self.assertTrue(listing.next_token)
        self.assertEqual(len(self.queued_refs()), 100, "the page read is queued at once")
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("in the background", action["params"]["message"])
        self.assertEqual(action["params"]["next"]["res_model"], "amazon.order.queue",
                         "the click opens the queues the listing fills")
        self.assertEqual(action["params"]["next"]["domain"], [("listing_id", "=", listing.id)])
        self.assertTrue(self.triggers(), "the listing cron is woken to continue")
        calls = self.emulator.calls[self.list_operation]
        self.continue_listings()
        self.assertEqual(listing.state, "done", listing.message)
        self.assertEqual(listing.page_count, 3)
        self.assertEqual(self.emulator.calls[self.list_operation] - calls, 2,
                         "the next run continues from the next page, not from the start")
        self.assertQueuedOnce()
        self.assertEqual(listing.queued_count, ORDERS)
        self.assertEqual(listing.queue_ids, self.env["amazon.order.queue"].search(
            [("seller_id", "=", self.seller.id)]))

    def test_small_listing_finishes_in_one_pass(self):
        action = self.wizard()
        listing = self.listing()
        self.assertEqual((listing.state, listing.page_count), ("running", 0), "the click reads nothing")
        self.assertTrue(self.triggers(), "the click wakes the listing cron")
        self.assertEqual(action["tag"], "display_notification")
        self.continue_listings()
        self.assertEqual((listing.state, listing.page_count), ("done", 3))
        self.assertQueuedOnce()

    def test_killed_run_resumes_from_its_last_commit(self):
        self.first_page_then_deadline()
        listing = self.listing()
        token = listing.next_token
        # A run reads the next page, and the server dies before the runner commits it.
        original = Runner.commit
        took_page = []

        def die_after_page(runner):
            if took_page:
                raise WorkerKilled()
            return original(runner)

        def take_page(listing_, *args):
            took_page.append(True)
            return Listing_take_page(listing_, *args)

        Listing_take_page = type(listing)._take_page
        # (not assertRaises: its savepoint would be released by the runner's commits)
        killed = False
        with patch.object(Runner, "commit", die_after_page), \
                patch.object(type(listing), "_take_page", take_page):
            try:
                self.continue_listings()
            except WorkerKilled:
                killed = True
        self.assertTrue(killed)
        self.assertEqual(listing.page_count, 2, "the page was read")
        self.env.cr.rollback()   # what the dead server's connection did
        self.assertEqual((listing.state, listing.page_count, listing.next_token), ("running", 1, token))
        self.assertEqual(len(self.queued_refs()), 100)
        self.continue_listings()
        self.assertEqual(listing.state, "done", listing.message)
        self.assertQueuedOnce()

    @mute_logger("odoo.addons.amazon_fbm_connector.services.spapi_client")
    def test_quota_wait_past_the_deadline_stops_without_sleeping(self):
        """The scheduler's run finds the shared bucket empty and slow: it waits for
        no token past its deadline, keeps its cursor, and the listing cron continues."""
        self.seller.fbm_shipped_auto = True
        cursor = fields.Datetime.now() - timedelta(days=5)
        self.seller.fbm_shipped_cursor = cursor
        bucket = self.seller._get_client().limiter.bucket(self.list_operation)
        rate = bucket.rate
        bucket.acquire()
        bucket.store.drain(bucket.key)
        bucket.store.set_rate(bucket.key, 1 / 90.0)      # next token in 90 s; 60 s left
        self.seller.fbm_shipped_next_run = fields.Datetime.now() - timedelta(minutes=1)
        started = time.time()
        with cron_pass_began(0):
            self.env["amazon.seller"]._cron_fbm_scheduler()
        self.assertLess(time.time() - started, 15, "no sleep up to the deadline")
        listing = self.listing()
        self.assertEqual((listing.state, listing.page_count, listing.origin), ("running", 0, "scheduled"))
        self.assertEqual(self.seller.fbm_shipped_cursor, cursor, "the cursor waits for the whole listing")
        trigger = self.triggers()
        self.assertTrue(trigger)
        self.assertGreater(max(trigger.mapped("call_at")), fields.Datetime.now() + timedelta(seconds=60),
                           "the listing cron is woken once the quota has a call again")
        bucket.store.reset(bucket.key)   # Amazon's bucket is full again: so is ours
        bucket.rate = rate
        self.continue_listings()
        self.assertEqual(listing.state, "done", listing.message)
        self.assertGreater(self.seller.fbm_shipped_cursor, cursor + timedelta(days=4))
        self.assertQueuedOnce()


@tagged("post_install", "-at_install")
class TestOrderListingToken(TestOrderListing):
    """Orders API 2026-01-01 page tokens are valid 24 hours (the emulator enforces it)."""

    def test_expired_token_restarts_the_listing(self):
        self.first_page_then_deadline()
        listing = self.listing()
        self.emulator.pagination_ttl = 2.0
        self.addCleanup(delattr, self.emulator, "pagination_ttl")
        time.sleep(2.5)
        self.continue_listings()
        self.assertEqual(listing.state, "done", listing.message)
        self.assertEqual(listing.restart_count, 1)
        self.assertIn("started again from its first page", listing.message or "")
        self.assertQueuedOnce()

    def test_listing_of_a_seller_without_credentials_fails_with_a_message(self):
        self.first_page_then_deadline()
        listing = self.listing()
        self.seller.refresh_token = False
        self.continue_listings()
        self.assertEqual(listing.state, "failed")
        self.assertIn("refresh token", listing.message)
        self.assertEqual(len(self.queued_refs()), 100, "what was queued stays")

    # the inherited tests run once, in TestOrderListing
    test_long_listing_continues_in_the_next_run = None
    test_small_listing_finishes_in_one_pass = None
    test_killed_run_resumes_from_its_last_commit = None
    test_quota_wait_past_the_deadline_stops_without_sleeping = None


@tagged("post_install", "-at_install")
class TestOrderListingV0(TestOrderListing):
    """The same on Orders API v0: one price report for the whole listing."""

    api_version = "v0"
    list_operation = "getOrders"

    def test_v0_listing_asks_one_price_report(self):
        self.first_page_then_deadline()
        self.continue_listings()
        listing = self.listing()
        self.assertEqual(listing.state, "done", listing.message)
        self.assertTrue(listing.price_report_id)
        self.assertEqual(listing.queue_ids.price_report_id, listing.price_report_id,
                         "every page's queues wait on the listing's one price report")
        self.assertEqual(self.emulator.calls["createReport"], 1)
        self.assertQueuedOnce()
