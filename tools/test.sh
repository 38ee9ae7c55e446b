#!/usr/bin/env bash
# The test command: the pure-Python suite, then the Odoo suite when an Odoo
# 17 tree is at ODOO_PATH (default /opt/odoo17).
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
ensure_python_deps

echo "=== pure suite (pytest): client layer, parsers, emulator"
"$PY" -m pytest -q -p no:cacheprovider --rootdir=tests/pure tests/pure
pure_rc=$?
if [ $pure_rc -ne 0 ]; then
  echo "pure suite FAILED (rc=$pure_rc)"
fi

if [ "$HAVE_ODOO" != 1 ]; then
  echo
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!!! The Odoo suite did NOT run: no Odoo 17 tree (odoo-bin + .venv) at $ODOO_PATH"
  echo "!!! Only the pure suite ran. See README (Setup) for how to provide Odoo."
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  exit $pure_rc
fi

echo "=== Odoo suite: odoo-bin --test-enable --test-tags /amazon_fbm_connector"
bash "$ROOT/tools/pg.sh"
make_addons_dir
DATA_DIR=$(mktemp -d /tmp/amazon_fbm_data.XXXXXX)
CONF="$DATA_DIR/odoo.conf"
write_odoo_conf "$CONF" "$DATA_DIR"
DB="amazon_fbm_test_$$"
LOG="$DATA_DIR/odoo-test.log"
dropdb --if-exists "$DB" >/dev/null 2>&1
"$PY" "$ODOO_PATH/odoo-bin" -c "$CONF" -d "$DB" -i amazon_fbm_connector --without-demo=all \
  --test-enable --test-tags "${ODOO_TEST_TAGS:-/amazon_fbm_connector}" --stop-after-init \
  --log-level=test --http-port=0 --max-cron-threads=0 2>&1 | tee "$LOG" | \
  grep -E "(ERROR|FAIL|Ran [0-9]+ tests|tests? when loading|Starting |: [0-9]+ failed|Traceback)" || true
odoo_rc=${PIPESTATUS[0]}
dropdb --if-exists "$DB" >/dev/null 2>&1
rm -rf "$ADDONS_TMP"

errors=$(grep -cE " (ERROR|CRITICAL) " "$LOG" || true)
summary=$(grep -E "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$LOG" | tail -1)
ran=$(echo "$summary" | sed -nE 's/.* ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\3/p')
failed=$(echo "$summary" | sed -nE 's/.* ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1+\2/p')
if [ -z "$summary" ]; then
  ran=$(grep -cE "Starting .*\.test_" "$LOG" || true)
  failed=0
fi
failed=$(( ${failed:-0} ))
passed=$(( ${ran:-0} - failed ))
[ "$passed" -lt 0 ] && passed=0
echo "Odoo suite log: $LOG"
echo "odoo: $passed passed, $failed failed"
if [ "$odoo_rc" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$failed" -ne 0 ] || [ "${ran:-0}" -eq 0 ]; then
  echo "Odoo suite FAILED (rc=$odoo_rc, error lines=$errors, failed=$failed, ran=${ran:-0})"
  grep -E " (ERROR|CRITICAL) " -A25 "$LOG" | head -150
  exit 1
fi
exit $pure_rc
