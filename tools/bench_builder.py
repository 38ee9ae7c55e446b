# Benchmark of the import pipeline (order builder + auto workflow: confirm +
# invoice + post) per batch of 50 vs a naive per-order loop, on the same orders.
# Run by tools/bench.sh inside ``odoo-bin shell``; prints a Markdown table.
import os
import sys

sys.path.insert(0, os.environ["AMAZON_FBM_ROOT"])
from tools.bench_common import Timer, check, naive, ours, payloads_for, setup, warm_up  # noqa: E402

sizes = [int(n) for n in os.environ.get("BENCH_SIZES", "100,1000,5000").split(",")]
env = globals()["env"]  # given by odoo-bin shell
setup(env)
env.cr.execute("ANALYZE")
warm_up(env)

rows = []
for n in sizes:
    # the same orders for both, under two sellers (an order is unique per seller)
    seller = setup(env, name="Bench batched %d" % n)
    payloads = payloads_for(n, n, "batched-%d" % n)
    with Timer() as t_ours:
        ours(env, seller, payloads)
    check(env, seller, payloads)
    seller = setup(env, name="Bench naive %d" % n)
    payloads = payloads_for(n, n, "naive-%d" % n)
    with Timer() as t_naive:
        naive(env, seller, payloads)
    check(env, seller, payloads)
    rows.append((n, n / t_ours.seconds, n / t_naive.seconds, t_naive.seconds / t_ours.seconds,
                 1000 * t_ours.seconds / n, 1000 * t_naive.seconds / n))
    print("N=%d done" % n, flush=True)

print()
print("| orders | batched builder (orders/s) | naive loop (orders/s) | speed-up | ms/order batched | ms/order naive |")
print("|---:|---:|---:|---:|---:|---:|")
for n, fast, slow, ratio, ms, ms_naive in rows:
    print("| %d | %.1f | %.1f | %.2fx | %.1f | %.1f |" % (n, fast, slow, ratio, ms, ms_naive))
first, last = rows[0][4], rows[-1][4]
print()
print("cost per order, %d vs %d orders: %.2fx (flat is 1.0)" % (rows[-1][0], rows[0][0], last / first))
