"""The coordinate systems an export can be written in, and moving hexagons into them.

Everything inside the project is WGS84; an export converts the hexagons' vertices, one by
one, with :func:`geodata.datum.from_wgs84` — the same function every import uses in
reverse. A hexagon's edges stay straight lines between its converted vertices.

GCJ-02 (AMap/Gaode, Tencent) is no datum that PROJ knows: it is WGS84 shifted by a fixed,
deliberately obscure formula. An export in GCJ-02 converts the vertices with that formula
and labels the file with a geographic CRS *named* "GCJ-02" on the WGS 84 ellipsoid
(:data:`GCJ02_CRS`): GIS software reads it as longitude/latitude degrees and draws it
where AMap tiles are drawn, and anyone who looks at the layer's CRS (or the Shapefile's
``.prj``, the metadata, the sidecar) sees "GCJ-02" rather than a WGS84 that it is not.
Such a file must not be overlaid on true WGS84 data without converting it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pyproj
import shapely

from geodata.datum import from_wgs84

GCJ02_NAME: Final = "GCJ-02 (AMap/Gaode offset of WGS 84)"

GCJ02_CRS: Final = pyproj.CRS.from_json_dict(
    {
        # The PROJJSON version this follows: an identifier, never fetched.
        "$schema": "https://proj.org/schemas/v0.7/projjson.schema.json",
        "type": "GeographicCRS",
        "name": GCJ02_NAME,
        "datum": {
            "type": "GeodeticReferenceFrame",
            "name": "World Geodetic System 1984",
            "ellipsoid": {
                "name": "WGS 84",
                "semi_major_axis": 6378137,
                "inverse_flattening": 298.257223563,
            },
        },
        "coordinate_system": {
            "subtype": "ellipsoidal",
            "axis": [
                {
                    "name": "Geodetic longitude",
                    "abbreviation": "Lon",
                    "direction": "east",
                    "unit": "degree",
                },
                {
                    "name": "Geodetic latitude",
                    "abbreviation": "Lat",
                    "direction": "north",
                    "unit": "degree",
                },
            ],
        },
        "remarks": "GCJ-02 is not in PROJ: coordinates are WGS 84 shifted by the published "
        "GCJ-02 formula. Overlay on AMap/Gaode or Tencent maps only.",
    }
)
"""The CRS written into a GCJ-02 file: longitude/latitude degrees, named GCJ-02."""


@dataclass(frozen=True)
class ExportCrs:
    """A coordinate system offered for exports.

    Attributes
    ----------
    key : str
        What a user types and what the metadata records (``"EPSG:4545"``, ``"GCJ-02"``).
    zh, en : str
        Names for people.
    datum : str
        The datum argument of :func:`geodata.datum.from_wgs84`.
    crs : pyproj.CRS
        The CRS written into the file.
    geographic : bool
        Degrees (longitude/latitude) rather than metres.
    """

    key: str
    zh: str
    en: str
    datum: str
    crs: pyproj.CRS
    geographic: bool

    @property
    def epsg(self) -> int | None:
        """The EPSG code, None for GCJ-02."""
        code: int | None = self.crs.to_epsg() if self.key.startswith("EPSG:") else None
        return code

    def describe(self) -> dict[str, object]:
        """The CRS block of an export's metadata."""
        block: dict[str, object] = {
            "key": self.key,
            "name": {"zh": self.zh, "en": self.en},
            "epsg": self.epsg,
            "units": "degree" if self.geographic else "metre",
            "axis_order": "longitude, latitude" if self.geographic else "easting, northing",
            "wkt": self.crs.to_wkt(),
        }
        if self.key == "GCJ-02":
            block["note"] = (
                "GCJ-02 has no PROJ/EPSG definition. Coordinates are WGS84 shifted by the "
                "published GCJ-02 formula; the file's CRS is a longitude/latitude CRS named "
                "GCJ-02 on the WGS 84 ellipsoid. Overlay on AMap/Gaode or Tencent maps; "
                "convert back before combining with WGS84 or CGCS2000 data."
            )
        return block


def _epsg(code: int, zh: str, en: str, *, datum: str | None = None) -> ExportCrs:
    crs = pyproj.CRS.from_epsg(code)
    return ExportCrs(
        key=f"EPSG:{code}",
        zh=zh,
        en=en,
        datum=datum or f"EPSG:{code}",
        crs=crs,
        geographic=crs.is_geographic,
    )


CRS_CHOICES: Final[dict[str, ExportCrs]] = {
    c.key: c
    for c in (
        _epsg(4326, "WGS84 经纬度", "WGS 84 longitude/latitude", datum="wgs84"),
        _epsg(4490, "CGCS2000 经纬度", "CGCS2000 longitude/latitude", datum="cgcs2000"),
        _epsg(
            4545,
            "CGCS2000 高斯-克吕格 3度带 中央经线108°E（不带带号）",
            "CGCS2000 / 3-degree Gauss-Kruger CM 108E (no zone prefix)",
        ),
        _epsg(
            4524,
            "CGCS2000 高斯-克吕格 3度带 第36带（带带号）",
            "CGCS2000 / 3-degree Gauss-Kruger zone 36 (zone prefix)",
        ),
        _epsg(3857, "Web 墨卡托", "Web Mercator"),
        ExportCrs(
            key="GCJ-02",
            zh="GCJ-02 火星坐标（高德/腾讯）",
            en="GCJ-02 (AMap/Gaode, Tencent)",
            datum="gcj02",
            crs=GCJ02_CRS,
            geographic=True,
        ),
    )
}
"""Every CRS an export can be written in, by key."""

_ALIASES: Final[dict[str, str]] = {
    "wgs84": "EPSG:4326",
    "4326": "EPSG:4326",
    "cgcs2000": "EPSG:4490",
    "4490": "EPSG:4490",
    "4545": "EPSG:4545",
    "4524": "EPSG:4524",
    "3857": "EPSG:3857",
    "webmercator": "EPSG:3857",
    "gcj02": "GCJ-02",
}


def export_crs(text: str) -> ExportCrs:
    """The export CRS a user named: ``"EPSG:4545"``, ``"4545"``, ``"wgs84"``, ``"GCJ-02"``...

    Raises
    ------
    ValueError
        Naming the CRSs on offer, when ``text`` is none of them.
    """
    key = text.strip().upper()
    if key in CRS_CHOICES:
        return CRS_CHOICES[key]
    alias = key.lower().replace("-", "").replace("_", "").replace(" ", "").removeprefix("epsg:")
    if alias in _ALIASES:
        return CRS_CHOICES[_ALIASES[alias]]
    raise ValueError(f"unknown CRS {text!r}; choose one of {', '.join(CRS_CHOICES)}")


def project_geometry(
    geometry: npt.NDArray[np.object_], target: ExportCrs
) -> npt.NDArray[np.object_]:
    """WGS84 geometries with every vertex converted to ``target``.

    Parameters
    ----------
    geometry : ndarray of shapely geometries
        In WGS84 longitude/latitude.
    target : ExportCrs
        The export CRS.

    Returns
    -------
    ndarray of shapely geometries
        New geometries; the input is not modified.
    """
    if target.key == "EPSG:4326":
        return np.asarray(geometry, dtype=object).copy()

    def convert(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> tuple[object, object]:
        out_x, out_y = from_wgs84(x, y, target.datum)
        if not (np.isfinite(out_x).all() and np.isfinite(out_y).all()):
            raise ValueError(f"some vertices cannot be expressed in {target.key}")
        return out_x, out_y

    result: npt.NDArray[np.object_] = shapely.transform(
        np.asarray(geometry, dtype=object), convert, interleaved=False
    )
    return result


def coordinate_decimals(target: ExportCrs) -> int:
    """Decimals written where a format writes coordinates as text (WKT, GeoJSON).

    9 decimals of a degree are 0.1 mm; 4 decimals of a metre are 0.1 mm: far inside the
    1 cm the project promises, and short enough to keep files small.
    """
    return 9 if target.geographic else 4
