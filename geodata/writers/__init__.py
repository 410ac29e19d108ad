"""Export writers: put an assembled layer on disk in the format and CRS a planner asked for.

Formats (:data:`FORMATS`): GeoPackage (one table per layer, metadata in the GeoPackage
metadata tables, QGIS style in ``layer_styles``), zipped Shapefile (short field names
with their mapping, UTF-8 ``.cpg``, ``.prj``), GeoJSON (RFC 7946, WGS84 only), CSV (H3
cell id, cell centre, WKT, every value; UTF-8 with BOM; formula injection neutralised),
GeoParquet and FlatGeobuf. CRSs: :data:`geodata.writers.crs.CRS_CHOICES`.

Every export carries its metadata — in the GeoPackage's metadata tables, otherwise in a
sidecar ``<name>.metadata.json`` (inside the zip for a Shapefile) — and a QGIS style
``<name>.qml`` with the map's classes and colours. Files are written into a scratch
folder beside the target and renamed into place, so a failed export leaves nothing
half-written behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from geodata.writers.bundle import (
    NO_DATA_CLASS,
    ExportBundle,
    FieldInfo,
    Style,
    StyleClass,
    field_table,
)
from geodata.writers.crs import CRS_CHOICES, ExportCrs, export_crs
from geodata.writers.csvfile import write_csv
from geodata.writers.gpkg import write_gpkg
from geodata.writers.qml import qml_document
from geodata.writers.shapefile import write_shapefile_zip
from geodata.writers.simple import write_flatgeobuf, write_geojson, write_geoparquet


class ExportError(ValueError):
    """An export that cannot be written as asked: said in one line."""


@dataclass(frozen=True)
class ExportFormat:
    """A file format offered for exports."""

    key: str
    zh: str
    en: str
    suffix: str
    multi_layer: bool = False

    def describe(self) -> dict[str, str]:
        """The format block of an export's metadata."""
        return {"key": self.key, "zh": self.zh, "en": self.en}


FORMATS: Final[dict[str, ExportFormat]] = {
    f.key: f
    for f in (
        ExportFormat("gpkg", "GeoPackage", "GeoPackage", ".gpkg", multi_layer=True),
        ExportFormat("shp", "Shapefile（zip压缩）", "zipped Shapefile", ".zip"),
        ExportFormat(
            "geojson", "GeoJSON（RFC 7946，仅WGS84）", "GeoJSON (RFC 7946, WGS84 only)", ".geojson"
        ),
        ExportFormat("csv", "CSV（含WKT）", "CSV with WKT", ".csv"),
        ExportFormat("parquet", "GeoParquet", "GeoParquet", ".parquet"),
        ExportFormat("fgb", "FlatGeobuf", "FlatGeobuf", ".fgb"),
    )
}
"""Every export format, by key."""

_FORMAT_ALIASES: Final[dict[str, str]] = {
    "geopackage": "gpkg",
    "shapefile": "shp",
    "zip": "shp",
    "json": "geojson",
    "geoparquet": "parquet",
    "flatgeobuf": "fgb",
}

# Suffixes stripped from an output name to name its sidecars (longest first).
_SUFFIXES: Final = (".shp.zip", ".zip", ".gpkg", ".geojson", ".json", ".csv", ".parquet", ".fgb")

SIDECAR_SUFFIX: Final = ".metadata.json"


def export_format(text: str) -> ExportFormat:
    """The format a user named (``"gpkg"``, ``"shapefile"``, ``"GeoParquet"``...)."""
    key = text.strip().lower()
    key = _FORMAT_ALIASES.get(key, key)
    if key not in FORMATS:
        raise ExportError(f"unknown format {text!r}; choose one of {', '.join(FORMATS)}")
    return FORMATS[key]


def check_combination(fmt: ExportFormat, crs: ExportCrs, layers: int = 1) -> None:
    """Refuse, in one line, a format and CRS (and number of layers) that do not go together."""
    if fmt.key == "geojson" and crs.key != "EPSG:4326":
        raise ExportError(
            f"GeoJSON is WGS84 (EPSG:4326) only (RFC 7946), not {crs.key}; choose "
            f"--crs EPSG:4326, or gpkg, fgb or parquet for {crs.key}"
        )
    if layers > 1 and not fmt.multi_layer:
        raise ExportError(
            f"{fmt.en} holds one layer per file, {layers} were asked; "
            "use gpkg (one table per layer) or export the layers one by one"
        )


def base_name(path: Path) -> str:
    """The output's name without its format suffix: the name its sidecars share."""
    name = path.name
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return path.stem or name


@dataclass(frozen=True)
class WrittenExport:
    """What an export put on disk."""

    path: Path
    files: tuple[Path, ...]
    features: int
    bytes: int
    format: str
    crs: str
    layers: tuple[str, ...]


def full_metadata(bundle: ExportBundle, fmt: ExportFormat, crs: ExportCrs) -> dict[str, Any]:
    """The bundle's metadata completed with its CRS, format, fields and style."""
    return {
        **dict(bundle.metadata),
        "features": bundle.features,
        "crs": crs.describe(),
        "format": fmt.describe(),
        "fields": field_table(bundle.fields),
        "style": bundle.style.as_dict(),
    }


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_into(
    work: Path,
    bundles: Sequence[ExportBundle],
    name: str,
    base: str,
    fmt: ExportFormat,
    crs: ExportCrs,
    lang: str,
) -> list[Path]:
    """Write the export's files into the scratch folder ``work``; main file first."""
    metas = [full_metadata(b, fmt, crs) for b in bundles]
    main = work / name
    if fmt.key == "gpkg":
        write_gpkg(bundles, main, crs, metadata=metas, lang=lang)
        files = [main]
        for b in bundles:
            qml = work / (f"{base}.qml" if len(bundles) == 1 else f"{base}.{b.layer}.qml")
            qml.write_text(qml_document(b.style, b.fields, lang=lang), encoding="utf-8")
            files.append(qml)
        return files
    bundle, meta = bundles[0], metas[0]
    if fmt.key == "shp":
        scratch = work / ".shp"
        scratch.mkdir()
        write_shapefile_zip(bundle, main, crs, workdir=scratch, metadata=meta, lang=lang)
        shutil.rmtree(scratch)
        return [main]
    files = [main]
    if fmt.key == "geojson":
        write_geojson(bundle, main, crs, lang=lang)
    elif fmt.key == "csv":
        columns = write_csv(bundle, main, crs)
        meta = {**meta, "csv_columns": columns}
        files.append(main.with_suffix(".csvt"))
    elif fmt.key == "parquet":
        write_geoparquet(bundle, main, crs, metadata=meta)
    elif fmt.key == "fgb":
        write_flatgeobuf(bundle, main, crs, metadata=meta, lang=lang)
    else:  # pragma: no cover - FORMATS and this dispatch are kept in step
        raise ExportError(f"no writer for {fmt.key}")
    qml = work / f"{base}.qml"
    qml.write_text(qml_document(bundle.style, bundle.fields, lang=lang), encoding="utf-8")
    sidecar = work / f"{base}{SIDECAR_SUFFIX}"
    _write_json(sidecar, meta)
    return [*files, qml, sidecar]


def write_export(
    bundles: Sequence[ExportBundle],
    path: Path | str,
    *,
    fmt: ExportFormat | str,
    crs: ExportCrs | str,
    lang: str = "zh",
) -> WrittenExport:
    """Write assembled layers to ``path`` in format ``fmt`` and CRS ``crs``.

    Parameters
    ----------
    bundles : sequence of ExportBundle
        The layers (several only for GeoPackage). Each must have at least one feature.
    path : Path or str
        The main output file. Sidecars (``.qml``, ``.metadata.json``, ``.csvt``) are
        written beside it with the same base name; an existing file is replaced.
    fmt : ExportFormat or str
        A key of :data:`FORMATS` (or an alias such as "shapefile").
    crs : ExportCrs or str
        A key of :data:`geodata.writers.crs.CRS_CHOICES` (or an alias such as "4545").
    lang : str
        Language of the style's labels and aliases: "zh" (default) or "en".

    Returns
    -------
    WrittenExport
        The files written, the number of features and the bytes on disk.

    Raises
    ------
    ExportError
        For an unknown format or CRS, a combination the format cannot hold, no layers,
        an empty layer, or a path that cannot be written.
    """
    fmt = export_format(fmt) if isinstance(fmt, str) else fmt
    try:
        target = export_crs(crs) if isinstance(crs, str) else crs
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    if not bundles:
        raise ExportError("nothing to export: no layer was given")
    check_combination(fmt, target, len(bundles))
    names = [b.layer for b in bundles]
    if len(set(names)) != len(names):
        raise ExportError(f"each layer can be exported once, got {names}")
    for b in bundles:
        if b.features == 0:
            raise ExportError(f"layer {b.layer} has no features in the chosen area and window")
    if lang not in ("zh", "en"):
        raise ExportError(f"unknown language {lang!r}; choose zh or en")

    out = Path(path)
    if out.is_dir():
        raise ExportError(
            f"{out} is a folder; give a file name such as {out / names[0]}{fmt.suffix}"
        )
    base = base_name(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent))
    except OSError as exc:
        raise ExportError(f"cannot write to {out.parent}: {exc.strerror or exc}") from None
    try:
        written = _write_into(work, bundles, out.name, base, fmt, target, lang)
        final: list[Path] = []
        # Sidecars first, the main file last: whoever sees the file sees its sidecars.
        for item in [*written[1:], written[0]]:
            dest = out.parent / item.name
            os.replace(item, dest)
            final.append(dest)
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    files = (final[-1], *final[:-1])
    return WrittenExport(
        path=final[-1],
        files=files,
        features=sum(b.features for b in bundles),
        bytes=sum(f.stat().st_size for f in files),
        format=fmt.key,
        crs=target.key,
        layers=tuple(names),
    )


__all__ = [
    "CRS_CHOICES",
    "FORMATS",
    "NO_DATA_CLASS",
    "SIDECAR_SUFFIX",
    "ExportBundle",
    "ExportCrs",
    "ExportError",
    "ExportFormat",
    "FieldInfo",
    "Style",
    "StyleClass",
    "WrittenExport",
    "base_name",
    "check_combination",
    "export_crs",
    "export_format",
    "full_metadata",
    "write_export",
]
