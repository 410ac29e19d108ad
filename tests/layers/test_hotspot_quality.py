"""Tests for layers.hotspot_quality: PAI, RRI and PEI on hand-made periods.

Areas come from h3's own ``cell_area`` here, so the expected numbers are computed
independently of the module; the "about 10" checks show that neighbouring H3 cells are
near enough equal in area for the textbook reading (50 % of incidents in 5 % of the
area gives PAI 10) to hold.
"""

from __future__ import annotations

import math

import h3.api.numpy_int as h3i
import numpy as np
import pandas as pd
import pytest

from layers.hotspot_quality import pai_rri, resolution_quality
from tests.cube_rows import exact_rows

CENTRE = int(h3i.latlng_to_cell(31.35, 107.73, 9))
AREA20 = np.sort(np.asarray(h3i.grid_disk(CENTRE, 3), dtype=np.uint64))[:20]
HOT = AREA20[7]
OTHERS = AREA20[AREA20 != HOT]


def area_km2(cells: np.ndarray) -> float:
    return float(sum(h3i.cell_area(int(c), unit="km^2") for c in cells))


def counts(cells: np.ndarray, values: list[int] | int) -> pd.DataFrame:
    return pd.DataFrame({"cell": np.asarray(cells, dtype=np.uint64), "count": values})


def two_periods(test_others: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    # Training: HOT has 10, ten other cells 1 each (N1 = 20, n1 = 10).
    train = pd.concat([counts([HOT], 10), counts(OTHERS[:10], 1)], ignore_index=True)
    # Test: HOT has 19, `test_others` other cells 1 each.
    test = pd.concat([counts([HOT], 19), counts(OTHERS[:test_others], 1)], ignore_index=True)
    return train, test


def test_half_the_incidents_in_one_twentieth_of_the_area_is_pai_ten() -> None:
    train, test = two_periods(test_others=19)  # N2 = 38, n2 = 19: 50 % captured
    before = test.copy()
    got = pai_rri(train, test, area_cells=AREA20, hot_share=0.05)  # 1 of 20 cells
    pd.testing.assert_frame_equal(test, before)
    share = area_km2([HOT]) / area_km2(AREA20)
    assert got["hot_cells"] == 1
    assert got["captured_share"] == pytest.approx(0.5)
    assert got["pai"] == pytest.approx(0.5 / share, rel=1e-12)
    assert got["pai"] == pytest.approx(10.0, rel=0.01)
    # RRI = (n2/n1)/(N2/N1) = (19/10)/(38/20) = 1: the hot spot kept its share.
    assert got["rri"] == pytest.approx(1.0)
    # PEI: the best single cell of the test period holds 19, and so does HOT.
    assert got["pei"] == pytest.approx(1.0)


def test_rri_above_one_when_the_hot_spot_gains_share() -> None:
    train, test = two_periods(test_others=9)  # N2 = 28
    got = pai_rri(train, test, area_cells=AREA20, hot_share=0.05)
    assert got["rri"] == pytest.approx((19 / 10) / (28 / 20))  # 1.357...
    assert got["n_train"] == 10 and got["total_train"] == 20
    assert got["n_test"] == 19 and got["total_test"] == 28


def test_pei_below_one_when_a_better_cell_existed() -> None:
    train = counts([HOT], 5)
    test = counts([HOT, OTHERS[0]], [2, 8])
    got = pai_rri(train, test, area_cells=AREA20, hot_share=0.05)
    assert got["pei"] == pytest.approx(2 / 8)


def test_ties_at_the_cut_go_to_the_lower_cell_id() -> None:
    train = counts(AREA20[[3, 5]], [4, 4])
    test = counts(AREA20[[3]], [1])
    got = pai_rri(train, test, area_cells=AREA20, hot_share=0.05)
    assert got["hot_cells"] == 1
    assert got["captured_share"] == 1.0  # AREA20[3] < AREA20[5] was chosen


def test_gi_star_hot_spots_of_a_planted_block() -> None:
    # The block of the Gi* known-answer test: its 7 cells are hot at 99 %.
    area = np.asarray(h3i.grid_disk(CENTRE, 3), dtype=np.uint64)
    block = np.asarray(h3i.grid_disk(CENTRE, 1), dtype=np.uint64)
    period = counts(block, 10)
    got = pai_rri(period, period, area_cells=area, method="gi_star", confidence=99)
    assert got["hot_cells"] == 7
    assert got["pai"] == pytest.approx(area_km2(area) / area_km2(block), rel=1e-12)
    assert got["rri"] == pytest.approx(1.0)


def test_undefined_measures_are_nan() -> None:
    empty = counts(np.array([], dtype=np.uint64), [])
    train, _ = two_periods(test_others=0)
    got = pai_rri(train, empty, area_cells=AREA20)
    assert math.isnan(got["pai"]) and math.isnan(got["rri"]) and math.isnan(got["pei"])
    nothing_hot = pai_rri(empty, train, area_cells=AREA20)
    assert nothing_hot["hot_cells"] == 0 and math.isnan(nothing_hot["pai"])


def test_bad_settings_raise() -> None:
    train, test = two_periods(test_others=1)
    with pytest.raises(ValueError, match="method"):
        pai_rri(train, test, area_cells=AREA20, method="kde")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hot_share"):
        pai_rri(train, test, area_cells=AREA20, hot_share=0)
    with pytest.raises(ValueError, match="confidence"):
        pai_rri(train, test, area_cells=AREA20, method="gi_star", confidence=80)


def test_resolution_quality_rolls_up_and_measures_inside_the_area() -> None:
    # Area: the 49 res-10 children of one res-8 cell. Every incident of both periods
    # falls in one res-11 cell, so the hot spot at each resolution is the one cell that
    # holds it and PAI = A / a: 49-ish at res 10, 7-ish at res 9, exactly 1 at res 8.
    parent8 = int(h3i.latlng_to_cell(31.35, 107.73, 8))
    area10 = np.sort(np.asarray(h3i.cell_to_children(parent8, 10), dtype=np.uint64))
    target10 = int(area10[11])
    spot11 = int(h3i.cell_to_center_child(target10, 11))
    elsewhere11 = int(h3i.latlng_to_cell(31.9, 108.3, 11))  # outside the area: ignored
    hours = pd.to_datetime(["2024-01-01 08:00", "2024-01-01 09:00", "2024-01-02 22:00"])
    train = exact_rows(
        pd.DataFrame(
            {
                "cell": np.array([spot11, spot11, elsewhere11], dtype=np.uint64),
                "hour": hours,
                "category": ["theft", "fraud", "theft"],
                "count": [2, 3, 50],
            }
        )
    )
    test = train.assign(count=[1, 1, 9])
    out = resolution_quality(train, test, area_cells=area10, resolutions=(10, 8, 9), hot_share=0.05)
    assert out["res"].tolist() == [8, 9, 10]
    assert out["cells"].tolist() == [1, 7, 49]
    assert out["hot_cells"].tolist() == [1, 1, 1]
    assert out["captured_share"].tolist() == [1.0, 1.0, 1.0]
    whole = area_km2(area10)
    assert out["area_km2"].to_numpy() == pytest.approx([whole] * 3, rel=1e-12)
    parent9 = int(h3i.cell_to_parent(target10, 9))
    in_area9 = np.asarray(h3i.cell_to_children(parent9, 10), dtype=np.uint64)
    expected = [1.0, whole / area_km2(in_area9), whole / area_km2([target10])]
    assert out["pai"].to_numpy() == pytest.approx(expected, rel=1e-12)
    assert out["pai"].to_numpy() == pytest.approx([1, 7, 49], rel=0.02)
    # Both periods put everything in the same place: RRI = 1 at every resolution.
    assert out["rri"].to_numpy() == pytest.approx([1.0, 1.0, 1.0])


def test_resolution_quality_needs_a_fine_enough_area() -> None:
    area9 = np.asarray(h3i.grid_disk(CENTRE, 1), dtype=np.uint64)
    cube = counts(area9, 1)
    with pytest.raises(ValueError, match="at least as fine"):
        resolution_quality(cube, cube, area_cells=area9, resolutions=(9, 10))
