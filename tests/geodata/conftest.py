"""Shared fixtures of the geodata tests: tiny files written into tmp_path."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

# A square test area around Xuanhan's county seat (WGS84), far from Dazhou's 通川区.
SQUARE = shapely.box(107.6, 31.2, 107.9, 31.5)


@pytest.fixture
def write_text(tmp_path: Path) -> Callable[..., Path]:
    """Write ``text`` in ``encoding`` to a file in tmp_path and return its path."""

    def write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return write


def zipped_shapefile(
    folder: Path,
    frame: gpd.GeoDataFrame,
    *,
    name: str = "layer",
    encoding: str = "GBK",
    keep_cpg: bool = True,
    arcname_prefix: str = "",
) -> Path:
    """Write ``frame`` as a Shapefile whose DBF is in ``encoding``, zipped; return the zip."""
    work = folder / f"shp-{name}"
    work.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(frame, work / f"{name}.shp", encoding=encoding)
    cpg = work / f"{name}.cpg"
    if not keep_cpg:
        cpg.unlink(missing_ok=True)
    target = folder / f"{name}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(work.iterdir()):
            zf.write(part, arcname_prefix + part.name)
    return target


@pytest.fixture
def square_store(tmp_path: Path) -> Path:
    """A data directory whose stored area is :data:`SQUARE`."""
    from geodata import store

    data = tmp_path / "store"
    area = gpd.GeoDataFrame(
        {"code": ["999999"], "name": ["测试区"]}, geometry=[SQUARE], crs="EPSG:4326"
    )
    store.write_table(data, "area", area)
    return data
