#!/usr/bin/env bash
# README pictures (docs/*.png) from the running demo: start it first with
#   bash tools/run.sh
# then, in another terminal:
#   bash tools/screenshots.sh            (demo on http://127.0.0.1:8069, database amazon_fbm_demo)
# AMAZON_FBM_HTTP_PORT / AMAZON_FBM_DEMO_DB point it at another demo, as for run.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ensure_python_deps
command -v chromium >/dev/null 2>&1 || _apt_install chromium || { echo "screenshots need chromium" >&2; exit 1; }
PORT=${AMAZON_FBM_HTTP_PORT:-8069}
DB=${AMAZON_FBM_DEMO_DB:-amazon_fbm_demo}
if ! curl -sf "http://127.0.0.1:$PORT/web/login" >/dev/null 2>&1; then
  echo "No demo on http://127.0.0.1:$PORT: start it with 'bash tools/run.sh' first." >&2
  exit 1
fi
exec "$PY" "$ROOT/tools/screenshots.py" --url "http://127.0.0.1:$PORT" --db "$DB" --out "$ROOT/docs" "$@"
