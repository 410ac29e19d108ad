"""Which points (communities, response units) lie nearest to a place, and how far.

Distances are great-circle (haversine on a sphere of the WGS84 mean radius): within a
county the difference from the ellipsoidal distance is below 0.5 %, far below what a
"nearby" list needs.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MEAN_EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius R1 of the WGS84 ellipsoid


def distances_m(
    lng: float, lat: float, points_lng: npt.ArrayLike, points_lat: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Great-circle distance in metres from ``(lng, lat)`` to each point."""
    x = np.radians(np.asarray(points_lng, dtype=np.float64))
    y = np.radians(np.asarray(points_lat, dtype=np.float64))
    x0, y0 = np.radians(lng), np.radians(lat)
    a = np.sin((y - y0) / 2) ** 2 + np.cos(y0) * np.cos(y) * np.sin((x - x0) / 2) ** 2
    return 2 * MEAN_EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def nearest(
    lng: float,
    lat: float,
    points_lng: npt.ArrayLike,
    points_lat: npt.ArrayLike,
    *,
    k: int,
    max_m: float = np.inf,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Positions and distances of the ``k`` nearest points within ``max_m`` metres.

    Parameters
    ----------
    lng, lat : float
        The place, WGS84 degrees.
    points_lng, points_lat : array-like of float
        The points.
    k : int
        At most this many are returned.
    max_m : float
        Points farther than this are left out.

    Returns
    -------
    positions : ndarray of int64
        Positions in the input arrays, nearest first (ties by position).
    distances : ndarray of float64
        Their distances in metres.
    """
    d = distances_m(lng, lat, points_lng, points_lat)
    order = np.lexsort((np.arange(d.size), d))
    order = order[d[order] <= max_m][: max(k, 0)]
    return order.astype(np.int64), d[order]
