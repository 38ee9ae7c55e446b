# The performance report (issue 13): end-to-end orders/s with confirm + invoice
# + post -- ours (normalising + the import pipeline per batch of 50, as the
# flows run them) vs a naive per-order loop vs Odoo's floor (the same partners
# and orders as bare batched recordset calls, no connector logic; see
# tools/bench_common.py) -- and the memory growth of parsing a 100,000-line
# Unshipped Orders report, of reading a 100,000-line All Orders price report
# into its table (amazon.price.report.line) and of pricing one batch of 50
# orders from it (BENCH_REPORT_LINES=0 skips them). Run by
# ``tools/bench.sh report`` inside ``odoo-bin shell``; prints Markdown tables.
import gc
import gzip
import os
import resource
import sys
import tracemalloc

sys.path.insert(0, os.environ["AMAZON_FBM_ROOT"])
from odoo.addons.amazon_fbm_connector.services.const import RATE_LIMITS  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.normalize import Order  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.report_parser import RowError, read_unshipped  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.reports_adapter import ReportsAdapter  # noqa: E402
from odoo.addons.amazon_fbm_connector.tools.spapi_emulator import Scenario  # noqa: E402
from tools.bench_common import (  # noqa: E402
    Measure,
    Timer,
    check,
    compare,
    naive,
    ours_vs_floor,
    payloads_for,
    quota_seconds,
    repeats_for,
    reset_peak_rss,
    rss_kb,
    setup,
    unshipped_calls,
    warm_up,
)

REPORT_LINES = int(os.environ.get("BENCH_REPORT_LINES", "100000"))
sizes = [int(n) for n in os.environ.get("BENCH_SIZES", "100,1000").split(",")]
if os.environ.get("BENCH_PARSE_ONLY"):  # only the memory of the report parse
    sizes = []
env = globals()["env"]  # given by odoo-bin shell


# ------------------------------------------------------------------ memory
def unshipped_document(lines, all_orders=False):
    """An Unshipped Orders report (``all_orders``: an All Orders price report) of
    ``lines`` item rows: the emulator's rows for 2,000 orders, repeated with the
    order ids' first group renumbered per copy (so every copy is a different set
    of orders)."""
    scenario = Scenario.generate(2000, seed=13)
    entries = list(scenario.orders.values())
    text = scenario.all_orders_report(entries) if all_orders else scenario.unshipped_report(entries)
    header, *rows = text.rstrip("\n").split("\n")
    out, copy = [header], 0
    while len(out) - 1 < lines:
        for row in rows:
            out.append("%03d%s" % (copy, row[3:]))
            if len(out) - 1 >= lines:
                break
        copy += 1
    return "\n".join(out) + "\n"


def parse(raw):
    """As the import reads a stored report (gzip bytes): streamed, each order
    dropped once counted (the import hands it on, 50 at a time)."""
    stream = read_unshipped(ReportsAdapter.lines(raw, "GZIP", "utf-8"), "ATVPDKIKX0DER")
    orders, errors = 0, []
    for got in stream:
        if isinstance(got, RowError):
            errors.append(got)
        else:
            orders += 1
    return orders, errors, stream.rows


def memory_report():
    text = unshipped_document(REPORT_LINES)
    raw = gzip.compress(text.encode("utf-8"))
    gc.collect()
    exact = reset_peak_rss()
    rss_before, peak_before = rss_kb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with Timer() as timer:
        orders, errors, rows = parse(raw)
    rss_after, peak_after = rss_kb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if exact:
        peak_after, peak_before = rss_kb("VmHWM:"), rss_before
    assert not errors, errors[:3]
    gc.collect()
    tracemalloc.start()
    parse(raw)
    _current, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Where Linux lets the peak RSS be reset the growth is exact; else ru_maxrss,
    # which only rises: when parsing stays below an earlier peak, the RSS growth
    # is at most (earlier peak - RSS before). tracemalloc is exact for Python's
    # own allocations.
    rss_growth = max(peak_after, rss_before) - rss_before
    return {"lines": REPORT_LINES, "rows": rows, "orders": orders, "chars": len(text),
            "gzip_bytes": len(raw),
            "seconds": timer.seconds, "traced_mb": traced_peak / 2 ** 20,
            "rss_growth_mb": rss_growth / 1024, "rss_kept_mb": (rss_after - rss_before) / 1024,
            "peak_raised": peak_after > peak_before}


def price_report_memory():
    """The price report as ``amazon.price.report._poll`` reads it (the stored gzip
    document streamed into amazon.price.report.line), then one batch of 50 orders
    priced from it as the queues and the report request price each batch."""
    text = unshipped_document(REPORT_LINES, all_orders=True)
    raw = gzip.compress(text.encode("utf-8"))
    refs = list(dict.fromkeys(line.split("\t", 1)[0] for line in text.split("\n")[1:] if line))
    batch = refs[len(refs) // 2:len(refs) // 2 + 50]
    seller = setup(env, name="Bench price report")
    report = env["amazon.price.report"].create({"seller_id": seller.id, "marketplace_codes": "ATVPDKIKX0DER",
                                                "amazon_report_id": "bench-prices"})
    env.cr.commit()
    chars, size = len(text), len(raw)
    del text
    with Measure() as store:
        priced, unreadable = report._store_prices(  # pylint: disable=protected-access
            ReportsAdapter.lines(raw, "GZIP", "utf-8"))
        report.write({"state": "done"})
        env.cr.commit()
    assert not unreadable, unreadable
    env.invalidate_all()
    with Measure() as price:
        book = report._price_book()  # pylint: disable=protected-access
        orders = [Order(order_id=ref) for ref in batch]
        book.load(batch)
        for order in orders:
            book.price(order, {}, fetch=False)
    assert all(o.priced for o in orders), "every order of the batch priced by the report"
    lines = env["amazon.price.report.line"].search_count([("price_report_id", "=", report.id)])
    report.unlink()
    env.cr.commit()
    return {"lines": REPORT_LINES, "orders": len(refs), "stored": lines, "priced": priced,
            "chars": chars, "gzip_bytes": size, "store": store, "price": price}


# ------------------------------------------------------------------ run
memory = memory_report() if REPORT_LINES else None
if memory:
    print("memory measured", flush=True)
prices_memory = price_report_memory() if REPORT_LINES else None
if prices_memory:
    print("price report measured", flush=True)
calls = []
for n in sizes:
    ours_calls, peers_calls = unshipped_calls(env, n)
    calls.append((n, ours_calls, peers_calls))
    print("N=%d: SP-API calls ours %s; getOrderItems per order %s" % (n, ours_calls, peers_calls), flush=True)
rows = []
if sizes:
    setup(env)
    env.cr.execute("ANALYZE")
    warm_up(env)
    print("warmed up (ours and the floor on 20 orders, not timed)", flush=True)
for n in sizes:
    repeats = repeats_for(n)
    runs_ours, runs_floor = ours_vs_floor(env, n, repeats)
    seller = setup(env, name="Bench naive %d" % n)
    payloads = payloads_for(n, n, "naive-%d" % n)
    with Timer() as t_naive:
        naive(env, seller, payloads)
    check(env, seller, payloads)
    mean_ours, mean_floor, ratio, interval = compare(runs_ours, runs_floor)
    rows.append((n, mean_ours, t_naive.seconds, mean_floor, ratio, interval, repeats))
    print("N=%d: ours %s s, floor %s s (pairs O F, F O, ...), naive %.1f s; partners created "
          "per run: ours %d, floor %d" % (
              n, ", ".join("%.1f" % r.seconds for r in runs_ours),
              ", ".join("%.1f" % r.seconds for r in runs_floor), t_naive.seconds,
              runs_ours[0].partners, runs_floor[0].partners), flush=True)


def verdict(ratio, interval):
    """The target ours/floor >= 1.0x: ours' own work costs nothing measurable."""
    if interval is None:
        return "met (one pair)" if ratio >= 1.0 else "not met (one pair)"
    if interval[0] >= 1.0:
        return "met: faster"
    return "met: no measurable cost" if interval[1] >= 1.0 else "not met: measurably slower"


if rows:
    print()
    print("| orders | ours (orders/s) | naive loop (orders/s) | Odoo floor (orders/s) "
          "| ours/naive (target >= 2x) | ours/floor (target >= 1.0x) | 95 % interval (pairs) | ours/floor target "
          "| ms/order ours | ms/order naive | ms/order floor |")
    print("|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|")
    for n, s_ours, s_naive, s_floor, ratio, interval, repeats in rows:
        print("| %d | %.1f | %.1f | %.1f | %.2fx | %.2fx | %s | %s | %.1f | %.1f | %.1f |" % (
            n, n / s_ours, n / s_naive, n / s_floor, s_naive / s_ours, ratio,
            "%.2f-%.2fx (%d)" % (interval[0], interval[1], repeats) if interval else "- (1)",
            verdict(ratio, interval), 1000 * s_ours / n, 1000 * s_naive / n, 1000 * s_floor / n))
    print()
    print("Ours and the floor: mean of %s pairs of runs (sizes %s), each pair one run of ours and one "
          "of the floor next to each other, alternated O F, F O ..., after a warm-up of 20 orders; "
          "ours/floor is the floor's mean time over ours' (above 1: ours is faster) and the interval "
          "the 95 %% confidence interval of the pairs' ratios (Student's t): one that holds 1.0 means "
          "ours' own work costs nothing measurable. The naive loop: one run. The floor creates the same "
          "partners and orders (adjustment lines included) from values read off ours' result outside "
          "the timing." % ("/".join(str(r[6]) for r in rows), "/".join(str(r[0]) for r in rows)))
if calls:
    print()
    print("| orders | SP-API calls ours | per 1,000 orders | quota time at Amazon's default rates "
          "| getOrderItems per order: calls | per 1,000 orders | quota time |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, ours_calls, peers_calls in calls:
        a, b = sum(ours_calls.values()), sum(peers_calls.values())
        print("| %d | %d | %.1f | %.0f s | %d | %.1f | %.0f s (%.1f min) |" % (
            n, a, 1000.0 * a / n, quota_seconds(ours_calls, RATE_LIMITS),
            b, 1000.0 * b / n, quota_seconds(peers_calls, RATE_LIMITS),
            quota_seconds(peers_calls, RATE_LIMITS) / 60))
    print()
    print("(the unshipped flow's Amazon side: report requested, polled, downloaded, parsed, priced by the "
          "All Orders report; against the same report then getOrderItems per order. Quota time: what "
          "Amazon's default usage plans need for those calls beyond their bursts.)")
if len(rows) > 1:
    first, last = rows[0], rows[-1]
    print("cost per order, %d vs %d orders (target: flat within 1.2x): ours %.2fx, floor %.2fx" % (
        last[0], first[0], (last[1] / last[0]) / (first[1] / first[0]),
        (last[3] / last[0]) / (first[3] / first[0])))
elif rows:
    print("cost per order: one size only (set BENCH_SIZES=100,1000 to compare sizes)")
if memory is None:
    raise SystemExit(0)
print()
print("| report lines | orders | parse seconds | peak Python allocations (tracemalloc) "
      "| peak RSS growth (target <= 100 MB) |")
print("|---:|---:|---:|---:|---:|")
print("| %d | %d | %.1f | %.1f MB | %s%.1f MB |" % (
    memory["lines"], memory["orders"], memory["seconds"], memory["traced_mb"],
    "" if memory["peak_raised"] else "<= ", memory["rss_growth_mb"]))
print()
print("(report text: %.1f MB, gzip document: %.1f MB, built before the measurement; "
      "RSS still held after parsing: %.1f MB)" % (
          memory["chars"] / 2 ** 20, memory["gzip_bytes"] / 2 ** 20, memory["rss_kept_mb"]))
print()
store, price = prices_memory["store"], prices_memory["price"]
print("| All Orders price report, %d lines (%d orders, %d priced items) | seconds "
      "| peak RSS growth (target <= 100 MB) | RSS still held after |" % (
          prices_memory["lines"], prices_memory["orders"], prices_memory["priced"]))
print("|---|---:|---:|---:|")
for label, m in (("read into amazon.price.report.line (%d lines stored, 1,000 per create)"
                  % prices_memory["stored"], store),
                 ("price one batch of 50 orders from it (one search)", price)):
    print("| %s | %.3f | %s%.1f MB | %.1f MB |" % (
        label, m.seconds, "" if m.exact or m.peak_raised else "<= ", m.growth_mb, m.kept_mb))
print()
print("(price report text: %.1f MB, gzip document: %.1f MB, built before the measurement)" % (
    prices_memory["chars"] / 2 ** 20, prices_memory["gzip_bytes"] / 2 ** 20))
