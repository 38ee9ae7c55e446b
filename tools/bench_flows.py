# Benchmark of the three FBM flows against the emulator, on Orders API
# 2026-01-01 (v0 reads retired on the emulator) beside Orders API v0 on the
# same data: SP-API calls per operation and per 1,000 orders, the quota time
# those calls need at Amazon's default usage plans, and end-to-end orders/s
# (queues through the cron code path).
# Run by tools/bench.sh inside ``odoo-bin shell``; prints Markdown tables.
#   BENCH_SIZES=1000,5000 bash tools/bench.sh flows     (BENCH_FLOW_N=1000: one size)
# Sizes above BENCH_BUILD_MAX (default 1000) run the flows' Amazon side only:
# the same product code asks Amazon (listing, queues, price reports, report
# polls and downloads) and every order is normalised and priced, but no sale
# order is built; their orders/s is that of the Amazon side.
import collections
import json
import os
import resource
import sys
from datetime import timedelta

sys.path.insert(0, os.environ["AMAZON_FBM_ROOT"])
from odoo import fields  # noqa: E402
from odoo.addons.amazon_fbm_connector.services import normalize, report_parser  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.const import RATE_LIMITS  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.reports_adapter import ReportsAdapter  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.runner import Runner  # noqa: E402
from odoo.addons.amazon_fbm_connector.tools.spapi_emulator import Emulator, Scenario  # noqa: E402
from tools.bench_common import Timer, quota_seconds, setup  # noqa: E402

SIZES = [int(n) for n in (os.environ.get("BENCH_SIZES") or os.environ.get("BENCH_FLOW_N") or
                          "1000,5000").split(",") if n.strip()]
BUILD_MAX = int(os.environ.get("BENCH_BUILD_MAX", "1000"))
VERSIONS = [v for v in (os.environ.get("BENCH_ORDERS_API") or "2026-01-01,v0").split(",") if v]
SCALE = 1000.0
# The bench lists in one call what Odoo's server would list over several runs
# (amazon.order.listing): it measures Amazon's side, not Odoo's time limit.
NO_LIMIT = float("inf")
env["ir.config_parameter"].sudo().set_param("amazon_fbm_connector.rate_scale", str(SCALE))  # noqa: F821
env.cr.commit()  # noqa: F821
rows = []


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def record(flow, version, n, calls, seconds, note=""):
    # SP-API operations only (the document download is a presigned S3 URL, not an SP-API call).
    calls = {op: count for op, count in calls.items()
             if count and not op.startswith("fault:") and op != "download"}
    total = sum(calls.values())
    rows.append({"flow": flow, "version": version, "n": n, "per_1000": total * 1000.0 / n,
                 "speed": n / seconds, "quota": quota_seconds(calls, RATE_LIMITS),
                 "rss": rss_mb(), "calls": calls, "note": note})
    print("%s [%s]: %d orders, calls %s, %.1fs" % (flow, version, n, calls, seconds), flush=True)


def count_orders(seller):
    return env["sale.order"].search_count([("amazon_seller_id", "=", seller.id)])  # noqa: F821


def make_seller(emulator, flow, version, n):
    seller = setup(env, emulator, "Bench %s %s %d" % (flow, version, n))  # noqa: F821
    seller.orders_api_version = version
    env.cr.commit()  # noqa: F821
    # The 2026-01-01 runs prove they need no v0 read: Amazon no longer answers them.
    emulator.v0_reads_retired = version == "2026-01-01"
    return seller


def unshipped_flow(n, version):
    scenario = Scenario.generate(n, seed=11)
    build = n <= BUILD_MAX
    with Emulator(scenario, rate_scale=SCALE) as emulator:
        seller = make_seller(emulator, "unshipped", version, n)
        with Timer() as t:
            request = env["amazon.report.request"]._request_unshipped(  # noqa: F821
                seller, seller.marketplace_ids, auto=False)
            while request.state in ("submitted", "in_progress"):
                request.action_check_status()
            if build:
                request.action_process_file()   # hands it to the scheduler: its pass, here
                env["amazon.report.request"]._cron_process_reports()  # noqa: F821
            else:
                raw = request._fetch_document().raw
                text = ReportsAdapter.decode(raw, "GZIP" if raw[:2] == b"\x1f\x8b" else None)
                parsed = report_parser.parse_unshipped(text, "ATVPDKIKX0DER")
                book = request.price_report_id._price_book()
                orders = list(parsed.orders.values())
                for order in orders:
                    book.price(order, fetch=False)
                assert len(orders) == n and all(o.priced for o in orders), "every order priced by the report"
        if build:
            assert count_orders(seller) == n, (count_orders(seller), request.message)
        record("1. Unshipped (Sale Order Report)", version, n, emulator.calls, t.seconds,
               "" if build else "Amazon side only")
        if version != "v0":
            return
        # The usual approach on the same data: the report, then getOrderItems per order.
        before = collections.Counter(emulator.calls)
        client = seller._get_client()
        with Timer() as t:
            report_id = client.reports().create_report("GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING", ["ATVPDKIKX0DER"])
            while client.reports().get_report(report_id)["processingStatus"] != "DONE":
                pass
            report = client.reports().get_report(report_id)
            doc = client.reports().get_document(report["reportDocumentId"], report["reportType"])
            parsed = report_parser.parse_unshipped(client.reports().download(doc).text, "ATVPDKIKX0DER")
            adapter = client.orders("v0")
            for order_id in parsed.orders:
                adapter.get_order_items(order_id)
        record("1'. Unshipped, getOrderItems per order (peers)", version, n,
               collections.Counter(emulator.calls) - before, t.seconds, "fetching only, no Odoo work")


def queue_flow(n, version, flow, status, importer, label):
    scenario = Scenario.generate(n, seed=hash(flow) % 1000, shipped_ratio=1.0 if status == "Shipped" else 0.0)
    with Emulator(scenario, rate_scale=SCALE) as emulator:
        seller = make_seller(emulator, flow, version, n)
        Queue = env["amazon.order.queue"]  # noqa: F821
        now = fields.Datetime.now()
        if n > BUILD_MAX:
            with Timer() as t:
                queues = getattr(Queue, importer)(seller, seller.marketplace_ids, now - timedelta(days=30),
                                                  now, stop_at=NO_LIMIT)
                env.cr.commit()  # noqa: F821
                while Queue.search_count([("id", "in", queues.ids), ("price_report_id.state", "=", "requested")]):
                    Queue._poll_price_reports(Runner(env, stop_at=NO_LIMIT))  # noqa: F821
                adapter = seller._get_client().orders()
                priced = 0
                for queue in queues:
                    book = queue.price_report_id._price_book(adapter)
                    for line in queue.line_ids:
                        payload = json.loads(line.payload)
                        order = book.price(normalize.order_from_payload(payload), payload)
                        priced += order.priced
            assert priced == n, (priced, n)
            record(label, version, n, emulator.calls, t.seconds, "Amazon side only")
            return
        with Timer() as t:
            getattr(Queue, importer)(seller, seller.marketplace_ids, now - timedelta(days=30), now,
                                     stop_at=NO_LIMIT)
            env.cr.commit()  # noqa: F821
            for _ in range(400):
                Queue._cron_process_queues()
                pending = env["amazon.order.queue.line"].search_count([  # noqa: F821
                    ("seller_id", "=", seller.id), ("state", "=", "pending")])
                if not pending:
                    break
        failed = env["amazon.order.queue.line"].search([("seller_id", "=", seller.id),  # noqa: F821
                                                         ("state", "=", "failed")])
        assert count_orders(seller) == n, (count_orders(seller), failed[:3].mapped("message"))
        record(label, version, n, emulator.calls, t.seconds)


for size in SIZES:
    for api_version in VERSIONS:
        unshipped_flow(size, api_version)
        queue_flow(size, api_version, "shipped", "Shipped", "_import_shipped", "2. Shipped (queues, cron)")
        queue_flow(size, api_version, "missing", "Unshipped", "_import_missing_unshipped",
                   "3. Missing unshipped (queues, cron)")

print()
print("| flow | Orders API | orders | SP-API calls | calls per 1,000 orders | quota time at "
      "Amazon's default rates | orders/s (end to end, or Amazon side only) | peak RSS (MB) |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for row in sorted(rows, key=lambda r: (r["flow"], r["n"], r["version"] != "2026-01-01")):
    print("| %s | %s | %d | %d | %.1f | %s | %.1f | %.0f |" % (
        row["flow"], row["version"], row["n"], sum(row["calls"].values()), row["per_1000"],
        "%.0f s (%.1f min)" % (row["quota"], row["quota"] / 60), row["speed"], row["rss"]))
print()
print("Calls per operation:")
for row in sorted(rows, key=lambda r: (r["flow"], r["n"], r["version"] != "2026-01-01")):
    print("- %s, %s, %d orders: %s %s" % (row["flow"], row["version"], row["n"],
                                         ", ".join("%s %d" % kv for kv in sorted(row["calls"].items())),
                                         row["note"]))
