"""Partitioned cube builds: incremental refresh by day, and the engine of the Dask build.

``python -m geodata cubes --incremental`` (:func:`refresh_cubes`) folds what changed in
the store since the last build into the cubes, recomputing only the days it touched:

1. The store's per-day row counts and digests (:meth:`CubeSource.day_digests`) are
   compared with those kept beside the cubes (``cubes/partitions.parquet``): a day whose
   count or digest differs — new rows appended, late reports for old days, deletions —
   is *changed*.
2. Incidents: the changed days are recomputed. Patrol: the changed days and the days
   either side of them (a fix's dwell looks at the next fix, its visit flag at the one
   before). Stored visits touching none of those days stay; the others are made again
   from the new days' pieces and the kept pieces, on other days, of visits that ran over
   midnight (``cubes/spans.parquet``). See :mod:`geodata.cubes.partitions`.
3. The dwell caps come from the median gap of *all* fixes. The gap counts of every day
   are kept too (``cubes/gaps.parquet``); the new days' counts are summed with the
   others', and if a kind's interval moved, every day is recomputed — the result is
   always what a full build gives, never an approximation.
4. The cube files are rewritten with the recomputed days' rows replaced, each file
   atomically (temporary file, rename), then the day table, then ``meta.json`` last with
   a new build id. A refresh interrupted half-way is caught by the next one: it either
   finds the old day table (and recomputes the same days) or a build id that does not
   match (and rebuilds in full).

Without a previous partitioned build (or after a plain ``python -m geodata cubes``, or
with other settings) the refresh is a full build, cut into partitions the same way. The
same engine runs on Dask (:mod:`geodata.cubes.dask_build`): partitions are independent
tasks that read their own rows from the store.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

import polars as pl

from geodata.cubes.build import (
    _COMPRESSION,
    FORMAT_VERSION,
    META_FILE,
    _write_json,
    load_meta,
    no_sources_error,
)
from geodata.cubes.partitions import (
    GAP_SCHEMA,
    SPAN_SCHEMA,
    IncidentPart,
    PatrolPart,
    Window,
    day_number,
    day_runs,
    digest_part,
    incident_part,
    merge_pieces,
    patrol_part,
    windows,
)
from geodata.cubes.patrol import BREAK_S, CAP_FACTOR, nominal_intervals
from geodata.cubes.sources import DAY_SCHEMA, CubeSource, FileSource, clear_cache
from geodata.cubes.tables import BASE_RES, CUBE_NAMES, empty
from geodata.hexes import MAX_RES
from geodata.store import StoreError, _atomic_target, cubes_dir

__all__ = [
    "DAYS_FILE",
    "GAPS_FILE",
    "SPANS_FILE",
    "Executor",
    "LocalExecutor",
    "refresh_cubes",
    "update_cubes",
]

DAYS_FILE: Final = "partitions.parquet"
"""Per source and day: rows, digest, time range, rows kept in the cubes, unit kinds."""
GAPS_FILE: Final = "gaps.parquet"
"""Per day, unit kind and 10 ms bin: usable gaps between fixes (for the dwell caps)."""
SPANS_FILE: Final = "spans.parquet"
"""The pieces (one per day) of the visits that run over midnight."""
PARTITION_FORMAT: Final = 1
SOURCES: Final = ("incidents", "patrol_fixes")

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs a function over items, returning the results in the items' order."""

    name: str

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[fn(x) for x in items]``, wherever it runs."""
        ...


class LocalExecutor:
    """Runs the partitions one after another in this process."""

    name = "local"

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[fn(x) for x in items]``."""
        return [fn(x) for x in items]


DAYS_SCHEMA: Final[dict[str, pl.DataType]] = {
    "source": pl.String(),
    **DAY_SCHEMA,
    "kept": pl.Int64(),
    "kinds": pl.List(pl.String()),
}


class _Previous:
    """What the last partitioned build left: its metadata, day table and gap counts."""

    def __init__(self, meta: dict[str, Any], days: pl.DataFrame, gaps: pl.DataFrame) -> None:
        self.meta = meta
        self.days = days
        self.gaps = gaps

    def days_of(self, kind: str) -> pl.DataFrame:
        return self.days.filter(pl.col("source") == kind).drop("source")


def _say(progress: bool, text: str) -> None:
    if progress:
        print(f"[cubes] {text}", file=sys.stderr, flush=True)


def _settings(base_res: int, break_s: float, given: Mapping[str, float] | None) -> dict[str, Any]:
    return {
        "base_res": base_res,
        "break_s": float(break_s),
        "fix_interval_s": dict(sorted((k, float(v)) for k, v in given.items())) if given else None,
    }


def _previous(data_dir: Path, source: CubeSource, settings: dict[str, Any]) -> _Previous | None:
    """The last partitioned build, if it can be refreshed (same source kind, settings,
    files all present and of one build); None means: build in full."""
    try:
        meta = load_meta(data_dir)
    except (StoreError, ValueError):
        return None
    info = meta.get("partitions")
    if not isinstance(info, dict):
        return None
    if (
        info.get("format") != PARTITION_FORMAT
        or info.get("source") != source.name
        or info.get("digest") != source.digest_kind
        or info.get("settings") != settings
    ):
        return None
    folder = cubes_dir(data_dir)
    sidecars = [folder / DAYS_FILE, folder / GAPS_FILE, folder / SPANS_FILE]
    paths = [*sidecars, *(folder / f"{n}.parquet" for n in CUBE_NAMES)]
    if not all(p.exists() for p in paths):
        return None
    try:
        days, gaps, spans = (pl.read_parquet(p, columns=["build_id"]) for p in sidecars)
        if any(
            set(f["build_id"].unique().to_list()) - {info.get("build_id")}
            for f in (days, gaps, spans)
        ):
            return None
        days = pl.read_parquet(folder / DAYS_FILE)
        gaps = pl.read_parquet(folder / GAPS_FILE)
    except (OSError, pl.exceptions.PolarsError):
        return None
    return _Previous(meta, days.select(list(DAYS_SCHEMA)), gaps.select(list(GAP_SCHEMA)))


def _unchanged_files(prev: _Previous, source: CubeSource, have: dict[str, bool]) -> bool:
    """Whether the source files are the very files of the last build (size and mtime)."""
    if not isinstance(source, FileSource):
        return False
    sources = prev.meta.get("sources", {})
    for kind in SOURCES:
        if have[kind] != (kind in sources):
            return False
        if have[kind]:
            old = sources[kind]
            if {k: old.get(k) for k in ("file", "size", "mtime_ns")} != source.fingerprint(kind):
                return False
    return True


def _digests(
    executor: Executor, source: CubeSource, kind: str, window_days: int | None
) -> pl.DataFrame:
    if window_days is None:
        parts = executor.map(partial(digest_part, source, kind), [None])
    else:
        low, high = source.time_bounds(kind)
        if low is None or high is None:
            return pl.DataFrame(schema=DAY_SCHEMA)
        spans: list[Window | None] = list(
            windows([(day_number(low), day_number(high) + 1)], window_days)
        )
        parts = executor.map(partial(digest_part, source, kind), spans)
    frames = [p for p in parts if p.height]
    return pl.concat(frames).sort("day") if frames else pl.DataFrame(schema=DAY_SCHEMA)


def _day_set(frame: pl.DataFrame) -> set[int]:
    return {day_number(d) for d in frame["day"].to_list()}


def _changed(old: pl.DataFrame | None, new: pl.DataFrame) -> set[int]:
    """Days whose row count or digest differ, or that exist on one side only."""
    if old is None:
        return _day_set(new)
    both = old.select("day", "rows", "digest").join(
        new.select("day", "rows", "digest"), on="day", how="full", coalesce=True, suffix="_new"
    )
    diff = both.filter(
        pl.col("rows").ne_missing(pl.col("rows_new"))
        | pl.col("digest").ne_missing(pl.col("digest_new"))
    )
    return _day_set(diff)


def _day_of(column: str) -> pl.Expr:
    return pl.col(column).dt.epoch("d")


def _keep_days(frame: pl.DataFrame, column: str, days: set[int]) -> pl.DataFrame:
    return frame.filter(~_day_of(column).is_in(sorted(days)))


def _as_strings(frame: pl.DataFrame, *names: str) -> pl.DataFrame:
    return frame.with_columns(pl.col(n).cast(pl.String) for n in names if n in frame.columns)


class _PatrolResult:
    def __init__(self) -> None:
        self.patrol = empty("patrol")
        self.visits = empty("visits")
        self.spans = pl.DataFrame(schema=SPAN_SCHEMA)
        self.days = pl.DataFrame(schema={k: DAYS_SCHEMA[k] for k in ("day", "kept", "kinds")})
        self.gaps = pl.DataFrame(schema=GAP_SCHEMA)
        self.intervals: dict[str, float] = {}
        self.interval_source: dict[str, str] = {}
        self.recomputed: set[int] = set()


def _touching(runs: list[tuple[int, int]]) -> pl.Expr:
    """Visits with a fix on a day of the runs (their days overlap one)."""
    first, last = _day_of("entered"), _day_of("last_fix")
    return pl.any_horizontal([(first < b) & (last >= a) for a, b in runs] or [pl.lit(False)])


def _patrol(
    data_dir: Path,
    source: CubeSource,
    executor: Executor,
    prev: _Previous | None,
    digests: pl.DataFrame,
    *,
    base_res: int,
    break_s: float,
    given: Mapping[str, float] | None,
    window_days: int | None,
    progress: bool,
) -> _PatrolResult:
    out = _PatrolResult()
    folder = cubes_dir(data_dir)
    old_days = prev.days_of("patrol_fixes") if prev is not None else None
    now = _day_set(digests)
    data_days = now | (_day_set(old_days) if old_days is not None else set())
    changed = _changed(old_days, digests)
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
        _say(progress, f"patrol: {len(days)} days in {len(spans)} partitions")
        task = partial(patrol_part, source, base_res=base_res, break_s=break_s, intervals=intervals)
        return executor.map(task, spans)

    parts = run(todo, guess)

    # Gap counts and kinds: recomputed days from the partitions, the others as kept.
    gap_frames = [p.gaps for p in parts]
    day_frames = [p.days for p in parts]
    if prev is not None and old_days is not None:
        keep = sorted(now - todo)
        gap_frames.append(prev.gaps.filter(_day_of("day").is_in(keep)))
        day_frames.append(old_days.filter(_day_of("day").is_in(keep)).select(out.days.columns))
    gaps = pl.concat([x for x in gap_frames if x.height] or [out.gaps])
    days = pl.concat([x for x in day_frames if x.height] or [out.days])
    days = days.filter(_day_of("day").is_in(sorted(now))).sort("day")
    kinds = sorted(set().union(*days["kinds"].to_list())) if days.height else []
    intervals, interval_source = nominal_intervals(gaps, kinds, given)

    # Days kept from the last build are exact only if their kinds' intervals held.
    if prev is not None:
        old = prev.meta.get("dwell", {}).get("fix_interval_s", {})
        rest = now - todo
        rest_kinds = set().union(*days.filter(_day_of("day").is_in(sorted(rest)))["kinds"])
        if any(old.get(k) != intervals[k] for k in rest_kinds):
            _say(progress, "patrol: a fix interval moved; recomputing every day")
            parts += run(rest, intervals)
            todo |= rest
    wrong = [p for p in parts if any(intervals.get(k) != v for k, v in p.intervals.items())]
    if wrong:
        again = set().union(
            *(set(range(day_number(p.window[0]), day_number(p.window[1]))) for p in wrong)
        )
        _say(progress, f"patrol: {len(again)} days recomputed with the whole data's intervals")
        parts = [p for p in parts if p not in wrong] + run(again, intervals)
    parts.sort(key=lambda p: p.window[0])

    # Visits: the stored ones touching no recomputed day stay; the others are made again
    # from the new pieces and the kept pieces (other days) of visits over midnight.
    runs = day_runs(todo)
    frames = [p.patrol for p in parts]
    pieces = [p.pieces for p in parts]
    kept_visits: pl.DataFrame | None = None
    kept_spans = pl.DataFrame(schema=SPAN_SCHEMA)
    if prev is not None:
        old_patrol = pl.read_parquet(folder / "patrol.parquet")
        frames.append(_as_strings(_keep_days(old_patrol, "hour", todo), "unit_kind"))
        old_visits = _as_strings(pl.read_parquet(folder / "visits.parquet"), "unit_id", "unit_kind")
        touched = old_visits.filter(_touching(runs))
        kept_visits = old_visits.filter(~_touching(runs))
        keys = touched.filter(_day_of("entered") != _day_of("last_fix")).select(
            "unit_id", pl.col("entered").alias("visit_entered")
        )
        old_spans = pl.read_parquet(folder / SPANS_FILE).select(list(SPAN_SCHEMA))
        pieces.append(
            old_spans.join(keys, on=["unit_id", "visit_entered"], how="semi").filter(
                ~_day_of("entered").is_in(sorted(todo))
            )
        )
        kept_spans = old_spans.join(keys, on=["unit_id", "visit_entered"], how="anti")
    merged = merge_pieces(pieces)
    if merged.orphans:
        if prev is None:
            raise RuntimeError(f"{merged.orphans} visit pieces found no visit to continue")
        _say(progress, "patrol: pieces of visits are missing; rebuilding in full")
        return _patrol(
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
    patrol = pl.concat(frames) if frames else _as_strings(empty("patrol"), "unit_kind")
    out.patrol = patrol.sort("hour", "cell", "unit_kind").with_columns(
        pl.col("unit_kind").cast(enum)
    )
    visits = merged.visits
    if kept_visits is not None:
        visits = pl.concat([kept_visits, visits]).sort("unit_id", "entered", maintain_order=True)
    units = pl.Enum(visits["unit_id"].unique().sort().to_list())
    out.visits = visits.with_columns(
        pl.col("unit_id").cast(units), pl.col("unit_kind").cast(enum)
    ).select(list(empty("visits").columns))
    out.spans = pl.concat([kept_spans, merged.spans]).sort(
        "unit_id", "entered", maintain_order=True
    )
    out.days, out.gaps = days, gaps.sort("day", "unit_kind", "bin")
    out.intervals, out.interval_source = intervals, interval_source
    out.recomputed = todo
    return out


def _incidents(
    data_dir: Path,
    source: CubeSource,
    executor: Executor,
    prev: _Previous | None,
    digests: pl.DataFrame,
    *,
    base_res: int,
    window_days: int | None,
    progress: bool,
) -> tuple[pl.DataFrame, pl.DataFrame, set[int]]:
    old_days = prev.days_of("incidents") if prev is not None else None
    now = _day_set(digests)
    todo = _changed(old_days, digests)
    spans = windows(day_runs(todo), window_days)
    parts: list[IncidentPart] = []
    if spans:
        _say(progress, f"incidents: {len(todo)} days in {len(spans)} partitions")
        parts = executor.map(partial(incident_part, source, base_res=base_res), spans)
    frames = [p.cube for p in parts]
    kept = [p.days for p in parts]
    if prev is not None and old_days is not None:
        old = pl.read_parquet(cubes_dir(data_dir) / "incidents.parquet")
        frames.append(_as_strings(_keep_days(old, "hour", todo), "category"))
        kept.append(old_days.filter(~_day_of("day").is_in(sorted(todo))).select("day", "kept"))
    cube = (
        pl.concat([f for f in frames if f.height]).sort("hour", "cell", "category")
        if any(f.height for f in frames)
        else empty("incidents")
    )
    days = (
        pl.concat([k for k in kept if k.height]).filter(_day_of("day").is_in(sorted(now)))
        if any(k.height for k in kept)
        else pl.DataFrame(schema={"day": DAY_SCHEMA["day"], "kept": pl.Int64()})
    )
    return cube, days, todo


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _source_meta(
    source: CubeSource, kind: str, digests: pl.DataFrame, kept: pl.DataFrame
) -> dict[str, Any]:
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
    settings = _settings(base_res, break_s, fix_interval_s)
    prev = _previous(data_dir, source, settings) if incremental else None
    if incremental and prev is None:
        _say(progress, "no partitioned build to refresh: building in full")
    if prev is not None and _unchanged_files(prev, source, have):
        _say(progress, "the store has not changed since the last build")
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
    prev: _Previous | None,
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
        kind: _digests(executor, source, kind, window_days)
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
        incidents, inc_days, inc_todo = _incidents(
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
        incidents = empty("incidents")
        inc_days = pl.DataFrame(schema={"day": DAY_SCHEMA["day"], "kept": pl.Int64()})

    patrol = _PatrolResult()
    if have["patrol_fixes"]:
        patrol = _patrol(
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
        _write(cubes[name], folder / f"{name}.parquet")
    _write(day_table, folder / DAYS_FILE)
    _write(gap_table, folder / GAPS_FILE)
    _write(span_table, folder / SPANS_FILE)

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
    _say(
        progress,
        "recomputed days: " + ", ".join(f"{k} {v}" for k, v in recomputed.items()),
    )
    return meta


def _write(frame: pl.DataFrame, path: Path) -> None:
    tmp = _atomic_target(path)
    try:
        frame.write_parquet(tmp, **_COMPRESSION)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


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
