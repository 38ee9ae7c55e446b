# The performance report (issue 13): end-to-end orders/s with confirm + invoice
# + post -- ours (batched builder + auto workflow, as the flows run them) vs a
# naive per-order loop vs Odoo's floor (the same orders as bare batched
# recordset calls, no connector logic) -- and the memory growth of parsing a
# 100,000-line Unshipped Orders report. Run by ``tools/bench.sh report`` inside
# ``odoo-bin shell``; prints Markdown tables.
import gc
import gzip
import os
import resource
import sys
import tracemalloc

sys.path.insert(0, os.environ["AMAZON_FBM_ROOT"])
from odoo.addons.amazon_fbm_connector.services.auto_workflow import AutoWorkflow  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.normalize import from_orders_api  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.order_builder import IMPORT_CONTEXT, OrderBuilder  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.report_parser import RowError, read_unshipped  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.reports_adapter import ReportsAdapter  # noqa: E402
from odoo.addons.amazon_fbm_connector.tools.spapi_emulator import Scenario  # noqa: E402
from tools.bench_common import Timer, setup  # noqa: E402

BATCH = 50
REPORT_LINES = int(os.environ.get("BENCH_REPORT_LINES", "100000"))
sizes = [int(n) for n in os.environ.get("BENCH_SIZES", "100,1000").split(",")]
if os.environ.get("BENCH_PARSE_ONLY"):  # only the memory of the report parse
    sizes = []
env = globals()["env"]  # given by odoo-bin shell


# ------------------------------------------------------------------ memory
def rss_kb(field="VmRSS:"):
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def reset_peak_rss():
    """Linux: set the peak RSS (VmHWM) back to the current RSS; False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def unshipped_document(lines):
    """An Unshipped Orders report of ``lines`` item rows: the emulator's rows for
    2,000 orders, repeated with the order ids' first group renumbered per copy
    (so every copy is a different set of orders)."""
    scenario = Scenario.generate(2000, seed=13)
    text = scenario.unshipped_report(list(scenario.orders.values()))
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


# ------------------------------------------------------------------ orders
def orders_for(n, seed, tag):
    """The same orders for each run (as tools/bench_builder.py); buyers' e-mails
    are tagged per run so that no run finds the partners another one created."""
    scenario = Scenario.generate(n, seed=seed)
    orders = [from_orders_api(e["order"], e["items"]) for e in scenario.orders.values()]
    for order in orders:
        order.buyer.email = "%s-%s" % (tag, order.buyer.email)
    return orders


def ours(seller, orders):
    """What the flows do: batches of 50, one commit per batch."""
    workflow = AutoWorkflow(seller.workflow_id)
    for start in range(0, len(orders), BATCH):
        results = OrderBuilder(seller).build(orders[start:start + BATCH])
        workflow.run(env["sale.order"].browse([r.sale_order.id for r in results if r.sale_order]))
        env.cr.commit()


def naive(seller, orders):
    """One order at a time: its own searches, workflow and commit."""
    workflow = AutoWorkflow(seller.workflow_id)
    for order in orders:
        [result] = OrderBuilder(seller).build([order])
        workflow.run(result.sale_order)
        env.cr.commit()


def floor_vals(seller, orders):
    """Outside the timing: the partners created (as ours would find them) and
    the sale order values with their partner, product and tax ids, stripped of
    every connector field; one list per batch of 50."""
    builder = OrderBuilder(seller)
    batches = []
    for start in range(0, len(orders), BATCH):
        chunk = orders[start:start + BATCH]
        builder._prefetch(chunk)  # pylint: disable=protected-access
        vals_list = []
        for order in chunk:
            vals = {k: v for k, v in builder._order_vals(order).items()  # pylint: disable=protected-access
                    if not k.startswith("amazon_")}
            vals["order_line"] = [(0, 0, {k: v for k, v in line.items() if not k.startswith("amazon_")})
                                  for _0, _1, line in vals["order_line"]]
            vals_list.append(vals)
        batches.append(vals_list)
    env.cr.commit()
    return batches


def floor(batches):
    """Odoo's floor: create, confirm, invoice, post as bare batched recordset
    calls (same context as ours: superuser, no tracking), one commit per batch."""
    SaleOrder = env["sale.order"].sudo().with_context(**IMPORT_CONTEXT)
    created = SaleOrder
    for vals_list in batches:
        sale_orders = SaleOrder.create(vals_list)
        sale_orders.action_confirm()
        sale_orders._create_invoices().action_post()  # pylint: disable=protected-access
        env.cr.commit()
        created |= sale_orders
    return created


def check(seller, orders):
    refs = [o.order_id for o in orders]
    sale_orders = env["sale.order"].search([("amazon_seller_id", "=", seller.id),
                                            ("amazon_order_ref", "in", refs)])
    assert len(sale_orders) == len(orders), (len(sale_orders), len(orders))
    assert all(so.invoice_ids.state == "posted" for so in sale_orders)
    assert all(abs(so.amount_total - so.amazon_total) < 0.005 for so in sale_orders)


def check_floor(sale_orders, n):
    assert len(sale_orders) == n, (len(sale_orders), n)
    assert all(so.state == "sale" and so.invoice_ids.state == "posted" for so in sale_orders)


# ------------------------------------------------------------------ run
memory = memory_report()
print("memory measured", flush=True)
setup(env)
env.cr.execute("ANALYZE")
rows = []
for n in sizes:
    seller = setup(env, name="Report ours %d" % n)
    with Timer() as t_ours:
        ours(seller, orders_for(n, n, "ours"))
    check(seller, orders_for(n, n, "ours"))
    seller = setup(env, name="Report naive %d" % n)
    with Timer() as t_naive:
        naive(seller, orders_for(n, n, "naive"))
    check(seller, orders_for(n, n, "naive"))
    seller = setup(env, name="Report floor %d" % n)
    batches = floor_vals(seller, orders_for(n, n, "floor"))
    with Timer() as t_floor:
        created = floor(batches)
    check_floor(created, n)
    rows.append((n, t_ours.seconds, t_naive.seconds, t_floor.seconds))
    print("N=%d done" % n, flush=True)

print()
print("| orders | ours (orders/s) | naive loop (orders/s) | Odoo floor (orders/s) | ours/naive (target >= 2x) "
      "| ours/floor (target >= 1.0x) | ms/order ours | ms/order naive | ms/order floor |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for n, s_ours, s_naive, s_floor in rows:
    print("| %d | %.1f | %.1f | %.1f | %.2fx | %.2fx | %.1f | %.1f | %.1f |" % (
        n, n / s_ours, n / s_naive, n / s_floor, s_naive / s_ours, s_floor / s_ours,
        1000 * s_ours / n, 1000 * s_naive / n, 1000 * s_floor / n))
print()
if len(rows) > 1:
    first, last = rows[0], rows[-1]
    print("cost per order, %d vs %d orders (target: flat within 1.2x): ours %.2fx, floor %.2fx" % (
        last[0], first[0], (last[1] / last[0]) / (first[1] / first[0]),
        (last[3] / last[0]) / (first[3] / first[0])))
else:
    print("cost per order: one size only (set BENCH_SIZES=100,1000 to compare sizes)")
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
