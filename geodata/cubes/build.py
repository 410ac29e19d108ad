"""Building the cubes of a data directory, and reading them back.

The build reads the store's ``incidents`` and ``patrol_fixes`` Parquet files directly
(pyarrow, unit and kind codes from the file's dictionaries) — or, given a
:class:`~geodata.cubes.sources.CubeSource` such as PostGIS, that source's tables —
writes each cube to a temporary file, renames them into place together once every source
was read and every cube written (a source that fails half way leaves the last build as it
was), and writes ``meta.json`` last, so a reader that checks the metadata never meets a
half-written build.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow.compute as pc
from tqdm import tqdm

from geodata.cubes.coarser import to_pandas
from geodata.cubes.incidents import incident_cube
from geodata.cubes.patrol import BREAK_S, CAP_FACTOR, prepare_patrol
from geodata.cubes.sources import CubeSource, FileSource
from geodata.cubes.tables import BASE_RES, CODE_COLUMNS, CUBE_NAMES, TIME_COLUMN, empty
from geodata.hexes import MAX_RES
from geodata.store import StoreError, _atomic_target, cubes_dir

META_FILE = "meta.json"
FORMAT_VERSION = 2  # 2: every row carries its exact coarser cells (cell_6 .. cell_10)
# zstd level 1: a third of the write time of level 3, for files ~40 % larger.
_COMPRESSION: dict[str, Any] = {"compression": "zstd", "compression_level": 1}


def _write_json(data: dict[str, Any], path: Path) -> None:
    tmp = _atomic_target(path)
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def build_cubes(
    data_dir: Path | str,
    *,
    progress: bool = False,
    base_res: int = BASE_RES,
    break_s: float = BREAK_S,
    fix_interval_s: Mapping[str, float] | None = None,
    source: CubeSource | None = None,
) -> dict[str, Any]:
    """Index the store's incidents and patrol fixes to H3 and write the hex cubes.

    Parameters
    ----------
    data_dir : path
        The data directory (see :mod:`geodata.store`); the cubes go to its ``cubes/``.
    source : CubeSource, optional
        Where the incidents and fixes are read (e.g. :class:`geodata.postgis.PgSource`);
        default: the data directory's own files.
    progress : bool
        Show a progress bar (the command line does).
    base_res : int
        H3 resolution of the cubes, 0..15; the layers use 6..11.
    break_s, fix_interval_s
        Dwell and visit settings, see :func:`geodata.cubes.patrol_cubes`.

    Returns
    -------
    dict
        The metadata written to ``meta.json``: ``base_res``, ``built_at``, per source
        its file fingerprint (size, mtime), rows, dropped rows and time range, the
        overall ``time_range``, the ``dwell`` constants used, per cube its row count.

    Raises
    ------
    StoreError
        When the data directory holds neither incidents nor patrol fixes. With only one
        of the two, the other cube is written empty (with its columns), so the layers
        show "no data" instead of failing; ``meta.json`` lists it under ``missing``.
    """
    data_dir = Path(data_dir)
    if not 0 <= base_res <= MAX_RES:
        raise ValueError(f"base_res must be 0..15, got {base_res}")
    source = FileSource(data_dir) if source is None else source
    have_incidents = source.has("incidents")
    have_fixes = source.has("patrol_fixes")
    if not (have_incidents or have_fixes):
        raise no_sources_error(source)
    started = time.perf_counter()
    out_dir = cubes_dir(data_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "base_res": base_res,
        "built_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "sources": {},
        "missing": [
            k for k, ok in (("incidents", have_incidents), ("patrol_fixes", have_fixes)) if not ok
        ],
    }
    # Temporary files are made here, in one thread: making one reads the umask by setting
    # it, which is not thread-safe. Each cube is renamed into place once written.
    paths = {name: out_dir / f"{name}.parquet" for name in CUBE_NAMES}
    targets = {name: _atomic_target(path) for name, path in paths.items()}
    rows: dict[str, int] = {}

    def write(name: str, frame: pl.DataFrame) -> None:
        # Into the temporary file only: the cubes are renamed into place together once
        # every source was read and every cube written (a source failing half way, e.g.
        # PostgreSQL stopped while the incidents are read, leaves the old build whole).
        frame.write_parquet(targets[name], **_COMPRESSION)
        rows[name] = frame.height

    spans: list[tuple[Any, Any]] = []
    steps = ("indexing fixes", "writing cubes", "writing meta.json")
    bar = tqdm(total=len(steps), desc="cubes", unit="step", disable=not progress)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            bar.set_postfix_str(steps[0])
            incidents_job = pool.submit(_incidents, source, base_res) if have_incidents else None
            jobs = []
            if have_fixes:
                table = source.read_fixes()
                work = prepare_patrol(
                    table, base_res=base_res, break_s=break_s, fix_interval_s=fix_interval_s
                )
                bounds = pc.min_max(table["time"])
                span = (_iso(bounds["min"].as_py()), _iso(bounds["max"].as_py()))
                meta["sources"]["patrol_fixes"] = {
                    **source.fingerprint("patrol_fixes"),
                    "rows": table.num_rows,
                    "dropped": work.dropped,
                    "sorted": work.was_sorted,
                    "time_min": span[0],
                    "time_max": span[1],
                }
                spans.append(span)
                meta["dwell"] = {
                    "break_s": break_s,
                    "cap_factor": CAP_FACTOR,
                    "fix_interval_s": work.fix_interval_s,
                    "fix_interval_source": work.interval_source,
                    "cap_s": work.cap_s,
                }
                del table
                bar.update()
                bar.set_postfix_str(steps[1])
                # The visits table is made and written while the patrol cube is grouped.
                jobs.append(pool.submit(lambda: write("visits", work.visits())))
                write("patrol", work.patrol())
            else:
                jobs.append(pool.submit(write, "visits", empty("visits", base_res)))
                write("patrol", empty("patrol", base_res))
                bar.update()
                bar.set_postfix_str(steps[1])
            if incidents_job is None:
                write("incidents", empty("incidents", base_res))
            else:
                incidents, read = incidents_job.result()
                meta["sources"] = {"incidents": read, **meta["sources"]}
                spans.append((read["time_min"], read["time_max"]))
                write("incidents", incidents)
            for job in jobs:
                job.result()
            for name in CUBE_NAMES:
                os.replace(targets[name], paths[name])
            bar.update()
            bar.set_postfix_str(steps[2])
        meta["cubes"] = {
            name: {"file": paths[name].name, "rows": rows[name]} for name in CUBE_NAMES
        }
        starts = [a for a, _ in spans if a is not None]
        ends = [b for _, b in spans if b is not None]
        meta["time_range"] = {
            "start": min(starts) if starts else None,
            "end": max(ends) if ends else None,
        }
        meta["seconds"] = round(time.perf_counter() - started, 3)
        _write_json(meta, out_dir / META_FILE)
        bar.update()
    finally:
        bar.close()
        for tmp in targets.values():
            tmp.unlink(missing_ok=True)
    return meta


def no_sources_error(source: CubeSource) -> StoreError:
    """The error of a build with neither incidents nor patrol fixes to read."""
    if isinstance(source, FileSource):
        return StoreError(
            f"the data directory {source.data_dir} has neither incidents nor patrol fixes "
            "(incidents.parquet, patrol_fixes.parquet): import them, or build the demo "
            "data set, before building cubes"
        )
    return StoreError(
        f"{source.describe()} has neither incidents nor patrol fixes: import them "
        "before building cubes"
    )


def _incidents(source: CubeSource, base_res: int) -> tuple[pl.DataFrame, dict[str, Any]]:
    incidents = source.read_incidents()
    cube = incident_cube(incidents, base_res=base_res)
    meta = {
        **source.fingerprint("incidents"),
        "rows": incidents.height,
        "dropped": incidents.height - int(cube["count"].sum()),
        "time_min": _iso(incidents["time"].min()),
        "time_max": _iso(incidents["time"].max()),
    }
    return cube, meta


def scan_cube(data_dir: Path | str, name: str) -> pl.LazyFrame:
    """A lazy polars scan of cube ``name`` ("incidents", "patrol" or "visits").

    Code columns come back as ``pl.String``; a filter on ``hour`` (``entered`` for
    visits) is pushed into the Parquet read.
    """
    if name not in CUBE_NAMES:
        raise ValueError(f"unknown cube {name!r}; known: {', '.join(CUBE_NAMES)}")
    path = cubes_dir(data_dir) / f"{name}.parquet"
    if not path.exists():
        raise StoreError(
            f"the data directory {Path(data_dir)} has no {name} cube ({path}): "
            "run `python -m geodata cubes --data DIR` first"
        )
    lf = pl.scan_parquet(path)
    names = lf.collect_schema().names()
    return lf.with_columns(pl.col(c).cast(pl.String) for c in CODE_COLUMNS if c in names)


def load_cube(
    data_dir: Path | str,
    name: str,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read cube ``name`` as a pandas DataFrame, optionally one time window.

    Parameters
    ----------
    data_dir : path
        The data directory.
    name : str
        "incidents", "patrol" or "visits".
    start, end : datetime, optional
        Keep rows with ``start <= hour < end`` (``entered`` for visits), naive China
        Standard Time.
    columns : sequence of str, optional
        Columns to read (default: all).

    Returns
    -------
    pandas.DataFrame
        ``cell`` as uint64, times as datetime64[us], codes as str.
    """
    lf = scan_cube(data_dir, name)
    when = pl.col(TIME_COLUMN[name])
    if start is not None:
        lf = lf.filter(when >= start)
    if end is not None:
        lf = lf.filter(when < end)
    if columns is not None:
        lf = lf.select(list(columns))
    return to_pandas(lf.collect())


def check_format(data_dir: Path | str) -> dict[str, Any]:
    """The cubes' ``meta.json``, after checking they are of this code's format.

    Raises
    ------
    StoreError
        When there are no cubes, or cubes of another format (format 1 cubes carry no
        exact coarser cells and would count points in their neighbours' hexagons).
    """
    meta = load_meta(data_dir)
    found = meta.get("format")
    if found != FORMAT_VERSION:
        raise StoreError(
            f"the cubes of {Path(data_dir)} are of format {found}, this version reads "
            f"format {FORMAT_VERSION} (exact cells at every resolution): rebuild them "
            "with `python -m geodata cubes --data DIR` / 数据立方格式过旧，请重新生成"
        )
    return meta


def load_meta(data_dir: Path | str) -> dict[str, Any]:
    """The ``meta.json`` of the cubes of ``data_dir``; StoreError when there is none."""
    path = cubes_dir(data_dir) / META_FILE
    if not path.exists():
        raise StoreError(
            f"the data directory {Path(data_dir)} has no cubes yet: "
            "run `python -m geodata cubes --data DIR`"
        )
    meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return meta
