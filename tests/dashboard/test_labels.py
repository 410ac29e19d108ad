"""Names on the map: a point inside each polygon, the zoom bands, the scope's names only."""

from __future__ import annotations

import itertools

import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Polygon, box

from dashboard.datasource import View
from dashboard.views.labels import (
    WALL_ZOOMS,
    ZOOMS,
    label_data,
    label_points,
    map_labels,
    spread_points,
)


def test_a_label_sits_inside_its_polygon_even_a_crescent() -> None:
    # A U shape: its centroid lies in the notch, outside the polygon.
    u = Polygon([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)])
    square = box(10, 10, 12, 12)
    assert not u.contains(u.centroid)
    (lat_u, lng_u), (lat_s, lng_s) = label_points([u, square])
    assert u.contains(shapely.Point(lng_u, lat_u))
    # A convex shape keeps its centroid (the visual centre).
    assert (lat_s, lng_s) == (11.0, 11.0)


def test_precincts_at_county_zooms_townships_between_grids_at_street_zooms() -> None:
    assert ZOOMS["precinct"][1] <= 12 <= ZOOMS["township"][0]
    assert ZOOMS["township"][1] <= 14 <= ZOOMS["grid"][0]
    # No zoom shows two kinds at once (a name would be written twice).
    bands = sorted(ZOOMS.values())
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(bands))


def test_labels_carry_the_datas_names_at_points_inside(source: View) -> None:
    data = map_labels(source)
    by_kind: dict[str, list[str]] = {}
    for label in data["labels"]:
        by_kind.setdefault(label["k"], []).append(label["t"])
    assert sorted(by_kind["precinct"]) == sorted(source.precincts["name"])
    assert sorted(by_kind["grid"]) == sorted(source.grids["name"])
    # The tiny data's grids do not name a township: the precinct's name stands in.
    assert sorted(by_kind["township"]) == sorted(source.precincts["name"])
    shapes = {str(n): g for n, g in zip(source.grids["name"], source.grids.geometry, strict=True)}
    for label in data["labels"]:
        if label["k"] == "grid":
            lat, lng = label["at"]
            assert shapes[label["t"]].contains(shapely.Point(lng, lat))


def test_a_chief_gets_only_their_precincts_names(source: View) -> None:
    west = map_labels(source.for_scope(frozenset({"P1"})))
    assert {label["t"] for label in west["labels"]} == {"西城派出所", "一网格", "二网格"}
    assert map_labels(source.for_scope(frozenset({"nobody"})))["labels"] == []


def test_the_wall_shows_precinct_names_only_at_every_zoom(source: View) -> None:
    data = label_data(source, WALL_ZOOMS)["features"][0]["properties"]["labels"]
    assert {label["k"] for label in data["labels"]} == {"precinct"}
    assert data["zooms"] == {"precinct": [0.0, 30.0]}


def test_precincts_carry_their_towns_short_name_for_far_zooms(source: View) -> None:
    data = map_labels(source)
    shorts = {lb["t"]: lb.get("short") for lb in data["labels"] if lb["k"] == "precinct"}
    assert shorts == {"西城派出所": "西城", "东城派出所": "东城"}
    assert data["short_below"] <= ZOOMS["precinct"][1]
    # The wall asks for full names at every zoom.
    assert map_labels(source, WALL_ZOOMS, short_below=0)["short_below"] == 0


def test_a_wide_grid_has_further_points_inside_it() -> None:
    # A 9 x 6 km rectangle near the county (1° of longitude ~ 95 km at 31° N).
    wide = box(107.70, 31.30, 107.70 + 9 / 95.1, 31.30 + 6 / 111.32)
    points = spread_points(wide, km=1.5)
    assert 20 <= len(points) <= 24  # 6 x 4 lattice cells of 1.5 km
    assert all(wide.contains(shapely.Point(lng, lat)) for lat, lng in points)
    # Neighbours 1.5 km apart (checked with pyproj's geodesic distance).
    (lat0, lng0), (lat1, lng1) = points[0], points[1]
    assert Geod(ellps="WGS84").inv(lng0, lat0, lng1, lat1)[2] == pytest.approx(1500, rel=0.02)
    # A small grid (a town block) needs none: its own point is always near.
    assert spread_points(box(107.70, 31.30, 107.705, 31.305)) == []
