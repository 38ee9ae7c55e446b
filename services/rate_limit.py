"""Token buckets that keep calls under Amazon's per-operation usage plans."""
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

    def _refill(self):
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def acquire(self):
        """Take one token, sleeping until one is available. Returns the wait."""
        waited = 0.0
        while True:
            with self._lock:
                self._refill()
                if self.tokens >= 1.0:
                    self.tokens -= 1.0
                    return waited
                wait = (1.0 - self.tokens) / self.rate
            self._sleep(wait)
            waited += wait

    def drain(self):
        """Amazon said 429: our idea of the bucket was too generous."""
        with self._lock:
            self.tokens = 0.0
            self._stamp = self._clock()


class RateLimiter:
    """One bucket per (account, operation), shared by every client of a process."""

    _registry = {}
    _registry_lock = threading.Lock()

    def __init__(self, account_key, scale=1.0, limits=None):
        self.account_key = account_key
        self.scale = float(scale or 1.0)
        self.limits = dict(RATE_LIMITS, **(limits or {}))

    def bucket(self, operation):
        key = (self.account_key, operation, self.scale)
        with self._registry_lock:
            bucket = self._registry.get(key)
            if bucket is None:
                rate, burst = self.limits.get(operation, (1.0, 5))
                bucket = self._registry[key] = TokenBucket(rate * self.scale, burst)
            return bucket

    @classmethod
    def reset(cls):
        with cls._registry_lock:
            cls._registry.clear()
