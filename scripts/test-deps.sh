#!/usr/bin/env bash
# Installs and starts what tenantlink's tests need on a fresh Debian machine:
# Chromium (browser tests) and a PostgreSQL server (PostgreSQL backend tests).
# Idempotent; fails loudly when something cannot be had.
set -euo pipefail

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "test-deps: need root to apt-get install $*" >&2
    exit 1
  fi
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Chromium for chromedp.
if ! command -v chromium >/dev/null 2>&1; then
  echo "test-deps: installing chromium" >&2
  apt_install chromium
fi

# PostgreSQL: use the one listening on 127.0.0.1:5432, else start or install
# one. The tests connect as postgres without a password (TENANTLINK_TEST_POSTGRES,
# default postgres://postgres@127.0.0.1:5432/test) and create their own
# databases from there, so the server must trust loopback and "test" must exist.
pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
if ! pg_up; then
  if ! ls -d /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "test-deps: installing postgresql" >&2
    apt_install postgresql
  fi
  ver=$(ls /etc/postgresql | sort -V | tail -n1)
  conf=/etc/postgresql/$ver/main
  [ -f "$conf/pg_hba.conf" ] || { echo "test-deps: no $conf/pg_hba.conf after installing postgresql" >&2; exit 1; }
  # Trust auth on loopback for the test database (first matching line wins).
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"
  fi
  # The package's postinst may already have started the cluster (then it
  # needs a reload to see the new pg_hba line); in containers it usually has not.
  if pg_lsclusters -h 2>/dev/null | awk -v v="$ver" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
    pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
  else
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "test-deps: PostgreSQL did not start on 127.0.0.1:5432 (see /var/log/postgresql/)" >&2; exit 1; }
fi
if ! command -v psql >/dev/null 2>&1; then
  echo "test-deps: installing postgresql-client" >&2
  apt_install postgresql-client
fi
# -w: never prompt for a password; a server that wants one is a setup error.
pg_q() { psql -w -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -tAc "$1"; }
if ! pg_q 'SELECT 1' >/dev/null; then
  echo "test-deps: cannot connect to PostgreSQL on 127.0.0.1:5432 as postgres without a password;" \
    "add 'host all all 127.0.0.1/32 trust' to pg_hba.conf" >&2
  exit 1
fi
if [ "$(pg_q "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
  pg_q 'CREATE DATABASE test' >/dev/null
fi
echo "test-deps: chromium $(chromium --version 2>/dev/null | awk '{print $2}'), postgresql on 127.0.0.1:5432" >&2
