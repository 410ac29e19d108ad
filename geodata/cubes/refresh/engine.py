"""The partitioned build: what to recompute, then the cube files, the ledger and
``meta.json``, in that order."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from geodata.cubes.build import FORMAT_VERSION, META_FILE, _write_json, no_sources_error
from geodata.cubes.patrol import BREAK_S, CAP_FACTOR
from geodata.cubes.refresh.executors import Executor, LocalExecutor
from geodata.cubes.refresh.incidents import refresh_incidents
from geodata.cubes.refresh.ledger import (
    DAYS_FILE,
    DAYS_SCHEMA,
    GAPS_FILE,
    PARTITION_FORMAT,
    SOURCES,
    SPANS_FILE,
    Previous,
    day_digests,
    load_previous,
    say,
    settings_of,
    unchanged_files,
    write_frame,
)
from geodata.cubes.refresh.patrol import PatrolResult, refresh_patrol
from geodata.cubes.sources import DAY_SCHEMA, CubeSource, FileSource, clear_cache
from geodata.cubes.tables import BASE_RES, CUBE_NAMES, empty
from geodata.hexes import MAX_RES
from geodata.store import cubes_dir


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _source_meta(
    source: CubeSource, kind: str, digests: pl.DataFrame, kept: pl.DataFrame
) -> dict[str, Any]:
    """A source's entry of ``meta.json``: rows and dropped rows summed over its days."""
    null_time = source.null_time_rows(kind)
    joined = digests.join(kept.select("day", "kept"), on="day", how="left")
    rows = int(joined["rows"].sum()) + null_time
    dropped = int((joined["rows"] - joined["kept"].fill_null(0)).sum()) + null_time
    return {
        **source.fingerprint(kind),
        "rows": rows,
        "dropped": dropped,
        "time_min": _iso(digests["time_min"].min()) if digests.height else None,  # type: ignore[arg-type]
        "time_max": _iso(digests["time_max"].max()) if digests.height else None,  # type: ignore[arg-type]
    }


def update_cubes(
    data_dir: Path | str,
    *,
    source: CubeSource | None = None,
    executor: Executor | None = None,
    incremental: bool = True,
    window_days: int | None = None,
    base_res: int = BASE_RES,
    break_s: float = BREAK_S,
    fix_interval_s: Mapping[str, float] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Build the cubes by day partitions, or refresh them where the store changed.

    Parameters
    ----------
    data_dir : path
        The data directory; the cubes go to its ``cubes/``.
    source : CubeSource, optional
        Where incidents and fixes are read (default: the data directory's files).
    executor : Executor, optional
        Where partitions run (default: here, one after another).
    incremental : bool
        Recompute only the days that changed since the last partitioned build (a full
        build when there is none); False recomputes every day.
    window_days : int, optional
        Days per partition; None makes one partition of each run of days to recompute.
    base_res, break_s, fix_interval_s
        As for :func:`geodata.cubes.build_cubes`; a refresh with other settings than
        the last build rebuilds in full.
    progress : bool
        Say on stderr what is recomputed.

    Returns
    -------
    dict
        The metadata written to ``meta.json``: that of :func:`build_cubes` (``rows``,
        ``dropped``, time ranges, ``dwell``, cube row counts) without the ``sorted``
        flag, plus ``partitions``: build id, source and digest kind, settings, and the
        days recomputed per source.
    """
    data_dir = Path(data_dir)
    if not 0 <= base_res <= MAX_RES:
        raise ValueError(f"base_res must be 0..15, got {base_res}")
    if not 0 < break_s < 3_600:
        raise ValueError(f"break_s must lie in (0, 3600) s, got {break_s}")
    started = time.perf_counter()
    source = FileSource(data_dir) if source is None else source
    executor = LocalExecutor() if executor is None else executor
    have = {kind: source.has(kind) for kind in SOURCES}
    if not any(have.values()):
        raise no_sources_error(source)
    settings = settings_of(base_res, break_s, fix_interval_s)
    prev = load_previous(data_dir, source, settings) if incremental else None
    if incremental and prev is None:
        say(progress, "no partitioned build to refresh: building in full")
    if prev is not None and unchanged_files(prev, source, have):
        say(progress, "the store has not changed since the last build")
        return prev.meta
    try:
        return _update(
            data_dir,
            source,
            executor,
            prev,
            have,
            settings,
            window_days=window_days,
            progress=progress,
            started=started,
        )
    finally:
        clear_cache()


def _update(
    data_dir: Path,
    source: CubeSource,
    executor: Executor,
    prev: Previous | None,
    have: dict[str, bool],
    settings: dict[str, Any],
    *,
    window_days: int | None,
    progress: bool,
    started: float,
) -> dict[str, Any]:
    base_res, break_s = settings["base_res"], settings["break_s"]
    given = settings["fix_interval_s"]
    digests = {
        kind: day_digests(executor, source, kind, window_days)
        if have[kind]
        else pl.DataFrame(schema=DAY_SCHEMA)
        for kind in SOURCES
    }
    meta: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "base_res": base_res,
        "built_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "sources": {},
        "missing": [k for k in SOURCES if not have[k]],
    }
    recomputed: dict[str, int] = {}

    if have["incidents"]:
        incidents, inc_days, inc_todo = refresh_incidents(
            data_dir,
            source,
            executor,
            prev,
            digests["incidents"],
            base_res=base_res,
            window_days=window_days,
            progress=progress,
        )
        meta["sources"]["incidents"] = _source_meta(
            source, "incidents", digests["incidents"], inc_days
        )
        recomputed["incidents"] = len(inc_todo)
    else:
        incidents = empty("incidents", base_res)
        inc_days = pl.DataFrame(schema={"day": DAY_SCHEMA["day"], "kept": pl.Int64()})

    patrol = PatrolResult()
    if have["patrol_fixes"]:
        patrol = refresh_patrol(
            data_dir,
            source,
            executor,
            prev,
            digests["patrol_fixes"],
            base_res=base_res,
            break_s=break_s,
            given=given,
            window_days=window_days,
            progress=progress,
        )
        meta["sources"]["patrol_fixes"] = _source_meta(
            source, "patrol_fixes", digests["patrol_fixes"], patrol.days
        )
        meta["dwell"] = {
            "break_s": break_s,
            "cap_factor": CAP_FACTOR,
            "fix_interval_s": patrol.intervals,
            "fix_interval_source": patrol.interval_source,
            "cap_s": {k: min(v * CAP_FACTOR, break_s) for k, v in patrol.intervals.items()},
        }
        recomputed["patrol_fixes"] = len(patrol.recomputed)

    build_id = uuid.uuid4().hex
    day_table = pl.concat(
        [
            digests["incidents"]
            .join(inc_days, on="day", how="left")
            .with_columns(
                source=pl.lit("incidents"),
                kept=pl.col("kept").fill_null(0),
                kinds=pl.lit([], dtype=pl.List(pl.String)),
            ),
            digests["patrol_fixes"]
            .join(patrol.days, on="day", how="left")
            .with_columns(
                source=pl.lit("patrol_fixes"),
                kept=pl.col("kept").fill_null(0),
                kinds=pl.col("kinds").fill_null([]),
            ),
        ],
        how="diagonal_relaxed",
    ).select(list(DAYS_SCHEMA))
    day_table = day_table.cast(DAYS_SCHEMA).with_columns(build_id=pl.lit(build_id))  # type: ignore[arg-type]
    gap_table = patrol.gaps.with_columns(build_id=pl.lit(build_id))
    span_table = patrol.spans.with_columns(build_id=pl.lit(build_id))

    folder = cubes_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    cubes = {"incidents": incidents, "patrol": patrol.patrol, "visits": patrol.visits}
    for name in CUBE_NAMES:
        write_frame(cubes[name], folder / f"{name}.parquet")
    write_frame(day_table, folder / DAYS_FILE)
    write_frame(gap_table, folder / GAPS_FILE)
    write_frame(span_table, folder / SPANS_FILE)

    meta["cubes"] = {
        name: {"file": f"{name}.parquet", "rows": cubes[name].height} for name in CUBE_NAMES
    }
    starts = [s["time_min"] for s in meta["sources"].values() if s["time_min"] is not None]
    ends = [s["time_max"] for s in meta["sources"].values() if s["time_max"] is not None]
    meta["time_range"] = {
        "start": min(starts) if starts else None,
        "end": max(ends) if ends else None,
    }
    meta["partitions"] = {
        "format": PARTITION_FORMAT,
        "unit": "day",
        "build_id": build_id,
        "mode": "full" if prev is None else "incremental",
        "executor": executor.name,
        "source": source.name,
        "digest": source.digest_kind,
        "settings": settings,
        "files": {"days": DAYS_FILE, "gaps": GAPS_FILE, "spans": SPANS_FILE},
        "recomputed_days": recomputed,
    }
    meta["seconds"] = round(time.perf_counter() - started, 3)
    _write_json(meta, folder / META_FILE)
    say(
        progress,
        "recomputed days: " + ", ".join(f"{k} {v}" for k, v in recomputed.items()),
    )
    return meta


def refresh_cubes(
    data_dir: Path | str,
    *,
    source: CubeSource | None = None,
    executor: Executor | None = None,
    window_days: int | None = None,
    base_res: int = BASE_RES,
    break_s: float = BREAK_S,
    fix_interval_s: Mapping[str, float] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Fold what changed in the store into the cubes, recomputing only the days touched.

    The result equals a full build of the store as it is now (cube rows, their order,
    the metadata's counts and dwell constants). See :func:`update_cubes` for the
    parameters and the module's docstring for how.

    Returns
    -------
    dict
        The metadata written to ``meta.json``.
    """
    return update_cubes(
        data_dir,
        source=source,
        executor=executor,
        incremental=True,
        window_days=window_days,
        base_res=base_res,
        break_s=break_s,
        fix_interval_s=fix_interval_s,
        progress=progress,
    )
