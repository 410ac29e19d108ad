"""Fixtures of the dashboard tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboard.views.warm import Warmer
from tests.dashboard.fixtures import demo_with_cubes

REAL_START = Warmer.start
"""The warm-up thread's start, for the tests of the warm-up itself."""


@pytest.fixture(autouse=True, scope="session")
def _no_background_warm_up() -> Iterator[None]:
    """Apps built by the tests do not start the warm-up thread: a background pass would
    write cache entries while a test counts or compares them. The warm-up has tests of
    its own (test_warm.py), which run it on purpose."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Warmer, "start", lambda self: None)
        yield


__all__ = ["REAL_START", "demo_with_cubes"]
