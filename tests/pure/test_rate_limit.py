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
    assert a.rate == 0.0167 and a.burst == 19  # Amazon's 20, less one token of headroom


def test_set_rate_keeps_tokens_earned_at_the_old_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, burst=2, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.acquire()
    clock.now += 0.5            # half a token earned at 1/s
    bucket.set_rate(10.0)       # Amazon grants more from now on
    assert abs(bucket.acquire() - 0.05) < 1e-9


def test_follow_header_scales_and_ignores_garbage():
    limiter = RateLimiter("seller-h", scale=10.0)
    limiter.follow_header("getReport", "5")
    assert limiter.bucket("getReport").rate == 50.0
    for junk in (None, "", "fast", "0", "-1"):
        limiter.follow_header("getReport", junk)
    assert limiter.bucket("getReport").rate == 50.0


def test_client_follows_the_rate_amazon_grants():
    """A seller on a higher usage plan is not slowed to the default: the client
    reads x-amzn-RateLimit-Limit and its bucket refills at the granted rate."""
    import time

    from services.const import REPORT_ALL_ORDERS
    from services.spapi_client import SpApiClient
    from tools.spapi_emulator import Emulator, Scenario

    with Emulator(Scenario.generate(3), rate_scale=2.0) as emulator:
        emulator.set_usage_plan("getReport", 10.0, 15)     # default plan: 2/s
        client_id, secret = next(iter(emulator.apps.items()))
        client = SpApiClient(client_id=client_id, client_secret=secret,
                             refresh_token=next(iter(emulator.refresh_tokens)),
                             api_endpoint=emulator.url, lwa_endpoint=emulator.url,
                             rate_scale=2.0, timeout=5, backoff_cap=0.2)
        report_id = client.reports().create_report(REPORT_ALL_ORDERS, ["ATVPDKIKX0DER"])
        start = time.monotonic()
        for _ in range(54):
            client.reports().get_report(report_id)
        elapsed = time.monotonic() - start
    assert client.limiter.bucket("getReport").rate == 20.0      # 10/s x scale 2
    # 14 from the burst, 40 at 20/s: 2 s (at the default 4/s it would be 10 s)
    assert elapsed < 5.0, elapsed
    assert not emulator.throttled


def test_client_slows_to_a_lower_plan_without_429_storm():
    from services.const import REPORT_ALL_ORDERS
    from services.spapi_client import SpApiClient
    from tools.spapi_emulator import Emulator, Scenario

    with Emulator(Scenario.generate(3), rate_scale=10.0) as emulator:
        emulator.set_usage_plan("getReport", 1.0, 5)       # below the default 2/s, smaller burst
        client_id, secret = next(iter(emulator.apps.items()))
        client = SpApiClient(client_id=client_id, client_secret=secret,
                             refresh_token=next(iter(emulator.refresh_tokens)),
                             api_endpoint=emulator.url, lwa_endpoint=emulator.url,
                             rate_scale=10.0, timeout=5, backoff_cap=0.2)
        report_id = client.reports().create_report(REPORT_ALL_ORDERS, ["ATVPDKIKX0DER"])
        for _ in range(40):
            client.reports().get_report(report_id)
    assert client.limiter.bucket("getReport").rate == 10.0
    # Our burst is Amazon's default (15): the plan's smaller burst costs a few
    # 429s at first, after which the learned rate keeps us under it.
    assert sum(emulator.throttled.values()) <= 12, emulator.throttled
    assert client.calls["getReport"] == 40 + sum(emulator.throttled.values())


def test_acquire_with_max_wait_takes_nothing_and_sleeps_not_when_the_wait_is_longer():
    clock = FakeClock()
    bucket = TokenBucket(rate=0.1, burst=1, clock=clock, sleep=clock.sleep)
    assert bucket.acquire(max_wait=0) == 0          # the burst token
    assert bucket.acquire(max_wait=5.0) is None     # next one in 10 s
    assert clock.now == 0 and abs(bucket.refused_wait - 10.0) < 1e-9
    clock.now += 6.0
    assert abs(bucket.acquire(max_wait=5.0) - 4.0) < 1e-9   # due within 5 s: taken, slept
    assert abs(clock.now - 10.0) < 1e-9


def test_available_says_what_is_left_and_takes_nothing():
    clock = FakeClock()
    bucket = TokenBucket(rate=0.5, burst=3, clock=clock, sleep=clock.sleep)
    assert bucket.available() == 3
    assert bucket.available() == 3          # looking takes nothing
    bucket.acquire()
    bucket.acquire()
    bucket.acquire()
    assert bucket.available() == 0
    clock.now += 1.0
    assert abs(bucket.available() - 0.5) < 1e-9
