"""What a partitioned build keeps beside the cubes, and how a refresh reads it.

``cubes/partitions.parquet`` holds, per source and day, the rows and digest of the
store's rows (what a refresh compares), their time range, the rows the cubes counted
and the unit kinds seen; ``cubes/gaps.parquet`` the gap counts that set the dwell caps;
``cubes/spans.parquet`` the pieces of visits over midnight. All three carry the build
id of ``meta.json``: files of another build are not trusted.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any, Final

import polars as pl

from geodata.cubes.build import _COMPRESSION, load_meta
from geodata.cubes.partitions import GAP_SCHEMA, Window, day_number, digest_part, windows
from geodata.cubes.refresh.executors import Executor
from geodata.cubes.sources import DAY_SCHEMA, CubeSource, FileSource
from geodata.cubes.tables import CUBE_NAMES, coarse_res
from geodata.store import StoreError, _atomic_target, cubes_dir

DAYS_FILE: Final = "partitions.parquet"
"""Per source and day: rows, digest, time range, rows kept in the cubes, unit kinds."""
GAPS_FILE: Final = "gaps.parquet"
"""Per day, unit kind and 10 ms bin: usable gaps between fixes (for the dwell caps)."""
SPANS_FILE: Final = "spans.parquet"
"""The pieces (one per day) of the visits that run over midnight."""
PARTITION_FORMAT: Final = 1
SOURCES: Final = ("incidents", "patrol_fixes")

DAYS_SCHEMA: Final[dict[str, pl.DataType]] = {
    "source": pl.String(),
    **DAY_SCHEMA,
    "kept": pl.Int64(),
    "kinds": pl.List(pl.String()),
}


class Previous:
    """What the last partitioned build left: its metadata, day table and gap counts."""

    def __init__(self, meta: dict[str, Any], days: pl.DataFrame, gaps: pl.DataFrame) -> None:
        self.meta = meta
        self.days = days
        self.gaps = gaps

    def days_of(self, kind: str) -> pl.DataFrame:
        """The day table of one source ("incidents" or "patrol_fixes")."""
        return self.days.filter(pl.col("source") == kind).drop("source")


def say(progress: bool, text: str) -> None:
    """Tell the person at the terminal what is being recomputed."""
    if progress:
        print(f"[cubes] {text}", file=sys.stderr, flush=True)


def settings_of(base_res: int, break_s: float, given: Mapping[str, float] | None) -> dict[str, Any]:
    """The settings a build is made with, as ``meta.json`` records them: a refresh with
    other settings is a full build."""
    return {
        "base_res": base_res,
        # Cubes of another layout (format 1 had no exact coarser cells) are built anew.
        "exact_res": list(coarse_res(base_res)),
        "break_s": float(break_s),
        "fix_interval_s": dict(sorted((k, float(v)) for k, v in given.items())) if given else None,
    }


def load_previous(data_dir: Path, source: CubeSource, settings: dict[str, Any]) -> Previous | None:
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
    return Previous(meta, days.select(list(DAYS_SCHEMA)), gaps.select(list(GAP_SCHEMA)))


def unchanged_files(prev: Previous, source: CubeSource, have: dict[str, bool]) -> bool:
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


def day_digests(
    executor: Executor, source: CubeSource, kind: str, window_days: int | None
) -> pl.DataFrame:
    """The source's per-day digests of ``kind``, in one task or one per window."""
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


def day_set(frame: pl.DataFrame) -> set[int]:
    """Day numbers of a frame's ``day`` column."""
    return {day_number(d) for d in frame["day"].to_list()}


def changed_days(old: pl.DataFrame | None, new: pl.DataFrame) -> set[int]:
    """Days whose row count or digest differ, or that exist on one side only."""
    if old is None:
        return day_set(new)
    both = old.select("day", "rows", "digest").join(
        new.select("day", "rows", "digest"), on="day", how="full", coalesce=True, suffix="_new"
    )
    diff = both.filter(
        pl.col("rows").ne_missing(pl.col("rows_new"))
        | pl.col("digest").ne_missing(pl.col("digest_new"))
    )
    return day_set(diff)


def day_of(column: str) -> pl.Expr:
    """The day number of a time column, as an expression."""
    return pl.col(column).dt.epoch("d")


def without_days(frame: pl.DataFrame, column: str, days: set[int]) -> pl.DataFrame:
    """The rows whose ``column`` falls on none of ``days``."""
    return frame.filter(~day_of(column).is_in(sorted(days)))


def as_strings(frame: pl.DataFrame, *names: str) -> pl.DataFrame:
    """Code columns (Enum, Categorical) as String, so frames of several builds concatenate."""
    return frame.with_columns(pl.col(n).cast(pl.String) for n in names if n in frame.columns)


def write_frame(frame: pl.DataFrame, path: Path) -> None:
    """Write a cube or ledger file atomically (temporary file, then rename)."""
    tmp = _atomic_target(path)
    try:
        frame.write_parquet(tmp, **_COMPRESSION)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
