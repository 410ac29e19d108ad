"""The cube build on Dask (a local cluster of threads): day partitions as tasks give the
very cubes of the build in one process, stays over midnight included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from geodata.__main__ import main
from geodata.cubes import build_cubes, load_cube, load_meta
from geodata.cubes.dask_build import build_cubes_dask, dask_client
from geodata.cubes.patrol import gap_counts, nominal_intervals
from geodata.importer import import_file
from tests.geodata.partition_data import (
    CUT,
    D0,
    DAY,
    A,
    B,
    S,
    assert_same_cubes,
    copy_store,
    fixes_frame,
    hard_fixes,
    incidents_frame,
    write_store,
)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two workers, threads of this process (quick to start; the tasks are the same)."""
    with dask_client("local", workers=2, processes=False) as c:
        yield c


def reference(store: Path, tmp_path: Path) -> Path:
    target = copy_store(store, tmp_path / "one-pass")
    build_cubes(target)
    return target


def test_day_partitions_equal_one_pass(client: Any, tmp_path: Path) -> None:
    store = write_store(tmp_path / "store", fixes_frame(hard_fixes()), incidents_frame())
    meta = build_cubes_dask(store, client, window_days=1)
    assert meta["partitions"]["executor"] == "dask"
    assert_same_cubes(store, reference(store, tmp_path))


def test_stays_over_midnight_are_whole(client: Any, tmp_path: Path) -> None:
    store = write_store(tmp_path / "store", fixes_frame(hard_fixes()), None)
    build_cubes_dask(store, client, window_days=1)
    visits = load_cube(store, "visits")
    guard = visits[visits["unit_id"] == "guard1"][["entered", "last_fix", "fixes"]]
    # 180 fixes every 20 s from 09:00 in one cell; then 30 from 23:55 to 00:04:40 in
    # another, across the day partitions.
    assert guard.values.tolist() == [
        [D0 + 9 * 3_600 * S, D0 + 10 * 3_600 * S - 20 * S, 180],
        [D0 + DAY - 300 * S, D0 + DAY + 280 * S, 30],
    ]
    vol = visits[visits["unit_id"] == "vol1"][["entered", "fixes"]].values.tolist()
    # A silence of exactly BREAK_S over midnight keeps the visit; one second more ends it.
    assert vol == [
        [D0 + 3 * DAY - 600 * S, 2],
        [D0 + 4 * DAY - 601 * S, 1],
        [D0 + 4 * DAY, 1],
    ]
    patrol = load_cube(store, "patrol")
    at = patrol[(patrol["hour"] == D0 + 3 * DAY - 3_600 * S)]
    # The volunteer's fix before midnight is credited the 600 s to its next fix.
    assert at[at["unit_kind"] == "volunteer_patrol"]["dwell_s"].tolist() == [600.0]


def test_demo_small_equals_one_pass(client: Any, demo_small: Path, tmp_path: Path) -> None:
    store = copy_store(demo_small, tmp_path / "demo")
    build_cubes_dask(store, client, window_days=1)
    assert_same_cubes(store, reference(store, tmp_path))


def test_partitions_whose_own_median_differs_are_recomputed(client: Any, tmp_path: Path) -> None:
    # Day 1: a foot patrol every 20 s for an hour; days 2 and 3: another every 40 s for
    # two hours each. Alone, day 1 would take a 20 s interval; all together it is 40 s.
    rows = [("f1", "foot_patrol", D0 + 8 * 3_600 * S + 20 * i * S, A) for i in range(180)]
    for d in (1, 2):
        start = D0 + d * DAY + 8 * 3_600 * S
        rows += [("f2", "foot_patrol", start + 40 * i * S, B) for i in range(180)]
    store = write_store(tmp_path / "store", fixes_frame(rows), None)
    meta = build_cubes_dask(store, client, window_days=1)
    assert meta["dwell"]["fix_interval_s"] == {"foot_patrol": 40.0}
    patrol = load_cube(store, "patrol")
    day1 = patrol[patrol["hour"] < D0 + DAY]
    assert day1["dwell_s"].sum() == 179 * 20 + 80  # gaps, then the cap (2 x 40 s) at the end
    assert_same_cubes(store, reference(store, tmp_path))


def test_incremental_on_dask(client: Any, tmp_path: Path) -> None:
    fixes, incidents = fixes_frame(hard_fixes()), incidents_frame()
    store = write_store(
        tmp_path / "store",
        fixes.filter(pl.col("time") < CUT),
        incidents.filter(pl.col("time") < CUT),
    )
    build_cubes_dask(store, client, window_days=2)
    new = tmp_path / "new.csv"
    fixes.filter(pl.col("time") >= CUT).with_columns(
        pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S")
    ).write_csv(new)
    import_file("patrol_fixes", new, data_dir=store)
    meta = build_cubes_dask(store, client, incremental=True, window_days=2)
    assert meta["partitions"]["mode"] == "incremental"
    assert meta["partitions"]["recomputed_days"] == {"incidents": 0, "patrol_fixes": 4}
    assert_same_cubes(store, reference(store, tmp_path))


def test_command_line_with_a_local_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = write_store(tmp_path / "store", fixes_frame(hard_fixes()), incidents_frame())
    assert main(["cubes", "--data", str(store), "--dask", "local", "--window-days", "2"]) == 0
    assert "hex cubes written" in capsys.readouterr().out
    assert load_meta(store)["partitions"]["executor"] == "dask"
    assert_same_cubes(store, reference(store, tmp_path))


# ----------------------------------------------------------- intervals that add up


def test_median_gap_from_counts() -> None:
    kinds = ["foot_patrol", "police_car"]
    gap = np.array([10.0, 20.0, 30.0, 5.0, 15.0, 0.0, 700.0, np.inf])
    kind = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    counts = gap_counts(gap, kind, kinds, 600.0)
    # Gaps of 0, above the break and after a unit's last fix are left out.
    assert counts.to_dicts() == [
        {"unit_kind": "foot_patrol", "bin": 1000, "count": 1},
        {"unit_kind": "foot_patrol", "bin": 2000, "count": 1},
        {"unit_kind": "foot_patrol", "bin": 3000, "count": 1},
        {"unit_kind": "police_car", "bin": 500, "count": 1},
        {"unit_kind": "police_car", "bin": 1500, "count": 1},
    ]
    interval, source = nominal_intervals(counts, [*kinds, "red_armband"])
    # Odd count: the middle gap; even: the mean of the two middle ones; none: default.
    assert interval == {"foot_patrol": 20.0, "police_car": 10.0, "red_armband": 30.0}
    assert source == {"foot_patrol": "data", "police_car": "data", "red_armband": "default"}


def test_counts_of_parts_add_up_to_the_counts_of_the_whole() -> None:
    rng = np.random.default_rng(5)
    gap = rng.choice([0.0, 4.99, 5.0, 5.004, 5.005, 9.5, 10.0, 601.0], size=1_000)
    kind = rng.integers(0, 2, size=1_000)
    kinds = ["a", "b"]
    whole = gap_counts(gap, kind, kinds, 600.0)
    parts = pl.concat(
        [gap_counts(gap[s], kind[s], kinds, 600.0) for s in (slice(0, 333), slice(333, None))]
    )
    summed = parts.group_by("unit_kind", "bin").agg(pl.col("count").sum()).sort("unit_kind", "bin")
    assert summed.equals(whole)
    assert nominal_intervals(parts, kinds) == nominal_intervals(whole, kinds)


def test_given_intervals_win(client: Any, tmp_path: Path) -> None:
    store = write_store(tmp_path / "store", fixes_frame(hard_fixes()), None)
    meta = build_cubes_dask(store, client, window_days=1, fix_interval_s={"police_car": 7.0})
    assert meta["dwell"]["fix_interval_s"]["police_car"] == 7.0
    assert meta["dwell"]["fix_interval_source"]["police_car"] == "given"
    target = copy_store(store, tmp_path / "one-pass")
    build_cubes(target, fix_interval_s={"police_car": 7.0})
    assert_same_cubes(store, target)
