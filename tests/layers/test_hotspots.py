"""Tests for layers.hotspots: Getis-Ord Gi* on H3 cells.

Known answers are derived by hand in the comments; the agreement with PySAL (esda) is
checked on a few hundred cells with a planted cluster, for k = 1 and k = 2.
"""

from __future__ import annotations

import esda
import h3.api.numpy_int as h3i
import libpysal
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from layers.hotspots import (
    HOTSPOT_CLASSES,
    MIN_CELLS,
    TOO_SMALL_REASONS,
    gi_star,
    neighbour_weights,
    p_to_fdr,
    too_small_label,
    z_to_class,
)

# The county seat of Xuanhan, res 9 (~0.1 km² cells).
CENTRE = int(h3i.latlng_to_cell(31.35, 107.73, 9))


def disk(cell: int, k: int) -> np.ndarray:
    return np.sort(np.asarray(h3i.grid_disk(cell, k), dtype=np.uint64))


def frame(cells: np.ndarray, values: np.ndarray | float) -> pd.DataFrame:
    return pd.DataFrame({"cell": np.asarray(cells, dtype=np.uint64), "count": values})


def test_planted_block_is_hot_99_with_hand_computed_z() -> None:
    # Area: the 37 cells within 3 steps; the centre and its 6 neighbours hold v = 10 each.
    # n = 37, mean = 7v/37, S^2 = 7v^2/37 - (7v/37)^2 = 210 v^2 / 37^2.
    # Centre: W = 7, sum = 7v -> numerator 7v - 7*7v/37 = 210v/37,
    #   denominator S*sqrt((37*7 - 49)/36) = (v*sqrt(210)/37)*(sqrt(210)/6) = 210v/222,
    #   z = 222/37 = 6 exactly.
    # A ring-1 cell: W = 7, 4 block cells in its disk -> numerator 4v - 49v/37 = 99v/37,
    #   z = (99/37) * (222/210) = 99*6/210 = 2.828571...
    area = disk(CENTRE, 3)
    block = disk(CENTRE, 1)
    out = gi_star(frame(block, 10), area_cells=area)
    by_cell = out.set_index("cell")
    assert by_cell.loc[np.uint64(CENTRE), "gi_z"] == pytest.approx(6.0, abs=1e-12)
    ring = block[block != np.uint64(CENTRE)]
    assert by_cell.loc[ring, "gi_z"].to_numpy() == pytest.approx(99 * 6 / 210, abs=1e-12)
    assert (by_cell.loc[block, "class"] == "hot_99").all()
    assert by_cell.loc[np.uint64(CENTRE), "neighbours"] == 7
    assert by_cell.loc[np.uint64(CENTRE), "label_en"] == "Hot spot, 99 % confidence"
    assert by_cell.loc[np.uint64(CENTRE), "label_zh"] == HOTSPOT_CLASSES["hot_99"].zh
    # The p-value is two-sided normal: z = 6 -> 2 * (1 - Phi(6)) ~ 1.97e-9.
    assert by_cell.loc[np.uint64(CENTRE), "p_value"] == pytest.approx(1.973e-9, rel=1e-3)


def test_every_area_cell_is_reported_and_missing_cells_are_zero() -> None:
    area = disk(CENTRE, 3)
    out = gi_star(frame(np.array([CENTRE]), 3), area_cells=area)
    assert len(out) == 37
    assert out["cell"].to_numpy().tolist() == sorted(area.tolist())
    assert out["value"].sum() == 3
    assert (out.loc[out["cell"] != np.uint64(CENTRE), "value"] == 0).all()


def planted_cluster() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """331 cells (10 rings) of Poisson(1) counts with a planted cluster of Poisson(8)."""
    area = disk(CENTRE, 10)
    rng = np.random.default_rng(20240611)
    y = rng.poisson(1.0, area.size).astype(np.float64)
    seed = int(h3i.grid_disk(CENTRE, 6)[-1])
    cluster = np.isin(area, disk(seed, 2))
    y[cluster] = rng.poisson(8.0, int(cluster.sum()))
    return area, y, cluster


@pytest.mark.parametrize("k", [1, 2])
def test_z_scores_equal_esda_g_local_star(k: int) -> None:
    area, y, cluster = planted_cluster()

    # The neighbour list built independently of layers.hotspots: each cell's k-disk inside
    # the area, *without* the cell itself. esda.G_Local with star=True, transform="B" and a
    # zero diagonal fills the diagonal with 1 (esda.getisord._infer_star_and_structure_w,
    # fill_diagonal(w, 1)), i.e. the cell counts as its own neighbour with weight 1, which
    # is exactly our binary Gi* weight. esda then takes the mean and the population
    # variance over all n values (no cell removed when star is True), as we do.
    index = {int(c): i for i, c in enumerate(area)}
    neighbours = {
        i: [index[int(j)] for j in h3i.grid_disk(int(c), k) if int(j) in index and int(j) != c]
        for i, c in enumerate(area)
    }
    w = libpysal.weights.W(neighbours, silence_warnings=True)
    expected = esda.G_Local(y, w, star=True, transform="B", permutations=0)

    out = gi_star(frame(area, y), area_cells=area, k=k)
    assert np.abs(out["gi_z"].to_numpy() - expected.Zs).max() < 1e-9
    assert out["p_value"].to_numpy() == pytest.approx(2 * expected.p_norm, abs=1e-12)
    cardinality = np.array([len(neighbours[i]) for i in range(area.size)]) + 1
    assert out["neighbours"].to_numpy().tolist() == cardinality.tolist()
    # The planted cluster is found (so the comparison is not of two empty maps).
    assert (out.loc[cluster, "class"] == "hot_99").any()


@pytest.mark.parametrize("value", [0.0, 5.0, 0.1])
def test_constant_field_is_not_significant_with_zero_z(value: float) -> None:
    # No variation, no pattern: S = 0 and Gi* is 0/0; we report z = 0, p = 1.
    area = disk(CENTRE, 2)
    out = gi_star(frame(area, value), area_cells=area)
    assert (out["gi_z"] == 0).all()
    assert (out["p_value"] == 1).all()
    assert (out["class"] == "not_significant").all()


def test_no_incidents_at_all_is_not_significant() -> None:
    out = gi_star(frame(np.array([], dtype=np.uint64), []), area_cells=disk(CENTRE, 1))
    assert len(out) == 7
    assert (out["class"] == "not_significant").all()


def test_neighbours_stop_at_the_area_edge() -> None:
    # Area = a cell and its 6 neighbours: the centre sees all 7, each ring cell sees
    # itself, the centre and its 2 ring neighbours = 4.
    weights = neighbour_weights(disk(CENTRE, 1), k=1)
    counts = np.asarray(weights.sum(axis=1)).ravel()
    assert sorted(counts.tolist()) == [4, 4, 4, 4, 4, 4, 7]
    assert (weights.diagonal() == 1).all()
    assert (weights != weights.T).nnz == 0


def test_z_to_class_uses_strict_arcgis_thresholds() -> None:
    z = [3.0, 2.576, 2.0, 1.96, 1.7, 1.645, 0.0, -1.7, -2.0, -2.6]
    assert z_to_class(z).tolist() == [
        "hot_99",
        "hot_95",
        "hot_95",
        "hot_90",
        "hot_90",
        "not_significant",
        "not_significant",
        "cold_90",
        "cold_95",
        "cold_99",
    ]


def test_rows_outside_the_area_are_ignored_and_input_is_not_mutated() -> None:
    area = disk(CENTRE, 2)
    far = int(h3i.latlng_to_cell(31.6, 108.0, 9))
    values = frame(np.array([CENTRE, far], dtype=np.uint64), [4, 100])
    before = values.copy()
    out = gi_star(values, area_cells=area)
    pd.testing.assert_frame_equal(values, before)
    assert out["value"].sum() == 4
    assert np.uint64(far) not in set(out["cell"])


def test_bad_inputs_raise_clear_errors() -> None:
    area = disk(CENTRE, 1)
    with pytest.raises(ValueError, match="repeat"):
        gi_star(frame(np.array([CENTRE, CENTRE]), [1, 2]), area_cells=area)
    with pytest.raises(ValueError, match="NaN"):
        gi_star(frame(np.array([CENTRE]), [np.nan]), area_cells=area)
    child = int(h3i.cell_to_center_child(CENTRE, 10))
    with pytest.raises(ValueError, match="resolution"):
        gi_star(frame(np.array([child]), [1]), area_cells=area)
    with pytest.raises(ValueError, match="mix H3 resolutions"):
        gi_star(frame(area, 1), area_cells=np.append(area, np.uint64(child)))
    with pytest.raises(ValueError, match="lack column"):
        gi_star(pd.DataFrame({"cell": area}), area_cells=area)


AREA_19 = disk(CENTRE, 2)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.integers(0, 50), min_size=19, max_size=19),
    scale=st.floats(0.1, 100.0),
    shift=st.floats(-100.0, 100.0),
)
def test_gi_star_z_is_invariant_under_affine_rescaling(
    values: list[int], scale: float, shift: float
) -> None:
    # Gi* standardises by the area's mean and spread: counts and "counts x 10 + 3"
    # must map to the same hot spots, and negated values to mirrored ones.
    x = np.asarray(values, dtype=np.float64)
    base = gi_star(frame(AREA_19, x), area_cells=AREA_19)["gi_z"].to_numpy()
    moved = gi_star(frame(AREA_19, x * scale + shift), area_cells=AREA_19)["gi_z"].to_numpy()
    flipped = gi_star(frame(AREA_19, -x), area_cells=AREA_19)["gi_z"].to_numpy()
    assert moved == pytest.approx(base, abs=1e-7)
    assert flipped == pytest.approx(-base, abs=1e-9)


# --- false discovery rate -----------------------------------------------------------


def test_p_to_fdr_on_the_benjamini_hochberg_1995_example() -> None:
    # The 15 p-values of Benjamini & Hochberg (1995), section 4: at q = 0.05 the
    # procedure rejects the four smallest (0.0095 <= 4/15 * 0.05; 0.0201 > 5/15 * 0.05
    # and no later p_(i) is below i/15 * 0.05), where unadjusted testing rejects nine.
    p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459]
    p += [0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0]
    q = p_to_fdr(p)
    assert (q < 0.05).tolist() == [True] * 4 + [False] * 11
    # Adjusted: p_(i) * 15 / i, each no larger than the next one's: 0.0001 * 15 = 0.0015,
    # 0.0004 * 15/2 = 0.003, 0.0019 * 15/3 = 0.0095, 0.0095 * 15/4 = 0.035625.
    assert q[:4] == pytest.approx([0.0015, 0.003, 0.0095, 0.035625], abs=1e-12)
    assert q == pytest.approx(stats.false_discovery_control(p, method="bh"), abs=1e-15)


def test_p_to_fdr_equals_scipy_with_ties_in_any_shape() -> None:
    rng = np.random.default_rng(3)
    p = np.round(rng.uniform(0, 0.2, size=(20, 6)), 3)  # many ties
    p[0, :3] = 1.0
    expected = stats.false_discovery_control(p.ravel(), method="bh").reshape(p.shape)
    assert p_to_fdr(p) == pytest.approx(expected, abs=1e-15)
    assert p_to_fdr([]).shape == (0,)


def test_z_to_class_with_fdr_needs_both_the_z_and_the_adjusted_p() -> None:
    z = [3.0, 3.0, 3.0, 2.0, -3.0, -2.0, 1.0]
    q = [0.005, 0.02, 0.07, 0.005, 0.2, 0.03, 0.001]
    assert z_to_class(z, p_fdr=q).tolist() == [
        "hot_99",
        "hot_95",  # z says 99 %, BH only 95 %
        "hot_90",
        "hot_95",  # BH would allow 99 %, z only 95 %: FDR never raises a bin
        "not_significant",
        "cold_95",
        "not_significant",
    ]
    with pytest.raises(ValueError, match="shape"):
        z_to_class([1.0, 2.0], p_fdr=[0.1])


def test_fdr_moves_the_planted_ring_to_95_but_keeps_the_centre_at_99() -> None:
    # The 37-cell block of the first test: centre z = 6 (p = 1.973e-9), its 6 ring cells
    # z = 2.8286 (p = 0.0046756), every other |z| < 1. Sorted, the centre is p_(1) and the
    # ring p_(2..7), so BH gives the ring 0.0046756 * 37/7 = 0.024714 (passes at 0.05,
    # fails at 0.01: 99 % -> 95 %) and the centre 1.973e-9 * 37 = 7.3e-8 (still 99 %).
    area = disk(CENTRE, 3)
    block = disk(CENTRE, 1)
    plain = gi_star(frame(block, 10), area_cells=area).set_index("cell")
    fdr = gi_star(frame(block, 10), area_cells=area, fdr=True).set_index("cell")
    centre = np.uint64(CENTRE)
    ring = block[block != centre]
    p_ring = 2 * stats.norm.sf(99 * 6 / 210)
    assert fdr.loc[ring, "p_fdr"].to_numpy() == pytest.approx(p_ring * 37 / 7, rel=1e-12)
    assert fdr.loc[centre, "p_fdr"] == pytest.approx(2 * stats.norm.sf(6.0) * 37, rel=1e-9)
    assert (plain.loc[ring, "class"] == "hot_99").all()
    assert (fdr.loc[ring, "class"] == "hot_95").all()
    assert (fdr.loc[ring, "label_en"] == "Hot spot, 95 % confidence").all()
    assert plain.loc[centre, "class"] == fdr.loc[centre, "class"] == "hot_99"
    # Nothing else changes: the z-scores, the raw p-values, the other classes.
    assert (plain.drop(index=ring)["class"] == fdr.drop(index=ring)["class"]).all()
    pd.testing.assert_series_equal(plain["p_value"], fdr["p_value"])
    pd.testing.assert_series_equal(plain["p_fdr"], fdr["p_fdr"])
    assert plain.attrs["fdr"] is False and fdr.attrs["fdr"] is True


def test_fdr_classes_equal_esda_fdr_cut_offs() -> None:
    # esda.fdr(p, alpha) is the BH cut-off (largest i alpha / n with p_(i) below it,
    # or the Bonferroni alpha / n when none is): a cell passes a level when its raw p is
    # below the cut-off of that level (and its z passes the level, as without FDR).
    area, y, _ = planted_cluster()
    plain = gi_star(frame(area, y), area_cells=area)
    out = gi_star(frame(area, y), area_cells=area, fdr=True)
    p, z = out["p_value"].to_numpy(), out["gi_z"].to_numpy()
    assert out["p_fdr"].to_numpy() == pytest.approx(
        stats.false_discovery_control(p, method="bh"), abs=1e-15
    )
    expected = np.full(area.size, "not_significant", dtype=object)
    for crit, conf in reversed(((2.576, 99), (1.960, 95), (1.645, 90))):
        cut = esda.fdr(p, (100 - conf) / 100)
        for sign, kind in ((1, "hot"), (-1, "cold")):
            expected[(p < cut) & (sign * z > crit)] = f"{kind}_{conf}"
    assert out["class"].tolist() == expected.tolist()
    # A real test: FDR changes some cells' classes and keeps others' significant ones.
    changed = out["class"] != plain["class"]
    assert changed.any()
    assert (~changed & (plain["class"] != "not_significant")).any()


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(0, 50), min_size=37, max_size=37))
def test_fdr_never_raises_confidence_nor_flips_sign(values: list[int]) -> None:
    area = disk(CENTRE, 3)
    rank = {code: i for i, code in enumerate(HOTSPOT_CLASSES)}  # hot_99 = 0 ... cold_99 = 6
    plain = gi_star(frame(area, np.asarray(values, dtype=float)), area_cells=area)
    fdr = gi_star(frame(area, np.asarray(values, dtype=float)), area_cells=area, fdr=True)
    for a, b in zip(plain["class"], fdr["class"], strict=True):
        # Distance from "not significant" (rank 3) only shrinks, on the same side.
        da, db = rank[a] - 3, rank[b] - 3
        assert abs(db) <= abs(da) and da * db >= 0


# --- a study region too small to judge ----------------------------------------------


def test_hotspot_classes_keep_their_seven_codes_in_order() -> None:
    assert list(HOTSPOT_CLASSES) == [
        "hot_99",
        "hot_95",
        "hot_90",
        "not_significant",
        "cold_90",
        "cold_95",
        "cold_99",
    ]
    assert not set(TOO_SMALL_REASONS) & set(HOTSPOT_CLASSES)
    for label in TOO_SMALL_REASONS.values():
        assert "{n}" in label.zh and "{n}" in label.en


def test_a_judgeable_region_is_not_too_small() -> None:
    out = gi_star(frame(disk(CENTRE, 1), 10), area_cells=disk(CENTRE, 3))
    assert out.attrs == {
        "fdr": False,
        "n_cells": 37,
        "too_small": False,
        "too_small_reason": None,
    }
    assert too_small_label(out) is None


def test_fewer_than_30_cells_is_too_few_but_keeps_its_z_scores() -> None:
    # 19 cells with a clear peak: Gi* still computes (ArcGIS only warns below 30), but
    # the frame says the region is too small, and the label carries the count.
    area = disk(CENTRE, 2)
    out = gi_star(frame(disk(CENTRE, 1), 10), area_cells=area)
    assert MIN_CELLS == 30
    assert out.attrs["too_small"] is True
    assert out.attrs["too_small_reason"] == "too_few"
    assert out.attrs["n_cells"] == 19
    assert (out["gi_z"] != 0).any()
    label = too_small_label(out)
    assert label is not None
    assert label.en == "Too few cells to test (the study region has 19 cells, fewer than 30)"
    assert label.zh == "样本过少，无法判断（研究区仅 19 个六边形，少于 30 个）"


def test_the_threshold_is_30_cells() -> None:
    cells = disk(CENTRE, 3)
    values = frame(np.array([CENTRE]), 5)
    assert gi_star(values, area_cells=cells[:30]).attrs["too_small"] is False
    assert gi_star(values, area_cells=cells[:29]).attrs["too_small_reason"] == "too_few"


@pytest.mark.parametrize("value", [0.0, 5.0])
def test_a_constant_field_has_no_variance_to_test(value: float) -> None:
    area = disk(CENTRE, 3)
    out = gi_star(frame(area, value), area_cells=area, fdr=True)
    assert out.attrs["too_small_reason"] == "no_variance"
    assert out.attrs["too_small"] is True
    assert (out["class"] == "not_significant").all()  # still one of the seven codes
    assert (out["p_fdr"] == 1).all()
    label = too_small_label(out)
    assert label is not None and label.en.startswith("Nothing to test: all 37 cells")


def test_no_incidents_in_a_tiny_region_is_too_few_first() -> None:
    out = gi_star(frame(np.array([], dtype=np.uint64), []), area_cells=disk(CENTRE, 1))
    assert out.attrs["too_small_reason"] == "too_few"
    empty = gi_star(frame(np.array([], dtype=np.uint64), []), area_cells=[])
    assert len(empty) == 0 and empty.attrs["n_cells"] == 0
    assert empty.attrs["too_small_reason"] == "too_few"
