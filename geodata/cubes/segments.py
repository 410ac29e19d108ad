"""Segments of fixes grouped into the patrol cube and the visits table.

Segments group by one packed 64-bit key (hour, combination of exact cells, kind) with an unstable sort and
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
from geodata.hexes import cells_to_parent

_U64 = np.uint64


class Segments(NamedTuple):
    """Runs of fixes of one unit in one cell, hour and kind, with no break between."""

    start: npt.NDArray[np.intp]  # row of the first fix
    cell: CellArray
    coarse: dict[int, CellArray]  # the exact cell at each coarser resolution
    hour: IntArray  # hours since 1970
    kind: IntArray
    unit: IntArray
    fixes: IntArray
    dwell: FloatArray
    visit: BoolArray  # whether a visit starts here


def _enum(codes: npt.NDArray[np.integer], names: list[str]) -> pl.Series:
    return pl.Series(codes.astype(np.uint32, copy=False)).cat.to(pl.Enum(names))


def lineage_ids(seg: Segments) -> tuple[IntArray, npt.NDArray[np.intp]]:
    """A dense id per combination of exact cells (base and coarser) of each segment.

    Returns
    -------
    ids : numpy.ndarray of int64
        The id of each segment's combination, numbered in the order of
        (cell, cell_6, ..., cell_10), the order the cubes are stored in.
    first : numpy.ndarray of intp
        For each id, a segment holding it (to read its cells back).

    Most base cells lie inside their parents at every coarser resolution, so their base
    cell alone names the combination; only the segments of base cells whose points
    straddle a coarser hexagon (4-8 % of fixes at each resolution on the demo) are
    ranked among their cell's combinations, by one sort of that part alone.
    """
    sub = np.zeros(seg.cell.size, dtype=np.int64)
    if seg.coarse:
        straddles = np.zeros(sub.size, dtype=np.bool_)
        for res, exact in seg.coarse.items():
            straddles |= exact != cells_to_parent(seg.cell, res)
        if straddles.any():
            odd = np.unique(seg.cell[straddles])
            pos = np.minimum(np.searchsorted(odd, seg.cell), odd.size - 1)
            split = np.flatnonzero(odd[pos] == seg.cell)
            columns = [seg.cell[split], *(seg.coarse[r][split] for r in sorted(seg.coarse))]
            order = np.lexsort(columns[::-1])  # by cell, then cell_6, ..., cell_10
            new = np.zeros(order.size, dtype=np.bool_)
            new[:1] = True
            for col in columns:
                c = col[order]
                new[1:] |= c[1:] != c[:-1]
            sub[split[order]] = np.cumsum(new)
    # One 64-bit key where it fits: the cells' base cell and digits (their resolution
    # and mode bits are the same for all), then the rank among the cell's combinations.
    res = int(seg.cell[0] >> _U64(52)) & 0xF if seg.cell.size else 0
    unused = 3 * (15 - res)
    rank_bits = int(sub.max(initial=0)).bit_length()
    if 7 + 3 * res + rank_bits <= 64:
        key = (seg.cell & _U64((1 << 52) - 1)) >> _U64(unused)
        key = (key << _U64(rank_bits)) | sub.astype(_U64)
        _, first, ids = np.unique(key, return_index=True, return_inverse=True)
        return ids.ravel().astype(np.int64), first
    order = np.lexsort((sub, seg.cell))
    sc, ss = seg.cell[order], sub[order]
    new = np.empty(order.size, dtype=np.bool_)
    new[:1] = True
    np.not_equal(sc[1:], sc[:-1], out=new[1:])
    new[1:] |= ss[1:] != ss[:-1]
    ids = np.empty(order.size, dtype=np.int64)
    ids[order] = np.cumsum(new) - 1
    return ids, order[new]


def patrol_table(
    seg: Segments, kind_names: list[str], base_res: int, pack_bits: int
) -> pl.DataFrame:
    lin, first_seg = lineage_ids(seg)
    lin_bits = max(1, (int(first_seg.size) - 1).bit_length())
    kind_bits = max(1, (len(kind_names) - 1).bit_length())
    low_bits = lin_bits + kind_bits
    lin_kind = (lin.astype(_U64) << _U64(kind_bits)) | seg.kind.astype(_U64)
    h0 = int(seg.hour.min())
    hour_off = seg.hour - h0
    if int(hour_off.max()).bit_length() + low_bits > pack_bits:
        return _patrol_table_general(seg, hour_off, lin_kind, kind_names, h0, first_seg, kind_bits)

    key = (hour_off.astype(_U64) << _U64(low_bits)) | lin_kind
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
    lin_kind_g = keys & _U64((1 << low_bits) - 1)
    return _patrol_frame(
        seg, kind_names, hours, lin_kind_g, fixes, units, dwell, visits, first_seg, kind_bits
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
    lin_kind: CellArray,
    kind_names: list[str],
    h0: int,
    first_seg: npt.NDArray[np.intp],
    kind_bits: int,
) -> pl.DataFrame:
    """The same grouping with polars, for keys wider than 64 bits (fine cells, long spans)."""
    g = (
        pl.DataFrame(
            {
                "hour": hour_off,
                "ck": lin_kind,
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
        seg,
        kind_names,
        g["hour"].to_numpy() + h0,
        g["ck"].to_numpy(),
        g["f"].to_numpy(),
        g["u"].to_numpy(),
        g["d"].to_numpy(),
        g["v"].to_numpy(),
        first_seg,
        kind_bits,
    )


def _patrol_frame(
    seg: Segments,
    kind_names: list[str],
    hours: IntArray,
    lin_kind: CellArray,
    fixes: npt.NDArray[np.number],
    units: npt.NDArray[np.number],
    dwell: npt.NDArray[np.number],
    visits: npt.NDArray[np.number],
    first_seg: npt.NDArray[np.intp],
    kind_bits: int,
) -> pl.DataFrame:
    rep = first_seg[(lin_kind >> _U64(kind_bits)).astype(np.int64)]
    kinds = lin_kind & _U64((1 << kind_bits) - 1)
    return pl.DataFrame(
        {
            "cell": seg.cell[rep],
            **{f"cell_{r}": c[rep] for r, c in seg.coarse.items()},
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
            **{f"cell_{r}": c[which] for r, c in seg.coarse.items()},
            "entered": pl.Series(f.t[vs], dtype=pl.Int64).cast(TIME),
            "last_fix": pl.Series(last_fix, dtype=pl.Int64).cast(TIME),
            "left": pl.Series(left, dtype=pl.Int64).cast(TIME),
            "fixes": np.diff(np.append(vs, n)).astype(np.int32),
        }
    )
