"""Known answers for the map helpers: zoom → resolution, tile-snapped views, windows,
playback frames, time-of-day bands, a cell's weekly trend and nearby distances."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layers.nearby import distances_m, nearest
from layers.time_window import band_mask, frames, weekly_counts, window_of
from layers.viewport import in_bounds, snap_bounds, zoom_to_res
from tests.cube_rows import centre_cell, exact_rows

LAST = pd.Timestamp("2026-11-25")


@pytest.mark.parametrize(
    ("zoom", "res"),
    [(None, 7), (5, 7), (9.75, 7), (10, 8), (10.9, 8), (11, 9), (12.75, 9), (13, 10), (14.5, 10),
     (15, 11), (18, 11)],
)  # fmt: skip
def test_zoom_to_res(zoom: float | None, res: int) -> None:
    assert zoom_to_res(zoom) == res


def test_snap_bounds_at_zoom_1_is_the_quarter_tiles() -> None:
    # Zoom 1 has 2x2 tiles split at the equator and the prime meridian.
    south, west, north, east = snap_bounds((10.0, 10.0, 20.0, 20.0), zoom=1, margin=0)
    assert (south, west, east) == (0.0, 0.0, 180.0)
    assert north == pytest.approx(85.0511, abs=1e-3)


@given(
    lat=st.floats(20, 45),
    lng=st.floats(90, 120),
    span=st.floats(0.001, 0.5),
    zoom=st.floats(8, 17),
)
def test_snapped_bounds_contain_the_view_and_are_stable(
    lat: float, lng: float, span: float, zoom: float
) -> None:
    view = (lat, lng, lat + span, lng + span)
    snapped = snap_bounds(view, zoom=zoom)
    assert snapped[0] <= view[0] and snapped[1] <= view[1]
    assert snapped[2] >= view[2] and snapped[3] >= view[3]
    # Snapping already snapped bounds (no margin) changes nothing: cache keys repeat.
    again = snap_bounds(snapped, zoom=zoom, margin=0)
    assert again == pytest.approx(snapped, abs=1e-9)


def test_in_bounds_includes_edges() -> None:
    mask = in_bounds([107.0, 108.0, 109.0], [31.0, 31.5, 32.0], (31.0, 107.0, 31.5, 108.0))
    assert mask.tolist() == [True, True, False]
    assert in_bounds([1.0], [2.0], None).tolist() == [True]


@pytest.mark.parametrize(
    ("preset", "since", "until"),
    [
        ("today", "2026-11-25", "2026-11-26"),
        ("7d", "2026-11-19", "2026-11-26"),
        ("30d", "2026-10-27", "2026-11-26"),
        ("quarter", "2026-10-01", "2026-11-26"),
    ],
)
def test_window_presets_end_on_the_data_last_day(preset: str, since: str, until: str) -> None:
    assert window_of(preset, last_day=LAST) == (pd.Timestamp(since), pd.Timestamp(until))


def test_custom_window_includes_both_days_and_is_clipped() -> None:
    assert window_of("custom", last_day=LAST, since="2026-09-01", until="2026-09-03") == (
        pd.Timestamp("2026-09-01"),
        pd.Timestamp("2026-09-04"),
    )
    assert window_of("custom", last_day=LAST, since="2026-11-20", until="2027-01-01")[1] == (
        pd.Timestamp("2026-11-26")
    )
    with pytest.raises(ValueError, match="unknown window preset"):
        window_of("yesterday", last_day=LAST)


def test_frames_cover_the_window() -> None:
    since, until = pd.Timestamp("2026-11-01"), pd.Timestamp("2026-11-17")
    weeks = frames(since, until, step="week")
    assert [(a.day, b.day) for a, b in weeks] == [(1, 8), (8, 15), (15, 17)]
    assert len(frames(since, until, step="day")) == 16


def test_night_band_wraps_midnight() -> None:
    hours = pd.Series(pd.to_datetime([f"2026-11-25 {h:02d}:00" for h in range(24)]))
    night = np.flatnonzero(band_mask(hours, "night")).tolist()
    assert night == [0, 1, 2, 3, 4, 5, 22, 23]
    assert np.flatnonzero(band_mask(hours, "evening")).tolist() == [18, 19, 20, 21]
    assert band_mask(hours, "all").all()


def test_weekly_counts_of_a_coarser_cell() -> None:
    a = int(h3.str_to_int(h3.latlng_to_cell(31.33, 107.70, 11)))
    far = int(h3.str_to_int(h3.latlng_to_cell(31.50, 107.90, 11)))
    cube = exact_rows(
        pd.DataFrame(
            {
                "cell": np.array([a, a, a, far], dtype=np.uint64),
                "hour": pd.to_datetime(
                    ["2026-11-25 10:00", "2026-11-18 10:00", "2026-11-17 23:00", "2026-11-25 10:00"]
                ),
                "category": ["theft", "fraud", "theft", "theft"],
                "count": [2, 5, 1, 9],
            }
        )
    )
    parent = centre_cell(a, 8)  # the res-8 hexagon a's point lies in
    until = pd.Timestamp("2026-11-26")
    trend = weekly_counts(cube, parent, until=until, weeks=3)
    # Weeks start 2026-11-05, -12, -19: the 17th and 18th fall in the second week.
    assert trend["week"].dt.day.tolist() == [5, 12, 19]
    assert trend["value"].tolist() == [0.0, 6.0, 2.0]
    theft = weekly_counts(cube, parent, until=until, weeks=3, categories=["theft"])
    assert theft["value"].tolist() == [0.0, 1.0, 2.0]


def test_distances_and_nearest() -> None:
    # One degree of latitude on the mean sphere: 2*pi*R/360 = 111,195 m.
    assert distances_m(107.0, 31.0, [107.0], [32.0])[0] == pytest.approx(111_195.1, abs=1)
    pos, dist = nearest(107.0, 31.0, [107.0, 107.0, 107.0], [31.02, 31.01, 33.0], k=5, max_m=5000)
    assert pos.tolist() == [1, 0]
    assert dist[0] == pytest.approx(1111.95, abs=0.1)
