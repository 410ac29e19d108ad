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
A visit starts at a unit's first fix, at every fix whose cell differs from the unit's
previous fix, and after a break (the gap from the previous fix exceeds
:data:`BREAK_S`). It lasts to the last fix before the next start; ``left`` is that fix's
time plus its credited dwell.

How it is fast
--------------
Everything after the H3 indexing is numpy over whole columns: unit and kind codes come
straight from the Parquet dictionaries (no string is compared), consecutive fixes of a
unit in the same cell-hour collapse into segments, and segments group by one packed
64-bit key (hour, cell, kind) with an unstable sort and ``bincount``. Distinct units per
group come from sorting packed (group, unit) pairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from geodata.cubes.tables import BASE_RES, TIME, US_PER_HOUR, US_PER_S, empty
from geodata.hexes import MAX_RES, NULL_CELL, cell_expr

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

FIX_COLUMNS = ("unit_id", "unit_kind", "time", "lng", "lat")
CODE_FIX_COLUMNS = ("unit_id", "unit_kind")

_U64 = np.uint64
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
CellArray = npt.NDArray[np.uint64]


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


class _Fixes(NamedTuple):
    unit: IntArray  # rank of unit_id among the sorted names
    unit_names: list[str]
    kind: IntArray  # rank of unit_kind among the sorted names
    kind_names: list[str]
    t: IntArray  # microseconds since 1970, naive China Standard Time
    cell: CellArray

    def take(self, index: npt.NDArray[np.intp] | BoolArray) -> _Fixes:
        return self._replace(
            unit=self.unit[index], kind=self.kind[index], t=self.t[index], cell=self.cell[index]
        )


def _starts(values: npt.NDArray[np.generic]) -> BoolArray:
    """True on the first row and wherever a value differs from the one before."""
    out = np.empty(values.size, dtype=np.bool_)
    out[:1] = True
    np.not_equal(values[1:], values[:-1], out=out[1:])
    return out


def _codes(column: pa.ChunkedArray) -> tuple[IntArray, list[str]]:
    """Integer codes of a string column, numbered in the sorted order of the strings."""
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column.cast(pa.string()))
    if column.num_chunks == 0:
        return np.zeros(0, dtype=np.int32), []
    arr = column.unify_dictionaries().combine_chunks()
    names = [str(x) for x in arr.dictionary.to_pylist()]
    index = arr.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    order = sorted(range(len(names)), key=names.__getitem__)
    if order == list(range(len(names))):  # already in order, as a sorted file gives it
        return index, names
    rank = np.empty(len(names), dtype=np.int32)
    rank[order] = np.arange(len(names), dtype=np.int32)
    return rank[index], [names[i] for i in order]


def _times_us(column: pa.ChunkedArray) -> IntArray:
    typ = column.type
    if not pa.types.is_timestamp(typ):
        raise ValueError(f"patrol fixes: 'time' must be a timestamp, got {typ}")
    if typ.tz is not None:  # wall-clock time in China, as the rest of the store
        column = pc.local_timestamp(column.cast(pa.timestamp(typ.unit, "Asia/Shanghai")))
    column = column.cast(pa.timestamp("us"))
    if column.num_chunks == 0:
        return np.zeros(0, dtype=np.int64)
    out: IntArray = column.combine_chunks().to_numpy(zero_copy_only=False).view(np.int64)
    return out


def _fix_arrays(fixes: pl.DataFrame | pa.Table, base_res: int) -> tuple[_Fixes, int]:
    table = fixes.to_arrow() if isinstance(fixes, pl.DataFrame) else fixes
    missing = [c for c in FIX_COLUMNS if c not in table.column_names]
    if missing:
        raise ValueError(f"patrol fixes lack the columns {missing}")
    table = table.select(list(FIX_COLUMNS))
    rows = table.num_rows
    if any(table[c].null_count for c in FIX_COLUMNS):
        valid = pc.is_valid(table["unit_id"])
        for c in FIX_COLUMNS[1:]:
            valid = pc.and_(valid, pc.is_valid(table[c]))
        table = table.filter(valid)
    unit, unit_names = _codes(table["unit_id"])
    kind, kind_names = _codes(table["unit_kind"])
    f = _Fixes(
        unit=unit,
        unit_names=unit_names,
        kind=kind,
        kind_names=kind_names,
        t=_times_us(table["time"]),
        # Index straight from the Arrow columns (no copy); the order of rows is irrelevant.
        cell=pl.from_arrow(table.select(["lng", "lat"]))  # type: ignore[union-attr]
        .select(cell_expr("lng", "lat", base_res))["cell"]
        .to_numpy(),
    )
    return f, rows - table.num_rows


def _nominal_intervals(
    gap_s: FloatArray,
    kind: IntArray,
    kinds: list[str],
    given: Mapping[str, float] | None,
    break_s: float,
) -> tuple[dict[str, float], dict[str, str]]:
    # A regular subsample of ~0.5M gaps gives the median to well under a second, cheaply.
    stride = max(1, gap_s.size // 500_000)
    g, k = gap_s[::stride], kind[::stride]
    usable = (g > 0) & (g <= break_s)
    interval: dict[str, float] = {}
    source: dict[str, str] = {}
    for code, name in enumerate(kinds):
        if given is not None and name in given:
            interval[name], source[name] = float(given[name]), "given"
            continue
        sel = g[usable & (k == code)]
        if sel.size:
            interval[name], source[name] = round(float(np.median(sel)), 2), "data"
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
    if not 0 < break_s < 3_600:
        raise ValueError(f"break_s must lie in (0, 3600) s, got {break_s}")
    if not 0 <= base_res <= MAX_RES:
        raise ValueError(f"base_res must be 0..15, got {base_res}")
    f, dropped = _fix_arrays(fixes, base_res)

    # Sorted by (unit_id, time)? Units appear in ascending order, once each, and time
    # never goes back inside a unit. Only if not, sort.
    unit_start = _starts(f.unit)
    back = np.zeros(f.t.size, dtype=np.bool_)
    np.less(f.t[1:], f.t[:-1], out=back[1:])
    runs = f.unit[unit_start]
    was_sorted = not np.any(back & ~unit_start) and bool(np.all(runs[1:] > runs[:-1]))
    if not was_sorted:
        f = f.take(np.lexsort((f.t, f.unit)))
        unit_start = _starts(f.unit)

    bad = f.cell == NULL_CELL
    if bad.any():
        f = f.take(~bad)
        unit_start = _starts(f.unit)
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
    interval, source = _nominal_intervals(gap_s, f.kind, f.kind_names, fix_interval_s, break_s)
    cap_s = {k: min(v * CAP_FACTOR, break_s) for k, v in interval.items()}
    cap = np.array([cap_s[k] for k in f.kind_names] or [0.0])
    credited = np.minimum(gap_s, cap[f.kind])

    new_visit = unit_start.copy()
    new_visit[1:] |= (cell[1:] != cell[:-1]) | (gap_s[:-1] > break_s)

    if n == 0:
        return PatrolCubes(
            empty("patrol"), empty("visits"), interval, source, cap_s, dropped, was_sorted
        )
    # Segments: runs of fixes of one unit in one cell, hour and kind, with no break.
    hour = f.t // US_PER_HOUR
    seg = new_visit | _starts(hour) | _starts(f.kind)
    s = np.flatnonzero(seg)
    segments = _Segments(
        start=s,
        cell=cell[s],
        hour=hour[s],
        kind=f.kind[s],
        unit=f.unit[s],
        fixes=np.diff(np.append(s, n)),
        dwell=np.add.reduceat(credited, s),
        visit=new_visit[s],  # a visit starts only at a segment start
    )
    patrol = _patrol_table(segments, f.kind_names, base_res, pack_bits)
    visits = _visits_table(segments, f, credited)
    return PatrolCubes(patrol, visits, interval, source, cap_s, dropped, was_sorted)


class _Segments(NamedTuple):
    start: npt.NDArray[np.intp]  # row of the first fix
    cell: CellArray
    hour: IntArray  # hours since 1970
    kind: IntArray
    unit: IntArray
    fixes: IntArray
    dwell: FloatArray
    visit: BoolArray  # whether a visit starts here


def _enum(codes: npt.NDArray[np.integer], names: list[str]) -> pl.Series:
    return pl.Series(codes.astype(np.uint32, copy=False)).cat.to(pl.Enum(names))


def _patrol_table(
    seg: _Segments, kind_names: list[str], base_res: int, pack_bits: int
) -> pl.DataFrame:
    shift = _U64(3 * (MAX_RES - base_res))
    cell_bits = 7 + 3 * base_res  # base cell (7 bits) and one 3-bit digit per resolution
    kind_bits = max(1, (len(kind_names) - 1).bit_length())
    low_bits = cell_bits + kind_bits
    cell_kind = ((seg.cell >> shift) & _U64((1 << cell_bits) - 1)) << _U64(kind_bits)
    cell_kind |= seg.kind.astype(_U64)
    h0 = int(seg.hour.min())
    hour_off = seg.hour - h0
    if int(hour_off.max()).bit_length() + low_bits > pack_bits:
        return _patrol_table_general(seg, hour_off, cell_kind, kind_names, h0, base_res, kind_bits)

    key = (hour_off.astype(_U64) << _U64(low_bits)) | cell_kind
    order = np.argsort(key)
    sk = key[order]
    first = _starts(sk)
    gid_sorted = np.cumsum(first) - 1
    groups = int(gid_sorted[-1]) + 1
    gid = np.empty(key.size, dtype=np.int64)
    gid[order] = gid_sorted
    fixes = np.bincount(gid, weights=seg.fixes, minlength=groups)
    dwell = np.bincount(gid, weights=seg.dwell, minlength=groups)
    visits = np.bincount(gid, weights=seg.visit, minlength=groups)
    # Distinct units per group: distinct (group, unit) pairs, counted per group.
    pairs = (gid.astype(_U64) << _U64(32)) | seg.unit.astype(_U64)
    pairs.sort()
    distinct = (pairs[_starts(pairs)] >> _U64(32)).astype(np.int64)
    units = np.bincount(distinct, minlength=groups)

    keys = sk[first]
    hours = (keys >> _U64(low_bits)).astype(np.int64) + h0
    cell_kind_g = keys & _U64((1 << low_bits) - 1)
    return _patrol_frame(
        kind_names, hours, cell_kind_g, fixes, units, dwell, visits, base_res, kind_bits
    )


def _patrol_table_general(
    seg: _Segments,
    hour_off: IntArray,
    cell_kind: CellArray,
    kind_names: list[str],
    h0: int,
    base_res: int,
    kind_bits: int,
) -> pl.DataFrame:
    """The same grouping with polars, for keys wider than 64 bits (fine cells, long spans)."""
    g = (
        pl.DataFrame(
            {
                "hour": hour_off,
                "ck": cell_kind,
                "unit": seg.unit,
                "f": seg.fixes,
                "d": seg.dwell,
                "v": seg.visit.astype(np.int32),
            }
        )
        .group_by("hour", "ck")
        .agg(
            pl.col("f").sum(),
            pl.col("unit").n_unique().alias("u"),
            pl.col("d").sum(),
            pl.col("v").sum(),
        )
        .sort("hour", "ck")
    )
    return _patrol_frame(
        kind_names,
        g["hour"].to_numpy() + h0,
        g["ck"].to_numpy(),
        g["f"].to_numpy(),
        g["u"].to_numpy(),
        g["d"].to_numpy(),
        g["v"].to_numpy(),
        base_res,
        kind_bits,
    )


def _patrol_frame(
    kind_names: list[str],
    hours: IntArray,
    cell_kind: CellArray,
    fixes: npt.NDArray[np.number],
    units: npt.NDArray[np.number],
    dwell: npt.NDArray[np.number],
    visits: npt.NDArray[np.number],
    base_res: int,
    kind_bits: int,
) -> pl.DataFrame:
    shift = _U64(3 * (MAX_RES - base_res))
    cells = (
        (_U64(1) << _U64(59))  # H3 index mode 1: a cell
        | (_U64(base_res) << _U64(52))
        | ((cell_kind >> _U64(kind_bits)) << shift)
        | _U64((1 << int(shift)) - 1)  # the unused finer digits are all 7
    )
    kinds = cell_kind & _U64((1 << kind_bits) - 1)
    return pl.DataFrame(
        {
            "cell": cells,
            "hour": pl.Series(hours * US_PER_HOUR, dtype=pl.Int64).cast(TIME),
            "unit_kind": _enum(kinds, kind_names),
            "fixes": fixes.astype(np.int32),
            "units": units.astype(np.int32),
            "dwell_s": dwell.astype(np.float32),
            "visits": visits.astype(np.int32),
        }
    )


def _visits_table(seg: _Segments, f: _Fixes, credited: FloatArray) -> pl.DataFrame:
    n = f.t.size
    vs = seg.start[seg.visit]
    ve = np.append(vs[1:], n) - 1
    last_fix = f.t[ve]
    left = last_fix + np.rint(credited[ve] * US_PER_S).astype(np.int64)
    which = np.flatnonzero(seg.visit)
    return pl.DataFrame(
        {
            "unit_id": _enum(seg.unit[which], f.unit_names),
            "unit_kind": _enum(seg.kind[which], f.kind_names),
            "cell": seg.cell[which],
            "entered": pl.Series(f.t[vs], dtype=pl.Int64).cast(TIME),
            "last_fix": pl.Series(last_fix, dtype=pl.Int64).cast(TIME),
            "left": pl.Series(left, dtype=pl.Int64).cast(TIME),
            "fixes": np.diff(np.append(vs, n)).astype(np.int32),
        }
    )
