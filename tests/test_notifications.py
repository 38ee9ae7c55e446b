"""Orders in minutes: Amazon's ORDER_CHANGE notifications through SQS.

Real parts only: moto's SQS server on loopback (started by tools/test.sh, its
URL in AMAZON_FBM_SQS_ENDPOINT), read with boto3; the HTTP SP-API emulator,
which implements the Notifications API (grantless token enforced) and publishes
ORDER_CHANGE messages to the subscribed queue when its orders change."""
import json
import os
import time
import uuid
from datetime import timedelta
from functools import partial
from unittest.mock import patch

import boto3

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import tagged

from ..services import orders_adapter
from ..services.rate_limit import RateLimiter
from ..services.runner import Runner
from .common import AmazonCase, cron_worker, run_in_threads


@tagged("post_install", "-at_install")
class TestOrderNotifications(AmazonCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sqs_endpoint = os.environ.get("AMAZON_FBM_SQS_ENDPOINT")
        if not cls.sqs_endpoint:
            raise RuntimeError("AMAZON_FBM_SQS_ENDPOINT is not set: run the Odoo suite through "
                               "tools/test.sh, which starts moto's SQS server (tools/sqs.sh).")
        cls.emulator.sqs_endpoint = cls.sqs_endpoint
        cls.sqs = boto3.session.Session().client(
            "sqs", region_name="us-east-1", endpoint_url=cls.sqs_endpoint,
            aws_access_key_id="testing", aws_secret_access_key="testing")
        cls.queue_url = cls.sqs.create_queue(QueueName="amazon-orders-%s" % uuid.uuid4().hex[:8])["QueueUrl"]
        cls.addClassCleanup(cls.sqs.delete_queue, QueueUrl=cls.queue_url)
        cls.seller.write({
            "sqs_queue_url": cls.queue_url, "sqs_region": "us-east-1", "sqs_endpoint": cls.sqs_endpoint,
            "aws_access_key_id": "testing", "aws_secret_access_key": "testing-secret"})
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param("amazon_fbm_connector.sqs_wait_seconds", "0")
        params.set_param("amazon_fbm_connector.sqs_visibility_seconds", "30")

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        self.drain()

    # ------------------------------------------------------------- helpers
    def subscribe(self):
        self.seller.action_subscribe_notifications()
        self.assertEqual(self.seller.notification_state, "subscribed", self.seller.notification_error)
        self.emulator.publish_changes()   # what the emulator has so far is not news

    def new_order(self, minutes_ago=10, **kw):
        return self.add_us_order(purchase_date=self.now_utc() - timedelta(minutes=minutes_ago), **kw)

    def now_utc(self):
        from datetime import datetime, timezone
        return datetime.now(timezone.utc).replace(microsecond=0)

    def consume(self):
        self.emulator.reset_quota()
        self.seller._consume_notifications(Runner(self.env, stop_at=time.time() + 60))
        self.env["amazon.order.queue"]._cron_process_queues()

    def queued_messages(self):
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def drain(self):
        while True:
            res = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=0, VisibilityTimeout=0)
            if not res.get("Messages"):
                return
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(res["Messages"])])

    def send(self, body):
        self.sqs.send_message(QueueUrl=self.queue_url,
                              MessageBody=body if isinstance(body, str) else json.dumps(body))

    # ---------------------------------------------------------------- tests
    def test_subscribe_with_grantless_destination_found_again(self):
        self.subscribe()
        [destination] = self.emulator.destinations.values()
        self.assertTrue(destination["resource"]["sqs"]["arn"].endswith(":" + self.queue_url.rsplit("/", 1)[1]))
        [subscription] = self.emulator.subscriptions.values()
        flt = subscription["processingDirective"]["eventFilter"]
        self.assertEqual(flt["eventFilterType"], "ORDER_CHANGE")
        self.assertEqual(set(flt["marketplaceIds"]), set(self.seller.marketplace_ids.mapped("amazon_marketplace_id")))
        self.assertEqual(set(flt["orderChangeTypes"]), {"OrderStatusChange", "BuyerRequestedChange"})
        # createDestination was accepted: only with a client_credentials token
        self.assertTrue(self.emulator.grantless_tokens)
        self.assertEqual(self.seller.notification_destination_ref, destination["destinationId"])
        self.assertEqual(self.seller.notification_subscription_ref, subscription["subscriptionId"])
        self.assertTrue(self.seller.notifications_since)
        # pressed again: nothing created twice
        self.seller.action_subscribe_notifications()
        self.assertEqual(self.emulator.calls["createDestination"], 1)
        self.assertEqual(self.emulator.calls["createSubscription"], 1)
        self.assertEqual(len(self.emulator.subscriptions), 1)

    def test_subscribe_with_a_wrong_queue_says_so(self):
        self.seller.sqs_queue_url = self.queue_url + "-missing"
        action = self.seller.action_subscribe_notifications()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("SQS queue", action["params"]["message"])
        self.assertEqual(self.seller.notification_state, "failed")
        self.assertFalse(self.emulator.subscriptions)

    def test_new_order_arrives_through_a_notification(self):
        self.subscribe()
        ref = self.new_order()
        self.assertEqual(self.emulator.publish_changes(), 1)
        self.consume()
        so = self.orders_of([ref])
        self.assertEqual(len(so), 1)
        self.assertEqual(so.state, "sale")
        self.assertTotal(so, ref)
        self.assertEqual(self.emulator.calls["getOrder2026"], 1)
        self.assertEqual(self.emulator.calls["searchOrders"], 0)
        self.assertEqual(self.queued_messages(), 0)
        note = self.env["amazon.notification"].search([("seller_id", "=", self.seller.id)])
        self.assertEqual((note.amazon_order_ref, note.state, note.change_type), (ref, "done", "OrderStatusChange"))
        self.assertTrue(self.seller.notification_last_message)

    def test_shipped_cancelled_and_cancellation_request(self):
        self.subscribe()
        shipped, cancelled, asked = self.new_order(), self.new_order(), self.new_order()
        self.emulator.publish_changes()
        self.consume()
        sos = {so.amazon_order_ref: so for so in self.orders_of([shipped, cancelled, asked])}
        self.assertEqual(len(sos), 3)
        self.scenario.set_status(shipped, "Shipped")
        self.emulator.cancel_order(cancelled, by="BUYER", reason="Ordered by mistake")
        self.emulator.request_cancellation(asked, reason="Found it cheaper")
        self.assertEqual(self.emulator.publish_changes(), 3)
        self.consume()
        self.assertEqual(sos[shipped].picking_ids.mapped("state"), ["done"])
        self.assertEqual(sos[cancelled].state, "cancel")
        self.assertTrue(sos[asked].amazon_cancel_requested)
        self.assertEqual(sos[asked].amazon_cancel_request_reason, "Found it cheaper")
        self.assertNotEqual(sos[asked].picking_ids.state, "done")
        self.assertEqual(self.queued_messages(), 0)

    def test_duplicates_and_reordering_are_harmless(self):
        self.subscribe()
        ref = self.new_order()
        self.emulator.publish_changes()                     # A: new order (Unshipped)
        self.emulator.cancel_order(ref, by="BUYER", reason="Changed my mind")
        self.emulator.publish_changes()                     # B: Canceled
        [(_arn, first), (_arn2, second)] = self.emulator.published
        self.drain()
        for body in (second, first, first):                 # late, early, and a duplicate
            self.send(body)
        self.consume()
        # Odoo acted on Amazon's state (cancelled), whatever the order of the messages
        self.assertFalse(self.orders_of([ref]))
        self.assertEqual(self.emulator.calls["getOrder2026"], 1)   # one read for the order
        notes = self.env["amazon.notification"].search([("seller_id", "=", self.seller.id)])
        self.assertEqual(len(notes), 2)
        self.assertEqual(self.queued_messages(), 0)
        # the same notification again, later: recognised, no call to Amazon
        self.send(first)
        self.consume()
        self.assertEqual(self.emulator.calls["getOrder2026"], 0)
        self.assertEqual(self.queued_messages(), 0)

    def test_duplicate_new_order_notifications_import_once(self):
        self.subscribe()
        ref = self.new_order()
        self.emulator.publish_changes()
        [(_arn, body)] = self.emulator.published
        other = dict(body, NotificationMetadata=dict(body["NotificationMetadata"], NotificationId=str(uuid.uuid4())))
        self.send(other)      # Amazon said it twice, with two notification ids
        self.consume()
        self.send(body)
        self.consume()
        self.assertEqual(len(self.orders_of([ref])), 1)

    def test_order_amazon_does_not_know_is_recorded(self):
        self.subscribe()
        ref = self.new_order()
        self.emulator.publish_changes()
        [(_arn, body)] = self.emulator.published
        del self.scenario.orders[ref]          # Amazon no longer answers for it
        self.consume()
        [note] = self.env["amazon.notification"].search([("seller_id", "=", self.seller.id)])
        self.assertEqual((note.state, note.amazon_order_ref), ("done", ref))
        self.assertIn("does not know", note.message)
        self.assertFalse(self.orders_of([ref]))
        self.assertEqual(self.queued_messages(), 0)
        self.assertEqual(body["Payload"]["OrderChangeNotification"]["AmazonOrderId"], ref)

    def test_poison_message_is_recorded_and_deleted(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("amazon_fbm_connector.sqs_visibility_seconds", "0")
        params.set_param("amazon_fbm_connector.sqs_max_receives", "2")
        self.subscribe()
        self.send("this is not a notification")
        ref = self.new_order()
        self.emulator.publish_changes()
        self.consume()
        self.assertEqual(len(self.orders_of([ref])), 1)      # the good one went through
        dropped = self.env["amazon.notification"].search([("seller_id", "=", self.seller.id),
                                                          ("state", "=", "dropped")])
        self.assertEqual(len(dropped), 1)
        self.assertIn("not JSON", dropped.message)
        self.assertEqual(dropped.body, "this is not a notification")
        self.assertGreater(dropped.receive_count, 2)
        self.assertEqual(self.queued_messages(), 0)
        self.assertEqual(self.seller.notification_dropped_count, 1)

    def test_order_amazon_keeps_failing_is_dropped_with_the_reason(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("amazon_fbm_connector.sqs_visibility_seconds", "0")
        params.set_param("amazon_fbm_connector.sqs_max_receives", "2")
        self.subscribe()
        ref = self.new_order()
        self.emulator.publish_changes()
        self.emulator.fail_next("getOrder2026", count=100, status=503)
        self.consume()
        self.assertFalse(self.orders_of([ref]))
        [dropped] = self.env["amazon.notification"].search([("seller_id", "=", self.seller.id)])
        self.assertEqual((dropped.state, dropped.amazon_order_ref), ("dropped", ref))
        self.assertIn("503", dropped.message)
        self.assertEqual(self.queued_messages(), 0)

    def test_sqs_outage_safety_net_imports_what_was_missed(self):
        self.subscribe()
        self.seller.sqs_endpoint = "http://127.0.0.1:9"   # nothing listens there: the queue is out
        ref = self.new_order(minutes_ago=10)
        self.emulator.publish_changes()
        self.emulator.reset_quota()
        self.seller._cron_consume_notifications()
        self.assertIn("could not be reached", self.seller.notification_error)
        self.assertEqual(self.emulator.calls["searchOrders"], 1)   # the safety net's listing
        self.assertTrue(self.seller.notification_safety_next_run)
        self.env["amazon.order.queue"]._cron_process_queues()
        self.assertEqual(len(self.orders_of([ref])), 1)
        # the queue is back: its late message changes nothing
        self.seller.sqs_endpoint = self.sqs_endpoint
        self.consume()
        self.assertEqual(len(self.orders_of([ref])), 1)
        self.assertEqual(self.queued_messages(), 0)
        self.assertFalse(self.seller.notification_error)
        # the safety net is not due again before its interval
        self.emulator.reset_quota()
        self.seller._cron_consume_notifications()
        self.assertEqual(self.emulator.calls["searchOrders"], 0)

    def test_safety_net_continues_from_its_next_page(self):
        """A safety-net window of several pages is read a page per unit of work: what a
        run could not read continues from the next-page token (same parameters, as Amazon
        requires), never from the first page again; the cursor moves after the last."""
        self.subscribe()
        refs = [self.new_order(minutes_ago=10) for _n in range(5)]   # their notifications were lost
        cursor = self.seller.notification_safety_cursor = self.seller.notification_safety_cursor - timedelta(minutes=15)
        self.emulator.reset_quota()
        with patch.object(orders_adapter, "PAGE_SIZE", 2):
            first = self.seller._notification_safety_net()
            self.assertFalse(first["_done"])
            self.assertTrue(self.seller.notification_safety_token)
            self.assertEqual(self.seller.notification_safety_cursor, cursor, "moves after the last page")
            rest = [self.seller._notification_safety_net() for _n in range(2)]
        self.assertEqual([r["_done"] for r in rest], [False, True])
        self.assertEqual(self.emulator.calls["searchOrders"], 3, "each page read once")
        self.assertFalse(self.seller.notification_safety_token)
        self.assertGreater(self.seller.notification_safety_cursor, cursor)
        self.env["amazon.order.queue"]._cron_process_queues()
        self.assertEqual(len(self.orders_of(refs)), 5)

    def test_safety_net_out_of_quota_is_due_when_its_call_is(self):
        """A safety-net page the quota cannot give before the run's time limit is not
        sent; the listing is due again when the quota has that call, not at once (a pass
        triggered at once is only refused again, pass after pass)."""
        self.subscribe()
        self.new_order(minutes_ago=10)
        self.at_amazons_quotas()
        self.emulator.reset_quota()
        bucket = self.seller._get_client().limiter.bucket("searchOrders")
        bucket.acquire(max_wait=0)   # its row exists...
        bucket.drain()               # ...and is empty: the next call in 180 s
        before = fields.Datetime.now()
        self.seller._run_safety_net(Runner(self.env, stop_at=time.time() + 30))
        self.assertEqual(self.emulator.calls["searchOrders"], 0, "nothing sent")
        due = self.seller.notification_safety_next_run
        self.assertTrue(due, "not due at once")
        self.assertGreaterEqual(due, before + timedelta(seconds=120), "due when the quota has the call")
        self.assertLess(due, before + timedelta(minutes=5))
        self.seller._cron_consume_notifications()
        self.assertEqual(self.seller.notification_safety_next_run, due, "not tried again before")

    def at_amazons_quotas(self):
        """Our buckets at Amazon's own usage plans (getOrder 0.5/s, burst 30;
        searchOrders 0.0056/s, burst 20); the emulator stays generous."""
        self.env["ir.config_parameter"].sudo().set_param("amazon_fbm_connector.rate_scale", "1")
        self.env["amazon.rate.bucket"]._store().reset()

    def test_many_orders_are_read_with_one_listing(self):
        # More notified orders than getOrder's quota reads within seconds (29 + 0.5/s),
        # the oldest old enough:
        # one searchOrders page reads them all; an order the listing misses (Amazon
        # updated it before the notified change) is read with getOrder. Each order once.
        self.subscribe()
        self.at_amazons_quotas()
        self.env["ir.config_parameter"].sudo().set_param("amazon_fbm_connector.notified_search_age", "0")
        refs = [self.new_order(minutes_ago=10) for _i in range(35)]
        self.assertEqual(self.emulator.publish_changes(), 35)
        stale = self.new_order(minutes_ago=30)
        self.assertEqual(self.emulator.publish_changes(), 1)   # changed 25 minutes ago...
        order = self.scenario.orders[stale]["order"]
        order["LastUpdateDate"] = order["PurchaseDate"]          # ...but Amazon says 30
        self.consume()
        self.assertEqual(len(self.orders_of(refs + [stale])), 36)
        self.assertEqual(self.emulator.calls["searchOrders"], 1)
        self.assertEqual(self.emulator.calls["getOrder2026"], 1)   # the one not listed
        self.assertEqual(self.queued_messages(), 0)
        self.assertEqual(self.env["amazon.notification"].search_count(
            [("seller_id", "=", self.seller.id), ("state", "=", "done")]), 36)

    def test_orders_within_getorders_quota_are_not_listed(self):
        # Young notifications wait for getOrder's quota rather than cost a listing.
        self.subscribe()
        self.at_amazons_quotas()
        self.env["ir.config_parameter"].sudo().set_param("amazon_fbm_connector.notified_search_age", "3600")
        refs = [self.new_order(minutes_ago=10) for _i in range(31)]
        self.assertEqual(self.emulator.publish_changes(), 31)
        self.consume()
        self.assertEqual(len(self.orders_of(refs)), 31)
        self.assertEqual(self.emulator.calls["searchOrders"], 0)
        self.assertEqual(self.emulator.calls["getOrder2026"], 31)
        self.assertEqual(self.queued_messages(), 0)

    def test_small_queues_of_notified_orders_are_built_in_one_batch(self):
        self.subscribe()
        refs = []
        for _i in range(3):   # three reads, three small queues
            refs.append(self.new_order())
            self.assertEqual(self.emulator.publish_changes(), 1)
            self.seller._consume_notifications(Runner(self.env, stop_at=time.time() + 60))
        queues = self.env["amazon.order.queue"].search([("seller_id", "=", self.seller.id)])
        self.assertEqual(len(queues), 3)
        claimed = self.env["amazon.order.queue"]._process_claimed(Runner(self.env, stop_at=time.time() + 60))
        self.assertEqual(claimed, 3)
        self.assertEqual(set(queues.mapped("state")), {"done"})
        self.assertEqual(len(self.orders_of(refs)), 3)

    def test_status_sync_cron_leaves_subscribed_sellers_to_the_safety_net(self):
        self.seller.fbm_status_sync_auto = True
        self.subscribe()
        self.emulator.reset_quota()
        self.env["amazon.seller"]._cron_amazon_status_sync()
        self.assertEqual(self.emulator.calls["searchOrders"], 0)

    def test_unsubscribe(self):
        self.subscribe()
        self.seller.action_unsubscribe_notifications()
        self.assertEqual(self.seller.notification_state, "off")
        self.assertFalse(self.emulator.subscriptions)
        self.new_order()
        self.assertEqual(self.emulator.publish_changes(), 0)
        self.assertEqual(self.queued_messages(), 0)
        # the status sync is the seller's own again
        self.seller.fbm_status_sync_auto = True
        self.emulator.reset_quota()
        self.env["amazon.seller"]._cron_amazon_status_sync()
        self.assertEqual(self.emulator.calls["searchOrders"], 1)

    def test_aws_secret_is_encrypted_and_for_managers(self):
        stored = self.seller.sudo().aws_secret_access_key_enc
        self.assertTrue(stored.startswith("fernet:"))
        self.assertNotIn("testing-secret", stored)
        self.assertEqual(self.seller.aws_secret_access_key, "testing-secret")
        user = self.env["res.users"].create({
            "name": "Amazon user", "login": "amz_notif_user",
            "groups_id": [(6, 0, [self.env.ref("amazon_fbm_connector.group_amazon_user").id])]})
        from odoo.exceptions import AccessError
        with self.assertRaises(AccessError):
            self.seller.with_user(user).read(["aws_secret_access_key"])


@tagged("post_install", "-at_install")
class TestNotificationConcurrency(AmazonCase):
    """Two Odoo servers read one queue at the same instant (real cursors and commits, as
    two cron threads): every notified order is imported once, every message deleted.
    Committed rows stay in the throw-away test database (a seller switched off after, its
    own SKU and buyers, like TestConcurrentCreation)."""
    real_cursors = True

    def test_two_servers_consume_one_queue(self):
        endpoint = os.environ.get("AMAZON_FBM_SQS_ENDPOINT")
        if not endpoint:
            raise RuntimeError("AMAZON_FBM_SQS_ENDPOINT is not set: run through tools/test.sh.")
        self.emulator.sqs_endpoint = endpoint
        sqs = boto3.session.Session().client("sqs", region_name="us-east-1", endpoint_url=endpoint,
                                             aws_access_key_id="testing", aws_secret_access_key="testing")
        queue_url = sqs.create_queue(QueueName="amazon-orders-%s" % uuid.uuid4().hex[:8])["QueueUrl"]
        self.addCleanup(sqs.delete_queue, QueueUrl=queue_url)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            seller = env["amazon.seller"].create({
                "name": "Two servers seller", "lwa_client_id": self.seller.lwa_client_id,
                "lwa_client_secret": self.seller.lwa_client_secret,
                "refresh_token": self.seller.refresh_token, "api_endpoint": self.emulator.url,
                "lwa_endpoint": self.emulator.url, "order_prefix": "TWO-", "queue_size": 3,
                "create_product_if_missing": True, "fbm_status_sync_auto": False,
                "sqs_queue_url": queue_url, "sqs_region": "us-east-1", "sqs_endpoint": endpoint,
                "aws_access_key_id": "testing", "aws_secret_access_key": "testing"})
            env["amazon.marketplace"].create({
                "seller_id": seller.id, "reference_id": env.ref("amazon_fbm_connector.marketplace_us").id,
                "warehouse_id": self.warehouse.id})
            env["ir.config_parameter"].set_param("amazon_fbm_connector.sqs_wait_seconds", "0")
            seller.action_subscribe_notifications()
            self.assertEqual(seller.notification_state, "subscribed", seller.notification_error)
            cr.commit()  # pylint: disable=invalid-commit
            seller_id = seller.id
        self.addCleanup(self._switch_off, seller_id)
        self.emulator.publish_changes()
        # SKUs of their own: committed products must not meet the other classes' SKUs
        refs = [self.add_us_order(purchase_date=self.now - timedelta(minutes=10),
                                  buyer_email="two%d@marketplace.amazon.com" % n,
                                  items=[{"sku": "TWO-SERVERS-SKU", "qty": 1, "price": "10.00", "tax": "0.83"}])
                for n in range(12)]
        self.assertEqual(self.emulator.publish_changes(), 12)
        for _arn, body in list(self.emulator.published)[:4]:   # Amazon said some twice
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(dict(
                body, NotificationMetadata=dict(body["NotificationMetadata"], NotificationId=str(uuid.uuid4())))))
        RateLimiter.reset()
        errors = []
        run_in_threads({"server-%d" % n: partial(cron_worker, self.registry, "amazon.seller",
                                                 "_cron_consume_notifications", errors) for n in range(2)})
        self.assertFalse(errors, errors)
        for _n in range(2):
            cron_worker(self.registry, "amazon.order.queue", "_cron_process_queues", errors)
        self.assertFalse(errors, errors)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            orders = env["sale.order"].search([("amazon_seller_id", "=", seller_id)])
            self.assertEqual(sorted(orders.mapped("amazon_order_ref")), sorted(refs), "each order once")
            notes = env["amazon.notification"].search([("seller_id", "=", seller_id)])
            self.assertEqual(len(notes), 16)
            self.assertEqual(set(notes.mapped("state")), {"done"})
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        self.assertEqual(int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"]), 0)

    def _switch_off(self, seller_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["amazon.seller"].browse(seller_id).write({"notification_state": "off", "active": False})
            cr.commit()  # pylint: disable=invalid-commit
