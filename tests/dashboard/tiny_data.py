"""A tiny, hand-made data directory for dashboard tests: known shapes, known counts.

A 0.1° square "county" around (107.73 E, 31.35 N), two precincts (west and east halves),
four grids (quadrants), and an incidents cube of five rows written by hand in the cube's
format (cell uint64 at res 11, the exact cells of the rows' points — each cell's centre —
at res 6-10 from h3-py, hour, category, count).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
from shapely.geometry import box

from geodata.cubes.build import FORMAT_VERSION
from geodata.store import cubes_dir, write_frame, write_manifest, write_table
from tests.cube_rows import exact_rows

WEST, SOUTH, EAST, NORTH = 107.68, 31.30, 107.78, 31.40
MID_LNG, MID_LAT = 107.73, 31.35


def cell(lat: float, lng: float) -> int:
    """The res-11 cell of a point, as an integer (h3-py, independent of geodata.hexes)."""
    return int(h3.str_to_int(h3.latlng_to_cell(lat, lng, 11)))


# Two cells ~10 km apart (different res-8 parents) and one in the same res-8 parent as A.
A = cell(31.3300, 107.7000)
B = cell(31.3301, 107.7001)
C = cell(31.3800, 107.7600)

CUBE_ROWS = [
    # cell, hour, category, count
    (A, "2026-11-20 08:00", "theft", 2),
    (A, "2026-11-20 09:00", "theft", 1),
    (B, "2026-11-24 21:00", "fraud", 4),
    (C, "2026-11-25 23:00", "dispute", 7),  # the data's last hour: "now" is 2026-11-25
    (C, "2026-09-01 10:00", "theft", 50),  # outside the last 30 days
]


def build_tiny_data(out: Path, *, synthetic: bool = True, cube: bool = True) -> Path:
    """Write the tiny data directory into ``out`` and return it."""
    crs = "EPSG:4326"
    area = gpd.GeoDataFrame(
        {"code": ["999001"], "name": ["示例县"]}, geometry=[box(WEST, SOUTH, EAST, NORTH)], crs=crs
    )
    precincts = gpd.GeoDataFrame(
        {"precinct_id": ["P1", "P2"], "name": ["西城派出所", "东城派出所"]},
        geometry=[box(WEST, SOUTH, MID_LNG, NORTH), box(MID_LNG, SOUTH, EAST, NORTH)],
        crs=crs,
    )
    quadrants = [
        box(WEST, SOUTH, MID_LNG, MID_LAT),
        box(WEST, MID_LAT, MID_LNG, NORTH),
        box(MID_LNG, SOUTH, EAST, MID_LAT),
        box(MID_LNG, MID_LAT, EAST, NORTH),
    ]
    grids = gpd.GeoDataFrame(
        {
            "grid_id": ["G1", "G2", "G3", "G4"],
            "name": ["一网格", "二网格", "三网格", "四网格"],
            "precinct_id": ["P1", "P1", "P2", "P2"],
        },
        geometry=quadrants,
        crs=crs,
    )
    write_table(out, "area", area)
    write_table(out, "precincts", precincts)
    write_table(out, "grids", grids)
    write_manifest(
        out,
        {
            "synthetic": synthetic,
            "note": {"zh": "测试数据", "en": "test data"},
        },
    )
    if cube:
        write_frame(cube_frame(CUBE_ROWS), cubes_dir(out) / "incidents.parquet")
        write_meta(out, "2026-11-26T00:00:00+00:00")
    return out


def cube_frame(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    """Incident cube rows (cell, hour, category, count) as the build stores them."""
    frame = pd.DataFrame(rows, columns=["cell", "hour", "category", "count"]).astype(
        {"cell": np.uint64, "hour": "datetime64[us]", "category": str, "count": np.int32}
    )
    return exact_rows(frame)


def write_meta(data_dir: Path, built_at: str) -> None:
    """The cubes' meta.json, of the format this code reads."""
    (cubes_dir(data_dir) / "meta.json").write_text(
        json.dumps({"format": FORMAT_VERSION, "built_at": built_at})
    )


# An incident row to append (5 thefts, the data's last day, in a cell no other row has).
NEW_ROW = (cell(31.3200, 107.7500), "2026-11-25 22:00", "theft", 5)


def rebuild_cube(data_dir: Path, rows: list[tuple[object, ...]], built_at: str) -> None:
    """Write the incidents cube and its meta.json as a cube build does."""
    write_frame(cube_frame(rows), cubes_dir(data_dir) / "incidents.parquet")
    write_meta(data_dir, built_at)
