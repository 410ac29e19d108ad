"""GeoJSON, FlatGeobuf and GeoParquet exports: one layer per file, metadata inside where the
format has room for it, and always in the sidecar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pyogrio

from geodata.writers.bundle import ExportBundle
from geodata.writers.crs import ExportCrs, coordinate_decimals
from geodata.writers.frames import to_geoframe

PARQUET_METADATA_KEY = b"pnm:export"
"""Key of the export metadata (JSON) in a GeoParquet file's key-value metadata."""


def write_geojson(bundle: ExportBundle, path: Path, target: ExportCrs, *, lang: str) -> None:
    """RFC 7946 GeoJSON: WGS84 longitude/latitude only, counter-clockwise outer rings."""
    if target.key != "EPSG:4326":
        raise ValueError(
            f"GeoJSON is WGS84 (EPSG:4326) only (RFC 7946), not {target.key}; "
            "choose --crs EPSG:4326, or GeoPackage, FlatGeobuf or GeoParquet for "
            f"{target.key}"
        )
    pyogrio.write_dataframe(
        to_geoframe(bundle, target),
        path,
        driver="GeoJSON",
        layer=bundle.layer,
        layer_options={
            "RFC7946": "YES",
            "COORDINATE_PRECISION": str(coordinate_decimals(target)),
            "DESCRIPTION": bundle.style.title(lang),
        },
    )


def write_flatgeobuf(
    bundle: ExportBundle,
    path: Path,
    target: ExportCrs,
    *,
    metadata: dict[str, Any],
    lang: str,
) -> None:
    """FlatGeobuf with a spatial index; title, description and the metadata JSON in its
    header (GDAL ≥ 3.9 reads them back as layer metadata)."""
    pyogrio.write_dataframe(
        to_geoframe(bundle, target),
        path,
        driver="FlatGeobuf",
        layer=bundle.layer,
        layer_options={
            "SPATIAL_INDEX": "YES",
            "TITLE": bundle.style.title(lang),
            "DESCRIPTION": str(metadata.get("description", {}).get(lang, "")),
        },
        metadata={"pnm_export": json.dumps(metadata, ensure_ascii=False)},
    )


def write_geoparquet(
    bundle: ExportBundle, path: Path, target: ExportCrs, *, metadata: dict[str, Any]
) -> None:
    """GeoParquet 1.x (geopandas' writer: WKB geometry, PROJJSON CRS in the ``geo``
    metadata), with the export metadata under the key ``pnm:export``."""
    scratch = path.with_name(path.name + ".part")
    try:
        to_geoframe(bundle, target).to_parquet(scratch, index=False, compression="zstd")
        table = pq.read_table(scratch)
        extra = {PARQUET_METADATA_KEY: json.dumps(metadata, ensure_ascii=False).encode()}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
        pq.write_table(table, path, compression="zstd")
    finally:
        scratch.unlink(missing_ok=True)
