"""Shared fixtures: one small demo data set, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodata.demo import build_demo

DEMO_SEED = 7


@pytest.fixture(scope="session")
def demo_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data directory of the small demo data set (seed 7). Treat it as read-only."""
    return build_demo(tmp_path_factory.mktemp("demo_small"), seed=DEMO_SEED, scale="small")
