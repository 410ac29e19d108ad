"""Zipped Shapefile exports: short field names with their mapping, UTF-8 text, ``.prj``.

A dBASE field name holds at most 10 characters. Long names are shortened by a fixed
table of readable abbreviations (:data:`ABBREVIATIONS`), else cut to 10 characters and
made unique with a numeric suffix; the mapping travels in the metadata sidecar
(``field_names``) and as the QGIS aliases in the ``.qml``. Text is UTF-8 and the ``.cpg``
says so, so Chinese labels survive in QGIS and ArcGIS. The zip holds ``<name>.shp``,
``.shx``, ``.dbf``, ``.prj``, ``.cpg``, ``<name>.qml`` and ``<name>.metadata.json``.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import pyogrio

from geodata.writers.bundle import ExportBundle
from geodata.writers.crs import ExportCrs
from geodata.writers.frames import to_geoframe
from geodata.writers.qml import qml_document

MAX_NAME: Final = 10

ABBREVIATIONS: Final[dict[str, str]] = {
    "certified_households": "cert_hh",
    "certified_share": "cert_share",
    "communities": "comms",
    "distance_m": "dist_m",
    "in_progress": "in_progr",
    "nearest_kind": "near_kind",
    "nearest_unit": "near_unit",
    "neighbours": "neighbours",
    "not_started": "not_start",
    "zero_incident": "zero_inc",
    "class_code": "class_code",
    "households": "households",
    "precinct_id": "precinct",
}


def short_names(names: Sequence[str]) -> dict[str, str]:
    """A field name of at most 10 characters for each name, unique ignoring case.

    Parameters
    ----------
    names : sequence of str
        Column names, in order.

    Returns
    -------
    dict
        ``{name: short name}``, in the order of ``names``.
    """
    taken: set[str] = set()
    out: dict[str, str] = {}
    for name in names:
        base = name if len(name) <= MAX_NAME else ABBREVIATIONS.get(name, name[:MAX_NAME])
        base = base[:MAX_NAME]
        candidate, n = base, 1
        while candidate.lower() in taken:
            n += 1
            suffix = f"_{n}"
            candidate = base[: MAX_NAME - len(suffix)] + suffix
        taken.add(candidate.lower())
        out[name] = candidate
    return out


def write_shapefile_zip(
    bundle: ExportBundle,
    path: Path,
    target: ExportCrs,
    *,
    workdir: Path,
    metadata: dict[str, Any],
    lang: str,
) -> dict[str, str]:
    """Write one layer as a zipped Shapefile with its style and metadata inside.

    Parameters
    ----------
    bundle : ExportBundle
        The layer.
    path : Path
        The zip file to create.
    target : ExportCrs
        The CRS of the hexagons (written to the ``.prj``).
    workdir : Path
        An empty scratch folder for the loose files.
    metadata : dict
        The complete metadata; the field-name mapping is added to the copy in the zip.
    lang : str
        Language of the style's labels.

    Returns
    -------
    dict
        The field-name mapping, ``{name: short name}``.
    """
    names = short_names([str(c) for c in bundle.frame.columns])
    frame = to_geoframe(bundle, target).rename(columns=names)
    shp = workdir / f"{bundle.layer}.shp"
    pyogrio.write_dataframe(frame, shp, driver="ESRI Shapefile", encoding="UTF-8")
    (workdir / f"{bundle.layer}.qml").write_text(
        qml_document(bundle.style, bundle.fields, lang=lang, names=names), encoding="utf-8"
    )
    meta = {**metadata, "field_names": names}
    (workdir / f"{bundle.layer}.metadata.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member in sorted(workdir.iterdir()):
            zf.write(member, arcname=member.name)
    return names
