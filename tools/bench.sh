#!/usr/bin/env bash
# Benchmarks (not tests): the order builder vs a naive loop, and the three
# flows' SP-API calls per 1,000 orders. Needs Odoo at ODOO_PATH.
#   BENCH_SIZES=100,1000,5000 BENCH_FLOW_N=1000 bash tools/bench.sh [builder|flows|confirm|report|all]
#   BENCH_SIZES=100,1000 bash tools/bench.sh report   (issue 13's performance report: ours vs
#     naive vs Odoo's floor, confirm+invoice+post; memory of a 100,000-line report parse;
#     BENCH_REPEATS=N pairs of ours and floor runs per size, BENCH_REPORT_LINES=0 skips memory)
#   BENCH_PROFILE_N=100 bash tools/bench.sh profile   (cProfile of ours: where the time goes)
#   BENCH_CONFIRM_N=1000 BENCH_CONFIRM_SCALE=10 bash tools/bench.sh confirm   (shipment confirmations)
#   BENCH_STOCK_N=10000 BENCH_STOCK_CHANGED=500 bash tools/bench.sh stock   (stock export; not in "all")
#   BENCH_STOCK_LIVE_CHANGES=20 bash tools/bench.sh stock_live   (a stock change to Amazon on a running
#     odoo-bin with cron threads: latency p50/p95/max; not in "all")
#   BENCH_NOTIFY_N=1000 BENCH_NOTIFY_RATE=1 bash tools/bench.sh notifications   (order notifications
#     through moto's SQS: latency to a confirmed order on a running odoo-bin, calls per 1,000; not in "all")
#   BENCH_SETTLEMENT_LINES=100000 bash tools/bench.sh settlement   (a settlement: parse, store, book; not in "all")
set -euo pipefail
source "$(dirname "$0")/common.sh"
[ "$HAVE_ODOO" = 1 ] || { echo "benchmarks need Odoo 17: $ODOO_WHY" >&2; exit 1; }
ensure_python_deps
bash "$ROOT/tools/pg.sh"
make_addons_dir
DATA_DIR=$(mktemp -d /tmp/amazon_fbm_bench.XXXXXX)
write_odoo_conf "$DATA_DIR/odoo.conf" "$DATA_DIR"
source "$ROOT/tools/sqs.sh"   # the notifications benchmark's SQS server
sqs_start "$DATA_DIR/sqs.log" || true
trap sqs_stop EXIT
DB=amazon_fbm_bench_$$   # one database per run: benchmarks may run side by side
dropdb --if-exists "$DB" >/dev/null 2>&1
"$PY" "$ODOO_PATH/odoo-bin" -c "$DATA_DIR/odoo.conf" -d "$DB" -i amazon_fbm_connector \
  --without-demo=all --stop-after-init --log-level=warn
export AMAZON_FBM_ROOT="$ROOT"
what=${1:-all}
for bench in builder flows confirm report profile stock stock_live notifications settlement; do
  if { [ "$what" = all ] && [ "$bench" != stock ] && [ "$bench" != stock_live ] && [ "$bench" != notifications ] && [ "$bench" != settlement ]; } || [ "$what" = "$bench" ]; then
    echo "=== benchmark: $bench"
    "$PY" "$ODOO_PATH/odoo-bin" shell -c "$DATA_DIR/odoo.conf" -d "$DB" --log-level=warn \
      < "$ROOT/tools/bench_$bench.py"
  fi
done
dropdb --if-exists "$DB" >/dev/null 2>&1
