# A real SQS-compatible server on loopback (moto in server mode) for the Odoo
# suite and the demo. Source this file after tools/common.sh, then:
#   sqs_start  -> starts moto_server on a free 127.0.0.1 port and exports
#                 AMAZON_FBM_SQS_ENDPOINT=http://127.0.0.1:PORT
#   sqs_stop   -> stops it
# moto runs in a virtualenv of its own (tools/requirements-sqs.txt), made once
# in the cache folder: its Flask/Werkzeug 3 would break Odoo 17's environment.
SQS_VENV="$CACHE_DIR/venv-moto"
SQS_PID=""

_sqs_venv() {
  [ -x "$SQS_VENV/bin/moto_server" ] && [ -f "$SQS_VENV/.complete" ] && return 0
  echo "[setup] making moto's environment in $SQS_VENV (once)"
  rm -rf "$SQS_VENV"
  python3 -m venv "$SQS_VENV" || return 1
  "$SQS_VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/tools/requirements-sqs.txt" || return 1
  touch "$SQS_VENV/.complete"
}

sqs_start() {
  _sqs_venv || { echo "[sqs] moto could not be installed: the notification tests will fail" >&2; return 1; }
  local port log
  port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  log=${1:-$(mktemp /tmp/amazon_fbm_sqs.XXXXXX)}
  "$SQS_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" > "$log" 2>&1 &
  SQS_PID=$!
  for _ in $(seq 1 100); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" \
        >/dev/null 2>&1; then
      export AMAZON_FBM_SQS_ENDPOINT="http://127.0.0.1:$port"
      echo "[sqs] moto SQS server on $AMAZON_FBM_SQS_ENDPOINT (pid $SQS_PID)"
      return 0
    fi
    kill -0 "$SQS_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "[sqs] moto_server did not start (log: $log)" >&2
  sqs_stop
  return 1
}

sqs_stop() {
  if [ -n "$SQS_PID" ]; then
    kill "$SQS_PID" 2>/dev/null || true
    wait "$SQS_PID" 2>/dev/null || true
    SQS_PID=""
  fi
}
