# Benchmark of order notifications (issue 23): a running odoo-bin with cron threads
# reads ORDER_CHANGE notifications from moto's SQS server while the emulator places
# orders at a steady rate and publishes their notifications.
#   BENCH_NOTIFY_N=1000 BENCH_NOTIFY_RATE=1 bash tools/bench.sh notifications
# Prints, as Markdown: latency from the emulator publishing an order's notification to
# the order confirmed in Odoo (p50, p95, max), SP-API calls per 1,000 notified orders
# (getOrder vs searchOrders), 429s, and searchOrders calls during the run.
# BENCH_NOTIFY_SCALE multiplies Amazon's default usage plans (1: Amazon's own quotas).
# BENCH_NOTIFY_CRON_THREADS: the server's cron threads (default 2).
# BENCH_NOTIFY_QUIET_MIN: after the run, this many minutes of a quiet flow (one order
# every 30 s) whose searchOrders calls, per hour, are the steady state's (default 0).
# BENCH_NOTIFY_DRAIN: seconds the run waits after the last order is placed (default 600).
# BENCH_NOTIFY_SEARCH_AGE: sets amazon_fbm_connector.notified_search_age (default: unset).
# Run by tools/bench.sh inside ``odoo-bin shell`` (``env`` is the shell's).
import os
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import boto3

sys.path.insert(0, os.environ["AMAZON_FBM_ROOT"])
from odoo.addons.amazon_fbm_connector.tools.spapi_emulator import Emulator, Scenario  # noqa: E402
from tools.bench_common import SKUS, setup, start_cron_server, stop_server  # noqa: E402

N = int(os.environ.get("BENCH_NOTIFY_N", "100"))
RATE = float(os.environ.get("BENCH_NOTIFY_RATE", "1"))
SCALE = float(os.environ.get("BENCH_NOTIFY_SCALE", "1"))
THREADS = os.environ.get("BENCH_NOTIFY_CRON_THREADS", "2")
QUIET_MIN = float(os.environ.get("BENCH_NOTIFY_QUIET_MIN", "0"))
DRAIN = float(os.environ.get("BENCH_NOTIFY_DRAIN", "600"))   # seconds allowed after the last order
SEARCH_AGE = os.environ.get("BENCH_NOTIFY_SEARCH_AGE")
ENDPOINT = os.environ.get("AMAZON_FBM_SQS_ENDPOINT")
if not ENDPOINT:
    raise SystemExit("AMAZON_FBM_SQS_ENDPOINT is not set: tools/bench.sh starts moto (tools/sqs.sh)")

emulator = Emulator(Scenario(), rate_scale=SCALE, sqs_endpoint=ENDPOINT).start()
published_at = {}
_send = emulator._send_sqs


def _timed_send(arn, body):
    sent = _send(arn, body)
    if sent:
        published_at.setdefault(body["Payload"]["OrderChangeNotification"]["AmazonOrderId"], time.time())
    return sent


emulator._send_sqs = _timed_send
seller = setup(env, emulator, "Bench notifications")  # noqa: F821
sqs = boto3.session.Session().client("sqs", region_name="us-east-1", endpoint_url=ENDPOINT,
                                     aws_access_key_id="bench", aws_secret_access_key="bench")
queue_url = sqs.create_queue(QueueName="bench-%s" % uuid.uuid4().hex[:8])["QueueUrl"]
params = env["ir.config_parameter"].sudo()  # noqa: F821
params.set_param("amazon_fbm_connector.rate_scale", str(SCALE))
if SEARCH_AGE:
    params.set_param("amazon_fbm_connector.notified_search_age", SEARCH_AGE)
seller.write({"sqs_queue_url": queue_url, "sqs_region": "us-east-1", "sqs_endpoint": ENDPOINT,
              "aws_access_key_id": "bench", "aws_secret_access_key": "bench",
              "fbm_status_sync_auto": True, "create_product_if_missing": True})
seller.action_subscribe_notifications()
assert seller.notification_state == "subscribed", seller.notification_error
env.ref("amazon_fbm_connector.ir_cron_amazon_notifications").nextcall = datetime.now()  # noqa: F821
env.cr.commit()  # noqa: F821
emulator.publish_changes()      # what exists is not news
emulator.reset_quota()

server = start_cron_server(env.cr.dbname, "notifications", THREADS)  # noqa: F821
emulator.start_publisher(interval=0.2)
confirmed_at = {}
refs = []
try:
    start = time.time()
    next_order = start
    deadline = start + N / RATE + DRAIN
    while time.time() < deadline:
        now = time.time()
        while len(refs) < N and next_order <= now:
            with emulator.lock:
                placed = datetime.now(timezone.utc).replace(microsecond=0)
                refs.append(emulator.scenario.add_order(
                    items=[{"sku": SKUS[len(refs) % len(SKUS)], "qty": 1, "price": "20.00", "tax": "1.65"}],
                    purchase_date=placed - timedelta(minutes=5)))   # LastUpdateDate: now
            next_order += 1.0 / RATE
        waiting = [r for r in refs if r not in confirmed_at]
        if waiting:
            with env.registry.cursor() as cr:  # noqa: F821
                cr.execute("SELECT amazon_order_ref FROM sale_order WHERE amazon_seller_id = %s "
                           "AND state = 'sale' AND amazon_order_ref = ANY(%s)", (seller.id, waiting))
                seen = time.time()
                for (ref,) in cr.fetchall():
                    confirmed_at[ref] = seen
        if len(refs) == N and len(confirmed_at) == N:
            break
        time.sleep(0.5)
    main_calls = dict(emulator.calls)
    quiet_refs, quiet_search = [], 0
    quiet_times = []
    if QUIET_MIN:
        time.sleep(120)   # the quotas the run spent refill: a steady state, not the run's tail
        before = emulator.calls.get("searchOrders", 0)
        quiet_start = time.monotonic()
        quiet_end = time.time() + QUIET_MIN * 60
        while time.time() < quiet_end:
            with emulator.lock:
                placed = datetime.now(timezone.utc).replace(microsecond=0)
                quiet_refs.append(emulator.scenario.add_order(
                    items=[{"sku": SKUS[0], "qty": 1, "price": "20.00", "tax": "1.65"}],
                    purchase_date=placed - timedelta(minutes=5)))
            time.sleep(min(30, max(0, quiet_end - time.time())))
        time.sleep(90)   # the last quiet orders are read
        quiet_search = emulator.calls.get("searchOrders", 0) - before
        quiet_times = [round(t - quiet_start) for t in emulator.call_times["searchOrders"] if t >= quiet_start]
finally:
    emulator.stop_publisher()
    stop_server(server)

latencies = sorted(confirmed_at[r] - published_at[r] for r in refs if r in confirmed_at and r in published_at)
# Where the time goes: published -> notification applied (its batch began: read) ->
# order created (its build batch began) -> confirmed (seen by this loop).
with env.registry.cursor() as cr:  # noqa: F821
    cr.execute("SELECT amazon_order_ref, extract(epoch from min(create_date)) FROM amazon_notification "
               "WHERE seller_id = %s AND state = 'done' GROUP BY 1", (seller.id,))
    read_at = dict(cr.fetchall())
    cr.execute("SELECT amazon_order_ref, extract(epoch from create_date) FROM sale_order "
               "WHERE amazon_seller_id = %s", (seller.id,))
    built_at = dict(cr.fetchall())
    cr.execute("SELECT count(*), count(DISTINCT amazon_order_ref) FROM sale_order "
               "WHERE amazon_seller_id = %s AND amazon_order_ref = ANY(%s)", (seller.id, refs))
    orders_total, orders_distinct = cr.fetchone()
    cr.execute("SELECT count(*) FROM amazon_notification WHERE seller_id = %s AND state = 'dropped'",
               (seller.id,))
    dropped = cr.fetchone()[0]
# Odoo stores UTC; time.time() is UTC epoch too.
stages = {"published -> read": [], "read -> built": [], "built -> confirmed": []}
for r in refs:
    if r in published_at and r in read_at and r in built_at and r in confirmed_at:
        stages["published -> read"].append(float(read_at[r]) - published_at[r])
        stages["read -> built"].append(float(built_at[r]) - float(read_at[r]))
        stages["built -> confirmed"].append(confirmed_at[r] - float(built_at[r]))
calls = {op: n for op, n in main_calls.items() if n and not op.startswith("fault:")}
per_1000 = {op: n * 1000.0 / max(len(refs), 1) for op, n in calls.items()}
emulator.stop()
sqs.delete_queue(QueueUrl=queue_url)


def pct(values, q):
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


print()
print("### Order notifications: %d orders at %.2g/s, quotas x%g, %s cron threads" % (N, RATE, SCALE, THREADS))
print()
print("| orders confirmed | latency p50 | p95 | max | mean |")
print("|---|---|---|---|---|")
print("| %d / %d | %.1f s | %.1f s | %.1f s | %.1f s |" % (
    len(latencies), N, pct(latencies, 0.5), pct(latencies, 0.95), latencies[-1] if latencies else float("nan"),
    statistics.mean(latencies) if latencies else float("nan")))
print()
print("| stage | p50 | p95 |")
print("|---|---|---|")
for stage, values in stages.items():
    values.sort()
    print("| %s | %.1f s | %.1f s |" % (stage, pct(values, 0.5), pct(values, 0.95)))
print()
print("Orders in Odoo: %d for %d distinct notified orders (%d published); dropped notifications: %d"
      % (orders_total, orders_distinct, N, dropped))
if QUIET_MIN:
    print("Quiet steady state: %d orders in %.0f min (one every 30 s): %d searchOrders calls, "
          "%.1f per hour, plus the hourly safety net" % (len(quiet_refs), QUIET_MIN, quiet_search,
                                                         quiet_search * 60.0 / QUIET_MIN))
    if quiet_times:
        print("  (searchOrders at %s s of the quiet phase)" % quiet_times)
print()
print("| operation | calls | per 1,000 notified orders | 429 |")
print("|---|---|---|---|")
for op in sorted(calls):
    print("| %s | %d | %.0f | %d |" % (op, calls[op], per_1000[op], emulator.throttled.get(op, 0)))
