"""GPS fixes (巡逻轨迹) of the demo's patrol units.

Every unit of :mod:`geodata.demo.patrol_units` goes out in sessions set by its schedule;
a fix is recorded every 10 s (cars), 20 s (guards) or 30 s (on foot), with ~5 m of GPS
noise (cut at 15 m, inside the 30 m the loops keep from the border) and 1 % of fixes lost.
Everything is vectorised per unit: session times are expanded with ``np.repeat`` and
positions interpolated along each loop with ``np.interp``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from geodata.demo.area import Geography
from geodata.demo.communities import Communities
from geodata.demo.hotspots import NIGHT_HOURS, HotSpot
from geodata.demo.patrol_units import GPS_SIGMA_M, Unit, build_loops, plan_units
from geodata.demo.scale import NOW
from geodata.demo.space import FloatArray, IntArray

INTERVAL_S = {
    "police_car": 10,
    "foot_patrol": 30,
    "volunteer_patrol": 30,
    "red_armband": 30,
    "security_guard": 20,
}
"""Seconds between two fixes, by unit kind."""

DROPOUT = 0.01
"""Share of fixes lost (tunnels, valleys, dead batteries)."""


def _sessions(
    unit: Unit, days: int, rng: np.random.Generator
) -> tuple[IntArray, IntArray, IntArray]:
    """Session start/end (seconds since the first patrol day) and loop index per session."""
    starts: list[int] = []
    ends: list[int] = []
    loops: list[int] = []
    night_start, night_end = NIGHT_HOURS
    day_loops = len(unit.loops) - unit.night_loops
    for d in range(days):
        for a, b in unit.schedule(rng):
            # Split at 06:00 and 20:00 so that each piece is wholly day or wholly night.
            cuts = [a]
            for k in range(int(a // 86400), int(b // 86400) + 1):
                for h in (night_end, night_start):
                    c = k * 86400 + h * 3600
                    if a < c < b:
                        cuts.append(c)
            cuts = [*sorted(cuts), b]
            for s, e in itertools.pairwise(cuts):
                hour = ((s + e) / 2 % 86400) / 3600
                is_night = hour >= night_start or hour < night_end
                if is_night and unit.night_loops == 0:
                    continue
                choice = (
                    day_loops + int(rng.integers(unit.night_loops))
                    if is_night
                    else int(rng.integers(day_loops))
                )
                start = d * 86400 + round(s)
                end = min(d * 86400 + round(e), days * 86400)
                if end > start:
                    starts.append(start)
                    ends.append(end)
                    loops.append(choice)
    return np.array(starts, np.int64), np.array(ends, np.int64), np.array(loops, np.int64)


def _unit_fixes(
    geo: Geography, unit: Unit, days: int, rng: np.random.Generator
) -> tuple[IntArray, FloatArray, FloatArray]:
    start, end, loop = _sessions(unit, days, rng)
    order = np.argsort(start, kind="stable")
    start, end, loop = start[order], end[order], loop[order]
    if len(start) > 1 and (start[1:] < end[:-1]).any():
        raise RuntimeError(f"overlapping sessions for {unit.unit_id}")
    dt = INTERVAL_S[unit.kind]
    n = (end - start + dt - 1) // dt
    total = int(n.sum())
    session = np.repeat(np.arange(len(n)), n)
    offset = (np.arange(total) - np.repeat(np.cumsum(n) - n, n)) * dt
    t = start[session] + offset
    periods = np.array([k[0][-1] for k in unit.loops])
    phase = rng.uniform(0.0, 1.0, len(n)) * periods[loop]
    x = np.empty(total)
    y = np.empty(total)
    for li, (kt, kx, ky) in enumerate(unit.loops):
        rows = np.flatnonzero(loop[session] == li)
        tau = np.mod(offset[rows] + phase[session[rows]], kt[-1])
        x[rows] = np.interp(tau, kt, kx)
        y[rows] = np.interp(tau, kt, ky)
    noise = np.clip(rng.normal(0.0, GPS_SIGMA_M, (2, total)), -3 * GPS_SIGMA_M, 3 * GPS_SIGMA_M)
    keep = rng.random(total) >= DROPOUT
    return t[keep], x[keep] + noise[0, keep], y[keep] + noise[1, keep]


def build_patrol_fixes(
    geo: Geography,
    communities: Communities,
    spots: list[HotSpot],
    *,
    days: int,
    multiplier: float,
    rng: np.random.Generator,
    progress: bool = False,
) -> pd.DataFrame:
    """GPS fixes of every patrol unit over the ``days`` days ending at the demo's "now".

    Parameters
    ----------
    geo, communities, spots
        Where units are based and go.
    days
        Length of the patrol record.
    multiplier
        Scale of the number of mass-prevention units.
    rng
        Deterministic generator.
    progress
        Show a tqdm bar over the units.

    Returns
    -------
    DataFrame
        Columns of the ``patrol_fixes`` schema, sorted by (unit_id, time).
    """
    units = plan_units(geo, communities, spots, multiplier, rng)
    build_loops(geo, units, spots, rng)
    first = (NOW + np.timedelta64(1, "s") - np.timedelta64(days, "D")).astype("datetime64[s]")
    t_parts: list[IntArray] = []
    x_parts: list[FloatArray] = []
    y_parts: list[FloatArray] = []
    counts = np.zeros(len(units), dtype=np.int64)
    for i, unit in enumerate(tqdm(units, desc="patrol units", disable=not progress, leave=False)):
        t, x, y = _unit_fixes(geo, unit, days, rng)
        t_parts.append(t)
        x_parts.append(x)
        y_parts.append(y)
        counts[i] = len(t)
    lng, lat = geo.frame.to_lnglat(np.concatenate(x_parts), np.concatenate(y_parts))
    codes = pa.array(np.repeat(np.arange(len(units), dtype=np.int32), counts))
    ids = pa.DictionaryArray.from_arrays(codes, pa.array([u.unit_id for u in units])).cast(
        pa.string()
    )
    kinds = pa.DictionaryArray.from_arrays(codes, pa.array([u.kind for u in units])).cast(
        pa.string()
    )
    seconds = np.concatenate(t_parts)
    return pd.DataFrame(
        {
            "unit_id": pd.Series(ids, dtype="str"),
            "unit_kind": pd.Series(kinds, dtype="str"),
            "time": (first + seconds.astype("timedelta64[s]")).astype("datetime64[us]"),
            "lng": lng,
            "lat": lat,
        }
    )
