# Benchmark of the three FBM flows against the emulator: SP-API calls per 1,000
# orders, end-to-end orders/s (queues through the cron code path), and the
# quota time the same calls need at Amazon's default usage plans.
# Run by tools/bench.sh inside ``odoo-bin shell``; prints a Markdown table.
import collections
import os
import resource
import sys
from datetime import timedelta

sys.path.insert(0, os.environ["AMAZON_FBM_ROOT"])
from odoo import fields  # noqa: E402
from odoo.addons.amazon_fbm_connector.services import report_parser  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.const import RATE_LIMITS  # noqa: E402
from odoo.addons.amazon_fbm_connector.tools.spapi_emulator import Emulator, Scenario  # noqa: E402
from tools.bench_common import Timer, quota_seconds, setup  # noqa: E402

N = int(os.environ.get("BENCH_FLOW_N", "1000"))
SCALE = 1000.0
env["ir.config_parameter"].sudo().set_param("amazon_fbm_connector.rate_scale", str(SCALE))  # noqa: F821
env.cr.commit()  # noqa: F821
rows = []


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def per_1000(calls, n):
    return sum(calls.values()) * 1000.0 / n


def record(flow, n, calls, seconds, note=""):
    rows.append((flow, n, per_1000(calls, n), n / seconds, quota_seconds(calls, RATE_LIMITS) / 60,
                 rss_mb(), dict(calls), note))
    print("%s: %d orders, calls %s, %.1fs" % (flow, n, dict(calls), seconds), flush=True)


def count_orders(seller):
    return env["sale.order"].search_count([("amazon_seller_id", "=", seller.id)])  # noqa: F821


# ---------------------------------------------------------------- flow 1
scenario = Scenario.generate(N, seed=11)
with Emulator(scenario, rate_scale=SCALE) as emulator:
    seller = setup(env, emulator, "Bench unshipped")  # noqa: F821
    with Timer() as t:
        request = env["amazon.report.request"]._request_unshipped(  # noqa: F821
            seller, seller.marketplace_ids, auto=False)
        while request.state in ("submitted", "in_progress"):
            request.action_check_status()
        request.action_process_file()
    assert count_orders(seller) == N, (count_orders(seller), request.message)
    record("1. Unshipped (Sale Order Report)", N, emulator.calls, t.seconds, request.message)

    # The usual approach on the same data: the report, then getOrderItems per order.
    before = collections.Counter(emulator.calls)
    client = seller._get_client()
    with Timer() as t:
        report_id = client.create_report("GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING", ["ATVPDKIKX0DER"])
        while client.get_report(report_id)["processingStatus"] != "DONE":
            pass
        report = client.get_report(report_id)
        doc = client.get_report_document(report["reportDocumentId"], report["reportType"])
        parsed = report_parser.parse_unshipped(client.download_document(doc).text, "ATVPDKIKX0DER")
        adapter = client.orders()
        for order_id in parsed.orders:
            adapter.get_order_items(order_id)
    record("1'. Unshipped, getOrderItems per order (peers)", N, collections.Counter(emulator.calls) - before, t.seconds,
           "fetching only, no Odoo work")


def run_queue_flow(flow, status, importer, label):
    scenario = Scenario.generate(N, seed=hash(flow) % 1000, shipped_ratio=1.0 if status == "Shipped" else 0.0)
    with Emulator(scenario, rate_scale=SCALE) as emulator:
        seller = setup(env, emulator, "Bench %s" % flow)  # noqa: F821
        Queue = env["amazon.order.queue"]  # noqa: F821
        now = fields.Datetime.now()
        with Timer() as t:
            getattr(Queue, importer)(seller, seller.marketplace_ids, now - timedelta(days=30), now)
            env.cr.commit()  # noqa: F821
            for _ in range(200):
                Queue._cron_process_queues()
                pending = env["amazon.order.queue.line"].search_count([  # noqa: F821
                    ("seller_id", "=", seller.id), ("state", "=", "pending")])
                if not pending:
                    break
        failed = env["amazon.order.queue.line"].search([("seller_id", "=", seller.id),  # noqa: F821
                                                         ("state", "=", "failed")])
        assert count_orders(seller) == N, (count_orders(seller), failed[:3].mapped("message"))
        record(label, N, emulator.calls, t.seconds)


run_queue_flow("shipped", "Shipped", "_import_shipped", "2. Shipped (queues, cron)")
run_queue_flow("missing", "Unshipped", "_import_missing_unshipped", "3. Missing unshipped (queues, cron)")

print()
print("| flow | orders | SP-API calls per 1,000 orders | orders/s end to end "
      "| quota time at Amazon's default rates (min) | peak RSS (MB) |")
print("|---|---:|---:|---:|---:|---:|")
for flow, n, calls, speed, quota, rss, _detail, _note in rows:
    print("| %s | %d | %.1f | %.1f | %.1f | %.0f |" % (flow, n, calls, speed, quota, rss))
print()
for flow, _n, _c, _s, _q, _r, detail, note in rows:
    print("- %s: %s %s" % (flow, detail, note))
