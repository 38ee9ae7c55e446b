"""The one runner of cron work (services/runner.py), and the clicks that wait for
Amazon: what a cron pass commits, retries, locks and leaves for the next pass."""
import socket
import time
from unittest.mock import patch

from psycopg2.errors import SerializationFailure

from odoo import sql_db
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..services import errors
from ..services.auto_workflow import AutoWorkflow
from ..services.runner import Runner, lock_namespace
from .common import AmazonCase, cron_pass_began


@tagged("post_install", "-at_install")
class TestRunner(AmazonCase):

    def test_batch_failed_by_a_concurrent_worker_runs_again(self):
        calls = []

        def batch():
            calls.append(1)
            self.env["res.partner"].create({"name": "attempt %d" % len(calls)})
            if len(calls) < 3:
                raise SerializationFailure("could not serialize access")
            return "done"

        runner = Runner(self.env)
        self.assertEqual(runner.run_batch(batch), "done")
        self.assertEqual(len(calls), 3)
        self.assertEqual(runner.conflicts, 2)
        names = self.env["res.partner"].search([("name", "like", "attempt %")]).mapped("name")
        self.assertEqual(names, ["attempt 3"], "the failed attempts were rolled back")

    def test_recorded_error_is_rolled_back_and_recorded(self):
        partner = self.env["res.partner"].create({"name": "record"})
        runner = Runner(self.env)

        def batch():
            partner.name = "half done"
            raise errors.AmazonServerError("Amazon answered 503")

        runner.run_batch(batch, on_error=lambda exc: partner.write({"ref": str(exc)}))
        partner.invalidate_recordset()
        self.assertEqual(partner.name, "record", "the failed batch's work is rolled back")
        self.assertEqual(partner.ref, "Amazon answered 503")

    def test_lock_is_released_after_a_database_error(self):
        runner = Runner(self.env)
        failed = False
        try:
            with mute_logger("odoo.sql_db"), runner.lock("test_lock", 7) as held:
                self.assertTrue(held)
                self.env.cr.execute("SELECT 1 / 0")
        except Exception:  # noqa: BLE001 - the database error goes on up
            failed = True
        self.assertTrue(failed)
        # another server's connection can take it
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other:
            other.execute("SELECT pg_try_advisory_lock(%s, %s)", (lock_namespace("test_lock"), 7))
            self.assertTrue(other.fetchone()[0], "the lock was released on the error path")
            other.execute("SELECT pg_advisory_unlock(%s, %s)", (lock_namespace("test_lock"), 7))

    def test_lock_held_elsewhere_is_skipped(self):
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other:
            other.execute("SELECT pg_advisory_lock(%s, %s)", (lock_namespace("test_lock"), 8))
            with Runner(self.env).lock("test_lock", 8) as held:
                self.assertFalse(held)
            other.execute("SELECT pg_advisory_unlock(%s, %s)", (lock_namespace("test_lock"), 8))

    def test_concurrency_error_in_the_workflow_reaches_the_retry(self):
        """A serialization failure while confirming is another worker, not the order's
        failure: the batch runs again and the order is confirmed, with no note."""
        ref = self.add_us_order(status="Shipped")
        self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_shipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)]}).action_execute()
        self.run_listings()
        original = AutoWorkflow._confirm
        failures = []

        def confirm_once_in_conflict(workflow, orders):
            if not failures:
                failures.append(1)
                raise SerializationFailure("could not serialize access due to concurrent update")
            return original(workflow, orders)

        with patch.object(AutoWorkflow, "_confirm", confirm_once_in_conflict):
            self.env["amazon.order.queue"]._cron_process_queues()
        order = self.orders_of([ref])
        self.assertEqual(failures, [1])
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.amazon_workflow_message)
        line = self.env["amazon.order.queue.line"].search([("amazon_order_ref", "=", ref),
                                                           ("seller_id", "=", self.seller.id)])
        self.assertEqual(line.state, "done")

    def test_status_sync_stops_before_odoos_limit(self):
        """Following order changes waits for no quota or retry past the pass's limit:
        Amazon answers 503 again and again, the pass ends in time and is triggered."""
        self.seller.fbm_status_sync_auto = True
        cursor = self.seller.fbm_status_sync_cursor
        self.emulator.fail_next("searchOrders", 100, 503)
        self.emulator.fail_next("getOrders", 100, 503)
        cron = self.env.ref("amazon_fbm_connector.ir_cron_amazon_status_sync")
        before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        started = time.time()
        with mute_logger("odoo.addons.amazon_fbm_connector.services.spapi_client"), cron_pass_began(50):
            self.env["amazon.seller"]._cron_amazon_status_sync()
        self.assertLess(time.time() - started, 15, "no backoff past the pass's limit (60 s of 120)")
        self.assertEqual(self.seller.fbm_status_sync_cursor, cursor, "the window is listed again later")
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), before + 1)


@tagged("post_install", "-at_install")
class TestInteractiveCalls(AmazonCase):

    def test_follow_changes_now_hands_the_sync_to_its_cron(self):
        """The button lists nothing in the request; the status sync's next pass follows
        this seller's changes even with its schedule off."""
        self.seller.write({"fbm_status_sync_auto": False, "fbm_status_sync_cursor": False})
        ref = self.add_us_order()
        self.build([ref])
        self.emulator.cancel_order(ref, by="BUYER", reason="Ordered by mistake")
        calls = sum(self.emulator.calls.values())
        action = self.seller.action_sync_order_status()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(sum(self.emulator.calls.values()), calls, "the click called Amazon")
        self.env["amazon.seller"]._cron_amazon_status_sync()
        self.assertEqual(self.orders_of([ref]).state, "cancel")
        self.assertFalse(self.seller.fbm_status_sync_requested)

    def test_connection_answers_within_15_s_under_a_503_burst(self):
        self.emulator.fail_next("getMarketplaceParticipations", 4, 503)
        started = time.time()
        with mute_logger("odoo.addons.amazon_fbm_connector.services.spapi_client"):
            action = self.seller.action_test_connection()
        self.assertLess(time.time() - started, 15)
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("503", action["params"]["message"])
        self.assertEqual(self.seller.connection_state, "failed", "the failed state is kept")

    def test_connection_answers_within_15_s_when_amazon_is_silent(self):
        """An endpoint that accepts the connection and never answers."""
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        self.addCleanup(silent.close)
        url = "http://127.0.0.1:%d" % silent.getsockname()[1]
        self.seller.write({"api_endpoint": url, "lwa_endpoint": url})
        started = time.time()
        with mute_logger("odoo.addons.amazon_fbm_connector.services.spapi_client"):
            action = self.seller.action_test_connection()
        self.assertLess(time.time() - started, 15)
        self.assertEqual(action["params"]["type"], "danger")
        self.assertRegex(action["params"]["message"], "did not answer within|could not be reached")
