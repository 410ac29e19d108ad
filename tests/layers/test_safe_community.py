"""layers.safe_community: every number and the title-at-risk rule on a tiny hand-made county.

Communities sit ~1.9 km apart (each in its own res-9 cell, except C9 which shares C1's
spot); cube rows are put in the community's own res-11 cell, so which incidents belong
to which community is known by construction.
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from geodata.hexes import lnglat_to_cells
from layers.safe_community import cell_status, community_status, grid_status
from tests.cube_rows import centre_cell, exact_rows, point_cells

LAT, LNG = 31.35, 107.70
START, END = "2024-01-01", "2024-01-31"  # 30 days
INSIDE = pd.Timestamp("2024-01-10 14:00")

# id, status, households, grid, position index on the lattice
COMMUNITIES = [
    ("C1", "certified", 200, "g1", 0),
    ("C2", "certified", 300, "g1", 1),
    ("C3", "certified", 1000, "g2", 2),
    ("C4", "certified", None, "g5", 3),
    ("C5", "certified", 0, "g5", 4),
    ("C6", "in_progress", 100, "g3", 5),
    ("C7", "not_started", 50, "g3", 6),
    ("C8", "certified", 400, "g3", 7),
    ("C9", "in_progress", 500, "g1", 0),  # same place as C1
]


def _where(i: int) -> tuple[float, float]:
    return LNG + 0.02 * i, LAT


def _communities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "community_id": [c[0] for c in COMMUNITIES],
            "name": [f"{c[0]}小区" for c in COMMUNITIES],
            "kind": "compound",
            "lng": [_where(c[4])[0] for c in COMMUNITIES],
            "lat": [_where(c[4])[1] for c in COMMUNITIES],
            "grid_id": [c[3] for c in COMMUNITIES],
            "status": [c[1] for c in COMMUNITIES],
            "households": pd.array([c[2] for c in COMMUNITIES], dtype="Int64"),
        }
    )


def _cube_rows(i: int, category: str, count: int, hour: pd.Timestamp = INSIDE) -> dict:
    lng, lat = _where(i)
    return {
        **point_cells(lat, lng),  # the cube's cells of the community's point (h3-py)
        "hour": hour,
        "category": category,
        "count": count,
    }


def _cube() -> pd.DataFrame:
    rows = [
        _cube_rows(0, "theft", 4),  # C1 and C9: 7 incidents in all
        _cube_rows(0, "fraud", 3, INSIDE + pd.Timedelta(hours=5)),
        _cube_rows(1, "theft", 9),  # C2: exactly the cap (3 per 100 of 300 households)
        _cube_rows(2, "weapons_terror", 1),  # C3: one veto incident
        _cube_rows(3, "theft", 5),  # C4: households unknown
        _cube_rows(4, "gang_crime", 1),  # C5: no households, one veto incident
        _cube_rows(6, "theft", 10),  # C7: not certified
        # C8: only incidents outside the window (the end is exclusive).
        _cube_rows(7, "theft", 2, pd.Timestamp("2023-12-31 23:00")),
        _cube_rows(7, "gang_crime", 1, pd.Timestamp(END)),
    ]
    far = {**point_cells(31.0, 108.2), "hour": INSIDE}
    rows.append({**far, "category": "theft", "count": 50})
    frame = pd.DataFrame(rows)
    for column in [c for c in frame.columns if c.startswith("cell")]:
        frame[column] = frame[column].astype(np.uint64)
    frame["count"] = frame["count"].astype(np.int32)
    return frame


@pytest.fixture
def status() -> pd.DataFrame:
    return community_status(_communities(), _cube(), start=START, end=END)


def test_incident_counts_and_zero_incident(status: pd.DataFrame) -> None:
    s = status.set_index("community_id")
    expected = {"C1": 7, "C2": 9, "C3": 1, "C4": 5, "C5": 1, "C6": 0, "C7": 10, "C8": 0, "C9": 7}
    assert s["incidents"].to_dict() == expected
    assert s.index[s["zero_incident"]].tolist() == ["C6", "C8"]
    assert s.loc["C1", "cell_communities"] == 2 and s.loc["C9", "cell_communities"] == 2
    assert s.loc["C2", "cell_communities"] == 1
    assert status["community_id"].tolist() == sorted(expected)


def test_rates_per_100_households_per_30_days(status: pd.DataFrame) -> None:
    s = status.set_index("community_id")
    assert s.loc["C1", "rate"] == pytest.approx(3.5)  # 7 / 200 * 100
    assert s.loc["C2", "rate"] == pytest.approx(3.0)
    assert s.loc["C3", "rate"] == pytest.approx(0.1)
    assert s.loc["C9", "rate"] == pytest.approx(1.4)
    assert pd.isna(s.loc["C4", "rate"]) and pd.isna(s.loc["C5", "rate"])
    assert s.loc[["C4", "C5"], "rate_state"].tolist() == ["no_households"] * 2
    assert s.loc["C1", "rate_state"] == "ok"
    assert pd.isna(s.loc["C4", "households"]) and s.loc["C5", "households"] == 0


def test_title_at_risk_by_rate_by_veto_and_not_at_the_cap(status: pd.DataFrame) -> None:
    s = status.set_index("community_id")
    assert s.index[s["at_risk"]].tolist() == ["C1", "C3", "C5"]
    assert bool(s.loc["C1", "over_cap"]) and not s.loc["C2", "over_cap"]  # 3.0 is not above 3
    assert s.loc["C3", "veto_incidents"] == 1 and s.loc["C3", "veto_categories"] == "weapons_terror"
    assert s.loc["C5", "veto_categories"] == "gang_crime"
    assert s.loc["C8", "veto_incidents"] == 0  # its gang incident lies at the window's end
    assert bool(s.loc["C7", "over_cap"]) and not s.loc["C7", "at_risk"]  # not certified
    classes = s["class"].to_dict()
    assert classes == {
        "C1": 1,
        "C2": 0,
        "C3": 1,
        "C4": 0,
        "C5": 1,
        "C6": 2,
        "C7": 3,
        "C8": 0,
        "C9": 2,
    }


def test_reason_lines(status: pd.DataFrame) -> None:
    s = status.set_index("community_id")
    assert (
        s.loc["C1", "reason_zh"] == "称号存疑：近30天警情7起（每百户3.5起），超过上限（每百户3起）"
    )
    assert s.loc["C1", "reason_en"] == (
        "Title at risk: 7 incidents in 30 days (3.5 per 100 households), "
        "above the cap of 3 per 100 households"
    )
    assert s.loc["C2", "reason_zh"] == "已创建：近30天警情9起（每百户3起），未超过上限（每百户3起）"
    assert s.loc["C3", "reason_zh"] == (
        "称号存疑：近30天发生一票否决类警情1起（涉枪涉爆涉恐）；"
        "近30天警情1起（每百户0.1起），未超过上限（每百户3起）"
    )
    assert s.loc["C3", "reason_en"].startswith(
        "Title at risk: 1 incident in a veto category in 30 days (Guns, explosives and terrorism)"
    )
    assert s.loc["C4", "reason_zh"] == "已创建：无户数数据，无法计算发案率；近30天警情5起"
    assert (
        s.loc["C4", "reason_en"]
        == "Certified: no households on record, no rate; 5 incidents in 30 days"
    )
    assert s.loc["C5", "reason_zh"] == (
        "称号存疑：近30天发生一票否决类警情1起（涉黑涉恶）；无户数数据，无法计算发案率；近30天警情1起"
    )
    assert s.loc["C6", "reason_zh"] == "创建中：近30天零发案"
    assert s.loc["C8", "reason_en"] == "Certified: no incidents in 30 days"
    assert (
        s.loc["C7", "reason_en"] == "Not started: 10 incidents in 30 days (20 per 100 households)"
    )


def test_settings_change_the_verdict() -> None:
    com, cube = _communities(), _cube()
    no_veto = community_status(com, cube, start=START, end=END, veto=())
    assert no_veto.loc[no_veto["at_risk"], "community_id"].tolist() == ["C1"]
    higher = community_status(com, cube, start=START, end=END, cap=4.0)
    assert higher.loc[higher["at_risk"], "community_id"].tolist() == ["C3", "C5"]
    # A 60-day window halves the rate per 30 days: C1 falls to 1.75, under the cap.
    longer = community_status(com, cube, start=START, end="2024-03-01").set_index("community_id")
    assert longer.loc["C1", "rate"] == pytest.approx(1.75)
    assert not longer.loc["C1", "at_risk"]
    assert longer.loc["C1", "reason_zh"] == (
        "已创建：近60天警情7起（每百户每30天1.75起），未超过上限（每百户每30天3起）"
    )


def test_match_resolution_decides_which_incidents_belong() -> None:
    """At res 11 an incident one res-11 cell away is no longer the community's."""
    com = _communities().iloc[[1]]  # C2
    lng, lat = _where(1)
    home = h3.latlng_to_cell(lat, lng, 11)
    # A neighbour whose centre (where its incident is put) lies in the community's res-9
    # hexagon.
    next_door = next(
        c
        for c in h3.grid_ring(home, 1)
        if centre_cell(h3.str_to_int(c), 9) == h3.str_to_int(h3.latlng_to_cell(lat, lng, 9))
    )
    cube = exact_rows(
        pd.DataFrame(
            {
                "cell": np.asarray([h3.str_to_int(next_door)], dtype=np.uint64),
                "hour": [INSIDE],
                "category": ["theft"],
                "count": [2],
            }
        )
    )
    assert community_status(com, cube, start=START, end=END)["incidents"].tolist() == [2]
    fine = community_status(com, cube, start=START, end=END, match_res=11)
    assert fine["incidents"].tolist() == [0]


def test_inputs_are_not_mutated_and_bad_inputs_are_refused() -> None:
    com, cube = _communities(), _cube()
    com_before, cube_before = com.copy(), cube.copy()
    community_status(com, cube, start=START, end=END)
    pd.testing.assert_frame_equal(com, com_before)
    pd.testing.assert_frame_equal(cube, cube_before)
    with pytest.raises(ValueError, match="certifed"):
        community_status(com.assign(status="certifed"), cube, start=START, end=END)
    with pytest.raises(ValueError, match="match_res"):
        community_status(com, cube, start=START, end=END, match_res=12)
    with pytest.raises(ValueError, match="window"):
        community_status(com, cube, start=END, end=START)
    with pytest.raises(ValueError, match="coordinates"):
        community_status(com.assign(lng=np.nan), cube, start=START, end=END)


def test_grid_status(status: pd.DataFrame) -> None:
    grids = pd.DataFrame({"grid_id": ["g5", "g4", "g3", "g2", "g1"]})
    got = grid_status(status, grids).set_index("grid_id")
    assert got.index.tolist() == ["g1", "g2", "g3", "g4", "g5"]
    g1, g2, g3, g4, g5 = (got.loc[g] for g in ["g1", "g2", "g3", "g4", "g5"])
    assert (g1["communities"], g1["certified"], g1["in_progress"], g1["not_started"]) == (
        3,
        2,
        1,
        0,
    )
    assert (g1["households"], g1["certified_households"]) == (1000, 500)
    assert g1["certified_share"] == 0.5 and g1["class"] == 2
    assert (g1["zero_incident"], g1["at_risk"]) == (0, 1)
    assert g2["certified_share"] == 1.0 and g2["class"] == 4 and g2["at_risk"] == 1
    assert g3["certified_share"] == pytest.approx(400 / 550) and g3["class"] == 3
    assert (g3["zero_incident"], g3["at_risk"], g3["not_started"]) == (2, 0, 1)
    assert g4["communities"] == 0 and g4["state"] == "no_communities"
    assert pd.isna(g4["certified_share"]) and pd.isna(g4["class"])
    assert (g5["communities"], g5["households"], g5["at_risk"]) == (2, 0, 1)
    assert g5["state"] == "no_households" and pd.isna(g5["certified_share"])
    assert g1["state"] == "ok"


def test_grid_status_places_communities_without_a_grid_by_their_point(
    status: pd.DataFrame,
) -> None:
    lost = status.assign(grid_id=None)
    grids = gpd.GeoDataFrame(
        {"grid_id": ["west", "east"]},
        geometry=[
            shapely.box(LNG - 0.01, LAT - 0.01, LNG + 0.03, LAT + 0.01),  # C1, C2, C9
            shapely.box(LNG + 0.03, LAT - 0.01, LNG + 0.5, LAT + 0.01),  # the others
        ],
        crs="EPSG:4326",
    )
    got = grid_status(lost, grids).set_index("grid_id")
    assert got.loc["west", "communities"] == 3 and got.loc["east", "communities"] == 6
    scoped = grid_status(status, pd.DataFrame({"grid_id": ["g1"]}))
    assert scoped["grid_id"].tolist() == ["g1"] and scoped["communities"].tolist() == [3]


def test_cell_status(status: pd.DataFrame) -> None:
    got = cell_status(status, res=9)
    assert got["cell"].is_monotonic_increasing and len(got) == 8  # C1 and C9 share a cell
    shared = got.set_index("cell").loc[int(lnglat_to_cells([LNG], [LAT], 9)[0])]
    assert (shared["communities"], shared["certified"], shared["in_progress"]) == (2, 1, 1)
    assert shared["certified_share"] == pytest.approx(200 / 700)
    assert shared["at_risk"] == 1 and shared["class"] == 2
    empty = int(lnglat_to_cells([LNG], [LAT + 0.5], 9)[0])
    with_scope = cell_status(status, res=9, cells=[empty, *got["cell"].tolist()[:1]])
    row = with_scope.set_index("cell").loc[empty]
    assert row["state"] == "no_communities" and pd.isna(row["certified_share"])
    assert len(with_scope) == 2
    coarse = cell_status(status, res=6)
    assert coarse["communities"].sum() == 9
    with pytest.raises(ValueError, match="resolution"):
        cell_status(status, res=9, cells=[int(lnglat_to_cells([LNG], [LAT], 8)[0])])


def test_on_the_small_demo(demo_small) -> None:
    """The demo's communities and incident cube: totals agree across the three frames."""
    import polars as pl

    from geodata.cubes import incident_cube
    from geodata.cubes.coarser import to_pandas
    from geodata.store import read_table

    communities = read_table(demo_small, "communities")
    grids = read_table(demo_small, "grids")
    cube = to_pandas(incident_cube(pl.from_pandas(read_table(demo_small, "incidents"))))
    end = cube["hour"].max().normalize()
    start = end - pd.Timedelta(days=90)
    per = community_status(communities, cube, start=start, end=end)
    assert len(per) == len(communities)
    assert (per["at_risk"] <= (per["status"] == "certified")).all()
    assert (per["zero_incident"] == (per["incidents"] == 0)).all()
    in_window = cube[(cube["hour"] >= start) & (cube["hour"] < end)]
    assert per["incidents"].max() <= in_window["count"].sum()
    per_grid = grid_status(per, grids)
    placed = communities["grid_id"].isin(grids["grid_id"]).sum()
    assert per_grid["communities"].sum() == placed
    assert (
        per_grid["at_risk"].sum() == per.loc[per["grid_id"].isin(grids["grid_id"]), "at_risk"].sum()
    )
    per_cell = cell_status(per, res=8)
    assert per_cell["communities"].sum() == len(per)
    assert per_cell["households"].sum() == per["households"].fillna(0).sum()
    in_grids = per["grid_id"].isin(grids["grid_id"])
    assert per_grid["households"].sum() == per.loc[in_grids, "households"].fillna(0).sum()
