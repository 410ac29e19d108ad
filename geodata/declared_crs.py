"""The CRS a file declares, and whether it can be used: never guessed as WGS84.

GDAL is lenient where we must not be: a GeoJSON ``crs`` member naming ``EPSG::99999`` is
read as WGS84, a GeoPackage layer whose ``srs_id`` is not in its ``gpkg_spatial_ref_sys``
has no CRS at all, and a Shapefile ``.prj`` or GeoParquet ``crs`` that PROJ cannot parse
ends in a PROJ error. Each function here looks at the declaration itself and answers with
a short label of what the file names when it cannot be used, so that the importer can
refuse it in one line and point to ``--datum``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

__all__ = ["crs_label", "geojson_crs_member", "gpkg_layer_srs", "unusable", "usable_name"]

# A top-level GeoJSON crs member ("crs": {"type": "name", "properties": {"name": ...}})
# is looked for in the first and the last bytes of the file: before or after "features".
_EDGE_BYTES: Final = 1024**2
_CRS_MEMBER: Final = re.compile(rb'"crs"\s*:\s*(\{(?:[^{}]|\{[^{}]*\})*\})')
_UNDEFINED_SRS: Final = (0, -1)  # GeoPackage: undefined geographic / cartesian
_LABEL_LIMIT: Final = 80


def crs_label(value: object) -> str:
    """A short one-line name of a declared CRS for a message (an id, a name, or the
    start of its text)."""
    if isinstance(value, dict):
        ident = value.get("id")
        if isinstance(ident, dict) and "authority" in ident and "code" in ident:
            return f"{ident['authority']}:{ident['code']}"
        props = value.get("properties")
        if isinstance(props, dict) and "name" in props:
            return crs_label(props["name"])
        if "name" in value:
            return crs_label(value["name"])
        value = json.dumps(value, ensure_ascii=False)
    text = " ".join(str(value).split())
    found = re.match(r'^\s*(?:PROJCS|GEOGCS|PROJCRS|GEOGCRS|GEODCRS)\["([^"]*)"', text)
    if found:
        text = found.group(1)
    return text if len(text) <= _LABEL_LIMIT else text[:_LABEL_LIMIT] + "…"


@lru_cache(maxsize=64)
def _check(text: str) -> str | None:
    """``EPSG:n`` (or WKT) of a usable CRS given as text; None when unusable."""
    try:
        parsed = CRS.from_user_input(json.loads(text) if text.startswith("{") else text)
        # Usable means PROJ can take its coordinates to WGS84 longitude/latitude.
        Transformer.from_crs(parsed, CRS.from_epsg(4326), always_xy=True)
    except (CRSError, ProjError, ValueError, TypeError):
        return None
    if not (parsed.is_geographic or parsed.is_projected):
        return None  # an engineering (local) or vertical CRS has no place on the map
    code = parsed.to_epsg(min_confidence=70)
    return f"EPSG:{code}" if code is not None else parsed.to_wkt()


def usable_name(crs: Any) -> str | None:
    """``"EPSG:n"`` (or WKT without a code) of ``crs`` when PROJ can use it, else None."""
    if crs is None:
        return None
    if isinstance(crs, CRS):
        text = crs.to_wkt()
    elif isinstance(crs, dict):
        text = json.dumps(crs)
    else:
        text = str(crs)
    return _check(text)


def unusable(crs: Any) -> str | None:
    """The label of ``crs`` when it is declared but cannot be used; None when it is
    absent or usable."""
    if crs is None or usable_name(crs) is not None:
        return None
    return crs_label(crs)


def geojson_crs_member(path: Path) -> object | None:
    """The value of a GeoJSON file's top-level ``crs`` member (RFC 7946 dropped it, older
    files still carry one), looked for near the start and the end of the file; None
    when there is none."""
    with path.open("rb") as fh:
        head = fh.read(_EDGE_BYTES)
        size = fh.seek(0, 2)
        tail = b""
        if size > _EDGE_BYTES:
            fh.seek(max(_EDGE_BYTES, size - _EDGE_BYTES))
            tail = fh.read()
    for chunk in (head, tail):
        found = _CRS_MEMBER.search(chunk)
        if found is None:
            continue
        try:
            return json.loads(found.group(1).decode("utf-8", errors="replace"))
        except ValueError:
            return found.group(1).decode("utf-8", errors="replace")
    return None


def gpkg_layer_srs(path: Path, layer: str) -> tuple[int, str | None] | None:
    """``(srs_id, definition)`` of a GeoPackage layer's geometry column, from its own
    tables (definition None when ``gpkg_spatial_ref_sys`` has no such id); None when the
    layer has no geometry column or its srs is one of the two "undefined" ids."""
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        with sqlite3.connect(uri, uri=True) as con:
            row = con.execute(
                "SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)
            ).fetchone()
            if row is None or int(row[0]) in _UNDEFINED_SRS:
                return None
            srs = int(row[0])
            found = con.execute(
                "SELECT organization, organization_coordsys_id, definition "
                "FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
                (srs,),
            ).fetchone()
    except sqlite3.Error:
        return None  # not ours to judge: GDAL read it
    if found is None:
        return srs, None
    org, code, definition = found
    if definition and str(definition).strip().lower() not in ("", "undefined"):
        return srs, str(definition)
    return srs, f"{org}:{code}" if org and code is not None else None
