"""Known answers for incident counts on hexagons (layers/incident_heat.py).

The cube is built by hand from cells chosen with h3-py, and parents are taken with h3-py
too, so the expected numbers do not come from the code under test.
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest

from layers.incident_heat import incident_counts, last_days

# Three res-11 cells near the county seat: A and B share a res-8 parent, C lies ~3 km away.
A = h3.str_to_int(h3.latlng_to_cell(31.3500, 107.7300, 11))
B = h3.str_to_int(h3.latlng_to_cell(31.3502, 107.7302, 11))
C = h3.str_to_int(h3.latlng_to_cell(31.3800, 107.7300, 11))
P_AB = h3.str_to_int(h3.cell_to_parent(h3.int_to_str(A), 8))
P_C = h3.str_to_int(h3.cell_to_parent(h3.int_to_str(C), 8))


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
    return frame.astype(
        {"cell": np.uint64, "hour": "datetime64[us]", "category": str, "count": np.int32}
    )


def _as_dict(frame: pd.DataFrame) -> dict[int, int]:
    return {int(c): int(n) for c, n in zip(frame["cell"], frame["count"], strict=True)}


def test_preconditions_of_the_fixture() -> None:
    assert A != B
    assert h3.str_to_int(h3.cell_to_parent(h3.int_to_str(B), 8)) == P_AB
    assert P_AB != P_C


def test_three_incidents_in_one_cell_count_three(cube: pd.DataFrame) -> None:
    result = incident_counts(
        cube, res=11, since="2026-11-20", until="2026-11-21", categories=["theft"]
    )
    assert _as_dict(result) == {A: 3, B: 5}


def test_rollup_to_a_coarser_resolution_sums_the_children(cube: pd.DataFrame) -> None:
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
    with pytest.raises(ValueError, match="res-12 parent of a res-11 cell"):
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
