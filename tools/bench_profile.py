# Where ours spends its time against Odoo's floor: cProfile of ours (the import
# pipeline per batch of 50, confirm + invoice + post) and of the floor on the
# same BENCH_PROFILE_N orders, after a warm-up; prints both and the functions
# where ours spends the most more than the floor.
# Run by ``tools/bench.sh profile`` inside ``odoo-bin shell``.
import cProfile
import os
import pstats
import sys

sys.path.insert(0, os.environ["AMAZON_FBM_ROOT"])
from tools.bench_common import check, check_floor, floor, floor_batches, ours, partner_mark, payloads_for, setup, warm_up  # noqa: E402

N = int(os.environ.get("BENCH_PROFILE_N", "100"))
TOP = int(os.environ.get("BENCH_PROFILE_TOP", "40"))
env = globals()["env"]  # given by odoo-bin shell
setup(env)
env.cr.execute("ANALYZE")
warm_up(env)


def profiled(fn, *args):
    profiler = cProfile.Profile()
    profiler.enable()
    result = fn(*args)
    profiler.disable()
    return result, pstats.Stats(profiler)


def cumulative(stats):
    """``{label: (cumulative s, own s, calls)}``"""
    out = {}
    for (path, line, name), (_cc, nc, tt, ct, _callers) in stats.stats.items():
        label = "%s:%d %s" % (os.path.basename(path), line, name)
        out[label] = (ct, tt, nc)
    return out


seller = setup(env, name="Profile ours %d" % N)
payloads = payloads_for(N, N, "profile")
mark = partner_mark(env)
_results, stats_ours = profiled(ours, env, seller, payloads)
ours_orders = check(env, seller, payloads)
batches, _partners = floor_batches(env, seller, payloads, mark)
env.cr.commit()
(floor_orders, _n), stats_floor = profiled(floor, env, batches)
check_floor(floor_orders, ours_orders)
if os.environ.get("BENCH_PROFILE_DUMP"):   # a folder: pstats files to read with python -m pstats
    stats_ours.dump_stats(os.path.join(os.environ["BENCH_PROFILE_DUMP"], "ours.pstats"))
    stats_floor.dump_stats(os.path.join(os.environ["BENCH_PROFILE_DUMP"], "floor.pstats"))
a, b = cumulative(stats_ours), cumulative(stats_floor)
print("ours %.2fs, floor %.2fs for %d orders (profiled)" % (stats_ours.total_tt, stats_floor.total_tt, N))
print()
print("| cumulative s ours | floor | difference | calls ours | floor | function |")
print("|---:|---:|---:|---:|---:|---|")
rows = sorted(((a[k][0] - b.get(k, (0, 0, 0))[0], k) for k in a), reverse=True)
for diff, label in rows[:TOP]:
    print("| %.2f | %.2f | %+.2f | %d | %d | %s |" % (a[label][0], b.get(label, (0,))[0], diff, a[label][2],
                                                     b.get(label, (0, 0, 0))[2], label))
print()
print("Own time, largest differences:")
print("| own s ours | floor | difference | calls ours | floor | function |")
print("|---:|---:|---:|---:|---:|---|")
rows = sorted(((a[k][1] - b.get(k, (0, 0, 0))[1], k) for k in a), reverse=True)
for diff, label in rows[:TOP]:
    print("| %.3f | %.3f | %+.3f | %d | %d | %s |" % (a[label][1], b.get(label, (0, 0))[1], diff, a[label][2],
                                                      b.get(label, (0, 0, 0))[2], label))
