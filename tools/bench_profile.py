# Where ours spends its time against Odoo's floor: cProfile of the batched
# builder + auto workflow (confirm + invoice + post) on BENCH_PROFILE_N orders.
# Run by ``tools/bench.sh profile`` inside ``odoo-bin shell``.
import cProfile
import os
import pstats
import sys

sys.path.insert(0, os.environ["AMAZON_FBM_ROOT"])
from odoo.addons.amazon_fbm_connector.services.auto_workflow import AutoWorkflow  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.normalize import from_orders_api  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.order_builder import OrderBuilder  # noqa: E402
from odoo.addons.amazon_fbm_connector.tools.spapi_emulator import Scenario  # noqa: E402
from tools.bench_common import setup  # noqa: E402

N = int(os.environ.get("BENCH_PROFILE_N", "100"))
env = globals()["env"]  # given by odoo-bin shell
BATCH = 50


def ours(seller, orders):
    """As tools/bench_report.py: batches of 50, one commit per batch."""
    workflow = AutoWorkflow(seller.workflow_id)
    for start in range(0, len(orders), BATCH):
        results = OrderBuilder(seller).build(orders[start:start + BATCH])
        workflow.run(env["sale.order"].browse([r.sale_order.id for r in results if r.sale_order]))
        env.cr.commit()


setup(env)
env.cr.execute("ANALYZE")
seller = setup(env, name="Profile ours %d" % N)
scenario = Scenario.generate(N, seed=N)
orders = [from_orders_api(e["order"], e["items"]) for e in scenario.orders.values()]
for order in orders:
    order.buyer.email = "profile-%s" % order.buyer.email
profiler = cProfile.Profile()
profiler.enable()
ours(seller, orders)
profiler.disable()
stats = pstats.Stats(profiler)
total = stats.total_tt
print("total %.2fs for %d orders" % (total, N))
wanted = ("order_builder.py", "auto_workflow.py", "tax_resolver.py", "normalize.py")
rows = []
for (path, line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
    if path.endswith(wanted) or name in ("action_confirm", "_create_invoices", "action_post", "create",
                                         "message_post", "execute", "flush_all", "commit"):
        rows.append((ct, "%s:%d %s" % (os.path.basename(path), line, name)))
print("| cumulative s | share | function |")
print("|---:|---:|---|")
for ct, label in sorted(rows, reverse=True)[:30]:
    print("| %.2f | %.0f%% | %s |" % (ct, 100 * ct / total, label))
