"""The wall screen's map: the county on a dark ground, hexagons, precinct outlines.

No controls and no interaction (nobody touches a wall): no zoom buttons, no dragging, no
scroll or keyboard zoom. The hexagons are built in the browser from H3 ids by the map
page's ``window.pnm.buildHexes`` and painted on one canvas by ``window.pnm.hexLayer``; only the view's
``hideout`` and cells change as the wall rotates.
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash_extensions.javascript import Namespace

from dashboard import ids, tiles
from dashboard.settings import Settings

EMPTY: dict[str, Any] = {"type": "FeatureCollection", "features": []}

# Leaflet panes of the wall, bottom to top (z-order in assets/wall.css).
PANE_LAND = "pnm-wall-land"
PANE_HEXES = "pnm-wall-hexes"
PANE_LINES = "pnm-wall-lines"
PANE_LABELS = "pnm-wall-labels"

LAND_STYLE = {"fill": True, "fillColor": "#1e293b", "fillOpacity": 1.0, "stroke": False}
AREA_STYLE = {"color": "#e2e8f0", "weight": 3, "fill": False}
PRECINCT_STYLE = {"color": "#94a3b8", "weight": 1.2, "opacity": 0.8, "fill": False}

NO_INTERACTION: dict[str, Any] = {
    "zoomControl": False,
    "dragging": False,
    "scrollWheelZoom": False,
    "doubleClickZoom": False,
    "touchZoom": False,
    "boxZoom": False,
    "keyboard": False,
}


def _centre(bounds: list[list[float]]) -> list[float]:
    (south, west), (north, east) = bounds
    return [(south + north) / 2, (west + east) / 2]


def wall_map(
    *,
    outlines: dict[str, dict[str, Any]],
    bounds: list[list[float]],
    settings: Settings,
    labels: dict[str, Any] | None = None,
) -> dl.MapContainer:
    """The wall's map, fitted to ``bounds`` (``[[south, west], [north, east]]``).

    Parameters
    ----------
    outlines : dict
        GeoJSON FeatureCollections ``area`` and ``precincts`` (grids are too fine to
        read across a room at county scale).
    bounds : list
        What the map shows: the county, or a scope's precincts.
    settings : Settings
        The basemap: a tile server or the app's own tile package (:mod:`dashboard.tiles`).
    labels : dict, optional
        The precinct names (:func:`dashboard.views.labels.label_data`), so a hot spot's
        precinct reads across the room.
    """
    lines = [
        dl.GeoJSON(data=outlines["precincts"], style=PRECINCT_STYLE, interactive=False),
        dl.GeoJSON(data=outlines["area"], style=AREA_STYLE, interactive=False),
    ]
    base: list[Any]
    basemap = tiles.basemap(settings)
    if basemap.tiled:
        base = [basemap.layer()]
    else:
        land = dl.GeoJSON(data=outlines["area"], style=LAND_STYLE, interactive=False)
        base = [dl.Pane(land, name=PANE_LAND)]
    hexes = dl.GeoJSON(
        id=ids.WALL_HEXES,
        data=EMPTY,
        pointToLayer=Namespace("pnm")("hexLayer"),
        hideout={"colours": [], "breaks": None},
        interactive=False,
    )
    names = dl.GeoJSON(
        id=ids.WALL_LABELS,
        data=labels or EMPTY,
        pointToLayer=Namespace("pnm")("labelLayer"),
        interactive=False,
    )
    return dl.MapContainer(
        [
            *base,
            dl.Pane(hexes, name=PANE_HEXES),
            dl.Pane(lines, name=PANE_LINES),
            dl.Pane(names, name=PANE_LABELS),
        ],
        id=ids.WALL_MAP,
        bounds=bounds,
        # dash-leaflet 1.1.3 tracks the viewport against `center` and fails without one.
        center=_centre(bounds),
        preferCanvas=True,
        attributionControl=basemap.tiled,
        zoomSnap=0.05,
        trackViewport=False,
        className="pnm-wall-map",
        **NO_INTERACTION,
    )


__all__ = ["EMPTY", "wall_map"]
