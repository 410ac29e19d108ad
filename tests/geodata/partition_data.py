"""Hand-built fixes and incidents whose hard cases sit on partition boundaries (midnight),
and the comparison of two data directories' cubes, shared by the Dask, refresh and
PostGIS tests."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import h3.api.basic_int as h3i
import pandas as pd
import polars as pl

from geodata.cubes import load_cube, load_meta

D0 = dt.datetime(2025, 3, 1)
DAY = dt.timedelta(days=1)
S = dt.timedelta(seconds=1)
CUT = D0 + 2 * DAY + dt.timedelta(hours=12)
"""Where the first import of the refresh tests stops: noon of the third day."""

_BASE = h3i.latlng_to_cell(31.35, 107.73, 11)
CELLS = sorted(h3i.grid_disk(_BASE, 2))[:6]


def centre(cell: int) -> tuple[float, float]:
    """(lng, lat) of a cell's centre."""
    lat, lng = h3i.cell_to_latlng(cell)
    return lng, lat


A, B, C, E = (centre(c) for c in CELLS[:4])
Fix = tuple[str, str, dt.datetime, tuple[float, float]]


def every(
    unit: str, kind: str, start: dt.datetime, end: dt.datetime, step_s: int, at: Any
) -> list[Fix]:
    """Fixes of ``unit`` every ``step_s`` seconds in ``[start, end)``; ``at`` is a place
    or a function of the fix number giving one."""
    out = []
    t, i = start, 0
    while t < end:
        out.append((unit, kind, t, at(i) if callable(at) else at))
        t += step_s * S
        i += 1
    return out


def hard_fixes() -> list[Fix]:
    """Five days of fixes with stays over midnight, one over two whole days, a break
    exactly at midnight, a fix at 00:00:00, tied times and kinds of other intervals."""
    midnight = [D0 + k * DAY for k in range(1, 5)]
    rows: list[Fix] = []
    # A guard over the first midnight, in one cell (a visit in two pieces).
    rows += every("guard1", "security_guard", midnight[0] - 300 * S, midnight[0] + 300 * S, 20, A)
    rows += every(
        "guard1", "security_guard", D0 + dt.timedelta(hours=9), D0 + dt.timedelta(hours=10), 20, B
    )
    # A car over the second midnight, moving between two cells every minute.
    rows += every(
        "car1",
        "police_car",
        midnight[1] - 600 * S,
        midnight[1] + 600 * S,
        10,
        lambda i: A if (i // 6) % 2 else B,
    )
    # The same car around the cut at noon of the third day: the stay goes on after it.
    rows += every("car1", "police_car", CUT - 300 * S, CUT + 300 * S, 10, C)
    # A foot patrol parked from the third evening to the fifth night: one visit, 3 days.
    rows += every(
        "foot1",
        "foot_patrol",
        midnight[1] + dt.timedelta(hours=22),
        midnight[3] + dt.timedelta(hours=2),
        30,
        E,
    )
    # A volunteer whose silence of exactly BREAK_S ends at a midnight (no break) and one
    # of BREAK_S + 1 s ending at the next (a break).
    rows += [
        ("vol1", "volunteer_patrol", midnight[2] - 600 * S, A),
        ("vol1", "volunteer_patrol", midnight[2], A),
    ]
    rows += [
        ("vol1", "volunteer_patrol", midnight[3] - 601 * S, A),
        ("vol1", "volunteer_patrol", midnight[3], A),
    ]
    # Two fixes of one unit at the same instant in different cells, at 00:00:00.
    rows += [("car2", "police_car", midnight[2], B), ("car2", "police_car", midnight[2], C)]
    rows += every("car2", "police_car", midnight[2] + 10 * S, midnight[2] + 60 * S, 10, C)
    return rows


def fixes_frame(rows: list[Fix]) -> pl.DataFrame:
    """The fixes as the store keeps them."""
    return pl.DataFrame(
        {
            "unit_id": [r[0] for r in rows],
            "unit_kind": [r[1] for r in rows],
            "time": [r[2] for r in rows],
            "lng": [r[3][0] for r in rows],
            "lat": [r[3][1] for r in rows],
        },
        schema={
            "unit_id": pl.String,
            "unit_kind": pl.String,
            "time": pl.Datetime("us"),
            "lng": pl.Float64,
            "lat": pl.Float64,
        },
    )


def incidents_frame() -> pl.DataFrame:
    """A dozen incidents over the five days, two in one cell-hour, one at midnight."""
    times = [
        D0 + dt.timedelta(hours=3),
        D0 + dt.timedelta(hours=3, minutes=20),
        D0 + DAY,
        D0 + DAY + dt.timedelta(hours=23, minutes=59),
        CUT - 60 * S,
        CUT + 60 * S,
        D0 + 3 * DAY + dt.timedelta(hours=8),
        D0 + 4 * DAY + dt.timedelta(hours=12),
    ]
    places = [A, A, B, C, E, E, B, A]
    return pl.DataFrame(
        {
            "incident_id": [f"J{i:03d}" for i in range(len(times))],
            "time": times,
            "lng": [p[0] for p in places],
            "lat": [p[1] for p in places],
            "category": [
                "theft",
                "theft",
                "fraud",
                "dispute",
                "theft",
                "assault",
                "fraud",
                "theft",
            ],
            "severity": [1, 2, None, 3, 1, 1, 2, None],
            "source": ["call_110"] * len(times),
        },
        schema_overrides={"time": pl.Datetime("us"), "severity": pl.Int64},
    )


def write_store(folder: Path, fixes: pl.DataFrame | None, incidents: pl.DataFrame | None) -> Path:
    """A data directory holding these tables (as the store writes them)."""
    from geodata import store

    folder.mkdir(parents=True, exist_ok=True)
    if fixes is not None:
        store.write_table(folder, "patrol_fixes", fixes.to_pandas())
    if incidents is not None:
        store.write_table(folder, "incidents", incidents.to_pandas())
    return folder


def copy_store(source: Path, target: Path) -> Path:
    """The tables (not the cubes) of a data directory, copied."""
    target.mkdir(parents=True, exist_ok=True)
    for f in source.glob("*.parquet"):
        shutil.copy2(f, target / f.name)
    return target


META_KEYS = ("rows", "dropped", "time_min", "time_max")


def assert_same_cubes(got: Path, want: Path) -> None:
    """The cubes of two data directories are equal, row for row, and so are the counts
    and dwell constants of their metadata."""
    for name in ("incidents", "patrol", "visits"):
        pd.testing.assert_frame_equal(load_cube(got, name), load_cube(want, name), check_exact=True)
    a, b = load_meta(got), load_meta(want)
    assert a["missing"] == b["missing"]
    assert a.get("dwell") == b.get("dwell")
    assert a["cubes"] == b["cubes"]
    assert a["time_range"] == b["time_range"]
    for kind in b["sources"]:
        assert {k: a["sources"][kind][k] for k in META_KEYS} == {
            k: b["sources"][kind][k] for k in META_KEYS
        }
