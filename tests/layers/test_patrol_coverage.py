"""layers.patrol_coverage: known answers on hand-made cubes and visits, invariants, demo.

Cells and their parents are taken with h3-py, and every expected number is worked out
by hand in the test (times in minutes on a clock), never read from the code under test.
Visits tables are written by hand (unit, kind, cell, entered, left) except where the
real build (:func:`geodata.cubes.patrol_cubes`) is the point of the test.
"""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.cubes import patrol_cubes
from geodata.schema import UNIT_KINDS
from layers.patrol_coverage import (
    DEFAULT_BANDS,
    CoverageStandard,
    coverage_share,
    koper_dose,
    koper_summary,
    patrol_coverage,
)
from tests.cube_rows import centre_cell, exact_rows

LAT, LNG = 31.35, 107.73
A = h3.str_to_int(h3.latlng_to_cell(LAT, LNG, 11))
# The res-10 hexagon A's point (its centre) lies in, by h3-py, and a neighbour B of A
# whose centre lies in it too: A and B are "siblings" in the hexagon drawn at res 10.
P10_AB = centre_cell(A, 10)
B = next(
    c
    for c in sorted(h3.str_to_int(x) for x in h3.grid_ring(h3.int_to_str(A), 1))
    if centre_cell(c, 10) == P10_AB
)
C = h3.str_to_int(h3.latlng_to_cell(LAT + 0.02, LNG, 11))  # ~2 km north
D = h3.str_to_int(h3.latlng_to_cell(LAT + 0.04, LNG, 11))
DAY = "2024-03-05"


def t(clock: str, day: str = DAY) -> pd.Timestamp:
    return pd.Timestamp(f"{day} {clock}")


def visits_table(rows: list[tuple[str, str, int, str, str]], day: str = DAY) -> pd.DataFrame:
    """A visits table from (unit, kind, cell, entered, left); the last fix is 20 s before
    ``left`` (what the build credits a fix of a car), never before ``entered``."""
    entered = pd.to_datetime([f"{day} {r[3]}" for r in rows], format="mixed").astype(
        "datetime64[us]"
    )
    left = pd.to_datetime([f"{day} {r[4]}" for r in rows], format="mixed").astype("datetime64[us]")
    return exact_rows(
        pd.DataFrame(
            {
                "unit_id": pd.Series([r[0] for r in rows], dtype=str),
                "unit_kind": pd.Series([r[1] for r in rows], dtype=str),
                "cell": np.array([r[2] for r in rows], dtype=np.uint64),
                "entered": entered,
                "last_fix": np.maximum(left - pd.Timedelta(seconds=20), entered),
                "left": left,
                "fixes": np.full(len(rows), 10, dtype=np.int32),
            }
        )
    )


def cube_table(rows: list[tuple[int, str, str, int, float]], day: str = DAY) -> pd.DataFrame:
    """A patrol cube from (cell, hour, kind, fixes, dwell_s); units and visits 1."""
    return exact_rows(
        pd.DataFrame(
            {
                "cell": np.array([r[0] for r in rows], dtype=np.uint64),
                "hour": pd.to_datetime([f"{day} {r[1]}" for r in rows]).astype("datetime64[us]"),
                "unit_kind": [r[2] for r in rows],
                "fixes": np.array([r[3] for r in rows], dtype=np.int32),
                "units": np.int32(1),
                "dwell_s": np.array([r[4] for r in rows], dtype=np.float32),
                "visits": np.int32(1),
            }
        )
    )


EMPTY_CUBE = cube_table([])


def row(frame: pd.DataFrame, cell: int) -> pd.Series:
    hit = frame[frame["cell"] == np.uint64(cell)]
    assert len(hit) == 1, f"expected one row for cell {cell:x}, got {len(hit)}"
    return hit.iloc[0]


def test_fixture_cells() -> None:
    assert centre_cell(B, 10) == P10_AB
    assert len({A, B, C, D}) == 4
    assert centre_cell(C, 10) != P10_AB


# --- patrol_coverage: known answers --------------------------------------------------------


def test_one_unit_at_ten_and_at_sixteen_leaves_a_six_hour_gap() -> None:
    visits = visits_table(
        [("U1", "police_car", A, "09:54", "10:00"), ("U1", "police_car", A, "16:00", "16:06")]
    )
    out = patrol_coverage(EMPTY_CUBE, visits, res=11, since=t("09:00"), until=t("17:00"))
    a = row(out, A)
    # Gaps: 09:00-09:54 (0.9 h), 10:00-16:00 (6 h), 16:06-17:00 (0.9 h).
    assert a["longest_gap_h"] == pytest.approx(6.0)
    assert a["visits"] == 2
    assert a["units"] == 1
    assert a["last_visit"] == t("16:00")
    assert a["visits_police_car"] == 2 and a["visits_day"] == 2


def test_two_units_in_one_hour_are_two_units_and_gaps_lie_between_them() -> None:
    visits = visits_table(
        [("U1", "police_car", A, "10:05", "10:15"), ("U2", "red_armband", A, "10:20", "10:30")]
    )
    out = patrol_coverage(EMPTY_CUBE, visits, res=11, since=t("10:00"), until=t("11:00"))
    a = row(out, A)
    assert a["units"] == 2
    assert a["units_police_car"] == 1 and a["units_red_armband"] == 1
    assert a["units_foot_patrol"] == 0
    assert a["visits"] == 2
    assert a["longest_gap_h"] == pytest.approx(0.5)  # 10:30 to 11:00


def test_overlapping_units_leave_no_gap_between_them() -> None:
    visits = visits_table(
        [
            ("U1", "foot_patrol", A, "10:00", "10:40"),
            ("U2", "volunteer_patrol", A, "10:10", "10:20"),  # inside U1's stay
            ("U3", "police_car", A, "10:50", "10:55"),
        ]
    )
    out = patrol_coverage(EMPTY_CUBE, visits, res=11, since=t("10:00"), until=t("11:00"))
    # Gaps: 10:40-10:50 (U1 is still there after U2 left) and 10:55-11:00.
    assert row(out, A)["longest_gap_h"] == pytest.approx(10 / 60)
    assert row(out, A)["units"] == 3


def test_dwell_and_fixes_add_up_across_kinds_and_bands() -> None:
    cube = cube_table(
        [
            (A, "10:00", "police_car", 60, 600.0),
            (A, "10:00", "foot_patrol", 10, 300.0),
            (A, "19:00", "security_guard", 5, 60.0),
            (A, "23:00", "volunteer_patrol", 4, 120.0),
            (C, "11:00", "red_armband", 3, 90.0),
        ]
    )
    visits = visits_table([])
    out = patrol_coverage(cube, visits, res=11, since=t("00:00"), until=t("00:00", "2024-03-06"))
    a = row(out, A)
    assert a["dwell_min"] == pytest.approx(10 + 5 + 1 + 2)
    assert a["fixes"] == 60 + 10 + 5 + 4
    assert a["dwell_min_police_car"] == pytest.approx(10)
    assert a["dwell_min_foot_patrol"] == pytest.approx(5)
    assert a["dwell_min_security_guard"] == pytest.approx(1)
    assert a["dwell_min_volunteer_patrol"] == pytest.approx(2)
    assert a["dwell_min_red_armband"] == 0
    assert (a["dwell_min_day"], a["dwell_min_evening"], a["dwell_min_night"]) == pytest.approx(
        (15, 1, 2)
    )
    assert a["dwell_min_per_day"] == pytest.approx(18)  # a one-day window
    assert a["value"] == a["dwell_min_per_day"]
    assert a["class"] == 3  # 15 < 18 <= 30 min a day
    assert row(out, C)["dwell_min_red_armband"] == pytest.approx(1.5)

    night = row(
        patrol_coverage(
            cube, visits, res=11, since=t("00:00"), until=t("00:00", "2024-03-06"), band="night"
        ),
        A,
    )
    assert night["dwell_min"] == pytest.approx(2) and night["fixes"] == 4
    assert night["dwell_min_police_car"] == 0 and night["dwell_min_volunteer_patrol"] == 2
    assert night["dwell_min_day"] == pytest.approx(15)  # band columns keep every band

    cars = patrol_coverage(
        cube,
        visits,
        res=11,
        since=t("00:00"),
        until=t("00:00", "2024-03-06"),
        unit_kinds=["police_car"],
    )
    assert row(cars, A)["dwell_min"] == pytest.approx(10)
    assert "dwell_min_foot_patrol" not in cars.columns
    assert np.uint64(C) not in set(cars["cell"])  # only red armbands patrolled C


def test_window_keeps_only_its_hours() -> None:
    cube = cube_table([(A, "09:00", "police_car", 6, 60.0), (A, "10:00", "police_car", 3, 30.0)])
    out = patrol_coverage(cube, visits_table([]), res=11, since=t("10:00"), until=t("11:00"))
    assert row(out, A)["fixes"] == 3


def test_a_coarser_cell_counts_one_visit_where_its_children_count_two() -> None:
    # U1 walks from A into its sibling B without a pause: two stays at res 11, one at res 10.
    visits = visits_table(
        [("U1", "foot_patrol", A, "10:00", "10:05"), ("U1", "foot_patrol", B, "10:05", "10:10")]
    )
    cube = cube_table(
        [(A, "10:00", "foot_patrol", 10, 300.0), (B, "10:00", "foot_patrol", 10, 300.0)]
    )
    fine = patrol_coverage(cube, visits, res=11, since=t("10:00"), until=t("11:00"))
    coarse = patrol_coverage(cube, visits, res=10, since=t("10:00"), until=t("11:00"))
    assert list(fine["visits"]) == [1, 1]
    p = row(coarse, P10_AB)
    assert p["visits"] == 1 and p["units"] == 1
    assert p["fixes"] == 20 and p["dwell_min"] == pytest.approx(10)
    assert p["longest_gap_h"] == pytest.approx(50 / 60)  # 10:10 to 11:00


def test_area_cells_without_patrol_get_zeros_and_the_whole_window_as_gap() -> None:
    visits = visits_table(
        [("U1", "police_car", A, "10:00", "10:10"), ("U1", "police_car", D, "11:00", "11:10")]
    )
    area = np.array([A, C], dtype=np.uint64)
    out = patrol_coverage(
        EMPTY_CUBE, visits, res=11, since=t("08:00"), until=t("16:00"), cells=area
    )
    assert list(out["cell"]) == sorted([A, C])  # D lies outside the area
    c = row(out, C)
    assert c["visits"] == 0 and c["units"] == 0 and c["fixes"] == 0 and c["dwell_min"] == 0
    assert c["longest_gap_h"] == pytest.approx(8.0)
    assert pd.isna(c["last_visit"])
    assert c["class"] == 0


def test_a_band_measures_each_night_alone() -> None:
    visits = visits_table([("U1", "police_car", A, "23:00", "23:30")], day="2024-01-01")
    since, until = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-03")
    night = row(
        patrol_coverage(EMPTY_CUBE, visits, res=11, since=since, until=until, band="night"), A
    )
    # Nights in the window: 00-06 on the 1st, 22-06 over the 1st/2nd, 22-24 on the 2nd.
    # The second night has gaps 22:00-23:00 (1 h) and 23:30-06:00 (6.5 h).
    assert night["longest_gap_h"] == pytest.approx(6.5)
    assert night["visits"] == 1 and night["units"] == 1
    whole = row(patrol_coverage(EMPTY_CUBE, visits, res=11, since=since, until=until), A)
    assert whole["longest_gap_h"] == pytest.approx(24.5)  # 23:30 on the 1st to the end
    day = row(patrol_coverage(EMPTY_CUBE, visits, res=11, since=since, until=until, band="day"), A)
    assert day["visits"] == 0 and day["units"] == 0
    assert day["longest_gap_h"] == pytest.approx(12.0)  # a whole day band
    assert day["visits_night"] == 1
    early = visits_table([("U1", "police_car", A, "01:00", "01:30")], day="2024-01-01")
    first_night = patrol_coverage(EMPTY_CUBE, early, res=11, since=since, until=until, band="night")
    assert row(first_night, A)["longest_gap_h"] == pytest.approx(8.0)  # the unseen 2nd night


def test_a_stay_begun_before_the_window_counts_its_unit_but_not_a_visit() -> None:
    visits = visits_table([("U1", "security_guard", A, "09:30", "10:30")])
    a = row(patrol_coverage(EMPTY_CUBE, visits, res=11, since=t("10:00"), until=t("12:00")), A)
    assert a["visits"] == 0 and a["units"] == 1
    assert a["longest_gap_h"] == pytest.approx(1.5)


def test_a_visit_merged_across_the_window_start_began_before_it() -> None:
    # U1 stays in A until 09:59:40 (last fix), then 30 s later enters A's sibling B: at
    # res 10 that is one visit since 09:50, so it does not count as a visit of the window.
    visits = visits_table(
        [("U1", "foot_patrol", A, "09:50", "10:00"), ("U1", "foot_patrol", B, "10:00:10", "10:20")]
    )
    fine = patrol_coverage(EMPTY_CUBE, visits, res=11, since=t("10:00"), until=t("11:00"))
    assert row(fine, B)["visits"] == 1
    coarse = row(
        patrol_coverage(EMPTY_CUBE, visits, res=10, since=t("10:00"), until=t("11:00")), P10_AB
    )
    assert coarse["visits"] == 0 and coarse["units"] == 1
    assert coarse["longest_gap_h"] == pytest.approx(40 / 60)  # 10:20 to 11:00


def test_dwell_from_real_fixes_is_the_capped_credit_of_the_build() -> None:
    # A foot patrol stands in one spot, one fix every 30 s from 10:00:00 to 10:10:00 (21
    # fixes). The build credits each fix the 30 s to the next and the last one its cap,
    # twice the kind's median interval: 20 x 30 s + 60 s = 11 minutes.
    times = pd.date_range(t("10:00"), t("10:10"), freq="30s")
    fixes = pl.DataFrame(
        {
            "unit_id": ["F1"] * len(times),
            "unit_kind": ["foot_patrol"] * len(times),
            "time": pl.Series(times.to_numpy()).cast(pl.Datetime("us")),
            "lng": [LNG] * len(times),
            "lat": [LAT] * len(times),
        }
    )
    built = patrol_cubes(fixes)
    out = patrol_coverage(built.patrol, built.visits, res=11, since=t("10:00"), until=t("11:00"))
    a = row(out, A)
    assert a["fixes"] == 21
    assert a["dwell_min"] == pytest.approx(11.0)
    assert a["visits"] == 1 and a["units"] == 1
    assert a["longest_gap_h"] == pytest.approx(49 / 60)  # 10:11 to 11:00


def test_pandas_and_polars_inputs_give_the_same_frame() -> None:
    cube = cube_table([(A, "10:00", "police_car", 6, 60.0)])
    visits = visits_table([("U1", "police_car", A, "10:00", "10:10")])
    kw = {"res": 10, "since": t("10:00"), "until": t("12:00")}
    pd.testing.assert_frame_equal(
        patrol_coverage(cube, visits, **kw),
        patrol_coverage(pl.from_pandas(cube), pl.from_pandas(visits), **kw),
    )


def test_inputs_are_not_modified() -> None:
    cube = cube_table([(A, "10:00", "police_car", 6, 60.0)])
    visits = visits_table([("U1", "police_car", A, "10:00", "10:10")])
    before = (cube.copy(), visits.copy())
    patrol_coverage(cube, visits, res=9, since=t("10:00"), until=t("12:00"))
    pd.testing.assert_frame_equal(cube, before[0])
    pd.testing.assert_frame_equal(visits, before[1])


def test_custom_bands_name_the_columns() -> None:
    cube = cube_table([(A, "06:00", "police_car", 6, 60.0), (A, "20:00", "police_car", 6, 120.0)])
    bands = {"light": (7, 19), "dark": (19, 7)}
    out = patrol_coverage(
        cube,
        visits_table([]),
        res=11,
        since=t("00:00"),
        until=t("00:00", "2024-03-06"),
        bands=bands,
    )
    a = row(out, A)
    assert a["dwell_min_light"] == 0 and a["dwell_min_dark"] == pytest.approx(3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"since": "2024-03-05 10:30", "until": "2024-03-05 12:00"}, "whole hours"),
        ({"since": "2024-03-05 12:00", "until": "2024-03-05 10:00"}, "end after"),
        ({"band": "dawn"}, "unknown band"),
        ({"unit_kinds": ["tank"]}, "unknown unit kinds"),
        ({"bands": {"a": (0, 12), "b": (11, 0)}}, "both band"),
        ({"bands": {"a": (0, 12)}}, "without a band"),
        ({"res": 12}, "res-12"),
        ({"cells": np.array([A], dtype=np.uint64), "res": 10}, "resolution 10"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, message: str) -> None:
    args = {"res": 11, "since": t("10:00"), "until": t("12:00"), **kwargs}
    cube = cube_table([(A, "10:00", "police_car", 6, 60.0)])
    with pytest.raises(ValueError, match=message):
        patrol_coverage(cube, visits_table([]), **args)


# --- Koper dose ----------------------------------------------------------------------------


def stops(start: str, every_min: int, n: int, length_min: float, cell: int = A) -> list:
    t0 = t(start)
    out = []
    for i in range(n):
        a = t0 + pd.Timedelta(minutes=every_min * i)
        b = a + pd.Timedelta(minutes=length_min)
        out.append(("U1", "police_car", cell, a.strftime("%H:%M:%S"), b.strftime("%H:%M:%S")))
    return out


def dose(visits: pd.DataFrame, cells: list[int], **kw: object) -> pd.DataFrame:
    args: dict = {"res": 11, "since": t("10:00"), "until": t("16:00"), **kw}
    return koper_dose(visits, np.array(cells, dtype=np.uint64), **args)


def test_twelve_minutes_every_ninety_minutes_doses_every_hour() -> None:
    out = row(dose(visits_table(stops("10:00", 90, 4, 12)), [A]), A)
    # Protection 10:00-16:42 without a break: all six hours.
    assert (out["hours"], out["dosed_hours"], out["value"]) == (6, 6, 1.0)
    assert out["doses"] == 4 and out["short_visits"] == 0
    assert out["dose_min"] == pytest.approx(48) and out["excess_min"] == 0
    assert out["last_dose"] == t("14:30")
    assert out["class"] == 4


def test_every_three_hours_doses_four_hours_of_six() -> None:
    out = row(dose(visits_table(stops("10:00", 180, 2, 12)), [A]), A)
    # Protection 10:00-12:12 and 13:00-15:12: hours 10, 11, 13, 14.
    assert out["dosed_hours"] == 4
    assert out["value"] == pytest.approx(4 / 6)
    assert out["class"] == 3


def test_an_hour_begun_before_the_first_dose_is_not_dosed() -> None:
    out = row(dose(visits_table(stops("10:20", 90, 4, 12)), [A]), A)
    # Protection 10:20-17:02: nobody was there 10:00-10:20, so hours 11 to 15 only.
    assert out["dosed_hours"] == 5


def test_doses_inside_a_longer_one_do_not_cut_its_protection() -> None:
    visits = visits_table(
        [
            ("U1", "foot_patrol", A, "10:00", "10:40"),  # protects to 12:40
            ("U2", "police_car", A, "10:05", "10:17"),  # inside it; protects to 12:17
            ("U3", "police_car", A, "12:30", "12:42"),  # protects 12:30-14:42
        ]
    )
    out = row(dose(visits, [A]), A)
    assert out["doses"] == 3
    assert out["dosed_hours"] == 4  # 10:00-14:42 without a break: hours 10 to 13


def test_stops_shorter_than_the_minimum_dose_nothing() -> None:
    out = row(dose(visits_table(stops("10:00", 60, 6, 8)), [A]), A)
    assert out["dosed_hours"] == 0 and out["doses"] == 0 and out["short_visits"] == 6
    assert out["class"] == 0 and pd.isna(out["last_dose"])


def test_a_long_stop_is_one_dose_credited_fifteen_minutes() -> None:
    out = row(dose(visits_table(stops("10:00", 0, 1, 40)), [A]), A)
    # Protection 10:00-12:40: hours 10 and 11.
    assert out["doses"] == 1 and out["dosed_hours"] == 2
    assert out["dose_min"] == pytest.approx(15) and out["excess_min"] == pytest.approx(25)


def test_a_dose_before_the_window_protects_its_first_hour() -> None:
    early = row(dose(visits_table(stops("08:50", 0, 1, 12)), [A]), A)  # protects to 11:02
    assert early["dosed_hours"] == 1 and early["doses"] == 0
    earlier = row(dose(visits_table(stops("08:30", 0, 1, 12)), [A]), A)  # protects to 10:42
    assert earlier["dosed_hours"] == 0


def test_a_night_band_counts_night_hours_and_evening_doses_reach_into_them() -> None:
    visits = visits_table(stops("21:30", 0, 1, 12))  # protects 21:30-23:42
    out = row(dose(visits, [A], since=t("00:00"), until=t("00:00", "2024-03-06"), band="night"), A)
    assert out["hours"] == 8  # 00-06 and 22-24
    assert out["dosed_hours"] == 1  # 22:00-23:00; 23:00-24:00 is not whole
    assert out["doses"] == 0  # it started in the evening


def test_two_short_stays_in_sibling_cells_are_one_dose_of_their_parent() -> None:
    visits = visits_table(
        [("U1", "foot_patrol", A, "10:00", "10:06"), ("U1", "foot_patrol", B, "10:06", "10:12")]
    )
    fine = dose(visits, [A, B])
    assert fine["doses"].sum() == 0 and fine["short_visits"].sum() == 2
    coarse = row(dose(visits, [P10_AB], res=10), P10_AB)
    assert coarse["doses"] == 1 and coarse["dose_min"] == pytest.approx(12)
    assert coarse["dosed_hours"] == 2  # protection 10:00-12:12: hours 10 and 11


def test_unit_kinds_choose_whose_stops_count() -> None:
    visits = visits_table([("V1", "red_armband", A, "10:00", "10:12")])
    assert row(dose(visits, [A]), A)["doses"] == 1
    assert row(dose(visits, [A], unit_kinds=["police_car"]), A)["doses"] == 0


def test_koper_summary_overall_and_by_zone() -> None:
    visits = visits_table(stops("10:00", 90, 4, 12, cell=A) + stops("10:00", 180, 2, 12, cell=C))
    per_cell = dose(visits, [A, C, D])
    overall = koper_summary(per_cell)
    assert overall.loc[0, "hotspot_cells"] == 3 and overall.loc[0, "hours"] == 18
    assert overall.loc[0, "value"] == pytest.approx((6 + 4 + 0) / 18)
    zones = pd.DataFrame(
        {"cell": np.array([A, C, D, B], dtype=np.uint64), "grid_id": ["g1", "g2", "g2", "g3"]}
    )
    by_grid = koper_summary(per_cell, zones).set_index("zone_id")
    assert by_grid.loc["g1", "value"] == 1.0
    assert by_grid.loc["g2", "value"] == pytest.approx(4 / 12)
    assert by_grid.loc["g2", "dosed_hours"] == 4
    assert math.isnan(by_grid.loc["g3", "value"]) and pd.isna(by_grid.loc["g3", "class"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_dwell_min": 20}, "min_dwell_min"),
        ({"max_revisit_h": 0}, "max_revisit_h"),
        ({"since": t("10:00"), "until": t("11:00"), "band": "night"}, "no hour"),
    ],
)
def test_bad_dose_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dose(visits_table([]), [A], **kwargs)


# --- coverage per grid and precinct --------------------------------------------------------


def test_coverage_share_per_grid_and_precinct() -> None:
    # One day; A 40 min, B 10 min, C exactly 30 min, D nothing.
    cube = cube_table(
        [
            (A, "10:00", "police_car", 10, 2400.0),
            (B, "10:00", "foot_patrol", 10, 600.0),
            (C, "14:00", "red_armband", 10, 1800.0),
        ]
    )
    visits = visits_table(
        [
            ("U1", "police_car", A, "10:00", "10:40"),
            ("U2", "foot_patrol", B, "10:00", "10:10"),
            ("U3", "red_armband", C, "14:00", "14:30"),
        ]
    )
    area = np.array([A, B, C, D], dtype=np.uint64)
    per_cell = patrol_coverage(
        cube, visits, res=11, since=t("00:00"), until=t("00:00", "2024-03-06"), cells=area
    )
    zones = pd.DataFrame(
        {
            "cell": area,
            "grid_id": ["g1", "g1", "g2", "g2"],
            "precinct_id": ["p1", "p1", "p1", "p1"],
        }
    )
    out = coverage_share(per_cell, zones, standard=CoverageStandard())
    got = {
        (r.level, r.zone_id): (r.covered, r.cells, r.value, r.no_patrol) for r in out.itertuples()
    }
    assert got == {
        ("grid_id", "g1"): (1, 2, 0.5, 0),
        ("grid_id", "g2"): (1, 2, 0.5, 1),
        ("precinct_id", "p1"): (2, 4, 0.5, 1),
    }
    assert list(out["level"]) == ["grid_id", "grid_id", "precinct_id"]
    # A gap rule: seen at least every 14 hours. A's longest gap is 10:40-24:00 (13.33 h),
    # B's 10:10-24:00 (13.83 h), C's 00:00-14:00 (14 h, allowed); D is never seen.
    gaps = coverage_share(per_cell, zones, standard=CoverageStandard(None, 14.0))
    assert gaps.set_index("zone_id").loc["p1", "covered"] == 3
    both = coverage_share(per_cell, zones, standard=CoverageStandard(30.0, 13.5))
    assert both.set_index("zone_id").loc["p1", "covered"] == 1  # only A
    # A zone cell missing from per_cell had no patrol and is not covered.
    short = coverage_share(per_cell[per_cell["cell"] != np.uint64(A)], zones)
    assert short.set_index("zone_id").loc["g1", "covered"] == 0


def test_coverage_standard_is_checked() -> None:
    with pytest.raises(ValueError, match="needs"):
        CoverageStandard(None, None)
    with pytest.raises(ValueError, match="positive"):
        CoverageStandard(0.0)


# --- invariants ----------------------------------------------------------------------------

KINDS = list(UNIT_KINDS)
START = pd.Timestamp("2024-05-01 00:00")


@st.composite
def patrols(draw: st.DrawFn) -> pl.DataFrame:
    """Random walks of 1-3 units near one spot: steps of ~30 m, 1 s to 15 min apart."""
    rows = []
    for u in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(KINDS))
        clock = START + pd.Timedelta(seconds=draw(st.integers(0, 6 * 3600)))
        x = y = 0
        steps = st.tuples(st.integers(1, 900), st.integers(-2, 2), st.integers(-2, 2))
        for dt, dx, dy in draw(st.lists(steps, min_size=1, max_size=40)):
            clock += pd.Timedelta(seconds=dt)
            x, y = x + dx, y + dy
            rows.append((f"U{u}", kind, clock, LNG + 0.0003 * x, LAT + 0.0003 * y))
    frame = pd.DataFrame(rows, columns=["unit_id", "unit_kind", "time", "lng", "lat"])
    return pl.from_pandas(frame).with_columns(pl.col("time").cast(pl.Datetime("us")))


def _in_band(hours: pd.Series, band: str | None) -> pd.Series:
    if band is None:
        return pd.Series(True, index=hours.index)
    start, end = DEFAULT_BANDS[band]
    h = hours.dt.hour
    return (h >= start) & (h < end) if start < end else (h >= start) | (h < end)


@settings(max_examples=40, deadline=None)
@given(
    fixes=patrols(),
    res=st.integers(8, 10),
    start_h=st.integers(0, 8),
    length_h=st.integers(1, 24),
    band=st.sampled_from([None, *DEFAULT_BANDS]),
)
def test_each_fix_counts_in_its_own_hexagon_at_every_resolution(
    fixes: pl.DataFrame, res: int, start_h: int, length_h: int, band: str | None
) -> None:
    built = patrol_cubes(fixes)
    since = START + pd.Timedelta(hours=start_h)
    until = since + pd.Timedelta(hours=length_h)
    kw = {"since": since, "until": until, "band": band}
    coarse = patrol_coverage(built.patrol, built.visits, res=res, **kw).set_index("cell")
    fine = patrol_coverage(built.patrol, built.visits, res=res + 1, **kw)
    # The reference: the raw fixes of the window and band, indexed at ``res`` by h3-py.
    raw = fixes.to_pandas()
    raw = raw[(raw["time"] >= since) & (raw["time"] < until) & _in_band(raw["time"], band)]
    cells = [
        h3.str_to_int(h3.latlng_to_cell(y, x, res))
        for x, y in zip(raw["lng"], raw["lat"], strict=True)
    ]
    expected = pd.Series(1, index=np.array(cells, dtype=np.uint64)).groupby(level=0).sum()
    fixed = coarse[coarse["fixes"] > 0]["fixes"]
    assert fixed.sort_index().to_dict() == expected.sort_index().to_dict()
    # Dwell moves between hexagons with the resolution but none is lost or made.
    assert coarse["dwell_min"].sum() == pytest.approx(fine["dwell_min"].sum(), rel=1e-9, abs=1e-6)
    c = coarse
    # The split by kind adds up to the totals.
    by_kind = sum(c[f"dwell_min_{k}"] for k in KINDS)
    assert np.allclose(by_kind, c["dwell_min"])
    assert (sum(c[f"visits_{k}"] for k in KINDS) == c["visits"]).all()
    # The bands share out the day.
    whole = patrol_coverage(built.patrol, built.visits, res=res, **{**kw, "band": None})
    by_band = sum(whole[f"dwell_min_{b}"] for b in DEFAULT_BANDS)
    assert np.allclose(by_band, whole["dwell_min"])
    start, end = DEFAULT_BANDS[band] if band else (0, 24)
    longest = min(length_h, (end - start) % 24 or 24)
    assert ((c["longest_gap_h"] >= 0) & (c["longest_gap_h"] <= longest + 1e-9)).all()


@settings(max_examples=30, deadline=None)
@given(fixes=patrols(), res=st.integers(8, 11), revisit=st.floats(0.25, 4.0))
def test_dose_and_coverage_shares_lie_between_zero_and_one(
    fixes: pl.DataFrame, res: int, revisit: float
) -> None:
    built = patrol_cubes(fixes)
    kw = {"res": res, "since": START, "until": START + pd.Timedelta(hours=24)}
    per_cell = patrol_coverage(built.patrol, built.visits, **kw)
    hot = per_cell["cell"].to_numpy(dtype=np.uint64)
    doses = koper_dose(built.visits, hot, min_dwell_min=1, max_revisit_h=revisit, **kw)
    assert ((doses["value"] >= 0) & (doses["value"] <= 1)).all()
    assert (doses["dosed_hours"] <= doses["hours"]).all()
    zones = pd.DataFrame({"cell": hot, "grid_id": [f"g{i % 3}" for i in range(hot.size)]})
    share = coverage_share(per_cell, zones, standard=CoverageStandard(dwell_min_per_day=5))
    assert ((share["value"] >= 0) & (share["value"] <= 1)).all()
    summary = koper_summary(doses, zones)
    assert ((summary["value"] >= 0) & (summary["value"] <= 1)).all()


# --- the demo's planted gap ----------------------------------------------------------------


def test_the_night_life_hot_spot_gets_no_night_dwell(demo_with_cubes: Path) -> None:
    from geodata.cubes import load_cube
    from geodata.store import read_manifest
    from layers.grids import cell_centres

    gap = next(
        g
        for g in read_manifest(demo_with_cubes)["planted_gaps"]
        if g["key"] == "night_unpatrolled_hotspot"
    )
    assert gap["hours"][1] == 6 and gap["hours"][0] <= 22  # our night band lies inside
    patrol = load_cube(demo_with_cubes, "patrol")
    visits = load_cube(demo_with_cubes, "visits")
    since = patrol["hour"].min().normalize()
    until = patrol["hour"].max().normalize() + pd.Timedelta(days=1)
    # Res-9 cells (edge ~174 m) whose centre lies within 300 m of the spot: wholly inside
    # the 500 m the demo keeps free of night fixes.
    centre = h3.latlng_to_cell(gap["lat"], gap["lng"], 9)
    disk = np.array([h3.str_to_int(c) for c in h3.grid_disk(centre, 3)], dtype=np.uint64)
    lng, lat = cell_centres(disk)
    dist = np.array(
        [
            h3.great_circle_distance((y, x), (gap["lat"], gap["lng"]), unit="m")
            for x, y in zip(lng, lat, strict=True)
        ]
    )
    near = disk[dist <= 300]
    assert near.size >= 1
    kw = {"res": 9, "since": since, "until": until, "cells": near}
    night = patrol_coverage(patrol, visits, band="night", **kw)
    assert (night["dwell_min"] == 0).all() and (night["visits"] == 0).all()
    assert (night["units"] == 0).all()
    nights = (until - since).days
    assert (night["longest_gap_h"] == 8.0).all() and nights >= 1
    whole = patrol_coverage(patrol, visits, **kw)
    assert (whole["dwell_min_night"] == 0).all()
    assert whole["dwell_min_day"].sum() > 0  # patrolled by day: the test can see dwell


def test_visits_near_merges_a_units_stays_in_the_exact_cell_and_drops_the_far_ones() -> None:
    """Known answer: two stays of one unit 2 min apart in one res-9 cell are one visit;
    another unit's stay is its own; a stay ending long before the window is dropped; the
    cell reported is the point's own res-9 cell (h3), in a res-11 cell whose parent differs."""
    from layers.patrol_coverage.intervals import visits_near
    from tests.cube_rows import exact_rows_pl

    base = h3.latlng_to_cell(31.25, 107.55, 9)
    cell = next(
        int(c, 16)
        for c in h3.cell_to_children(h3.grid_ring(base, 1)[0], 11)
        if centre_cell(int(c, 16), 9) != int(h3.cell_to_parent(c, 9), 16)
    )
    t0 = pd.Timestamp("2024-05-01 08:00")
    minutes = [pd.Timedelta(minutes=m) for m in (0, 3, 4, 5, 9, 10)]
    visits = exact_rows_pl(
        pl.DataFrame(
            {
                "unit_id": ["u1", "u1", "u2", "u3"],
                "unit_kind": ["foot_patrol", "foot_patrol", "police_car", "police_car"],
                "cell": np.array([cell] * 4, dtype=np.uint64),
                "entered": [t0, t0 + minutes[3], t0, t0 - pd.Timedelta(hours=3)],
                "last_fix": [t0 + minutes[1], t0 + minutes[4], t0, t0 - pd.Timedelta(hours=2)],
                "left": [t0 + minutes[2], t0 + minutes[5], t0, t0 - pd.Timedelta(hours=2)],
                "fixes": pl.Series([3, 4, 1, 2], dtype=pl.Int32),
            }
        )
    )
    start = int(t0.value // 1000)
    near = visits_near(
        visits, res=9, kinds=["foot_patrol", "police_car"], start_us=start,
        end_us=start + 3_600_000_000, margin_s=600.0, max_gap_s=600.0,
    )  # fmt: skip
    assert sorted(near["unit_id"].to_list()) == ["u1", "u2"]
    u1 = near.filter(pl.col("unit_id") == "u1").row(0, named=True)
    assert (u1["entered"], u1["left"]) == (start, start + 10 * 60_000_000)
    assert set(near["cell"].to_list()) == {centre_cell(cell, 9)}


def _covered(pieces: list[tuple[int, int, int, int]]) -> dict[tuple[int, int], set[int]]:
    """Reference: the instants (whole units) each (cell, segment) is covered, by brute force."""
    out: dict[tuple[int, int], set[int]] = {}
    for cell, seg, start, end in pieces:
        out.setdefault((cell, seg), set()).update(range(start, end))
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 4), st.integers(0, 2), st.integers(0, 40), st.integers(1, 30)),
             max_size=25),
    st.lists(st.integers(0, 300), min_size=6, max_size=6, unique=True),
)  # fmt: skip
def test_longest_gaps_and_union_equal_a_brute_force_sweep(
    rows: list[tuple[int, int, int, int]], edges: list[int]
) -> None:
    from layers.patrol_coverage.intervals import longest_gaps, union

    bounds = sorted(edges)
    seg_start = np.array(bounds[0::2], dtype=np.int64)
    seg_end = np.array(bounds[1::2], dtype=np.int64)
    pieces = []
    for cell, seg, offset, length in rows:
        start = int(seg_start[seg]) + offset
        end = min(start + length, int(seg_end[seg]))
        if end > start:
            pieces.append((cell, seg, start, end))
    frame = pl.DataFrame(
        pieces, schema={"cell": pl.UInt64, "seg": pl.Int64, "start": pl.Int64, "end": pl.Int64},
        orient="row",
    )  # fmt: skip
    covered = _covered(pieces)
    want: dict[int, int] = {}
    for cell in {p[0] for p in pieces}:
        longest = 0
        for seg in range(seg_start.size):
            run = 0
            for t in range(int(seg_start[seg]), int(seg_end[seg])):
                run = 0 if t in covered.get((cell, seg), set()) else run + 1
                longest = max(longest, run)
        want[cell] = longest
    got = longest_gaps(frame, seg_start, seg_end)
    assert dict(zip(got["cell"].to_list(), got["gap_us"].to_list(), strict=True)) == want

    merged = union(frame)
    for cell in {p[0] for p in pieces}:
        instants = set().union(*(s for (c, _), s in covered.items() if c == cell))
        mine = merged.filter(pl.col("cell") == cell)
        spans = list(zip(mine["start"].to_list(), mine["end"].to_list(), strict=True))
        assert set().union(*(range(a, b) for a, b in spans)) == instants
        # merged intervals neither overlap nor touch
        assert all(b1 < a2 for (_, b1), (a2, _) in pairwise(spans))
