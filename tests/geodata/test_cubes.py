"""Hex cubes: hand-built fixes with known answers, a plain-Python reference, invariants."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections import defaultdict
from pathlib import Path
from typing import Any

import h3.api.basic_int as h3i
import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.cubes import (
    BREAK_S,
    build_cubes,
    incident_cube,
    load_cube,
    load_meta,
    patrol_cubes,
    rollup,
    scan_cube,
    visits_at,
)
from geodata.cubes.tables import cells_at, lineage
from geodata.store import StoreError, cubes_dir, write_table

T0 = dt.datetime(2025, 3, 1, 10, 0, 0)
S = dt.timedelta(seconds=1)

# Cells chosen with h3-py, independently of the code under test: seven res-11 siblings
# under one res-10 parent near Xuanhan's county seat, and two cells of a neighbouring
# res-10 parent.
_BASE = h3i.latlng_to_cell(31.35, 107.73, 11)
_PARENT = h3i.cell_to_parent(_BASE, 10)
SIBLINGS = sorted(h3i.cell_to_children(_PARENT, 11))
_OTHER_PARENT = sorted(set(h3i.grid_ring(_PARENT, 1)))[0]
OTHERS = sorted(h3i.cell_to_children(_OTHER_PARENT, 11))[:2]
CELLS = [*SIBLINGS[:4], *OTHERS]


def centre(cell: int) -> tuple[float, float]:
    """(lng, lat) of a cell's centre."""
    lat, lng = h3i.cell_to_latlng(cell)
    return lng, lat


A, B = centre(SIBLINGS[0]), centre(SIBLINGS[1])


def fixes_frame(rows: list[tuple[str, str, dt.datetime, tuple[float, float]]]) -> pl.DataFrame:
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


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows without the exact coarser cells (``cell_<res>``, tested on their own)."""
    return (
        frame.drop(lineage(frame.columns)).with_columns(pl.col(pl.Enum).cast(pl.String)).to_dicts()
    )


CAR = {"police_car": 10.0}


# --------------------------------------------------------------------------- known answers


def test_four_fixes_ten_seconds_apart_in_one_cell() -> None:
    rows = [("u1", "police_car", T0 + 10 * i * S, A) for i in range(4)]
    built = patrol_cubes(fixes_frame(rows))
    # The median gap is 10 s, so the cap is 20 s: 3 gaps of 10 s plus the cap.
    assert built.fix_interval_s == {"police_car": 10.0}
    assert built.cap_s == {"police_car": 20.0}
    assert records(built.patrol) == [
        {
            "cell": SIBLINGS[0],
            "hour": T0,
            "unit_kind": "police_car",
            "fixes": 4,
            "units": 1,
            "dwell_s": 50.0,
            "visits": 1,
        }
    ]
    assert records(built.visits) == [
        {
            "unit_id": "u1",
            "unit_kind": "police_car",
            "cell": SIBLINGS[0],
            "entered": T0,
            "last_fix": T0 + 30 * S,
            "left": T0 + 50 * S,
            "fixes": 4,
        }
    ]


def test_two_units_in_one_cell_hour() -> None:
    rows = [
        ("u1", "police_car", T0, A),
        ("u1", "police_car", T0 + 10 * S, A),
        ("u2", "police_car", T0 + 5 * S, A),
    ]
    (row,) = records(patrol_cubes(fixes_frame(rows), fix_interval_s=CAR).patrol)
    assert (row["fixes"], row["units"], row["visits"]) == (3, 2, 2)
    assert row["dwell_s"] == 10.0 + 20.0 + 20.0


def test_leaving_and_coming_back_is_two_visits() -> None:
    rows = [("u1", "police_car", T0 + 10 * i * S, p) for i, p in enumerate([A, A, B, A])]
    built = patrol_cubes(fixes_frame(rows), fix_interval_s=CAR)
    by_cell = {r["cell"]: r for r in records(built.patrol)}
    assert by_cell[SIBLINGS[0]]["visits"] == 2
    assert by_cell[SIBLINGS[0]]["fixes"] == 3
    assert by_cell[SIBLINGS[0]]["units"] == 1
    assert by_cell[SIBLINGS[1]]["visits"] == 1
    assert [(v["cell"], v["fixes"]) for v in records(built.visits)] == [
        (SIBLINGS[0], 2),
        (SIBLINGS[1], 1),
        (SIBLINGS[0], 1),
    ]


def test_long_gaps_are_capped_and_a_break_ends_the_visit() -> None:
    # Gaps: 10 s, 100 s (over the 20 s cap, under the break), then 700 s (a break).
    times = [T0, T0 + 10 * S, T0 + 110 * S, T0 + 810 * S]
    rows = [("u1", "police_car", t, A) for t in times]
    built = patrol_cubes(fixes_frame(rows), fix_interval_s=CAR)
    (row,) = records(built.patrol)
    assert row["dwell_s"] == 10.0 + 20.0 + 20.0 + 20.0
    assert row["visits"] == 2
    visits = records(built.visits)
    assert [(v["entered"], v["last_fix"], v["left"], v["fixes"]) for v in visits] == [
        (T0, T0 + 110 * S, T0 + 130 * S, 3),
        (T0 + 810 * S, T0 + 810 * S, T0 + 830 * S, 1),
    ]


def test_fixes_either_side_of_the_hour_fall_in_different_hours() -> None:
    at = dt.datetime(2025, 3, 1, 10, 59, 59)
    rows = [("u1", "police_car", at, A), ("u1", "police_car", at + 2 * S, A)]
    patrol = records(patrol_cubes(fixes_frame(rows), fix_interval_s=CAR).patrol)
    assert [(r["hour"], r["fixes"], r["visits"], r["units"], r["dwell_s"]) for r in patrol] == [
        (dt.datetime(2025, 3, 1, 10), 1, 1, 1, 2.0),
        (dt.datetime(2025, 3, 1, 11), 1, 0, 1, 20.0),
    ]


def test_fix_interval_comes_from_the_data_per_kind() -> None:
    rows = [("v1", "volunteer_patrol", T0 + 45 * i * S, A) for i in range(5)]
    rows += [("c1", "police_car", T0 + 5 * i * S, B) for i in range(5)]
    rows += [("g1", "security_guard", T0, B)]  # one fix: no gap to learn from
    built = patrol_cubes(fixes_frame(rows))
    assert built.fix_interval_s == {
        "police_car": 5.0,
        "security_guard": 20.0,
        "volunteer_patrol": 45.0,
    }
    assert built.interval_source["security_guard"] == "default"
    dwell = {r["unit_kind"]: r["dwell_s"] for r in records(built.patrol)}
    assert dwell == {
        "volunteer_patrol": 4 * 45 + 90,
        "police_car": 4 * 5 + 10,
        "security_guard": 40,
    }


def test_unsorted_fixes_give_the_same_cubes() -> None:
    rows = [("u2", "foot_patrol", T0 + 30 * i * S, [A, B][i % 2]) for i in range(6)]
    rows += [("u1", "police_car", T0 + 10 * i * S, [B, A][i // 3]) for i in range(6)]
    frame = fixes_frame(rows)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=3)
    ordered = frame.sort("unit_id", "time")
    a, b = patrol_cubes(ordered), patrol_cubes(shuffled)
    assert a.was_sorted and not b.was_sorted
    assert a.patrol.equals(b.patrol)
    assert a.visits.equals(b.visits)


def test_fixes_without_a_place_or_time_are_dropped_and_counted() -> None:
    rows = [("u1", "police_car", T0 + 10 * i * S, A) for i in range(3)]
    frame = fixes_frame(rows).vstack(
        pl.DataFrame(
            {
                "unit_id": ["u1", "u1"],
                "unit_kind": ["police_car", "police_car"],
                "time": [T0 + 15 * S, None],
                "lng": [float("nan"), A[0]],
                "lat": [A[1], A[1]],
            },
            schema=fixes_frame(rows).schema,
        )
    )
    built = patrol_cubes(frame, fix_interval_s=CAR)
    assert built.dropped == 2
    assert records(built.patrol)[0]["fixes"] == 3


def test_general_grouping_matches_the_packed_key() -> None:
    rows = [("u1", "police_car", T0 + 10 * i * S, [A, B, A][i % 3]) for i in range(9)]
    rows += [("u2", "foot_patrol", T0 + 3_000 * i * S, A) for i in range(4)]
    frame = fixes_frame(rows)
    assert patrol_cubes(frame, pack_bits=8).patrol.equals(patrol_cubes(frame).patrol)


def test_bad_break() -> None:
    with pytest.raises(ValueError, match="break_s"):
        patrol_cubes(fixes_frame([("u1", "police_car", T0, A)]), break_s=3_600)


def test_three_incidents_in_a_cell() -> None:
    incidents = pl.DataFrame(
        {
            "time": [T0 + 60 * S, T0 + 120 * S, T0 + 3_000 * S, T0 + 3_700 * S],
            "lng": [A[0], A[0], A[0], A[0]],
            "lat": [A[1], A[1], A[1], A[1]],
            "category": ["theft", "theft", "theft", "theft"],
            "severity": [1, 3, None, 2],
        }
    )
    assert records(incident_cube(incidents)) == [
        {
            "cell": SIBLINGS[0],
            "hour": T0,
            "category": "theft",
            "count": 3,
            "severity_sum": 4,
            "severity_known": 2,
        },
        {
            "cell": SIBLINGS[0],
            "hour": T0 + dt.timedelta(hours=1),
            "category": "theft",
            "count": 1,
            "severity_sum": 2,
            "severity_known": 1,
        },
    ]


def test_visits_merge_inside_the_parent_cell() -> None:
    # A, B share a res-10 parent; C lies in another. The pause of 700 s is a break.
    c = centre(OTHERS[0])
    path = [(0, A), (10, B), (20, A), (30, c), (40, B), (740, B)]
    rows = [("u1", "police_car", T0 + s * S, p) for s, p in path]
    visits = patrol_cubes(fixes_frame(rows), fix_interval_s=CAR).visits
    assert visits.height == 6
    coarse = records(visits_at(visits, 10))
    assert [(v["cell"], v["entered"], v["last_fix"], v["left"], v["fixes"]) for v in coarse] == [
        (_PARENT, T0, T0 + 20 * S, T0 + 30 * S, 3),
        (_OTHER_PARENT, T0 + 30 * S, T0 + 30 * S, T0 + 40 * S, 1),
        (_PARENT, T0 + 40 * S, T0 + 40 * S, T0 + 60 * S, 1),
        (_PARENT, T0 + 740 * S, T0 + 740 * S, T0 + 760 * S, 1),
    ]
    # A longer allowed pause merges the last two.
    assert visits_at(visits, 10, max_gap_s=800).height == 3
    # Pandas in, pandas out.
    as_pandas = visits_at(visits.to_pandas(), 10)
    assert isinstance(as_pandas, pd.DataFrame)
    assert as_pandas["cell"].dtype == np.uint64
    assert len(as_pandas) == 4


def test_rollup_sums_and_recomputes() -> None:
    c = centre(OTHERS[0])
    path = [(0, A), (10, B), (20, A), (30, c)]
    rows = [("u1", "police_car", T0 + s * S, p) for s, p in path]
    rows += [("u2", "police_car", T0 + 5 * S, B)]
    built = patrol_cubes(fixes_frame(rows), fix_interval_s=CAR)
    plain = records(rollup(built.patrol, 10))
    assert [(r["cell"], r["fixes"], r["dwell_s"]) for r in plain] == [
        (min(_PARENT, _OTHER_PARENT), *((4, 50.0) if _PARENT < _OTHER_PARENT else (1, 20.0))),
        (max(_PARENT, _OTHER_PARENT), *((1, 20.0) if _PARENT < _OTHER_PARENT else (4, 50.0))),
    ]
    assert "visits" not in plain[0] and "units" not in plain[0]
    exact = {r["cell"]: r for r in records(rollup(built.patrol, 10, visits=built.visits))}
    assert (exact[_PARENT]["visits"], exact[_PARENT]["units"]) == (2, 2)
    assert (exact[_OTHER_PARENT]["visits"], exact[_OTHER_PARENT]["units"]) == (1, 1)
    # Over the window, neither adds up: rows of one base cell split by their coarser
    # cells would count a visit (and a unit) twice; they come from the visits table.
    window = records(rollup(built.patrol, 11, keys=["unit_kind"]))
    assert "visits" not in window[0] and "units" not in window[0]
    assert sum(r["fixes"] for r in window) == 5
    with pytest.raises(ValueError, match="needs 'hour'"):
        rollup(built.patrol, 10, keys=["unit_kind"], visits=built.visits)
    with pytest.raises(ValueError, match="finer"):
        rollup(built.patrol, 12)
    with pytest.raises(ValueError, match="unknown keys"):
        rollup(built.patrol, 10, keys=["nope"])


# --------------------------------------------------------------------------- the store


def _store(tmp_path: Path, fixes: bool = True, incidents: bool = True) -> Path:
    if fixes:
        rows = [("u1", "police_car", T0 + 10 * i * S, A) for i in range(4)]
        rows += [("u2", "foot_patrol", T0 + 30 * i * S, B) for i in range(3)]
        write_table(tmp_path, "patrol_fixes", fixes_frame(rows).to_pandas())
    if incidents:
        frame = pd.DataFrame(
            {
                "incident_id": ["a", "b", "c"],
                "time": pd.to_datetime(
                    ["2025-03-01 10:05", "2025-03-01 10:07", "2025-03-02 08:00"]
                ),
                "lng": [A[0], A[0], B[0]],
                "lat": [A[1], A[1], B[1]],
                "category": ["theft", "theft", "fraud"],
                "severity": [1, 2, 1],
                "source": ["call_110"] * 3,
            }
        )
        write_table(tmp_path, "incidents", frame)
    return tmp_path


def test_build_writes_cubes_and_meta(tmp_path: Path) -> None:
    data_dir = _store(tmp_path)
    meta = build_cubes(data_dir)
    assert {p.name for p in cubes_dir(data_dir).iterdir()} == {
        "incidents.parquet",
        "patrol.parquet",
        "visits.parquet",
        "meta.json",
    }
    assert meta == load_meta(data_dir)
    assert json.loads((cubes_dir(data_dir) / "meta.json").read_text())["base_res"] == 11
    assert meta["sources"]["patrol_fixes"]["rows"] == 7
    assert meta["sources"]["incidents"]["rows"] == 3
    assert meta["sources"]["incidents"]["size"] > 0
    assert meta["cubes"]["visits"]["rows"] == 2
    assert meta["dwell"]["cap_s"] == {"foot_patrol": 60.0, "police_car": 20.0}
    assert meta["dwell"]["break_s"] == BREAK_S
    assert meta["time_range"] == {"start": "2025-03-01T10:00:00", "end": "2025-03-02T08:00:00"}

    patrol = load_cube(data_dir, "patrol")
    assert patrol["cell"].dtype == np.uint64
    assert patrol["hour"].dtype == "datetime64[us]"
    # Sorted by (hour, cell, unit_kind), and A's cell sorts before B's.
    assert patrol["unit_kind"].tolist() == ["police_car", "foot_patrol"]
    assert patrol["fixes"].tolist() == [4, 3]
    incidents = load_cube(data_dir, "incidents")
    assert incidents["count"].sum() == 3
    day_two = load_cube(
        data_dir, "incidents", start=dt.datetime(2025, 3, 2), end=dt.datetime(2025, 3, 3)
    )
    assert day_two["category"].tolist() == ["fraud"]
    assert load_cube(data_dir, "visits", columns=["unit_id"])["unit_id"].tolist() == ["u1", "u2"]
    assert scan_cube(data_dir, "visits").collect_schema()["unit_id"] == pl.String
    # The pandas frames of the loaders go through rollup and visits_at as they are.
    rolled = rollup(patrol, 9, visits=load_cube(data_dir, "visits"))
    assert isinstance(rolled, pd.DataFrame)
    assert rolled["cell"].dtype == np.uint64
    assert rolled[["fixes", "units", "visits"]].sum().tolist() == [7, 2, 2]


def test_cube_files_take_the_umask_mode(tmp_path: Path) -> None:
    data_dir = _store(tmp_path)
    build_cubes(data_dir)
    umask = os.umask(0)
    os.umask(umask)
    for path in cubes_dir(data_dir).iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path.name


def test_build_with_only_incidents_writes_an_empty_patrol_cube(tmp_path: Path) -> None:
    data_dir = _store(tmp_path, fixes=False)
    meta = build_cubes(data_dir)
    assert meta["missing"] == ["patrol_fixes"]
    patrol = load_cube(data_dir, "patrol")
    assert len(patrol) == 0
    assert list(patrol.columns) == [
        "cell",
        "cell_6",
        "cell_7",
        "cell_8",
        "cell_9",
        "cell_10",
        "hour",
        "unit_kind",
        "fixes",
        "units",
        "dwell_s",
        "visits",
    ]


def test_build_without_sources_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="neither incidents nor patrol fixes"):
        build_cubes(tmp_path)


def test_loading_before_building_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="python -m geodata cubes"):
        load_cube(tmp_path, "patrol")
    with pytest.raises(StoreError, match="no cubes yet"):
        load_meta(tmp_path)
    with pytest.raises(ValueError, match="unknown cube"):
        load_cube(tmp_path, "nope")


def test_progress_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_cubes(_store(tmp_path), progress=True)
    assert "cubes" in capsys.readouterr().err


def test_demo_small_builds(demo_small: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    data_dir.mkdir()
    for name in ("incidents", "patrol_fixes"):
        (data_dir / f"{name}.parquet").write_bytes((demo_small / f"{name}.parquet").read_bytes())
    meta = build_cubes(data_dir)
    fixes = meta["sources"]["patrol_fixes"]["rows"]
    patrol = load_cube(data_dir, "patrol")
    assert patrol["fixes"].sum() == fixes - meta["sources"]["patrol_fixes"]["dropped"]
    assert load_cube(data_dir, "incidents")["count"].sum() == meta["sources"]["incidents"]["rows"]


# --------------------------------------------------------------------------- properties


def reference(
    rows: list[tuple[str, str, dt.datetime, tuple[float, float]]],
    res: int,
    caps: dict[str, float],
) -> tuple[dict[tuple[int, dt.datetime, str], dict[str, Any]], list[tuple[Any, ...]]]:
    """The patrol cube and visits, one fix at a time with h3-py: the definition, slowly."""
    cube: dict[tuple[int, dt.datetime, str], dict[str, Any]] = defaultdict(
        lambda: {"fixes": 0, "units": set(), "dwell_s": 0.0, "visits": 0}
    )
    visits: list[list[Any]] = []
    by_unit: dict[str, list[tuple[str, str, dt.datetime, tuple[float, float]]]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: (r[0], r[2])):
        by_unit[r[0]].append(r)
    for unit in sorted(by_unit):
        fixes = by_unit[unit]
        for i, (_, kind, t, (lng, lat)) in enumerate(fixes):
            cell = h3i.latlng_to_cell(lat, lng, res)
            gap = (fixes[i + 1][2] - t).total_seconds() if i + 1 < len(fixes) else None
            credit = caps[kind] if gap is None else min(gap, caps[kind])
            if i == 0:
                new = True
            else:
                prev_t, prev_pos = fixes[i - 1][2], fixes[i - 1][3]
                prev_cell = h3i.latlng_to_cell(prev_pos[1], prev_pos[0], res)
                new = cell != prev_cell or (t - prev_t).total_seconds() > BREAK_S
            row = cube[(cell, t.replace(minute=0, second=0, microsecond=0), kind)]
            row["fixes"] += 1
            row["units"].add(unit)
            row["dwell_s"] += credit
            row["visits"] += new
            if new:
                visits.append([unit, kind, cell, t, t, t, 0])
            visits[-1][4] = t
            visits[-1][5] = t + dt.timedelta(seconds=credit)
            visits[-1][6] += 1
    for row in cube.values():
        row["units"] = len(row["units"])
    return dict(cube), [tuple(v) for v in visits]


GAPS = [0, 1, 7, 10, 25, 60, 599, 601, 3_000, 4_000]
KINDS = ["police_car", "foot_patrol"]


@st.composite
def patrol_rows(draw: st.DrawFn) -> list[tuple[str, str, dt.datetime, tuple[float, float]]]:
    rows = []
    start = dt.datetime(2025, 3, 1, 9, 58, 0)
    for u in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(KINDS))
        t = start + dt.timedelta(seconds=draw(st.integers(0, 300)))
        for _ in range(draw(st.integers(1, 12))):
            t += dt.timedelta(seconds=draw(st.sampled_from(GAPS)))
            rows.append((f"u{u}", kind, t, draw(anywhere)))
    return rows


# Points anywhere in a 1.4 km box around the cells (not only at cell centres), so that
# res-11 cells straddle the coarser hexagons as real points do.
anywhere = st.tuples(
    st.floats(107.723, 107.737, allow_nan=False), st.floats(31.344, 31.356, allow_nan=False)
)


CAPS = {"police_car": 20.0, "foot_patrol": 60.0}
GIVEN = {"police_car": 10.0, "foot_patrol": 30.0}
settings_ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def as_cube(frame: pl.DataFrame) -> dict[tuple[int, dt.datetime, str], dict[str, Any]]:
    assert not lineage(frame.columns), "compare views (rollup), not the split stored rows"
    return {
        (r["cell"], r["hour"], r["unit_kind"]): {
            k: r[k] for k in ("fixes", "units", "dwell_s", "visits") if k in r
        }
        for r in records(frame)
    }


def assert_same_cube(got: dict[Any, dict[str, Any]], want: dict[Any, dict[str, Any]]) -> None:
    assert got.keys() == want.keys()
    for key, row in want.items():
        assert got[key]["dwell_s"] == pytest.approx(row["dwell_s"], rel=1e-6)
        for name in ("fixes", "units", "visits"):
            assert got[key][name] == row[name], (key, name)


@settings_
@given(patrol_rows(), st.integers(8, 11))
def test_matches_the_plain_reference(rows: list[Any], res: int) -> None:
    built = patrol_cubes(fixes_frame(rows), base_res=res, fix_interval_s=GIVEN)
    want_cube, want_visits = reference(rows, res, CAPS)
    # The stored rows split a base cell where its points straddle coarser hexagons; the
    # view at the base resolution joins them again (rollup, visits_at).
    assert_same_cube(as_cube(rollup(built.patrol, res, visits=built.visits)), want_cube)
    got_visits = [tuple(v.values()) for v in records(visits_at(built.visits, res))]
    assert got_visits == want_visits


@settings_
@given(patrol_rows(), st.integers(6, 10))
def test_coarser_views_equal_a_direct_build(rows: list[Any], res: int) -> None:
    frame = fixes_frame(rows)
    base = patrol_cubes(frame, fix_interval_s=GIVEN)
    direct = patrol_cubes(frame, base_res=res, fix_interval_s=GIVEN)
    assert visits_at(base.visits, res).equals(visits_at(direct.visits, res))
    assert_same_cube(
        as_cube(rollup(base.patrol, res, visits=base.visits)),
        as_cube(rollup(direct.patrol, res, visits=direct.visits)),
    )


@settings_
@given(patrol_rows(), st.integers(6, 10))
def test_totals_are_kept_at_every_resolution(rows: list[Any], res: int) -> None:
    # (Visits need not fall as the cells grow: H3 is not nested, so two fixes in one
    # res-7 hexagon can lie in two res-6 hexagons. The reference test covers visits.)
    base = patrol_cubes(fixes_frame(rows), fix_interval_s=GIVEN)
    assert base.patrol["fixes"].sum() == len(rows)
    assert base.patrol["visits"].sum() == base.visits.height
    for r in range(11, res - 1, -1):
        assert visits_at(base.visits, r)["fixes"].sum() == len(rows)
    rolled = rollup(base.patrol, res)
    assert rolled["fixes"].sum() == len(rows)
    assert rolled["dwell_s"].sum() == pytest.approx(base.patrol["dwell_s"].sum(), rel=1e-5)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(anywhere, st.integers(0, 72), st.sampled_from(["theft", "fraud"])),
        min_size=1,
        max_size=40,
    ),
    st.integers(6, 10),
)
def test_incident_counts_at_every_resolution_equal_a_direct_build(
    incidents: list[tuple[tuple[float, float], int, str]], res: int
) -> None:
    frame = pl.DataFrame(
        {
            "time": [T0 + dt.timedelta(minutes=17 * m) for _, m, _ in incidents],
            "lng": [p[0] for p, _, _ in incidents],
            "lat": [p[1] for p, _, _ in incidents],
            "category": [k for _, _, k in incidents],
        }
    )
    cube = incident_cube(frame)
    coarser = rollup(cube, res)
    assert coarser["count"].sum() == len(incidents)
    direct = incident_cube(frame, base_res=res)
    assert coarser.equals(rollup(direct, res))
    # And each count is that of h3-py's own cell of each point at res.
    want: dict[int, int] = defaultdict(int)
    for (lng, lat), _, _ in incidents:
        want[h3i.latlng_to_cell(lat, lng, res)] += 1
    got = rollup(cube, res, keys=[])
    assert dict(zip(got["cell"].to_list(), got["count"].to_list(), strict=True)) == want
    over_window = rollup(cube, res, keys=["category"])
    assert over_window["count"].sum() == len(incidents)
    assert over_window.columns == ["cell", "category", "count", "severity_sum", "severity_known"]


def _straddling_point(res: int) -> tuple[float, float]:
    """A point whose res-11 cell's res-``res`` parent is not its own res-``res`` cell
    (found with h3-py alone, the independent reference)."""
    rng = np.random.default_rng(7)
    for lng, lat in zip(
        rng.uniform(107.72, 107.74, 20_000), rng.uniform(31.34, 31.36, 20_000), strict=True
    ):
        fine = h3i.latlng_to_cell(lat, lng, 11)
        if h3i.cell_to_parent(fine, res) != h3i.latlng_to_cell(lat, lng, res):
            return float(lng), float(lat)
    raise AssertionError("no straddling point found")


@pytest.mark.parametrize("res", [7, 8, 9, 10])
def test_a_point_counts_in_its_own_hexagon_not_its_parents_neighbour(res: int) -> None:
    # The known answer where the easy way (cell_to_parent of the res-11 cell) and the
    # right way (the point's own cell) differ.
    lng, lat = _straddling_point(res)
    own = h3i.latlng_to_cell(lat, lng, res)
    parent = h3i.cell_to_parent(h3i.latlng_to_cell(lat, lng, 11), res)
    assert own != parent
    frame = pl.DataFrame({"time": [T0], "lng": [lng], "lat": [lat], "category": ["theft"]})
    cube = incident_cube(frame)
    assert rollup(cube, res)["cell"].to_list() == [own]
    assert cells_at(cube, res).tolist() == [own]
    # A patrol unit parked there: its dwell goes to its own hexagon too.
    rows = [("u1", "police_car", T0 + 10 * i * S, (lng, lat)) for i in range(6)]
    built = patrol_cubes(fixes_frame(rows), fix_interval_s=CAR)
    assert rollup(built.patrol, res)["cell"].to_list() == [own]
    assert visits_at(built.visits, res)["cell"].to_list() == [own]


def test_cube_res_is_the_cells_resolution_and_refuses_a_mixture() -> None:
    """From the smallest and largest cell only: checked against h3 on cells of every
    resolution, the null cell ignored, mixtures refused (also one cell among thousands)."""
    from geodata.cubes.coarser import cube_res

    rng = np.random.default_rng(5)
    points = list(zip(rng.uniform(-80, 80, 300), rng.uniform(-179, 179, 300), strict=True))
    for res in (0, 6, 9, 11, 15):
        cells = [h3i.latlng_to_cell(lat, lng, res) for lat, lng in points]
        assert cube_res(pl.Series([*cells, 0], dtype=pl.UInt64)) == res
        assert {h3i.get_resolution(c) for c in cells} == {res}
        for other in (res - 1, res + 1):
            if 0 <= other <= 15:
                odd = h3i.latlng_to_cell(*points[7], other)
                with pytest.raises(ValueError, match="share a resolution"):
                    cube_res(pl.Series([*cells[:150], odd, *cells[150:]], dtype=pl.UInt64))
    assert cube_res(pl.Series([0, 0], dtype=pl.UInt64)) is None
