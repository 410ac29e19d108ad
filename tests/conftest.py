"""Shared fixtures: one small demo data set, built once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.views.warm import Warmer
from geodata.demo import build_demo

DEMO_SEED = 7


@pytest.fixture(autouse=True, scope="session")
def _no_background_warm_up() -> Iterator[None]:
    """Apps built by the tests (browser tests included) do not start the warm-up thread:
    a background pass would write cache entries while a test counts or compares them, and
    take the CPU a browser test is timing. The warm-up has tests of its own
    (tests/dashboard/test_warm.py), which run it on purpose."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Warmer, "start", lambda self: None)
        yield


@pytest.fixture(scope="session")
def demo_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data directory of the small demo data set (seed 7). Treat it as read-only."""
    return build_demo(tmp_path_factory.mktemp("demo_small"), seed=DEMO_SEED, scale="small")
