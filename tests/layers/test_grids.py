"""layers.grids: the cells of an area and the zone of each cell, on tiny explicit shapes."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from layers.grids import (
    area_cells,
    area_to_cells,
    cell_centres,
    cells_to_zones,
    points_to_zones,
    zone_cells,
)

# Near the Xuanhan county seat (lat 31.35 N, lng 107.73 E).
LAT, LNG = 31.35, 107.73


def _hexagon(cell: int) -> shapely.Polygon:
    return shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(h3.int_to_str(cell))])


def test_area_cells_of_a_parent_hexagon_are_its_seven_children() -> None:
    parent = h3.str_to_int(h3.latlng_to_cell(LAT, LNG, 7))
    children = sorted(h3.str_to_int(c) for c in h3.cell_to_children(h3.int_to_str(parent), 8))
    got = area_cells(_hexagon(parent), res=8)
    assert got.dtype == np.uint64
    assert got.tolist() == children


def test_area_cells_reads_longitude_first() -> None:
    box = shapely.box(LNG - 0.01, LAT - 0.01, LNG + 0.01, LAT + 0.01)
    got = area_cells(box, res=9)
    assert h3.str_to_int(h3.latlng_to_cell(LAT, LNG, 9)) in set(got.tolist())
    lng, lat = cell_centres(got)
    assert np.all((lng > LNG - 0.01) & (lng < LNG + 0.01))
    assert np.all((lat > LAT - 0.01) & (lat < LAT + 0.01))
    assert got.size > 1 and bool((got[1:] > got[:-1]).all())  # sorted, distinct


def test_area_cells_honours_holes() -> None:
    outer = shapely.box(LNG - 0.02, LAT - 0.02, LNG + 0.02, LAT + 0.02)
    hole = shapely.box(LNG - 0.005, LAT - 0.005, LNG + 0.005, LAT + 0.005)
    got = area_cells(outer.difference(hole), res=10)
    lng, lat = cell_centres(got)
    inside_hole = (np.abs(lng - LNG) < 0.005) & (np.abs(lat - LAT) < 0.005)
    assert got.size > 0 and not inside_hole.any()
    assert h3.str_to_int(h3.latlng_to_cell(LAT, LNG, 10)) not in set(got.tolist())


def test_area_cells_of_a_multipolygon_is_the_union_of_its_parts() -> None:
    a = shapely.box(LNG, LAT, LNG + 0.01, LAT + 0.01)
    b = shapely.box(LNG + 0.05, LAT, LNG + 0.06, LAT + 0.01)
    both = area_cells(shapely.MultiPolygon([a, b]), res=9)
    assert both.tolist() == sorted(set(area_cells(a, res=9)) | set(area_cells(b, res=9)))


def test_area_cells_empty_and_wrong_inputs() -> None:
    assert area_cells(shapely.Polygon(), res=9).size == 0
    with pytest.raises(ValueError, match="Polygon"):
        area_cells(shapely.Point(LNG, LAT), res=9)
    with pytest.raises(ValueError, match="longitude/latitude"):
        area_cells(shapely.box(500000, 3400000, 501000, 3401000), res=9)  # Gauss–Krüger metres
    with pytest.raises(ValueError, match="resolution"):
        area_cells(shapely.box(LNG, LAT, LNG + 0.01, LAT + 0.01), res=16)


def test_cell_centres_match_h3() -> None:
    cells = [h3.str_to_int(h3.latlng_to_cell(LAT + i * 0.01, LNG, 9)) for i in range(3)]
    lng, lat = cell_centres(np.asarray(cells, dtype=np.uint64))
    for c, x, y in zip(cells, lng, lat, strict=True):
        ref_lat, ref_lng = h3.cell_to_latlng(h3.int_to_str(c))
        # polars-h3 (h3o) and h3-py agree to ~1e-14 degrees here, not bit for bit.
        assert (y, x) == (pytest.approx(ref_lat, abs=1e-12), pytest.approx(ref_lng, abs=1e-12))


def test_area_to_cells_sorts_and_checks_an_area_given_as_cells() -> None:
    a = h3.str_to_int(h3.latlng_to_cell(LAT, LNG, 9))
    b = h3.str_to_int(h3.latlng_to_cell(LAT + 0.01, LNG, 9))
    got = area_to_cells([b, a, b], res=9)
    assert got.dtype == np.uint64
    assert got.tolist() == sorted({a, b})
    assert area_to_cells([]).size == 0
    with pytest.raises(ValueError, match="mix H3 resolutions"):
        area_to_cells([a, h3.str_to_int(h3.latlng_to_cell(LAT, LNG, 8))])
    with pytest.raises(ValueError, match="null cell"):
        area_to_cells([0, a])
    with pytest.raises(ValueError, match="resolution 9, not 8"):
        area_to_cells([a], res=8)


def _two_zones(crs: str | None = "EPSG:4326") -> gpd.GeoDataFrame:
    # "b" listed first on purpose: ties must not depend on the row order.
    return gpd.GeoDataFrame(
        {"grid_id": ["b", "a"], "precinct_id": ["p2", "p1"]},
        geometry=[
            shapely.box(LNG, LAT - 0.05, LNG + 0.05, LAT + 0.05),
            shapely.box(LNG - 0.05, LAT - 0.05, LNG, LAT + 0.05),
        ],
        crs=crs,
    )


def test_cells_to_zones_places_each_centre() -> None:
    west = h3.str_to_int(h3.latlng_to_cell(LAT, LNG - 0.02, 9))
    east = h3.str_to_int(h3.latlng_to_cell(LAT, LNG + 0.02, 9))
    away = h3.str_to_int(h3.latlng_to_cell(LAT + 1.0, LNG, 9))
    cells = np.asarray([east, away, west], dtype=np.uint64)
    zones = _two_zones()
    before = zones.copy()
    got = cells_to_zones(cells, zones, id_col="grid_id")
    assert got.name == "grid_id" and got.index.name == "cell"
    assert got.index.tolist() == [east, away, west]
    assert got.iloc[0] == "b" and pd.isna(got.iloc[1]) and got.iloc[2] == "a"
    pd.testing.assert_frame_equal(zones, before)


def test_points_on_a_shared_edge_go_to_the_smaller_id() -> None:
    got = points_to_zones([LNG, LNG + 0.01], [LAT, LAT], _two_zones(), id_col="grid_id")
    assert got.tolist() == ["a", "b"]


def test_zones_in_another_crs_are_refused() -> None:
    with pytest.raises(ValueError, match="WGS84"):
        cells_to_zones(np.zeros(0, dtype=np.uint64), _two_zones("EPSG:4545"), id_col="grid_id")
    with pytest.raises(KeyError, match="grid"):
        cells_to_zones(np.zeros(0, dtype=np.uint64), _two_zones(), id_col="grid")


def test_zone_cells_covers_the_union_once_with_attributes() -> None:
    zones = _two_zones()
    got = zone_cells(zones, res=8, id_col="grid_id", keep=("precinct_id",))
    union = shapely.box(LNG - 0.05, LAT - 0.05, LNG + 0.05, LAT + 0.05)
    assert got["cell"].tolist() == area_cells(union, res=8).tolist()
    lng, _ = cell_centres(got["cell"].to_numpy())
    assert (got["grid_id"] == np.where(lng < LNG, "a", "b")).all()
    assert (got["precinct_id"] == np.where(lng < LNG, "p1", "p2")).all()
    assert got["cell"].is_monotonic_increasing


@settings(max_examples=25, deadline=None)
@given(split=st.floats(min_value=-0.04, max_value=0.04))
def test_every_cell_of_a_partition_gets_exactly_its_own_zone(split: float) -> None:
    zones = gpd.GeoDataFrame(
        {"grid_id": ["w", "e"]},
        geometry=[
            shapely.box(LNG - 0.05, LAT - 0.03, LNG + split, LAT + 0.03),
            shapely.box(LNG + split, LAT - 0.03, LNG + 0.05, LAT + 0.03),
        ],
        crs="EPSG:4326",
    )
    cells = area_cells(shapely.box(LNG - 0.05, LAT - 0.03, LNG + 0.05, LAT + 0.03), res=8)
    got = cells_to_zones(cells, zones, id_col="grid_id")
    lng, _ = cell_centres(cells)
    assert got.notna().all()
    off_edge = lng != LNG + split
    assert (got.to_numpy()[off_edge] == np.where(lng < LNG + split, "w", "e")[off_edge]).all()


def test_zone_cells_agrees_with_cells_to_zones_and_breaks_overlaps_by_id() -> None:
    zones = gpd.GeoDataFrame(
        {"grid_id": ["b", "a"]},
        geometry=[
            shapely.box(LNG - 0.01, LAT - 0.02, LNG + 0.03, LAT + 0.02),
            shapely.box(LNG - 0.03, LAT - 0.02, LNG + 0.01, LAT + 0.02),  # overlaps "b"
        ],
        crs="EPSG:4326",
    )
    got = zone_cells(zones, res=9, id_col="grid_id")
    assert got["cell"].is_unique
    placed = cells_to_zones(got["cell"].to_numpy(), zones, id_col="grid_id")
    assert (placed.to_numpy() == got["grid_id"].to_numpy()).all()
    lng, _ = cell_centres(got["cell"].to_numpy())
    overlap = (lng > LNG - 0.01) & (lng < LNG + 0.01)
    assert overlap.any() and (got["grid_id"].to_numpy()[overlap] == "a").all()
    assert zone_cells(zones.iloc[:0], res=9, id_col="grid_id").empty
