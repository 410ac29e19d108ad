"""Rows in and out of the PostGIS tables, through COPY in CSV.

Why COPY and CSV: writing millions of GPS fixes row by row through a driver costs
seconds per million; ``COPY ... FROM STDIN`` fed with CSV that pyarrow writes, and
``COPY (SELECT ...) TO STDOUT`` parsed by pyarrow's CSV reader, move them at the speed
of the server, with no SQLAlchemy and no per-row Python. Both sides keep values exact:
PostgreSQL prints doubles in their shortest round-trip form and pyarrow parses them
correctly rounded; an empty quoted field is an empty string, an empty unquoted one NULL.
Geometries travel as hex WKB (EWKB with SRID 4326 on the way in).

Reads keep the order rows were stored in (``ORDER BY fid``) and push their filters into
SQL: a time range on ``time`` (its btree index) and an extent with ``geom &&
ST_MakeEnvelope(...)`` (the GiST index).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Sequence
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pcsv
import shapely
from psycopg import sql

from geodata.postgis.connection import PgError, check_schema_name, connect, default_schema
from geodata.postgis.migrations import IMPORT_LOG, require_migrated
from geodata.schema import Dataset, dataset

Connection = psycopg.Connection[tuple[object, ...]]

ARROW_TYPES: Final[dict[str, pa.DataType]] = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "lng": pa.float64(),
    "lat": pa.float64(),
    "datetime": pa.timestamp("us"),
    "date": pa.timestamp("us"),  # the file store keeps dates as midnight timestamps
}
COPY_ROWS: Final = 200_000
"""Rows per CSV chunk sent to COPY (bounds the memory of the text)."""
_GEOM: Final = "geometry"


def _table(schema: str, kind: str) -> sql.Identifier:
    return sql.Identifier(schema, kind)


def _message(exc: BaseException) -> str:
    return " ".join(str(exc).split())


# --------------------------------------------------------------------------- reading


def copy_to_arrow(
    conn: Connection, query: sql.Composable, types: dict[str, pa.DataType]
) -> pa.Table:
    """Run ``query`` through ``COPY ... TO STDOUT`` and parse its CSV into an Arrow table.

    Parameters
    ----------
    conn : psycopg.Connection
        An open connection.
    query : psycopg.sql.Composable
        A SELECT whose columns are, in order, the keys of ``types``.
    types : dict
        Column name to Arrow type.

    Returns
    -------
    pyarrow.Table
    """
    buffer = io.BytesIO()
    statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)
    with conn.cursor().copy(statement) as copy:
        for chunk in copy:
            buffer.write(chunk)
    names = list(types)
    if buffer.tell() == 0:
        return pa.table({n: pa.array([], type=t) for n, t in types.items()})
    buffer.seek(0)
    return pcsv.read_csv(
        buffer,
        read_options=pcsv.ReadOptions(column_names=names, block_size=1 << 24),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types=types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )


def time_filter(
    since: dt.datetime | None, until: dt.datetime | None, column: str = "time"
) -> list[sql.Composable]:
    """SQL conditions ``since <= column < until`` (either bound optional)."""
    out: list[sql.Composable] = []
    if since is not None:
        out.append(sql.SQL("{} >= {}").format(sql.Identifier(column), sql.Literal(since)))
    if until is not None:
        out.append(sql.SQL("{} < {}").format(sql.Identifier(column), sql.Literal(until)))
    return out


def where(conditions: Sequence[sql.Composable]) -> sql.Composable:
    """`` WHERE a AND b`` of the conditions, or nothing."""
    if not conditions:
        return sql.SQL("")
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions)


def read_table_pg(
    dsn: str,
    kind: str,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    columns: Sequence[str] | None = None,
    schema: str | None = None,
) -> pd.DataFrame:
    """Read data set ``kind`` from PostGIS, filtered in SQL.

    Parameters
    ----------
    dsn : str
        libpq connection string or URI.
    kind : str
        A data set of :mod:`geodata.schema`.
    since, until : datetime, optional
        Keep rows with ``since <= time < until`` (naive China Standard Time); only for
        data sets with a ``time`` column.
    bbox : (west, south, east, north), optional
        Keep rows whose geometry's box meets this WGS84 box (``geom && ST_MakeEnvelope``):
        points inside it, polygons overlapping it.
    columns : sequence of str, optional
        Columns to read (default: all of the schema); ``geometry`` names the polygon.
    schema : str, optional
        PostgreSQL schema (default ``PNM_DB_SCHEMA`` or ``pnm``).

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        As :func:`geodata.store.read_table` gives it: a GeoDataFrame (EPSG:4326) for
        polygon data sets, a DataFrame with ``lng``/``lat`` otherwise; rows in the order
        they were stored; ints as nullable ``Int64``, times as ``datetime64[us]``.
    """
    ds = dataset(kind)
    schema = check_schema_name(schema or default_schema())
    names = [c.name for c in ds.columns] if columns is None else list(columns)
    unknown = [n for n in names if n not in {c.name for c in ds.columns}]
    if unknown:
        raise ValueError(f"{kind} has no columns {unknown}")
    conditions = []
    if since is not None or until is not None:
        if "time" not in {c.name for c in ds.columns}:
            raise ValueError(f"{kind} has no time column to filter on")
        conditions += time_filter(since, until)
    if bbox is not None:
        if ds.geometry == "none":
            raise ValueError(f"{kind} has no geometry to filter by extent")
        west, south, east, north = (float(v) for v in bbox)
        conditions.append(
            sql.SQL("geom && ST_MakeEnvelope({}, {}, {}, {}, 4326)").format(
                sql.Literal(west), sql.Literal(south), sql.Literal(east), sql.Literal(north)
            )
        )
    selected: list[sql.Composable] = []
    types: dict[str, pa.DataType] = {}
    for n in names:
        col = ds.column(n)
        if col.dtype == "geometry":
            selected.append(sql.SQL("encode(ST_AsBinary(geom), 'hex')"))
            types[n] = pa.string()
        else:
            selected.append(sql.Identifier(n))
            types[n] = ARROW_TYPES[col.dtype]
    query = sql.SQL("SELECT {} FROM {}{} ORDER BY fid").format(
        sql.SQL(", ").join(selected), _table(schema, kind), where(conditions)
    )
    with connect(dsn) as conn:
        require_migrated(conn, schema)
        try:
            table = copy_to_arrow(conn, query, types)
        except psycopg.Error as exc:
            raise PgError(f"reading {schema}.{kind} failed: {_message(exc)}") from exc
    frame = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    if ds.geometry == "polygon":
        geoms = (
            shapely.from_wkb(frame.pop(_GEOM).to_numpy(dtype=object)) if _GEOM in names else None
        )
        out = gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")
        if _GEOM in names:
            out = out[names]
        return out
    return frame


def stored_keys(dsn: str, kind: str, *, schema: str | None = None) -> set[str]:
    """The ids already stored in ``kind`` (empty for data sets without a key)."""
    ds = dataset(kind)
    schema = check_schema_name(schema or default_schema())
    if ds.key is None:
        return set()
    with connect(dsn) as conn:
        require_migrated(conn, schema)
        rows = conn.execute(
            sql.SQL("SELECT {} FROM {}").format(sql.Identifier(ds.key), _table(schema, kind))
        ).fetchall()
    return {str(r[0]) for r in rows if r[0] is not None}


def table_rows(dsn: str, kind: str, *, schema: str | None = None) -> int:
    """Number of rows stored in ``kind``."""
    dataset(kind)
    schema = check_schema_name(schema or default_schema())
    with connect(dsn) as conn:
        require_migrated(conn, schema)
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(_table(schema, kind))
        ).fetchone()
    return int(row[0]) if row else 0  # type: ignore[call-overload]


# --------------------------------------------------------------------------- writing


def _column_array(series: pd.Series, dtype: str) -> pa.Array:
    if dtype == "datetime" or dtype == "date":
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            raise ValueError(
                f"column {series.name!r}: times must be naive China Standard Time, "
                f"got {series.dtype}"
            )
        arr = pa.array(pd.to_datetime(series), from_pandas=True).cast(pa.timestamp("us"))
        return arr.cast(pa.date32()) if dtype == "date" else arr
    arr = pa.array(series, from_pandas=True)
    target = pa.string() if dtype == "str" else ARROW_TYPES[dtype]
    return arr.cast(target)


def _ewkb(series: gpd.GeoSeries) -> pa.Array:
    geoms = np.asarray(series.values, dtype=object)
    kinds = shapely.get_type_id(geoms)
    bad = ~np.isin(kinds, (-1, 3, 6))  # missing, Polygon, MultiPolygon
    if bad.any():
        raise ValueError(
            f"polygon tables hold polygons; found {shapely.get_type_id(geoms[bad][0])!r} geometries"
        )
    multi = np.array(
        [shapely.MultiPolygon([g]) if k == 3 else g for g, k in zip(geoms, kinds, strict=True)],
        dtype=object,
    )
    hexed = shapely.to_wkb(shapely.set_srid(multi, 4326), hex=True, include_srid=True)
    return pa.array(hexed, type=pa.string(), from_pandas=True)


def _copy_columns(ds: Dataset, frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(frame columns, table columns) to copy: the schema's columns the frame has."""
    present = [c for c in ds.columns if c.name in frame.columns]
    missing = [c.name for c in ds.columns if c.required and c.name not in frame.columns]
    if missing:
        raise ValueError(f"{ds.kind} needs the columns {missing}")
    return [c.name for c in present], ["geom" if c.dtype == "geometry" else c.name for c in present]


def copy_frame(conn: Connection, schema: str, kind: str, frame: pd.DataFrame) -> int:
    """COPY ``frame``'s rows into ``schema.kind`` on ``conn`` (inside the caller's
    transaction); return the number of rows sent."""
    ds = dataset(kind)
    if ds.geometry == "polygon":
        if not isinstance(frame, gpd.GeoDataFrame):
            raise TypeError(f"{kind} needs a GeoDataFrame")
        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            raise ValueError(f"{kind} must be stored in EPSG:4326, got {frame.crs}")
    names, targets = _copy_columns(ds, frame)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        _table(schema, kind), sql.SQL(", ").join(sql.Identifier(t) for t in targets)
    )
    with conn.cursor().copy(statement) as copy:
        for start in range(0, len(frame), COPY_ROWS):
            part = frame.iloc[start : start + COPY_ROWS]
            arrays = [
                _ewkb(part[n])
                if ds.column(n).dtype == "geometry"
                else _column_array(part[n], ds.column(n).dtype)
                for n in names
            ]
            sink = io.BytesIO()
            pcsv.write_csv(
                pa.table(arrays, names=names),
                sink,
                write_options=pcsv.WriteOptions(include_header=False),
            )
            copy.write(sink.getvalue())
    return len(frame)


def write_table_pg(
    dsn: str,
    kind: str,
    frame: pd.DataFrame,
    *,
    replace: bool = False,
    schema: str | None = None,
) -> int:
    """Store ``frame`` in data set ``kind`` of PostGIS, appending (or replacing) in one
    transaction: a failure leaves the table as it was.

    Parameters
    ----------
    dsn : str
        libpq connection string or URI.
    kind : str
        A data set of :mod:`geodata.schema`.
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        The schema's columns (optional ones may be missing); a GeoDataFrame in EPSG:4326
        for polygon data sets. Rows are stored in the frame's order.
    replace : bool
        Empty the table first.
    schema : str, optional
        PostgreSQL schema (default ``PNM_DB_SCHEMA`` or ``pnm``), migrated.

    Returns
    -------
    int
        Rows in the table afterwards.

    Raises
    ------
    PgError
        When the server refuses the rows (an id already stored, a NULL in a required
        column, ...); nothing is written then.
    """
    schema = check_schema_name(schema or default_schema())
    with connect(dsn) as conn:
        require_migrated(conn, schema)
        try:
            with conn.transaction():
                if replace:
                    conn.execute(sql.SQL("TRUNCATE {}").format(_table(schema, kind)))
                copy_frame(conn, schema, kind, frame)
                row = conn.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(_table(schema, kind))
                ).fetchone()
        except psycopg.Error as exc:
            raise PgError(
                f"writing {schema}.{kind} failed, rolled back (nothing stored): {_message(exc)}"
            ) from exc
    return int(row[0]) if row else 0  # type: ignore[call-overload]


def log_import(dsn: str, entry: dict[str, Any], *, schema: str | None = None) -> None:
    """Append an import's summary to ``import_log`` (what the manifest is to the files)."""
    schema = check_schema_name(schema or default_schema())
    with connect(dsn) as conn:
        conn.execute(
            sql.SQL("INSERT INTO {} (entry) VALUES (%s::jsonb)").format(
                sql.Identifier(schema, IMPORT_LOG)
            ),
            (json.dumps(entry, ensure_ascii=False, default=str),),
        )
