"""Where the cube build reads incidents and patrol fixes: the file store or PostGIS.

A source gives the build the rows it needs, optionally one time range at a time (a
partition of a Dask build or of an incremental refresh), in the order they were stored,
plus what a refresh needs to see what changed: per day, the number of rows and a digest
of their content. :class:`FileSource` reads the data directory's Parquet files;
:class:`geodata.postgis.PgSource` reads the PostGIS tables with the filters pushed into
SQL. Sources are small frozen records (a path, or a DSN and a schema), so they travel to
Dask workers, which open the data themselves.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final, Protocol

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from geodata.cubes.fixes import CODE_FIX_COLUMNS, FIX_COLUMNS
from geodata.store import StoreError, has_table, table_path

INCIDENT_COLUMNS: Final = ("time", "lng", "lat", "category", "severity")
"""Columns of the incidents the cube reads (``severity`` may be missing)."""

DIGEST_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "patrol_fixes": FIX_COLUMNS,
    "incidents": INCIDENT_COLUMNS,
}
"""Columns whose content a day's digest covers: what changes the cubes, nothing else."""

_CANONICAL: Final[dict[str, pl.DataType]] = {
    "unit_id": pl.String(),
    "unit_kind": pl.String(),
    "time": pl.Datetime("us"),
    "lng": pl.Float64(),
    "lat": pl.Float64(),
    "category": pl.String(),
    "severity": pl.Int64(),
}

DAY_SCHEMA: Final[dict[str, pl.DataType]] = {
    "day": pl.Datetime("us"),
    "rows": pl.Int64(),
    "digest": pl.String(),
    "time_min": pl.Datetime("us"),
    "time_max": pl.Datetime("us"),
}
"""Columns of :meth:`CubeSource.day_digests`."""


class CubeSource(Protocol):
    """What the cube build reads. ``kind`` is "incidents" or "patrol_fixes"; times are
    naive China Standard Time, ranges half-open ``[start, end)``."""

    name: ClassVar[str]

    @property
    def digest_kind(self) -> str:
        """How :meth:`day_digests` hashes: digests of different kinds never compare."""
        ...

    def describe(self) -> str:
        """Where the data is, for messages (never a password)."""
        ...

    def has(self, kind: str) -> bool:
        """Whether the source holds that data set (with rows, for a database)."""
        ...

    def fingerprint(self, kind: str) -> dict[str, Any]:
        """What identifies the stored table now (file size and mtime; table and rows)."""
        ...

    def read_fixes(
        self, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pa.Table:
        """Patrol fixes (``FIX_COLUMNS``) with ``start <= time < end``, in stored order."""
        ...

    def read_incidents(
        self, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pl.DataFrame:
        """Incidents (the columns of ``INCIDENT_COLUMNS`` present), in stored order."""
        ...

    def null_time_rows(self, kind: str) -> int:
        """Rows without a time (never in any partition; the build drops and counts them)."""
        ...

    def time_bounds(self, kind: str) -> tuple[dt.datetime | None, dt.datetime | None]:
        """Earliest and latest time stored (None, None when no row has one)."""
        ...

    def day_digests(
        self, kind: str, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pl.DataFrame:
        """Per day (midnight) with rows in ``[start, end)``: rows, digest, first and last
        time (columns of :data:`DAY_SCHEMA`), sorted by day."""
        ...


def digests_of(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Per-day rows, digest and time range of rows of ``kind`` (polars' row hash).

    The digest of a day is the sum of its rows' hashes, so it ignores row order (an
    append that only reorders nothing changes nothing) but sees any added, removed or
    edited row. Codes are hashed as text, whatever their storage (dictionary or not).
    """
    columns = [c for c in DIGEST_COLUMNS[kind] if c in frame.columns]
    canon = frame.select(pl.col(c).cast(_CANONICAL[c]) for c in columns).filter(
        pl.col("time").is_not_null()
    )
    return (
        canon.select("time")
        .with_columns(_h=canon.hash_rows(seed=0))
        .with_columns(
            pl.col("time").dt.truncate("1d").alias("day"),
            (pl.col("_h") // (1 << 32)).alias("_hi"),
            (pl.col("_h") % (1 << 32)).alias("_lo"),
        )
        .group_by("day")
        .agg(
            pl.len().cast(pl.Int64).alias("rows"),
            pl.format("{}.{}", pl.col("_hi").sum(), pl.col("_lo").sum()).alias("digest"),
            pl.col("time").min().alias("time_min"),
            pl.col("time").max().alias("time_max"),
        )
        .sort("day")
        .select(list(DAY_SCHEMA))
        .cast(DAY_SCHEMA)  # type: ignore[arg-type]
    )


# One whole table per file and process, for partitioned reads: a Parquet file sorted by
# unit cannot skip row groups by time, so each partition would decode the whole file.
_CACHE: dict[Path, tuple[tuple[int, int], pa.Table]] = {}
_CACHE_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget the tables :class:`FileSource` keeps for partitioned reads."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _read_fixes_file(path: Path) -> pa.Table:
    schema = pq.read_schema(path)
    names = set(schema.names)
    missing = [c for c in FIX_COLUMNS if c not in names]
    if missing:
        raise StoreError(f"{path} lacks the columns {missing}; found {sorted(names)}")
    as_dict = [
        c
        for c in CODE_FIX_COLUMNS
        if str(schema.field(c).type) in ("string", "large_string", "string_view")
    ]
    return pq.read_table(path, columns=list(FIX_COLUMNS), read_dictionary=as_dict)


def _read_incidents_file(path: Path) -> pa.Table:
    present = set(pq.read_schema(path).names)
    return pq.read_table(path, columns=[c for c in INCIDENT_COLUMNS if c in present])


def _in_range(table: pa.Table, start: dt.datetime | None, end: dt.datetime | None) -> pa.Table:
    if start is None and end is None:
        return table
    time = table["time"]
    mask = None
    if start is not None:
        mask = pc.greater_equal(time, pa.scalar(start, type=time.type))
    if end is not None:
        upper = pc.less(time, pa.scalar(end, type=time.type))
        mask = upper if mask is None else pc.and_(mask, upper)
    return table.filter(mask)


@dataclass(frozen=True)
class FileSource:
    """The incidents and patrol fixes of a data directory (:mod:`geodata.store`)."""

    data_dir: Path
    name: ClassVar[str] = "files"

    @property
    def digest_kind(self) -> str:
        """Polars' row hash, which is stable within one polars version."""
        return f"polars-{pl.__version__}"

    def describe(self) -> str:
        """The data directory."""
        return str(self.data_dir)

    def has(self, kind: str) -> bool:
        """Whether the data directory holds ``kind``."""
        return has_table(self.data_dir, kind)

    def fingerprint(self, kind: str) -> dict[str, Any]:
        """File name, size and modification time."""
        st = table_path(self.data_dir, kind).stat()
        return {"file": f"{kind}.parquet", "size": st.st_size, "mtime_ns": st.st_mtime_ns}

    def _whole(self, kind: str) -> pa.Table:
        path = table_path(self.data_dir, kind)
        st = path.stat()
        stamp = (st.st_size, st.st_mtime_ns)
        with _CACHE_LOCK:
            hit = _CACHE.get(path)
            if hit is not None and hit[0] == stamp:
                return hit[1]
            table = _read_fixes_file(path) if kind == "patrol_fixes" else _read_incidents_file(path)
            _CACHE[path] = (stamp, table)
            return table

    def read_fixes(
        self, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pa.Table:
        """Patrol fixes, unit and kind dictionary-encoded as the file stores them."""
        if start is None and end is None:  # one whole read: not worth keeping
            return _read_fixes_file(table_path(self.data_dir, "patrol_fixes"))
        return _in_range(self._whole("patrol_fixes"), start, end)

    def read_incidents(
        self, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pl.DataFrame:
        """Incidents in the range."""
        if start is None and end is None:
            table = _read_incidents_file(table_path(self.data_dir, "incidents"))
        else:
            table = _in_range(self._whole("incidents"), start, end)
        out = pl.from_arrow(table)
        assert isinstance(out, pl.DataFrame)
        return out

    def null_time_rows(self, kind: str) -> int:
        """Rows whose time is missing."""
        path = table_path(self.data_dir, kind)
        return int(pq.read_table(path, columns=["time"])["time"].null_count)

    def time_bounds(self, kind: str) -> tuple[dt.datetime | None, dt.datetime | None]:
        """Earliest and latest time."""
        path = table_path(self.data_dir, kind)
        bounds = pc.min_max(pq.read_table(path, columns=["time"])["time"])
        return bounds["min"].as_py(), bounds["max"].as_py()

    def day_digests(
        self, kind: str, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pl.DataFrame:
        """Per-day rows and digests, from the whole table read once."""
        frame = pl.from_arrow(_in_range(self._whole(kind), start, end))
        assert isinstance(frame, pl.DataFrame)
        return digests_of(frame, kind)


def source_for(
    data_dir: Path | str, *, dsn: str | None = None, schema: str | None = None
) -> CubeSource:
    """The PostGIS source when a DSN is given, else the data directory's files."""
    if dsn:
        from geodata.postgis.source import PgSource

        return PgSource(dsn, schema)
    return FileSource(Path(data_dir))
