"""Visits as time intervals: read at a resolution, cut to a window, merged, and gaps found.

Everything here works on int64 microseconds (see :mod:`layers.patrol_coverage.bands`)
in polars, for the layer functions of this package.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import polars as pl

from geodata.cubes.coarser import cube_res, exact_cell, to_polars, visits_at
from geodata.hexes import cells_res
from layers.arrays import run_starts, running_max, unique_sorted
from layers.patrol_coverage.bands import US_PER_S, IntArray

VISIT_COLUMNS = ("unit_id", "unit_kind", "cell", "entered", "last_fix", "left", "fixes")


def as_cells(cells: object, res: int, what: str) -> np.ndarray:
    """Sorted unique uint64 cells, all at ``res`` (ValueError otherwise)."""
    c = unique_sorted(cells, np.uint64)
    if c.size and np.any(cells_res(c) != res):
        raise ValueError(f"{what} must all be H3 cells at resolution {res}")
    return c


def check_res(cells: pl.Series, res: int, what: str) -> None:
    """Refuse a ``res`` finer than the cells of a cube or visits table."""
    base = cube_res(cells)
    if base is not None and res > base:
        raise ValueError(f"cannot report res-{res} cells from the res-{base} cells of {what}")


def visits_near(
    visits: pd.DataFrame | pl.DataFrame,
    *,
    res: int,
    kinds: Sequence[str],
    start_us: int,
    end_us: int,
    margin_s: float,
    max_gap_s: float,
) -> pl.DataFrame:
    """The visits at ``res`` of the kinds given that can matter to ``[start, end)``.

    Stays ending more than ``margin_s`` before the window or starting at its end are
    dropped before merging with :func:`geodata.cubes.visits_at`; a margin of at least
    ``max_gap_s`` keeps every merged visit that reaches into the window with its true
    start (a dropped stay ended too early to be merged with one inside the window).

    Returns
    -------
    polars.DataFrame
        ``unit_id``, ``unit_kind`` (str), ``cell`` (UInt64 at ``res``), ``entered``,
        ``last_fix``, ``left`` (Int64 µs).
    """
    # The codes stay the file's Enum (one byte) until the rows are merged: text for the
    # whole window first cost 35 ms of the county demo's 30 days.
    v = visits if isinstance(visits, pl.DataFrame) else to_polars(visits)
    missing = [c for c in VISIT_COLUMNS if c not in v.columns]
    if missing:
        raise ValueError(f"the visits table lacks columns {missing}; has {v.columns}")
    check_res(v["cell"], res, "the visits table")
    us = [pl.col(c).cast(pl.Datetime("us")).dt.epoch("us") for c in ("entered", "last_fix", "left")]
    near = (
        v.lazy()
        .select(
            *VISIT_COLUMNS[:2],
            exact_cell(v.columns, v["cell"], res).cast(pl.UInt64),
            *VISIT_COLUMNS[3:],
        )
        .with_columns(us)
        .filter(
            pl.col("unit_kind").is_in(list(kinds)),
            pl.col("last_fix") >= start_us - int(margin_s * US_PER_S),
            pl.col("entered") < end_us,
        )
        .with_columns(pl.col(c).cast(pl.Datetime("us")) for c in ("entered", "last_fix", "left"))
        .collect()
    )
    # Merged anew per call: with only the rows and columns needed it costs less than a
    # content digest of them would (40 vs 75 ms for the county demo's 30 days at res 9).
    merged = visits_at(near, res, max_gap_s=max_gap_s)
    return merged.select(
        "unit_id",
        "unit_kind",
        "cell",
        *(pl.col(c).dt.epoch("us") for c in ("entered", "last_fix", "left")),
    )


def clip_to_segments(frame: pl.DataFrame, seg_start: IntArray, seg_end: IntArray) -> pl.DataFrame:
    """Cut each row's ``[start, end)`` to the segments it overlaps, one row per piece.

    ``seg_start`` and ``seg_end`` are sorted, disjoint segments. Rows keep their other
    columns and gain ``seg`` (the segment's index); pieces of no length are dropped.
    """
    s = frame["start"].to_numpy()
    e = frame["end"].to_numpy()
    first = np.searchsorted(seg_end, s, side="right")  # first segment ending after s
    stop = np.searchsorted(seg_start, e, side="left")  # segments starting before e
    n = np.maximum(stop - first, 0)
    row = np.repeat(np.arange(s.size), n)
    offset = np.arange(row.size) - np.repeat(np.cumsum(n) - n, n)
    seg = first[row] + offset
    pieces = frame[row].with_columns(
        pl.Series("seg", seg, dtype=pl.Int64),
        pl.Series("start", np.maximum(s[row], seg_start[seg]), dtype=pl.Int64),
        pl.Series("end", np.minimum(e[row], seg_end[seg]), dtype=pl.Int64),
    )
    return pieces.filter(pl.col("end") > pl.col("start"))


def union(frame: pl.DataFrame) -> pl.DataFrame:
    """Merge overlapping or touching ``[start, end)`` intervals per ``cell``."""
    p = frame.select("cell", "start", "end").sort("cell", "start")
    cell, start, end = (p[c].to_numpy() for c in ("cell", "start", "end"))
    if cell.size == 0:
        return p
    reach = running_max(end, np.cumsum(run_starts(cell)) - 1)
    # A merged interval starts where a cell starts or an interval begins after the reach
    # of those before it; it ends at the reach of its last interval.
    first = run_starts(cell)
    first[1:] |= start[1:] > reach[:-1]
    begin = np.flatnonzero(first)
    last = np.r_[begin[1:] - 1, cell.size - 1]
    return pl.DataFrame(
        {"cell": cell[begin], "start": start[begin], "end": reach[last]},
        schema={"cell": pl.UInt64, "start": pl.Int64, "end": pl.Int64},
    )


def longest_gaps(pieces: pl.DataFrame, seg_start: IntArray, seg_end: IntArray) -> pl.DataFrame:
    """The longest time without presence in each cell that has any, over all segments.

    A gap is a stretch of a segment covered by no piece: from the segment's start to the
    first piece, between pieces, and from the last piece to the segment's end. A
    segment with no piece in a cell is one gap as long as the segment; a gap never runs
    from one segment into the next (with a night band, each night is measured alone).

    Parameters
    ----------
    pieces : polars.DataFrame
        ``cell``, ``seg``, ``start``, ``end`` from :func:`clip_to_segments`.
    seg_start, seg_end : ndarray of int64
        The segments.

    Returns
    -------
    polars.DataFrame
        ``cell`` and ``gap_us`` (Int64), one row per cell of ``pieces``. A cell with
        no piece has no row: its gap is the longest segment.
    """
    p = pieces.select("cell", "seg", "start", "end").sort("cell", "seg", "start")
    cell, seg, start, end = (p[c].to_numpy() for c in ("cell", "seg", "start", "end"))
    if cell.size == 0:
        return pl.DataFrame(schema={"cell": pl.UInt64, "gap_us": pl.Int64})
    # Per (cell, segment): the gaps before each piece (from the segment's start, or from
    # the reach of the pieces before it) and after the last one.
    new = run_starts(cell, seg)
    reach = running_max(end, np.cumsum(new) - 1)
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, cell.size - 1]
    before = np.empty_like(start)
    before[1:] = reach[:-1]
    before[first] = seg_start[seg[first]]
    gap = np.maximum(np.maximum.reduceat(np.maximum(start - before, 0), first),
                     seg_end[seg[last]] - reach[last])  # fmt: skip
    # Per cell: the longest of those, and the longest segment it has no piece in.
    # Segments come in few lengths (whole nights, and the cut ones at the window's
    # edges), so that is the longest length of which the cell misses a segment.
    cells, segs = cell[first], seg[first]
    cell_first = np.flatnonzero(run_starts(cells))
    within = np.maximum.reduceat(gap, cell_first)
    lengths, length_of, n_of = np.unique(
        seg_end - seg_start, return_inverse=True, return_counts=True
    )  # a few values
    which = (np.cumsum(run_starts(cells)) - 1) * lengths.size + length_of[segs]
    seen = np.bincount(which, minlength=cell_first.size * lengths.size).reshape(-1, lengths.size)
    absent = np.where(seen < n_of, lengths, -1).max(axis=1)
    return pl.DataFrame(
        {"cell": cells[cell_first], "gap_us": np.maximum(within, absent)},
        schema={"cell": pl.UInt64, "gap_us": pl.Int64},
    )


__all__ = ["as_cells", "check_res", "clip_to_segments", "longest_gaps", "union", "visits_near"]
