"""Known answers for incident counts on hexagons (layers/incident_heat.py).

The cube is built by hand from cells chosen with h3-py, and parents are taken with h3-py
too, so the expected numbers do not come from the code under test.
"""

from __future__ import annotations

import itertools

import h3
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.schema import INCIDENT_CATEGORIES
from layers.incident_heat import (
    decay_weights,
    incident_counts,
    incident_counts_by_bin,
    incident_heat,
    last_days,
)
from tests.cube_rows import centre_cell, exact_rows, point_cells

# Three res-11 cells near the county seat: A and B share a res-8 parent, C lies ~3 km away.
A = h3.str_to_int(h3.latlng_to_cell(31.3500, 107.7300, 11))
B = h3.str_to_int(h3.latlng_to_cell(31.3502, 107.7302, 11))
C = h3.str_to_int(h3.latlng_to_cell(31.3800, 107.7300, 11))
# The res-8 cells their points (the cells' centres) fall in, by h3-py: counts at res 8
# are of the hexagon a point lies in, not of its res-11 cell's parent (H3 is not nested).
P_AB = centre_cell(A, 8)
P_C = centre_cell(C, 8)


@pytest.fixture
def cube() -> pd.DataFrame:
    rows = [
        # cell, hour, category, count
        (A, "2026-11-20 08:00", "theft", 2),
        (A, "2026-11-20 09:00", "theft", 1),  # A: 3 thefts on 20 Nov
        (A, "2026-11-21 22:00", "fraud", 4),
        (B, "2026-11-20 08:00", "theft", 5),
        (C, "2026-11-24 23:00", "dispute", 7),
        (C, "2026-10-01 10:00", "theft", 100),  # long before the window
    ]
    frame = pd.DataFrame(rows, columns=["cell", "hour", "category", "count"])
    return exact_rows(
        frame.astype(
            {"cell": np.uint64, "hour": "datetime64[us]", "category": str, "count": np.int32}
        )
    )


def _as_dict(frame: pd.DataFrame) -> dict[int, int]:
    return {int(c): int(n) for c, n in zip(frame["cell"], frame["count"], strict=True)}


def test_preconditions_of_the_fixture() -> None:
    assert A != B
    assert centre_cell(B, 8) == P_AB
    assert P_AB != P_C
    # Here the points' res-8 cells are also their res-11 cells' parents, so the areal
    # population (apportioned by parents) and the counts meet in the same hexagon.
    assert h3.str_to_int(h3.cell_to_parent(h3.int_to_str(A), 8)) == P_AB


def test_three_incidents_in_one_cell_count_three(cube: pd.DataFrame) -> None:
    result = incident_counts(
        cube, res=11, since="2026-11-20", until="2026-11-21", categories=["theft"]
    )
    assert _as_dict(result) == {A: 3, B: 5}


def test_a_coarser_resolution_counts_the_points_in_each_hexagon(cube: pd.DataFrame) -> None:
    result = incident_counts(cube, res=8, since="2026-11-01", until="2026-11-26")
    assert _as_dict(result) == {P_AB: 3 + 4 + 5, P_C: 7}
    assert result["cell"].dtype == np.uint64
    assert result["count"].dtype == np.int64
    assert result["cell"].is_monotonic_increasing


def test_window_is_half_open(cube: pd.DataFrame) -> None:
    result = incident_counts(cube, res=11, since="2026-11-20 09:00", until="2026-11-24 23:00")
    assert _as_dict(result) == {A: 1 + 4}


def test_category_filter(cube: pd.DataFrame) -> None:
    result = incident_counts(
        cube, res=8, since="2026-11-01", until="2026-11-26", categories=["fraud", "dispute"]
    )
    assert _as_dict(result) == {P_AB: 4, P_C: 7}
    none = incident_counts(cube, res=8, since="2026-11-01", until="2026-11-26", categories=[])
    assert none.empty
    assert list(none.columns) == ["cell", "count"]


def test_inputs_are_not_modified(cube: pd.DataFrame) -> None:
    before = cube.copy()
    incident_counts(cube, res=6, since="2026-01-01", until="2027-01-01", categories=["theft"])
    pd.testing.assert_frame_equal(cube, before)


def test_refuses_unknown_categories_finer_resolution_and_reversed_window(
    cube: pd.DataFrame,
) -> None:
    with pytest.raises(ValueError, match="unknown incident categories"):
        incident_counts(cube, res=8, since="2026-11-01", until="2026-11-26", categories=["x"])
    with pytest.raises(ValueError, match="finer res 12"):
        incident_counts(cube, res=12, since="2026-11-01", until="2026-11-26")
    with pytest.raises(ValueError, match="before it starts"):
        incident_counts(cube, res=8, since="2026-11-26", until="2026-11-01")
    with pytest.raises(ValueError, match="lacks columns"):
        incident_counts(cube.drop(columns="hour"), res=8, since="2026-11-01", until="2026-11-26")


def test_last_days_ends_at_midnight_after_the_data_s_last_hour(cube: pd.DataFrame) -> None:
    since, until = last_days(cube, days=30)
    assert until == pd.Timestamp("2026-11-25")
    assert since == pd.Timestamp("2026-10-26")
    with pytest.raises(ValueError, match="empty"):
        last_days(cube.iloc[:0], days=30)


# --- incident_heat: rates, decay, states ---------------------------------------------------


def _cube(rows: list[tuple[int, str, str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["cell", "hour", "category", "count"])
    return exact_rows(
        frame.astype(
            {"cell": np.uint64, "hour": "datetime64[us]", "category": str, "count": np.int32}
        )
    )


def _population(pairs: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"cell": np.array(list(pairs), dtype=np.uint64), "population": list(pairs.values())}
    )


def test_three_incidents_among_1500_residents_are_2_per_1000(cube: pd.DataFrame) -> None:
    heat = incident_heat(
        cube,
        res=11,
        since="2026-11-20",
        until="2026-11-21",
        categories=["theft"],
        population=_population({A: 1500.0, B: 500.0}),
    )
    row = heat.set_index("cell").loc[A]
    assert row["count"] == 3
    assert row["population"] == 1500.0
    assert row["rate_per_1000"] == pytest.approx(2.0)  # 3 / 1500 x 1000
    assert row["state"] == "ok"
    assert heat.set_index("cell").loc[B, "rate_per_1000"] == pytest.approx(10.0)  # 5 / 500
    assert heat["value"].tolist() == pytest.approx(heat["rate_per_1000"].tolist())


def test_population_of_children_is_summed_into_the_parent(cube: pd.DataFrame) -> None:
    # A and B (res 11) share the res-8 parent P_AB: 750 + 750 residents, 12 incidents.
    heat = incident_heat(
        cube,
        res=8,
        since="2026-11-01",
        until="2026-11-26",
        population=_population({A: 750.0, B: 750.0}),
    ).set_index("cell")
    assert heat.loc[P_AB, "population"] == 1500.0
    assert heat.loc[P_AB, "rate_per_1000"] == pytest.approx(12 / 1500 * 1000)


def test_a_half_life_of_7_days_halves_an_incident_7_days_old() -> None:
    cube = _cube(
        [
            (A, "2026-11-13 00:00", "theft", 1),  # 7 days before `until`: 0.5
            (A, "2026-11-06 00:00", "theft", 2),  # 14 days: 2 x 0.25
            (C, "2026-11-19 12:00", "theft", 1),  # 12 hours: 0.5 ** (0.5 / 7)
        ]
    )
    heat = incident_heat(
        cube, res=11, since="2026-11-01", until="2026-11-20", half_life_days=7
    ).set_index("cell")
    assert heat.loc[A, "count"] == 3
    assert heat.loc[A, "weighted"] == pytest.approx(0.5 + 2 * 0.25)
    assert heat.loc[C, "weighted"] == pytest.approx(2 ** (-0.5 / 7))
    assert heat.loc[A, "value"] == pytest.approx(1.0)  # no population: the weighted count
    weights = decay_weights(
        pd.Series(pd.to_datetime(["2026-11-13"])), until="2026-11-20", half_life_days=7
    )
    assert weights.tolist() == [0.5]
    with pytest.raises(ValueError, match="positive"):
        incident_heat(cube, res=11, since="2026-11-01", until="2026-11-20", half_life_days=0)


def test_decayed_rate_is_the_weighted_count_per_1000_residents() -> None:
    cube = _cube([(A, "2026-11-13 00:00", "theft", 4)])
    heat = incident_heat(
        cube,
        res=11,
        since="2026-11-01",
        until="2026-11-20",
        half_life_days=7,
        population=_population({A: 1000.0}),
    )
    assert heat["rate_per_1000"].tolist() == pytest.approx([4.0])  # from the plain count
    assert heat["value"].tolist() == pytest.approx([2.0])  # 4 x 0.5 per 1,000


def test_cells_without_population_have_no_rate(cube: pd.DataFrame) -> None:
    heat = incident_heat(
        cube,
        res=11,
        since="2026-11-01",
        until="2026-11-26",
        population=_population({A: 0.0, B: np.nan}),
    )
    assert (heat["state"] == "no_population").all()  # A: zero residents, B: unknown, C: none
    assert heat["rate_per_1000"].isna().all() and heat["value"].isna().all()
    assert heat["class"].isna().all()
    assert heat.attrs["breaks"] == []
    plain = incident_heat(cube, res=11, since="2026-11-01", until="2026-11-26")
    assert (plain["state"] == "no_population").all() and plain["rate_per_1000"].isna().all()
    assert plain["value"].tolist() == plain["count"].tolist()
    assert plain["class"].notna().all()


def test_an_area_gives_exactly_its_cells_with_zeros(cube: pd.DataFrame) -> None:
    quiet = h3.str_to_int(h3.latlng_to_cell(31.40, 107.80, 11))
    heat = incident_heat(
        cube,
        res=11,
        since="2026-11-01",
        until="2026-11-26",
        cells=[quiet, A, A],
        population=_population({quiet: 2000.0}),
    )
    assert heat["cell"].tolist() == sorted([quiet, A])  # B and C lie outside the area
    row = heat.set_index("cell").loc[quiet]
    assert row["count"] == 0 and row["rate_per_1000"] == 0.0 and row["state"] == "ok"
    with pytest.raises(ValueError, match="resolution 11, not 8"):
        incident_heat(cube, res=8, since="2026-11-01", until="2026-11-26", cells=[A])


def test_classes_follow_the_breaks(cube: pd.DataFrame) -> None:
    heat = incident_heat(cube, res=11, since="2026-11-01", until="2026-11-26", k=3)
    # counts A 7, B 5, C 7: two distinct values, so two classes with breaks 5 and 7.
    assert heat.attrs["breaks"] == [5.0, 7.0]
    assert dict(zip(heat["cell"], heat["class"], strict=True)) == {A: 1, B: 0, C: 1}


def test_heat_counts_agree_with_incident_counts(cube: pd.DataFrame) -> None:
    window = {"since": "2026-10-01", "until": "2026-11-26", "categories": ["theft", "fraud"]}
    heat = incident_heat(cube, res=9, **window)
    counts = incident_counts(cube, res=9, **window)
    pd.testing.assert_frame_equal(heat[["cell", "count"]], counts)


def test_heat_does_not_modify_its_inputs(cube: pd.DataFrame) -> None:
    population = _population({A: 10.0})
    before, pop_before = cube.copy(), population.copy()
    incident_heat(
        cube,
        res=8,
        since="2026-11-01",
        until="2026-11-26",
        population=population,
        half_life_days=3,
    )
    pd.testing.assert_frame_equal(cube, before)
    pd.testing.assert_frame_equal(population, pop_before)


# --- properties --------------------------------------------------------------------------

T0 = pd.Timestamp("2026-10-01")


@st.composite
def cubes(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 30))
    rows = []
    for _ in range(n):
        lat = draw(st.floats(31.30, 31.40))
        lng = draw(st.floats(107.68, 107.78))
        hour = T0 + pd.Timedelta(hours=draw(st.integers(0, 24 * 60)))
        category = draw(st.sampled_from(list(INCIDENT_CATEGORIES)[:4]))
        rows.append(
            {
                **point_cells(lat, lng),
                "hour": hour,
                "category": category,
                "count": draw(st.integers(1, 5)),
            }
        )
    columns = ["cell", *(f"cell_{r}" for r in range(6, 11)), "hour", "category", "count"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype(
        {
            **{c: np.uint64 for c in columns if c.startswith("cell")},
            "hour": "datetime64[us]",
            "category": str,
            "count": np.int32,
        }
    )


@given(cubes(), st.integers(6, 10), st.none() | st.floats(0.5, 60))
@settings(max_examples=40, deadline=None)
def test_counts_at_res_r_are_those_of_the_points_in_each_res_r_hexagon(
    cube: pd.DataFrame, res: int, half_life: float | None
) -> None:
    window = {"since": T0, "until": T0 + pd.Timedelta(days=61), "half_life_days": half_life}
    coarse = incident_heat(cube, res=res, **window)
    # The reference: each row's point indexed at ``res`` by h3-py (``cell_<res>``, made by
    # point_cells), weighted as the layer weighs a row.
    reference = cube.assign(cell=cube[f"cell_{res}"])
    weighted = incident_heat(
        reference.drop(columns=[f"cell_{r}" for r in range(6, 11)]), res=res, **window
    )
    measures = ["count"] if half_life is None else ["count", "weighted"]
    summed = weighted.set_index("cell")[measures]
    assert coarse["cell"].tolist() == summed.index.tolist()
    assert coarse["count"].tolist() == summed["count"].tolist()
    assert int(coarse["count"].sum()) == int(cube["count"].sum())
    if half_life is not None:
        np.testing.assert_allclose(coarse["weighted"], summed["weighted"], rtol=1e-12)


@given(
    cubes(),
    st.lists(st.none() | st.just(0.0) | st.floats(0.001, 1e6), min_size=1, max_size=30),
)
@settings(max_examples=40, deadline=None)
def test_no_population_never_has_a_finite_rate(
    cube: pd.DataFrame, figures: list[float | None]
) -> None:
    cells = cube["cell"].drop_duplicates().to_numpy(dtype=np.uint64)[: len(figures)]
    population = pd.DataFrame(
        {"cell": cells, "population": [np.nan if f is None else f for f in figures[: cells.size]]}
    )
    heat = incident_heat(
        cube, res=11, since=T0, until=T0 + pd.Timedelta(days=61), population=population
    )
    missing = heat["state"] == "no_population"
    assert heat.loc[missing, "rate_per_1000"].isna().all()
    assert heat.loc[missing, "value"].isna().all()
    assert heat.loc[missing, "class"].isna().all()
    ok = ~missing
    assert np.isfinite(heat.loc[ok, "rate_per_1000"]).all()
    assert (heat.loc[ok, "population"] > 0).all()
    assert set(heat["state"]) <= {"ok", "no_population"}


@pytest.mark.parametrize("res", [8, 11])
@pytest.mark.parametrize("categories", [None, ["theft"], []])
def test_counts_by_bin_are_the_counts_of_each_bin(
    cube: pd.DataFrame, res: int, categories: list[str] | None
) -> None:
    edges = [
        pd.Timestamp(t)
        for t in ("2026-10-01", "2026-11-20 09:00", "2026-11-21", "2026-11-24 23:00", "2026-11-25")
    ]
    bins = list(itertools.pairwise(edges))
    together = incident_counts_by_bin(cube, res=res, bins=bins, categories=categories)
    one_by_one = pd.concat(
        [
            incident_counts(cube, res=res, since=a, until=b, categories=categories).assign(bin=i)
            for i, (a, b) in enumerate(bins)
        ],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(together, one_by_one)
    if categories is None:  # every hour on a bin's edge falls in the later bin
        assert set(together["bin"]) == {0, 1, 2, 3}


def test_counts_by_bin_refuse_bins_with_gaps_or_out_of_order(cube: pd.DataFrame) -> None:
    day = pd.Timedelta(days=1)
    t = pd.Timestamp("2026-11-20")
    assert incident_counts_by_bin(cube, res=8, bins=[]).empty
    with pytest.raises(ValueError, match="consecutive"):
        incident_counts_by_bin(cube, res=8, bins=[(t, t + day), (t + 2 * day, t + 3 * day)])
    with pytest.raises(ValueError, match="consecutive"):
        incident_counts_by_bin(cube, res=8, bins=[(t + day, t)])
