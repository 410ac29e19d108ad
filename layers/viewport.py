"""What a map view needs from a layer: the H3 resolution for a zoom, and the cells in view.

A county seen whole needs coarse hexagons and a street needs fine ones; sending 44,000
res-9 cells to a screen that shows 900 res-7 ones wastes the network and the browser.
So the resolution follows the zoom (:data:`ZOOM_RES`), and only cells whose centre lies
in the view — widened by a margin and snapped outwards to the web-map tile grid, so a
small pan asks the same question again and a cache can answer it — are sent.

Zoom levels are those of web maps (Leaflet, 256-pixel tiles): at zoom ``z`` the world is
``256·2^z`` pixels wide. At 31° N one pixel at zoom 9 is ≈ 262 m, so a res-7 hexagon
(edge ≈ 1.4 km) is ≈ 10 pixels across; each step below keeps hexagons 6–20 pixels wide.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

#: (lowest zoom, resolution): the resolution for zooms from that level up to the next.
ZOOM_RES: Final[tuple[tuple[int, int], ...]] = (
    (0, 7),  # zoom <= 9: the county — res 7, edge ≈ 1.4 km
    (10, 8),  # zoom 10: several townships — res 8, edge ≈ 530 m
    (11, 9),  # zoom 11-12: a precinct — res 9, edge ≈ 200 m
    (13, 10),  # zoom 13-14: a grid — res 10, edge ≈ 76 m
    (15, 11),  # zoom >= 15: streets — res 11, edge ≈ 29 m (the cubes' base resolution)
)

#: Share of the view's width and height added on every side before snapping.
DEFAULT_MARGIN: Final[float] = 0.25

Bounds = tuple[float, float, float, float]
"""``(south, west, north, east)`` in WGS84 degrees."""


def zoom_to_res(zoom: float | None, *, default: int = 7) -> int:
    """The H3 resolution to draw at a map zoom level (see :data:`ZOOM_RES`).

    Parameters
    ----------
    zoom : float or None
        Leaflet zoom; fractional zooms (``zoomSnap`` 0.25) count as their floor. None
        (the map has not reported a zoom yet) gives ``default``.
    default : int
        Resolution when the zoom is unknown.

    Returns
    -------
    int
        An H3 resolution from 7 to 11.
    """
    if zoom is None or not math.isfinite(float(zoom)):
        return default
    z = math.floor(float(zoom))
    res = ZOOM_RES[0][1]
    for lowest, r in ZOOM_RES:
        if z >= lowest:
            res = r
    return res


def _lng_to_x(lng: float, n: int) -> float:
    return (lng + 180.0) / 360.0 * n


def _lat_to_y(lat: float, n: int) -> float:
    lat = max(min(lat, 85.0511), -85.0511)
    rad = math.radians(lat)
    return (1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n


def _x_to_lng(x: float, n: int) -> float:
    return x / n * 360.0 - 180.0


def _y_to_lat(y: float, n: int) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * y / n))))


def snap_bounds(bounds: Bounds, *, zoom: float, margin: float = DEFAULT_MARGIN) -> Bounds:
    """The view widened by ``margin`` and snapped outwards to the tile grid of ``zoom``.

    Two views that differ by a small pan give the same snapped bounds, so the cells in
    them can be cached under those bounds.

    Parameters
    ----------
    bounds : tuple of float
        ``(south, west, north, east)`` of the view, WGS84 degrees.
    zoom : float
        The map's zoom; the tile grid is that of its floor.
    margin : float
        Share of the view's width (height) added left and right (top and bottom).

    Returns
    -------
    tuple of float
        ``(south, west, north, east)``, containing the widened view, with every edge on a
        tile boundary of zoom ``floor(zoom)``.
    """
    south, west, north, east = (float(v) for v in bounds)
    if not (south <= north and west <= east):
        raise ValueError(f"bounds must be (south, west, north, east), got {bounds}")
    if margin < 0:
        raise ValueError("margin must not be negative")
    dlat, dlng = (north - south) * margin, (east - west) * margin
    south, north = max(south - dlat, -85.0511), min(north + dlat, 85.0511)
    west, east = max(west - dlng, -180.0), min(east + dlng, 180.0)
    n = 2 ** max(0, math.floor(float(zoom)))
    # A tolerance of 1e-6 tile keeps an edge already on the grid where it is, despite
    # the rounding of the Mercator round trip.
    eps = 1e-6
    x0, x1 = math.floor(_lng_to_x(west, n) + eps), math.ceil(_lng_to_x(east, n) - eps)
    y0, y1 = math.floor(_lat_to_y(north, n) + eps), math.ceil(_lat_to_y(south, n) - eps)
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    return (_y_to_lat(y1, n), _x_to_lng(x0, n), _y_to_lat(y0, n), _x_to_lng(x1, n))


def in_bounds(
    lng: npt.ArrayLike, lat: npt.ArrayLike, bounds: Bounds | None
) -> npt.NDArray[np.bool_]:
    """Which points (cell centres) lie inside ``bounds`` (edges included).

    Parameters
    ----------
    lng, lat : array-like of float
        WGS84 degrees, same length.
    bounds : tuple of float or None
        ``(south, west, north, east)``; None means everywhere.

    Returns
    -------
    numpy.ndarray of bool
    """
    x = np.asarray(lng, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    if bounds is None:
        return np.ones(x.shape, dtype=bool)
    south, west, north, east = bounds
    return (y >= south) & (y <= north) & (x >= west) & (x <= east)
