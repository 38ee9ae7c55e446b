#!/usr/bin/env bash
# The run command: PostgreSQL, the SP-API emulator, a demo database with a
# seller wired to the emulator, and Odoo on http://localhost:8069.
set -euo pipefail
source "$(dirname "$0")/common.sh"
if [ "$HAVE_ODOO" != 1 ]; then
  echo "The product needs Odoo 17: $ODOO_WHY. Set ODOO_PATH (README, Setup)." >&2
  exit 1
fi
ensure_python_deps
bash "$ROOT/tools/pg.sh"

STATE=${AMAZON_FBM_DEMO_DIR:-/tmp/amazon_fbm_demo}
DB=${AMAZON_FBM_DEMO_DB:-amazon_fbm_demo}
EMU_PORT=${AMAZON_FBM_EMULATOR_PORT:-8765}
HTTP_PORT=${AMAZON_FBM_HTTP_PORT:-8069}
mkdir -p "$STATE"
ADDONS_TMP="$STATE/addons"
mkdir -p "$ADDONS_TMP"
ln -sfn "$ROOT" "$ADDONS_TMP/amazon_fbm_connector"
if [ ! -f "$STATE/odoo.conf" ]; then
  write_odoo_conf "$STATE/odoo.conf" "$STATE/data"
fi
# Order notifications: a local SQS server (moto) the emulator publishes ORDER_CHANGE to.
# AMAZON_FBM_DEMO_LIVE=10: the emulator places a new order every 10 seconds (live mode).
source "$ROOT/tools/sqs.sh"
sqs_start "$STATE/sqs.log" || echo "[run] no SQS server: the demo runs without order notifications"

echo "[run] SP-API emulator on http://127.0.0.1:$EMU_PORT"
# Authorize with Amazon: the emulator's consent page sends the browser back to Odoo's callback only.
(cd "$ROOT" && exec "$PY" -m tools.spapi_emulator --port "$EMU_PORT" --orders 40 --rate-scale 20 \
  --live "${AMAZON_FBM_DEMO_LIVE:-0}" \
  --redirect-uri "http://127.0.0.1:$HTTP_PORT/amazon_fbm/authorize/callback" \
  --redirect-uri "http://localhost:$HTTP_PORT/amazon_fbm/authorize/callback") \
  > "$STATE/emulator.log" 2>&1 &
EMU_PID=$!
trap 'kill $EMU_PID 2>/dev/null || true; sqs_stop' EXIT
for _ in $(seq 1 50); do
  grep -q "SP-API emulator on" "$STATE/emulator.log" 2>/dev/null && break
  sleep 0.2
done

if ! psql -lqt | cut -d'|' -f1 | grep -qw "$DB"; then
  echo "[run] creating the demo database $DB (a few minutes)"
  "$PY" "$ODOO_PATH/odoo-bin" -c "$STATE/odoo.conf" -d "$DB" -i amazon_fbm_connector \
    --without-demo=all --stop-after-init --log-level=warn
fi
echo "[run] wiring the demo seller to the emulator"
AMAZON_FBM_EMULATOR_URL="http://127.0.0.1:$EMU_PORT" \
  "$PY" "$ODOO_PATH/odoo-bin" shell -c "$STATE/odoo.conf" -d "$DB" --log-level=warn \
  < "$ROOT/tools/demo_setup.py"

echo "[run] Odoo on http://localhost:$HTTP_PORT  -- login: admin / password: admin"
echo "[run] Amazon > Configuration > Sellers > 'Demo Seller (emulator)' > Test Connection"
"$PY" "$ODOO_PATH/odoo-bin" -c "$STATE/odoo.conf" -d "$DB" --db-filter="^$DB\$" \
  --http-port "$HTTP_PORT" --http-interface 127.0.0.1 --log-level=info
