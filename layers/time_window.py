"""Time windows as a map chooses them: presets relative to the data's last day, playback
frames inside a window, time-of-day bands, and a cell's weekly trend.

"Today" is the data's last day, not the wall clock, so a demo or an archived import keeps
showing its own recent past. Every window is half-open, ``since <= hour < until``, in the
naive China Standard Time the cubes store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final, Literal

import numpy as np
import pandas as pd

from geodata.cubes.tables import cells_at, lineage
from geodata.hexes import cells_res
from layers.patrol_coverage.bands import DEFAULT_BANDS

Preset = Literal["today", "7d", "30d", "quarter", "custom"]
PRESETS: Final[tuple[Preset, ...]] = ("today", "7d", "30d", "quarter", "custom")

Step = Literal["day", "week"]
STEPS: Final[tuple[Step, ...]] = ("day", "week")

#: Time-of-day bands as [start hour, end hour) on the 24-hour clock; night wraps midnight.
#: The same bands as patrol coverage (:data:`layers.patrol_coverage.DEFAULT_BANDS`: day
#: 06–18, evening 18–22, night 22–06, the police shifts), so incidents and patrols of a
#: band line up.
BANDS: Final[Mapping[str, tuple[int, int]]] = DEFAULT_BANDS


def window_of(
    preset: str,
    *,
    last_day: pd.Timestamp,
    since: str | pd.Timestamp | None = None,
    until: str | pd.Timestamp | None = None,
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The half-open window ``(since, until)`` of a preset, relative to ``last_day``.

    Parameters
    ----------
    preset : str
        One of :data:`PRESETS`: the last day; the last 7 or 30 days; the calendar quarter
        holding the last day, up to its end; or ``custom`` (``since`` and ``until`` are
        the first and last day, both included).
    last_day : pandas.Timestamp
        The data's last day (its midnight or any time on it).
    since, until : str or Timestamp, optional
        First and last day of a custom window; missing ones default to the 30-day window.
        A custom window is clipped to end on ``last_day`` at the latest.

    Returns
    -------
    tuple of pandas.Timestamp
        ``(since, until)`` at midnights, ``since < until``.
    """
    end = pd.Timestamp(last_day).normalize() + pd.Timedelta(days=1)
    if preset == "today":
        return end - pd.Timedelta(days=1), end
    if preset == "7d":
        return end - pd.Timedelta(days=7), end
    if preset == "quarter":
        return pd.Timestamp(last_day).to_period("Q").start_time.normalize(), end
    if preset == "custom":
        default_since = end - pd.Timedelta(days=30)
        first = pd.Timestamp(since).normalize() if since else default_since
        last = (pd.Timestamp(until).normalize() + pd.Timedelta(days=1)) if until else end
        last = min(last, end)
        if first >= last:
            first = last - pd.Timedelta(days=1)
        return first, last
    if preset != "30d":
        raise ValueError(f"unknown window preset {preset!r}; known: {', '.join(PRESETS)}")
    return end - pd.Timedelta(days=30), end


def frames(
    since: pd.Timestamp, until: pd.Timestamp, *, step: str
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The playback frames of a window: consecutive days or weeks, the last one clipped.

    Parameters
    ----------
    since, until : pandas.Timestamp
        The window, half-open.
    step : {"day", "week"}

    Returns
    -------
    list of (since, until)
        In time order, covering the window exactly, none empty.
    """
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}; known: {', '.join(STEPS)}")
    length = pd.Timedelta(days=1 if step == "day" else 7)
    out: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    start = pd.Timestamp(since)
    while start < until:
        out.append((start, min(start + length, pd.Timestamp(until))))
        start = start + length
    return out


def band_mask(hours: pd.Series, band: str | None) -> np.ndarray:
    """Which timestamps fall in a time-of-day band (all of them for None or ``"all"``).

    Parameters
    ----------
    hours : pandas.Series of datetime
        Times (cube hours).
    band : str or None
        A key of :data:`BANDS`, ``"all"`` or None.

    Returns
    -------
    numpy.ndarray of bool
    """
    if band in (None, "", "all"):
        return np.ones(len(hours), dtype=bool)
    if band not in BANDS:
        raise ValueError(f"unknown time-of-day band {band!r}; known: {', '.join(BANDS)}")
    start, end = BANDS[band]
    h = hours.dt.hour.to_numpy()
    if start < end:
        return (h >= start) & (h < end)
    return (h >= start) | (h < end)


def weekly_counts(
    cube: pd.DataFrame,
    cell: int,
    *,
    until: pd.Timestamp,
    weeks: int = 52,
    categories: Iterable[str] | None = None,
    value_col: str = "count",
) -> pd.DataFrame:
    """Weekly totals of one cell (at any resolution no finer than the cube's) over the last
    ``weeks`` weeks before ``until`` — the small trend chart beside a clicked cell.

    Parameters
    ----------
    cube : pandas.DataFrame
        A cube with ``cell`` (uint64), ``hour`` and ``value_col``; ``category`` when
        ``categories`` is given. Not modified.
    cell : int
        The H3 cell (uint64 as int).
    until : pandas.Timestamp
        End of the last week (exclusive).
    weeks : int
        Number of weeks, at least 1.
    categories : iterable of str, optional
        Category codes to keep (None keeps all).
    value_col : str
        The column summed.

    Returns
    -------
    pandas.DataFrame
        ``week`` (start of the week, Timestamp) and ``value`` (float), one row per week,
        oldest first, zeros included.
    """
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    end = pd.Timestamp(until)
    start = end - pd.Timedelta(weeks=weeks)
    starts = pd.date_range(start, periods=weeks, freq="7D")
    res = int(cells_res(np.asarray([cell], dtype=np.uint64))[0])
    keep = (cube["hour"] >= start) & (cube["hour"] < end)
    if categories is not None:
        keep &= cube["category"].isin(list(categories))
    rows = cube.loc[keep, ["cell", *lineage(cube.columns), "hour", value_col]]
    mine = rows[cells_at(rows, res) == np.uint64(cell)]
    index = ((mine["hour"] - start) // pd.Timedelta(weeks=1)).to_numpy(dtype=np.int64)
    totals = np.bincount(
        index, weights=mine[value_col].to_numpy(dtype=np.float64), minlength=weeks
    )[:weeks]
    return pd.DataFrame({"week": starts, "value": totals.astype(np.float64)})
