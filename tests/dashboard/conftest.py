"""Fixtures of the dashboard tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from dashboard.cache import LayerCache
from dashboard.datasource import View
from dashboard.settings import Settings, load_settings
from dashboard.views.warm import Warmer
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


__all__ = ["REAL_START", "demo_with_cubes"]
