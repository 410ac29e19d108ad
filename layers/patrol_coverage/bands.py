"""Time-of-day bands and time windows, on whole hours of naive China Standard Time.

A band is a run of hours of the day, ``(start, end)`` with ``start`` included and
``end`` excluded; ``end < start`` wraps past midnight (night 22–06 is 22:00 to 06:00
the next morning) and ``(0, 24)`` is the whole day. The bands given to a layer must
share out the 24 hours of a day, each hour to exactly one band, so that per-band columns
add up to the whole-day totals.

Times inside the layers are int64 microseconds since 1970-01-01 00:00 of the naive
clock the cubes store, so ``(t // US_PER_HOUR) % 24`` is the hour of the day.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.schema import Label

US_PER_S = 1_000_000
US_PER_MIN = 60 * US_PER_S
US_PER_HOUR = 3_600 * US_PER_S
US_PER_DAY = 24 * US_PER_HOUR

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_BANDS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {"day": (6, 18), "evening": (18, 22), "night": (22, 6)}
)
"""Day 06:00–18:00, evening 18:00–22:00, night 22:00–06:00: the usual split of police
shifts (白班、晚班、夜班); the evening band is when street crime and disputes peak."""

BAND_LABELS: Mapping[str, Label] = MappingProxyType(
    {
        "day": Label("白天", "Day"),
        "evening": Label("傍晚", "Evening"),
        "night": Label("夜间", "Night"),
    }
)
"""Labels of the default bands (other band names are shown as given)."""


class Window(NamedTuple):
    """A half-open time window ``[start, end)`` in whole hours, as int64 microseconds."""

    start: int
    end: int

    @property
    def hours(self) -> int:
        return (self.end - self.start) // US_PER_HOUR

    @property
    def days(self) -> float:
        return (self.end - self.start) / US_PER_DAY


def window(since: pd.Timestamp | str, until: pd.Timestamp | str) -> Window:
    """The window ``since <= t < until``; both must be whole hours, ``until`` later.

    Whole hours because the patrol cube is hourly: a window starting at 10:30 could not
    say which half of the 10:00 row it holds.
    """
    t0, t1 = pd.Timestamp(since), pd.Timestamp(until)
    if t0.tz is not None or t1.tz is not None:
        raise ValueError("since and until are naive China Standard Time, as the cubes store")
    if t0 != t0.floor("h") or t1 != t1.floor("h"):
        raise ValueError(f"since and until must be whole hours, got {t0} and {t1}")
    if not t1 > t0:
        raise ValueError(f"the window must end after it starts: {t0} .. {t1}")
    return Window(int(t0.value // 1_000), int(t1.value // 1_000))


def check_bands(bands: Mapping[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """The bands as a plain dict, after checking that they share out the 24 hours.

    Raises
    ------
    ValueError
        If a bound is not a whole hour 0..24, a band is empty, or an hour of the day
        falls in no band or in two.
    """
    out: dict[str, tuple[int, int]] = {}
    owner: list[str | None] = [None] * 24
    for name, bounds in bands.items():
        start, end = (int(b) for b in bounds)
        if not (0 <= start <= 24 and 0 <= end <= 24) or start == end:
            raise ValueError(f"band {name!r}: bounds must be hours 0..24 and differ, got {bounds}")
        out[str(name)] = (start % 24, end % 24)
        for h in _hours_of(start % 24, end % 24):
            if owner[h] is not None:
                raise ValueError(f"hour {h}:00 lies in both band {owner[h]!r} and {name!r}")
            owner[h] = str(name)
    missing = [h for h, o in enumerate(owner) if o is None]
    if missing:
        raise ValueError(f"the bands leave the hours {missing} without a band")
    return out


def _hours_of(start: int, end: int) -> list[int]:
    return list(range(start, end)) if start < end else [*range(start, 24), *range(end)]


def band_of_hour(bands: Mapping[str, tuple[int, int]]) -> list[str]:
    """The band of each hour of the day 0..23 (bands as checked by :func:`check_bands`)."""
    owner = [""] * 24
    for name, (start, end) in bands.items():
        for h in _hours_of(start, end):
            owner[h] = name
    return owner


def hour_mask(bands: Mapping[str, tuple[int, int]], band: str | None) -> BoolArray:
    """Which hours of the day 0..23 belong to ``band`` (all of them when it is None)."""
    if band is None:
        return np.ones(24, dtype=np.bool_)
    if band not in bands:
        raise ValueError(f"unknown band {band!r}; the bands are {', '.join(bands)}")
    owner = band_of_hour(bands)
    return np.array([o == band for o in owner], dtype=np.bool_)


def window_hours(w: Window, mask: BoolArray) -> IntArray:
    """Start (µs) of every hour of the window whose hour of the day is in ``mask``."""
    starts = np.arange(w.start, w.end, US_PER_HOUR, dtype=np.int64)
    return starts[mask[(starts // US_PER_HOUR) % 24]]


def segments(w: Window, mask: BoolArray) -> tuple[IntArray, IntArray]:
    """The window cut to the hours of ``mask``: starts and ends (µs) of its runs of hours.

    With all 24 hours the window is one segment; with the night band it is one segment
    per night (22:00–06:00), cut at the window's edges.
    """
    hours = window_hours(w, mask)
    if hours.size == 0:
        return hours, hours.copy()
    new_run = np.ones(hours.size, dtype=np.bool_)
    new_run[1:] = np.diff(hours) != US_PER_HOUR
    first = np.flatnonzero(new_run)
    last = np.append(first[1:], hours.size) - 1
    return hours[first], hours[last] + US_PER_HOUR


__all__ = [
    "BAND_LABELS",
    "DEFAULT_BANDS",
    "US_PER_HOUR",
    "Window",
    "band_of_hour",
    "check_bands",
    "hour_mask",
    "segments",
    "window",
    "window_hours",
]
