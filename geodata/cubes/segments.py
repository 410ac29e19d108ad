"""Segments of fixes grouped into the patrol cube and the visits table.

Segments group by one packed 64-bit key (hour, cell, kind) with an unstable sort and
``bincount``; distinct units per group come from sorting packed (group, unit) pairs,
only for groups holding more than one segment. Keys wider than 64 bits (very fine cells
over long spans) take the same grouping through polars.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import polars as pl

from geodata.cubes.fixes import (
    BoolArray,
    CellArray,
    Fixes,
    FloatArray,
    IntArray,
    starts,
)
from geodata.cubes.tables import TIME, US_PER_HOUR, US_PER_S
from geodata.hexes import MAX_RES

_U64 = np.uint64


class Segments(NamedTuple):
    """Runs of fixes of one unit in one cell, hour and kind, with no break between."""

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


def patrol_table(
    seg: Segments, kind_names: list[str], base_res: int, pack_bits: int
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
    first = starts(sk)
    gid_sorted = np.cumsum(first) - 1
    groups = int(gid_sorted[-1]) + 1
    gid = np.empty(key.size, dtype=np.int64)
    gid[order] = gid_sorted
    fixes = np.bincount(gid, weights=seg.fixes, minlength=groups)
    dwell = np.bincount(gid, weights=seg.dwell, minlength=groups)
    visits = np.bincount(gid, weights=seg.visit, minlength=groups)
    units = _distinct_units(gid, seg.unit, groups)

    keys = sk[first]
    hours = (keys >> _U64(low_bits)).astype(np.int64) + h0
    cell_kind_g = keys & _U64((1 << low_bits) - 1)
    return _patrol_frame(
        kind_names, hours, cell_kind_g, fixes, units, dwell, visits, base_res, kind_bits
    )


def _distinct_units(gid: IntArray, unit: IntArray, groups: int) -> IntArray:
    """Distinct units per group, from the group and unit of each segment.

    A group of one segment has one unit; for the others, distinct (group, unit) pairs
    are counted after sorting them packed in one integer.
    """
    per_group = np.bincount(gid, minlength=groups)
    units = np.ones(groups, dtype=np.int64)
    shared = per_group[gid] > 1
    if shared.any():
        pairs = (gid[shared].astype(_U64) << _U64(32)) | unit[shared].astype(_U64)
        pairs.sort()
        distinct = (pairs[starts(pairs)] >> _U64(32)).astype(np.int64)
        many = np.flatnonzero(per_group > 1)
        units[many] = np.bincount(distinct, minlength=groups)[many]
    return units


def _patrol_table_general(
    seg: Segments,
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


def visits_table(seg: Segments, f: Fixes, credited: FloatArray) -> pl.DataFrame:
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
