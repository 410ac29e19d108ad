"""The PostGIS tables of the data sets, created by numbered, repeatable migrations.

One table per data set of :mod:`geodata.schema`, in one PostgreSQL schema:

* the schema's columns with their types (``str`` text, ``int`` bigint, ``float``/``lng``/
  ``lat`` double precision, ``datetime`` timestamp without time zone — China Standard
  Time, as everywhere in the store — and ``date`` date), required columns NOT NULL;
* ``fid``, an identity primary key: the order rows were stored in, which every read keeps,
  so a table read back gives the rows (and the cubes built from them) of the file it was
  loaded from;
* point tables: ``geom geometry(Point, 4326)``, generated from ``lng``/``lat`` so the two
  never disagree; polygon tables: ``geom geometry(MultiPolygon, 4326)`` in place of the
  schema's ``geometry``; a GiST index on ``geom`` either way;
* the key of the data set (``incident_id``, ...) UNIQUE, and a btree index on ``time``
  for incidents and patrol fixes (every cube partition reads a time range).

``schema_version`` records the migrations applied; :func:`migrate` applies the missing
ones in one transaction under an advisory lock, so running it twice, or from two hosts
at once, is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import psycopg
from psycopg import sql

from geodata.postgis.connection import PgError, check_schema_name, connect, default_schema
from geodata.schema import DATASETS, Dataset

SQL_TYPES: Final[dict[str, str]] = {
    "str": "text",
    "int": "bigint",
    "float": "double precision",
    "lng": "double precision",
    "lat": "double precision",
    "datetime": "timestamp without time zone",
    "date": "date",
}
TIME_INDEXED: Final = ("incidents", "patrol_fixes")
VERSION_TABLE: Final = "schema_version"
IMPORT_LOG: Final = "import_log"


def _table_statements(schema: str, ds: Dataset) -> list[sql.Composed]:
    table = sql.Identifier(schema, ds.kind)
    cols: list[sql.Composable] = [sql.SQL("fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY")]
    for c in ds.columns:
        if c.dtype == "geometry":
            continue
        cols.append(
            sql.SQL("{} {}{}").format(
                sql.Identifier(c.name),
                sql.SQL(SQL_TYPES[c.dtype]),
                sql.SQL(" NOT NULL" if c.required else ""),
            )
        )
    if ds.geometry == "point":
        cols.append(
            sql.SQL(
                "geom geometry(Point, 4326) GENERATED ALWAYS AS "
                "(ST_SetSRID(ST_MakePoint(lng, lat), 4326)) STORED"
            )
        )
    elif ds.geometry == "polygon":
        cols.append(sql.SQL("geom geometry(MultiPolygon, 4326) NOT NULL"))
    if ds.key is not None:
        cols.append(sql.SQL("UNIQUE ({})").format(sql.Identifier(ds.key)))
    out: list[sql.Composed] = [
        sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(table, sql.SQL(", ").join(cols))
    ]
    if ds.geometry != "none":
        out.append(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gist (geom)").format(
                sql.Identifier(f"{ds.kind}_geom_gist"), table
            )
        )
    if ds.kind in TIME_INDEXED:
        out.append(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (time)").format(
                sql.Identifier(f"{ds.kind}_time"), table
            )
        )
    return out


def _v1_data_sets(schema: str) -> list[sql.Composed]:
    out: list[sql.Composed] = []
    for ds in DATASETS.values():
        out += _table_statements(schema, ds)
    out.append(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "at timestamptz NOT NULL DEFAULT now(), entry jsonb NOT NULL)"
        ).format(sql.Identifier(schema, IMPORT_LOG))
    )
    return out


MIGRATIONS: Final[tuple[tuple[int, str, Callable[[str], list[sql.Composed]]], ...]] = (
    (1, "data set tables, spatial and time indexes, import log", _v1_data_sets),
)
"""(version, description, statements for a schema), in order."""

LATEST: Final = MIGRATIONS[-1][0]


def _ensure_postgis(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
        return
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as exc:
        raise PgError(
            "数据库没有 PostGIS 扩展 / the database lacks the PostGIS extension and this user "
            f"cannot create it ({' '.join(str(exc).split())}): ask an administrator to run "
            "CREATE EXTENSION postgis"
        ) from exc


def applied_version(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> int:
    """The highest migration applied in ``schema`` (0 when none is)."""
    exists = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.{VERSION_TABLE}",)
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute(
        sql.SQL("SELECT coalesce(max(version), 0) FROM {}").format(
            sql.Identifier(schema, VERSION_TABLE)
        )
    ).fetchone()
    return int(row[0]) if row else 0  # type: ignore[call-overload]


def require_migrated(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> None:
    """PgError unless ``schema`` is migrated to a version this code knows."""
    version = applied_version(conn, schema)
    if version == 0:
        raise PgError(
            f"PostgreSQL 中还没有 {schema} 表 / schema {schema!r} has no tables yet: run "
            f"python -m geodata migrate --dsn DSN --schema {schema}"
        )
    if version > LATEST:
        raise PgError(
            f"schema {schema!r} is at version {version}, newer than this program "
            f"({LATEST}): update the program"
        )


def migrate(dsn: str, *, schema: str | None = None) -> list[int]:
    """Create or update the tables of the data sets in ``schema``.

    Parameters
    ----------
    dsn : str
        libpq connection string or URI.
    schema : str, optional
        PostgreSQL schema (default ``PNM_DB_SCHEMA`` or ``pnm``); created if missing.

    Returns
    -------
    list of int
        The versions applied now (empty when the schema was up to date).

    Raises
    ------
    PgError
        When the server cannot be reached, PostGIS is missing and cannot be created,
        or the schema is newer than this program.
    """
    schema = check_schema_name(schema or default_schema())
    applied: list[int] = []
    with connect(dsn) as conn:
        _ensure_postgis(conn)
        try:
            with conn.transaction():
                conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"pnm-migrate:{schema}",)
                )
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                )
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {} (version integer PRIMARY KEY, "
                        "description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
                    ).format(sql.Identifier(schema, VERSION_TABLE))
                )
                current = applied_version(conn, schema)
                if current > LATEST:
                    raise PgError(
                        f"schema {schema!r} is at version {current}, newer than this program "
                        f"({LATEST}): update the program"
                    )
                for version, description, statements in MIGRATIONS:
                    if version <= current:
                        continue
                    for statement in statements(schema):
                        conn.execute(statement)
                    conn.execute(
                        sql.SQL("INSERT INTO {} (version, description) VALUES (%s, %s)").format(
                            sql.Identifier(schema, VERSION_TABLE)
                        ),
                        (version, description),
                    )
                    applied.append(version)
        except psycopg.Error as exc:
            raise PgError(f"migration failed: {' '.join(str(exc).split())}") from exc
    return applied
