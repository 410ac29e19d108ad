"""Cube partitions: the cubes of a range of days, computed on their own and joined exactly.

A Dask build and an incremental refresh cut the data by time: a partition is a range of
whole days (naive China Standard Time), so its patrol and incident rows (keyed by hour)
belong to it alone and the cubes are the partitions' rows put side by side. What makes
that exact is the handling of the boundaries:

* **Context.** A fix's dwell is the gap to its unit's next fix, capped; whether it opens
  a visit depends on the unit's previous fix. Both neighbours matter only within
  :data:`~geodata.cubes.patrol.BREAK_S` (a longer gap is a break whatever lies beyond),
  so a partition ``[start, end)`` reads its fixes from ``start - break_s`` to
  ``end + break_s`` and keeps only the segments of its own hours: every fix of its own
  is credited and flagged as in one pass over all the fixes.
* **Visits.** A stay can run across midnight, even over several days. A partition
  returns its *pieces* of visits, cut at every midnight, each flagged ``continues`` when
  its first fix goes on a visit begun the day before (it is no visit start);
  :func:`merge_pieces` joins each such piece to the piece before it, which gives the
  visits of one pass. The pieces of visits over midnight are kept (the *spans*), so a
  refresh that recomputes some days can join their new pieces to the old ones of the
  days it keeps.
* **Fix intervals.** The dwell cap of a kind comes from the median gap of all its fixes;
  a partition counts its gaps per day (:func:`geodata.cubes.patrol.gap_counts`) and
  reports the intervals it used, so the caller can sum the counts, find the global
  intervals and recompute the (rare) partitions that used others.

Everything here is a plain function of a :class:`~geodata.cubes.sources.CubeSource` and
a range, importable by Dask workers, returning small polars frames.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, NamedTuple

import numpy as np
import polars as pl
import pyarrow as pa

from geodata.cubes.fixes import FIX_COLUMNS, BoolArray, Fixes, FloatArray, IntArray, starts
from geodata.cubes.incidents import incident_cube
from geodata.cubes.patrol import gap_counts, prepare_patrol
from geodata.cubes.segments import Segments, patrol_table
from geodata.cubes.sources import CubeSource
from geodata.cubes.tables import BASE_RES, TIME, US_PER_HOUR, US_PER_S, coarse_res, empty, lineage

EPOCH: Final = dt.datetime(1970, 1, 1)
DAY: Final = dt.timedelta(days=1)
DAY_US: Final = 86_400 * US_PER_S
US: Final = dt.timedelta(microseconds=1)

Window = tuple[dt.datetime, dt.datetime]
"""A half-open range ``[start, end)`` of whole days."""

GAP_SCHEMA: Final[dict[str, pl.DataType]] = {
    "day": pl.Datetime("us"),
    "unit_kind": pl.String(),
    "bin": pl.Int64(),
    "count": pl.Int64(),
}
PIECE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "unit_id": pl.String(),
    "unit_kind": pl.String(),
    "cell": pl.UInt64(),
    "entered": TIME,
    "last_fix": TIME,
    "left": TIME,
    "fixes": pl.Int32(),
    "continues": pl.Boolean(),
}


def piece_schema(base_res: int = BASE_RES) -> dict[str, pl.DataType]:
    """:data:`PIECE_SCHEMA` with the exact coarser cells of cubes built at ``base_res``."""
    out = dict(PIECE_SCHEMA)
    at = list(out).index("cell") + 1
    items = list(out.items())
    exact = [(f"cell_{r}", pl.UInt64()) for r in coarse_res(base_res)]
    return dict(items[:at] + exact + items[at:])


def span_schema(base_res: int = BASE_RES) -> dict[str, pl.DataType]:
    """:data:`SPAN_SCHEMA` with the exact coarser cells of cubes built at ``base_res``."""
    return {**piece_schema(base_res), "visit_entered": TIME}


KEPT_SCHEMA: Final[dict[str, pl.DataType]] = {
    "day": pl.Datetime("us"),
    "kept": pl.Int64(),
    "kinds": pl.List(pl.String()),
}


def day_number(when: dt.datetime) -> int:
    """Days since 1970-01-01 of a naive time (its midnight's number)."""
    return (when - EPOCH) // DAY


def day_start(number: int) -> dt.datetime:
    """Midnight of day ``number``."""
    return EPOCH + number * DAY


def _us(when: dt.datetime) -> int:
    return (when - EPOCH) // US


def day_runs(days: Iterable[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive day numbers, as ``(first, last + 1)``."""
    runs: list[tuple[int, int]] = []
    for d in sorted(set(days)):
        if runs and runs[-1][1] == d:
            runs[-1] = (runs[-1][0], d + 1)
        else:
            runs.append((d, d + 1))
    return runs


def windows(runs: Iterable[tuple[int, int]], window_days: int | None) -> list[Window]:
    """The runs cut into windows of at most ``window_days`` days (None: one per run)."""
    out: list[Window] = []
    for first, stop in runs:
        step = stop - first if window_days is None else max(1, window_days)
        for a in range(first, stop, step):
            out.append((day_start(a), day_start(min(a + step, stop))))
    return out


class PatrolPart(NamedTuple):
    """The patrol results of one window."""

    window: Window
    patrol: pl.DataFrame
    """Patrol cube rows of the window's hours; ``unit_kind`` as String."""
    pieces: pl.DataFrame
    """Pieces of visits cut at midnight (:data:`PIECE_SCHEMA`), in (unit, time) order."""
    gaps: pl.DataFrame
    """Usable gaps ending in the window, per day, kind and 10 ms bin (:data:`GAP_SCHEMA`)."""
    days: pl.DataFrame
    """Per day: fixes kept (placed and complete) and the kinds of complete fixes."""
    intervals: dict[str, float]
    """Nominal fix interval used for each kind of the fixes read."""


class IncidentPart(NamedTuple):
    """The incident results of one window."""

    window: Window
    cube: pl.DataFrame
    """Incident cube rows of the window's hours; ``category`` as String."""
    days: pl.DataFrame
    """Per day: incidents counted in the cube (``kept``)."""


def _segments_in(seg: Segments, keep: BoolArray) -> Segments:
    return Segments(
        start=seg.start[keep],
        cell=seg.cell[keep],
        coarse={r: c[keep] for r, c in seg.coarse.items()},
        hour=seg.hour[keep],
        kind=seg.kind[keep],
        unit=seg.unit[keep],
        fixes=seg.fixes[keep],
        dwell=seg.dwell[keep],
        visit=seg.visit[keep],
    )


def _kinds_per_day(table: pa.Table, lo_us: int, hi_us: int) -> pl.DataFrame:
    """Per day of the window: the kinds of fixes without a missing field (the kinds a
    single pass gives intervals to)."""
    frame = pl.from_arrow(table.select(list(FIX_COLUMNS)))
    assert isinstance(frame, pl.DataFrame)
    t = pl.col("time").cast(TIME).dt.epoch("us")
    return (
        frame.drop_nulls()
        .filter((t >= lo_us) & (t < hi_us))
        .group_by(pl.col("time").cast(TIME).dt.truncate("1d").alias("day"))
        .agg(pl.col("unit_kind").cast(pl.String).unique().sort().alias("kinds"))
    )


def patrol_part(
    source: CubeSource,
    window: Window,
    *,
    base_res: int,
    break_s: float,
    intervals: Mapping[str, float] | None = None,
) -> PatrolPart:
    """The patrol cube rows, visit pieces, gap counts and day counts of one window.

    Parameters
    ----------
    source : CubeSource
        Where the fixes are.
    window : (start, end)
        Whole days, half-open.
    base_res, break_s
        As for :func:`geodata.cubes.build_cubes`.
    intervals : mapping, optional
        Nominal fix interval per kind to use (the whole data's, when known); kinds it
        lacks take the median of the fixes read.

    Returns
    -------
    PatrolPart
    """
    start, end = window
    reach = dt.timedelta(seconds=break_s)
    table = source.read_fixes(start - reach, end + reach + US)
    lo, hi = _us(start), _us(end)
    kinds = _kinds_per_day(table, lo, hi)
    work = prepare_patrol(table, base_res=base_res, break_s=break_s, fix_interval_s=intervals)
    f, seg = work.f, work.segments
    if seg is None:
        return PatrolPart(
            window,
            empty("patrol", base_res).with_columns(pl.col("unit_kind").cast(pl.String)),
            pl.DataFrame(schema=piece_schema(base_res)),
            pl.DataFrame(schema=GAP_SCHEMA),
            kinds.with_columns(kept=pl.lit(0, pl.Int64)).select(list(KEPT_SCHEMA)),
            work.fix_interval_s,
        )
    core = (f.t >= lo) & (f.t < hi)
    keep = (seg.hour >= lo // US_PER_HOUR) & (seg.hour < hi // US_PER_HOUR)
    if keep.any():
        patrol = patrol_table(_segments_in(seg, keep), f.kind_names, base_res, 64)
        patrol = patrol.with_columns(pl.col("unit_kind").cast(pl.String))
    else:
        patrol = empty("patrol", base_res).with_columns(pl.col("unit_kind").cast(pl.String))

    # Gaps ending at a fix of the window, with the kind of the fix they start from (as a
    # single pass counts them), per day of their end.
    same_unit = np.zeros(f.t.size, dtype=np.bool_)
    np.equal(f.unit[1:], f.unit[:-1], out=same_unit[1:])
    later = np.flatnonzero(same_unit & core)
    gap_s = (f.t[later] - f.t[later - 1]) / US_PER_S
    gap_day = f.t[later] // DAY_US - lo // DAY_US
    # Grouped by day with one stable radix sort (a window spans far fewer than 2**16 days).
    by_day = np.argsort(gap_day.astype(np.uint16), kind="stable")
    bounds = np.searchsorted(gap_day[by_day], np.arange(int(gap_day.max(initial=-1)) + 2))
    gap_prev_kind = f.kind[later - 1]
    gap_frames = []
    for d in range(bounds.size - 1):
        sel = by_day[bounds[d] : bounds[d + 1]]
        if sel.size:
            gap_frames.append(
                gap_counts(gap_s[sel], gap_prev_kind[sel], f.kind_names, break_s)
                .with_columns(day=pl.lit(day_start(lo // DAY_US + d), dtype=pl.Datetime("us")))
                .select(list(GAP_SCHEMA))
            )
    gaps = pl.concat(gap_frames) if gap_frames else pl.DataFrame(schema=GAP_SCHEMA)

    rows = np.flatnonzero(core)
    per_day = np.bincount(f.t[rows] // DAY_US - lo // DAY_US)
    kept_days = np.flatnonzero(per_day) + lo // DAY_US
    kept = per_day[per_day > 0]
    kept_frame = pl.DataFrame(
        {
            "day": pl.Series([day_start(int(d)) for d in kept_days], dtype=pl.Datetime("us")),
            "kept": kept.astype(np.int64),
        }
    )
    days = (
        kinds.join(kept_frame, on="day", how="full", coalesce=True)
        .with_columns(pl.col("kept").fill_null(0), pl.col("kinds").fill_null([]))
        .select(list(KEPT_SCHEMA))
        .sort("day")
    )
    return PatrolPart(
        window,
        patrol,
        _pieces(f, seg, work.credited, rows, base_res),
        gaps,
        days,
        work.fix_interval_s,
    )


def _pieces(
    f: Fixes, seg: Segments, credited: FloatArray, rows: IntArray, base_res: int
) -> pl.DataFrame:
    """Pieces of visits made of the window's own fixes (``rows``, in (unit, time) order),
    cut at midnight."""
    schema = piece_schema(base_res)
    if rows.size == 0:
        return pl.DataFrame(schema=schema)
    opens = np.zeros(f.t.size, dtype=np.bool_)
    opens[seg.start[seg.visit]] = True
    first = opens[rows] | starts(f.unit[rows]) | starts(f.t[rows] // DAY_US)
    ps = np.flatnonzero(first)
    pe = np.append(ps[1:], rows.size) - 1
    rs, re = rows[ps], rows[pe]
    last_fix = f.t[re]
    left = last_fix + np.rint(credited[re] * US_PER_S).astype(np.int64)
    names = pl.Series(f.unit_names, dtype=pl.String)
    kinds = pl.Series(f.kind_names, dtype=pl.String)
    return pl.DataFrame(
        {
            "unit_id": names.gather(f.unit[rs]),
            "unit_kind": kinds.gather(f.kind[rs]),
            "cell": f.cell[rs],
            **{f"cell_{r}": c[rs] for r, c in f.coarse.items()},
            "entered": pl.Series(f.t[rs], dtype=pl.Int64).cast(TIME),
            "last_fix": pl.Series(last_fix, dtype=pl.Int64).cast(TIME),
            "left": pl.Series(left, dtype=pl.Int64).cast(TIME),
            "fixes": (pe - ps + 1).astype(np.int32),
            "continues": ~opens[rs],
        },
        schema=schema,
    )


def incident_part(source: CubeSource, window: Window, *, base_res: int) -> IncidentPart:
    """The incident cube rows of one window and the incidents counted per day."""
    start, end = window
    frame = source.read_incidents(start, end)
    cube = incident_cube(frame, base_res=base_res).with_columns(pl.col("category").cast(pl.String))
    days = (
        cube.group_by(pl.col("hour").dt.truncate("1d").alias("day"))
        .agg(pl.col("count").sum().cast(pl.Int64).alias("kept"))
        .sort("day")
    )
    return IncidentPart(window, cube, days)


def digest_part(source: CubeSource, kind: str, window: Window | None) -> pl.DataFrame:
    """The source's per-day digests of ``kind`` in ``window`` (None: all days)."""
    if window is None:
        return source.day_digests(kind)
    return source.day_digests(kind, window[0], window[1])


SPAN_SCHEMA: Final[dict[str, pl.DataType]] = {**PIECE_SCHEMA, "visit_entered": TIME}
"""Pieces of the visits that run over midnight, with the visit they belong to (its unit
and ``visit_entered``, which identify it: no two visits of one unit over midnight start
at the same instant)."""


class Merged(NamedTuple):
    """What :func:`merge_pieces` makes of pieces."""

    visits: pl.DataFrame
    """The visits (columns of the visits table, codes as String), by unit then time."""
    spans: pl.DataFrame
    """The pieces of the visits made of more than one (:data:`SPAN_SCHEMA`)."""
    orphans: int
    """Continuing pieces that found no piece to join: zero unless a day a visit ran
    through was left out."""


def merge_pieces(parts: Sequence[pl.DataFrame]) -> Merged:
    """Visits from pieces of visits: each piece flagged ``continues`` joins the piece
    before it of the same unit (in order of time; pieces entering at the same instant
    keep the order given). The visit takes entered, cell and kind from its first piece,
    last fix and ``left`` from its last, and the sum of their fixes.

    One frame is taken as it comes, sorted by unit and time (as :func:`patrol_part` makes
    them); several are sorted together.
    """
    exact = lineage(parts[0].columns) if parts else []
    base_res = int(exact[-1][5:]) + 1 if exact else BASE_RES
    schema = piece_schema(base_res) if exact else PIECE_SCHEMA
    frames = [p.select(list(schema)) for p in parts if p.height]
    if not frames:
        return Merged(
            empty("visits", base_res).with_columns(pl.col("unit_id", "unit_kind").cast(pl.String)),
            pl.DataFrame(schema={**schema, "visit_entered": TIME}),
            0,
        )
    p = (
        frames[0]
        if len(frames) == 1
        else pl.concat(frames).sort("unit_id", "entered", maintain_order=True)
    )
    unit = p["unit_id"]
    new_unit = unit.ne_missing(unit.shift(1)).to_numpy()
    continues = p["continues"].to_numpy()
    orphans = int((continues & new_unit).sum())
    opens = ~continues | new_unit
    first = np.flatnonzero(opens)
    last = np.append(first[1:], p.height) - 1
    visits = p.select(
        pl.col("unit_id", "unit_kind", "cell", *exact, "entered").gather(first),
        pl.col("last_fix", "left").gather(last),
        pl.Series("fixes", np.add.reduceat(p["fixes"].to_numpy(), first), dtype=pl.Int32),
    )
    # Pieces of visits made of several: those continuing, and those continued.
    joined = ~opens
    joined[:-1] |= ~opens[1:]
    spans = (
        p.with_columns(_open=pl.Series(opens))
        .filter(pl.Series(joined))
        .with_columns(
            pl.when("_open").then(pl.col("entered")).forward_fill().alias("visit_entered")
        )
        .select([*schema, "visit_entered"])
    )
    return Merged(visits, spans, orphans)
