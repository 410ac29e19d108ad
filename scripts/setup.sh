#!/usr/bin/env bash
# Set up whatever is missing, idempotently: system packages (Debian), the Python virtual
# environment and its pinned packages. Usage: scripts/setup.sh [run|test]
#   run   packages needed to serve the dashboard (the default): CJK fonts (for a
#         browser on this machine, e.g. a wall kiosk, and a basemap with names baked in)
#   test  also Chromium + ChromeDriver (browser tests), PostGIS, GDAL's ogrinfo,
#         and the test tools of requirements-dev.txt
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

apt_pkgs=(fonts-noto-cjk)
if [ "$mode" = test ]; then
  apt_pkgs+=(chromium chromium-driver gdal-bin postgresql-15-postgis-3)
fi
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python: one virtual environment in .venv, reinstalled only when the requirements change.
py=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $($py --version)"
  $py -m venv .venv
fi
req=requirements.txt
[ "$mode" = test ] && req=requirements-dev.txt
stamp=".venv/.installed-$(cat requirements.txt requirements-dev.txt constraints.txt "$req" | sha256sum | cut -c1-16)-$mode"
if [ ! -f "$stamp" ]; then
  say "installing Python packages from $req (pinned by constraints.txt)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$req" -c constraints.txt
  touch "$stamp"
fi

if [ "$mode" = test ]; then
  # Services the tests talk to: PostgreSQL (with PostGIS in database "test") and Redis.
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  fi
  PGOPTIONS="-c client_min_messages=warning" psql -h 127.0.0.1 -d test -qtAc "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    say "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/redis-pnm.log
  fi
fi
