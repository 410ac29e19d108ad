"""Raster basemap tiles: MBTiles packages (:mod:`~geodata.tiles.mbtiles`) and a renderer of
an area's land, divisions and names (:mod:`~geodata.tiles.render`, Pillow).

The dashboard serves the package ``basemap.mbtiles`` of the data directory
(:data:`PACKAGE_NAME`) from its own ``/tiles/z/x/y`` route.
"""

from __future__ import annotations

from typing import Final

from geodata.tiles.mbtiles import (
    DATUM_KEY,
    FORMATS,
    TilePackage,
    TilePackageError,
    media_type,
    open_package,
    tms_row,
    write_package,
)

PACKAGE_NAME: Final = "basemap.mbtiles"
"""The tile package's file name in the data directory."""

__all__ = [
    "DATUM_KEY",
    "FORMATS",
    "PACKAGE_NAME",
    "TilePackage",
    "TilePackageError",
    "media_type",
    "open_package",
    "tms_row",
    "write_package",
]
