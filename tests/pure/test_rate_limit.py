from services.rate_limit import RateLimiter, TokenBucket


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_bucket_allows_burst_then_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=0.5, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        assert bucket.acquire() == 0
    waited = bucket.acquire()
    assert abs(waited - 2.0) < 1e-9  # 1 token / 0.5 per second
    for _ in range(5):
        bucket.acquire()
    # 9 tokens: 3 from the burst, 6 at 0.5/s -> 12 s
    assert abs(clock.now - 12.0) < 1e-9


def test_drain_after_429_forces_a_wait():
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, burst=10, clock=clock, sleep=clock.sleep)
    bucket.drain()
    assert bucket.acquire() == 1.0


def test_limiter_shares_buckets_per_account_and_operation():
    a = RateLimiter("seller-1").bucket("getOrders")
    assert RateLimiter("seller-1").bucket("getOrders") is a
    assert RateLimiter("seller-2").bucket("getOrders") is not a
    assert RateLimiter("seller-1").bucket("getOrderItems") is not a
    assert a.rate == 0.0167 and a.burst == 20
