#!/usr/bin/env bash
# Screenshots of the loop for the README: a delivery confirmed to Amazon and one
# Amazon refused (docs/delivery_amazon_sent.png, docs/delivery_amazon_failed.png).
set -euo pipefail
source "$(dirname "$0")/common.sh"
[ "$HAVE_ODOO" = 1 ] || { echo "screenshots need Odoo 17: $ODOO_WHY" >&2; exit 1; }
ensure_python_deps
bash "$ROOT/tools/pg.sh"
make_addons_dir
DATA_DIR=$(mktemp -d /tmp/amazon_fbm_shots.XXXXXX)
write_odoo_conf "$DATA_DIR/odoo.conf" "$DATA_DIR"
DB=amazon_fbm_shots_$$
PORT=${AMAZON_FBM_SHOTS_PORT:-8071}
"$PY" "$ODOO_PATH/odoo-bin" -c "$DATA_DIR/odoo.conf" -d "$DB" -i amazon_fbm_connector \
  --without-demo=all --stop-after-init --log-level=warn
export AMAZON_FBM_ROOT="$ROOT"
ids=$("$PY" "$ODOO_PATH/odoo-bin" shell -c "$DATA_DIR/odoo.conf" -d "$DB" --log-level=warn \
  < "$ROOT/tools/screenshots_loop_setup.py" | grep '^PICKINGS' | cut -d' ' -f2-)
"$PY" "$ODOO_PATH/odoo-bin" -c "$DATA_DIR/odoo.conf" -d "$DB" --db-filter="^$DB\$" \
  --http-port "$PORT" --http-interface 127.0.0.1 --log-level=warn > "$DATA_DIR/odoo.log" 2>&1 &
ODOO_PID=$!
trap 'kill $ODOO_PID 2>/dev/null || true; dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/web/login" >/dev/null 2>&1 && break
  sleep 0.5
done
set -- $ids
"$PY" "$ROOT/tools/screenshots_loop.py" "http://127.0.0.1:$PORT" "$DB" "$1" "$2" "$ROOT/docs"
