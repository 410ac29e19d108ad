"""Shared fixtures of the dashboard and browser tests (imported by their conftest files)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_with_cubes(demo_small: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the small demo data set, with its hex cubes built.

    A copy, so the cubes written here never change the shared ``demo_small`` directory.
    """
    from geodata.cubes import build_cubes

    out = tmp_path_factory.mktemp("demo-cubes") / "data"
    shutil.copytree(demo_small, out)
    build_cubes(out)
    return out
