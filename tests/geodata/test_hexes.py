"""H3 helpers: published known answers, agreement with h3-py, parents and conversions."""

from __future__ import annotations

import h3.api.basic_int as h3i
import h3.api.basic_str as h3s
import numpy as np
import polars as pl
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.hexes import (
    NULL_CELL,
    cell_to_boundary,
    cell_to_str,
    cells_res,
    cells_to_lnglat,
    cells_to_parent,
    cells_to_polygons,
    cells_to_str,
    coarser_cells,
    lnglat_to_cells,
    parent_expr,
    str_to_cell,
    strs_to_cells,
)

# (lat, lng, res, cell) published in h3-py's own tests (tests/test_basic_str.py,
# tests/test_lib/test_apis/test_memview_int.py, tests/test_h3.py) and polars-h3's.
KNOWN_CELLS = [
    (37.7752702151959, -122.418307270836, 9, "8928308280fffff"),
    (37.3615593, -122.0553238, 5, "85283473fffffff"),
    (0.0, 0.0, 1, "81757ffffffffff"),  # published as the integer 583031433791012863
]

# (child, res, parent) from H3's cellToParent CLI test and h3's hierarchy tests.
KNOWN_PARENTS = [
    ("8928342e20fffff", 3, "832834fffffffff"),
    ("8a2a1072b59ffff", 6, "862a1072fffffff"),
    ("8a2a1072b59ffff", 5, "852a1073fffffff"),
    ("8a2a1072b59ffff", 4, "842a107ffffffff"),
    ("8a2a1072b59ffff", 3, "832a10fffffffff"),
    ("8a2a1072b59ffff", 0, "802bfffffffffff"),
]

lats = st.floats(-89.9, 89.9, allow_nan=False)
lngs = st.floats(-180.0, 180.0, allow_nan=False)
resolutions = st.integers(0, 15)


@pytest.mark.parametrize(("lat", "lng", "res", "expected"), KNOWN_CELLS)
def test_known_cells(lat: float, lng: float, res: int, expected: str) -> None:
    cells = lnglat_to_cells([lng], [lat], res)
    assert cells.dtype == np.uint64
    assert cell_to_str(cells[0]) == expected


def test_known_cell_as_integer() -> None:
    # h3-py's memview_int test: the same San Francisco point as an integer.
    assert lnglat_to_cells([-122.418307270836], [37.7752702151959], 9)[0] == 617700169958293503
    assert str_to_cell("8928308280fffff") == 0x8928308280FFFFF == 617700169958293503
    # polars-h3's and DuckDB's h3 tests: (0, 0) at res 1
    assert lnglat_to_cells([0.0], [0.0], 1)[0] == 583031433791012863


@pytest.mark.parametrize(("child", "res", "parent"), KNOWN_PARENTS)
def test_known_parents(child: str, res: int, parent: str) -> None:
    got = cells_to_parent(np.array([str_to_cell(child)], dtype=np.uint64), res)
    assert cell_to_str(got[0]) == parent


def test_points_that_cannot_be_placed_get_the_null_cell() -> None:
    lng = [107.73, np.nan, 107.73, np.inf, 181.0, 107.73]
    lat = [31.35, 31.35, np.nan, 31.35, 31.35, -91.0]
    cells = lnglat_to_cells(lng, lat, 11)
    assert cells[0] != NULL_CELL
    assert list(cells[1:]) == [NULL_CELL] * 5


def test_lengths_must_agree() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        lnglat_to_cells([1.0, 2.0], [1.0], 5)


@pytest.mark.parametrize("res", [-1, 16])
def test_bad_resolution(res: int) -> None:
    with pytest.raises(ValueError, match="resolution"):
        lnglat_to_cells([107.7], [31.3], res)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(lngs, lats), min_size=1, max_size=40), resolutions)
def test_agrees_with_h3py(points: list[tuple[float, float]], res: int) -> None:
    lng = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    expected = [h3i.latlng_to_cell(la, lo, res) for lo, la in points]
    assert lnglat_to_cells(lng, lat, res).tolist() == expected


def _coarser_reference(lng: np.ndarray, lat: np.ndarray, res: int) -> list[int]:
    return [
        h3i.latlng_to_cell(la, lo, res) if np.isfinite(lo) and np.isfinite(la) else 0
        for lo, la in zip(lng, lat, strict=True)
    ]


def _check_coarser(lng: np.ndarray, lat: np.ndarray, base: int, coarse: list[int]) -> None:
    frame = pl.DataFrame({"lng": lng, "lat": lat})
    cells = lnglat_to_cells(lng, lat, base)
    got = coarser_cells(frame, cells, coarse)
    for r in coarse:
        assert got[r].tolist() == _coarser_reference(lng, lat, r), r


# Points anywhere on Earth (faces, pentagons, the antimeridian), clustered so that many
# share a base cell, and a few that cannot be placed.
@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(lngs, lats), min_size=1, max_size=12),
    st.lists(st.tuples(st.floats(-0.002, 0.002), st.floats(-0.002, 0.002)), max_size=30),
    st.integers(4, 11),
)
def test_coarser_cells_equal_latlng_to_cell_at_each_resolution(
    centres: list[tuple[float, float]], offsets: list[tuple[float, float]], base: int
) -> None:
    points = [
        (lo + dx, max(-90.0, min(90.0, la + dy)))
        for lo, la in centres
        for dx, dy in [(0, 0), *offsets]
    ]
    lng = np.array([min(180.0, max(-180.0, p[0])) for p in points] + [np.nan])
    lat = np.array([p[1] for p in points] + [31.0])
    _check_coarser(lng, lat, base, list(range(max(0, base - 5), base)))


def test_coarser_cells_of_a_dense_county_sample_equal_latlng_to_cell() -> None:
    """20,000 points in 0.2° around the county seat: base cells with many points, most
    inside their coarser cell and some straddling one of its edges, at res 6-10."""
    rng = np.random.default_rng(14)
    lng = 107.63 + 0.2 * rng.random(20_000)
    lat = 31.25 + 0.2 * rng.random(20_000)
    _check_coarser(lng, lat, 11, [6, 7, 8, 9, 10])


@settings(max_examples=80, deadline=None)
@given(lngs, lats, st.integers(0, 15), st.integers(0, 15))
def test_parent_agrees_with_h3py(lng: float, lat: float, a: int, b: int) -> None:
    child_res, parent_res = max(a, b), min(a, b)
    child = h3i.latlng_to_cell(lat, lng, child_res)
    got = cells_to_parent(np.array([child], dtype=np.uint64), parent_res)[0]
    assert got == h3i.cell_to_parent(child, parent_res)
    framed = pl.DataFrame({"cell": [child]}, schema={"cell": pl.UInt64})
    assert framed.select(parent_expr("cell", parent_res))["cell"][0] == got


@settings(max_examples=40, deadline=None)
@given(lngs, lats, st.integers(0, 13))
def test_parent_of_children_is_the_cell(lng: float, lat: float, res: int) -> None:
    cell = h3i.latlng_to_cell(lat, lng, res)
    children = np.array(h3i.cell_to_children(cell, res + 2), dtype=np.uint64)
    assert set(cells_to_parent(children, res).tolist()) == {cell}
    assert set(cells_res(children).tolist()) == {res + 2}


@pytest.mark.parametrize("res", [2, 9, 11])
def test_parents_of_pentagons(res: int) -> None:
    pentagons = np.array(h3i.get_pentagons(res), dtype=np.uint64)
    for parent_res in (0, res - 1):
        expected = [h3i.cell_to_parent(int(p), parent_res) for p in pentagons]
        assert cells_to_parent(pentagons, parent_res).tolist() == expected


def test_parent_at_own_resolution_is_the_cell_and_null_stays_null() -> None:
    cell = str_to_cell("8928308280fffff")
    got = cells_to_parent(np.array([cell, NULL_CELL], dtype=np.uint64), 9)
    assert got.tolist() == [cell, NULL_CELL]


def test_parent_cannot_be_finer() -> None:
    with pytest.raises(ValueError, match="res-10 parent of a res-9 cell"):
        cells_to_parent(np.array([str_to_cell("8928308280fffff")], dtype=np.uint64), 10)


def test_strings_round_trip() -> None:
    texts = ["8928308280fffff", "85283473fffffff", "802bfffffffffff"]
    cells = strs_to_cells(texts)
    assert cells.dtype == np.uint64
    assert cells_to_str(cells) == texts
    assert [h3s.str_to_int(t) for t in texts] == cells.tolist()


@pytest.mark.parametrize("text", ["", "lolwut", "8928308280ffff", "ffffffffffffffff"])
def test_not_a_cell(text: str) -> None:
    with pytest.raises(ValueError, match="not an H3 cell"):
        str_to_cell(text)


def test_boundary_is_a_closed_hexagon_around_the_centre() -> None:
    cell = str_to_cell("8928308280fffff")
    ring = cell_to_boundary(cell)
    assert len(ring) == 7
    assert ring[0] == ring[-1]
    lat, lng = h3i.cell_to_latlng(cell)
    polygon = cells_to_polygons(np.array([cell], dtype=np.uint64))[0]
    assert polygon.is_valid
    assert polygon.contains(shapely.Point(lng, lat))  # longitude first
    # h3-py's published first vertex of this cell (tests/test_h3.py), as (lng, lat)
    assert ring[0] == pytest.approx((-122.41719971841658, 37.775197782893386))


def test_centre_known_answer() -> None:
    # h3-py tests/test_basic_str.py::test_cell_to_latlng publishes this centre.
    lng, lat = cells_to_lnglat([h3s.str_to_int("85283473fffffff")])
    assert lat[0] == pytest.approx(37.34579337536848, abs=1e-12)
    assert lng[0] == pytest.approx(-121.97637597255124, abs=1e-12)


def test_centre_of_null_and_invalid_cells_is_nan() -> None:
    lng, lat = cells_to_lnglat(np.array([NULL_CELL, 5], dtype=np.uint64))
    assert np.isnan(lng).all() and np.isnan(lat).all()
    empty_lng, empty_lat = cells_to_lnglat(np.zeros(0, dtype=np.uint64))
    assert empty_lng.size == empty_lat.size == 0


@given(
    st.lists(st.tuples(st.floats(-179.9, 179.9), st.floats(-89.9, 89.9)), min_size=1, max_size=20),
    st.integers(0, 15),
)
@settings(max_examples=50, deadline=None)
def test_centres_agree_with_h3py(points: list[tuple[float, float]], res: int) -> None:
    cells = np.array([h3i.latlng_to_cell(lat, lng, res) for lng, lat in points], dtype=np.uint64)
    lng, lat = cells_to_lnglat(cells)
    for cell, x, y in zip(cells.tolist(), lng, lat, strict=True):
        ref_lat, ref_lng = h3i.cell_to_latlng(cell)
        # h3o (under polars-h3) and H3 differ in the last digits: ~2e-11 deg near the poles.
        assert y == pytest.approx(ref_lat, abs=1e-9)
        assert x == pytest.approx(ref_lng, abs=1e-9)
