"""A basemap of a data directory's own area: its land and precincts (and, if asked, their
names) as tiles.

``python -m geodata basemap [--data DIR]`` (and the demo builder) writes
``basemap.mbtiles`` (:data:`geodata.tiles.PACKAGE_NAME`) into the data directory, where
the dashboard serves it from its own ``/tiles/`` route: a light basemap with nothing from
outside. Zooms 8–13 over the area (for Xuanhan ~840 tiles, under 1 MB, ~2 s); the map
scales zoom 13 up beyond it. The geometry is the store's, WGS84, so are the tiles.

Names are not drawn by default: the dashboard writes the precinct, township and grid
names over the map itself (``dashboard.views.labels``: the user's scope only, placed
without overlap, sized for the wall), and names baked into the tiles would show twice,
a few hundred metres apart. ``labelled=True`` draws them, for a package used elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import geopandas as gpd
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from geodata.store import read_table
from geodata.tiles import DATUM_KEY, PACKAGE_NAME
from geodata.tiles.mbtiles import write_package
from geodata.tiles.render import Label, cjk_font, render_tiles

log = logging.getLogger(__name__)

ZOOMS: Final = range(8, 14)
MARGIN_DEG: Final = 0.02
"""Ground around the area's bounding box, in degrees (~2 km)."""


def _label_point(geom: BaseGeometry) -> Point:
    """Where a name goes: the pole of inaccessibility of the largest part."""
    part = max(shapely.get_parts(geom), key=lambda p: p.area)
    return polylabel(part, tolerance=1e-4)


def _labels(
    area: gpd.GeoDataFrame, precincts: gpd.GeoDataFrame, names: Mapping[str, str] | None
) -> list[Label]:
    """The area's name at zooms 8–9, each precinct's (or ``names[precinct_id]``) from 10,
    larger precincts first where two would overlap."""
    centre = _label_point(shapely.union_all(area.geometry.to_numpy()))
    labels = [Label(str(area["name"].iloc[0]), centre.x, centre.y, min_zoom=8, max_zoom=9, size=16)]
    # Square degrees: good enough to order by size.
    sizes = shapely.area(precincts.geometry.to_numpy())
    order = (-sizes).argsort(kind="stable").argsort()
    for code, name, geom, rank in zip(
        precincts["precinct_id"], precincts["name"], precincts.geometry, order, strict=True
    ):
        text = (names or {}).get(str(code), str(name))
        point = _label_point(geom)
        labels.append(Label(text, point.x, point.y, min_zoom=10, max_zoom=11, size=14, rank=rank))
        labels.append(Label(text, point.x, point.y, min_zoom=12, size=15, rank=rank))
    return labels


def build_area_basemap(
    data_dir: Path,
    *,
    labelled: bool = False,
    names: Mapping[str, str] | None = None,
    attribution: str = "",
) -> Path:
    """Render the basemap of ``data_dir``'s area into ``data_dir/basemap.mbtiles``.

    Parameters
    ----------
    data_dir : Path
        A data directory with the ``area`` and ``precincts`` tables.
    labelled : bool
        Draw the area's and the precincts' names into the tiles (default: no, the map
        names places itself).
    names : mapping of str to str, optional
        With ``labelled``: label per precinct id (e.g. the township a precinct covers);
        default the precinct's name.
    attribution : str
        Stored as the package's attribution (shown on the map).

    Returns
    -------
    Path
        The package written.
    """
    area = gpd.GeoDataFrame(read_table(data_dir, "area"))
    precincts = gpd.GeoDataFrame(read_table(data_dir, "precincts"))
    land = shapely.union_all(area.geometry.to_numpy())
    font = cjk_font() if labelled else None
    if labelled and font is None:
        log.warning("no CJK font found (apt-get install fonts-noto-cjk): basemap without names")
    west, south, east, north = land.bounds
    bounds = (west - MARGIN_DEG, south - MARGIN_DEG, east + MARGIN_DEG, north + MARGIN_DEG)
    tiles = render_tiles(
        area=land,
        divisions=list(precincts.geometry),
        labels=_labels(area, precincts, names) if labelled else [],
        zooms=ZOOMS,
        bounds=bounds,
        font=font,
    )
    path = Path(data_dir) / PACKAGE_NAME
    write_package(
        path,
        tiles,
        {
            "name": f"{area['name'].iloc[0]} basemap",
            "format": "png",
            "type": "baselayer",
            "version": "1",
            "bounds": ",".join(f"{v:.6f}" for v in bounds),
            "minzoom": str(ZOOMS[0]),
            "maxzoom": str(ZOOMS[-1]),
            "attribution": attribution,
            "description": "Rendered by geodata.tiles from the data directory's area and precincts.",
            DATUM_KEY: "WGS84",
        },
    )
    return path


__all__ = ["build_area_basemap"]
