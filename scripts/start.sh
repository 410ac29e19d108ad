#!/usr/bin/env bash
# One command: set up what is missing, build the demo data set and its hex cubes if they
# are not there yet, and serve the dashboard at http://127.0.0.1:8050 .
# Environment: PNM_DATA_DIR (default ./data/demo), PNM_DEMO_SCALE (small|county|large,
# default county), PNM_PORT (default 8050), PNM_AUTH (default here: none, a demo without
# sign-in). See README.md for every setting.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
export PNM_DATA_DIR=${PNM_DATA_DIR:-$PWD/data/demo}
if [ ! -f "$PNM_DATA_DIR/manifest.json" ]; then
  echo "[start] building the demo data set (${PNM_DEMO_SCALE:-county}) in $PNM_DATA_DIR" >&2
  .venv/bin/python -m geodata demo --out "$PNM_DATA_DIR" --scale "${PNM_DEMO_SCALE:-county}"
fi
# Missing cubes, or cubes of an older format (check_format says which), are built anew.
if ! .venv/bin/python -c 'import sys; from geodata.cubes import check_format; check_format(sys.argv[1])' \
  "$PNM_DATA_DIR" 2>/dev/null; then
  echo "[start] building the hex cubes" >&2
  .venv/bin/python -m geodata cubes --data "$PNM_DATA_DIR"
fi
# The demo's basemap (the app serves it at /tiles/), for a demo built before there was one.
if [ -z "${PNM_TILE_URL:-}${PNM_TILE_PACKAGE:-}" ] && [ ! -f "$PNM_DATA_DIR/basemap.mbtiles" ] \
  && grep -q '"generator": "geodata.demo"' "$PNM_DATA_DIR/manifest.json"; then
  echo "[start] rendering the demo's basemap" >&2
  .venv/bin/python -m geodata basemap --data "$PNM_DATA_DIR"
fi
# The demo runs without sign-in (the page says so in a banner) unless auth is configured.
if [ -z "${PNM_AUTH:-}" ] && [ -z "${PNM_CONFIG:-}" ]; then
  export PNM_AUTH=none
fi
exec .venv/bin/python -m dashboard --data "$PNM_DATA_DIR" --host 127.0.0.1 --port "${PNM_PORT:-8050}"
