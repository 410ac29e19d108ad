"""Incremental refresh: appended, late, edited and deleted rows folded into the cubes by
day, always equal to a full in-process build of the store as it is now."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from geodata.cubes import build_cubes, load_cube, load_meta
from geodata.cubes.partitions import PIECE_SCHEMA, day_number, day_runs, merge_pieces, windows
from geodata.cubes.refresh import DAYS_FILE, refresh_cubes, update_cubes
from geodata.cubes.sources import FileSource
from geodata.importer import import_file
from geodata.store import cubes_dir
from tests.geodata.partition_data import (
    CUT,
    D0,
    DAY,
    A,
    S,
    assert_same_cubes,
    copy_store,
    fixes_frame,
    hard_fixes,
    incidents_frame,
    write_store,
)


def full_build(store: Path, tmp_path: Path, name: str = "full") -> Path:
    """The reference: the store's tables copied and built in one pass."""
    target = copy_store(store, tmp_path / name)
    build_cubes(target)
    return target


def to_csv(frame: pl.DataFrame, path: Path) -> Path:
    frame.with_columns(pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S")).write_csv(path)
    return path


@pytest.fixture
def before_cut(tmp_path: Path) -> tuple[Path, pl.DataFrame, pl.DataFrame]:
    """A store holding the rows before noon of the third day, with partitioned cubes;
    and the rows after it, to append."""
    fixes, incidents = fixes_frame(hard_fixes()), incidents_frame()
    store = write_store(
        tmp_path / "store",
        fixes.filter(pl.col("time") < CUT),
        incidents.filter(pl.col("time") < CUT),
    )
    meta = refresh_cubes(store)
    assert meta["partitions"]["mode"] == "full"
    return store, fixes.filter(pl.col("time") >= CUT), incidents.filter(pl.col("time") >= CUT)


def test_appended_days_are_folded_in(
    before_cut: tuple[Path, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    store, new_fixes, new_incidents = before_cut
    assert import_file(
        "patrol_fixes", to_csv(new_fixes, tmp_path / "f.csv"), data_dir=store
    ).rows_stored
    assert import_file(
        "incidents", to_csv(new_incidents, tmp_path / "i.csv"), data_dir=store
    ).rows_stored
    meta = refresh_cubes(store)
    # Changed: the third day (rows after noon), the fourth and fifth (new); the second
    # day is recomputed as the neighbour whose last fixes' dwell may change.
    assert meta["partitions"]["mode"] == "incremental"
    assert meta["partitions"]["recomputed_days"] == {"incidents": 3, "patrol_fixes": 4}
    assert_same_cubes(store, full_build(store, tmp_path))


def test_a_stay_over_the_cut_and_one_over_two_midnights_are_one_visit_each(
    before_cut: tuple[Path, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    store, new_fixes, _ = before_cut
    import_file("patrol_fixes", to_csv(new_fixes, tmp_path / "f.csv"), data_dir=store)
    refresh_cubes(store)
    visits = load_cube(store, "visits")
    car = visits[(visits["unit_id"] == "car1") & (visits["entered"] == CUT - 300 * S)]
    # 30 fixes before the cut and 30 after, every 10 s, in one cell; left = last + cap.
    assert car[["fixes", "last_fix", "left"]].values.tolist() == [
        [60, CUT + 290 * S, CUT + 310 * S]
    ]
    foot = visits[visits["unit_id"] == "foot1"]
    start = D0 + 2 * DAY + dt.timedelta(hours=22)
    stop = D0 + 4 * DAY + dt.timedelta(hours=2)
    assert foot[["entered", "last_fix", "fixes"]].values.tolist() == [
        [start, stop - 30 * S, (stop - start) // (30 * S)]
    ]


def test_late_rows_for_an_old_day_and_edits_are_seen(
    before_cut: tuple[Path, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    store, _, _ = before_cut
    fixes = pl.read_parquet(store / "patrol_fixes.parquet")
    late = fixes_frame([("guard1", "security_guard", D0 + dt.timedelta(hours=9, seconds=5), A)])
    moved = fixes.with_columns(  # one fix of the second day moved 1e-4 degrees
        pl.when(pl.col("time") == D0 + 2 * DAY)
        .then(pl.col("lng") + 1e-4)
        .otherwise(pl.col("lng"))
        .alias("lng")
    )
    write_store(store, pl.concat([moved, late]), None)
    meta = refresh_cubes(store)
    # Days 1 and 3 changed (late row, moved fix): days 1-4 recomputed, day 5 has no data.
    assert meta["partitions"]["recomputed_days"]["patrol_fixes"] == 3
    assert meta["partitions"]["recomputed_days"]["incidents"] == 0
    assert_same_cubes(store, full_build(store, tmp_path))


def test_a_deleted_day_disappears(
    before_cut: tuple[Path, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    store, _, _ = before_cut
    keep = pl.col("time") >= D0 + DAY
    fixes = pl.read_parquet(store / "patrol_fixes.parquet").filter(keep)
    incidents = pl.read_parquet(store / "incidents.parquet").filter(keep)
    write_store(store, fixes, incidents)
    refresh_cubes(store)
    assert load_cube(store, "patrol")["hour"].min() >= D0 + DAY
    assert_same_cubes(store, full_build(store, tmp_path))


def test_a_moved_fix_interval_recomputes_every_day(
    before_cut: tuple[Path, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    store, _, _ = before_cut
    fixes = pl.read_parquet(store / "patrol_fixes.parquet")
    # Many guard fixes 5 s apart on the third day: the guards' median gap falls from 20
    # s to 5 s, so the dwell of the first day's guard fixes changes too.
    burst = fixes_frame(
        [("guard2", "security_guard", CUT - 3_600 * S + 5 * i * S, A) for i in range(600)]
    )
    write_store(store, pl.concat([fixes, burst]), None)
    meta = refresh_cubes(store)
    assert meta["dwell"]["fix_interval_s"]["security_guard"] == 5.0
    assert meta["partitions"]["recomputed_days"]["patrol_fixes"] == 3  # every day with fixes
    assert_same_cubes(store, full_build(store, tmp_path))


def test_nothing_changed_writes_nothing(
    before_cut: tuple[Path, pl.DataFrame, pl.DataFrame],
) -> None:
    store, _, _ = before_cut
    cube = cubes_dir(store) / "patrol.parquet"
    stamp = cube.stat().st_mtime_ns
    before = load_meta(store)
    assert refresh_cubes(store) == before
    assert cube.stat().st_mtime_ns == stamp


def test_rewritten_but_identical_files_recompute_nothing(
    before_cut: tuple[Path, pl.DataFrame, pl.DataFrame],
) -> None:
    store, _, _ = before_cut
    fixes = pl.read_parquet(store / "patrol_fixes.parquet")
    write_store(store, fixes.reverse(), None)  # new mtime, rows in another order
    meta = refresh_cubes(store)
    assert meta["partitions"]["recomputed_days"] == {"incidents": 0, "patrol_fixes": 0}


def test_after_a_plain_build_or_with_other_settings_the_refresh_is_full(
    before_cut: tuple[Path, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    store, _, _ = before_cut
    build_cubes(store)  # writes meta.json without partitions
    assert refresh_cubes(store)["partitions"]["mode"] == "full"
    assert refresh_cubes(store, break_s=300)["partitions"]["mode"] == "full"
    assert_same_cubes(store, _built_with(store, tmp_path, break_s=300))


def _built_with(store: Path, tmp_path: Path, **settings: float) -> Path:
    target = copy_store(store, tmp_path / "other")
    build_cubes(target, **settings)  # type: ignore[arg-type]
    return target


def test_a_day_table_of_another_build_means_a_full_refresh(
    before_cut: tuple[Path, pl.DataFrame, pl.DataFrame],
) -> None:
    store, _, _ = before_cut
    path = cubes_dir(store) / DAYS_FILE
    days = pl.read_parquet(path).with_columns(build_id=pl.lit("an interrupted refresh"))
    days.write_parquet(path)
    assert refresh_cubes(store)["partitions"]["mode"] == "full"


def test_a_changed_day_in_the_middle_recomputes_three_days(tmp_path: Path) -> None:
    # Ten quiet days of one unit, one fix an hour: a change on day 5 touches days 4-6.
    rows = [("u1", "foot_patrol", D0 + k * 3_600 * S, A) for k in range(240)]
    store = write_store(tmp_path / "store", fixes_frame(rows), None)
    refresh_cubes(store)
    extra = fixes_frame([("u2", "foot_patrol", D0 + 5 * DAY + 60 * S, A)])
    write_store(store, pl.concat([fixes_frame(rows), extra]), None)
    meta = refresh_cubes(store)
    assert meta["partitions"]["recomputed_days"] == {"patrol_fixes": 3}
    assert_same_cubes(store, full_build(store, tmp_path))


def test_only_incidents(tmp_path: Path) -> None:
    store = write_store(tmp_path / "store", None, incidents_frame().filter(pl.col("time") < CUT))
    refresh_cubes(store)
    write_store(store, None, incidents_frame())
    meta = refresh_cubes(store)
    assert meta["missing"] == ["patrol_fixes"]
    assert load_cube(store, "patrol").empty
    assert_same_cubes(store, full_build(store, tmp_path))


def test_day_digests_see_content_not_order(tmp_path: Path) -> None:
    frame = fixes_frame(hard_fixes())
    store = write_store(tmp_path / "a", frame, None)
    before = FileSource(store).day_digests("patrol_fixes")
    write_store(store, frame.reverse(), None)
    assert FileSource(store).day_digests("patrol_fixes").equals(before)
    nudged = frame.with_columns(
        pl.when(pl.col("time") == D0 + 2 * DAY).then(pl.col("lat") + 1e-9).otherwise(pl.col("lat"))
    )
    write_store(store, nudged, None)
    after = FileSource(store).day_digests("patrol_fixes")
    differs = before.join(after, on="day").filter(pl.col("digest") != pl.col("digest_right"))
    assert differs["day"].to_list() == [D0 + 2 * DAY]
    assert after["rows"].sum() == frame.height


def test_windows_cut_runs_of_days() -> None:
    days = {day_number(D0) + k for k in (0, 1, 2, 5, 6)}
    assert day_runs(days) == [
        (day_number(D0), day_number(D0) + 3),
        (day_number(D0) + 5, day_number(D0) + 7),
    ]
    assert windows(day_runs(days), 2) == [
        (D0, D0 + 2 * DAY),
        (D0 + 2 * DAY, D0 + 3 * DAY),
        (D0 + 5 * DAY, D0 + 7 * DAY),
    ]
    assert windows(day_runs(days), None)[0] == (D0, D0 + 3 * DAY)


def test_refresh_in_small_partitions_equals_one_pass(tmp_path: Path) -> None:
    store = write_store(tmp_path / "store", fixes_frame(hard_fixes()), incidents_frame())
    update_cubes(store, incremental=False, window_days=1)
    assert_same_cubes(store, full_build(store, tmp_path))


def test_pieces_join_across_days() -> None:
    t = [D0 + DAY - 60 * S, D0 + DAY + 10 * S, D0 + 2 * DAY + 10 * S]

    def piece(unit: str, i: int, fixes: int, continues: bool) -> dict[str, object]:
        return {
            "unit_id": unit,
            "unit_kind": "foot_patrol",
            "cell": 7,
            "entered": t[i],
            "last_fix": t[i] + 30 * S,
            "left": t[i] + 60 * S,
            "fixes": fixes,
            "continues": continues,
        }

    day1 = pl.DataFrame([piece("u1", 0, 2, False), piece("u2", 0, 1, False)], schema=PIECE_SCHEMA)
    day2 = pl.DataFrame([piece("u1", 1, 3, True), piece("u2", 1, 1, False)], schema=PIECE_SCHEMA)
    day3 = pl.DataFrame([piece("u1", 2, 4, True), piece("u3", 2, 1, True)], schema=PIECE_SCHEMA)
    merged = merge_pieces([day3, day1, day2])  # any order of days
    rows = merged.visits.select("unit_id", "entered", "last_fix", "fixes").rows()
    assert rows == [
        ("u1", t[0], t[2] + 30 * S, 9),
        ("u2", t[0], t[0] + 30 * S, 1),
        ("u2", t[1], t[1] + 30 * S, 1),
        ("u3", t[2], t[2] + 30 * S, 1),  # continues nothing: kept, and counted
    ]
    assert merged.orphans == 1
    assert merged.spans.select("unit_id", "entered", "visit_entered").rows() == [
        ("u1", t[0], t[0]),
        ("u1", t[1], t[0]),
        ("u1", t[2], t[0]),
    ]


def test_fixes_without_a_time_place_or_unit_are_dropped_and_counted_alike(tmp_path: Path) -> None:
    good = fixes_frame(hard_fixes())
    bad = pl.DataFrame(
        {
            "unit_id": ["car1", None, "car1", "car1"],
            "unit_kind": ["police_car"] * 4,
            "time": [None, D0 + DAY, D0 + DAY + 5 * S, D0 + 2 * DAY],
            "lng": [A[0], A[0], float("nan"), 200.0],
            "lat": [A[1], A[1], A[1], A[1]],
        },
        schema=good.schema,
    )
    incidents = incidents_frame()
    no_place = incidents.head(1).with_columns(incident_id=pl.lit("X"), lng=pl.lit(float("inf")))
    no_time = incidents.head(1).with_columns(
        incident_id=pl.lit("Y"), time=pl.lit(None, pl.Datetime("us"))
    )
    store = write_store(
        tmp_path / "store", pl.concat([good, bad]), pl.concat([incidents, no_place, no_time])
    )
    meta = update_cubes(store, incremental=False, window_days=1)
    assert meta["sources"]["patrol_fixes"]["dropped"] == 4
    assert meta["sources"]["incidents"]["dropped"] == 2
    assert_same_cubes(store, full_build(store, tmp_path))
