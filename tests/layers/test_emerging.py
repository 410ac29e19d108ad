"""Tests for layers.emerging: Mann–Kendall on Gi* series and the ArcGIS pattern classes."""

from __future__ import annotations

import math
from collections.abc import Callable

import esda
import h3.api.numpy_int as h3i
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from layers.emerging import (
    EMERGING_PATTERNS,
    classify_trends,
    emerging_hotspots,
    gi_star_by_bin,
    mann_kendall,
    significant_bins,
)
from layers.hotspots import gi_star, too_small_label

CENTRE = int(h3i.latlng_to_cell(31.35, 107.73, 9))
AREA = np.sort(np.asarray(h3i.grid_disk(CENTRE, 6), dtype=np.uint64))  # 127 cells
BLOCK = np.asarray(h3i.grid_disk(CENTRE, 1), dtype=np.uint64)


# --- Mann–Kendall -------------------------------------------------------------------


def test_mann_kendall_strictly_increasing_five() -> None:
    # S = 10 (all 10 pairs increase); Var S = 5*4*15/18 = 50/3;
    # z = (10 - 1)/sqrt(50/3) = 2.2045; p = 2*(1 - Phi(2.2045)) = 0.0275.
    mk = mann_kendall([1, 2, 3, 4, 5])
    assert mk["s"][0] == 10
    assert mk["var_s"][0] == pytest.approx(50 / 3)
    assert mk["z"][0] == pytest.approx(9 / math.sqrt(50 / 3))
    assert mk["p"][0] == pytest.approx(0.0275, abs=5e-5)
    assert mk["tau"][0] == 1.0


def test_mann_kendall_tie_correction() -> None:
    # [1, 1, 2]: S = 0 + 1 + 1 = 2; one tie group of t = 2:
    # Var S = (3*2*11 - 2*1*9)/18 = 48/18; z = (2 - 1)/sqrt(48/18).
    mk = mann_kendall([1, 1, 2])
    assert mk["s"][0] == 2
    assert mk["var_s"][0] == pytest.approx(48 / 18)
    assert mk["z"][0] == pytest.approx(1 / math.sqrt(48 / 18))


def test_mann_kendall_decreasing_and_flat() -> None:
    mk = mann_kendall([[5, 4, 3, 2, 1], [2, 2, 2, 2, 2]])
    assert mk["s"].tolist() == [-10, 0]
    assert mk["z"][0] == pytest.approx(-9 / math.sqrt(50 / 3))
    assert mk["z"][1] == 0 and mk["p"][1] == 1 and mk["tau"][1] == 0


def test_mann_kendall_matches_brute_force_and_scipy_tau() -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(0, 4, size=(20, 15)).astype(np.float64)  # many ties
    mk = mann_kendall(x)
    for row, s, tau in zip(x, mk["s"], mk["tau"], strict=True):
        brute = sum(
            np.sign(row[j] - row[i]) for i in range(len(row)) for j in range(i + 1, len(row))
        )
        assert s == brute
        assert tau == pytest.approx(stats.kendalltau(np.arange(len(row)), row).statistic)


# --- pattern classes on hand-built z series (10 bins; 3 = hot, -3 = cold, 0 = neither) ---

H, C, N = 3.0, -3.0, 0.0
RISING = [2.6 + 0.2 * i for i in range(10)]  # all hot, strictly increasing
FALLING = RISING[::-1]
HOT_SERIES = {
    "new_hot": [N] * 9 + [H],
    "consecutive_hot": [N] * 7 + [H] * 3,
    "intensifying_hot": RISING,
    "persistent_hot": [H, 4.0] * 5,  # hot throughout, no trend
    "diminishing_hot": FALLING,
    "sporadic_hot": [H, N, N, H, N, N, H, N, N, H],
    "oscillating_hot": [C, N, N, N, N, N, N, N, N, H],
    "historical_hot": [H] * 9 + [N],
    "none": [N] * 10,
}


@pytest.mark.parametrize(("expected", "series"), list(HOT_SERIES.items()))
def test_hot_pattern_of_hand_built_series(expected: str, series: list[float]) -> None:
    assert classify_trends([series]).tolist() == [expected]


@pytest.mark.parametrize(("hot", "series"), list(HOT_SERIES.items()))
def test_negated_series_give_the_cold_mirror(hot: str, series: list[float]) -> None:
    # A cold spot intensifies when its z falls: negation maps each hot pattern to its
    # cold twin (and "none" to itself).
    expected = hot.replace("_hot", "_cold")
    assert classify_trends([[-z for z in series]]).tolist() == [expected]


def test_ninety_percent_hot_with_one_quiet_bin_is_still_intensifying() -> None:
    series = [N] + [2.6 + 0.2 * i for i in range(9)]  # 9 of 10 hot = 90 %, rising
    assert classify_trends([series]).tolist() == ["intensifying_hot"]


def test_precedence_now_cold_after_hot_history_is_oscillating_cold() -> None:
    assert classify_trends([[H] * 9 + [C]]).tolist() == ["oscillating_cold"]


def test_hot_only_in_the_past_and_not_now_has_no_pattern() -> None:
    # Current ArcGIS Pro: sporadic needs the last bin hot.
    assert classify_trends([[N, N, H, H, N, N, N, N, N, N]]).tolist() == ["none"]


def test_alpha_sets_what_counts_as_a_hot_bin() -> None:
    series = [[N] * 9 + [2.0]]  # p = 0.0455
    assert classify_trends(series, alpha=0.05).tolist() == ["new_hot"]
    assert classify_trends(series, alpha=0.01).tolist() == ["none"]


def test_fdr_drops_a_marginal_hot_bin_and_keeps_a_strong_one() -> None:
    # Two cells x 10 bins, 20 tests. z = 2.0 (p = 0.0455) is the second smallest p:
    # BH gives it 0.0455 * 20/2 = 0.455, not significant; z = 5 (p = 5.7e-7) gives
    # 5.7e-7 * 20 = 1.1e-5, still significant. Without FDR both are new hot spots.
    series = [[N] * 9 + [2.0], [N] * 9 + [5.0]]
    assert classify_trends(series).tolist() == ["new_hot", "new_hot"]
    assert classify_trends(series, fdr=True).tolist() == ["none", "new_hot"]


def test_significant_bins_with_fdr_equal_scipy_and_esda_over_the_whole_cube() -> None:
    # ArcGIS corrects all (cell, bin) p-values of the cube as one family.
    rng = np.random.default_rng(11)
    z = rng.normal(0.0, 1.6, size=(60, 12))
    z[:5] += 4.0  # a few strong hot series
    p = 2 * stats.norm.sf(np.abs(z))
    hot, cold = significant_bins(z, alpha=0.05, fdr=True)
    adjusted = stats.false_discovery_control(p.ravel(), method="bh").reshape(p.shape)
    expected = (adjusted < 0.05) & (p < 0.05)
    assert ((hot | cold) == expected).all()
    assert ((hot | cold) == (p < esda.fdr(p.ravel(), 0.05))).all()
    assert (hot == expected & (z > 0)).all() and (cold == expected & (z < 0)).all()
    plain_hot, plain_cold = significant_bins(z, alpha=0.05)
    # A real test: FDR keeps some significant bins and drops others.
    assert (hot | cold).sum() > 0
    assert (plain_hot | plain_cold).sum() > (hot | cold).sum()


def test_every_pattern_has_both_labels() -> None:
    assert len(EMERGING_PATTERNS) == 17
    for label in EMERGING_PATTERNS.values():
        assert label.zh and label.en


# --- end to end on counts ----------------------------------------------------------


def cube(block_value: Callable[[int], int], bins: range) -> pd.DataFrame:
    """Counts per (cell, bin): a fixed uneven background plus a block around CENTRE."""
    rows = []
    for t in bins:
        for i, cell in enumerate(AREA):
            v = 1 + (i % 3)
            if cell in BLOCK:
                v += block_value(t)
            rows.append((cell, t, v))
    return pd.DataFrame(rows, columns=["cell", "bin", "count"])


def test_growing_cluster_is_intensifying_and_labelled() -> None:
    values = cube(lambda t: 2 + 3 * t, range(12))
    before = values.copy()
    out = emerging_hotspots(values, area_cells=AREA)
    pd.testing.assert_frame_equal(values, before)
    assert out["cell"].tolist() == sorted(AREA.tolist())
    centre = out.set_index("cell").loc[np.uint64(CENTRE)]
    assert centre["class"] == "intensifying_hot"
    assert centre["label_zh"] == "加剧热点"
    assert centre["label_en"] == "Intensifying hot spot"
    assert centre["hot_bins"] == 12 and centre["bins"] == 12
    assert centre["tau"] > 0 and centre["mk_p"] < 0.05


def test_cluster_only_in_the_last_bin_is_new() -> None:
    values = cube(lambda t: 20 if t == 9 else 0, range(10))
    out = emerging_hotspots(values, area_cells=AREA).set_index("cell")
    assert out.loc[np.uint64(CENTRE), "class"] == "new_hot"
    assert out.loc[np.uint64(CENTRE), "hot_bins"] == 1


def test_quiet_bins_given_explicitly_lengthen_the_series() -> None:
    values = cube(lambda t: 20, range(3))
    out = emerging_hotspots(values, area_cells=AREA, bins=[-2, -1, 0, 1, 2])
    assert (out["bins"] == 5).all()
    # Two all-zero bins then three hot ones: a consecutive hot spot at the centre.
    assert out.set_index("cell").loc[np.uint64(CENTRE), "class"] == "consecutive_hot"


def test_gi_star_by_bin_equals_gi_star_of_each_bin() -> None:
    values = cube(lambda t: 5 * t, range(4))
    long = gi_star_by_bin(values, area_cells=AREA)
    assert len(long) == AREA.size * 4
    for t in range(4):
        one = gi_star(values[values["bin"] == t].drop(columns="bin"), area_cells=AREA)
        got = long[long["bin"] == t]["gi_z"].to_numpy()
        assert got == pytest.approx(one["gi_z"].to_numpy(), abs=1e-12)


def test_fewer_than_two_bins_is_an_error() -> None:
    with pytest.raises(ValueError, match="two time bins"):
        emerging_hotspots(cube(lambda t: 1, range(1)), area_cells=AREA)


def test_fdr_end_to_end_counts_fewer_hot_bins_and_says_so() -> None:
    values = cube(lambda t: 2 + 3 * t, range(12))
    plain = emerging_hotspots(values, area_cells=AREA)
    fdr = emerging_hotspots(values, area_cells=AREA, fdr=True)
    assert plain.attrs["fdr"] is False and fdr.attrs["fdr"] is True
    assert (fdr["hot_bins"] <= plain["hot_bins"]).all()
    assert (fdr["cold_bins"] <= plain["cold_bins"]).all()
    # The trend test is not corrected; the strong, growing cluster stays intensifying.
    pd.testing.assert_series_equal(plain["mk_p"], fdr["mk_p"])
    assert fdr.set_index("cell").loc[np.uint64(CENTRE), "class"] == "intensifying_hot"
    # hot_bins is the FDR count of the same z-scores gi_star_by_bin reports.
    z = gi_star_by_bin(values, area_cells=AREA)["gi_z"].to_numpy().reshape(AREA.size, 12)
    hot, _ = significant_bins(z, fdr=True)
    assert fdr["hot_bins"].tolist() == hot.sum(axis=1).tolist()


def test_a_region_of_19_cells_is_too_few_and_a_constant_cube_has_no_variance() -> None:
    small = np.sort(np.asarray(h3i.grid_disk(CENTRE, 2), dtype=np.uint64))
    values = cube(lambda t: 5 * t, range(10))
    out = emerging_hotspots(values, area_cells=small)
    assert out.attrs["too_small_reason"] == "too_few" and out.attrs["n_cells"] == 19
    flat = pd.DataFrame(
        {"cell": np.repeat(AREA, 10), "bin": np.tile(np.arange(10), AREA.size), "count": 2}
    )
    out = emerging_hotspots(flat, area_cells=AREA)
    assert out.attrs["too_small"] is True
    assert out.attrs["too_small_reason"] == "no_variance"
    assert (out["class"] == "none").all()
    label = too_small_label(out)
    assert label is not None and "127 cells" in label.en
    judged = emerging_hotspots(values, area_cells=AREA)
    assert judged.attrs["too_small"] is False and too_small_label(judged) is None
