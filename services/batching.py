"""Batch commits of the import flows, and how long a cron job may keep batching."""
import threading
import time

from psycopg2.errors import LockNotAvailable, SerializationFailure, UniqueViolation

from odoo.tools import config

# Share of Odoo's real-time limit a cron job's batches may use, counted from the
# start of the cron thread's pass (one pass may run several jobs back to back).
CRON_TIME_SHARE = 0.5
DEFAULT_SECONDS = 90

# What another worker at the same instant makes a batch fail with: a row it
# changed since our snapshot, a row it holds locked (NOWAIT), or a record with
# the same unique key it created. The batch is rolled back and run again on a
# fresh snapshot; nothing of it was committed.
CONCURRENCY_ERRORS = (SerializationFailure, LockNotAvailable, UniqueViolation)


def commit(env):
    """Commit a finished batch, so a killed worker loses at most the next one.

    Not inside tests, which own their transaction (Odoo marks the test thread)."""
    if not in_test_thread():
        env.cr.commit()


def in_test_thread():
    return bool(getattr(threading.current_thread(), "testing", False))


def deadline(share=CRON_TIME_SHARE):
    """``time.time()`` after which a cron job (or a request) starts no new batch.

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
