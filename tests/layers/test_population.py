"""layers.population: residents spread from grids to cells, on hand-built shapes.

Cells and parents come from h3-py, and the expected shares are worked out by hand
(a res-7 hexagon holds the centres of exactly its 7 res-8 children).
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from layers.population import cell_population, population_by_cell

LAT, LNG = 31.35, 107.73  # the Xuanhan county seat
PARENT = h3.latlng_to_cell(LAT, LNG, 7)
CHILDREN = sorted(h3.str_to_int(c) for c in h3.cell_to_children(PARENT, 8))
CENTRE_CHILD = h3.str_to_int(h3.cell_to_center_child(PARENT, 8))


def _hexagon(cell: str) -> shapely.Polygon:
    return shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])


def _grids(**columns: list[object]) -> gpd.GeoDataFrame:
    geometry = columns.pop("geometry")
    return gpd.GeoDataFrame(columns, geometry=geometry, crs="EPSG:4326")


def _as_dict(frame: pd.DataFrame) -> dict[int, float]:
    return {int(c): float(p) for c, p in zip(frame["cell"], frame["population"], strict=True)}


def test_even_spread_over_the_seven_children() -> None:
    grids = _grids(grid_id=["g1"], population=[700], geometry=[_hexagon(PARENT)])
    got = cell_population(grids, res=8, spread_res=8)
    assert got["cell"].tolist() == CHILDREN
    assert got["population"].tolist() == pytest.approx([100.0] * 7)
    assert set(got["grid_id"]) == {"g1"}
    assert set(got["state"]) == {"ok"}
    assert got["cell"].dtype == np.uint64


def test_a_coarser_cell_gets_the_sum_of_its_children() -> None:
    grids = _grids(grid_id=["g1"], population=[700], geometry=[_hexagon(PARENT)])
    got = cell_population(grids, res=7, spread_res=8)
    assert _as_dict(got) == pytest.approx({h3.str_to_int(PARENT): 700.0})


def test_communities_draw_their_share_of_the_residents() -> None:
    # 1,000 residents in 400 households; one compound of 200 households: half the
    # residents live in the compound's cell, the other half are spread over all 7 cells.
    grids = _grids(grid_id=["g1"], population=[1000], households=[400], geometry=[_hexagon(PARENT)])
    lat, lng = h3.cell_to_latlng(h3.int_to_str(CENTRE_CHILD))
    communities = pd.DataFrame({"lng": [lng, lng], "lat": [lat, lat], "households": [200, None]})
    got = _as_dict(cell_population(grids, res=8, spread_res=8, communities=communities))
    expected = {c: 500 / 7 for c in CHILDREN}
    expected[CENTRE_CHILD] += 500
    assert got == pytest.approx(expected)


def test_communities_without_grid_households_fall_back_to_even() -> None:
    grids = _grids(grid_id=["g1"], population=[700], geometry=[_hexagon(PARENT)])
    lat, lng = h3.cell_to_latlng(h3.int_to_str(CENTRE_CHILD))
    communities = pd.DataFrame({"lng": [lng], "lat": [lat], "households": [200]})
    got = _as_dict(cell_population(grids, res=8, spread_res=8, communities=communities))
    assert got == pytest.approx(dict.fromkeys(CHILDREN, 100.0))


def test_communities_holding_more_households_than_the_grid_take_all_residents() -> None:
    grids = _grids(grid_id=["g1"], population=[700], households=[100], geometry=[_hexagon(PARENT)])
    lat, lng = h3.cell_to_latlng(h3.int_to_str(CENTRE_CHILD))
    communities = pd.DataFrame({"lng": [lng], "lat": [lat], "households": [300]})
    got = cell_population(grids, res=8, spread_res=8, communities=communities)
    assert _as_dict(got)[CENTRE_CHILD] == pytest.approx(700.0)
    others = got[got["cell"] != CENTRE_CHILD]
    assert (others["population"] == 0).all() and set(others["state"]) == {"no_population"}


def test_a_grid_too_small_for_any_centre_keeps_its_residents() -> None:
    lat, lng = h3.cell_to_latlng(h3.int_to_str(CENTRE_CHILD))
    tiny = shapely.box(lng + 0.0001, lat + 0.0001, lng + 0.0002, lat + 0.0002)  # ~10 m
    cell = h3.str_to_int(h3.latlng_to_cell(lat + 0.00015, lng + 0.00015, 8))
    grids = _grids(grid_id=["tiny"], population=[42], geometry=[tiny])
    assert _as_dict(cell_population(grids, res=8, spread_res=8)) == pytest.approx({cell: 42.0})


def test_scope_cells_without_grid_or_figure_have_no_population() -> None:
    outside = h3.str_to_int(h3.latlng_to_cell(LAT + 0.2, LNG, 8))
    grids = _grids(grid_id=["g1"], population=[pd.NA], geometry=[_hexagon(PARENT)])
    grids["population"] = grids["population"].astype("Int64")
    got = cell_population(grids, res=8, spread_res=8, cells=[*CHILDREN[:2], outside])
    assert sorted(got["cell"].tolist()) == sorted([*CHILDREN[:2], outside])
    assert got["population"].isna().all()
    assert set(got["state"]) == {"no_population"}
    assert got.loc[got["cell"] == outside, "grid_id"].isna().all()
    with pytest.raises(ValueError, match="not 8"):
        cell_population(grids, res=8, cells=[h3.str_to_int(PARENT)])


def test_refuses_repeated_grids_and_missing_columns() -> None:
    hexagon = _hexagon(PARENT)
    with pytest.raises(ValueError, match="unique"):
        cell_population(
            _grids(grid_id=["a", "a"], population=[1, 2], geometry=[hexagon] * 2), res=8
        )
    with pytest.raises(KeyError, match="population"):
        cell_population(_grids(grid_id=["a"], geometry=[hexagon]), res=8)


def test_population_by_cell_sums_rows_and_keeps_unknown_apart() -> None:
    a, b = CHILDREN[:2]
    rows = pd.DataFrame(
        {
            "cell": np.array([a, a, b, b], dtype=np.uint64),
            "population": [10.0, np.nan, np.nan, np.nan],
        }
    )
    got = population_by_cell(rows, res=8)
    assert got["cell"].tolist() == [a, b]
    assert got["population"].iloc[0] == 10.0 and np.isnan(got["population"].iloc[1])
    assert got["state"].tolist() == ["ok", "no_population"]
    up = population_by_cell(rows, res=7)
    assert _as_dict(up) == {h3.str_to_int(PARENT): 10.0}


# --- properties --------------------------------------------------------------------------

# A rectangle of about 5 x 5.5 km cut into vertical strips: a partition into grids,
# some strips thin enough to hold no cell centre at all.
BOX = (LNG - 0.025, LAT - 0.025, LNG + 0.025, LAT + 0.025)


@st.composite
def partitions(draw: st.DrawFn) -> gpd.GeoDataFrame:
    n = draw(st.integers(1, 6))
    cuts = sorted(draw(st.lists(st.floats(0.0, 1.0), min_size=n - 1, max_size=n - 1)))
    edges = [0.0, *cuts, 1.0]
    x0, y0, x1, y1 = BOX
    strips = []
    for lo, hi in itertools.pairwise(edges):
        if hi - lo < 1e-6:
            hi = lo + 1e-6  # keep every strip a polygon
        strips.append(shapely.box(x0 + lo * (x1 - x0), y0, x0 + hi * (x1 - x0), y1))
    population = draw(st.lists(st.none() | st.integers(0, 50_000), min_size=n, max_size=n))
    households = draw(st.lists(st.none() | st.integers(1, 20_000), min_size=n, max_size=n))
    precinct = draw(st.lists(st.sampled_from(["p1", "p2"]), min_size=n, max_size=n))
    return _grids(
        grid_id=[f"g{i}" for i in range(n)],
        precinct_id=precinct,
        population=pd.array(population, dtype="Int64"),
        households=pd.array(households, dtype="Int64"),
        geometry=strips,
    )


@st.composite
def communities(draw: st.DrawFn) -> pd.DataFrame | None:
    if draw(st.booleans()):
        return None
    k = draw(st.integers(0, 8))
    x0, y0, x1, y1 = BOX
    lng = draw(st.lists(st.floats(x0 - 0.01, x1 + 0.01), min_size=k, max_size=k))
    lat = draw(st.lists(st.floats(y0, y1), min_size=k, max_size=k))
    hh = draw(st.lists(st.none() | st.integers(0, 3_000), min_size=k, max_size=k))
    return pd.DataFrame({"lng": lng, "lat": lat, "households": pd.array(hh, dtype="Int64")})


@given(partitions(), communities(), st.integers(6, 9), st.integers(0, 2))
@settings(max_examples=40, deadline=None)
def test_grid_and_precinct_totals_are_preserved(
    grids: gpd.GeoDataFrame, comms: pd.DataFrame | None, res: int, extra: int
) -> None:
    got = cell_population(grids, res=res, spread_res=min(res + extra, 9), communities=comms)
    known = grids[grids["population"].notna()]
    by_grid = got.groupby("grid_id")["population"].sum()
    for gid, pop in zip(known["grid_id"], known["population"], strict=True):
        assert by_grid[gid] == pytest.approx(float(pop), rel=1e-9, abs=1e-6)
    unknown = set(grids.loc[grids["population"].isna(), "grid_id"])
    assert got.loc[got["grid_id"].isin(unknown), "population"].isna().all()
    precinct = grids.set_index("grid_id")["precinct_id"]
    by_precinct = got.assign(p=got["grid_id"].map(precinct)).groupby("p")["population"].sum()
    for p, pop in known.groupby("precinct_id")["population"].sum().items():
        assert by_precinct[p] == pytest.approx(float(pop), rel=1e-9, abs=1e-6)
    finite_positive = np.isfinite(got["population"]) & (got["population"] > 0)
    assert ((got["state"] == "ok") == finite_positive).all()


@given(partitions(), communities(), st.integers(6, 8))
@settings(max_examples=25, deadline=None)
def test_population_at_res_r_is_the_sum_of_its_children(
    grids: gpd.GeoDataFrame, comms: pd.DataFrame | None, res: int
) -> None:
    coarse = population_by_cell(cell_population(grids, res=res, communities=comms), res=res)
    fine = cell_population(grids, res=res + 1, communities=comms)
    summed = population_by_cell(fine, res=res)
    assert coarse["cell"].tolist() == summed["cell"].tolist()
    np.testing.assert_allclose(coarse["population"], summed["population"], rtol=1e-9, atol=1e-6)
    assert coarse["state"].tolist() == summed["state"].tolist()
