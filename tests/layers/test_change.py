"""layers.change (同比/环比): known answers on hand-built cubes and properties of the rules.

The binomial p-values are computed here from the formula with ``math.comb``, not with
scipy, and the cells and parents come from h3-py.
"""

from __future__ import annotations

import math

import h3
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layers.change import (
    CHANGE_CLASSES,
    compare_counts,
    earlier_windows,
    period_change,
    total_change,
)
from tests.cube_rows import centre_cell, exact_rows, point_cells

A = h3.str_to_int(h3.latlng_to_cell(31.3500, 107.7300, 11))
B = h3.str_to_int(h3.latlng_to_cell(31.3502, 107.7302, 11))  # shares A's res-8 parent
C = h3.str_to_int(h3.latlng_to_cell(31.3800, 107.7300, 11))
# The res-8 hexagons the cells' centres lie in (h3-py), not the cells' parents.
P_AB = centre_cell(A, 8)
P_C = centre_cell(C, 8)
LINEAGE = [f"cell_{r}" for r in range(6, 11)]


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(
        {
            **{c: np.uint64 for c in frame.columns if c.startswith("cell")},
            "hour": "datetime64[us]",
            "category": str,
            "count": np.int32,
        }
    )


def _cube(rows: list[tuple[int, str, str, int]]) -> pd.DataFrame:
    return exact_rows(_typed(pd.DataFrame(rows, columns=["cell", "hour", "category", "count"])))


def _two_sided(k: int, n: int, p0: float) -> float:
    """Exact two-sided binomial p-value: the probability of outcomes no likelier than k."""
    pmf = [math.comb(n, i) * p0**i * (1 - p0) ** (n - i) for i in range(n + 1)]
    return min(1.0, sum(q for q in pmf if q <= pmf[k] * (1 + 1e-7)))


# A week (1-8 Nov 2026) against the same week a month (1-8 Oct) and a year earlier.
WEEK = {"since": "2026-11-01", "until": "2026-11-08"}
DATA_START = (A, "2025-01-01 00:00", "dispute", 1)  # the data begin on 1 Jan 2025


def test_ten_against_four_a_month_earlier_is_plus_150_percent() -> None:
    cube = _cube(
        [DATA_START, (A, "2026-11-03 10:00", "theft", 10), (A, "2026-10-03 22:00", "theft", 4)]
    )
    row = period_change(cube, res=11, **WEEK).set_index("cell").loc[A]
    assert row["count"] == 10 and row["count_mom"] == 4
    assert row["change_mom_pct"] == pytest.approx(150.0)
    # Equal windows: 10 | 14 ~ Binomial(14, 0.5); both tails, 2 * (1001+364+91+14+1) / 2**14.
    expected = 2 * sum(math.comb(14, i) for i in range(10, 15)) / 2**14
    assert expected == pytest.approx(_two_sided(10, 14, 0.5))
    assert row["p_mom"] == pytest.approx(expected, rel=1e-9)  # ≈ 0.1796
    assert not row["significant_mom"]
    assert row["state_mom"] == "ok" and row["class_mom"] == "increase"


def test_unequal_calendar_months_shift_the_null_share() -> None:
    # November (30 days) against October (31 days): p0 = 30 / 61.
    cube = _cube(
        [DATA_START, (A, "2026-11-03 10:00", "theft", 10), (A, "2026-10-03 22:00", "theft", 4)]
    )
    row = period_change(cube, res=11, since="2026-11-01", until="2026-12-01").iloc[0]
    assert row["p_mom"] == pytest.approx(_two_sided(10, 14, 30 / 61), rel=1e-9)


def test_new_incidents_and_disappearing_ones() -> None:
    rows = [
        DATA_START,
        (A, "2026-11-02 01:00", "theft", 6),  # 6 now, none before: p = 2 * 0.5**6
        (B, "2026-11-02 01:00", "theft", 5),  # 5 now, none before: p = 2 * 0.5**5
        (C, "2026-10-02 01:00", "theft", 10),  # none now, 10 a month earlier
    ]
    out = period_change(_cube(rows), res=11, **WEEK).set_index("cell")
    assert out.loc[A, "state_mom"] == "new" and np.isnan(out.loc[A, "change_mom_pct"])
    assert out.loc[A, "p_mom"] == pytest.approx(2 * 0.5**6)
    assert out.loc[A, "class_mom"] == "strong_increase"
    assert out.loc[B, "p_mom"] == pytest.approx(2 * 0.5**5)
    assert out.loc[B, "class_mom"] == "increase"  # 0.0625: not significant at 5 %
    assert out.loc[C, "change_mom_pct"] == -100.0
    assert out.loc[C, "p_mom"] == pytest.approx(2 * 0.5**10)
    assert out.loc[C, "class_mom"] == "strong_decrease"
    # Nothing a year earlier anywhere, and nothing now in C: "none", stable.
    assert out.loc[C, "state_yoy"] == "none" and out.loc[C, "class_yoy"] == "stable"
    assert out.loc[C, "p_yoy"] == 1.0


def test_small_changes_are_stable() -> None:
    rows = [DATA_START, (A, "2026-11-02", "theft", 21), (A, "2025-11-02", "theft", 20)]
    row = period_change(_cube(rows), res=11, **WEEK).iloc[0]
    assert row["change_yoy_pct"] == pytest.approx(5.0)
    assert row["class_yoy"] == "stable"
    wide = period_change(_cube(rows), res=11, stable_pct=4.0, **WEEK).iloc[0]
    assert wide["class_yoy"] == "increase"


def test_earlier_windows_before_the_data_are_unknown_not_zero() -> None:
    rows = [(A, "2026-10-01 00:00", "theft", 2), (A, "2026-11-02 00:00", "theft", 3)]
    out = period_change(_cube(rows), res=11, **WEEK)  # data begin on 1 Oct 2026
    row = out.iloc[0]
    assert row["count_mom"] == 2 and row["state_mom"] == "ok"
    assert pd.isna(row["count_yoy"]) and row["state_yoy"] == "no_data"
    assert np.isnan(row["change_yoy_pct"]) and np.isnan(row["p_yoy"])
    assert pd.isna(row["significant_yoy"]) and pd.isna(row["class_yoy"])
    told = period_change(_cube(rows), res=11, data_since="2025-01-01", **WEEK).iloc[0]
    assert told["count_yoy"] == 0 and told["state_yoy"] == "new"


def test_windows_shift_by_calendar_month_and_year() -> None:
    w = earlier_windows("2026-03-31", "2026-04-01")
    assert w["mom"] == (pd.Timestamp("2026-02-28"), pd.Timestamp("2026-03-01"))
    assert w["yoy"] == (pd.Timestamp("2025-03-31"), pd.Timestamp("2025-04-01"))
    leap = earlier_windows("2028-02-29", "2028-03-01")
    assert leap["yoy"] == (pd.Timestamp("2027-02-28"), pd.Timestamp("2027-03-01"))
    day = earlier_windows("2026-11-08", "2026-11-09", mom_offset=pd.DateOffset(days=1))
    assert day["mom"] == (pd.Timestamp("2026-11-07"), pd.Timestamp("2026-11-08"))
    with pytest.raises(ValueError, match="end after"):
        earlier_windows("2026-11-08", "2026-11-08")


def test_area_cells_coarser_resolution_and_categories() -> None:
    rows = [
        DATA_START,
        (A, "2026-11-02", "theft", 3),
        (B, "2026-11-03", "fraud", 2),
        (C, "2026-11-03", "theft", 7),
        (B, "2026-10-03", "theft", 1),
    ]
    cube = _cube(rows)
    out = period_change(cube, res=8, **WEEK, categories=["theft"]).set_index("cell")
    assert out["count"].to_dict() == {P_AB: 3, P_C: 7}
    assert out.loc[P_AB, "count_mom"] == 1
    quiet = h3.str_to_int(h3.latlng_to_cell(31.45, 107.80, 8))
    scoped = period_change(cube, res=8, cells=[quiet, P_AB], **WEEK)
    assert scoped["cell"].tolist() == sorted([quiet, P_AB])
    assert scoped.set_index("cell").loc[quiet, "state_mom"] == "none"
    with pytest.raises(ValueError, match="not 8"):
        period_change(cube, res=8, cells=[A], **WEEK)


def test_total_change_of_the_county_and_of_an_area() -> None:
    rows = [
        DATA_START,
        (A, "2026-11-02", "theft", 3),
        (C, "2026-11-03", "theft", 7),
        (A, "2026-10-03", "theft", 4),
        (C, "2025-11-03", "fraud", 5),
    ]
    cube = _cube(rows)
    total = total_change(cube, **WEEK)
    assert len(total) == 1
    row = total.iloc[0]
    assert (row["count"], row["count_mom"], row["count_yoy"]) == (10, 4, 5)
    assert row["change_yoy_pct"] == pytest.approx(100.0)
    assert row["p_yoy"] == pytest.approx(_two_sided(10, 15, 0.5), rel=1e-9)
    assert row["since_mom"] == pd.Timestamp("2026-10-01")
    area = total_change(cube, cells=[P_C], **WEEK).iloc[0]
    assert (area["count"], area["count_mom"], area["count_yoy"]) == (7, 0, 5)
    assert area["state_mom"] == "new"


def test_inputs_are_not_modified() -> None:
    cube = _cube([DATA_START, (A, "2026-11-02", "theft", 3)])
    before = cube.copy()
    period_change(cube, res=9, **WEEK)
    total_change(cube, cells=[P_AB], **WEEK)
    pd.testing.assert_frame_equal(cube, before)


# --- properties --------------------------------------------------------------------------


@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=40),
    st.floats(1, 24 * 31),
    st.floats(1, 24 * 31),
)
@settings(max_examples=100, deadline=None)
def test_only_significant_changes_are_strong(
    pairs: list[tuple[int, int]], now_hours: float, earlier_hours: float
) -> None:
    x = [p[0] for p in pairs]
    y = [p[1] for p in pairs]
    out = compare_counts(x, y, current_hours=now_hours, earlier_hours=earlier_hours)
    strong = out["class"].str.startswith("strong_")
    assert (out.loc[strong, "significant"]).all()
    assert set(out["class"]) <= set(CHANGE_CLASSES)
    assert (out["change_pct"].isna() == (np.asarray(y) == 0)).all()
    assert ((out["p_value"] >= 0) & (out["p_value"] <= 1)).all()
    assert (out["significant"] == (out["p_value"] < 0.05)).all()
    same = compare_counts(y, x, current_hours=now_hours, earlier_hours=now_hours)
    swap = compare_counts(x, y, current_hours=now_hours, earlier_hours=now_hours)
    np.testing.assert_allclose(same["p_value"], swap["p_value"], rtol=1e-9)  # p0 = 0.5


T0 = pd.Timestamp("2025-01-01")


@st.composite
def cubes(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 25))
    rows = [{**point_cells(31.35, 107.73), "hour": "2025-01-01", "category": "theft", "count": 1}]
    for _ in range(n):
        lat = draw(st.floats(31.30, 31.40))
        lng = draw(st.floats(107.68, 107.78))
        hour = T0 + pd.Timedelta(hours=draw(st.integers(0, 24 * 700)))
        rows.append(
            {
                **point_cells(lat, lng),
                "hour": str(hour),
                "category": "theft",
                "count": draw(st.integers(1, 4)),
            }
        )
    return _typed(pd.DataFrame(rows, columns=["cell", *LINEAGE, "hour", "category", "count"]))


@given(cubes(), st.integers(6, 10), st.integers(0, 600), st.integers(1, 40))
@settings(max_examples=30, deadline=None)
def test_counts_at_res_r_are_those_of_the_points_in_each_res_r_hexagon(
    cube: pd.DataFrame, res: int, start_day: int, days: int
) -> None:
    since = T0 + pd.Timedelta(days=start_day)
    window = {"since": since, "until": since + pd.Timedelta(days=days)}
    coarse = period_change(cube, res=res, **window)
    # The reference: the rows re-indexed at ``res`` by h3-py from their points.
    reference = cube.assign(cell=cube[f"cell_{res}"]).drop(columns=LINEAGE)
    measures = ["count", "count_mom", "count_yoy"]
    summed = period_change(reference, res=res, **window).set_index("cell")[measures]
    assert coarse["cell"].tolist() == summed.index.tolist()
    for m in measures:
        assert coarse[m].fillna(-1).tolist() == summed[m].fillna(-1).tolist()
    total = total_change(cube, **window).iloc[0]
    assert total["count"] == coarse["count"].sum()


def test_binomial_p_values_equal_scipys_binomtest_for_every_count() -> None:
    """The vectorised p-values against scipy.stats.binomtest itself, for every k of
    n = 1..60 and counts drawn up to 400, at proportions of the windows the layers use."""
    from scipy import stats

    from layers.change import _binom_p

    rng = np.random.default_rng(11)
    n = np.concatenate([np.repeat(np.arange(1, 61), np.arange(2, 62)), rng.integers(1, 400, 300)])
    k = np.concatenate([np.concatenate([np.arange(m + 1) for m in range(1, 61)]),
                        (rng.random(300) * (n[-300:] + 1)).astype(np.int64)])  # fmt: skip
    for p0 in (0.5, 30 / 395):
        want = [stats.binomtest(int(a), int(b), p0).pvalue for a, b in zip(k, n, strict=True)]
        np.testing.assert_allclose(_binom_p(k, n, p0), want, rtol=1e-12, atol=0)
    assert _binom_p(np.array([0]), np.array([0]), 0.5).tolist() == [1.0]
