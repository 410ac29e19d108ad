#!/usr/bin/env bash
# One command: set up what is missing (Chromium, PostGIS, Python packages) and run the
# whole test suite: ruff (lint + format check), mypy, then pytest including browser tests.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not browser" -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
echo "[test] ruff" >&2
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "[test] mypy" >&2
.venv/bin/mypy
echo "[test] pytest" >&2
exec .venv/bin/python -m pytest "$@"
