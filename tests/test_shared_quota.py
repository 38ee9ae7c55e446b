"""Amazon's rate limits are per seller and application, not per Odoo process:
token buckets shared through PostgreSQL keep several processes together under
them."""
import json
import os
import subprocess
import sys
import time

from odoo import sql_db
from odoo.tests import tagged

from ..services.const import REPORT_ALL_ORDERS
from ..services.rate_limit import PostgresBucketStore, RateLimiter
from ..services.spapi_client import quota_key
from .common import AmazonCase

WORKER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools",
                      "quota_worker.py")


@tagged("post_install", "-at_install")
class TestSharedQuota(AmazonCase):
    emulator_rate_scale = 5.0

    def store(self, name):
        dbname = self.env.cr.dbname
        return PostgresBucketStore(lambda: sql_db.db_connect(dbname).cursor(), name=name)

    def test_buckets_are_shared_between_connections(self):
        a, b = self.store("conn-a"), self.store("conn-b")
        key = "test-shared-%s" % time.time()
        waits_a = [a.take(key, 1.0, 3)[0] for _ in range(3)]
        self.assertEqual(waits_a, [0.0, 0.0, 0.0], "the burst is served at once")
        wait_b, rate = b.take(key, 1.0, 3)
        self.assertGreater(wait_b, 0.9, "another connection finds the bucket empty")
        self.assertEqual(rate, 1.0)
        b.set_rate(key, 4.0)
        self.assertEqual(a.take(key, 1.0, 3)[1], 4.0, "a rate learned by one is used by all")
        a.drain(key)
        self.assertGreater(b.take(key, 4.0, 3)[0], 0.0)

    def test_peek_shows_what_another_connection_took(self):
        a, b = self.store("peek-a"), self.store("peek-b")
        key = "test-peek-%s" % time.time()
        self.assertEqual(b.peek(key, 3), (3.0, None), "a bucket never used is full")
        a.take(key, 0.001, 3)
        a.take(key, 0.001, 3)
        tokens, rate = b.peek(key, 3)
        self.assertAlmostEqual(tokens, 1.0, places=2)
        self.assertEqual(rate, 0.001)
        self.assertAlmostEqual(b.peek(key, 3)[0], 1.0, places=2, msg="looking takes nothing")

    def test_token_survives_the_callers_rollback(self):
        """A token is spent when the call is made, even if the batch rolls back."""
        store = self.seller._get_client().limiter.store
        key = "test-rollback-%s" % time.time()
        with self.assertRaises(ValueError), self.env.cr.savepoint():
            store.take(key, 0.001, 1)
            raise ValueError("batch failed")
        self.assertGreater(store.take(key, 0.001, 1)[0], 100)

    def test_client_of_seller_uses_shared_buckets(self):
        client = self.seller._get_client()
        client.reports().get_report(client.reports().create_report(REPORT_ALL_ORDERS, ["ATVPDKIKX0DER"]))
        key = quota_key(self.emulator.url, self.seller.lwa_client_id, self.seller.sudo().refresh_token)
        rows = client.limiter.store.rows(key + ":getReport:")
        self.assertEqual(len(rows), 1)
        self.assertNotIn(self.seller.sudo().refresh_token, rows[0][0], "the key holds no secret")

    # ------------------------------------------------------- two processes
    def _run_workers(self, shared, calls=25, workers=2):
        client = self.seller._get_client()
        report_id = client.reports().create_report(REPORT_ALL_ORDERS, ["ATVPDKIKX0DER"])
        self.emulator.reset_quota()
        RateLimiter.reset()
        dsn = None
        if shared:
            _db, info = sql_db.connection_info_for(self.env.cr.dbname)
            dsn = {k: v for k, v in info.items() if v is not None}
        start_at = time.time() + 4.0
        settings = {"url": self.emulator.url, "client_id": self.seller.lwa_client_id,
                    "client_secret": self.seller.sudo().lwa_client_secret,
                    "refresh_token": self.seller.sudo().refresh_token,
                    "scale": self.emulator_rate_scale, "calls": calls, "report_id": report_id,
                    "start_at": start_at, "dsn": dsn}
        procs = [subprocess.Popen([sys.executable, WORKER], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(workers)]
        results = []
        for proc in procs:
            out, err = proc.communicate(json.dumps(settings), timeout=120)
            self.assertEqual(proc.returncode, 0, err[-2000:])
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results

    def test_two_processes_together_stay_under_the_limits(self):
        # getReport: 2/s, burst 15, x5 here. Two processes of 25 calls each: with
        # one bucket per process they would spend twice the burst at once.
        results = self._run_workers(shared=True)
        self.assertEqual(sum(r["calls"]["getReport"] for r in results), 50)
        self.assertFalse(self.emulator.throttled, "no 429 that our buckets should have prevented")
        self.assertEqual(self.emulator.calls["getReport"], 50)
        # 50 calls at 2/s x scale with one shared burst cannot take less than this; the
        # waits themselves depend on how slow each HTTP call is on a loaded machine.
        rate = 2.0 * self.emulator_rate_scale
        times = sorted(self.emulator.call_times["getReport"])
        self.assertGreaterEqual(times[-1] - times[0], (50 - 15) / rate * 0.9,
                                "together the two processes kept to one bucket's pace")

    def test_control_buckets_per_process_get_throttled(self):
        """The same run with a bucket per process: Amazon says 429. (This is
        what the shared buckets prevent; it shows the test above can fail.)"""
        results = self._run_workers(shared=False)
        self.assertGreater(self.emulator.throttled["getReport"], 0)
        self.assertEqual(sum(r["calls"]["getReport"] for r in results),
                         50 + self.emulator.throttled["getReport"])
