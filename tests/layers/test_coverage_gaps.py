"""layers.coverage_gaps: known answers on hand-made per-cell frames, invariants, the demo.

Every expected number is worked out by hand in the test from the rules of the package
docstring (gap = risk × (1 − protection), parts in [0, 1]), never read from the code.
"""

from __future__ import annotations

import math
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layers.coverage_gaps import (
    COLUMNS,
    DEFAULT_WEIGHTS,
    GAP_CLASSES,
    GapScales,
    GapWeights,
    band_counts,
    community_cells,
    coverage_gaps,
    emerging_bins,
    gap_class,
    intensity,
    reason,
    top_gaps,
)
from tests.cube_rows import exact_rows

LAT, LNG = 31.35, 107.75
_CENTRE = h3.latlng_to_cell(LAT, LNG, 9)
RING = sorted(h3.str_to_int(c) for c in h3.grid_disk(_CENTRE, 2))  # 19 res-9 cells
A, B, C, D = RING[0], RING[5], RING[10], RING[15]
AREA = np.array([A, B, C, D], dtype=np.uint64)
BANDS = ("day", "evening", "night")  # the default bands: 12, 4 and 8 hours


def frames(
    *,
    counts: dict[int, int],
    z: dict[int, float],
    dwell: dict[int, tuple[float, float, float]],
    minutes: dict[int, float],
    night: dict[int, int] | None = None,
    days: float = 30.0,
) -> dict[str, pd.DataFrame]:
    """Per-cell frames as the layer functions return them, for the cells given.

    ``dwell`` is minutes over the whole window by (day, evening, night); ``night`` the
    cell's incidents that fell at night (the rest by day).
    """
    cells = sorted(set(counts) | set(z) | set(dwell) | set(minutes))
    heat = pd.DataFrame(
        {
            "cell": np.array(cells, dtype=np.uint64),
            "count": [counts.get(c, 0) for c in cells],
        }
    )
    hotspots = pd.DataFrame({"cell": heat["cell"], "gi_z": [z.get(c, 0.0) for c in cells]})
    d = np.array([dwell.get(c, (0.0, 0.0, 0.0)) for c in cells], dtype=np.float64)
    coverage = pd.DataFrame(
        {
            "cell": heat["cell"],
            "dwell_min": d.sum(axis=1),
            "dwell_min_per_day": d.sum(axis=1) / days,
            **{f"dwell_min_{b}": d[:, i] for i, b in enumerate(BANDS)},
        }
    )
    reach = pd.DataFrame(
        {
            "cell": heat["cell"],
            "minutes": [minutes.get(c, math.nan) for c in cells],
            "nearest_unit": ["U1" if c in minutes else None for c in cells],
        }
    )
    nights = night or {}
    by_band = pd.DataFrame(
        {
            "cell": heat["cell"],
            "incidents_day": [counts.get(c, 0) - nights.get(c, 0) for c in cells],
            "incidents_evening": 0,
            "incidents_night": [nights.get(c, 0) for c in cells],
        }
    )
    return {
        "heat": heat,
        "hotspots": hotspots,
        "coverage": coverage,
        "reach": reach,
        "band_counts": by_band,
    }


# A: 30 incidents in 30 days, all at night, a 99 % hot spot (z = 3), patrolled by day
#    only (15 min a day: the day band's share of 30 min/day), 7 minutes from a unit.
# B: the same risk, patrolled in every band to its share of the standard.
# C: nothing at all, no unit.  D: one incident, not significant, 2 minutes from a unit.
CASE = frames(
    counts={A: 30, B: 30, C: 0, D: 1},
    z={A: 3.0, B: 3.0, C: 0.0, D: 0.0},
    dwell={A: (450.0, 0.0, 0.0), B: (450.0, 150.0, 300.0), D: (0.0, 0.0, 0.0)},
    minutes={A: 7.0, B: 7.0, D: 2.0},
    night={A: 30, B: 30},
)


def gaps(weights: GapWeights = DEFAULT_WEIGHTS, **extra: pd.DataFrame) -> pd.DataFrame:
    return coverage_gaps(AREA, incident_days=30.0, weights=weights, **CASE, **extra).set_index(
        "cell"
    )


def test_hand_computed_scores_of_a_night_hot_spot_without_night_patrol() -> None:
    g = gaps()
    # Risk: intensity log(1+30)/log(1+30) = 1; confidence (0.5·1 + 0.3·1) / 0.8 = 1 (no trend
    # frame, so the trend part is left out).
    assert g.loc[A, "risk_intensity"] == pytest.approx(1.0)
    assert g.loc[A, "risk_hotspot"] == pytest.approx(1.0)
    assert math.isnan(g.loc[A, "risk_trend"])
    assert g.loc[A, "risk"] == pytest.approx(1.0)
    # Band weights with 2 pseudo-incidents spread by band length: night (30 + 2·8/24)/32,
    # day (0 + 2·12/24)/32. A meets the day standard (15 min/day) and nothing else.
    night_share = (30 + 2 * 8 / 24) / 32
    day_share = 1 / 32
    assert g.loc[A, "peak_band"] == "night"
    assert g.loc[A, "peak_share"] == pytest.approx(night_share)
    assert g.loc[A, "protection_patrol"] == pytest.approx(day_share)
    assert g.loc[A, "protection_reach"] == pytest.approx(1 - 7 / 10)
    protection_a = (0.4 * day_share + 0.3 * 0.3) / 0.7
    assert g.loc[A, "protection"] == pytest.approx(protection_a)
    assert g.loc[A, "gap"] == pytest.approx(1 - protection_a)  # 0.8536
    assert g.loc[A, "class"] == 4
    assert g.loc[A, "label_en"] == GAP_CLASSES[4].en
    # B: every band meets its share → patrol 1, protection (0.4 + 0.09) / 0.7 = 0.7.
    assert g.loc[B, "protection_patrol"] == pytest.approx(1.0)
    assert g.loc[B, "gap"] == pytest.approx(0.3)
    assert g.loc[B, "class"] == 2
    # C: no incidents → no risk → no gap, though nothing protects it.
    assert g.loc[C, "risk"] == 0.0 and g.loc[C, "gap"] == 0.0
    assert g.loc[C, "protection_reach"] == 0.0  # no unit at all
    # D: intensity log 2 / log 31, confidence 0.5 / 0.8; protection 0.3·0.8 / 0.7.
    risk_d = math.log(2) / math.log(31) * 0.5 / 0.8
    assert g.loc[D, "risk"] == pytest.approx(risk_d)
    assert g.loc[D, "gap"] == pytest.approx(risk_d * (1 - 0.24 / 0.7))
    assert g.loc[D, "class"] == 0


def test_the_unpatrolled_hot_spot_ranks_first_and_the_covered_one_lower() -> None:
    g = gaps()
    assert g.loc[A, "rank"] == 1
    assert g.loc[B, "rank"] == 2
    assert g.loc[A, "is_gap"] and g.loc[A, "state"] == "gap"
    assert not g.loc[C, "is_gap"] and g.loc[C, "state"] == "covered"


def test_reason_line_of_the_top_gap_names_hot_spot_night_patrol_and_reach() -> None:
    top = top_gaps(coverage_gaps(AREA, incident_days=30.0, **CASE), n=20)
    assert top["cell"].tolist() == [A, B]  # C and D are not gaps
    assert top["rank"].tolist() == [1, 2]
    assert top.loc[0, "reason_zh"] == (
        "热点（99%置信），近30天警情30起，近30天夜间无巡逻驻留，距最近处置单元7分钟"
    )
    assert top.loc[0, "reason_en"] == (
        "hot spot 99 %, 30 incidents in 30 days, no patrol dwell at night in 30 days, "
        "7 min to nearest unit"
    )
    # B is patrolled: its reason names only its risk and its reach.
    assert (
        top.loc[1, "reason_en"] == "hot spot 99 %, 30 incidents in 30 days, 7 min to nearest unit"
    )
    lat, lng = h3.cell_to_latlng(h3.int_to_str(A))
    assert top.loc[0, "lng"] == pytest.approx(lng) and top.loc[0, "lat"] == pytest.approx(lat)


def test_top_gaps_keeps_at_most_n() -> None:
    g = coverage_gaps(AREA, incident_days=30.0, **CASE)
    assert top_gaps(g, n=1)["cell"].tolist() == [A]
    assert top_gaps(g, n=0).empty


@pytest.mark.parametrize(
    ("weights", "same"),
    [
        (GapWeights(patrol=0.0), True),  # A and B differ only in patrol
        (GapWeights(patrol=0.4), False),
    ],
)
def test_a_zero_weight_removes_the_patrol_part(weights: GapWeights, same: bool) -> None:
    g = gaps(weights)
    assert bool(g.loc[A, "gap"] == pytest.approx(g.loc[B, "gap"])) is same


def test_a_zero_weight_removes_the_hot_spot_part() -> None:
    with_z = gaps(GapWeights(hotspot=0.0))
    # Confidence without the hot-spot part: 0.5·1 / 0.5 = 1 for A, and for D too.
    assert with_z.loc[D, "risk"] == pytest.approx(math.log(2) / math.log(31))
    assert with_z.loc[A, "risk"] == pytest.approx(1.0)


def test_trend_from_change_and_from_emerging_patterns() -> None:
    change = pd.DataFrame(
        {
            "cell": np.array([A, D], dtype=np.uint64),
            "class_mom": ["strong_increase", "increase"],
            "change_mom_pct": [150.0, 100.0],
        }
    )
    emerging = pd.DataFrame(
        {"cell": np.array([B, D], dtype=np.uint64), "class": ["new_hot", "persistent_hot"]}
    )
    g = gaps(change=change, emerging=emerging)
    assert g.loc[A, "risk_trend"] == 1.0 and g.loc[A, "trend_source"] == "change_mom"
    assert g.loc[B, "risk_trend"] == 1.0 and g.loc[B, "trend_class"] == "new_hot"
    # D: emerging persistent 0.5 beats a non-significant rise 0.25.
    assert g.loc[D, "risk_trend"] == 0.5 and g.loc[D, "trend_class"] == "persistent_hot"
    assert g.loc[C, "risk_trend"] == 0.0 and pd.isna(g.loc[C, "trend_source"])
    # D's risk: intensity × (0.5 + 0.3·0 + 0.2·0.5) / 1.0.
    assert g.loc[D, "risk"] == pytest.approx(math.log(2) / math.log(31) * 0.6)
    zh, en = reason(g.loc[A].to_dict() | {"cell": A}, incident_days=30.0, patrol_days=30.0)
    assert "环比上升150%（显著）" in zh and "up 150 % on last month (significant)" in en
    zh, en = reason(g.loc[B].to_dict(), incident_days=30.0)
    assert "新增热点" in zh and "new hot spot" in en


def test_communities_give_the_certified_and_volunteer_parts() -> None:
    communities = pd.DataFrame(
        {
            "cell": np.array([A, B], dtype=np.uint64),
            "households": [400.0, 100.0],
            "certified_households": [100.0, 100.0],
            "at_risk": [1, 0],
            "volunteers": [10.0, 0.0],
        }
    )
    heat = CASE["heat"].assign(population=[1000.0, 1000.0, 0.0, math.nan])
    g = coverage_gaps(
        AREA,
        incident_days=30.0,
        **(CASE | {"heat": heat}),
        communities=communities,
    ).set_index("cell")
    assert g.loc[A, "protection_certified"] == pytest.approx(0.25)
    # 10 volunteers for 1,000 residents against 20 per 1,000: half.
    assert g.loc[A, "protection_volunteers"] == pytest.approx(0.5)
    assert g.loc[B, "protection_certified"] == 1.0 and g.loc[B, "protection_volunteers"] == 0.0
    assert g.loc[C, "protection_certified"] == 0.0  # no communities
    protection_a = (0.4 / 32 + 0.3 * 0.3 + 0.15 * 0.25 + 0.15 * 0.5) / 1.0
    assert g.loc[A, "protection"] == pytest.approx(protection_a)
    assert "a certified community's title is at risk" in reason(g.loc[A].to_dict())[1]


def test_community_cells_discounts_titles_at_risk() -> None:
    statuses = pd.DataFrame(
        {
            "community_id": ["c1", "c2", "c3"],
            "status": ["certified", "certified", "in_progress"],
            "households": pd.array([100, 50, 30], dtype="Int64"),
            "at_risk": [False, True, False],
            "base_cell": np.array(
                [h3.str_to_int(h3.cell_to_center_child(h3.int_to_str(c), 11)) for c in (A, A, B)],
                dtype=np.uint64,
            ),
        }
    )
    table = pd.DataFrame({"community_id": ["c1", "c2", "c3"], "volunteers": [5, 7, 9]})
    got = community_cells(statuses, res=9, cells=AREA, communities=table).set_index("cell")
    assert got.loc[A, "households"] == 150 and got.loc[A, "certified_households"] == 100
    assert got.loc[A, "at_risk"] == 1 and got.loc[A, "volunteers"] == 12
    assert got.loc[B, "certified_households"] == 0 and got.loc[B, "volunteers"] == 9
    assert got.loc[C, "communities"] == 0


def test_intensity_known_answers() -> None:
    got = intensity([0, 1, 3, 30, 300], days=30.0, res=9)
    assert got.tolist() == pytest.approx(
        [0.0, math.log(2) / math.log(31), math.log(4) / math.log(31), 1.0, 1.0]
    )
    # 60 incidents in 60 days are 30 per 30 days; a res-8 cell holds 7 res-9 cells.
    assert intensity([60], days=60.0, res=9)[0] == pytest.approx(1.0)
    assert intensity([30], days=30.0, res=8)[0] == pytest.approx(math.log(31) / math.log(211))


def test_gap_class_breaks() -> None:
    assert gap_class([0.0, 0.0999, 0.1, 0.2, 0.349, 0.35, 0.5, 1.0]).tolist() == [
        0,
        0,
        1,
        2,
        2,
        3,
        4,
        4,
    ]


def test_band_counts_splits_incidents_by_the_hour_they_fall_in() -> None:
    # The centre child's point (its centre, A's centre) lies in A at res 9.
    cube = exact_rows(
        pd.DataFrame(
            {
                "cell": np.array(
                    [h3.str_to_int(h3.cell_to_center_child(h3.int_to_str(A), 11))] * 3,
                    dtype=np.uint64,
                ),
                "hour": pd.to_datetime(
                    ["2024-03-05 05:00", "2024-03-05 12:00", "2024-03-05 23:00"]
                ),
                "category": ["theft", "theft", "dispute"],
                "count": [2, 1, 4],
            }
        )
    )
    got = band_counts(cube, res=9, since="2024-03-05", until="2024-03-06", cells=AREA)
    row = got.set_index("cell").loc[A]
    # 05:00 and 23:00 are night (22–06), 12:00 is day.
    assert (row["incidents"], row["incidents_day"], row["incidents_night"]) == (7, 1, 6)
    assert got.set_index("cell").loc[B, "incidents"] == 0


def test_emerging_bins_are_whole_weeks_ending_at_the_window_end() -> None:
    until = pd.Timestamp("2024-03-31")
    bins = emerging_bins(until - pd.Timedelta(days=30), until)
    assert len(bins) == 4 and bins[-1] == (until - pd.Timedelta(weeks=1), until)
    short = emerging_bins(until - pd.Timedelta(days=7), until)
    assert len(short) == 12 and short[0][0] == until - pd.Timedelta(weeks=12)


def test_bad_inputs_fail_clearly() -> None:
    with pytest.raises(ValueError, match="risk weight"):
        GapWeights(intensity=0.0, hotspot=0.0, trend=0.0)
    with pytest.raises(ValueError, match=">= 0"):
        GapWeights(patrol=-1.0)
    with pytest.raises(ValueError, match="> 0"):
        GapScales(reach_limit_min=0.0)
    other_res = CASE["hotspots"].assign(
        cell=[
            h3.str_to_int(h3.cell_to_parent(h3.int_to_str(c), 8)) for c in CASE["hotspots"]["cell"]
        ]
    )
    with pytest.raises(ValueError, match="resolution"):
        coverage_gaps(AREA, incident_days=30.0, **(CASE | {"hotspots": other_res}))


def test_columns_are_the_documented_ones_and_inputs_are_not_modified() -> None:
    before = {k: v.copy() for k, v in CASE.items()}
    g = coverage_gaps(AREA, incident_days=30.0, **CASE)
    assert list(g.columns) == list(COLUMNS)
    assert g["cell"].tolist() == sorted(AREA.tolist())
    for k, v in CASE.items():
        pd.testing.assert_frame_equal(v, before[k])


# --- invariants ------------------------------------------------------------------------

_minutes = st.one_of(st.just(math.nan), st.floats(0.0, 40.0))
_cell_inputs = st.tuples(
    st.integers(0, 200),  # incidents
    st.floats(-5.0, 12.0),  # Gi* z
    st.tuples(*(st.floats(0.0, 3000.0) for _ in BANDS)),  # dwell by band
    _minutes,
    st.integers(0, 200),  # of which at night
)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(_cell_inputs, min_size=len(RING), max_size=len(RING)),
    days=st.floats(1.0, 400.0),
    min_class=st.integers(1, 4),
    weights=st.builds(
        GapWeights,
        intensity=st.floats(0.01, 2.0),
        hotspot=st.floats(0.0, 2.0),
        trend=st.floats(0.0, 2.0),
        patrol=st.floats(0.0, 2.0),
        reach=st.floats(0.0, 2.0),
        certified=st.floats(0.0, 2.0),
        volunteers=st.floats(0.0, 2.0),
    ),
)
def test_every_cell_is_covered_or_a_gap_never_both(
    rows: list[tuple[int, float, tuple[float, float, float], float, int]],
    days: float,
    min_class: int,
    weights: GapWeights,
) -> None:
    case = frames(
        counts={c: r[0] for c, r in zip(RING, rows, strict=True)},
        z={c: r[1] for c, r in zip(RING, rows, strict=True)},
        dwell={c: r[2] for c, r in zip(RING, rows, strict=True)},
        minutes={c: r[3] for c, r in zip(RING, rows, strict=True) if not math.isnan(r[3])},
        night={c: min(r[4], r[0]) for c, r in zip(RING, rows, strict=True)},
        days=days,
    )
    g = coverage_gaps(RING, incident_days=days, weights=weights, min_class=min_class, **case)
    assert g["cell"].tolist() == RING  # one row per cell of the area, none twice
    gap_cells = set(g.loc[g["state"] == "gap", "cell"])
    covered = set(g.loc[g["state"] == "covered", "cell"])
    assert gap_cells.isdisjoint(covered) and gap_cells | covered == set(RING)
    assert (g["is_gap"] == (g["state"] == "gap")).all()
    assert (g["is_gap"] == (g["class"] >= min_class)).all()
    assert (g["class"] == gap_class(g["gap"].to_numpy())).all()
    for col in ("gap", "risk", "protection", "risk_intensity", "risk_hotspot", "protection_patrol"):
        values = g[col].to_numpy()
        assert np.all((values >= 0) & (values <= 1 + 1e-12)), col
    assert sorted(g["rank"]) == list(range(1, len(RING) + 1))
    # More patrol never widens a gap.
    more = case | {
        "coverage": case["coverage"].assign(
            **{f"dwell_min_{b}": case["coverage"][f"dwell_min_{b}"] + 60.0 for b in BANDS},
            dwell_min=case["coverage"]["dwell_min"] + 180.0,
            dwell_min_per_day=(case["coverage"]["dwell_min"] + 180.0) / days,
        )
    }
    g2 = coverage_gaps(RING, incident_days=days, weights=weights, min_class=min_class, **more)
    assert np.all(g2["gap"].to_numpy() <= g["gap"].to_numpy() + 1e-12)


# --- the demo ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_gaps(demo_with_cubes: Path) -> dict[str, object]:
    from geodata.cubes import load_cube
    from geodata.store import read_manifest, read_table
    from layers.coverage_gaps import cell_layers, gaps_of
    from layers.grid_stats import grid_statistics_of

    d = demo_with_cubes
    manifest = read_manifest(d)
    until = pd.Timestamp(manifest["now"]).normalize() + pd.Timedelta(days=1)
    grids = read_table(d, "grids")
    layers = cell_layers(
        load_cube(d, "incidents"),
        load_cube(d, "patrol"),
        load_cube(d, "visits"),
        read_table(d, "communities"),
        read_table(d, "response_units"),
        grids,
        res=9,
        # The small demo has 2 days of patrols and 3,000 incidents in two years: judge
        # risk over a year and protection over the two days.
        since=until - pd.Timedelta(days=365),
        until=until,
        patrol_since=until - pd.Timedelta(days=2),
    )
    # The full-intensity scale is 30 incidents a month for the county demo's 100,000
    # incidents; the small demo has 3,000, so the same places get 3 % of the incidents.
    scales = GapScales(incidents_full=30.0 * manifest["counts"]["incidents"] / 100_000)
    g = gaps_of(layers, scales=scales)
    stats = grid_statistics_of(layers, grids=grids, precincts=read_table(d, "precincts"), gaps=g)
    return {"manifest": manifest, "gaps": g, "stats": stats}


def _planted(manifest: object, key: str) -> dict[str, object]:
    assert isinstance(manifest, dict)
    return next(p for p in manifest["planted_gaps"] if p["key"] == key)


def _metres(lng: np.ndarray, lat: np.ndarray, spot: dict[str, object]) -> np.ndarray:
    return np.asarray(
        [
            h3.great_circle_distance((la, lo), (float(spot["lat"]), float(spot["lng"])), unit="m")
            for lo, la in zip(lng, lat, strict=True)
        ]
    )


def test_demo_night_life_block_is_a_top_gap_for_want_of_night_patrol(
    demo_gaps: dict[str, object],
) -> None:
    top = top_gaps(demo_gaps["gaps"], n=20)
    spot = _planted(demo_gaps["manifest"], "night_unpatrolled_hotspot")
    near = top[_metres(top["lng"].to_numpy(), top["lat"].to_numpy(), spot) <= spot["radius_m"]]
    assert len(near) >= 1
    first = near.iloc[0]
    assert first["rank"] <= 5
    assert first["hotspot_class"].startswith("hot_")
    assert "夜间无巡逻驻留" in first["reason_zh"]
    assert "no patrol dwell at night" in first["reason_en"]


def test_demo_remote_township_is_the_reach_gap_of_the_county(
    demo_gaps: dict[str, object],
) -> None:
    spot = _planted(demo_gaps["manifest"], "remote_township_unreached")
    g = demo_gaps["gaps"]
    assert isinstance(g, pd.DataFrame)
    mine = g[(g["precinct_id"] == spot["precinct_id"]) & (g["count"] > 0)]
    # Every cell with incidents in the township is more than twice the 5-minute standard
    # from any unit (no reach protection at all), and the reason of its worst one says so.
    assert len(mine) > 0 and (mine["minutes"] > 10).all()
    assert (mine["protection_reach"] == 0.0).all()
    worst = mine.sort_values("rank").iloc[0]
    zh, en = reason(worst.to_dict(), incident_days=365.0, patrol_days=2.0)
    assert "距最近处置单元" in zh and "min to nearest unit" in en
    # In the precinct table it is the one precinct where nobody lives within 5 minutes of
    # a unit, and every one of its incidents happened beyond them.
    stats = demo_gaps["stats"]
    assert isinstance(stats, pd.DataFrame)
    precincts = stats[stats["level"] == "precinct"].set_index("zone_id")
    row = precincts.loc[spot["precinct_id"]]
    assert row["reach_share"] == 0.0
    assert (precincts.drop(index=spot["precinct_id"])["reach_share"] > 0).all()
    assert row["incidents_beyond_5"] == row["incidents"] > 0
