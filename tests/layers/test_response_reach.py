"""layers.response_reach: known travel times, the 1-3-5 band edges, "unit away", per grid."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from layers.grids import area_cells
from layers.response_reach import (
    BANDS,
    grid_reach,
    minutes_to_band,
    minutes_to_class,
    reach,
    unit_reach,
)

LAT, LNG = 31.35, 107.73
GEOD = pyproj.Geod(ellps="WGS84")


def _cell(lat: float, lng: float, res: int) -> int:
    return h3.str_to_int(h3.latlng_to_cell(lat, lng, res))


def _centre(cell: int) -> tuple[float, float]:
    lat, lng = h3.cell_to_latlng(h3.int_to_str(cell))
    return lng, lat


def _offset(lng: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lng, lat, azimuth, metres)
    return float(x), float(y)


def _units(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit_id": [r[0] for r in rows],
            "name": [f"单元{r[0]}" for r in rows],
            "kind": [r[1] for r in rows],
            "lng": [r[2] for r in rows],
            "lat": [r[3] for r in rows],
            "staff": 3,
        }
    )


def test_one_kilometre_at_40_kmh_is_one_and_a_half_minutes() -> None:
    cell = _cell(LAT, LNG, 10)
    x, y = _offset(*_centre(cell), 90.0, 1000.0)
    units = _units([("u1", "police_station", x, y)])
    got = reach([cell], units, speeds_kmh={"police_station": 40.0}, detour=1.0)
    row = got.iloc[0]
    assert row["cell"] == cell
    assert row["minutes"] == pytest.approx(1.5, abs=1e-4)  # 1 km / (40 km/h = 666.7 m/min)
    assert row["distance_m"] == pytest.approx(1000.0, abs=0.05)
    assert row["nearest_unit"] == "u1" and row["nearest_kind"] == "police_station"
    assert row["band"] == "within_3" and row["class"] == 1
    # The default detour 1.4 and the default 40 km/h of a police station: 2.1 minutes.
    assert reach([cell], units).iloc[0]["minutes"] == pytest.approx(2.1, abs=1e-4)


def test_the_fastest_arrival_wins_not_the_closest_unit() -> None:
    cell = _cell(LAT, LNG, 11)
    lng, lat = _centre(cell)
    speeds = {"police_station": 40.0, "enterprise_unit": 5.0}
    police = ("p", "police_station", *_offset(lng, lat, 0.0, 2000.0))  # 3.0 min
    near = ("e", "enterprise_unit", *_offset(lng, lat, 180.0, 200.0))  # 200/83.33 = 2.4 min
    got = reach([cell], _units([police, near]), speeds_kmh=speeds, detour=1.0).iloc[0]
    assert got["nearest_unit"] == "e" and got["minutes"] == pytest.approx(2.4, abs=1e-4)
    far = ("e", "enterprise_unit", *_offset(lng, lat, 180.0, 300.0))  # 3.6 min
    got = reach([cell], _units([police, far]), speeds_kmh=speeds, detour=1.0).iloc[0]
    assert got["nearest_unit"] == "p" and got["minutes"] == pytest.approx(3.0, abs=1e-4)


def test_band_edges_are_inclusive_at_the_top() -> None:
    minutes = [0.0, 1.0, 1.000001, 3.0, 3.000001, 5.0, 5.000001, 60.0, np.nan, np.inf]
    expected = ["within_1", "within_1", "within_3", "within_3", "within_5"]
    expected += ["within_5", "beyond_5", "beyond_5", "beyond_5", "beyond_5"]
    assert minutes_to_band(minutes).tolist() == expected
    assert minutes_to_class(minutes).tolist() == [BANDS.index(b) for b in expected]


def test_without_a_unit_the_next_one_answers_and_without_all_nobody_does() -> None:
    cell = _cell(LAT, LNG, 10)
    lng, lat = _centre(cell)
    units = _units(
        [
            ("near", "police_station", *_offset(lng, lat, 45.0, 500.0)),
            ("far", "police_station", *_offset(lng, lat, 45.0, 2500.0)),
        ]
    )
    before = units.copy()
    speeds = {"police_station": 40.0}
    assert reach([cell], units, speeds_kmh=speeds, detour=1.0).iloc[0]["nearest_unit"] == "near"
    away = reach([cell], units, speeds_kmh=speeds, detour=1.0, without=["near"]).iloc[0]
    assert away["nearest_unit"] == "far" and away["minutes"] == pytest.approx(3.75, abs=1e-4)
    assert away["band"] == "within_5"
    none = reach([cell], units, without=["near", "far"]).iloc[0]
    assert np.isnan(none["minutes"]) and pd.isna(none["nearest_unit"])
    assert none["band"] == "beyond_5" and none["class"] == 3
    pd.testing.assert_frame_equal(units, before)
    with pytest.raises(ValueError, match="nobody"):
        reach([cell], units, without=["nobody"])


def test_unknown_kind_and_bad_detour_are_refused() -> None:
    cell = _cell(LAT, LNG, 10)
    units = _units([("u", "helicopter", LNG, LAT)])
    with pytest.raises(ValueError, match="helicopter"):
        reach([cell], units)
    with pytest.raises(ValueError, match="detour"):
        reach([cell], _units([("u", "patrol_post", LNG, LAT)]), detour=0.9)


def test_rows_are_sorted_distinct_cells() -> None:
    cells = area_cells(shapely.box(LNG - 0.01, LAT - 0.01, LNG + 0.01, LAT + 0.01), res=9)
    shuffled = np.concatenate([cells[::-1], cells[:3]])
    got = reach(shuffled, _units([("u", "patrol_post", LNG, LAT)]))
    assert got["cell"].tolist() == cells.tolist()
    assert list(got.columns) == [
        "cell",
        "minutes",
        "nearest_unit",
        "nearest_kind",
        "distance_m",
        "band",
        "class",
    ]


def test_the_travel_model_is_replaceable() -> None:
    """A road-network model plugs in through ``travel=``; here a stub says 4 minutes."""
    calls: list[int] = []

    def four_minutes(cell_lng, cell_lat, unit_lng, unit_lat, unit_m_per_min, *, detour):
        calls.append(unit_lng.size)
        return np.full(cell_lng.size, 4.0), np.ones(cell_lng.size, dtype=np.int64)

    units = _units([("b", "patrol_post", LNG, LAT), ("a", "patrol_post", LNG + 0.1, LAT)])
    got = reach([_cell(LAT, LNG, 9)], units, travel=four_minutes).iloc[0]
    # Units are handed over sorted by id, so position 1 is "b".
    assert calls == [2] and got["minutes"] == 4.0 and got["nearest_unit"] == "b"
    assert got["band"] == "within_5"


SMALL_AREA = area_cells(shapely.box(LNG - 0.02, LAT - 0.02, LNG + 0.02, LAT + 0.02), res=8)
KINDS = ("police_station", "patrol_post", "community_unit", "enterprise_unit")


@settings(max_examples=40, deadline=None)
@given(
    units=st.lists(
        st.tuples(
            st.sampled_from(KINDS),
            st.floats(min_value=LNG - 0.03, max_value=LNG + 0.03),
            st.floats(min_value=LAT - 0.03, max_value=LAT + 0.03),
        ),
        min_size=1,
        max_size=6,
    ),
    away=st.sets(st.integers(min_value=0, max_value=5)),
)
def test_removing_units_never_shortens_any_travel_time(
    units: list[tuple[str, float, float]], away: set[int]
) -> None:
    frame = _units([(f"u{i}", k, x, y) for i, (k, x, y) in enumerate(units)])
    gone = [f"u{i}" for i in sorted(away) if i < len(units)]
    full = reach(SMALL_AREA, frame)
    less = reach(SMALL_AREA, frame, without=gone)
    inf = np.inf
    assert np.all(less["minutes"].fillna(inf) >= full["minutes"].fillna(inf))
    assert np.all(less["class"] >= full["class"])
    # Every cell is in exactly one band: covered within 5 minutes or a gap, never both.
    assert full["band"].isin(BANDS).all()


def test_unit_reach_counts_cells_per_band_and_the_cells_only_it_reaches() -> None:
    centre = _cell(LAT, LNG, 9)
    ring = [h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(centre), 1)]
    lng0, lat0 = _centre(centre)
    neighbour_m = min(GEOD.inv(lng0, lat0, *_centre(c))[2] for c in ring if c != centre)
    # Speed so that 1 minute covers half the distance to a neighbour's centre.
    kmh = (neighbour_m / 2) * 60 / 1000
    speeds = {"community_unit": kmh, "police_station": 40.0}
    far_lng, far_lat = _offset(lng0, lat0, 0.0, 50_000.0)
    units = _units(
        [
            ("a", "community_unit", lng0, lat0),
            ("z", "police_station", far_lng, far_lat),
        ]
    )
    got = unit_reach(ring, units, speeds_kmh=speeds, detour=1.0).set_index("unit_id")
    assert got.loc["a", ["cells_within_1", "cells_within_3", "cells_within_5"]].tolist() == [
        1,
        7,
        7,
    ]
    assert got.loc["a", "sole_within_5"] == 7
    assert got.loc["z", "cells_within_5"] == 0 and got.loc["z", "sole_within_5"] == 0
    assert got.loc["a", "speed_kmh"] == pytest.approx(kmh)
    twin = pd.concat([units, _units([("b", "community_unit", lng0, lat0)])])
    got = unit_reach(ring, twin, speeds_kmh=speeds, detour=1.0).set_index("unit_id")
    assert got.loc[["a", "b"], "sole_within_5"].tolist() == [0, 0]
    assert got.index.tolist() == ["a", "b", "z"]


def _hand_frame() -> tuple[pd.DataFrame, gpd.GeoDataFrame, list[int]]:
    cells = sorted(_cell(LAT + 0.01 * i, LNG, 9) for i in range(6))
    frame = pd.DataFrame(
        {
            "cell": np.asarray(cells, dtype=np.uint64),
            "minutes": [0.5, 2.0, 6.0, np.nan, 4.0, 4.5],
            "grid_id": ["a", "a", "a", "a", "b", "b"],
        }
    )
    frame["band"] = minutes_to_band(frame["minutes"])
    grids = gpd.GeoDataFrame(
        {"grid_id": ["c", "b", "a"], "population": [50, 100, 400]},
        geometry=[shapely.box(0, 0, 1, 1)] * 3,  # unused: the frame names its grids
        crs="EPSG:4326",
    )
    return frame, grids, cells


def test_grid_reach_on_a_hand_made_case() -> None:
    frame, grids, cells = _hand_frame()
    before = frame.copy()
    # Incidents at res 10 (the children of the res-9 cells), and one outside the area.
    child = {c: h3.str_to_int(h3.cell_to_center_child(h3.int_to_str(c), 10)) for c in cells}
    incidents = pd.DataFrame(
        {
            "cell": np.asarray(
                [
                    child[cells[0]],
                    child[cells[2]],
                    child[cells[3]],
                    child[cells[3]],
                    child[cells[4]],
                    _cell(LAT - 1, LNG, 10),
                ],
                dtype=np.uint64,
            ),
            "count": [1, 2, 3, 4, 5, 100],
        }
    )
    got = grid_reach(frame, grids, incidents=incidents).set_index("grid_id")
    assert got.index.tolist() == ["a", "b", "c"]
    a, b, c = got.loc["a"], got.loc["b"], got.loc["c"]
    assert (a["cells"], a["cells_beyond_5"], a["share_beyond_5"]) == (4, 2, 0.5)
    assert a["population"] == 400 and a["population_beyond_5"] == 200
    assert (a["incidents"], a["incidents_beyond_5"]) == (10, 9)
    assert pd.isna(a["max_minutes"])  # a cell that no unit reaches
    assert a["class"] == 3 and a["state"] == "ok"
    assert (b["cells"], b["cells_beyond_5"], b["share_beyond_5"]) == (2, 0, 0.0)
    assert b["population_beyond_5"] == 0 and b["max_minutes"] == 4.5
    assert (b["incidents"], b["incidents_beyond_5"]) == (5, 0) and b["class"] == 0
    assert c["cells"] == 0 and c["state"] == "no_cells"
    assert pd.isna(c["share_beyond_5"]) and pd.isna(c["population_beyond_5"])
    assert pd.isna(c["class"]) and c["incidents"] == 0
    pd.testing.assert_frame_equal(frame, before)


def test_grid_reach_with_population_per_cell() -> None:
    frame, grids, cells = _hand_frame()
    pop = pd.DataFrame({"cell": np.asarray(cells, dtype=np.uint64), "population": [10] * 6})
    pop.loc[2, "population"] = 70
    got = grid_reach(frame, grids, cell_population=pop).set_index("grid_id")
    assert got.loc["a", "population"] == 100 and got.loc["a", "population_beyond_5"] == 80
    assert got.loc["b", "population"] == 20 and got.loc["b", "population_beyond_5"] == 0
    assert pd.isna(got.loc["a", "incidents"])  # not given


def test_grid_reach_places_cells_by_their_centre() -> None:
    grids = gpd.GeoDataFrame(
        {"grid_id": ["w", "e"], "population": [1000, 1000]},
        geometry=[
            shapely.box(LNG - 0.05, LAT - 0.05, LNG, LAT + 0.05),
            shapely.box(LNG, LAT - 0.05, LNG + 0.05, LAT + 0.05),
        ],
        crs="EPSG:4326",
    )
    cells = area_cells(shapely.box(LNG - 0.05, LAT - 0.05, LNG + 0.05, LAT + 0.05), res=8)
    # One police station at the west edge: the east grid lies partly beyond 5 minutes.
    units = _units([("p", "police_station", LNG - 0.05, LAT)])
    cells_frame = reach(cells, units)
    got = grid_reach(cells_frame, grids).set_index("grid_id")
    assert got["cells"].sum() == len(cells)
    assert got.loc["w", "share_beyond_5"] < got.loc["e", "share_beyond_5"]
    beyond_e = got.loc["e", "cells_beyond_5"] / got.loc["e", "cells"]
    assert got.loc["e", "population_beyond_5"] == pytest.approx(1000 * beyond_e)


def test_distance_is_the_geodesic_and_does_not_depend_on_the_other_cells() -> None:
    cells = area_cells(shapely.box(LNG - 0.01, LAT - 0.01, LNG + 0.01, LAT + 0.01), res=9)
    x, y = _offset(LNG, LAT, 30.0, 20_000.0)
    units = _units([("u", "police_station", x, y)])
    whole = reach(cells, units).set_index("cell")
    for cell in cells[:5]:
        expected = GEOD.inv(*_centre(int(cell)), x, y)[2]
        assert whole.loc[cell, "distance_m"] == pytest.approx(expected, abs=0.02)
    part = reach(cells[::7], units).set_index("cell")
    pd.testing.assert_frame_equal(part, whole.loc[part.index])
    speed = 40_000 / 60
    assert np.allclose(whole["minutes"], whole["distance_m"] * 1.4 / speed, rtol=1e-12)


def test_on_the_small_demo(demo_small) -> None:
    """Whole-county run: every cell in one band; a unit's sole cells are what its absence costs."""
    from geodata.store import read_table
    from layers.grids import zone_cells

    grids = read_table(demo_small, "grids")
    units = read_table(demo_small, "response_units")
    cells = zone_cells(grids, res=8, id_col="grid_id")
    full = reach(cells["cell"], units)
    assert len(full) == len(cells) and full["band"].isin(BANDS).all()
    per_unit = unit_reach(cells["cell"], units)
    busiest = per_unit.sort_values(["sole_within_5", "unit_id"]).iloc[-1]
    assert busiest["sole_within_5"] > 0
    away = reach(cells["cell"], units, without=[busiest["unit_id"]])
    lost = (away["band"] == "beyond_5").sum() - (full["band"] == "beyond_5").sum()
    assert lost == busiest["sole_within_5"]
    per_grid = grid_reach(full.merge(cells, on="cell"), grids)
    assert per_grid["cells"].sum() == len(cells)
    assert per_grid["cells_beyond_5"].sum() == (full["band"] == "beyond_5").sum()
