"""One process calling one SP-API operation many times (test_shared_quota).

Reads its settings as JSON on stdin (secrets never on the command line),
waits for a common start time, makes the calls through ``SpApiClient``, and
prints what it did as JSON. With ``dsn`` its token buckets live in that
PostgreSQL database (shared with every other process), without it in this
process only.
"""
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main():
    from services import rate_limit, spapi_client
    settings = json.load(sys.stdin)
    store = None
    if settings.get("dsn"):
        import psycopg2
        connection = psycopg2.connect(**settings["dsn"])
        connection.autocommit = True
        store = rate_limit.PostgresBucketStore(
            rate_limit.connection_cursor_factory(connection), name=settings["dsn"].get("dbname", "db"))
    client = spapi_client.SpApiClient(
        client_id=settings["client_id"], client_secret=settings["client_secret"],
        refresh_token=settings["refresh_token"], api_endpoint=settings["url"],
        lwa_endpoint=settings["url"], rate_scale=settings["scale"], timeout=10,
        backoff_cap=0.5, bucket_store=store)
    client.test_connection()     # log in (LWA) before the start, like a running worker
    delay = settings["start_at"] - time.time()
    if delay > 0:
        time.sleep(delay)
    for _ in range(settings["calls"]):
        client.reports().get_report(settings["report_id"])
    print(json.dumps({"calls": dict(client.calls), "throttled": dict(client.throttled),
                      "quota_wait": client.quota_wait}))


if __name__ == "__main__":
    main()
