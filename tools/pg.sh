#!/usr/bin/env bash
# Start a PostgreSQL server from Debian's packages and make sure the current
# user has a superuser role in it (Odoo connects through the Unix socket).
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  echo "[pg] installing PostgreSQL from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
  pg_createcluster "$ver" main >/dev/null
fi
cluster=$(pg_lsclusters -h | head -1 | awk '{print $1" "$2}')
status=$(pg_lsclusters -h | head -1 | awk '{print $4}')
if [ "$status" != "online" ]; then
  # shellcheck disable=SC2086
  pg_ctlcluster $cluster start
fi
me=$(id -un)
for _ in $(seq 1 30); do
  su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
if ! su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='$me'\"" | grep -q 1; then
  su postgres -c "createuser -s '$me'"
fi
echo "[pg] PostgreSQL $ver online; role '$me' ready"
