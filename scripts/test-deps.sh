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

# PostgreSQL: use the one listening on 127.0.0.1:5432, else start or install one.
pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
if ! pg_up; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "test-deps: installing postgresql" >&2
    apt_install postgresql
  fi
  ver=$(ls /etc/postgresql | sort -V | tail -n1)
  conf=/etc/postgresql/$ver/main
  # Trust auth on loopback for the test database.
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "test-deps: PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
fi
if command -v psql >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" 2>/dev/null | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE test" >/dev/null
fi
echo "test-deps: chromium $(chromium --version 2>/dev/null | awk '{print $2}'), postgresql on 127.0.0.1:5432" >&2
