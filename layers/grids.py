"""The cells of an area, and which grid or precinct each cell (or point) belongs to.

Every per-grid statistic and every chief's scope starts here: the H3 cells whose centre
lies inside an area, and for each cell the zone (management grid, precinct) that contains
its centre. "Centre inside" is H3's own rule for filling a polygon (``polygonToCells``),
so a cell belongs to exactly one zone of a partition — never to two, never half.

Coordinates are WGS84 longitude/latitude, as in the store; zones in another CRS are
refused, never silently reprojected (a GCJ-02 or Gauss–Krüger grid would put cells in
the wrong zone).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import h3
import h3.api.numpy_int as h3n
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.hexes import NULL_CELL, CellArray, cells_res, cells_to_lnglat
from layers.arrays import unique_sorted
from layers.memo import Memo, copy_frame, digest_frame

_WGS84 = pyproj.CRS.from_epsg(4326)
# zone_cells of the last few (zones, resolution) pairs: the county's grids and a chief's
# at the map's resolutions. Keyed by the zones' content (ids, kept columns, geometry).
_ZONE_CELLS: Memo[pd.DataFrame] = Memo(size=48, copy=copy_frame)


def area_cells(area: BaseGeometry, *, res: int) -> CellArray:
    """The H3 cells whose centre lies inside ``area``, sorted.

    Parameters
    ----------
    area : shapely Polygon or MultiPolygon
        The area in WGS84 longitude/latitude (holes are honoured).
    res : int
        H3 resolution, 0..15 (the layers use 6..11).

    Returns
    -------
    numpy.ndarray of uint64
        Distinct cells in increasing order; empty when the area is empty or smaller than
        a cell and misses every centre.
    """
    if not 0 <= int(res) <= 15:
        raise ValueError(f"H3 resolution must be 0..15, got {res!r}")
    if area.is_empty:
        return np.zeros(0, dtype=np.uint64)
    if area.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"area must be a Polygon or MultiPolygon, got {area.geom_type}")
    _check_lnglat_bounds(area.bounds, "area")
    shape = h3.geo_to_h3shape(area)  # reads (lng, lat) and hands H3 (lat, lng)
    cells = np.asarray(h3n.h3shape_to_cells(shape, int(res)), dtype=np.uint64)
    return unique_sorted(cells)


def cell_centres(cells: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Longitude and latitude (WGS84 degrees) of the centre of each cell.

    The same as :func:`geodata.hexes.cells_to_lnglat` (vectorised, ~0.2 µs per cell),
    kept under this name for the layers that place cells in zones by their centre.
    """
    return cells_to_lnglat(cells)


def area_to_cells(cells: npt.ArrayLike, *, res: int | None = None) -> CellArray:
    """An area given as cells, checked: sorted, unique uint64 cells of one resolution.

    :func:`area_cells` makes such an array from a polygon; this one accepts an array a
    caller already holds (a chief's scope, a cached county fill) and refuses what would
    make a neighbourhood, a rollup or a per-cell table meaningless.

    Parameters
    ----------
    cells : array_like of uint64
        The cells of the area, in any order, repeats allowed.
    res : int, optional
        The resolution the cells must have; None accepts any one resolution.

    Returns
    -------
    numpy.ndarray of uint64
        Distinct cells in increasing order.

    Raises
    ------
    ValueError
        If the cells hold the null cell 0, mix resolutions, or differ from ``res``.
    """
    out = unique_sorted(cells, np.uint64)
    if out.size == 0:
        return out
    if out[0] == NULL_CELL:
        raise ValueError("area cells contain the null cell 0 (a point that could not be placed)")
    found = np.unique(cells_res(out))
    if found.size > 1:
        raise ValueError(
            f"area cells mix H3 resolutions {found.tolist()}; pass the area at one resolution"
        )
    if res is not None and int(found[0]) != res:
        raise ValueError(f"area cells are at resolution {int(found[0])}, not {res}")
    return out


def points_to_zones(
    lng: npt.ArrayLike, lat: npt.ArrayLike, zones: gpd.GeoDataFrame, *, id_col: str
) -> pd.Series:
    """The id of the zone containing each point; missing where no zone contains it.

    A point on a boundary shared by two zones goes to the zone listed first when the zones
    are sorted by ``id_col`` (a deterministic tie-break; cell centres almost never sit on
    a boundary exactly).

    Parameters
    ----------
    lng, lat : array_like of float
        WGS84 coordinates, same length.
    zones : GeoDataFrame
        Polygons in WGS84 (crs EPSG:4326 or unset) with an id column.
    id_col : str
        Name of the id column of ``zones`` (e.g. ``"grid_id"``, ``"precinct_id"``).

    Returns
    -------
    pandas.Series
        One id per point in input order (default integer index), named ``id_col``, with
        the dtype of ``zones[id_col]``; missing (NaN/NA) outside every zone.
    """
    _check_zones(zones, id_col)
    x = np.asarray(lng, dtype=np.float64).ravel()
    y = np.asarray(lat, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"lng and lat differ in length: {x.size} vs {y.size}")
    ordered = zones.sort_values(id_col, kind="stable")
    ids = ordered[id_col].reset_index(drop=True)
    tree = shapely.STRtree(np.asarray(ordered.geometry.values))
    point_idx, zone_idx = tree.query(shapely.points(x, y), predicate="intersects")
    # Zones are sorted by id, so the smallest zone index per point is the tie-break winner.
    best = np.full(x.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, point_idx, zone_idx)
    found = best != np.iinfo(np.int64).max
    out = ids.reindex(np.where(found, best, -1))  # index -1 does not exist -> missing
    out.index = pd.RangeIndex(x.size)
    out.name = id_col
    return out


def cells_to_zones(cells: npt.ArrayLike, zones: gpd.GeoDataFrame, *, id_col: str) -> pd.Series:
    """The zone (grid, precinct, …) containing the centre of each cell.

    Parameters
    ----------
    cells : array_like of uint64
        H3 cells, any resolution.
    zones : GeoDataFrame
        Polygons in WGS84 with an id column.
    id_col : str
        Name of the id column of ``zones``.

    Returns
    -------
    pandas.Series
        Indexed by the cells (index named ``cell``, in input order), values the zone id
        (named ``id_col``); missing for cells whose centre lies in no zone.
    """
    c = np.asarray(cells, dtype=np.uint64).ravel()
    lng, lat = cell_centres(c)
    out = points_to_zones(lng, lat, zones, id_col=id_col)
    out.index = pd.Index(c, name="cell", dtype=np.uint64)
    return out


def zone_cells(
    zones: gpd.GeoDataFrame, *, res: int, id_col: str, keep: Sequence[str] = ()
) -> pd.DataFrame:
    """Every cell whose centre lies in one of ``zones``, with its zone's id.

    This is the scope of a chief (their precinct's grids) or of the county (all grids).

    Parameters
    ----------
    zones : GeoDataFrame
        Polygons in WGS84 with an id column.
    res : int
        H3 resolution.
    id_col : str
        Name of the id column of ``zones``.
    keep : sequence of str
        Further columns of ``zones`` to copy onto each cell (e.g. ``("precinct_id",)``
        for grids).

    Returns
    -------
    pandas.DataFrame
        Columns ``cell`` (uint64), ``id_col`` and ``keep``; sorted by cell. A cell
        claimed by two overlapping zones goes to the one whose id sorts first.
    """
    _check_zones(zones, id_col)
    missing = [k for k in keep if k not in zones.columns]
    if missing:
        raise KeyError(f"zones have no column(s) {missing}")
    columns = list(dict.fromkeys([id_col, *keep, zones.geometry.name]))
    key = (res, id_col, tuple(keep), digest_frame(zones[columns]))
    return _ZONE_CELLS.get(key, lambda: _zone_cells(zones, res=res, id_col=id_col, keep=keep))


def _zone_cells(
    zones: gpd.GeoDataFrame, *, res: int, id_col: str, keep: Sequence[str]
) -> pd.DataFrame:
    ordered = zones.sort_values(id_col, kind="stable").reset_index(drop=True)
    # Filling each zone on its own is several times faster than filling their union (H3's
    # polygon fill slows with the vertex count) and needs no point-in-polygon test after.
    parts = [area_cells(g, res=res) for g in ordered.geometry]
    sizes = np.fromiter((p.size for p in parts), dtype=np.int64, count=len(parts))
    cells = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
    row = np.repeat(np.arange(len(ordered), dtype=np.int64), sizes)
    # Overlapping zones claim a cell twice: keep the zone whose id sorts first, the same
    # tie-break as points_to_zones. A stable sort by cell keeps the rows in id order.
    order = np.argsort(cells, kind="stable")
    cells, row = cells[order], row[order]
    first = np.ones(cells.size, dtype=bool)
    first[1:] = cells[1:] != cells[:-1]
    cells, row = cells[first], row[first]
    picked = ordered.iloc[row]
    frame = pd.DataFrame({"cell": cells, id_col: picked[id_col].to_numpy()})
    frame[id_col] = frame[id_col].astype(zones[id_col].dtype)
    for k in keep:
        frame[k] = picked[k].to_numpy()
    return frame


def _check_zones(zones: gpd.GeoDataFrame, id_col: str) -> None:
    if id_col not in zones.columns:
        raise KeyError(f"zones have no column {id_col!r}; columns: {list(zones.columns)}")
    if not isinstance(zones, gpd.GeoDataFrame):
        raise TypeError("zones must be a GeoDataFrame with polygon geometry")
    crs = zones.crs
    if crs is not None and not pyproj.CRS(crs).equals(_WGS84, ignore_axis_order=True):
        raise ValueError(
            f"zones are in {pyproj.CRS(crs).name}; layers work in WGS84 (EPSG:4326) — "
            "convert them with geodata first"
        )
    if len(zones):
        _check_lnglat_bounds(tuple(zones.total_bounds), "zones")


def _check_lnglat_bounds(bounds: tuple[float, ...], what: str) -> None:
    minx, miny, maxx, maxy = bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValueError(
            f"{what} bounds {bounds} are not longitude/latitude degrees; "
            "projected coordinates must be converted to WGS84 first"
        )
