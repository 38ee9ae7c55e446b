# Benchmark of the order builder + auto workflow (confirm + invoice + post).
# Run by tools/bench.sh inside ``odoo-bin shell``; prints a Markdown table.
import os
import sys

sys.path.insert(0, os.environ["AMAZON_FBM_ROOT"])
from odoo.addons.amazon_fbm_connector.services.auto_workflow import AutoWorkflow  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.normalize import from_orders_api  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.order_builder import OrderBuilder  # noqa: E402
from odoo.addons.amazon_fbm_connector.tools.spapi_emulator import Scenario  # noqa: E402
from tools.bench_common import Timer, setup  # noqa: E402

BATCH = 50
sizes = [int(n) for n in os.environ.get("BENCH_SIZES", "100,1000,5000").split(",")]
setup(env)  # noqa: F821 - ``env`` comes from odoo-bin shell
env.cr.execute("ANALYZE")  # noqa: F821


def orders_for(n, seed, tag):
    """The same orders for each run; buyers' e-mails are tagged per run so that
    neither run finds the partners the other one created."""
    scenario = Scenario.generate(n, seed=seed)
    orders = [from_orders_api(e["order"], e["items"]) for e in scenario.orders.values()]
    for order in orders:
        order.buyer.email = "%s-%s" % (tag, order.buyer.email)
    return orders


def batched(seller, orders):
    """What the flows do: batches of 50, one commit per batch."""
    workflow = AutoWorkflow(seller.workflow_id)
    for start in range(0, len(orders), BATCH):
        chunk = orders[start:start + BATCH]
        results = OrderBuilder(seller).build(chunk)
        workflow.run(env["sale.order"].browse([r.sale_order.id for r in results if r.sale_order]))  # noqa: F821
        env.cr.commit()  # noqa: F821


def naive(seller, orders):
    """One order at a time: its own searches, workflow and commit."""
    workflow = AutoWorkflow(seller.workflow_id)
    for order in orders:
        [result] = OrderBuilder(seller).build([order])
        workflow.run(result.sale_order)
        env.cr.commit()  # noqa: F821


def check(seller, orders):
    refs = [o.order_id for o in orders]
    sale_orders = env["sale.order"].search([("amazon_seller_id", "=", seller.id),  # noqa: F821
                                            ("amazon_order_ref", "in", refs)])
    assert len(sale_orders) == len(orders), (len(sale_orders), len(orders))
    assert all(so.invoice_ids.state == "posted" for so in sale_orders)
    assert all(abs(so.amount_total - so.amazon_total) < 0.005 for so in sale_orders)


rows = []
for n in sizes:
    # the same orders for both, under two sellers (an order is unique per seller)
    seller = setup(env, name="Bench batched %d" % n)  # noqa: F821
    with Timer() as ours:
        batched(seller, orders_for(n, n, "batched"))
    check(seller, orders_for(n, n, "batched"))
    seller = setup(env, name="Bench naive %d" % n)  # noqa: F821
    with Timer() as slow:
        naive(seller, orders_for(n, n, "naive"))
    check(seller, orders_for(n, n, "naive"))
    rows.append((n, n / ours.seconds, n / slow.seconds, slow.seconds / ours.seconds,
                 1000 * ours.seconds / n, 1000 * slow.seconds / n))
    print("N=%d done" % n, flush=True)

print()
print("| orders | batched builder (orders/s) | naive loop (orders/s) | speed-up | ms/order batched | ms/order naive |")
print("|---:|---:|---:|---:|---:|---:|")
for n, ours, slow, ratio, ms, ms_naive in rows:
    print("| %d | %.1f | %.1f | %.2fx | %.1f | %.1f |" % (n, ours, slow, ratio, ms, ms_naive))
first, last = rows[0][4], rows[-1][4]
print()
print("cost per order, %d vs %d orders: %.2fx (flat is 1.0)" % (rows[-1][0], rows[0][0], last / first))
