"""Import: read a file, map its columns, validate its rows, store the good ones.

Nothing is lost: every row of the file is either stored or written to a rejects file
(``<data>/rejects/<kind>-<YYYYmmdd-HHMMSS>.csv``, UTF-8 with BOM so Excel opens it) with
its row number, a reason code and a sentence in Chinese and English. Nothing stored is
damaged: the table is rewritten atomically only after the whole file has been validated,
and a file that cannot be read at all changes nothing.

With a DSN (``--dsn`` or ``PNM_DSN``) the good rows go to PostGIS instead
(:mod:`geodata.postgis`), in one transaction, checked against the ids and the area stored
there; the rejects still go to the local data directory, and the import is logged in the
database's ``import_log`` instead of the manifest.

Exit codes of ``python -m geodata import``: 0 when rows were stored; 1 when the file was
read but no row was valid; 2 when it could not be read at all (format, encoding, empty,
missing columns, unknown datum) — with a one-line message on stderr, no traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import geopandas as gpd
import pandas as pd
from tqdm import tqdm

from geodata import store
from geodata.columns import ColumnError, load_user_mapping, map_columns, source_header
from geodata.datum import DatumError, is_known_datum
from geodata.limits import ImportLimits, LimitError, import_limits
from geodata.readers import ReadError, read_file
from geodata.schema import Dataset, dataset
from geodata.validate import REASONS, Area, Validator, load_area
from geodata.validate.cells import parse_zone

__all__ = ["CHUNK_ROWS", "ImportFailed", "ImportReport", "import_file", "run_import"]

CHUNK_ROWS: Final = 200_000
"""Rows validated per step (bounds memory of the intermediate arrays; drives the bar)."""

# A cell starting with one of these is a formula to Excel; the rejects file is meant to be
# opened there, so such cells get a leading apostrophe (shown as text, not run).
_FORMULA_START: Final = ("=", "+", "@", "\t", "\r")
_PLAIN_NUMBER: Final = re.compile(r"^-\d+(\.\d+)?([eE][+-]?\d+)?$")


class ImportFailed(ValueError):
    """The import cannot start or cannot finish, for a reason the user can fix."""


@dataclass
class ImportReport:
    """What an import did.

    Attributes
    ----------
    kind : str
        Data set imported into.
    file : Path
        The file read.
    format, encoding, datum : str or None
        As detected or given.
    rows_read, rows_stored : int
        Data rows in the file; rows stored from it.
    rejected : Counter
        Rejected rows by reason code.
    rejects_path : Path or None
        The rejects file, when rows were rejected.
    table_rows : int
        Rows in the stored table after the import.
    area_checked : bool
        Whether locations were checked against a stored area (else only their ranges).
    table : str or None
        ``schema.kind`` in PostGIS when the rows went there; None for the file store.
    time_zone : str or None
        The zone given for times without one (``--tz``); None: they were taken as CST.
    unit_kind : str or None
        The kind given to every row (``--unit-kind``), if any.
    """

    kind: str
    file: Path
    format: str
    encoding: str | None
    datum: str
    rows_read: int = 0
    rows_stored: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    rejects_path: Path | None = None
    table_rows: int = 0
    area_checked: bool = False
    table: str | None = None
    time_zone: str | None = None
    unit_kind: str | None = None

    @property
    def rows_rejected(self) -> int:
        """Number of rejected rows."""
        return sum(self.rejected.values())


def _resolve_datum(option: str | None, file_crs: str | None, unknown: str | None = None) -> str:
    """``--datum`` if given, else the file's CRS, else WGS84; a CRS the file declares but
    that cannot be used is refused (never taken as WGS84) unless ``--datum`` is given."""
    if option is None and unknown is not None:
        raise DatumError(
            f"文件声明的坐标系无法识别或无法使用：{unknown}；请用 --datum 指明坐标系 / the "
            f"file's CRS is unknown or unusable: {unknown}; name the datum of its coordinates "
            "with --datum (wgs84, cgcs2000, gcj02, bd09 or e.g. EPSG:4545)"
        )
    if option is not None:
        if not is_known_datum(option):
            raise DatumError(
                f"未知的坐标系：{option!r} / unknown datum {option!r}: use wgs84, cgcs2000, "
                "gcj02, bd09 or a CRS pyproj knows (e.g. EPSG:4545)"
            )
        return option
    if file_crs is None or file_crs == "EPSG:4326":
        return "wgs84"
    return file_crs


def import_file(
    kind: str,
    file: Path | str,
    *,
    data_dir: Path | str,
    datum: str | None = None,
    columns: Path | str | None = None,
    replace: bool = False,
    layer: str | None = None,
    encoding: str | None = None,
    progress: bool = False,
    dsn: str | None = None,
    db_schema: str | None = None,
    limits: ImportLimits | None = None,
    tz: str | None = None,
    unit_kind: str | None = None,
) -> ImportReport:
    """Import ``file`` into data set ``kind`` of the store at ``data_dir``.

    Parameters
    ----------
    kind : str
        A data set of :mod:`geodata.schema` (``incidents``, ``area``, ...).
    file : path-like
        CSV, .xlsx, GeoJSON, GeoPackage, zipped Shapefile or GeoParquet.
    data_dir : path-like
        The store; created if missing.
    datum : str, optional
        Datum of the file's coordinates; default the file's CRS, else WGS84.
    columns : path-like, optional
        User mapping file (JSON or two-column CSV) of file headers to schema columns.
    replace : bool
        Replace the stored table instead of appending to it (appending refuses ids
        already stored, as ``duplicate_id``).
    layer : str, optional
        GeoPackage layer, Excel sheet or Shapefile inside a zip.
    encoding : str, optional
        Text encoding of a CSV or DBF (e.g. ``gbk``); default: detected.
    progress : bool
        Show a progress bar on stderr (only when it is a terminal).
    dsn : str, optional
        Store the good rows in PostGIS (a migrated schema) instead of ``data_dir``,
        which then only receives the rejects file.
    db_schema : str, optional
        PostgreSQL schema (default ``PNM_DB_SCHEMA`` or ``pnm``).
    limits : ImportLimits, optional
        The accepted time range and file size (default: from the ``PNM_IMPORT_*``
        variables, :func:`geodata.limits.import_limits`).
    tz : str, optional
        Time zone of the file's times that do not say theirs (``UTC``, ``+08:00``,
        ``Asia/Shanghai``): converted from it to China Standard Time, as times that carry
        a zone always are. Default: CST (the report says which was assumed).
    unit_kind : str, optional
        The kind of every row of a patrol-fixes or response-units file that has no kind
        column (``police_car``…); refused when the file has one.

    Returns
    -------
    ImportReport

    Raises
    ------
    ReadError, ColumnError, DatumError, ImportFailed, LimitError
        When the file cannot be read or imported at all; nothing has been written then.
    geodata.postgis.PgError
        When PostgreSQL cannot be reached or refuses the rows; nothing is written then.
    """
    schema = dataset(kind)
    file = Path(file)
    data_dir = Path(data_dir)
    limits = import_limits() if limits is None else limits
    if datum is not None:
        _resolve_datum(datum, None)  # an unknown datum fails before the file is read
    mapping = load_user_mapping(columns) if columns is not None else None
    try:
        zone = parse_zone(tz) if tz is not None else None
    except ValueError as exc:
        raise ImportFailed(str(exc)) from exc
    result = read_file(
        file,
        layer=layer,
        encoding=encoding,
        max_columns=limits.max_columns,
        max_features=limits.max_features,
    )
    frame = result.frame
    if unit_kind is not None:
        frame = _one_kind(frame, schema, unit_kind, mapping)
    colmap = map_columns(frame, schema, user_mapping=mapping)
    used_datum = _resolve_datum(datum, result.crs, result.crs_unknown)

    existing: pd.DataFrame | None = None
    keys: set[str] = set()
    if dsn is not None:
        from geodata import postgis

        if not replace:
            keys = postgis.stored_keys(dsn, kind, schema=db_schema)
        area = _pg_area(dsn, db_schema) if kind != "area" else None
    else:
        if not replace and store.has_table(data_dir, kind):
            try:
                existing = store.read_table(data_dir, kind)
            except (OSError, ValueError, store.StoreError) as exc:
                raise ImportFailed(
                    f"无法读取库中已有的 {kind} 表 / cannot read the stored {kind} table: {exc}"
                ) from exc
        if existing is not None and schema.key is not None and schema.key in existing.columns:
            keys = set(existing[schema.key].dropna().astype(str))
        area = load_area(data_dir) if kind != "area" else None

    validator = Validator(
        colmap,
        datum=used_datum,
        area=area,
        existing_keys=keys,
        time_range=limits.time_range(),
        zone=zone,
    )
    report = ImportReport(kind, file, result.format, result.encoding, used_datum)
    report.time_zone = tz.strip() if tz is not None else None
    report.unit_kind = unit_kind
    report.rows_read = len(frame)
    report.area_checked = area is not None
    goods: list[pd.DataFrame] = []
    rejects: list[pd.DataFrame] = []
    bar = tqdm(
        total=len(frame),
        unit="行",
        desc=f"校验 {kind}",
        file=sys.stderr,
        disable=not (progress and sys.stderr.isatty()),
    )
    with bar:
        for start in range(0, len(frame), CHUNK_ROWS):
            part = validator.validate(frame.iloc[start : start + CHUNK_ROWS])
            goods.append(part.good)
            if not part.rejects.empty:
                rejects.append(part.rejects)
            bar.update(min(CHUNK_ROWS, len(frame) - start))

    good = _concat(goods)
    report.rows_stored = len(good)
    if rejects:
        rejected = pd.concat(rejects, ignore_index=True)
        report.rejected = Counter(rejected["reason"].tolist())
        report.rejects_path = _write_rejects(data_dir, kind, rejected)

    if dsn is not None:
        from geodata import postgis

        report.table = f"{db_schema or postgis.default_schema()}.{kind}"
        if len(good):
            report.table_rows = postgis.write_table_pg(
                dsn, kind, good, replace=replace, schema=db_schema
            )
        else:
            report.table_rows = postgis.table_rows(dsn, kind, schema=db_schema)
        postgis.log_import(dsn, _entry(data_dir, report, replace=replace), schema=db_schema)
        return report
    if len(good):
        table = good if existing is None else _append(existing, good)
        store.write_table(data_dir, kind, table)
        report.table_rows = len(table)
    else:
        report.table_rows = 0 if existing is None else len(existing)
    _record(data_dir, report, replace=replace)
    return report


# The column of a unit's kind in the data sets that have one.
KIND_COLUMNS: Final[dict[str, str]] = {"patrol_fixes": "unit_kind", "response_units": "kind"}


def _one_kind(
    frame: pd.DataFrame, schema: Dataset, kind: str, mapping: dict[str, str] | None
) -> pd.DataFrame:
    """``frame`` with every row of unit kind ``kind`` (``--unit-kind``), for a file that
    has no kind column; the value is checked like a cell's."""
    column = KIND_COLUMNS.get(schema.kind)
    if column is None:
        raise ImportFailed(
            f"--unit-kind 只用于巡逻定位和处置单元 / --unit-kind is for "
            f"{' and '.join(KIND_COLUMNS)} only, not {schema.kind}"
        )
    header = source_header(frame, schema, column, user_mapping=mapping)
    if header is not None:
        raise ImportFailed(
            f"文件已有类型列“{header}”，--unit-kind 只用于没有类型列的文件 / the file has its "
            f"own kind column {header!r}; --unit-kind is for a file without one"
        )
    return frame.assign(**{column: kind})


def _pg_area(dsn: str, db_schema: str | None) -> Area | None:
    """The area stored in PostGIS, as :func:`geodata.validate.load_area` reads the files'."""
    from geodata import postgis

    frame = postgis.read_table_pg(dsn, "area", schema=db_schema)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.empty:
        return None
    return Area.from_frame(frame)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0]
    combined = pd.concat(frames, ignore_index=True)
    if isinstance(frames[0], gpd.GeoDataFrame):
        return gpd.GeoDataFrame(combined, geometry="geometry", crs="EPSG:4326")
    return combined


def _append(existing: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Stored rows then new rows; new columns take the stored dtypes where they can."""
    aligned = new.copy()
    for name in aligned.columns:
        if name in existing.columns and name != "geometry":
            # A failure (missing values into a non-nullable int) keeps the nullable type.
            with contextlib.suppress(TypeError, ValueError):
                aligned[name] = aligned[name].astype(existing[name].dtype)
    combined = pd.concat([existing, aligned], ignore_index=True)
    if isinstance(new, gpd.GeoDataFrame):
        return gpd.GeoDataFrame(combined, geometry="geometry", crs="EPSG:4326")
    return combined


def _defuse(value: object) -> object:
    # "-2+3+cmd|' /C calc'!A0" is a formula to Excel too; only a plain number may start
    # with a sign and stay as it is.
    if isinstance(value, str) and (
        value.startswith(_FORMULA_START)
        or (value.startswith("-") and len(value) > 1 and not _PLAIN_NUMBER.match(value))
    ):
        return "'" + value
    return value


def _write_rejects(data_dir: Path, kind: str, rejects: pd.DataFrame) -> Path:
    """Write the rejects file (UTF-8 with BOM, for Excel) atomically; return its path."""
    folder = store.rejects_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = folder / f"{kind}-{stamp}.csv"
    n = 2
    while path.exists():
        path = folder / f"{kind}-{stamp}-{n}.csv"
        n += 1
    safe = rejects.copy()
    for name in safe.columns[3:]:
        if safe[name].dtype == object or pd.api.types.is_string_dtype(safe[name].dtype):
            safe[name] = safe[name].map(_defuse)
    tmp = store._atomic_target(path)  # the store's temporary file, with the store's mode
    try:
        safe.to_csv(tmp, index=False, encoding="utf-8-sig")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _entry(data_dir: Path, report: ImportReport, *, replace: bool) -> dict[str, object]:
    """What the manifest (or PostGIS's import log) keeps of an import."""
    return {
        "kind": report.kind,
        "file": report.file.name,
        "format": report.format,
        "encoding": report.encoding,
        "datum": report.datum,
        "replace": replace,
        "rows_read": report.rows_read,
        "rows_stored": report.rows_stored,
        "rows_rejected": report.rows_rejected,
        "rejected_by_reason": dict(sorted(report.rejected.items())),
        "rejects_file": (
            str(report.rejects_path.relative_to(data_dir)) if report.rejects_path else None
        ),
        "time": dt.datetime.now().isoformat(timespec="seconds"),
    }


def _record(data_dir: Path, report: ImportReport, *, replace: bool) -> None:
    """Add the import to the manifest; a first real import marks the data as not synthetic."""
    manifest = store.read_manifest(data_dir)
    manifest.setdefault("imports", []).append(_entry(data_dir, report, replace=replace))
    if report.rows_stored and "synthetic" not in manifest:
        manifest["synthetic"] = False
    store.write_manifest(data_dir, manifest)


def _summary(report: ImportReport, data_dir: Path) -> str:
    lines = [
        f"导入 {report.kind} / import {report.kind}: {report.file.name} "
        f"({report.format}, {report.encoding or '-'}, datum {report.datum})",
        f"  读取 / read:     {report.rows_read:>10,} 行 rows",
        f"  存储 / stored:   {report.rows_stored:>10,} 行 rows"
        + (
            f" -> {report.table or store.table_path(data_dir, report.kind)} "
            f"({report.table_rows:,} in table)"
            if report.rows_stored
            else ""
        ),
        f"  拒绝 / rejected: {report.rows_rejected:>10,} 行 rows",
    ]
    for code, count in report.rejected.most_common():
        label = REASONS.get(code)
        text = f"{label.zh} / {label.en}" if label else code
        lines.append(f"    {code:<22} {count:>8,}  {text}")
    if report.rejects_path is not None:
        lines.append(f"  拒绝明细 / rejects file: {report.rejects_path}")
    if any(c.dtype == "datetime" for c in dataset(report.kind).columns):
        if report.time_zone is None:
            lines.append(
                "  时间：未注明时区的时间按北京时间（UTC+8）/ times: those without a zone were "
                "taken as China Standard Time (UTC+8); say otherwise with --tz"
            )
        else:
            lines.append(
                f"  时间：未注明时区的时间按 {report.time_zone}，已换算为北京时间 / times: those "
                f"without a zone were taken as {report.time_zone} and converted to China "
                "Standard Time (UTC+8)"
            )
    if report.unit_kind is not None:
        lines.append(f"  类型 / kind: 每行均为 / every row is {report.unit_kind} (--unit-kind)")
    if not report.area_checked and report.kind != "area":
        lines.append(
            "  注意：库中没有辖区边界（area），只检查了经纬度范围 / note: the store has no "
            "area, so only coordinate ranges were checked; import the area first"
        )
    return "\n".join(lines)


def run_import(
    kind: str,
    file: Path | str,
    *,
    data_dir: Path | str,
    datum: str | None = None,
    columns: Path | str | None = None,
    replace: bool = False,
    layer: str | None = None,
    encoding: str | None = None,
    dsn: str | None = None,
    db_schema: str | None = None,
    tz: str | None = None,
    unit_kind: str | None = None,
) -> int:
    """Import a file from the command line: print a summary, return the exit code.

    Parameters
    ----------
    kind, file, data_dir, datum, columns, replace, layer, encoding, dsn, db_schema, tz, unit_kind
        As for :func:`import_file`.

    Returns
    -------
    int
        0 when rows were stored, 1 when none was valid, 2 when the file could not be
        read or imported at all (a one-line message on stderr).
    """
    data_dir = Path(data_dir)
    try:
        dataset(kind)
    except ValueError as exc:
        print(f"导入失败 / import failed: {exc}", file=sys.stderr)
        return 2
    failures: tuple[type[Exception], ...] = (
        ReadError,
        ColumnError,
        DatumError,
        ImportFailed,
        LimitError,
        store.StoreError,
    )
    if dsn is not None:
        from geodata.postgis import PgError

        failures += (PgError,)
    try:
        report = import_file(
            kind,
            file,
            data_dir=data_dir,
            datum=datum,
            columns=columns,
            replace=replace,
            layer=layer,
            encoding=encoding,
            progress=True,
            dsn=dsn,
            db_schema=db_schema,
            tz=tz,
            unit_kind=unit_kind,
        )
    except failures as exc:
        message = " ".join(str(exc).split())
        print(f"导入失败 / import failed: {message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"导入失败 / import failed: {exc.strerror or exc}: {exc.filename or ''}",
            file=sys.stderr,
        )
        return 2
    except MemoryError:
        print(
            "导入失败 / import failed: 内存不足，请拆分文件 / out of memory; split the file "
            "and import the parts",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:  # a bug or a library's surprise: still one line, no traceback
        message = " ".join(str(exc).split())[:300]
        print(
            f"导入失败 / import failed: 意外错误 / unexpected error "
            f"({type(exc).__name__}): {message}",
            file=sys.stderr,
        )
        return 2
    print(_summary(report, data_dir))
    if report.rows_stored == 0:
        print(
            "没有有效行可存储，请查看拒绝明细 / no valid row to store; see the rejects file",
            file=sys.stderr,
        )
        return 1
    return 0
