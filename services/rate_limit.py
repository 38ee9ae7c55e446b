"""Token buckets that keep calls under Amazon's per-operation usage plans.

Amazon counts a selling partner's calls per application, whatever process
makes them. Within one process the buckets are in memory (``TokenBucket``);
several Odoo workers or servers share theirs through a store
(``SharedBucket`` + ``PostgresBucketStore``), which the caller injects, so
this module imports neither Odoo nor a database driver.

The rate a bucket refills at starts from Amazon's default usage plan
(``const.RATE_LIMITS``) and follows the ``x-amzn-RateLimit-Limit`` header
Amazon returns: a seller with a higher plan is not slowed to the default.
"""
import contextlib
import threading
import time

from .const import RATE_LIMITS


class TokenBucket:
    """Classic token bucket: ``rate`` tokens per second, at most ``burst``."""

    def __init__(self, rate, burst, clock=time.monotonic, sleep=time.sleep):
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._lock = threading.Lock()
        self.refused_wait = None  # the wait an ``acquire(max_wait)`` refused

    def _refill(self):
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def acquire(self, max_wait=None):
        """Take one token, sleeping until one is available. Returns the wait,
        or ``None`` (nothing taken, no sleep) when it would exceed ``max_wait``."""
        waited = 0.0
        while True:
            with self._lock:
                self._refill()
                if self.tokens >= 1.0:
                    self.tokens -= 1.0
                    return waited
                wait = (1.0 - self.tokens) / self.rate
                if max_wait is not None and waited + wait > max_wait:
                    self.refused_wait = wait
                    return None
            self._sleep(wait)
            waited += wait

    def available(self):
        """Tokens in the bucket now (a fraction is a token on its way); nothing taken."""
        with self._lock:
            self._refill()
            return self.tokens

    def drain(self):
        """Amazon said 429: our idea of the bucket was too generous."""
        with self._lock:
            self.tokens = 0.0
            self._stamp = self._clock()

    def set_rate(self, rate):
        """Amazon told us the rate it grants (``x-amzn-RateLimit-Limit``)."""
        with self._lock:
            self._refill()
            self.rate = float(rate)


class SharedBucket:
    """A token bucket whose state lives in a store shared by processes.

    Each ``acquire`` is one atomic round trip to the store, which reserves a
    token and says how long to wait for it (the bucket may go into debt:
    callers are served in the order they asked, none starves). The wait is
    slept outside any lock or transaction.
    """

    def __init__(self, store, key, rate, burst, sleep=time.sleep):
        self.store = store
        self.key = key
        self.rate = float(rate)
        self.burst = float(burst)
        self._sleep = sleep
        self.refused_wait = None  # the wait an ``acquire(max_wait)`` refused

    def acquire(self, max_wait=None):
        """Reserve a token and sleep until it is due. With ``max_wait``, take it
        only if it is due within that many seconds; else take nothing, sleep not,
        and return ``None``."""
        wait, rate = self.store.take(self.key, self.rate, self.burst, max_wait=max_wait)
        self.rate = rate
        if max_wait is not None and wait > max_wait:
            self.refused_wait = wait
            return None
        if wait > 0:
            self._sleep(wait)
        return wait

    def available(self):
        """Tokens in the bucket now (below zero: calls reserved ahead); nothing taken."""
        tokens, rate = self.store.peek(self.key, self.burst)
        if rate:
            self.rate = rate
        return tokens

    def drain(self):
        self.store.drain(self.key)

    def set_rate(self, rate):
        rate = float(rate)
        if abs(rate - self.rate) > 1e-9:
            self.store.set_rate(self.key, rate)
            self.rate = rate


def _tokens_now(alias=""):
    """SQL: a bucket's tokens now, refilled from the time passed since its stamp on the
    database's clock (``alias``: the row's table alias with its dot)."""
    a = alias
    return (f"LEAST({a}burst, {a}tokens + {a}rate * GREATEST("
            f"0, extract(epoch from clock_timestamp()) - {a}stamp))")


TOKENS_NOW = _tokens_now()


class PostgresBucketStore:
    """Buckets in one PostgreSQL table, one row per (account, operation).

    ``cursor_factory()`` returns a context manager giving a cursor of a
    connection of its own, committed when the block ends (an Odoo
    ``sql_db.db_connect(db).cursor()``, or a psycopg2 connection wrapper):
    a token taken is taken at once, whatever becomes of the caller's
    transaction. Time is the database's clock, the one clock every server
    shares. The table is ``amazon_rate_bucket`` (an Odoo model creates it;
    ``ensure_table`` creates it elsewhere).
    """

    def __init__(self, cursor_factory, name="default"):
        self.cursor_factory = cursor_factory
        self.name = name

    @contextlib.contextmanager
    def _cursor(self):
        with self.cursor_factory() as cr:
            # Read committed: under repeatable read (Odoo's default) a bucket
            # another process updated since our snapshot would be a
            # serialization failure instead of a wait on its row lock.
            if not getattr(getattr(cr, "connection", None), "autocommit", False):
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            yield cr

    def ensure_table(self):
        with self._cursor() as cr:
            cr.execute("""
                CREATE TABLE IF NOT EXISTS amazon_rate_bucket (
                    id SERIAL PRIMARY KEY, name VARCHAR NOT NULL UNIQUE,
                    rate DOUBLE PRECISION NOT NULL, burst DOUBLE PRECISION NOT NULL,
                    tokens DOUBLE PRECISION NOT NULL, stamp DOUBLE PRECISION NOT NULL)""")

    def take(self, key, rate, burst, max_wait=None):
        """Reserve one token; returns (seconds to wait for it, the bucket's rate).

        With ``max_wait``, the token is reserved only if it is due within that
        many seconds; otherwise nothing changes (the wait returned, longer than
        ``max_wait``, says when one would be)."""
        if max_wait is not None:
            with self._cursor() as cr:
                cr.execute("SELECT " + TOKENS_NOW + ", rate FROM amazon_rate_bucket"
                           " WHERE name = %s FOR UPDATE", (key,))
                row = cr.fetchone()
                if row:
                    tokens, current = map(float, row)
                    wait = max(0.0, (1.0 - tokens) / current) if current > 0 else 0.0
                    if wait > max_wait:
                        return wait, current  # more than max_wait: refused
                    cr.execute("""
                        UPDATE amazon_rate_bucket
                           SET tokens = %s - 1, stamp = GREATEST(stamp, extract(epoch from clock_timestamp()))
                         WHERE name = %s""", (tokens, key))
                    return wait, current
            # no row yet: a full bucket, the token is there
        with self._cursor() as cr:
            # One statement: the upsert locks the row, refills it from the time
            # passed, and takes a token (the balance may go below zero).
            cr.execute("""
                INSERT INTO amazon_rate_bucket AS b (name, rate, burst, tokens, stamp)
                     VALUES (%(key)s, %(rate)s, %(burst)s, %(burst)s - 1,
                             extract(epoch from clock_timestamp()))
                ON CONFLICT (name) DO UPDATE
                        SET tokens = """ + _tokens_now("b.") + """ - 1,
                            stamp = GREATEST(b.stamp, extract(epoch from clock_timestamp()))
                  RETURNING b.tokens, b.rate""", {"key": key, "rate": rate, "burst": burst})
            tokens, rate = map(float, cr.fetchone())
        return (max(0.0, -tokens / rate) if rate > 0 else 0.0), rate

    def peek(self, key, burst):
        """``(tokens now, rate)`` of a bucket without taking any (a bucket never used
        is full: ``(burst, None)``)."""
        with self._cursor() as cr:
            cr.execute("SELECT " + TOKENS_NOW + ", rate FROM amazon_rate_bucket WHERE name = %s",
                       (key,))
            row = cr.fetchone()
        return (float(row[0]), float(row[1])) if row else (float(burst), None)

    def drain(self, key):
        with self._cursor() as cr:
            cr.execute("""
                UPDATE amazon_rate_bucket
                   SET tokens = LEAST(tokens, 0), stamp = extract(epoch from clock_timestamp())
                 WHERE name = %s""", (key,))

    def set_rate(self, key, rate):
        with self._cursor() as cr:
            cr.execute("UPDATE amazon_rate_bucket SET rate = %s WHERE name = %s AND rate != %s",
                       (rate, key, rate))

    def rows(self, prefix=""):
        with self._cursor() as cr:
            cr.execute("SELECT name, rate, burst, tokens FROM amazon_rate_bucket WHERE name LIKE %s",
                       (prefix + "%",))
            return cr.fetchall()

    def reset(self, prefix=""):
        with self._cursor() as cr:
            cr.execute("DELETE FROM amazon_rate_bucket WHERE name LIKE %s", (prefix + "%",))


def connection_cursor_factory(connection):
    """A ``cursor_factory`` for ``PostgresBucketStore`` over one DB-API connection
    in autocommit mode (scripts and tools; Odoo passes its own cursors)."""
    lock = threading.Lock()

    @contextlib.contextmanager
    def factory():
        with lock:
            cr = connection.cursor()
            try:
                yield cr
            finally:
                cr.close()
    return factory


class RateLimiter:
    """One bucket per (account, operation), shared by every client of a process,
    and by every process when a ``store`` is given.

    A bucket holds one token less than Amazon's burst: our reservation happens
    a network trip before Amazon counts the call, and that margin absorbs it.
    """

    HEADROOM = 1

    _registry = {}
    _registry_lock = threading.Lock()

    def __init__(self, account_key, scale=1.0, limits=None, store=None):
        self.account_key = account_key
        self.scale = float(scale or 1.0)
        self.limits = dict(RATE_LIMITS, **(limits or {}))
        self.store = store

    def bucket(self, operation):
        key = (self.account_key, operation, self.scale, self.store.name if self.store else None)
        with self._registry_lock:
            bucket = self._registry.get(key)
            if bucket is None:
                rate, burst = self.limits.get(operation, (1.0, 5))
                burst = max(1, burst - self.HEADROOM)
                if self.store is not None:
                    bucket = SharedBucket(self.store, "%s:%s:%g" % (self.account_key, operation, self.scale),
                                          rate * self.scale, burst)
                else:
                    bucket = TokenBucket(rate * self.scale, burst)
                self._registry[key] = bucket
            return bucket

    def follow_header(self, operation, header_value):
        """Apply Amazon's ``x-amzn-RateLimit-Limit`` (requests per second) to the bucket."""
        try:
            rate = float(header_value)
        except (TypeError, ValueError):
            return
        if rate > 0:
            self.bucket(operation).set_rate(rate * self.scale)

    @classmethod
    def reset(cls):
        with cls._registry_lock:
            cls._registry.clear()
