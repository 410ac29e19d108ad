"""The patrol cube and the visits table, from GPS fixes of patrol units.

Dwell
-----
Each fix is credited the time to the same unit's next fix, capped at the ``cap`` of its
unit kind: ``min(gap, cap)``. The last fix of a unit, and a fix followed by a gap longer
than :data:`BREAK_S`, are credited ``cap`` (the unit was seen there for about one fix
interval). ``cap = CAP_FACTOR x`` the kind's nominal fix interval, which is the median
gap between consecutive fixes of that kind in the data (gaps of 0 and above
:data:`BREAK_S` left out), or :data:`DEFAULT_FIX_INTERVAL_S` for a kind without such
gaps, or what the caller gives. Deriving the interval from the data keeps both promises
of the analytics: dense fixes cannot inflate dwell (each fix is credited at most the time
to the next), and sparse devices (a volunteer's phone reporting every minute) do not lose
it, as one fixed cap for all would. A fix's dwell counts in its own cell and hour.

Visits
------
A visit starts at a unit's first fix, at every fix whose cell (at the base resolution or
any coarser one of :data:`~geodata.cubes.tables.COARSE_RES`, as H3 is not nested)
differs from the unit's previous fix, and after a break (the gap from the previous fix exceeds
:data:`BREAK_S`). It lasts to the last fix before the next start; ``left`` is that fix's
time plus its credited dwell.

How it is fast
--------------
Everything after the H3 indexing is numpy over whole columns: unit and kind codes come
straight from the Parquet dictionaries (:mod:`geodata.cubes.fixes`, no string compared
per row), consecutive fixes of a unit in one cell-hour collapse into segments, and the
segments are grouped by one packed 64-bit key (:mod:`geodata.cubes.segments`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

import numpy as np
import polars as pl
import pyarrow as pa

from geodata.cubes.fixes import Fixes, FloatArray, IntArray, fix_arrays, starts
from geodata.cubes.segments import Segments, patrol_table, visits_table
from geodata.cubes.tables import BASE_RES, US_PER_HOUR, US_PER_S, empty
from geodata.hexes import MAX_RES, NULL_CELL

BREAK_S = 600.0
"""A gap between two fixes of one unit longer than this (10 min) is not presence: the
device was off, the shift ended or the unit was indoors. It credits only the cap and
ends the visit. Ten minutes is below the 10-15 min Koper dose, so an unseen stretch can
never count as a whole dose; it is also below one hour, which keeps every hour that a
visit spans holding one of its fixes (what :func:`geodata.cubes.rollup` relies on)."""

CAP_FACTOR = 2.0
"""The dwell credited to one fix is at most this many nominal fix intervals: one late or
missed report is normal GPS behaviour; a longer silence is no evidence of staying."""

DEFAULT_FIX_INTERVAL_S: dict[str, float] = {
    "police_car": 10.0,  # vehicle terminals report every 5-10 s
    "foot_patrol": 30.0,  # police handhelds (警务通), 10-30 s
    "volunteer_patrol": 30.0,  # phone apps of patrol teams
    "red_armband": 30.0,
    "security_guard": 20.0,  # guard companies' trackers
}
"""Nominal fix interval per unit kind, used only when the data has no usable gap."""

FALLBACK_FIX_INTERVAL_S = 30.0
"""Nominal interval of a kind neither in the data's gaps nor in the table above."""


class PatrolCubes(NamedTuple):
    """What :func:`patrol_cubes` returns."""

    patrol: pl.DataFrame
    """One row per (cell, hour, unit_kind), sorted so; ``unit_kind`` as ``pl.Enum``."""
    visits: pl.DataFrame
    """One row per stay, sorted by (unit_id, entered); codes as ``pl.Enum``."""
    fix_interval_s: dict[str, float]
    """Nominal fix interval used per unit kind."""
    interval_source: dict[str, str]
    """Where each interval came from: "data", "given" or "default"."""
    cap_s: dict[str, float]
    """Most dwell one fix is credited, per unit kind."""
    dropped: int
    """Fixes left out for want of a unit, a kind, a time or a placeable coordinate."""
    was_sorted: bool
    """Whether the fixes came sorted by (unit_id, time); if not, they were sorted."""


GAP_BINS_PER_S = 100
"""Gaps are counted in bins of 10 ms to find a kind's median gap: exact at the 0.01 s the
interval is rounded to, and the counts of any parts of the data add up. So a build cut
into time partitions (on a Dask cluster, or refreshing a few days) finds the very
interval that one pass over all the fixes finds."""


def gap_counts(
    gap_s: FloatArray, kind: IntArray, kind_names: list[str], break_s: float
) -> pl.DataFrame:
    """Usable gaps between consecutive fixes, counted per unit kind and 10 ms bin.

    Parameters
    ----------
    gap_s : numpy.ndarray of float64
        Gap (s) from each fix to the same unit's next fix (``inf`` after a unit's last).
    kind : numpy.ndarray of int
        Code of each fix's unit kind (the kind of the earlier fix of a gap).
    kind_names : list of str
        Names of the codes.
    break_s : float
        Gaps of 0 and above this are no evidence of the fix interval and are left out.

    Returns
    -------
    polars.DataFrame
        ``unit_kind`` (String), ``bin`` (Int64: the gap in units of 10 ms, rounded half
        up) and ``count`` (Int64), only bins with a gap, sorted by kind and bin.
    """
    usable = (gap_s > 0) & (gap_s <= break_s)
    scaled = gap_s[usable]
    scaled *= GAP_BINS_PER_S
    scaled += 0.5
    n_bins = int(break_s * GAP_BINS_PER_S + 0.5) + 1
    key = kind[usable].astype(np.int64) * n_bins
    key += scaled.astype(np.int64)  # positive, so truncation is the floor: half rounds up
    counts = np.bincount(key, minlength=len(kind_names) * n_bins)
    hit = np.flatnonzero(counts)
    names: list[str] = [kind_names[i] for i in (hit // n_bins).tolist()]
    return pl.DataFrame(
        {"unit_kind": names, "bin": hit % n_bins, "count": counts[hit]},
        schema={"unit_kind": pl.String, "bin": pl.Int64, "count": pl.Int64},
    ).sort("unit_kind", "bin")


def nominal_intervals(
    counts: pl.DataFrame, kinds: Iterable[str], given: Mapping[str, float] | None = None
) -> tuple[dict[str, float], dict[str, str]]:
    """The nominal fix interval of each kind: the median of its usable gaps.

    Parameters
    ----------
    counts : polars.DataFrame
        Gap counts as :func:`gap_counts` gives them, or the sum of several (rows of one
        kind and bin may repeat: they are added).
    kinds : iterable of str
        The kinds to give an interval to.
    given : mapping, optional
        Intervals the caller sets, which win over the data.

    Returns
    -------
    interval : dict
        Seconds per kind, rounded to 0.01 s.
    source : dict
        Per kind, "given", "data" or "default" (no usable gap: the kind's entry of
        :data:`DEFAULT_FIX_INTERVAL_S`, else :data:`FALLBACK_FIX_INTERVAL_S`).
    """
    per_kind = counts.group_by("unit_kind", "bin").agg(pl.col("count").sum()).sort("bin")
    interval: dict[str, float] = {}
    source: dict[str, str] = {}
    for name in kinds:
        if given is not None and name in given:
            interval[name], source[name] = float(given[name]), "given"
            continue
        sel = per_kind.filter(pl.col("unit_kind") == name)
        n = int(sel["count"].sum()) if sel.height else 0
        if n:
            bins = sel["bin"].to_numpy()
            cum = np.cumsum(sel["count"].to_numpy())
            low = bins[np.searchsorted(cum, (n - 1) // 2, side="right")]
            high = bins[np.searchsorted(cum, n // 2, side="right")]
            median = (int(low) + int(high)) / (2 * GAP_BINS_PER_S)
            interval[name], source[name] = round(median, 2), "data"
        else:
            default = DEFAULT_FIX_INTERVAL_S.get(name, FALLBACK_FIX_INTERVAL_S)
            interval[name], source[name] = default, "default"
    return interval, source


def patrol_cubes(
    fixes: pl.DataFrame | pa.Table,
    *,
    base_res: int = BASE_RES,
    break_s: float = BREAK_S,
    fix_interval_s: Mapping[str, float] | None = None,
    pack_bits: int = 64,
) -> PatrolCubes:
    """Build the patrol cube and the visits table from patrol fixes.

    Parameters
    ----------
    fixes : polars.DataFrame or pyarrow.Table
        Columns ``unit_id``, ``unit_kind``, ``time`` (naive China Standard Time),
        ``lng``, ``lat``; rows in any order (sorted by (unit_id, time) is fastest: it is
        checked, not assumed). Rows with a null are left out and counted.
    base_res : int
        H3 resolution of the cells.
    break_s : float
        Gap (s) above which a unit counts as gone, see :data:`BREAK_S`; in (0, 3600).
    fix_interval_s : mapping, optional
        Nominal fix interval (s) per unit kind, overriding the medians found in the data.
    pack_bits : int
        Width of the packed group key; only tests lower it, to exercise the general path.

    Returns
    -------
    PatrolCubes
    """
    work = prepare_patrol(
        fixes,
        base_res=base_res,
        break_s=break_s,
        fix_interval_s=fix_interval_s,
        pack_bits=pack_bits,
    )
    return PatrolCubes(
        work.patrol(),
        work.visits(),
        work.fix_interval_s,
        work.interval_source,
        work.cap_s,
        work.dropped,
        work.was_sorted,
    )


class PreparedPatrol(NamedTuple):
    """Fixes indexed, sorted, credited and cut into segments: what both tables are made of.

    :func:`patrol_cubes` makes both tables at once; the build makes them in two threads
    so that writing the visits overlaps with grouping the patrol cube.
    """

    f: Fixes
    segments: Segments | None
    credited: FloatArray
    fix_interval_s: dict[str, float]
    interval_source: dict[str, str]
    cap_s: dict[str, float]
    dropped: int
    was_sorted: bool
    base_res: int
    pack_bits: int

    def patrol(self) -> pl.DataFrame:
        """The patrol cube."""
        if self.segments is None:
            return empty("patrol", self.base_res)
        return patrol_table(self.segments, self.f.kind_names, self.base_res, self.pack_bits)

    def visits(self) -> pl.DataFrame:
        """The visits table."""
        if self.segments is None:
            return empty("visits", self.base_res)
        return visits_table(self.segments, self.f, self.credited)


def prepare_patrol(
    fixes: pl.DataFrame | pa.Table,
    *,
    base_res: int = BASE_RES,
    break_s: float = BREAK_S,
    fix_interval_s: Mapping[str, float] | None = None,
    pack_bits: int = 64,
) -> PreparedPatrol:
    """Everything of :func:`patrol_cubes` up to the two tables (same parameters)."""
    if not 0 < break_s < 3_600:
        raise ValueError(f"break_s must lie in (0, 3600) s, got {break_s}")
    if not 0 <= base_res <= MAX_RES:
        raise ValueError(f"base_res must be 0..15, got {base_res}")
    f, dropped = fix_arrays(fixes, base_res)

    # Sorted by (unit_id, time)? Units appear in ascending order, once each, and time
    # never goes back inside a unit. Only if not, sort.
    unit_start = starts(f.unit)
    back = np.zeros(f.t.size, dtype=np.bool_)
    np.less(f.t[1:], f.t[:-1], out=back[1:])
    runs = f.unit[unit_start]
    was_sorted = not np.any(back & ~unit_start) and bool(np.all(runs[1:] > runs[:-1]))
    if not was_sorted:
        f = f.take(np.lexsort((f.t, f.unit)))
        unit_start = starts(f.unit)

    bad = f.cell == NULL_CELL
    if bad.any():
        f = f.take(~bad)
        unit_start = starts(f.unit)
        dropped += int(bad.sum())
    cell = f.cell

    n = cell.size
    last = np.empty(n, dtype=np.bool_)
    last[:-1] = unit_start[1:]
    last[-1:] = True
    gap_s = np.empty(n, dtype=np.float64)
    np.subtract(f.t[1:], f.t[:-1], out=gap_s[:-1])
    gap_s /= US_PER_S
    gap_s[last] = np.inf
    counts = gap_counts(gap_s, f.kind, f.kind_names, break_s)
    interval, source = nominal_intervals(counts, f.kind_names, fix_interval_s)
    cap_s = {k: min(v * CAP_FACTOR, break_s) for k, v in interval.items()}
    new_visit = unit_start.copy()
    new_visit[1:] |= (cell[1:] != cell[:-1]) | (gap_s[:-1] > break_s)
    # A stay is in one exact cell at every resolution: where the fixes of one base cell
    # fall in two cells of a coarser resolution (H3 is not nested), the stay splits, so
    # that each visit's dwell goes to the coarser cells its own fixes are in.
    for exact in f.coarse.values():
        new_visit[1:] |= exact[1:] != exact[:-1]

    cap = np.array([cap_s[k] for k in f.kind_names] or [0.0])
    credited = np.minimum(gap_s, cap[f.kind], out=gap_s)  # the gaps are not needed again

    if n == 0:
        segments = None
    else:
        # Segments: runs of fixes of one unit in one cell, hour and kind, with no break.
        hour = f.t // US_PER_HOUR
        seg = new_visit | starts(hour) | starts(f.kind)
        s = np.flatnonzero(seg)
        segments = Segments(
            start=s,
            cell=cell[s],
            coarse={r: c[s] for r, c in f.coarse.items()},
            hour=hour[s],
            kind=f.kind[s],
            unit=f.unit[s],
            fixes=np.diff(np.append(s, n)),
            dwell=np.add.reduceat(credited, s),
            visit=new_visit[s],  # a visit starts only at a segment start
        )
    return PreparedPatrol(
        f,
        segments,
        credited,
        interval,
        source,
        cap_s,
        dropped,
        was_sorted,
        base_res,
        pack_bits,
    )
