# Shared by tools/test.sh, tools/run.sh and tools/bench.sh: find Odoo 17 and a
# Python environment for it, and the addon's own dependencies.
#
# Odoo is found in this order:
#   1. ODOO_PATH, when it holds an Odoo tree (odoo-bin);
#   2. the Odoo 17.0 community archive shipped beside the checkout
#      (../shared/platform/odoo-17.0-community.tar.xz, or AMAZON_FBM_ODOO_ARCHIVE),
#      unpacked once into a cache folder outside the repository;
#   3. none: the caller says loudly that the Odoo suite did not run.
# The Python environment for Odoo is $ODOO_PATH/.venv when it exists, else one
# made by us in the cache folder (Odoo's requirements.txt, setuptools<70, ours).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_DIR=${AMAZON_FBM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/amazon_fbm_connector}
ODOO_ARCHIVE=${AMAZON_FBM_ODOO_ARCHIVE:-$ROOT/../shared/platform/odoo-17.0-community.tar.xz}
HAVE_ODOO=0
ODOO_WHY=""

_apt_install() {
  # Debian packages, installed only when missing.
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "[setup] installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "[setup] not root: install them yourself (apt-get install ${missing[*]})" >&2
    return 1
  fi
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

_unpack_archive() {
  # Unpack the archive once; a marker file says the unpack completed.
  local dest="$CACHE_DIR/odoo-17.0"
  if [ ! -f "$dest/.unpacked" ]; then
    echo "[setup] unpacking $(basename "$ODOO_ARCHIVE") into $dest"
    rm -rf "$dest" "$dest.tmp"
    mkdir -p "$dest.tmp"
    tar -xJf "$ODOO_ARCHIVE" -C "$dest.tmp" || return 1
    # The archive may hold the tree at its top or in one folder.
    local top="$dest.tmp"
    if [ ! -f "$top/odoo-bin" ]; then
      top=$(dirname "$(find "$dest.tmp" -maxdepth 2 -name odoo-bin | head -1)")
    fi
    [ -f "$top/odoo-bin" ] || { echo "[setup] no odoo-bin in the archive" >&2; return 1; }
    mv "$top" "$dest"
    rm -rf "$dest.tmp"
    touch "$dest/.unpacked"
  fi
  ODOO_PATH="$dest"
}

_odoo_venv() {
  # The Python environment Odoo runs in; made when missing.
  if [ -x "$ODOO_PATH/.venv/bin/python" ]; then
    PY="$ODOO_PATH/.venv/bin/python"
    return 0
  fi
  local key
  key=$(echo "$ODOO_PATH" | md5sum | cut -c1-8)
  local venv="$CACHE_DIR/venv-odoo17-$key"
  PY="$venv/bin/python"
  if [ -f "$venv/.complete" ]; then
    return 0
  fi
  _apt_install libpq-dev libldap2-dev libsasl2-dev gcc python3-dev || return 1
  echo "[setup] making Odoo's Python environment in $venv (a few minutes, once)"
  rm -rf "$venv"
  python3 -m venv "$venv" || return 1
  "$venv/bin/pip" install -q --disable-pip-version-check "setuptools<70" wheel || return 1
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$ODOO_PATH/requirements.txt" \
    "setuptools<70" || return 1
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$ROOT/requirements.txt" \
    -r "$ROOT/requirements-test.txt" "setuptools<70" || return 1
  touch "$venv/.complete"
}

find_odoo() {
  if [ -n "${ODOO_PATH:-}" ] && [ -f "$ODOO_PATH/odoo-bin" ]; then
    :
  elif [ -z "${ODOO_PATH:-}" ] && [ -f /opt/odoo17/odoo-bin ]; then
    ODOO_PATH=/opt/odoo17
  elif [ -f "$ODOO_ARCHIVE" ]; then
    if [ -n "${ODOO_PATH:-}" ]; then
      echo "[setup] ODOO_PATH=$ODOO_PATH holds no Odoo tree; using the archive beside the checkout"
    fi
    mkdir -p "$CACHE_DIR"
    _unpack_archive || { ODOO_WHY="the Odoo archive $ODOO_ARCHIVE could not be unpacked"; return 1; }
  else
    ODOO_WHY="no Odoo 17 tree at ODOO_PATH=${ODOO_PATH:-/opt/odoo17} and no Odoo archive at $ODOO_ARCHIVE"
    return 1
  fi
  _odoo_venv || { ODOO_WHY="Odoo's Python environment could not be made for $ODOO_PATH"; return 1; }
  HAVE_ODOO=1
  export ODOO_PATH
}

if ! find_odoo; then
  HAVE_ODOO=0
  # No Odoo: the pure suite runs in a venv of its own, outside the repository.
  if [ ! -x "$CACHE_DIR/venv-pure/bin/python" ]; then
    mkdir -p "$CACHE_DIR"
    python3 -m venv "$CACHE_DIR/venv-pure"
  fi
  PY="$CACHE_DIR/venv-pure/bin/python"
fi

# Odoo's reload (odoo.service.server._reexec) re-executes "python" found on PATH: the
# environment Odoo runs in comes first, for run.sh and every server the tests start.
PATH="$(dirname "$PY"):$PATH"
export PATH

ensure_python_deps() {
  # The addon's own dependencies (and the test tools), from PyPI when missing.
  if ! "$PY" -c "import sp_api, cryptography, pytest, jsonschema, ruff, pylint_odoo, websocket" >/dev/null 2>&1; then
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

make_base_db() {
  # Prints the name of a database with the addon's dependencies installed (no
  # demo data), built once per dependency set and Odoo tree; used as a template.
  # $1: a data dir for the build's conf. Concurrent callers wait on one lock.
  local deps key name conf
  deps=$("$PY" -c "import ast,sys; print(','.join(sorted(ast.literal_eval(open(sys.argv[1]).read())['depends'])))" \
    "$ROOT/__manifest__.py")
  key=$(echo "$deps|$ODOO_PATH" | md5sum | cut -c1-10)
  name="amazon_fbm_base_$key"
  mkdir -p "$CACHE_DIR/basedb-data"
  (
    flock 9
    if ! psql -lqt | cut -d'|' -f1 | grep -qw "$name"; then
      echo "[setup] building the base database $name ($deps), once" >&2
      conf="$1/base.conf"
      cat > "$conf" <<CONF
[options]
addons_path = $ODOO_PATH/addons
data_dir = $CACHE_DIR/basedb-data
CONF
      dropdb --if-exists "$name.tmp" >/dev/null 2>&1
      rm -rf "$CACHE_DIR/basedb-data/filestore/$name"
      if "$PY" "$ODOO_PATH/odoo-bin" -c "$conf" -d "$name" -i "$deps" --without-demo=all \
          --stop-after-init --log-level=warn --http-port=0 --max-cron-threads=0 >&2; then
        psql -qc "UPDATE pg_database SET datistemplate = true WHERE datname = '$name'" postgres >&2
      else
        dropdb --if-exists "$name" >/dev/null 2>&1
        exit 1
      fi
    fi
  ) 9>"$CACHE_DIR/basedb.lock" || return 1
  echo "$name"
}
