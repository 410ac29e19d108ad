"""layers.grid_stats: one table per precinct and grid, known answers on a hand-made area.

Two grids of one precinct: g1 holds cells a and b, g2 holds cell c. Every expected figure
below is worked out by hand from the per-cell frames, never read from the code.
"""

from __future__ import annotations

import math

import h3
import numpy as np
import pandas as pd
import pytest

from layers.grid_stats import COLUMNS, LABELS, LEVELS, grid_statistics
from layers.response_reach import minutes_to_band

_BASE = h3.latlng_to_cell(31.35, 107.75, 9)
a, b, c = sorted(h3.str_to_int(x) for x in list(h3.grid_disk(_BASE, 1))[:3])
CELLS = np.array([a, b, c], dtype=np.uint64)
NOW = (pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-31"))
WINDOWS = {
    "now": NOW,
    "mom": (pd.Timestamp("2024-01-31"), pd.Timestamp("2024-03-01")),  # 30 days too
    "yoy": (pd.Timestamp("2023-03-01"), pd.Timestamp("2023-03-31")),
}

ZONES = pd.DataFrame(
    {"cell": CELLS, "grid_id": ["g1", "g1", "g2"], "precinct_id": ["p1", "p1", "p1"]}
)
GRIDS = pd.DataFrame(
    {
        "grid_id": ["g1", "g2"],
        "name": ["一网格", "二网格"],
        "precinct_id": ["p1", "p1"],
        "population": [1000, 500],
    }
)
PRECINCTS = pd.DataFrame({"precinct_id": ["p1"], "name": ["城关派出所"]})


def change_frame() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "cell": CELLS,
            "count": [6, 4, 0],
            "count_mom": pd.array([2, 3, 1], dtype="Int64"),
            "count_yoy": pd.array([5, 5, 0], dtype="Int64"),
        }
    )
    frame.attrs["windows"] = WINDOWS
    return frame


COVERAGE = pd.DataFrame(
    {
        "cell": CELLS,
        "dwell_min": [45.0 * 30, 10.0 * 30, 0.0],
        "dwell_min_per_day": [45.0, 10.0, 0.0],
    }
)
DOSE = pd.DataFrame(
    {
        "cell": np.array([a], dtype=np.uint64),
        "value": [0.25],
        "hours": [100],
        "dosed_hours": [25],
        "doses": [4],
    }
)
STATUSES = pd.DataFrame(
    {
        "community_id": ["c1", "c2", "c3"],
        "status": ["certified", "not_started", "certified"],
        "grid_id": ["g1", "g1", "g2"],
        "households": pd.array([100, 100, 50], dtype="Int64"),
        "zero_incident": [True, False, False],
        "at_risk": [False, False, True],
    }
)
MINUTES = np.array([2.0, 7.0, 3.0])
REACH = pd.DataFrame({"cell": CELLS, "minutes": MINUTES, "band": minutes_to_band(MINUTES)})
POPULATION = pd.DataFrame({"cell": CELLS, "population": [600.0, 400.0, 500.0]})
GAPS = pd.DataFrame({"cell": CELLS, "is_gap": [True, False, False]})


def table(**overrides: object) -> pd.DataFrame:
    kwargs: dict[str, object] = {
        "grids": GRIDS,
        "precincts": PRECINCTS,
        "change": change_frame(),
        "coverage": COVERAGE,
        "reach": REACH,
        "dose": DOSE,
        "statuses": STATUSES,
        "population": POPULATION,
        "gaps": GAPS,
    }
    kwargs.update(overrides)
    return grid_statistics(ZONES, **kwargs)


def _binomial_two_sided(k: int, n: int) -> float:
    """Two-sided exact p of k successes in n at p = 1/2 (symmetric: twice the upper tail)."""
    tail = sum(math.comb(n, i) for i in range(max(k, n - k), n + 1)) / 2**n
    return min(1.0, 2 * tail)


def test_rows_precincts_first_then_grids() -> None:
    got = table()
    assert got[["level", "zone_id"]].values.tolist() == [
        ["precinct", "p1"],
        ["grid", "g1"],
        ["grid", "g2"],
    ]
    assert got["name"].tolist() == ["城关派出所", "一网格", "二网格"]
    assert got["precinct_id"].tolist() == ["p1", "p1", "p1"]
    assert list(got.columns) == list(COLUMNS)
    assert LEVELS == ("precinct", "grid")


def test_incidents_rate_and_change_by_hand() -> None:
    got = table().set_index("zone_id")
    assert got["cells"].tolist() == [3, 2, 1]
    assert got["incidents"].tolist() == [10, 10, 0]
    assert got.loc["g1", "rate_per_1000"] == pytest.approx(10.0)
    assert got.loc["g2", "rate_per_1000"] == 0.0
    assert got.loc["p1", "rate_per_1000"] == pytest.approx(10 / 1500 * 1000)
    # g1: 10 now against 5 a month earlier, equal windows: +100 %, p = 0.3018.
    assert got.loc["g1", "incidents_mom"] == 5
    assert got.loc["g1", "change_mom_pct"] == pytest.approx(100.0)
    assert not got.loc["g1", "significant_mom"]
    assert got.loc["g1", "class_mom"] == "increase"
    assert _binomial_two_sided(10, 15) == pytest.approx(4944 / 32768 * 2)
    # g2: none now, one a month earlier: −100 %, not significant (n = 1).
    assert got.loc["g2", "change_mom_pct"] == pytest.approx(-100.0)
    assert got.loc["g2", "class_mom"] == "decrease"
    # p1: 10 now, 6 a month earlier; 10 against 10 a year earlier: stable.
    assert got.loc["p1", "incidents_mom"] == 6
    assert got.loc["p1", "change_mom_pct"] == pytest.approx(4 / 6 * 100)
    assert got.loc["p1", "change_yoy_pct"] == 0.0 and got.loc["p1", "class_yoy"] == "stable"
    assert got.loc["g2", "state_yoy"] == "none"


def test_a_significant_change_is_flagged() -> None:
    frame = change_frame()
    frame["count"] = [30, 10, 0]  # g1: 40 against 5: p far below 0.05
    got = table(change=frame).set_index("zone_id")
    assert _binomial_two_sided(40, 45) < 0.05
    assert got.loc["g1", "significant_mom"]
    assert got.loc["g1", "class_mom"] == "strong_increase"


def test_patrol_coverage_and_koper_dose_by_hand() -> None:
    got = table().set_index("zone_id")
    # Standard 30 min/day: a (45) meets it, b (10) and c (0) do not.
    assert got["coverage_share"].tolist() == pytest.approx([1 / 3, 0.5, 0.0])
    assert got["covered_cells"].tolist() == [1, 1, 0]
    assert got["no_patrol_cells"].tolist() == [1, 0, 1]
    assert got.loc["g1", "koper_dose"] == pytest.approx(0.25)
    assert math.isnan(got.loc["g2", "koper_dose"])  # no hot spot in g2
    assert got["hotspot_cells"].tolist() == [1, 1, 0]


def test_safe_communities_reach_and_gaps_by_hand() -> None:
    got = table().set_index("zone_id")
    assert got["communities"].tolist() == [3, 2, 1]
    assert got["certified"].tolist() == [2, 1, 1]
    assert got["certified_share"].tolist() == pytest.approx([150 / 250, 0.5, 1.0])
    assert got["at_risk"].tolist() == [1, 0, 1]
    assert got["zero_incident"].tolist() == [1, 1, 0]
    # Residents within 5 minutes: a (600) and c (500); b's 400 are beyond.
    assert got["reach_share"].tolist() == pytest.approx([1100 / 1500, 0.6, 1.0])
    assert got["population_beyond_5"].tolist() == pytest.approx([400.0, 400.0, 0.0])
    assert got["incidents_beyond_5"].tolist() == [4, 4, 0]
    assert got["max_minutes"].tolist() == pytest.approx([7.0, 7.0, 3.0])
    assert got["gap_cells"].tolist() == [1, 1, 0]
    assert got["gap_share"].tolist() == pytest.approx([1 / 3, 0.5, 0.0])


def test_missing_inputs_give_missing_figures_not_zeros() -> None:
    got = table(dose=None, statuses=None, gaps=None, grids=GRIDS.drop(columns="population"))
    assert got["koper_dose"].isna().all()
    assert got["certified_share"].isna().all()
    assert got["gap_cells"].isna().all()
    assert got["rate_per_1000"].isna().all()


def test_windows_are_needed_and_data_before_the_start_is_no_data() -> None:
    frame = change_frame()
    frame.attrs = {}
    with pytest.raises(ValueError, match="windows"):
        table(change=frame)
    frame["count_yoy"] = pd.array([pd.NA] * 3, dtype="Int64")  # before the data began
    got = table(change=frame, windows=WINDOWS).set_index("zone_id")
    assert (got["state_yoy"] == "no_data").all() and got["class_yoy"].isna().all()


def test_every_column_has_both_labels() -> None:
    assert tuple(LABELS) == COLUMNS
    for col, label in LABELS.items():
        assert label.zh and label.en, col


def test_inputs_are_not_modified() -> None:
    frame = change_frame()
    before = [x.copy() for x in (ZONES, GRIDS, COVERAGE, REACH, STATUSES, frame)]
    table(change=frame)
    for old, new in zip(before, (ZONES, GRIDS, COVERAGE, REACH, STATUSES, frame), strict=True):
        pd.testing.assert_frame_equal(old, new)
