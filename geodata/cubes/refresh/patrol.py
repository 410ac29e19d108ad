"""Refreshing the patrol cube and the visits table: the changed days, their neighbours,
and the visits that touch them, made again from day pieces."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path

import polars as pl

from geodata.cubes.partitions import (
    GAP_SCHEMA,
    PatrolPart,
    day_number,
    day_runs,
    merge_pieces,
    patrol_part,
    span_schema,
    windows,
)
from geodata.cubes.patrol import nominal_intervals
from geodata.cubes.refresh.executors import Executor
from geodata.cubes.refresh.ledger import (
    DAYS_SCHEMA,
    SPANS_FILE,
    Previous,
    as_strings,
    changed_days,
    day_of,
    day_set,
    say,
    without_days,
)
from geodata.cubes.sources import CubeSource
from geodata.cubes.tables import empty, lineage
from geodata.store import cubes_dir


class PatrolResult:
    """The refreshed patrol cube, visits and spans, and what the ledger keeps of them."""

    def __init__(self) -> None:
        self.patrol = empty("patrol")
        self.visits = empty("visits")
        self.spans = pl.DataFrame(schema=span_schema())
        self.days = pl.DataFrame(schema={k: DAYS_SCHEMA[k] for k in ("day", "kept", "kinds")})
        self.gaps = pl.DataFrame(schema=GAP_SCHEMA)
        self.intervals: dict[str, float] = {}
        self.interval_source: dict[str, str] = {}
        self.recomputed: set[int] = set()


def _touching(runs: list[tuple[int, int]]) -> pl.Expr:
    """Visits with a fix on a day of the runs (their days overlap one)."""
    first, last = day_of("entered"), day_of("last_fix")
    return pl.any_horizontal([(first < b) & (last >= a) for a, b in runs] or [pl.lit(False)])


def refresh_patrol(
    data_dir: Path,
    source: CubeSource,
    executor: Executor,
    prev: Previous | None,
    digests: pl.DataFrame,
    *,
    base_res: int,
    break_s: float,
    given: Mapping[str, float] | None,
    window_days: int | None,
    progress: bool,
) -> PatrolResult:
    """The patrol cube and visits with the changed days (and their neighbours)
    recomputed, or every day without ``prev`` or when a fix interval moved.

    Parameters
    ----------
    data_dir, source, executor
        Where the cubes are, where the fixes are, where partitions run.
    prev : Previous or None
        The last partitioned build.
    digests : polars.DataFrame
        The store's per-day digests of patrol fixes now.
    base_res, break_s, window_days, progress
        As for :func:`geodata.cubes.refresh.update_cubes`.
    given : mapping or None
        Fix intervals set by the caller.

    Returns
    -------
    PatrolResult
    """
    out = PatrolResult()
    folder = cubes_dir(data_dir)
    old_days = prev.days_of("patrol_fixes") if prev is not None else None
    now = day_set(digests)
    data_days = now | (day_set(old_days) if old_days is not None else set())
    changed = changed_days(old_days, digests)
    guess: Mapping[str, float] | None = given
    if prev is not None:
        # A changed day also changes the dwell of the day before's last fixes and the
        # visit flags of the day after's first ones.
        todo = {d + k for d in changed for k in (-1, 0, 1)} & data_days
        guess = {**prev.meta.get("dwell", {}).get("fix_interval_s", {}), **(given or {})}
    else:
        todo = set(now)

    def run(days: set[int], intervals: Mapping[str, float] | None) -> list[PatrolPart]:
        spans = windows(day_runs(days), window_days)
        if not spans:
            return []
        say(progress, f"patrol: {len(days)} days in {len(spans)} partitions")
        task = partial(patrol_part, source, base_res=base_res, break_s=break_s, intervals=intervals)
        return executor.map(task, spans)

    parts = run(todo, guess)

    # Gap counts and kinds: recomputed days from the partitions, the others as kept.
    gap_frames = [p.gaps for p in parts]
    day_frames = [p.days for p in parts]
    if prev is not None and old_days is not None:
        keep = sorted(now - todo)
        gap_frames.append(prev.gaps.filter(day_of("day").is_in(keep)))
        day_frames.append(old_days.filter(day_of("day").is_in(keep)).select(out.days.columns))
    gaps = pl.concat([x for x in gap_frames if x.height] or [out.gaps])
    days = pl.concat([x for x in day_frames if x.height] or [out.days])
    days = days.filter(day_of("day").is_in(sorted(now))).sort("day")
    kinds = sorted(set().union(*days["kinds"].to_list())) if days.height else []
    intervals, interval_source = nominal_intervals(gaps, kinds, given)

    # Days kept from the last build are exact only if their kinds' intervals held.
    if prev is not None:
        old = prev.meta.get("dwell", {}).get("fix_interval_s", {})
        rest = now - todo
        rest_kinds = set().union(*days.filter(day_of("day").is_in(sorted(rest)))["kinds"])
        if any(old.get(k) != intervals[k] for k in rest_kinds):
            say(progress, "patrol: a fix interval moved; recomputing every day")
            parts += run(rest, intervals)
            todo |= rest
    wrong = [p for p in parts if any(intervals.get(k) != v for k, v in p.intervals.items())]
    if wrong:
        again = set().union(
            *(set(range(day_number(p.window[0]), day_number(p.window[1]))) for p in wrong)
        )
        say(progress, f"patrol: {len(again)} days recomputed with the whole data's intervals")
        parts = [p for p in parts if p not in wrong] + run(again, intervals)
    parts.sort(key=lambda p: p.window[0])

    # Visits: the stored ones touching no recomputed day stay; the others are made again
    # from the new pieces and the kept pieces (other days) of visits over midnight.
    runs = day_runs(todo)
    frames = [p.patrol for p in parts]
    pieces = [p.pieces for p in parts]
    kept_visits: pl.DataFrame | None = None
    kept_spans = pl.DataFrame(schema=span_schema(base_res))
    if prev is not None:
        old_patrol = pl.read_parquet(folder / "patrol.parquet")
        frames.append(as_strings(without_days(old_patrol, "hour", todo), "unit_kind"))
        old_visits = as_strings(pl.read_parquet(folder / "visits.parquet"), "unit_id", "unit_kind")
        touched = old_visits.filter(_touching(runs))
        kept_visits = old_visits.filter(~_touching(runs))
        keys = touched.filter(day_of("entered") != day_of("last_fix")).select(
            "unit_id", pl.col("entered").alias("visit_entered")
        )
        old_spans = pl.read_parquet(folder / SPANS_FILE).select(list(span_schema(base_res)))
        pieces.append(
            old_spans.join(keys, on=["unit_id", "visit_entered"], how="semi").filter(
                ~day_of("entered").is_in(sorted(todo))
            )
        )
        kept_spans = old_spans.join(keys, on=["unit_id", "visit_entered"], how="anti")
    merged = merge_pieces(pieces)
    if merged.orphans:
        if prev is None:
            raise RuntimeError(f"{merged.orphans} visit pieces found no visit to continue")
        say(progress, "patrol: pieces of visits are missing; rebuilding in full")
        return refresh_patrol(
            data_dir,
            source,
            executor,
            None,
            digests,
            base_res=base_res,
            break_s=break_s,
            given=given,
            window_days=window_days,
            progress=progress,
        )

    enum = pl.Enum(kinds)
    patrol = pl.concat(frames) if frames else as_strings(empty("patrol", base_res), "unit_kind")
    out.patrol = patrol.sort("hour", "cell", *lineage(patrol.columns), "unit_kind").with_columns(
        pl.col("unit_kind").cast(enum)
    )
    visits = merged.visits
    if kept_visits is not None:
        visits = pl.concat([kept_visits, visits]).sort("unit_id", "entered", maintain_order=True)
    units = pl.Enum(visits["unit_id"].unique().sort().to_list())
    out.visits = visits.with_columns(
        pl.col("unit_id").cast(units), pl.col("unit_kind").cast(enum)
    ).select(list(empty("visits", base_res).columns))
    out.spans = pl.concat([kept_spans, merged.spans]).sort(
        "unit_id", "entered", maintain_order=True
    )
    out.days, out.gaps = days, gaps.sort("day", "unit_kind", "bin")
    out.intervals, out.interval_source = intervals, interval_source
    out.recomputed = todo
    return out
