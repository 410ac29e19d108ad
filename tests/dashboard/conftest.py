"""Fixtures of the dashboard tests."""

from __future__ import annotations

from dashboard.views.warm import Warmer
from tests.dashboard.fixtures import demo_with_cubes

REAL_START = Warmer.start
"""The warm-up thread's start, for the tests of the warm-up itself (tests/conftest.py
switches it off for every other test)."""


__all__ = ["REAL_START", "demo_with_cubes"]
