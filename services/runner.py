"""The one runner of cron work: it owns the transaction of a cron pass.

Every flow that runs on its own (queues, reports, listings, deliveries, shipment
confirmations, retention, and the flows that come after them) goes through a
``Runner`` made at the start of its cron method. The runner, and nothing else:

- commits and rolls back (``commit``, ``rollback``, ``run_batch``);
- retries a batch that a concurrent worker made fail (``CONCURRENCY_ERRORS``) on a
  fresh snapshot, a bounded number of times;
- takes and releases claims: row locks (``claim``: ``FOR UPDATE SKIP LOCKED`` on a
  fresh snapshot) and session advisory locks (``lock``: released on every path,
  after rolling back an aborted transaction so the lock never stays on a pooled
  connection);
- knows Odoo's time limit (``stop_at``, ``out_of_time``) and hands it to the SP-API
  client (``client``), so no quota wait or retry crosses it;
- triggers the next run of a cron (``trigger``) when work is left.

It is a helper over Odoo's own cron engine (``ir.cron``, its triggers, its job
locking across servers), not a job system. Work units called through it never
commit. Tests run the same code on Odoo's test cursor (``registry.cursor()`` in
test mode), whose commit and rollback are savepoints: there is no test branch here.
"""
import contextlib
import logging
import threading
import time
import zlib

from psycopg2.errors import LockNotAvailable, SerializationFailure, UniqueViolation
from psycopg2.extensions import TRANSACTION_STATUS_INERROR

from odoo.exceptions import UserError
from odoo.tools import config

from . import errors

_logger = logging.getLogger(__name__)

# Share of Odoo's real-time limit a cron pass may use for its batches, counted from
# the start of the cron thread's pass (one pass may run several jobs back to back).
CRON_TIME_SHARE = 0.5
DEFAULT_SECONDS = 90
# A batch a concurrent worker made fail is run again this many times.
BATCH_RETRIES = 4

# What another worker at the same instant makes a batch fail with: a row it changed
# since our snapshot, a row it holds locked (NOWAIT), or a record with the same
# unique key it created. Nothing of the batch was committed: it runs again.
CONCURRENCY_ERRORS = (SerializationFailure, LockNotAvailable, UniqueViolation)

# What a work unit records on its record instead of failing the cron pass.
RECORDABLE_ERRORS = (errors.AmazonError, UserError)


def deadline(share=CRON_TIME_SHARE):
    """``time.time()`` after which a cron pass (or a request) starts no new batch.

    Odoo's threaded server reloads itself when a cron thread's pass, or an HTTP
    request, runs longer than ``limit_time_real_cron`` (else ``limit_time_real``,
    120 s by default); the thread's ``start_time`` is when that pass began. A job
    stopping at ``share`` of it, plus one batch, stays inside the limit; it then
    triggers itself to continue in the next pass."""
    thread = threading.current_thread()
    limit = config.get("limit_time_real") or 0
    if getattr(thread, "type", None) == "cron" and (config.get("limit_time_real_cron") or 0) > 0:
        limit = config["limit_time_real_cron"]
    start = getattr(thread, "start_time", None) or time.time()
    if limit <= 0:
        return time.time() + DEFAULT_SECONDS
    return start + limit * share


def lock_namespace(name):
    """The first key of an advisory lock, from a readable name."""
    return zlib.crc32(("amazon_fbm_connector." + name).encode()) & 0x7FFFFFFF


class Runner:
    """The transaction of one cron pass (see the module's docstring)."""

    def __init__(self, env, cron=None, stop_at=None, retries=BATCH_RETRIES):
        self.env = env
        self.cron = cron
        self.stop_at = stop_at if stop_at is not None else deadline()
        self.retries = retries
        self.batches = 0
        self.conflicts = 0
        self.triggered = False

    @property
    def cr(self):
        return self.env.cr

    # === TIME ===
    def time_left(self):
        return max(0.0, self.stop_at - time.time())

    def out_of_time(self, margin=0.0):
        return time.time() + margin >= self.stop_at

    def client(self, seller):
        """The seller's SP-API client, bounded by this pass's time limit: a quota wait or
        a retry that would cross it raises ``errors.AmazonOutOfTime`` instead."""
        client = seller._get_client()
        client.deadline = self.stop_at
        return client

    # === TRANSACTION ===
    def commit(self):
        """Commit what is done: a killed worker loses at most the batch after it."""
        self.cr.commit()  # pylint: disable=invalid-commit  # the runner is the one place that commits

    def rollback(self):
        self.cr.rollback()

    def run_batch(self, fn, *args, on_error=None, retries=None, **kwargs):
        """Run ``fn`` as one batch on a fresh snapshot and commit it.

        A concurrency error rolls the batch back and runs it again (``retries`` times,
        never past ``stop_at``), then goes up. With ``on_error``, an Amazon error or a
        ``UserError`` from ``fn`` is rolled back, ``on_error(exc)`` records it, and that
        is committed; the result is then None. ``retries`` overrides the runner's."""
        retries = self.retries if retries is None else retries
        self.commit()   # what came before the batch is not the batch's to retry
        for attempt in range(retries + 1):
            try:
                if attempt:
                    self.commit()   # a fresh snapshot: REPEATABLE READ sees what others committed
                result = fn(*args, **kwargs)
                self.commit()
                self.batches += 1
                return result
            except CONCURRENCY_ERRORS:
                self.rollback()
                self.conflicts += 1
                if attempt == retries or self.out_of_time():
                    raise
                _logger.info("amazon runner: concurrent update, batch %s rolled back and run again",
                             getattr(fn, "__name__", fn))
                time.sleep(min(0.1 * (attempt + 1), self.time_left()))
            except RECORDABLE_ERRORS as exc:
                if on_error is None:
                    raise
                self.rollback()
                on_error(exc)
                self.commit()
                return None
        return None

    def run_pages(self, fn, *args, on_error=None, **kwargs):
        """``run_batch(fn, ...)`` again and again while it reads a listing page by page:
        ``fn`` returns its counts with ``_done`` False while pages remain (popped here).
        Stops once done, on a recorded error, or out of time. Returns True unless time ran
        out with pages left (the next pass continues from what ``fn`` kept)."""
        while not self.out_of_time():
            counts = self.run_batch(fn, *args, on_error=on_error, **kwargs)
            if not counts or counts.pop("_done", True):
                return True
        return False

    # === CLAIMS AND LOCKS ===
    def claim(self, query, params=()):
        """Ids a ``FOR UPDATE SKIP LOCKED`` query returns, on a fresh snapshot: under
        REPEATABLE READ, locking a row another worker committed after our snapshot
        would be a serialization failure. The rows stay locked until the next commit."""
        self.env.flush_all()
        self.commit()
        self.cr.execute(query, params)
        return [row[0] for row in self.cr.fetchall()]

    @contextlib.contextmanager
    def lock(self, name, key=0, wait=False):
        """A session advisory lock on (``name``, ``key``), held across the commits of the
        block and released on every path. Yields False when another worker holds it
        (``wait=False``): the caller skips the work. The block starts on a fresh
        snapshot, taken once the lock is held."""
        namespace = lock_namespace(name)
        cr = self.cr
        if wait:
            cr.execute("SELECT pg_advisory_lock(%s, %s)", (namespace, key))
            held = True
        else:
            cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (namespace, key))
            held = cr.fetchone()[0]
        try:
            if held:
                self.commit()
                self.env.invalidate_all()
            yield held
        finally:
            if held:
                self._unlock(namespace, key)

    def _unlock(self, namespace, key):
        cr = self.cr
        if cr._cnx.get_transaction_status() == TRANSACTION_STATUS_INERROR:
            # A failed batch aborted the transaction (the error goes on up): roll back
            # first, so the unlock runs and the lock does not stay with the pooled
            # connection, keeping every other server away.
            cr.rollback()
        cr.execute("SELECT pg_advisory_unlock(%s, %s)", (namespace, key))

    # === NEXT RUN ===
    def trigger(self, cron=None, wait=None):
        """Run ``cron`` (default: this runner's) again now, or in ``wait`` seconds
        (an hour at most), instead of at its next interval."""
        xmlid = cron or self.cron
        if not xmlid:
            return
        job = self.env.ref(xmlid, raise_if_not_found=False)
        job = job and job.sudo()   # a user's click may wake a cron the user cannot read
        if job and job.active:
            at = None
            if wait:
                from datetime import timedelta

                from odoo import fields
                at = fields.Datetime.now() + timedelta(seconds=min(wait, 3600))
            job.sudo()._trigger(at=at)
            self.triggered = True

    def loop(self, step, max_batches=None):
        """Run ``step`` as batches until it returns a falsy value, the batches run out
        or Odoo's time limit nears; then trigger the next run when work may be left.
        Returns how many batches did work."""
        done = 0
        while max_batches is None or done < max_batches:
            if self.out_of_time():
                self.trigger()
                return done
            if not self.run_batch(step):
                return done
            done += 1
        self.trigger()
        return done
