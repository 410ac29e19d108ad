"""Refreshing the incident cube: the changed days only (an incident has no neighbours)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import polars as pl

from geodata.cubes.partitions import IncidentPart, day_runs, incident_part, windows
from geodata.cubes.refresh.executors import Executor
from geodata.cubes.refresh.ledger import (
    Previous,
    as_strings,
    changed_days,
    day_of,
    day_set,
    say,
    without_days,
)
from geodata.cubes.sources import DAY_SCHEMA, CubeSource
from geodata.cubes.tables import empty, lineage
from geodata.store import cubes_dir


def refresh_incidents(
    data_dir: Path,
    source: CubeSource,
    executor: Executor,
    prev: Previous | None,
    digests: pl.DataFrame,
    *,
    base_res: int,
    window_days: int | None,
    progress: bool,
) -> tuple[pl.DataFrame, pl.DataFrame, set[int]]:
    """The incident cube with the changed days recomputed (all days without ``prev``).

    Parameters
    ----------
    data_dir, source, executor
        Where the cubes are, where the incidents are, where partitions run.
    prev : Previous or None
        The last partitioned build.
    digests : polars.DataFrame
        The store's per-day digests of incidents now.
    base_res, window_days, progress
        As for :func:`geodata.cubes.refresh.update_cubes`.

    Returns
    -------
    cube : polars.DataFrame
        The whole incident cube.
    kept : polars.DataFrame
        Per day, the incidents counted in the cube.
    days : set of int
        The days recomputed.
    """
    old_days = prev.days_of("incidents") if prev is not None else None
    now = day_set(digests)
    todo = changed_days(old_days, digests)
    spans = windows(day_runs(todo), window_days)
    parts: list[IncidentPart] = []
    if spans:
        say(progress, f"incidents: {len(todo)} days in {len(spans)} partitions")
        parts = executor.map(partial(incident_part, source, base_res=base_res), spans)
    frames = [p.cube for p in parts]
    kept = [p.days for p in parts]
    if prev is not None and old_days is not None:
        old = pl.read_parquet(cubes_dir(data_dir) / "incidents.parquet")
        frames.append(as_strings(without_days(old, "hour", todo), "category"))
        kept.append(old_days.filter(~day_of("day").is_in(sorted(todo))).select("day", "kept"))
    cube = (
        pl.concat([f for f in frames if f.height]).sort(
            "hour", "cell", "category", *lineage(frames[0].columns)
        )
        if any(f.height for f in frames)
        else empty("incidents", base_res)
    )
    days = (
        pl.concat([k for k in kept if k.height]).filter(day_of("day").is_in(sorted(now)))
        if any(k.height for k in kept)
        else pl.DataFrame(schema={"day": DAY_SCHEMA["day"], "kept": pl.Int64()})
    )
    return cube, days, todo
