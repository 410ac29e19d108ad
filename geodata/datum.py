"""Datums: bring coordinates to WGS84 (EPSG:4326) and back.

Coordinates reach the bureau in several datums (see DOMAIN.md): GPS devices give WGS84,
national surveying gives CGCS2000 (EPSG:4490) or its Gauss–Krüger projections (e.g.
EPSG:4545, EPSG:4524), AMap/Gaode and Tencent give GCJ-02, Baidu gives BD-09. Everything
inside the project is WGS84; this module converts at the edges.

GCJ-02 and BD-09 are not in PROJ. They are fixed published algorithms, written here from
their published definitions:

* GCJ-02 ("Mars coordinates"): a smooth, deliberately obscure offset of 300–700 m computed
  on the Krasovsky ellipsoid. Outside China (the published bounding box, longitude outside
  72.004..137.8347 or latitude outside 0.8293..55.8271) GCJ-02 equals WGS84.
* BD-09: Baidu's further offset of GCJ-02 (a small polar-coordinate perturbation and a
  shift of +0.0065° longitude, +0.006° latitude). It is applied everywhere, as in the
  published formula.

Only the forward directions have closed forms. The usual one-step inverses are wrong by
up to ~5 m for GCJ-02 (median ~0.7 m over mainland China) and ~0.2 m for BD-09, enough to move a point to a neighbouring H3 cell at fine resolutions, so the
inverses here iterate on the forward function until it reproduces the input to 1e-10°
(about 0.01 mm), far inside the 0.01 m the project promises.

All functions take longitude first, accept scalars, lists or arrays (broadcast together),
and return float64 arrays. A point with a NaN coordinate comes out as (NaN, NaN), without
an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

FloatArray = NDArray[np.float64]
Datum = str | CRS
_Forward = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]

__all__ = [
    "DATUMS",
    "DatumError",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "is_known_datum",
    "out_of_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

DATUMS: Final = ("wgs84", "cgcs2000", "gcj02", "bd09")
"""Datum names understood besides any CRS that pyproj knows."""

# GCJ-02 constants: the Krasovsky 1940 ellipsoid (semi-major axis and first eccentricity
# squared), as in the published algorithm.
_KRASOVSKY_A: Final = 6378245.0
_KRASOVSKY_EE: Final = 0.00669342162296594323

# BD-09 constants from Baidu's published formula.
_BD_X_PI: Final = np.pi * 3000.0 / 180.0
_BD_DLNG: Final = 0.0065
_BD_DLAT: Final = 0.006

# The published "out of China" box of the GCJ-02 algorithm.
_CHINA_LNG: Final = (72.004, 137.8347)
_CHINA_LAT: Final = (0.8293, 55.8271)

# Iterated inverses: stop when the forward function reproduces the input to this many
# degrees (1e-10° ≈ 0.011 mm), or after this many steps. Each step shrinks the error by
# the offset's slope (< 0.01 for GCJ-02, ~0.001 for BD-09), so about 5 steps suffice.
_INVERSE_TOL_DEG: Final = 1e-10
_INVERSE_MAX_ITER: Final = 50

_WGS84_CRS: Final = "EPSG:4326"
_CGCS2000_CRS: Final = "EPSG:4490"


class DatumError(ValueError):
    """A datum that is neither a known name nor a horizontal CRS that pyproj knows."""


# --- array plumbing -----------------------------------------------------------------------


def _as_points(lng: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Broadcast two coordinate inputs to float64 arrays of one shape (fresh copies)."""
    x, y = np.broadcast_arrays(np.asarray(lng, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)


def _nan_whole_points(
    x: FloatArray, y: FloatArray, bad: NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray]:
    """Both coordinates NaN where ``bad`` (a half-missing point is no point), as arrays."""
    return (
        np.asarray(np.where(bad, np.nan, x), dtype=np.float64),
        np.asarray(np.where(bad, np.nan, y), dtype=np.float64),
    )


def _missing(x: FloatArray, y: FloatArray) -> NDArray[np.bool_]:
    return np.isnan(x) | np.isnan(y)


# --- GCJ-02 -------------------------------------------------------------------------------


def out_of_china(lng: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points lie outside the published GCJ-02 box, where GCJ-02 equals WGS84.

    Parameters
    ----------
    lng, lat : array_like
        Longitude and latitude in degrees.

    Returns
    -------
    numpy.ndarray of bool
        True outside the box (and for NaN coordinates).
    """
    x, y = _as_points(lng, lat)
    inside = (
        (x >= _CHINA_LNG[0]) & (x <= _CHINA_LNG[1]) & (y >= _CHINA_LAT[0]) & (y <= _CHINA_LAT[1])
    )
    return np.asarray(~inside)


def _gcj02_offset(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The published GCJ-02 offset (degrees) at WGS84 points, zero outside China."""
    x = lng - 105.0
    y = lat - 35.0
    # The published polynomials with sine terms; their results are in metres on the
    # Krasovsky ellipsoid before the conversion to degrees below.
    shared = 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)
    t_lat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + shared * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    t_lng = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + shared * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (t_lat * 180.0) / (
        (_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi
    )
    d_lng = (t_lng * 180.0) / (_KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    outside = out_of_china(lng, lat)
    return np.where(outside, 0.0, d_lng), np.where(outside, 0.0, d_lat)


def _gcj02_forward(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    d_lng, d_lat = _gcj02_offset(lng, lat)
    return lng + d_lng, lat + d_lat


def _bd09_forward(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.hypot(lng, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lng) + 0.000003 * np.cos(lng * _BD_X_PI)
    return z * np.cos(theta) + _BD_DLNG, z * np.sin(theta) + _BD_DLAT


def _bd09_one_step_inverse(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Baidu's published approximate inverse: a good start for the iteration (~1 m off)."""
    x = lng - _BD_DLNG
    y = lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: _Forward,
    target_lng: FloatArray,
    target_lat: FloatArray,
    start_lng: FloatArray,
    start_lat: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(p) == target`` by fixed-point iteration from ``start``.

    The forward maps here are the identity plus a slowly varying offset, so the step
    ``p -= forward(p) - target`` contracts quickly. Only points not yet converged are
    evaluated again; the iteration count is bounded so pathological points (on the edge of
    the GCJ-02 box, where the offset jumps) cannot loop forever.
    """
    shape = target_lng.shape
    t_lng, t_lat = target_lng.reshape(-1), target_lat.reshape(-1)
    lng, lat = start_lng.reshape(-1).copy(), start_lat.reshape(-1).copy()
    active = np.flatnonzero(np.isfinite(lng) & np.isfinite(lat))
    for _ in range(_INVERSE_MAX_ITER):
        if active.size == 0:
            break
        f_lng, f_lat = forward(lng[active], lat[active])
        err_lng = f_lng - t_lng[active]
        err_lat = f_lat - t_lat[active]
        lng[active] -= err_lng
        lat[active] -= err_lat
        still = (np.abs(err_lng) > _INVERSE_TOL_DEG) | (np.abs(err_lat) > _INVERSE_TOL_DEG)
        active = active[still]
    return lng.reshape(shape), lat.reshape(shape)


def wgs84_to_gcj02(lng: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 longitude/latitude to GCJ-02 (AMap/Gaode, Tencent).

    Parameters
    ----------
    lng, lat : array_like
        WGS84 longitude and latitude in degrees; scalars, lists or arrays that broadcast.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lng, lat)`` as float64 arrays. Points outside China are returned
        unchanged (GCJ-02 equals WGS84 there).
    """
    x, y = _as_points(lng, lat)
    gx, gy = _gcj02_forward(x, y)
    return _nan_whole_points(gx, gy, _missing(x, y))


def gcj02_to_wgs84(lng: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude to WGS84, exactly (iterated inverse).

    Parameters
    ----------
    lng, lat : array_like
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 ``(lng, lat)`` whose GCJ-02 transform reproduces the input to 1e-10°
        (a round trip within 0.01 mm). Points outside China are returned unchanged.
    """
    x, y = _as_points(lng, lat)
    wx, wy = _invert(_gcj02_forward, x, y, x, y)
    return _nan_whole_points(wx, wy, _missing(x, y))


def gcj02_to_bd09(lng: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu).

    Parameters
    ----------
    lng, lat : array_like
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lng, lat)`` by Baidu's published formula.
    """
    x, y = _as_points(lng, lat)
    bx, by = _bd09_forward(x, y)
    return _nan_whole_points(bx, by, _missing(x, y))


def bd09_to_gcj02(lng: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude to GCJ-02, exactly (iterated inverse).

    Parameters
    ----------
    lng, lat : array_like
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lng, lat)`` whose BD-09 transform reproduces the input to 1e-10°.
    """
    x, y = _as_points(lng, lat)
    sx, sy = _bd09_one_step_inverse(x, y)
    gx, gy = _invert(_bd09_forward, x, y, sx, sy)
    return _nan_whole_points(gx, gy, _missing(x, y))


def wgs84_to_bd09(lng: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 longitude/latitude to BD-09 (through GCJ-02).

    Parameters
    ----------
    lng, lat : array_like
        WGS84 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lng, lat)``.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))


def bd09_to_wgs84(lng: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude to WGS84 (through GCJ-02, both steps exact).

    Parameters
    ----------
    lng, lat : array_like
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 ``(lng, lat)``.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))


# --- datums by name or CRS ----------------------------------------------------------------

_NAMED: Final = {
    "wgs84": "wgs84",
    "epsg:4326": "wgs84",
    "cgcs2000": "cgcs2000",
    "gcj02": "gcj02",
    "bd09": "bd09",
}


def _named(datum: Datum) -> str | None:
    """The canonical name for a named datum (``"GCJ-02"`` → ``"gcj02"``), else None."""
    if not isinstance(datum, str):
        return None
    key = datum.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    return _NAMED.get(key)


def _crs(datum: Datum) -> CRS:
    """The horizontal CRS for ``datum``, or a DatumError that names it."""
    if isinstance(datum, CRS):
        crs = datum
    elif isinstance(datum, str) and datum.strip():
        try:
            crs = CRS.from_user_input(datum.strip())
        except CRSError as exc:
            raise DatumError(_unknown_message(datum)) from exc
    else:
        raise DatumError(_unknown_message(datum))
    if not (crs.is_geographic or crs.is_projected):
        raise DatumError(
            f"datum {datum!r} is a {crs.type_name}, not a horizontal CRS: "
            "coordinates need a geographic or projected CRS"
        )
    return crs


def _unknown_message(datum: object) -> str:
    return (
        f"unknown datum {datum!r}: use one of {', '.join(DATUMS)} "
        "or a CRS that pyproj knows (e.g. 'EPSG:4545', 'EPSG:4524', 'ESRI:102025')"
    )


def is_known_datum(datum: Datum) -> bool:
    """Whether :func:`to_wgs84` and :func:`from_wgs84` understand ``datum``.

    Parameters
    ----------
    datum : str or pyproj.CRS
        A name in :data:`DATUMS` (case-insensitive; ``"GCJ-02"`` is fine) or a horizontal
        CRS that pyproj accepts.

    Returns
    -------
    bool
    """
    if _named(datum) is not None:
        return True
    try:
        _crs(datum)
    except DatumError:
        return False
    return True


@lru_cache(maxsize=64)
def _transformer(source: str | CRS, target: str | CRS) -> Transformer:
    """A cached pyproj transformer, longitude/easting first whatever the CRS axis order."""
    return Transformer.from_crs(source, target, always_xy=True)


def _pyproj_transform(
    source: str | CRS, target: str | CRS, x: ArrayLike, y: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    a, b = _as_points(x, y)
    out_a, out_b = _transformer(source, target).transform(a, b)
    out_a = np.array(out_a, dtype=np.float64).reshape(a.shape)
    out_b = np.array(out_b, dtype=np.float64).reshape(b.shape)
    # PROJ marks points it cannot transform with inf; here they become NaN like missing input.
    bad = _missing(a, b) | ~np.isfinite(out_a) | ~np.isfinite(out_b)
    return _nan_whole_points(out_a, out_b, bad)


def _crs_key(datum: Datum) -> str | CRS:
    crs = _crs(datum)  # validates, with a clear message
    return datum.strip() if isinstance(datum, str) else crs


def to_wgs84(x: ArrayLike, y: ArrayLike, datum: Datum) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates in ``datum`` to WGS84 longitude/latitude.

    Parameters
    ----------
    x, y : array_like
        Longitude and latitude in degrees for geographic datums; easting and northing in
        metres for projected CRSs (e.g. Gauss–Krüger EPSG:4545 without the zone prefix,
        EPSG:4524 with the zone number 36 in front of the easting).
    datum : str or pyproj.CRS
        ``"wgs84"``, ``"cgcs2000"``, ``"gcj02"``, ``"bd09"`` (case-insensitive), or any
        horizontal CRS that pyproj accepts (``"EPSG:4545"``, ``"ESRI:102025"``, WKT, ...).
        ``"cgcs2000"`` is EPSG:4490; PROJ treats it as equal to WGS84, which is true to a
        few centimetres, well below what the map can show.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 ``(lng, lat)`` as float64 arrays, shaped like the broadcast inputs. Points
        with a NaN coordinate, or that the CRS cannot transform, come out as NaN.

    Raises
    ------
    DatumError
        If ``datum`` is neither a known name nor a horizontal CRS that pyproj knows.
    """
    name = _named(datum)
    if name == "wgs84":
        a, b = _as_points(x, y)
        return _nan_whole_points(a, b, _missing(a, b))
    if name == "gcj02":
        return gcj02_to_wgs84(x, y)
    if name == "bd09":
        return bd09_to_wgs84(x, y)
    source = _CGCS2000_CRS if name == "cgcs2000" else _crs_key(datum)
    return _pyproj_transform(source, _WGS84_CRS, x, y)


def from_wgs84(lng: ArrayLike, lat: ArrayLike, datum: Datum) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 longitude/latitude to ``datum`` (the inverse of :func:`to_wgs84`).

    Exports use it to hand planners coordinates in the system their software expects.

    Parameters
    ----------
    lng, lat : array_like
        WGS84 longitude and latitude in degrees.
    datum : str or pyproj.CRS
        As for :func:`to_wgs84`.

    Returns
    -------
    tuple of numpy.ndarray
        ``(x, y)`` in ``datum``: longitude/latitude for geographic datums, easting/northing
        for projected CRSs.

    Raises
    ------
    DatumError
        If ``datum`` is neither a known name nor a horizontal CRS that pyproj knows.
    """
    name = _named(datum)
    if name == "wgs84":
        a, b = _as_points(lng, lat)
        return _nan_whole_points(a, b, _missing(a, b))
    if name == "gcj02":
        return wgs84_to_gcj02(lng, lat)
    if name == "bd09":
        return wgs84_to_bd09(lng, lat)
    target = _CGCS2000_CRS if name == "cgcs2000" else _crs_key(datum)
    return _pyproj_transform(_WGS84_CRS, target, lng, lat)
