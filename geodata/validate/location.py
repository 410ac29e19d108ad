"""Locations: coordinates and polygons checked, converted to WGS84 and placed in the area.

Nothing is repaired. A point whose latitude and longitude are swapped is reported as
``swapped_lat_lng`` (the test: it lies outside, and would lie inside swapped); a polygon
that is not valid is reported as ``invalid_geometry`` with GEOS's reason, not passed
through ``make_valid``, whose guess at what was meant may be wrong.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Final

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from geodata.datum import to_wgs84
from geodata.validate.area import Area
from geodata.validate.cells import as_numbers
from geodata.validate.reasons import BoolArray, Flags, FloatArray, show

MAX_VERTICES: Final = 1_000_000
"""Largest polygon accepted, in vertices: a county boundary at survey precision has ~10^5."""

MIN_SHARE_INSIDE: Final = 0.5
"""Share of a polygon's surface that must lie in the (widened) area. A grid or precinct
digitised a little differently from the county outline is almost all inside; one that
is mostly outside (a whole-world rectangle) is a mistake, and would make every cell of
the world part of a chief's scope."""

_GEOGRAPHIC_NAMES: Final = {"wgs84", "cgcs2000", "gcj02", "bd09", "epsg:4326", "epsg:4490"}
_POINT, _MULTIPOINT, _POLYGON, _MULTIPOLYGON = 0, 4, 3, 6  # shapely geometry type ids

Shown = Callable[[int], str]


def is_geographic(datum: str) -> bool:
    """Whether coordinates in ``datum`` are degrees (lng/lat) rather than metres.

    Parameters
    ----------
    datum : str
        A datum name (``"gcj02"``, ...) or a CRS string pyproj accepts.

    Returns
    -------
    bool
    """
    if re.sub(r"[-_\s]", "", datum).lower() in _GEOGRAPHIC_NAMES:
        return True
    return bool(CRS.from_user_input(datum).is_geographic)


def _at(n: int, idx: NDArray[np.intp], mask: BoolArray) -> BoolArray:
    """A mask over ``n`` rows, true at ``idx[mask]``."""
    where = np.zeros(n, dtype=bool)
    where[idx[mask]] = True
    return where


def _per_geometry(owner: NDArray[np.intp], good: BoolArray, m: int) -> BoolArray:
    """Whether all coordinates of each of ``m`` geometries are ``good``."""
    return np.asarray(np.bincount(owner[~good], minlength=m) == 0, dtype=bool)


class Locator:
    """Convert and place the locations of one file.

    Parameters
    ----------
    datum : str
        Datum of the file's coordinates.
    area : Area, optional
        Points must lie in it, polygons touch it. Without it, only the valid ranges of
        longitude and latitude apply.
    """

    def __init__(self, datum: str, area: Area | None) -> None:
        self.datum = datum
        self.geographic = is_geographic(datum)
        self.area = area

    # -- points ------------------------------------------------------------------------

    def points_from_columns(
        self, flags: Flags, rx: pd.Series, ry: pd.Series, *, required: bool
    ) -> tuple[FloatArray, FloatArray, Shown]:
        """Read x/y columns; flag missing, non-numeric and NaN/Inf coordinates."""
        x, mx, nx, fx = as_numbers(rx)
        y, my, ny, fy = as_numbers(ry)

        def shown(i: int) -> str:
            return f"({rx.iloc[i]}, {ry.iloc[i]})"

        if required:
            flags.set(
                mx | my,
                "missing_required",
                lambda i: f"经纬度为空：{shown(i)} / coordinates missing: {shown(i)}",
            )
        else:
            # An optional location is all or nothing: half a point is a mistake.
            flags.set(
                mx ^ my,
                "missing_required",
                lambda i: f"经纬度只填了一个：{shown(i)} / only one coordinate given: {shown(i)}",
            )
        flags.set(
            nx | ny,
            "non_numeric_coords",
            lambda i: f"经纬度不是数字：{shown(i)} / coordinates are not numbers: {shown(i)}",
        )
        flags.set(
            fx | fy,
            "nan_or_inf_coords",
            lambda i: (
                f"经纬度为 NaN 或无穷大：{shown(i)} / coordinates are NaN or infinite: {shown(i)}"
            ),
        )
        return x, y, shown

    def points_from_geometry(
        self, flags: Flags, geoms: NDArray[np.object_], *, required: bool
    ) -> tuple[FloatArray, FloatArray, Shown]:
        """Take x/y from point geometries; flag missing, non-point and NaN/Inf ones."""
        empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        if required:
            flags.set(empty, "missing_required", lambda i: "没有几何（点） / no geometry (point)")
        kind = shapely.get_type_id(geoms)
        single = (kind == _MULTIPOINT) & (shapely.get_num_geometries(geoms) == 1)
        not_point = ~empty & (kind != _POINT) & ~single
        flags.set(
            not_point,
            "invalid_geometry",
            lambda i: (
                f"应为点，实为 {geoms[i].geom_type} / expected a point, got a {geoms[i].geom_type}"
            ),
        )
        usable = ~empty & ~not_point
        points = np.where(single, shapely.get_geometry(geoms, 0), geoms)
        x = np.full(len(geoms), np.nan)
        y = np.full(len(geoms), np.nan)
        x[usable] = shapely.get_x(points[usable])
        y[usable] = shapely.get_y(points[usable])

        def shown(i: int) -> str:
            return f"({x[i]}, {y[i]})"

        flags.set(
            usable & ~(np.isfinite(x) & np.isfinite(y)),
            "nan_or_inf_coords",
            lambda i: (
                f"坐标为 NaN 或无穷大：{shown(i)} / coordinates are NaN or infinite: {shown(i)}"
            ),
        )
        return x, y, shown

    def _wgs84(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        lng, lat = to_wgs84(x, y, self.datum)
        return np.asarray(lng, dtype=np.float64), np.asarray(lat, dtype=np.float64)

    def _inside(self, lng: FloatArray, lat: FloatArray) -> BoolArray:
        in_range = (
            np.isfinite(lng) & np.isfinite(lat) & (np.abs(lng) <= 180.0) & (np.abs(lat) <= 90.0)
        )
        if self.area is None:
            return in_range
        inside = np.zeros(len(lng), dtype=bool)
        inside[in_range] = self.area.contains(lng[in_range], lat[in_range])
        return inside

    def locate_points(
        self, flags: Flags, x: FloatArray, y: FloatArray, shown: Shown
    ) -> tuple[FloatArray, FloatArray]:
        """Convert rows still good to WGS84 and place them; flag swapped or outside ones.

        Returns WGS84 ``(lng, lat)``, NaN for rows not placed.
        """
        n = len(x)
        lng, lat = np.full(n, np.nan), np.full(n, np.nan)
        todo = flags.ok & np.isfinite(x) & np.isfinite(y)
        if not todo.any():
            return lng, lat
        idx = np.flatnonzero(todo)
        xs, ys = x[todo], y[todo]
        if self.geographic:
            # Degrees out of range have no meaning as given; they may still be swapped.
            plain = (np.abs(xs) <= 180.0) & (np.abs(ys) <= 90.0)
            turnable = (np.abs(ys) <= 180.0) & (np.abs(xs) <= 90.0)
        else:
            plain = turnable = np.ones(len(xs), dtype=bool)
        a, b = np.full(len(xs), np.nan), np.full(len(xs), np.nan)
        if plain.any():
            a[plain], b[plain] = self._wgs84(xs[plain], ys[plain])
        inside = self._inside(a, b)
        swapped = np.zeros(len(xs), dtype=bool)
        retry = ~inside & turnable
        if retry.any():
            swapped[retry] = self._inside(*self._wgs84(ys[retry], xs[retry]))
        flags.set(
            _at(n, idx, swapped),
            "swapped_lat_lng",
            lambda i: (
                f"经纬度疑似颠倒：{shown(i)} 交换后才落在辖区内，请核对后重新导入 / "
                f"latitude and longitude look swapped: {shown(i)} lies in the area only when "
                "swapped; fix the file and import again"
            ),
        )
        unconvertible = ~inside & ~swapped & ~(np.isfinite(a) & np.isfinite(b))
        flags.set(
            _at(n, idx, unconvertible),
            "out_of_range",
            lambda i: (
                f"坐标超出 {self.datum} 的有效范围：{shown(i)} / coordinates {shown(i)} "
                f"are outside the valid range of {self.datum}"
            ),
        )
        outside = _at(n, idx, ~inside & ~swapped & ~unconvertible)
        if self.area is None:
            flags.set(
                outside,
                "out_of_range",
                lambda i: f"经纬度超出有效范围：{shown(i)} / coordinates out of range: {shown(i)}",
            )
        else:
            km = f"{self.area.buffer_m / 1000:g}"
            flags.set(
                outside,
                "coords_outside_area",
                lambda i: (
                    f"坐标 {shown(i)}（{self.datum}）在辖区范围外（含 {km} 公里缓冲） / "
                    f"point {shown(i)} ({self.datum}) lies outside the area (with a {km} km margin)"
                ),
            )
        lng[idx[inside]] = a[inside]
        lat[idx[inside]] = b[inside]
        return lng, lat

    # -- polygons ----------------------------------------------------------------------

    @staticmethod
    def polygons_from_wkt(flags: Flags, text: pd.Series) -> NDArray[np.object_]:
        """Parse a column of WKT text (already stripped; missing = NA)."""
        geoms = np.full(len(text), None, dtype=object)
        present = text.notna().to_numpy(dtype=bool)
        with warnings.catch_warnings():
            # NaN in WKT warns; such rows are rejected later as nan_or_inf_coords.
            warnings.simplefilter("ignore", RuntimeWarning)
            geoms[present] = shapely.from_wkt(
                text[present].to_numpy(dtype=object), on_invalid="ignore"
            )
        flags.set(
            present & shapely.is_missing(geoms),
            "invalid_geometry",
            lambda i: (
                f"几何不是有效的 WKT 文本：{show(text.iloc[i])} / geometry is not valid "
                f"WKT: {show(text.iloc[i])}"
            ),
        )
        return geoms

    def check_polygons(self, flags: Flags, geoms: NDArray[np.object_]) -> NDArray[np.object_]:
        """Check polygons, convert them to WGS84 and place them; None for rejected rows."""
        n = len(geoms)
        empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        flags.set(empty, "missing_required", lambda i: "没有几何（面） / no geometry (polygon)")
        kind = shapely.get_type_id(geoms)
        flags.set(
            ~empty & ~np.isin(kind, (_POLYGON, _MULTIPOLYGON)),
            "invalid_geometry",
            lambda i: (
                f"应为面（Polygon/MultiPolygon），实为 {geoms[i].geom_type} / expected a "
                f"polygon, got a {geoms[i].geom_type}"
            ),
        )
        counts = shapely.get_num_coordinates(geoms)
        flags.set(
            counts > MAX_VERTICES,
            "invalid_geometry",
            lambda i: (
                f"几何顶点过多（{counts[i]}，上限 {MAX_VERTICES}） / too many vertices "
                f"({counts[i]}, limit {MAX_VERTICES})"
            ),
        )
        idx = np.flatnonzero(flags.ok)
        coords, owner = shapely.get_coordinates(geoms[idx], return_index=True)
        finite = _per_geometry(owner, np.isfinite(coords).all(axis=1), len(idx))
        flags.set(
            _at(n, idx, ~finite),
            "nan_or_inf_coords",
            lambda i: "几何含 NaN 或无穷大坐标 / the geometry has NaN or infinite coordinates",
        )
        idx = np.flatnonzero(flags.ok)
        flags.set(
            _at(n, idx, ~shapely.is_valid(geoms[idx])),
            "invalid_geometry",
            lambda i: (
                f"几何无效（未自动修复）：{shapely.is_valid_reason(geoms[i])} / invalid "
                f"geometry (not repaired): {shapely.is_valid_reason(geoms[i])}"
            ),
        )
        return self._place_polygons(flags, geoms)

    def _convert(self, items: NDArray[np.object_], *, swap: bool) -> NDArray[np.object_]:
        def fn(xy: FloatArray) -> FloatArray:
            a, b = (xy[:, 1], xy[:, 0]) if swap else (xy[:, 0], xy[:, 1])
            return np.column_stack(self._wgs84(a, b))

        return np.asarray(shapely.transform(items, fn), dtype=object)

    def _placed(self, items: NDArray[np.object_]) -> BoolArray:
        """Whether each converted geometry has finite coordinates and touches the area."""
        coords, owner = shapely.get_coordinates(items, return_index=True)
        finite = _per_geometry(owner, np.isfinite(coords).all(axis=1), len(items))
        if self.area is None:
            return finite
        placed = np.zeros(len(items), dtype=bool)
        placed[finite] = self.area.intersects(items[finite])
        surfaces = np.flatnonzero(placed & (shapely.area(items) > 0))
        if surfaces.size:
            shapes = items[surfaces]
            inside = shapely.area(shapely.intersection(shapes, self.area.geometry))
            placed[surfaces] = inside >= MIN_SHARE_INSIDE * shapely.area(shapes)
        return placed

    def _place_polygons(self, flags: Flags, geoms: NDArray[np.object_]) -> NDArray[np.object_]:
        n = len(geoms)
        out = np.full(n, None, dtype=object)
        idx = np.flatnonzero(flags.ok)
        if idx.size == 0:
            return out
        raw = geoms[idx]
        m = len(raw)
        coords, owner = shapely.get_coordinates(raw, return_index=True)
        if self.geographic:
            lng_ok, lat_ok = np.abs(coords[:, 0]) <= 180.0, np.abs(coords[:, 1]) <= 90.0
            plain = _per_geometry(owner, lng_ok & lat_ok, m)
            turnable = _per_geometry(
                owner, (np.abs(coords[:, 1]) <= 180.0) & (np.abs(coords[:, 0]) <= 90.0), m
            )
        else:
            plain = turnable = np.ones(m, dtype=bool)
        converted = np.full(m, None, dtype=object)
        converted[plain] = self._convert(raw[plain], swap=False)
        inside = np.zeros(m, dtype=bool)
        inside[plain] = self._placed(converted[plain])
        swapped = np.zeros(m, dtype=bool)
        retry = ~inside & turnable
        if self.area is None:
            retry &= ~plain  # without an area, "fits swapped" only if it did not fit as given
        if retry.any():
            swapped[retry] = self._placed(self._convert(raw[retry], swap=True))
        flags.set(
            _at(n, idx, swapped),
            "swapped_lat_lng",
            lambda i: (
                "面的经纬度疑似颠倒：交换后才落在辖区内，请核对后重新导入 / the polygon's "
                "latitude and longitude look swapped: it reaches the area only when swapped"
            ),
        )
        if self.area is None:
            flags.set(
                _at(n, idx, ~inside),
                "out_of_range",
                lambda i: (
                    f"面的坐标超出 {self.datum} 的有效范围 / the polygon's coordinates "
                    f"are outside the valid range of {self.datum}"
                ),
            )
        else:
            flags.set(
                _at(n, idx, ~inside),
                "coords_outside_area",
                lambda i: (
                    "面与辖区不相交或大部分在辖区外 / the polygon does not touch the area, "
                    "or lies mostly outside it"
                ),
            )
        out[idx[inside]] = converted[inside]
        return out
