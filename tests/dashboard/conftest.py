"""Fixtures of the dashboard tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from dashboard.cache import LayerCache
from dashboard.datasource import ReloadingSource, View
from dashboard.settings import Settings, load_settings
from dashboard.views.export import ExportRequest
from dashboard.views.warm import Warmer
from geodata.snapshot import Snapshot
from tests.dashboard.fixtures import county_view, demo_with_cubes
from tests.dashboard.tiny_data import build_tiny_data

REAL_START = Warmer.start
"""The warm-up thread's start, for the tests of the warm-up itself (tests/conftest.py
switches it off for every other test)."""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny data directory (tests/dashboard/tiny_data.py), one per test module."""
    return build_tiny_data(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def settings(tiny: Path) -> Settings:
    return load_settings({}, data_dir=str(tiny), auth="none")


@pytest.fixture(scope="module")
def source(tiny: Path) -> View:
    return county_view(tiny)


@pytest.fixture
def layer_cache(settings: Settings) -> LayerCache:
    """A fresh in-process layer cache per test."""
    return LayerCache(Flask("test"), settings)


@pytest.fixture(scope="module")
def live(demo_with_cubes: Path) -> ReloadingSource:
    """The small demo with cubes in service (one snapshot per test module)."""
    return ReloadingSource(Snapshot(demo_with_cubes))


@pytest.fixture(scope="module")
def cache(demo_with_cubes: Path) -> LayerCache:
    return LayerCache(Flask("demo"), load_settings({}, data_dir=str(demo_with_cubes)))


@pytest.fixture(scope="module")
def window(live: ReloadingSource) -> tuple[str, str]:
    """The 30-day preset as the map and the export page both resolve it."""
    since, until = ExportRequest(window="30d").span(live.current.last_day)
    return since.isoformat(), until.isoformat()


__all__ = ["REAL_START", "demo_with_cubes"]
