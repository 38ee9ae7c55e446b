#!/usr/bin/env bash
# The test command: linters, the pure-Python suite, then the Odoo suite.
#   bash tools/test.sh            everything
#   ODOO_TEST_TAGS=/amazon_fbm_connector:TestX bash tools/test.sh   one Odoo class
#   SKIP_PURE=1 / SKIP_LINT=1 / SKIP_ODOO=1 / SKIP_SERVERS=1         leave a part out
#   SERVERS_ONLY=1                                                 the servers suite alone
#   ODOO_TEST_LOG_LEVEL=info                                       more of the Odoo log (default: test)
# The servers suite (tests/servers: several odoo-bin processes with cron threads on one
# database, and one killed with kill -9) runs after the Odoo suite, unless
# ODOO_TEST_TAGS picks one Odoo class; its tests count in the last line too.
# Odoo is found as tools/common.sh says (ODOO_PATH, else the archive beside the
# checkout); under CI=true, an Odoo suite that did not run is a failure.
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
ensure_python_deps

pure_passed=0; pure_failed=0; odoo_passed=0; odoo_failed=0; lint_rc=0; odoo_rc=0
srv_passed=0; srv_failed=0

summary() {
  local passed=$((pure_passed + odoo_passed + srv_passed)) failed=$((pure_failed + odoo_failed + srv_failed))
  echo
  echo "pure: $pure_passed passed, $pure_failed failed; odoo: $odoo_passed passed, $odoo_failed failed;" \
       "servers: $srv_passed passed, $srv_failed failed;" \
       "lint: $([ $lint_rc -eq 0 ] && echo clean || echo FAILED)"
  echo "$passed passed, $failed failed"
}

if [ "${SKIP_LINT:-0}" != 1 ]; then
  ODOO_PATH=${ODOO_PATH:-} bash "$ROOT/tools/lint.sh"
  lint_rc=$?
fi

if [ "${SKIP_PURE:-0}" != 1 ]; then
  echo "=== pure suite (pytest): client layer, parsers, emulator"
  PURE_LOG=$(mktemp /tmp/amazon_fbm_pure.XXXXXX)
  "$PY" -m pytest -q -p no:cacheprovider --rootdir=tests/pure tests/pure 2>&1 | tee "$PURE_LOG"
  pure_rc=${PIPESTATUS[0]}
  last=$(grep -E "[0-9]+ (passed|failed)" "$PURE_LOG" | tail -1)
  pure_passed=$(echo "$last" | grep -oE "[0-9]+ passed" | grep -oE "[0-9]+"); pure_passed=${pure_passed:-0}
  pure_failed=$(echo "$last" | grep -oE "[0-9]+ failed" | grep -oE "[0-9]+")
  errs=$(echo "$last" | grep -oE "[0-9]+ errors?" | grep -oE "[0-9]+")
  pure_failed=$(( ${pure_failed:-0} + ${errs:-0} ))
  if [ "$pure_rc" -ne 0 ] && [ "$pure_failed" -eq 0 ]; then pure_failed=1; fi
  rm -f "$PURE_LOG"
fi

if [ "${SKIP_ODOO:-0}" = 1 ]; then
  summary
  [ $lint_rc -eq 0 ] && [ $pure_failed -eq 0 ]; exit $?
fi

if [ "$HAVE_ODOO" != 1 ]; then
  echo
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!!! The Odoo suite did NOT run: $ODOO_WHY."
  echo "!!! Only the pure suite ran. Set ODOO_PATH to an Odoo 17 tree (README, Setup)."
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  if [ "${CI:-}" = true ]; then
    echo "CI: the Odoo suite must run in every CI run; failing." >&2
    odoo_failed=1
  fi
  summary
  [ $lint_rc -eq 0 ] && [ $pure_failed -eq 0 ] && [ $odoo_failed -eq 0 ]; exit $?
fi

echo "=== Odoo suite: odoo-bin --test-enable --test-tags ${ODOO_TEST_TAGS:-/amazon_fbm_connector}"
bash "$ROOT/tools/pg.sh"
# Browser tours run in Debian's headless Chromium.
command -v chromium >/dev/null 2>&1 || _apt_install chromium || echo "[setup] no chromium: tours will be skipped"
make_addons_dir
DATA_DIR=$(mktemp -d /tmp/amazon_fbm_data.XXXXXX)
# A real SQS-compatible server (moto) for the order notification tests: AMAZON_FBM_SQS_ENDPOINT.
source "$ROOT/tools/sqs.sh"
sqs_start "$DATA_DIR/sqs.log" || true
trap sqs_stop EXIT
CONF="$DATA_DIR/odoo.conf"
write_odoo_conf "$CONF" "$DATA_DIR"
DB="amazon_fbm_test_$$"
LOG="$DATA_DIR/odoo-test.log"
dropdb --if-exists "$DB" >/dev/null 2>&1
# A template database with the addon's dependencies installed saves minutes per
# run; it is rebuilt when the dependencies or the Odoo tree change.
base_db=$(make_base_db "$DATA_DIR") || { echo "could not build the base database" >&2; exit 1; }
createdb -T "$base_db" "$DB"
if [ -d "$CACHE_DIR/basedb-data/filestore/$base_db" ]; then
  mkdir -p "$DATA_DIR/filestore"
  cp -r "$CACHE_DIR/basedb-data/filestore/$base_db" "$DATA_DIR/filestore/$DB"
fi
ok=1
if [ "${SERVERS_ONLY:-0}" != 1 ]; then
  "$PY" "$ODOO_PATH/odoo-bin" -c "$CONF" -d "$DB" -i amazon_fbm_connector --without-demo=all \
    --test-enable --test-tags "${ODOO_TEST_TAGS:-/amazon_fbm_connector}" --stop-after-init \
    --log-level=${ODOO_TEST_LOG_LEVEL:-test} --http-port="${ODOO_TEST_HTTP_PORT:-$((20000 + $$ % 20000))}" --max-cron-threads=0 \
    2>&1 | tee "$LOG" | \
    grep -E "(ERROR|FAIL|Ran [0-9]+ tests|tests? when loading|Starting |: [0-9]+ failed|Traceback)" || true
  odoo_rc=${PIPESTATUS[0]}
  dropdb --if-exists "$DB" >/dev/null 2>&1

  errors=$(grep -cE " (ERROR|CRITICAL) " "$LOG" || true)
  odoo_summary=$(grep -E "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$LOG" | tail -1)
  ran=$(echo "$odoo_summary" | sed -nE 's/.* ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\3/p')
  failed=$(echo "$odoo_summary" | sed -nE 's/.* ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1+\2/p')
  if [ -z "$odoo_summary" ]; then
    ran=$(grep -cE "Starting .*\.test_" "$LOG" || true)
    failed=0
  fi
  odoo_failed=$(( ${failed:-0} ))
  odoo_passed=$(( ${ran:-0} - odoo_failed ))
  [ "$odoo_passed" -lt 0 ] && odoo_passed=0
  echo "Odoo suite log: $LOG"
  if [ "$odoo_rc" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$odoo_failed" -ne 0 ] || [ "${ran:-0}" -eq 0 ]; then
    echo "Odoo suite FAILED (rc=$odoo_rc, error lines=$errors, failed=$odoo_failed, ran=${ran:-0})"
    grep -E " (ERROR|CRITICAL) " -A25 "$LOG" | head -150
    [ "$odoo_failed" -eq 0 ] && odoo_failed=1
    ok=0
  fi
fi
dropdb --if-exists "$DB" >/dev/null 2>&1

if [ "${SKIP_SERVERS:-0}" != 1 ] && [ -z "${ODOO_TEST_TAGS:-}" ]; then
  echo "=== servers suite (pytest): odoo-bin servers with cron threads on one database"
  SRV_DB="amazon_fbm_srv_$$"
  dropdb --if-exists "$SRV_DB" >/dev/null 2>&1
  createdb -T "$base_db" "$SRV_DB"
  if [ -d "$CACHE_DIR/basedb-data/filestore/$base_db" ]; then
    mkdir -p "$DATA_DIR/filestore"
    cp -r "$CACHE_DIR/basedb-data/filestore/$base_db" "$DATA_DIR/filestore/$SRV_DB"
  fi
  SRV_LOG="$DATA_DIR/servers.log"
  if "$PY" "$ODOO_PATH/odoo-bin" -c "$CONF" -d "$SRV_DB" -i amazon_fbm_connector --without-demo=all \
      --stop-after-init --log-level=warn --http-port=0 --max-cron-threads=0 > "$DATA_DIR/servers-install.log" 2>&1; then
    AMAZON_FBM_SERVERS_DB="$SRV_DB" AMAZON_FBM_ODOO_CONF="$CONF" AMAZON_FBM_ODOO_BIN="$ODOO_PATH/odoo-bin" \
      AMAZON_FBM_DATA_DIR="$DATA_DIR" \
      "$PY" -m pytest -q -s -rs -p no:cacheprovider --rootdir=tests/servers tests/servers 2>&1 | tee "$SRV_LOG"
    srv_rc=${PIPESTATUS[0]}
    last=$(grep -E "[0-9]+ (passed|failed|skipped)" "$SRV_LOG" | tail -1)
    srv_passed=$(echo "$last" | grep -oE "[0-9]+ passed" | grep -oE "[0-9]+"); srv_passed=${srv_passed:-0}
    srv_failed=$(echo "$last" | grep -oE "[0-9]+ failed" | grep -oE "[0-9]+")
    errs=$(echo "$last" | grep -oE "[0-9]+ errors?" | grep -oE "[0-9]+")
    skipped=$(echo "$last" | grep -oE "[0-9]+ skipped" | grep -oE "[0-9]+")
    # A skipped server test did not prove anything: it counts as failed.
    srv_failed=$(( ${srv_failed:-0} + ${errs:-0} + ${skipped:-0} ))
    if [ "$srv_rc" -ne 0 ] && [ "$srv_failed" -eq 0 ]; then srv_failed=1; fi
  else
    echo "servers suite: installing the addon failed"; tail -30 "$DATA_DIR/servers-install.log"
    srv_failed=1
  fi
  for db in $(psql -Atqc "SELECT datname FROM pg_database WHERE datname LIKE '${SRV_DB}%'" postgres); do
    dropdb --if-exists --force "$db" >/dev/null 2>&1
  done
fi
rm -rf "$ADDONS_TMP" "$DATA_DIR/filestore"
summary
[ $ok -eq 1 ] && [ $lint_rc -eq 0 ] && [ $pure_failed -eq 0 ] && [ $srv_failed -eq 0 ]; exit $?
