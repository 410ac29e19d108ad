"""PostGIS as the source of the cube build (:class:`geodata.cubes.sources.CubeSource`).

Every read pushes its time range into SQL (the btree index on ``time``) and keeps the
stored order (``ORDER BY fid``), so the cubes built from PostGIS equal those built from
the files the tables were loaded from. Day digests are computed by the server
(``hash_record_extended`` of each row's values, summed per day: no value is formatted as
text, three times faster than hashing the row's text), so a refresh learns what changed
without moving the rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl
import psycopg
import pyarrow as pa
from psycopg import sql

from geodata.cubes.fixes import FIX_COLUMNS
from geodata.cubes.sources import DAY_SCHEMA, INCIDENT_COLUMNS
from geodata.postgis.connection import PgError, check_schema_name, connect, default_schema, redacted
from geodata.postgis.migrations import require_migrated
from geodata.postgis.tables import ARROW_TYPES, copy_to_arrow, time_filter, where
from geodata.schema import dataset


@dataclass(frozen=True)
class PgSource:
    """The incidents and patrol fixes of a migrated PostGIS schema.

    Parameters
    ----------
    dsn : str
        libpq connection string or URI.
    schema : str, optional
        PostgreSQL schema (default ``PNM_DB_SCHEMA`` or ``pnm``).
    """

    dsn: str
    schema: str | None = None
    name: ClassVar[str] = "postgis"

    @property
    def _schema(self) -> str:
        return check_schema_name(self.schema or default_schema())

    @property
    def digest_kind(self) -> str:
        """PostgreSQL's ``hash_record_extended`` of the row."""
        return "postgres-hash_record_extended"

    def describe(self) -> str:
        """Server and schema, without the password."""
        return f"PostgreSQL {redacted(self.dsn)} schema {self._schema}"

    def _table(self, kind: str) -> sql.Identifier:
        dataset(kind)
        return sql.Identifier(self._schema, kind)

    def _one(self, query: sql.Composed, kind: str) -> tuple[Any, ...]:
        with connect(self.dsn) as conn:
            require_migrated(conn, self._schema)
            try:
                row = conn.execute(query).fetchone()
            except psycopg.Error as exc:
                # The server's first line (not the statement it echoes back).
                reason = " ".join(str(exc).splitlines()[0].split()) if str(exc) else repr(exc)
                raise PgError(f"reading {self._schema}.{kind} failed: {reason}") from exc
        assert row is not None
        return tuple(row)

    def has(self, kind: str) -> bool:
        """Whether the table holds any row."""
        return bool(
            self._one(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(self._table(kind)), kind)[
                0
            ]
        )

    def fingerprint(self, kind: str) -> dict[str, Any]:
        """Table, rows and highest ``fid`` (what an append changes)."""
        rows, top = self._one(
            sql.SQL("SELECT count(*), coalesce(max(fid), 0) FROM {}").format(self._table(kind)),
            kind,
        )
        return {"table": f"{self._schema}.{kind}", "rows_stored": int(rows), "max_fid": int(top)}

    def _read(
        self,
        kind: str,
        columns: tuple[str, ...],
        start: dt.datetime | None,
        end: dt.datetime | None,
    ) -> pa.Table:
        ds = dataset(kind)
        types = {c: ARROW_TYPES[ds.column(c).dtype] for c in columns}
        query = sql.SQL("SELECT {} FROM {}{} ORDER BY fid").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            self._table(kind),
            where(time_filter(start, end)),
        )
        with connect(self.dsn) as conn:
            require_migrated(conn, self._schema)
            try:
                return copy_to_arrow(conn, query, types)
            except psycopg.Error as exc:
                raise PgError(f"reading {self._schema}.{kind} failed: {exc}") from exc

    def read_fixes(
        self, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pa.Table:
        """Patrol fixes in the range, in stored order."""
        return self._read("patrol_fixes", FIX_COLUMNS, start, end)

    def read_incidents(
        self, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pl.DataFrame:
        """Incidents in the range, in stored order."""
        out = pl.from_arrow(self._read("incidents", INCIDENT_COLUMNS, start, end))
        assert isinstance(out, pl.DataFrame)
        return out

    def null_time_rows(self, kind: str) -> int:
        """Rows without a time (none, where the column is NOT NULL)."""
        return int(
            self._one(
                sql.SQL("SELECT count(*) FROM {} WHERE time IS NULL").format(self._table(kind)),
                kind,
            )[0]
        )

    def time_bounds(self, kind: str) -> tuple[dt.datetime | None, dt.datetime | None]:
        """Earliest and latest time (from the time index)."""
        low, high = self._one(
            sql.SQL("SELECT min(time), max(time) FROM {}").format(self._table(kind)), kind
        )
        return low, high

    def day_digests(
        self, kind: str, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pl.DataFrame:
        """Per-day rows, digest and time range, aggregated by the server."""
        from geodata.cubes.sources import DIGEST_COLUMNS

        columns = DIGEST_COLUMNS[kind]
        row = sql.SQL("ROW({})").format(sql.SQL(", ").join(sql.Identifier(c) for c in columns))
        query = sql.SQL(
            "SELECT date_trunc('day', time) AS day, count(*) AS rows, "
            "sum(hash_record_extended({}, 0))::text AS digest, min(time), max(time) "
            "FROM {}{} GROUP BY 1 ORDER BY 1"
        ).format(
            row,
            self._table(kind),
            where([sql.SQL("time IS NOT NULL"), *time_filter(start, end)]),
        )
        with connect(self.dsn) as conn:
            require_migrated(conn, self._schema)
            try:
                rows = conn.execute(query).fetchall()
            except psycopg.Error as exc:
                raise PgError(f"reading {self._schema}.{kind} failed: {exc}") from exc
        return pl.DataFrame(
            [tuple(r) for r in rows],
            schema=DAY_SCHEMA,
            orient="row",
        )
