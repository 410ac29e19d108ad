"""Plane geometry for the demo builder: a local metric frame, sampling and partitions.

The demo works in WGS84 longitude/latitude, which is what it stores. Distances, speeds and
Voronoi cells need metres, so points go through a local equirectangular frame centred on
the county: an *affine* map, so straight lines stay straight and a polygon computed in the
frame is the same polygon in degrees. Across a county of ~110 km its scale error is below
0.5 %, far inside what synthetic data needs; real areas are measured on the ellipsoid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

FloatArray: TypeAlias = NDArray[np.float64]
IntArray: TypeAlias = NDArray[np.int64]
Area: TypeAlias = Polygon | MultiPolygon


@dataclass(frozen=True)
class Frame:
    """A local equirectangular frame: metres east and north of ``(lng0, lat0)``."""

    lng0: float
    lat0: float

    @property
    def kx(self) -> float:
        """Metres per degree of longitude at ``lat0`` (WGS84 ellipsoid series)."""
        phi = np.radians(self.lat0)
        return float(111412.84 * np.cos(phi) - 93.5 * np.cos(3 * phi))

    @property
    def ky(self) -> float:
        """Metres per degree of latitude at ``lat0``."""
        phi = np.radians(self.lat0)
        return float(111132.954 - 559.822 * np.cos(2 * phi) + 1.175 * np.cos(4 * phi))

    def to_xy(self, lng: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Degrees to metres."""
        x = (np.asarray(lng, dtype=np.float64) - self.lng0) * self.kx
        y = (np.asarray(lat, dtype=np.float64) - self.lat0) * self.ky
        return x, y

    def to_lnglat(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Metres to degrees."""
        lng = np.asarray(x, dtype=np.float64) / self.kx + self.lng0
        lat = np.asarray(y, dtype=np.float64) / self.ky + self.lat0
        return lng, lat

    def geom_to_xy(self, geom: BaseGeometry) -> BaseGeometry:
        """A geometry in degrees, moved into the frame."""
        return shapely.transform(geom, lambda c: np.column_stack(self.to_xy(c[:, 0], c[:, 1])))

    def geom_to_lnglat(self, geom: BaseGeometry) -> BaseGeometry:
        """A geometry in the frame, moved back to degrees."""
        return shapely.transform(geom, lambda c: np.column_stack(self.to_lnglat(c[:, 0], c[:, 1])))

    def distance(
        self, lng1: ArrayLike, lat1: ArrayLike, lng2: ArrayLike, lat2: ArrayLike
    ) -> FloatArray:
        """Distance in metres between points (broadcast)."""
        dx = (np.asarray(lng1, dtype=np.float64) - np.asarray(lng2, dtype=np.float64)) * self.kx
        dy = (np.asarray(lat1, dtype=np.float64) - np.asarray(lat2, dtype=np.float64)) * self.ky
        return np.asarray(np.hypot(dx, dy), dtype=np.float64)


def sample_in(area: BaseGeometry, n: int, rng: np.random.Generator) -> FloatArray:
    """``n`` points uniformly inside ``area`` (degrees), as an ``(n, 2)`` array.

    Rejection sampling on the bounding box; uniform in degrees is uniform in area to within
    the frame's 0.5 %.
    """
    minx, miny, maxx, maxy = area.bounds
    frac = max(area.area / ((maxx - minx) * (maxy - miny)), 0.01)
    shapely.prepare(area)
    out: list[FloatArray] = []
    have = 0
    while have < n:
        m = int((n - have) / frac * 1.3) + 16
        x = rng.uniform(minx, maxx, m)
        y = rng.uniform(miny, maxy, m)
        keep = shapely.contains_xy(area, x, y)
        pts = np.column_stack([x[keep], y[keep]])
        out.append(pts)
        have += len(pts)
    return np.concatenate(out)[:n]


def jitter_inside(
    area: BaseGeometry,
    centres: FloatArray,
    sigma_m: FloatArray | float,
    frame: Frame,
    rng: np.random.Generator,
    tries: int = 8,
) -> FloatArray:
    """Scatter points around ``centres`` (degrees) with a Gaussian of ``sigma_m`` metres.

    A point that falls outside ``area`` is drawn again, with a halved spread each time; after
    ``tries`` rounds it stays on its centre (which must lie inside ``area``).
    """
    centres = np.asarray(centres, dtype=np.float64)
    n = len(centres)
    sigma = np.broadcast_to(np.asarray(sigma_m, dtype=np.float64), (n,)).copy()
    out = centres.copy()
    todo = np.arange(n)
    shapely.prepare(area)
    for _ in range(tries):
        if len(todo) == 0:
            break
        dx = rng.normal(0.0, 1.0, len(todo)) * sigma[todo] / frame.kx
        dy = rng.normal(0.0, 1.0, len(todo)) * sigma[todo] / frame.ky
        x = centres[todo, 0] + dx
        y = centres[todo, 1] + dy
        ok = shapely.contains_xy(area, x, y)
        out[todo[ok], 0] = x[ok]
        out[todo[ok], 1] = y[ok]
        todo = todo[~ok]
        sigma[todo] *= 0.5
    return out


def lloyd(
    candidates: FloatArray,
    weights: FloatArray,
    k: int,
    frame: Frame,
    rng: np.random.Generator,
    iterations: int = 20,
) -> FloatArray:
    """``k`` well-spread seeds among weighted candidate points (degrees).

    Weighted k-means (Lloyd's relaxation) on the candidates, each centre finally snapped to
    the candidate of its cluster nearest to it, so that seeds lie where candidates lie
    (inside the area even when it is not convex).
    """
    x, y = frame.to_xy(candidates[:, 0], candidates[:, 1])
    pts = np.column_stack([x, y])
    w = np.asarray(weights, dtype=np.float64)
    start = rng.choice(len(pts), size=k, replace=False, p=w / w.sum())
    centres = pts[start].copy()
    label = np.zeros(len(pts), dtype=np.int64)
    for _ in range(iterations):
        d2 = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        label = d2.argmin(axis=1)
        for j in range(k):
            mine = label == j
            if mine.any():
                centres[j] = np.average(pts[mine], axis=0, weights=w[mine])
    seeds = np.empty((k, 2))
    for j in range(k):
        mine = np.flatnonzero(label == j)
        if len(mine) == 0:
            mine = np.arange(len(pts))
        nearest = mine[((pts[mine] - centres[j]) ** 2).sum(axis=1).argmin()]
        seeds[j] = candidates[nearest]
    return seeds


def voronoi_cells(area: Area, seeds: FloatArray, frame: Frame) -> list[Area]:
    """Partition ``area`` into Voronoi cells (in metres) around ``seeds``, in seed order.

    Cells are clipped to ``area``. Where clipping leaves a cell in several pieces (a
    non-convex area), the pieces away from the seed join the neighbouring cell with which
    they share the longest border, so every cell is one piece around its seed (where the
    area allows) and the cells still tile the area exactly.
    """
    x, y = frame.to_xy(seeds[:, 0], seeds[:, 1])
    bounds = frame.geom_to_xy(area).envelope.buffer(10_000.0)
    diagram = shapely.voronoi_polygons(
        MultiPoint(np.column_stack([x, y])), extend_to=bounds, ordered=True
    )
    cells = [frame.geom_to_lnglat(c) for c in shapely.get_parts(diagram)]
    clipped = [shapely.intersection(c, area) for c in cells]
    kept: list[BaseGeometry] = []
    orphans: list[tuple[int, BaseGeometry]] = []
    for i, cell in enumerate(clipped):
        parts = [p for p in shapely.get_parts(cell) if isinstance(p, Polygon) and p.area > 0]
        if not parts:
            kept.append(Polygon())
            continue
        seed = Point(seeds[i])
        home = next((p for p in parts if p.covers(seed)), max(parts, key=lambda p: p.area))
        kept.append(home)
        orphans.extend((i, p) for p in parts if p is not home)
    orphans.sort(key=lambda item: -item[1].area)
    for owner, piece in orphans:
        shared = np.array(
            [
                0.0
                if j == owner or cell.is_empty
                else shapely.length(shapely.intersection(piece.boundary, cell.boundary))
                for j, cell in enumerate(kept)
            ]
        )
        if shared.max() > 0:
            target = int(shared.argmax())
        else:
            dist = np.array([np.inf if c.is_empty else piece.distance(c) for c in kept])
            target = int(dist.argmin())
        kept[target] = shapely.union(kept[target], piece)
    return [_clean(c) for c in kept]


def _clean(geom: BaseGeometry) -> Area:
    """Polygonal part of ``geom``, as a Polygon when it is one piece."""
    polys = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    if len(polys) == 1:
        return polys[0]
    return MultiPolygon(polys)


def point_in_cells(lng: FloatArray, lat: FloatArray, cells: list[Area]) -> IntArray:
    """Index of the cell containing each point; -1 for points in no cell.

    Cells are assumed not to overlap; a point on a shared border goes to the lower index.
    """
    pts = shapely.points(np.asarray(lng), np.asarray(lat))
    tree = shapely.STRtree(cells)
    point_idx, cell_idx = tree.query(pts, predicate="intersects")
    out = np.full(len(pts), -1, dtype=np.int64)
    order = np.lexsort((cell_idx, point_idx))
    point_idx, cell_idx = point_idx[order], cell_idx[order]
    first = np.ones(len(point_idx), dtype=bool)
    first[1:] = point_idx[1:] != point_idx[:-1]
    out[point_idx[first]] = cell_idx[first]
    return out
