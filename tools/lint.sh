#!/usr/bin/env bash
# Linters: ruff (ruff.toml) and pylint with pylint-odoo (.pylintrc: OCA's checks
# for manifests, XML ids, translations and SQL), and tools/lint_xml.py (XML ids of
# modules outside the manifest's dependencies, read from tools/odoo_depends_closure.txt,
# which is compared with the Odoo tree when ODOO_PATH holds one; no Odoo needed).
# Exit non-zero on any finding.
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
ensure_python_deps >/dev/null
rc=0
echo "=== lint: ruff"
"$PY" -m ruff check --no-cache . || rc=1
echo "=== lint: pylint-odoo"
mapfile -t addon_files < <(git ls-files --cached --others --exclude-standard '*.py' \
  | grep -v '^tools/' | grep -v '^tests/fixtures/')
mapfile -t tool_files < <(git ls-files --cached --others --exclude-standard 'tools/*.py')
"$PY" -m pylint --rcfile=.pylintrc --output-format=parseable "${addon_files[@]}" || rc=1
# tools/ are command-line scripts: printing is their job.
"$PY" -m pylint --rcfile=.pylintrc --disable=print-used --output-format=parseable "${tool_files[@]}" || rc=1
echo "=== lint: XML ids and data files"
"$PY" tools/lint_xml.py || rc=1
[ $rc -eq 0 ] && echo "lint: clean" || echo "lint: FAILED"
exit $rc
