import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Slices of Amazon's reference data live in the repository (tests/fixtures/README.md).
SHARED = os.environ.get("AMAZON_FBM_SPAPI_REFERENCE") or os.path.join(
    ROOT, "tests", "fixtures", "spapi")
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from services.rate_limit import RateLimiter  # noqa: E402
from tools.spapi_emulator import Emulator, Scenario  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_buckets():
    # Each test's emulator is a new "Amazon": it knows no earlier access token
    # (a reused loopback port would otherwise serve a stale cached one).
    from services.spapi_client import _token_cache
    RateLimiter.reset()
    _token_cache.clear()
    yield


@pytest.fixture
def scenario():
    return Scenario.generate(30, shipped_ratio=0.3, seed=3)


@pytest.fixture
def emulator(scenario):
    emu = Emulator(scenario, rate_scale=50.0, polls_to_done=2)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def client(emulator):
    from services.spapi_client import SpApiClient
    client_id, secret = next(iter(emulator.apps.items()))
    return SpApiClient(client_id=client_id, client_secret=secret,
                       refresh_token=next(iter(emulator.refresh_tokens)),
                       api_endpoint=emulator.url, lwa_endpoint=emulator.url,
                       rate_scale=50.0, timeout=10, backoff_cap=0.5)


def shared_path(*parts):
    return os.path.join(SHARED, *parts)
