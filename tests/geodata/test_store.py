"""The embedded store: atomic writes, clear errors, WGS84 only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from geodata import store


def _precincts(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"precinct_id": ["P1"], "name": ["东乡派出所"]},
        geometry=[box(107.7, 31.3, 107.8, 31.4)],
        crs=crs,
    )


def test_round_trip_keeps_chinese_and_crs(tmp_path: Path) -> None:
    store.write_table(tmp_path, "precincts", _precincts())
    back = store.read_table(tmp_path, "precincts")
    assert isinstance(back, gpd.GeoDataFrame)
    assert back.crs.to_epsg() == 4326
    assert back.loc[0, "name"] == "东乡派出所"
    assert store.has_table(tmp_path, "precincts")


def test_point_tables_are_plain_frames(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"unit_id": ["U1"], "unit_kind": ["red_armband"], "lng": [107.7], "lat": [31.3]}
    )
    store.write_table(tmp_path, "patrol_fixes", frame)
    back = store.read_table(tmp_path, "patrol_fixes")
    assert not isinstance(back, gpd.GeoDataFrame)
    pd.testing.assert_frame_equal(back, frame)


def test_refuses_a_projected_crs(tmp_path: Path) -> None:
    projected = _precincts().to_crs("EPSG:4545")
    with pytest.raises(ValueError, match="EPSG:4326"):
        store.write_table(tmp_path, "precincts", projected)
    assert not store.has_table(tmp_path, "precincts")


def test_a_failed_write_leaves_the_old_table(tmp_path: Path) -> None:
    store.write_table(tmp_path, "precincts", _precincts())
    broken = _precincts().assign(name=[object()])  # pyarrow cannot write a bare object
    with pytest.raises(Exception):  # noqa: B017, PT011 - any writer error will do
        store.write_table(tmp_path, "precincts", broken)
    assert store.read_table(tmp_path, "precincts").loc[0, "name"] == "东乡派出所"
    assert [p.name for p in tmp_path.iterdir()] == ["precincts.parquet"], "no temp file left"


def test_missing_table_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(store.StoreError, match="has no incidents"):
        store.read_table(tmp_path, "incidents")


def test_manifest_round_trip(tmp_path: Path) -> None:
    assert store.read_manifest(tmp_path) == {}
    store.write_manifest(tmp_path, {"synthetic": True, "note": "演示数据"})
    assert store.read_manifest(tmp_path) == {"synthetic": True, "note": "演示数据"}


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        path = store.write_table(tmp_path, "precincts", _precincts())
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
