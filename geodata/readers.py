"""Readers: one function that opens any file a bureau sends and says what it found.

Supported: CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GBK/GB18030), Excel ``.xlsx``,
GeoJSON, GeoPackage, zipped Shapefile and (Geo)Parquet. The format is decided by the
file's content, not its name (a ``.csv`` that is really an ``.xlsx`` is read as one; a
``.csv`` that is really a PNG is refused), so a renamed file neither fools nor stops us.

Row numbers. The frame's index, named ``row``, is the row number a person sees when they
open the file: for CSV and Excel the header is row 1 and the first data row is row 2
(as in Excel; a quoted cell spanning lines still counts as one row); for GeoJSON,
GeoPackage, Shapefile and Parquet, rows are features numbered from 1. Fully blank rows are
dropped but keep the numbering, so a rejects file points at the right line.

Hostile files. A size cap for the file; for zips (Shapefile and ``.xlsx``) a cap on the
unpacked size, the number of members and the compression ratio (zip bombs), refusal of
members whose path would leave the folder (zip slip), symbolic links and encryption.
Every such problem, and every other mistake a user can make with a file, is a
:class:`ReadError` with a one-line message in Chinese and English.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import re
import stat
import tempfile
import unicodedata
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geodata.declared_crs import crs_label, geojson_crs_member, gpkg_layer_srs, usable_name
from geodata.limits import MAX_COLUMNS, MAX_FEATURES

__all__ = [
    "FORMATS",
    "MAX_FILE_BYTES",
    "MAX_UNZIPPED_BYTES",
    "ReadError",
    "ReadResult",
    "detect_format",
    "read_file",
]

MAX_FILE_BYTES: Final = 2 * 1024**3
"""Largest file accepted (2 GiB): ten million patrol fixes as CSV take about 0.7 GiB."""

MAX_UNZIPPED_BYTES: Final = 2 * 1024**3
"""Largest total size of the members a zip may unpack to."""

MAX_ZIP_MEMBERS: Final = 10_000
# Deflate reaches about 1030:1 at best; real DBF and sheet XML full of blanks reach 100:1
# or so. A member that claims more than this ratio, and is big, is treated as a zip bomb.
MAX_ZIP_RATIO: Final = 400
_ZIP_RATIO_MIN_BYTES: Final = 10 * 1024**2

FORMATS: Final = ("csv", "xlsx", "geojson", "gpkg", "shapefile", "geoparquet", "parquet")
"""Format names a :class:`ReadResult` may carry."""

_SNIFF_BYTES: Final = 1024**2
_SHAPEFILE_PARTS: Final = (".shp", ".shx", ".dbf")
_SHAPEFILE_OPTIONAL: Final = (".prj", ".cpg")

# .cpg contents seen in the wild, mapped to a codec that both Python and GDAL's iconv know.
# GBK and its relatives all decode as GB18030, their superset.
_CPG_CODECS: Final = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "65001": "utf-8",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "936": "gb18030",
    "ansi936": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
    "54936": "gb18030",
}


@dataclass(frozen=True)
class _Caps:
    columns: int
    features: int

    def check_columns(self, count: int, name: str) -> None:
        if count > self.columns:
            raise _error(
                f"列数过多（{count:,} 列以上，上限 {self.columns:,}）：{name}",
                f"too many columns ({count:,} or more, limit {self.columns:,}; "
                f"PNM_IMPORT_MAX_COLUMNS): {name}",
            )

    def check_features(self, count: int, name: str) -> None:
        if count > self.features:
            raise _error(
                f"要素过多（{count:,} 个以上，上限 {self.features:,}）：{name}",
                f"too many features ({count:,} or more, limit {self.features:,}; "
                f"PNM_IMPORT_MAX_FEATURES): {name}; split it or export it as CSV/GeoParquet",
            )


class ReadError(ValueError):
    """A file that cannot be read at all, for a reason the user can fix.

    The message is one line, Chinese first, then English, and never a traceback.
    """


@dataclass(frozen=True)
class ReadResult:
    """What a reader found in a file.

    Attributes
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        The rows, index ``row`` = row number in the file (see the module docstring).
        CSV cells are strings exactly as written (blank = ``""``); Excel cells keep their
        types (numbers, text, datetimes); vector formats carry a ``geometry`` column.
    crs : str or None
        The coordinate reference system the file declares (``"EPSG:4490"``, or WKT when
        it has no code), None when it declares none.
    encoding : str or None
        The text encoding used to decode the file (None for binary formats).
    format : str
        One of :data:`FORMATS`.
    layer : str or None
        The GeoPackage layer, Excel sheet or Shapefile (inside the zip) that was read.
    crs_unknown : str or None
        A CRS the file declares but that cannot be used (unknown to PROJ, an unknown
        GeoPackage ``srs_id``…), as a short label; the coordinates are then as stored,
        ``crs`` is None, and the importer refuses the file unless ``--datum`` names
        the datum (:mod:`geodata.declared_crs`).
    """

    frame: pd.DataFrame
    crs: str | None
    encoding: str | None
    format: str
    layer: str | None = None
    crs_unknown: str | None = None


def _error(zh: str, en: str) -> ReadError:
    return ReadError(f"{zh} / {en}")


# ---------------------------------------------------------------------------------------
# Format detection
# ---------------------------------------------------------------------------------------


def detect_format(path: Path | str) -> str:
    """Name the format of ``path`` from its first bytes (and, for zips, its members).

    Parameters
    ----------
    path : path-like
        The file to look at.

    Returns
    -------
    str
        One of ``"csv"``, ``"xlsx"``, ``"geojson"``, ``"gpkg"``, ``"shapefile"``,
        ``"parquet"`` (GeoParquet or plain Parquet; the reader tells them apart).

    Raises
    ------
    ReadError
        For an empty file, a zip that is neither a workbook nor a Shapefile, an old
        ``.xls`` workbook, or binary content of an unknown kind.
    """
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(8192)
    if not head:
        raise _error(f"文件是空的：{path.name}", f"the file is empty: {path.name}")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_format(path)
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _error(
            f"{path.name} 是旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV 后再导入",
            f"{path.name} is an old Excel .xls workbook; save it as .xlsx or CSV and import again",
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"  # UTF-16 text with a BOM: Excel's "Unicode text" export
    if b"\x00" in head:
        raise _error(
            f"无法识别的文件格式（二进制内容）：{path.name}",
            f"unrecognised file format (binary content): {path.name}; "
            "expected CSV, .xlsx, GeoJSON, GeoPackage, zipped Shapefile or GeoParquet",
        )
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"{"):
        return "geojson"
    return "csv"


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise _error(
            f"ZIP 文件已损坏：{path.name}", f"corrupt zip file: {path.name} ({exc})"
        ) from exc
    lowered = [n.lower() for n in names]
    if "xl/workbook.xml" in lowered:
        return "xlsx"
    if any(n.endswith(".shp") for n in lowered):
        return "shapefile"
    shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
    raise _error(
        f"ZIP 文件中没有 .shp 文件：{path.name}（内容：{shown or '空'}）",
        f"the zip holds no .shp file: {path.name} (members: {shown or 'none'})",
    )


# ---------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------


def read_file(
    path: Path | str,
    *,
    encoding: str | None = None,
    layer: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_columns: int = MAX_COLUMNS,
    max_features: int = MAX_FEATURES,
) -> ReadResult:
    """Read a CSV, .xlsx, GeoJSON, GeoPackage, zipped Shapefile or (Geo)Parquet file.

    Parameters
    ----------
    path : path-like
        The file. Its format is decided by content, not by extension.
    encoding : str, optional
        Text encoding of a CSV or of a Shapefile's DBF, overriding detection (e.g.
        ``"gbk"``). Detection tries UTF-8 (with or without BOM) strictly, then GB18030.
    layer : str, optional
        GeoPackage layer, Excel sheet, or Shapefile name inside a zip holding several.
    max_bytes : int
        Size cap of the file (and of a zip's unpacked members).
    max_columns : int
        Most header columns (or fields) accepted: checked on the header alone.
    max_features : int
        Most features of a GeoPackage, GeoJSON or Shapefile layer: counted before the
        layer is read (a GeoPackage view by SQLite, up to the cap only).

    Returns
    -------
    ReadResult

    Raises
    ------
    ReadError
        For anything about the file a user can fix: missing, too big, unknown format,
        undecodable text, empty or without rows, corrupt, an unsafe or bomb-like zip, an
        unknown or unchosen layer.
    """
    path = Path(path)
    if not path.exists():
        raise _error(f"找不到文件：{path}", f"no such file: {path}")
    if not path.is_file():
        raise _error(f"不是文件：{path}", f"not a file: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise _error(
            f"文件过大（{size / 1024**2:.0f} MB，上限 {max_bytes / 1024**2:.0f} MB）：{path.name}",
            f"file too big ({size / 1024**2:.0f} MB, limit {max_bytes / 1024**2:.0f} MB): "
            f"{path.name}; split it and import the parts",
        )
    if encoding is not None:
        given = encoding
        try:
            encoding = codecs.lookup(encoding).name
            "".encode(encoding)  # zlib_codec, base64_codec…: codecs, but not of text
        except LookupError:
            raise _error(
                f"未知的文本编码：{given}",
                f"unknown encoding: {given} (a text encoding such as utf-8, gbk, gb18030)",
            ) from None
    caps = _Caps(max_columns, max_features)
    fmt = detect_format(path)
    if fmt == "csv":
        result = _read_csv(path, encoding, caps)
    elif fmt == "xlsx":
        _check_zip(path, max_bytes)
        result = _read_xlsx(path, layer, caps)
    elif fmt == "shapefile":
        result = _read_zipped_shapefile(path, encoding, layer, max_bytes, caps)
    elif fmt == "parquet":
        result = _read_parquet(path, caps)
    elif fmt == "geojson":
        result = _read_geojson(path, layer, caps)
    else:
        result = _read_vector(path, fmt, layer, caps, encoding=None)
    if result.frame.empty:
        raise _error(f"文件中没有数据行：{path.name}", f"the file has no data rows: {path.name}")
    return result


# ---------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------


def _csv_encodings(path: Path, override: str | None) -> list[str]:
    """Encodings to try, in order: the override alone, else a BOM's, else UTF-8 then GB18030."""
    if override is not None:
        return [override]
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ["utf-16"]
    if head.startswith(codecs.BOM_UTF8):
        return ["utf-8-sig"]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return ["gb18030"]  # not UTF-8 in the first megabyte: go straight to GBK
    return ["utf-8-sig", "gb18030"]


def _sniff_delimiter(path: Path, encoding: str) -> str:
    """The delimiter of the header line: the most frequent of , tab ; | (comma on a tie)."""
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        first = fh.readline(_SNIFF_BYTES)
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _header_width(path: Path, encoding: str, sep: str, cap: int) -> int:
    """Cells of the header line, counted up to ``cap + 1`` without reading the line whole
    (a header of a million columns is refused in milliseconds, not after minutes)."""
    cells = 1
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        while chunk := fh.read(64 * 1024):
            line, newline, _ = chunk.partition("\n")
            cells += line.count(sep)
            if newline or cells > cap:
                break
    return cells


def _read_csv(path: Path, override: str | None, caps: _Caps) -> ReadResult:
    last_error: UnicodeDecodeError | None = None
    for enc in _csv_encodings(path, override):
        sep = _sniff_delimiter(path, enc)
        caps.check_columns(_header_width(path, enc, sep, caps.columns), path.name)
        try:
            with warnings.catch_warnings():
                # A row with more cells than the header would be cut short (pandas only
                # warns); that loses data, so it is an error here, like on later rows.
                warnings.simplefilter("error", pd.errors.ParserWarning)
                frame = pd.read_csv(
                    path,
                    sep=sep,
                    encoding=enc,
                    encoding_errors="strict",
                    dtype=str,
                    na_filter=False,
                    keep_default_na=False,
                    skip_blank_lines=False,
                    index_col=False,
                    # The content decides: a CSV named .zip or .gz is text, not an archive.
                    compression=None,
                )
        except UnicodeDecodeError as exc:
            last_error = exc
            continue
        except pd.errors.EmptyDataError:
            raise _error(f"文件是空的：{path.name}", f"the file is empty: {path.name}") from None
        except pd.errors.ParserWarning as exc:
            raise _error(
                f"CSV 格式错误：{path.name} 第 2 行的单元格比表头多",
                f"malformed CSV {path.name}: row 2 has more cells than the header",
            ) from exc
        except (pd.errors.ParserError, ValueError) as exc:
            raise _error(
                f"CSV 格式错误（某行的单元格数与表头不符）：{path.name}",
                f"malformed CSV {path.name}: {_first_line(exc)}",
            ) from exc
        # Stripping can make two headers equal ("a" and "a "): keep them apart.
        frame.columns = _dedupe([_clean_header(c, i) for i, c in enumerate(frame.columns)])
        frame.index = pd.RangeIndex(2, 2 + len(frame), name="row")
        frame = _drop_blank_rows(frame)
        name = "utf-8" if enc == "utf-8-sig" and not _has_bom(path) else enc
        return ReadResult(frame=frame, crs=None, encoding=name, format="csv")
    where = f" ({last_error})" if last_error is not None else ""
    raise _error(
        f"无法识别文件编码（不是 UTF-8 也不是 GBK）：{path.name}",
        f"cannot decode {path.name}: neither UTF-8 nor GBK/GB18030{where}; "
        "save it as UTF-8 CSV, or name the encoding",
    )


def _has_bom(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(3) == codecs.BOM_UTF8


def _clean_header(value: object, position: int) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return f"column_{position + 1}"
    text = unicodedata.normalize("NFC", str(value)).replace("\ufeff", "").strip()
    return text or f"column_{position + 1}"


def _drop_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop rows where every cell is blank, keeping the others' row numbers."""
    if frame.empty or frame.shape[1] == 0:
        return frame
    blank = np.ones(len(frame), dtype=bool)
    for name in frame.columns:
        col = frame[name]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            text = col.astype("str").str.strip()
            blank &= (col.isna() | (text == "")).to_numpy(dtype=bool)
        else:
            blank &= col.isna().to_numpy(dtype=bool)
    return frame.loc[~blank]


# ---------------------------------------------------------------------------------------
# Excel
# ---------------------------------------------------------------------------------------


def _read_xlsx(path: Path, sheet: str | None, caps: _Caps) -> ReadResult:
    import openpyxl

    # Opened from a file object: openpyxl refuses a workbook by its name otherwise, and
    # the content has already said this is a workbook.
    with path.open("rb") as fh:
        try:
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken workbook
            raise _error(
                f"Excel 文件已损坏或无法打开：{path.name}",
                f"corrupt or unreadable Excel workbook {path.name}: {type(exc).__name__}",
            ) from exc
        try:
            names = list(wb.sheetnames)
            if sheet is not None and sheet not in names:
                raise _error(
                    f"工作表 {sheet!r} 不存在；现有：{', '.join(names)}",
                    f"no sheet {sheet!r} in {path.name}; sheets: {', '.join(names)}",
                )
            ws = wb[sheet] if sheet is not None else wb.worksheets[0]
            title = ws.title
            header: list[str] | None = None
            rows: list[tuple[Any, ...]] = []
            numbers: list[int] = []
            for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                if all(_blank_cell(v) for v in values):
                    continue
                if header is None:
                    caps.check_columns(len(values), path.name)
                    header = [_clean_header(v, i) for i, v in enumerate(values)]
                    continue
                rows.append(values)
                numbers.append(number)
        finally:
            wb.close()
    if header is None:
        raise _error(f"文件是空的：{path.name}", f"the file is empty: {path.name}")
    width = len(header)
    padded = [tuple(r[:width]) + (None,) * (width - len(r)) for r in rows]
    frame = pd.DataFrame(padded, columns=_dedupe(header), dtype=object)
    frame.index = pd.Index(numbers, name="row", dtype="int64")
    return ReadResult(frame=frame, crs=None, encoding=None, format="xlsx", layer=title)


def _blank_cell(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _dedupe(names: list[str]) -> list[str]:
    """Make header names unique the way pandas does for CSV (``a``, ``a.1``, …)."""
    taken: set[str] = set()
    out = []
    for name in names:
        unique, n = name, 0
        while unique in taken:
            n += 1
            unique = f"{name}.{n}"
        taken.add(unique)
        out.append(unique)
    return out


# ---------------------------------------------------------------------------------------
# Vector formats (GDAL through pyogrio) and Parquet
# ---------------------------------------------------------------------------------------


def _declared_crs(
    frame: pd.DataFrame, fmt: str, path: Path, layer: str
) -> tuple[str | None, str | None]:
    """``(crs, crs_unknown)`` of a layer read by GDAL (see :class:`ReadResult`), checked
    against what the file itself declares where GDAL is lenient."""
    crs = frame.crs if isinstance(frame, gpd.GeoDataFrame) else None
    if crs is not None:
        name = usable_name(crs)
        if name is None:
            return None, crs_label(crs.to_wkt())
    else:
        name = None
    if fmt == "geojson":
        member = geojson_crs_member(path)
        props = member.get("properties") if isinstance(member, dict) else None
        named = props.get("name") if isinstance(props, dict) else None
        if member is not None and (named is None or usable_name(named) is None):
            return None, crs_label(member)
    if fmt == "gpkg" and name is None:
        srs = gpkg_layer_srs(path, layer)
        if srs is not None and (srs[1] is None or usable_name(srs[1]) is None):
            shown = f" ({crs_label(srs[1])})" if srs[1] else ""
            return None, f"srs_id {srs[0]}{shown}"
    return name, None


def _with_rows(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    frame.index = pd.RangeIndex(1, 1 + len(frame), name="row")
    frame.columns = _dedupe(
        [c if c == "geometry" else _clean_header(c, i) for i, c in enumerate(frame.columns)]
    )
    return frame


def _read_vector(
    path: Path,
    fmt: str,
    layer: str | None,
    caps: _Caps,
    *,
    encoding: str | None,
    shown_name: str = "",
) -> ReadResult:
    name = shown_name or path.name
    try:
        with warnings.catch_warnings():
            # GDAL's complaints about a broken file become the ReadError below, not noise.
            warnings.simplefilter("ignore", RuntimeWarning)
            layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        raise _error(
            f"文件已损坏或格式不对：{name}",
            f"corrupt or unreadable {fmt} file {name}: {_first_line(exc)}",
        ) from exc
    if not layers:
        raise _error(f"文件中没有图层：{name}", f"the file has no layers: {name}")
    if fmt == "shapefile":
        chosen = layers[0]
    elif layer is None:
        if len(layers) > 1:
            raise _error(
                f"{name} 含有多个图层，请用 --layer 指定其一：{', '.join(layers)}",
                f"{name} has several layers; choose one with --layer: {', '.join(layers)}",
            )
        chosen = layers[0]
    elif layer in layers:
        chosen = layer
    else:
        raise _error(
            f"图层 {layer!r} 不存在；现有：{', '.join(layers)}",
            f"no layer {layer!r} in {name}; layers: {', '.join(layers)}",
        )
    _check_layer_size(path, fmt, chosen, caps, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # A broken geometry (an unclosed ring, a one-point polygon) becomes None, and
            # its row is rejected by validation, instead of failing the whole file.
            frame = pyogrio.read_dataframe(
                path,
                layer=chosen,
                encoding=encoding,
                on_invalid="ignore",
                max_features=caps.features + 1,
            )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise _error(
            f"文件已损坏或格式不对：{name}",
            f"corrupt or unreadable {fmt} file {name}: {_first_line(exc)}",
        ) from exc
    except (UnicodeDecodeError, LookupError) as exc:
        shown = encoding or "UTF-8"
        raise _error(
            f"无法按 {shown} 解码：{name}", f"cannot decode {name} as {shown}: {_first_line(exc)}"
        ) from exc
    except ValueError as exc:
        # GDAL reads the file but pyogrio cannot make columns of its attributes (a field
        # that is a list in one feature and absent in another, found by the fuzz test).
        raise _error(
            f"文件的属性无法读成表格：{name}",
            f"the attributes of {name} cannot be read as a table: {_first_line(exc)}",
        ) from exc
    caps.check_features(len(frame), name)  # GeoJSON: counted by reading, up to the cap
    crs, unknown = _declared_crs(frame, fmt, path, chosen)
    frame = _with_rows(frame)
    return ReadResult(
        frame=frame,
        crs=crs,
        encoding=encoding if fmt == "shapefile" else ("utf-8" if fmt == "geojson" else None),
        format=fmt,
        layer=chosen,
        crs_unknown=unknown,
    )


_COUNT_SECONDS: Final = 3.0
"""Time SQLite may take to count a GeoPackage *view* (a table is counted without one: it
is bounded by the file's size)."""


def _check_layer_size(path: Path, fmt: str, layer: str, caps: _Caps, name: str) -> None:
    """Refuse a layer with more fields or features than the caps, before GDAL reads it.

    A GeoPackage layer is counted by SQLite, up to the cap and within
    :data:`_COUNT_SECONDS` (a layer may be a view of a recursive query that GDAL would
    count, then read, without end); other formats by OGR where it is cheap (a
    Shapefile's header), else while reading (``max_features``).
    """
    if fmt == "gpkg":
        _count_gpkg_layer(path, layer, caps, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            info = pyogrio.read_info(path, layer=layer, force_feature_count=False)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise _error(
            f"文件已损坏或格式不对：{name}",
            f"corrupt or unreadable {fmt} file {name}: {_first_line(exc)}",
        ) from exc
    caps.check_columns(len(info["fields"]), name)
    if int(info["features"]) >= 0:
        caps.check_features(int(info["features"]), name)


def _count_gpkg_layer(path: Path, layer: str, caps: _Caps, name: str) -> None:
    import sqlite3
    import time

    quoted = '"' + layer.replace('"', '""') + '"'
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        con = sqlite3.connect(uri, uri=True)
    except sqlite3.Error:
        return  # GDAL will say what is wrong
    try:
        kind = con.execute("SELECT type FROM sqlite_master WHERE name = ?", (layer,)).fetchone()
        if kind is not None and kind[0] == "view":
            deadline = time.monotonic() + _COUNT_SECONDS
            con.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        count = con.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {quoted} LIMIT ?)",  # noqa: S608 (quoted)
            (caps.features + 1,),
        ).fetchone()[0]
    except sqlite3.OperationalError as exc:
        if "interrupted" not in str(exc):
            return  # not a table SQLite can read: GDAL will say what is wrong
        raise _error(
            f"图层无法在 {_COUNT_SECONDS:.0f} 秒内计数（可能是递归视图）：{name}:{layer}",
            f"the layer {layer!r} of {name} cannot be counted within {_COUNT_SECONDS:.0f} s "
            "(a view of an endless query?); export it as a table",
        ) from None
    except sqlite3.Error:
        return
    finally:
        con.close()
    caps.check_features(int(count), name)


def _is_utf8(path: Path) -> bool:
    """Whether the whole file decodes as UTF-8, read in chunks to bound memory."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_SNIFF_BYTES):
                decoder.decode(chunk, final=False)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _read_geojson(path: Path, layer: str | None, caps: _Caps) -> ReadResult:
    """GeoJSON is UTF-8 by its standard (RFC 7946); a GBK one is transcoded first."""
    if _is_utf8(path):
        return _read_vector(path, "geojson", layer, caps, encoding=None)
    try:
        text = path.read_bytes().decode("gb18030")
    except UnicodeDecodeError:
        raise _error(
            f"无法识别文件编码（不是 UTF-8 也不是 GBK）：{path.name}",
            f"cannot decode {path.name}: neither UTF-8 nor GBK/GB18030",
        ) from None
    with tempfile.TemporaryDirectory(prefix="pnm-geojson-") as tmp:
        copy = Path(tmp) / "layer.geojson"
        copy.write_text(text, encoding="utf-8")
        result = _read_vector(copy, "geojson", layer, caps, encoding=None, shown_name=path.name)
    return dataclasses.replace(result, encoding="gb18030")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read_parquet(path: Path, caps: _Caps) -> ReadResult:
    try:
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
        caps.check_columns(len(schema.names), path.name)
        meta = schema.metadata or {}
        if b"geo" in meta:
            unknown = _geoparquet_unusable_crs(meta[b"geo"])
            if unknown is not None:
                # Read without the CRS PROJ cannot parse; the importer asks for --datum.
                gframe = _geoparquet_without_crs(path, meta[b"geo"])
            else:
                gframe = gpd.read_parquet(path)
            crs = None if unknown is not None else usable_name(gframe.crs)
            if gframe.geometry.name != "geometry":
                gframe = gframe.rename_geometry("geometry")
            return ReadResult(_with_rows(gframe), crs, None, "geoparquet", crs_unknown=unknown)
        frame = pd.read_parquet(path)
    except (OSError, ValueError, TypeError) as exc:
        raise _error(
            f"Parquet 文件已损坏：{path.name}",
            f"corrupt Parquet file {path.name}: {_first_line(exc)}",
        ) from exc
    return ReadResult(_with_rows(frame), None, None, "parquet")


def _geoparquet_unusable_crs(geo: bytes) -> str | None:
    """The label of the primary column's CRS in GeoParquet metadata when PROJ cannot use
    it (a missing ``crs`` is OGC:CRS84 by the standard, ``null`` is undefined)."""
    try:
        info = json.loads(geo)
        column = info["columns"][info["primary_column"]]
    except (ValueError, KeyError, TypeError):
        return None  # geopandas will say what is wrong with the metadata
    crs = column.get("crs") if isinstance(column, dict) else None
    if crs is None or usable_name(crs) is not None:
        return None
    return crs_label(crs)


def _geoparquet_without_crs(path: Path, geo: bytes) -> gpd.GeoDataFrame:
    import pyarrow.parquet as pq

    primary = json.loads(geo)["primary_column"]
    frame = pq.read_table(path).to_pandas()
    geometry = gpd.GeoSeries.from_wkb(frame.pop(primary).to_numpy(dtype=object))
    return gpd.GeoDataFrame(frame, geometry=geometry)


# ---------------------------------------------------------------------------------------
# Zips: safety checks, then the Shapefile inside
# ---------------------------------------------------------------------------------------


def _unsafe_member(info: zipfile.ZipInfo) -> bool:
    """Whether a member's path leaves the folder (zip slip) or it is a symbolic link."""
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return True
    if ".." in PurePosixPath(name).parts:
        return True
    mode = info.external_attr >> 16
    return stat.S_ISLNK(mode)


def _check_zip(path: Path, max_bytes: int) -> list[zipfile.ZipInfo]:
    """Refuse a zip that escapes its folder, is encrypted, or would unpack too big."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise _error(
            f"ZIP 文件已损坏：{path.name}", f"corrupt zip file: {path.name} ({exc})"
        ) from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _error(
            f"ZIP 文件成员过多（{len(infos)}）：{path.name}",
            f"the zip has too many members ({len(infos)} > {MAX_ZIP_MEMBERS}): {path.name}",
        )
    total = 0
    for info in infos:
        if _unsafe_member(info):
            raise _error(
                f"ZIP 成员路径越出目录，拒绝读取：{info.filename}",
                f"zip member escapes the folder, refused: {info.filename}",
            )
        if info.flag_bits & 0x1:
            raise _error(
                f"ZIP 文件已加密，无法读取：{path.name}",
                f"the zip is encrypted: {path.name}; send it without a password",
            )
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _ZIP_RATIO_MIN_BYTES and ratio > MAX_ZIP_RATIO:
            raise _error(
                f"ZIP 压缩比异常（疑似压缩炸弹）：{info.filename}",
                f"zip member {info.filename} expands {ratio:.0f}:1 (limit {MAX_ZIP_RATIO}:1); "
                "refused as a possible zip bomb",
            )
    if total > min(max_bytes, MAX_UNZIPPED_BYTES):
        limit = min(max_bytes, MAX_UNZIPPED_BYTES)
        raise _error(
            f"ZIP 解压后过大（{total / 1024**2:.0f} MB）：{path.name}",
            f"the zip would unpack to {total / 1024**2:.0f} MB "
            f"(limit {limit / 1024**2:.0f} MB): {path.name}",
        )
    return infos


def _extract_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int) -> int:
    """Copy one member to ``target``, refusing more bytes than declared or than ``budget``.

    The sizes in a zip's directory can lie; counting what is actually inflated cannot.
    """
    limit = min(info.file_size, budget)
    written = 0
    with zf.open(info) as src, target.open("wb") as dst:
        while chunk := src.read(1024**2):
            written += len(chunk)
            if written > limit:
                raise _error(
                    f"ZIP 成员实际大小超出声明（疑似压缩炸弹）：{info.filename}",
                    f"zip member {info.filename} inflates beyond its declared size; refused",
                )
            dst.write(chunk)
    return written


def _read_zipped_shapefile(
    path: Path, override: str | None, layer: str | None, max_bytes: int, caps: _Caps
) -> ReadResult:
    infos = _check_zip(path, max_bytes)
    files = [i for i in infos if not i.is_dir()]
    stems: dict[str, dict[str, zipfile.ZipInfo]] = {}
    for info in files:
        p = PurePosixPath(info.filename.replace("\\", "/"))
        ext = p.suffix.lower()
        if ext in _SHAPEFILE_PARTS + _SHAPEFILE_OPTIONAL:
            stems.setdefault(str(p.with_suffix("")), {})[ext] = info
    shapes = sorted(s for s, parts in stems.items() if ".shp" in parts)
    if not shapes:
        raise _error(
            f"ZIP 文件中没有 .shp 文件：{path.name}", f"the zip holds no .shp file: {path.name}"
        )
    names = {PurePosixPath(s).name: s for s in shapes}
    if layer is not None:
        if layer not in names and layer not in shapes:
            raise _error(
                f"ZIP 中没有图层 {layer!r}；现有：{', '.join(names)}",
                f"no shapefile {layer!r} in {path.name}; shapefiles: {', '.join(names)}",
            )
        stem = names.get(layer, layer)
    elif len(shapes) > 1:
        raise _error(
            f"{path.name} 含有多个 Shapefile，请用 --layer 指定其一：{', '.join(names)}",
            f"{path.name} holds several shapefiles; choose one with --layer: {', '.join(names)}",
        )
    else:
        stem = shapes[0]
    parts = stems[stem]
    missing = [ext for ext in _SHAPEFILE_PARTS if ext not in parts]
    if missing:
        raise _error(
            f"Shapefile 缺少必需的组成文件：{', '.join(missing)}",
            f"the shapefile {PurePosixPath(stem).name} in {path.name} lacks {', '.join(missing)}",
        )
    with tempfile.TemporaryDirectory(prefix="pnm-shp-") as tmp, zipfile.ZipFile(path) as zf:
        budget = min(max_bytes, MAX_UNZIPPED_BYTES)
        for ext, info in parts.items():
            # Our own file names: nothing from the zip decides where bytes land.
            try:
                budget -= _extract_capped(zf, info, Path(tmp) / f"layer{ext}", budget)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise _error(
                    f"ZIP 文件已损坏：{path.name}",
                    f"corrupt zip file {path.name}: {info.filename}: {_first_line(exc)}",
                ) from exc
        shp = Path(tmp) / "layer.shp"
        unknown = _unusable_prj(Path(tmp) / "layer.prj")
        encoding = override or _shapefile_encoding(Path(tmp))
        result = _read_vector(
            shp, "shapefile", None, caps, encoding=encoding, shown_name=f"{path.name}:{stem}.shp"
        )
    return ReadResult(
        frame=result.frame,
        crs=None if unknown else result.crs,
        encoding=encoding,
        format="shapefile",
        layer=PurePosixPath(stem).name,
        crs_unknown=unknown or result.crs_unknown,
    )


def _unusable_prj(prj: Path) -> str | None:
    """The label of a ``.prj`` PROJ cannot use, which is then removed so that GDAL reads
    the geometries as stored (and neither fails on it nor drops it silently)."""
    try:
        text = prj.read_bytes().decode("utf-8", errors="replace").strip()
    except FileNotFoundError:
        return None
    if not text:
        return None
    if usable_name(text) is not None:
        return None
    prj.unlink()
    return crs_label(text)


def _shapefile_encoding(folder: Path) -> str:
    """The DBF's text encoding: the .cpg's when it names one we know, else sniffed.

    Sniffing decodes the DBF's field names and records as strict UTF-8; text that is not
    valid UTF-8 is taken as GBK (read as GB18030, its superset), which is what Chinese
    GIS software writes by default.
    """
    cpg = folder / "layer.cpg"
    if cpg.exists():
        raw = cpg.read_bytes()[:64].decode("ascii", errors="ignore")
        key = re.sub(r"[\s_]", "", raw).lower()
        if key in _CPG_CODECS:
            return _CPG_CODECS[key]
        try:
            return codecs.lookup(raw.strip()).name
        except LookupError:
            pass  # an unknown .cpg: sniff as if there were none
    dbf = (folder / "layer.dbf").read_bytes()
    if _dbf_text_is_utf8(dbf):
        return "utf-8"
    return "gb18030"


def _dbf_text_is_utf8(dbf: bytes) -> bool:
    """Whether the DBF's field names and records read as UTF-8 (ASCII counts as UTF-8).

    A text field cut mid-character by its byte width leaves one invalid sequence in an
    otherwise valid UTF-8 file; GBK text read as UTF-8 is mostly invalid. So the test is:
    strictly valid, or valid multi-byte characters outnumber invalid ones twenty to one.
    """
    if len(dbf) < 32:
        return True
    header_len = int.from_bytes(dbf[8:10], "little")
    names = b"".join(
        dbf[i : i + 11].split(b"\x00", 1)[0]
        for i in range(32, max(32, header_len - 32), 32)
        if dbf[i : i + 1] != b"\r"
    )
    text = names + b" " + dbf[header_len:]
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        decoded = text.decode("utf-8", errors="replace")
        bad = decoded.count("\ufffd")
        multibyte = len(decoded) - len(decoded.encode("ascii", errors="ignore")) - bad
        return multibyte > 20 * bad
    return True
