"""The real geography of Xuanhan County (宣汉县, adcode 511722), extracted from public sources.

``boundary.geojson`` (the county boundary, WGS84) and ``townships.csv`` (the 37 township
codes and names) are written by :mod:`geodata.xuanhan.extract`; ``SOURCE.md`` states where
they come from and under which licences. Only the demo data set uses them: a bureau
elsewhere imports its own area.
"""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, shape

HERE = Path(__file__).resolve().parent
BOUNDARY_PATH = HERE / "boundary.geojson"
TOWNSHIPS_PATH = HERE / "townships.csv"
ADCODE = "511722"
NAME = "宣汉县"

__all__ = ["ADCODE", "BOUNDARY_PATH", "NAME", "TOWNSHIPS_PATH", "boundary", "townships"]


@lru_cache(maxsize=1)
def boundary() -> MultiPolygon:
    """The county boundary in WGS84 longitude/latitude, as committed in ``boundary.geojson``.

    Returns
    -------
    MultiPolygon
        Exterior rings counter-clockwise (RFC 7946).
    """
    collection = json.loads(BOUNDARY_PATH.read_text(encoding="utf-8"))
    geom = shape(collection["features"][0]["geometry"])
    if not isinstance(geom, MultiPolygon):
        geom = MultiPolygon([geom])
    shapely.prepare(geom)
    return geom


def townships() -> list[tuple[str, str]]:
    """The 37 townships of the county as ``(code, name)`` pairs, in code order.

    Returns
    -------
    list of tuple of str
        Nine-digit township codes (e.g. ``"511722001"``) and names (``"东乡街道"``).
    """
    with TOWNSHIPS_PATH.open(encoding="utf-8", newline="") as f:
        return [(row["code"], row["name"]) for row in csv.DictReader(f)]
