"""Shared fixtures of the dashboard and browser tests (imported by their conftest files)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from dashboard.datasource import ReloadingSource, View
from geodata.snapshot import Snapshot


def county_view(data_dir: Path, scope: frozenset[str] | None = None) -> View:
    """The view of ``scope`` (None: the whole area) on a new snapshot of ``data_dir``:
    what a callback of that user is handed."""
    return ReloadingSource(Snapshot(data_dir)).view(scope)


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


def components_by_id(page: Any) -> dict[str, Any]:
    """Every Dash component of ``page`` with a string id, by id."""
    found: dict[str, Any] = {}

    def walk(c: object) -> None:
        if hasattr(c, "to_plotly_json"):
            cid = getattr(c, "id", None)
            if isinstance(cid, str):
                found[cid] = c
            walk(getattr(c, "children", None))
        elif isinstance(c, list | tuple):
            for x in c:
                walk(x)

    walk(page)
    return found
