"""GeoPackage exports: one table per layer, metadata in the GeoPackage metadata tables and
the QGIS style in ``layer_styles``.

Metadata: one row per layer in ``gpkg_metadata`` (``md_scope`` "dataset", MIME type
``application/json``, the export's metadata as JSON), linked to its table by a row of
``gpkg_metadata_reference`` (``reference_scope`` "table"), and both tables registered as
the ``gpkg_metadata`` extension in ``gpkg_extensions`` (GeoPackage 1.2, clause F.8).
GDAL shows these rows as the layer's ``GPKG_METADATA_ITEM_n`` metadata items.

Style: QGIS keeps styles in a ``layer_styles`` table that it reads when it opens a layer
of the GeoPackage; it is created here with QGIS's own columns and registered in
``gpkg_contents`` as an attribute table, as QGIS does, with the layer's QML as default.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pyogrio

from geodata.writers.bundle import ExportBundle
from geodata.writers.crs import ExportCrs
from geodata.writers.frames import to_geoframe
from geodata.writers.qml import qml_document

GEOMETRY_COLUMN = "geom"
METADATA_URI = "https://github.com/prevention-network-map/export-metadata/1"
"""``md_standard_uri`` of our metadata rows: the JSON described in the README."""
# The GeoPackage spec's name for the metadata extension, written into gpkg_extensions as
# the standard requires: an identifier, never fetched.
EXTENSION_DEFINITION = "http://www.geopackage.org/spec120/#extension_metadata"

_METADATA_DDL = (
    """CREATE TABLE IF NOT EXISTS gpkg_metadata (
        id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,
        md_scope TEXT NOT NULL DEFAULT 'dataset',
        md_standard_uri TEXT NOT NULL,
        mime_type TEXT NOT NULL DEFAULT 'text/xml',
        metadata TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (
        reference_scope TEXT NOT NULL,
        table_name TEXT,
        column_name TEXT,
        row_id_value INTEGER,
        timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        md_file_id INTEGER NOT NULL,
        md_parent_id INTEGER,
        CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
        CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_extensions (
        table_name TEXT,
        column_name TEXT,
        extension_name TEXT NOT NULL,
        definition TEXT NOT NULL,
        scope TEXT NOT NULL,
        CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
)

# The columns QGIS creates for layer_styles (QgsOgrProvider saveStyle for GeoPackage).
_STYLES_DDL = """CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    f_table_catalog TEXT(256),
    f_table_schema TEXT(256),
    f_table_name TEXT(256),
    f_geometry_column TEXT(256),
    styleName TEXT(30),
    styleQML TEXT,
    styleSLD TEXT,
    useAsDefault BOOLEAN,
    description TEXT,
    owner TEXT(30),
    ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""


def write_gpkg(
    bundles: Sequence[ExportBundle],
    path: Path,
    target: ExportCrs,
    *,
    metadata: Sequence[dict[str, Any]],
    lang: str,
) -> None:
    """Write every bundle as a table of one GeoPackage, with metadata and styles.

    Parameters
    ----------
    bundles : sequence of ExportBundle
        The layers; their names become the table names.
    path : Path
        The GeoPackage to create (it must not exist yet).
    target : ExportCrs
        The CRS of the hexagons.
    metadata : sequence of dict
        The complete metadata of each bundle (with CRS and format), in the same order.
    lang : str
        Language of the style's labels.
    """
    for i, bundle in enumerate(bundles):
        title = bundle.style.title(lang)
        pyogrio.write_dataframe(
            to_geoframe(bundle, target),
            path,
            layer=bundle.layer,
            driver="GPKG",
            layer_options={
                "IDENTIFIER": f"{bundle.layer}: {title}",
                "DESCRIPTION": str(bundle.metadata.get("description", {}).get(lang, title)),
                "GEOMETRY_NAME": GEOMETRY_COLUMN,
                "FID": "fid",
            },
            # GeoPackage 1.2: read by every GDAL from 2.2 on, ArcGIS and older QGIS alike.
            dataset_options={"VERSION": "1.2"} if i == 0 else None,
        )
    with closing(sqlite3.connect(path)) as db, db:
        for ddl in _METADATA_DDL:
            db.execute(ddl)
        for table in ("gpkg_metadata", "gpkg_metadata_reference"):
            db.execute(
                "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, NULL, 'gpkg_metadata', ?, "
                "'read-write')",
                (table, EXTENSION_DEFINITION),
            )
        db.execute(_STYLES_DDL)
        db.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
            "description, last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
            "'QGIS layer styles', strftime('%Y-%m-%dT%H:%M:%fZ','now'))"
        )
        for bundle, meta in zip(bundles, metadata, strict=True):
            cursor = db.execute(
                "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
                "VALUES ('dataset', ?, 'application/json', ?)",
                (METADATA_URI, json.dumps(meta, ensure_ascii=False, indent=1)),
            )
            db.execute(
                "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, "
                "md_file_id) VALUES ('table', ?, ?)",
                (bundle.layer, cursor.lastrowid),
            )
            db.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL)",
                (
                    bundle.layer,
                    GEOMETRY_COLUMN,
                    bundle.layer,
                    qml_document(bundle.style, bundle.fields, lang=lang),
                    bundle.style.title(lang),
                ),
            )
