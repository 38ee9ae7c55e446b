# Shared by tools/test.sh and tools/run.sh: locate Odoo and a Python with our deps.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_PATH=${ODOO_PATH:-/opt/odoo17}
HAVE_ODOO=0
if [ -f "$ODOO_PATH/odoo-bin" ] && [ -x "$ODOO_PATH/.venv/bin/python" ]; then
  HAVE_ODOO=1
  PY="$ODOO_PATH/.venv/bin/python"
else
  # No Odoo: the pure suite runs in a venv of its own (ignored by git).
  if [ ! -x "$ROOT/.venv/bin/python" ]; then
    python3 -m venv "$ROOT/.venv"
  fi
  PY="$ROOT/.venv/bin/python"
fi

ensure_python_deps() {
  # The addon's own dependencies (and the test tools), from PyPI when missing.
  if ! "$PY" -c "import sp_api, cryptography, pytest, jsonschema" >/dev/null 2>&1; then
    echo "[deps] installing the addon's Python dependencies into $PY"
    "$PY" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements.txt" \
      -r "$ROOT/requirements-test.txt"
  fi
  if [ "$HAVE_ODOO" = 1 ] && ! "$PY" -c "import pkg_resources" >/dev/null 2>&1; then
    # Odoo 17 imports pkg_resources, which setuptools >= 70 no longer ships.
    "$PY" -m pip install -q --disable-pip-version-check "setuptools<70"
  fi
}

make_addons_dir() {
  # Odoo finds the addon by its technical name: link the checkout under it.
  ADDONS_TMP=$(mktemp -d /tmp/amazon_fbm_addons.XXXXXX)
  ln -s "$ROOT" "$ADDONS_TMP/amazon_fbm_connector"
}

write_odoo_conf() {
  # $1: conf path, $2: data dir. The secret key lives here, not in the database.
  local key
  key=$("$PY" -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")
  cat > "$1" <<CONF
[options]
addons_path = $ODOO_PATH/addons,$ADDONS_TMP
data_dir = $2
amazon_fbm_secret_key = $key
admin_passwd = admin
CONF
}
