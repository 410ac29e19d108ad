"""Column mapping: which header of a file holds which column of a data set.

A header matches a schema column when, after Unicode normalisation (NFKC, so full-width
letters and digits count as their ASCII forms), removing all blanks and ignoring case, it
equals the column's name or one of its ``aliases`` in :mod:`geodata.schema` (经度, 纬度,
发生时间, 警情类别, …). A user mapping file, when given, is applied first and wins.

Where a location comes from:

* a point data set read from a file with a geometry (GeoJSON, GeoPackage, Shapefile,
  GeoParquet) takes lng/lat from that geometry, whatever other columns the file has;
* a polygon data set (area, precincts, grids) takes the file's geometry, or a column of
  WKT text (header ``wkt``, ``geometry``, ``几何`` …) in a CSV or workbook.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.schema import DATASETS, Dataset

__all__ = [
    "ColumnError",
    "ColumnMap",
    "load_user_mapping",
    "map_columns",
    "normalise_header",
    "source_header",
]


_SHOWN_HEADERS = 40  # headers listed in a message; a hostile file may have thousands


class ColumnError(ValueError):
    """Required columns are missing, or a mapping file is wrong; the message says which."""


@dataclass(frozen=True)
class ColumnMap:
    """How a file's headers feed a data set's columns.

    Attributes
    ----------
    schema : Dataset
        The data set the file is imported into.
    sources : dict of str to str
        Schema column name -> file header holding it (only the columns found).
    geometry_from_file : bool
        Whether the location comes from the file's geometry column: lng/lat for point
        data sets, the polygon for polygon data sets.
    unused : tuple of str
        File headers that feed no column (kept in rejects files, not stored).
    """

    schema: Dataset
    sources: dict[str, str]
    geometry_from_file: bool
    unused: tuple[str, ...]


def normalise_header(text: object) -> str:
    """A header as compared for matching: NFKC, no blanks at all, case-folded.

    Examples
    --------
    >>> normalise_header(" 经 度 ")
    '经度'
    >>> normalise_header("ＬＮＧ")
    'lng'
    """
    norm = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")
    return re.sub(r"\s+", "", norm).casefold()


def _names(schema: Dataset) -> dict[str, str]:
    """Normalised name or alias -> column name, for one data set."""
    out: dict[str, str] = {}
    for col in schema.columns:
        for alias in (col.name, *col.aliases):
            out.setdefault(normalise_header(alias), col.name)
    return out


def _has_geometry(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` carries a geometry column with at least one geometry in it."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        return False
    geoms = np.asarray(frame.geometry.values, dtype=object)
    return bool((~(shapely.is_missing(geoms) | shapely.is_empty(geoms))).any())


def map_columns(
    frame: pd.DataFrame, schema: Dataset, *, user_mapping: dict[str, str] | None = None
) -> ColumnMap:
    """Match a frame's headers to the columns of ``schema``.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        As returned by :func:`geodata.readers.read_file`.
    schema : Dataset
        The data set to import into.
    user_mapping : dict of str to str, optional
        File header -> schema column (name or any alias, e.g. ``"经度"``), applied before
        the built-in aliases. Entries whose header the file lacks are ignored, so one
        mapping file can serve several exports.

    Returns
    -------
    ColumnMap

    Raises
    ------
    ColumnError
        When a required column is missing (the message names the missing columns and the
        columns found), or a user mapping points a header of this file at no column.
    """
    geometry_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    headers = [str(c) for c in frame.columns if c != geometry_name]
    sources, used = _match(headers, schema, user_mapping)

    located = schema.geometry == "polygon" or any(c.name == "lng" for c in schema.columns)
    geometry_from_file = located and _has_geometry(frame)
    if geometry_from_file:
        # The file's own geometry is the location: lng/lat or WKT headers play no part.
        for name in ("lng", "lat", "geometry"):
            if name in sources:
                used.discard(sources.pop(name))

    satisfied = set(sources)
    if geometry_from_file:
        satisfied |= {"lng", "lat", "geometry"}
    missing = [c for c in schema.required if c not in satisfied]
    if missing:
        raise ColumnError(_missing_message(schema, missing, headers, geometry_name))
    unused = tuple(h for h in headers if h not in used)
    return ColumnMap(schema, sources, geometry_from_file, unused)


def _match(
    headers: list[str], schema: Dataset, user_mapping: dict[str, str] | None
) -> tuple[dict[str, str], set[str]]:
    """Schema column -> the header that feeds it (the user's mapping first, then the
    built-in aliases), and the headers used."""
    by_norm: dict[str, list[str]] = {}
    for h in headers:
        by_norm.setdefault(normalise_header(h), []).append(h)
    names = _names(schema)
    sources: dict[str, str] = {}
    used: set[str] = set()

    for header, target in (user_mapping or {}).items():
        found = by_norm.get(normalise_header(header))
        if not found:
            continue
        column = names.get(normalise_header(target))
        if column is None:
            valid = ", ".join(c.name for c in schema.columns)
            raise ColumnError(
                f"映射文件把列 {header!r} 指向未知的列 {target!r}；{schema.kind} 的列有：{valid} / "
                f"the mapping file maps {header!r} to {target!r}, which is no column of "
                f"{schema.kind}; its columns: {valid}"
            )
        if column not in sources:
            sources[column] = found[0]
            used.add(found[0])

    for col in schema.columns:
        if col.name in sources:
            continue
        for alias in (col.name, *col.aliases):
            candidates = [h for h in by_norm.get(normalise_header(alias), []) if h not in used]
            if candidates:
                sources[col.name] = candidates[0]
                used.add(candidates[0])
                break
    return sources, used


def source_header(
    frame: pd.DataFrame,
    schema: Dataset,
    column: str,
    *,
    user_mapping: dict[str, str] | None = None,
) -> str | None:
    """The header of ``frame`` that :func:`map_columns` would read ``column`` from (None
    when no header feeds it)."""
    geometry_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    headers = [str(c) for c in frame.columns if c != geometry_name]
    return _match(headers, schema, user_mapping)[0].get(column)


def _missing_message(
    schema: Dataset, missing: list[str], headers: list[str], geometry_name: str | None
) -> str:
    want_zh = ", ".join(f"{m}（{schema.column(m).label.zh}）" for m in missing)
    want_en = ", ".join(f"{m} ({schema.column(m).label.en})" for m in missing)
    found = headers + ([f"{geometry_name} (geometry)"] if geometry_name else [])
    shown = ", ".join(found[:_SHOWN_HEADERS]) if found else "—"
    if len(found) > _SHOWN_HEADERS:
        shown += f", … (+{len(found) - _SHOWN_HEADERS})"
    hint = ""
    if "geometry" in missing:
        hint = "; polygons come from a GeoJSON/GeoPackage/Shapefile/GeoParquet geometry or a WKT column"
    return (
        f"缺少必需的列：{want_zh}；文件中的列：{shown} / "
        f"missing required columns for {schema.kind}: {want_en}; columns found: {shown}{hint}"
        "; map them with --columns"
    )


def load_user_mapping(path: Path | str) -> dict[str, str]:
    """Read a user mapping file: a JSON object, or a CSV of two columns.

    Parameters
    ----------
    path : path-like
        ``{"file header": "schema column", ...}`` as JSON, or a CSV whose rows are
        ``file header,schema column`` (an optional first line naming the two columns is
        skipped when its second cell is no known column). UTF-8 or GBK.

    Returns
    -------
    dict of str to str

    Raises
    ------
    ColumnError
        When the file is missing, undecodable, or not of either shape.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ColumnError(
            f"无法读取列映射文件：{path} / cannot read the column mapping file {path}: "
            f"{exc.strerror or exc}"
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise ColumnError(
                f"列映射文件编码无法识别：{path.name} / cannot decode the column mapping "
                f"file {path.name}: neither UTF-8 nor GBK"
            ) from None
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ColumnError(
                f"列映射文件不是有效的 JSON：{path.name} / the column mapping file "
                f"{path.name} is not valid JSON: {exc}"
            ) from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise ColumnError(
                f'列映射 JSON 须为 {{"文件列名": "标准列名"}} / the mapping JSON must be '
                f'an object of strings, {{"file header": "schema column"}}: {path.name}'
            )
        return {k.strip(): v.strip() for k, v in data.items()}
    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if not rows or any(len(r) < 2 for r in rows):
        raise ColumnError(
            f"列映射 CSV 每行须有两列（文件列名, 标准列名）：{path.name} / the mapping CSV "
            f"needs two columns per row (file header, schema column): {path.name}"
        )
    known = {normalise_header(n) for d in DATASETS.values() for n in _names(d)}
    if normalise_header(rows[0][1]) not in known:
        rows = rows[1:]
    return {r[0].strip(): r[1].strip() for r in rows}
