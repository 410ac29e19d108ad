"""Response reach: minutes from each cell to the nearest minimum emergency response unit.

The "1-3-5" standard for minimum emergency response units (最小应急处置单元) asks for
self-rescue within 1 minute, mutual rescue within 3 and professional response within 5
(1分钟自救、3分钟互救、5分钟专业救). Each cell gets the minutes to its nearest unit and a
band — ``within_1``, ``within_3``, ``within_5`` or ``beyond_5``; a place beyond 5 minutes
of every unit is a gap. "What if this unit is away" is the same computation with that
unit left out (``without=``).

Travel time, and why it is an estimate
---------------------------------------
There is no road network offline, so the default travel model is straight-line distance
times a detour (circuity) factor, divided by the speed of the unit's kind::

    minutes = straight-line metres × detour / (speed in km/h × 1000 / 60)

The detour factor (circuity: network distance over straight-line distance) of 1.4 sits
inside the 1.2–1.6 range measured for road networks: about 1.2 for random points in a
city (Newell 1980; O'Sullivan 1996: 1.21–1.23 around transit stations), national road
averages of roughly 1.2–1.4 (Ballou, Rahardja & Sakai 2002), and higher in mountains —
Kim et al. 2015 found 1.26 for South Korea as a whole but 1.435 for mountainous
Gangwon. Xuanhan is mountainous outside its towns, so 1.4 rather than 1.2; a planner can
lower it for the county seat or raise it for the hills.
Default speeds per unit kind (``DEFAULT_SPEEDS_KMH``), chosen for a county with narrow
streets and mountain roads, not for open highways:

- ``police_station`` 40 km/h and ``patrol_post`` 40 km/h: a police car in town and on
  county roads, lights on;
- ``community_unit`` 15 km/h: community responders on foot, bicycle or e-bike (电动车);
- ``enterprise_unit`` 5 km/h (≈83 m/min): in-house security on foot — the 1-minute
  self-rescue circle of about 80 m.

The straight line is the true one: the 3-D chord between the two points on the WGS84
ellipsoid (earth-centred, earth-fixed coordinates). It differs from the geodesic by
d³/(24 R²) — 1 µm at 1 km, 3 cm at 30 km — and, unlike a map projection, does not depend
on where a projection is centred, so a cell's minutes are the same whether a chief's
precinct or the whole county is computed, and removing a unit can never shorten them. The
nearest unit is found with a KD-tree per speed (``scipy.spatial.cKDTree``), so 40,000
cells × 150 units take milliseconds rather than a 6-million-entry distance matrix.

Replacing the straight line with roads
--------------------------------------
The travel model is the ``travel=`` parameter (see :class:`TravelModel`): any function
that, given cell centres and units with their speeds, returns each cell's minutes to its
nearest unit and that unit's position. A road-network model can be dropped in without
touching the rest: build a drive/walk graph from an OSM extract (osmnx
``graph_from_xml``, or pandana ``Network``), snap cells and units to their nearest nodes,
and per speed run a multi-source Dijkstra from all units of that speed with edge weights
``length / speed`` (networkx ``multi_source_dijkstra_path_length``), or use pandana's
``nearest_pois`` with a 5-minute horizon — that gives isochrones on real roads. Such a
model ignores ``detour`` (roads already detour). :func:`unit_reach` pre-selects a unit's
cells by the straight line at detour 1.0, which is safe for any model in which travel
follows a path at least as long as the straight line at the unit's speed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Protocol

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from geodata.cubes.tables import cells_at, lineage
from geodata.hexes import cells_res, cells_to_parent
from geodata.schema import Label
from layers.arrays import unique_sorted
from layers.grids import cell_centres, cells_to_zones

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_SPEEDS_KMH: Mapping[str, float] = MappingProxyType(
    {
        "police_station": 40.0,
        "patrol_post": 40.0,
        "community_unit": 15.0,
        "enterprise_unit": 5.0,
    }
)
"""Travel speed per response-unit kind, km/h (see the module docstring)."""

DEFAULT_DETOUR = 1.4
"""Road distance over straight-line distance (road networks: typically 1.2–1.6)."""

BAND_LIMITS: tuple[float, float, float] = (1.0, 3.0, 5.0)
"""Upper limits in minutes of the bands within_1, within_3, within_5 (inclusive)."""

BANDS: tuple[str, ...] = ("within_1", "within_3", "within_5", "beyond_5")
"""Band codes; a band's ``class`` is its position here (0 = within 1 minute)."""

BAND_LABELS: Mapping[str, Label] = MappingProxyType(
    {
        "within_1": Label("1分钟内（自救）", "Within 1 min (self-rescue)"),
        "within_3": Label("1–3分钟（互救）", "1–3 min (mutual rescue)"),
        "within_5": Label("3–5分钟（专业救）", "3–5 min (professional response)"),
        "beyond_5": Label("超过5分钟", "Beyond 5 min"),
    }
)

GRID_SHARE_BINS: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 1.0)
"""Class upper bounds for a grid's share of cells beyond 5 minutes (class 0 = no gap)."""


class TravelModel(Protocol):
    """Minutes from each cell centre to the nearest of some units.

    Parameters (all positional arrays are float64, WGS84 degrees or metres per minute)
    ----------
    cell_lng, cell_lat : arrays of the cell centres.
    unit_lng, unit_lat : arrays of the units' positions.
    unit_m_per_min : array, each unit's speed in metres per minute.
    detour : float, keyword-only; the straight-line model's circuity factor (a road
        model ignores it).

    Returns
    -------
    minutes : float64 array, one per cell; NaN when there is no unit.
    nearest : int64 array, one per cell: the position (0-based, in the arrays given) of
        the unit reached first; -1 when there is no unit.
    """

    def __call__(
        self,
        cell_lng: FloatArray,
        cell_lat: FloatArray,
        unit_lng: FloatArray,
        unit_lat: FloatArray,
        unit_m_per_min: FloatArray,
        *,
        detour: float,
    ) -> tuple[FloatArray, IntArray]: ...


# WGS84 ellipsoid: semi-major axis (m) and first eccentricity squared.
_A = 6_378_137.0
_E2 = 6.694379990141317e-3


def _ecef(lng: FloatArray, lat: FloatArray) -> npt.NDArray[np.float64]:
    """Earth-centred, earth-fixed metres of points on the WGS84 ellipsoid (height 0)."""
    lam = np.radians(np.asarray(lng, dtype=np.float64))
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    sin_phi = np.sin(phi)
    n = _A / np.sqrt(1.0 - _E2 * sin_phi**2)
    return np.column_stack(
        [n * np.cos(phi) * np.cos(lam), n * np.cos(phi) * np.sin(lam), n * (1.0 - _E2) * sin_phi]
    )


def straight_line_travel(
    cell_lng: FloatArray,
    cell_lat: FloatArray,
    unit_lng: FloatArray,
    unit_lat: FloatArray,
    unit_m_per_min: FloatArray,
    *,
    detour: float,
) -> tuple[FloatArray, IntArray]:
    """The default :class:`TravelModel`: straight line × ``detour`` at each unit's speed.

    One KD-tree per distinct speed: the nearest unit of each speed by distance is also
    the fastest to arrive among units of that speed, and the overall answer is the least
    of those per-speed minutes.
    """
    n = cell_lng.size
    minutes = np.full(n, np.inf)
    nearest = np.full(n, -1, dtype=np.int64)
    if unit_lng.size == 0 or n == 0:
        return np.full(n, np.nan), nearest
    cells_xy = _ecef(cell_lng, cell_lat)
    units_xy = _ecef(unit_lng, unit_lat)
    # Fastest speed first, so that on an exact tie the faster (professional) unit wins.
    for speed in np.unique(unit_m_per_min)[::-1]:
        members = np.flatnonzero(unit_m_per_min == speed)
        dist, idx = cKDTree(units_xy[members]).query(cells_xy, k=1)
        m = dist * detour / speed
        better = m < minutes
        minutes[better] = m[better]
        nearest[better] = members[idx[better]]
    return minutes, nearest


def minutes_to_band(minutes: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """The 1-3-5 band of each travel time in minutes.

    ``within_1`` for m ≤ 1, ``within_3`` for 1 < m ≤ 3, ``within_5`` for 3 < m ≤ 5,
    ``beyond_5`` above 5 minutes or when no unit can come (NaN).
    """
    return np.asarray(BANDS, dtype=object)[minutes_to_class(minutes)]


def minutes_to_class(minutes: npt.ArrayLike) -> IntArray:
    """The band index (0–3, the position in :data:`BANDS`) of each travel time."""
    m = np.asarray(minutes, dtype=np.float64)
    m = np.where(np.isnan(m), np.inf, m)
    return np.searchsorted(np.asarray(BAND_LIMITS), m, side="left").astype(np.int64)


def _unit_speeds(units: pd.DataFrame, speeds_kmh: Mapping[str, float]) -> FloatArray:
    kinds = units["kind"].astype(str)
    unknown = sorted(set(kinds) - set(speeds_kmh))
    if unknown:
        raise ValueError(
            f"no speed for response-unit kind(s) {unknown}; known: {sorted(speeds_kmh)}"
        )
    kmh = kinds.map(dict(speeds_kmh)).to_numpy(dtype=np.float64)
    if np.any(~np.isfinite(kmh) | (kmh <= 0)):
        raise ValueError("speeds must be positive km/h")
    return np.asarray(kmh * 1000.0 / 60.0, dtype=np.float64)


def _prepared_units(
    units: pd.DataFrame, without: Iterable[str], speeds_kmh: Mapping[str, float]
) -> tuple[pd.DataFrame, FloatArray]:
    missing = [c for c in ("unit_id", "kind", "lng", "lat") if c not in units.columns]
    if missing:
        raise KeyError(f"response units lack column(s) {missing}")
    away = {str(u) for u in without}
    unknown = sorted(away - set(units["unit_id"].astype(str)))
    if unknown:
        raise ValueError(f"unknown unit(s) in without=: {unknown}")
    present = units[~units["unit_id"].astype(str).isin(away)]
    present = present.sort_values("unit_id", kind="stable").reset_index(drop=True)
    coords = present[["lng", "lat"]].to_numpy(dtype=np.float64)
    if not np.isfinite(coords).all():
        bad = present.loc[~np.isfinite(coords).all(axis=1), "unit_id"].tolist()
        raise ValueError(f"response unit(s) without coordinates: {bad}")
    return present, _unit_speeds(present, speeds_kmh)


def _as_cells(cells: npt.ArrayLike) -> npt.NDArray[np.uint64]:
    c = unique_sorted(cells, np.uint64)
    if c.size and c[0] == 0:
        raise ValueError("cells contain the null cell 0")
    return c


def reach(
    cells: npt.ArrayLike,
    units: pd.DataFrame,
    *,
    speeds_kmh: Mapping[str, float] = DEFAULT_SPEEDS_KMH,
    detour: float = DEFAULT_DETOUR,
    without: Sequence[str] = (),
    travel: TravelModel = straight_line_travel,
) -> pd.DataFrame:
    """Minutes from each cell to its nearest response unit, and the 1-3-5 band.

    Parameters
    ----------
    cells : array_like of uint64
        The cells of the area (e.g. :func:`layers.grids.area_cells`), any one resolution;
        duplicates are dropped.
    units : DataFrame
        Response units (``geodata.schema.RESPONSE_UNITS``): ``unit_id``, ``kind``,
        ``lng``, ``lat`` (WGS84).
    speeds_kmh : mapping, keyword-only
        Speed per unit kind in km/h; every kind present must have one.
    detour : float, keyword-only
        Road distance over straight-line distance (default 1.4).
    without : sequence of str, keyword-only
        Unit ids to leave out ("what if this unit is away"); unknown ids are an error.
    travel : TravelModel, keyword-only
        The travel-time model; replace it with a road-network model when one exists.

    Returns
    -------
    DataFrame
        One row per cell, sorted by cell: ``cell`` (uint64), ``minutes`` (NaN when no unit
        is left), ``nearest_unit``, ``nearest_kind``, ``distance_m`` (straight line to that
        unit), ``band`` (see :func:`minutes_to_band`) and ``class`` (0–3, the band index).
    """
    if not detour >= 1.0:
        raise ValueError(f"detour must be at least 1.0 (a path is never shorter), got {detour}")
    c = _as_cells(cells)
    present, m_per_min = _prepared_units(units, without, speeds_kmh)
    lng, lat = cell_centres(c)
    ulng = present["lng"].to_numpy(dtype=np.float64)
    ulat = present["lat"].to_numpy(dtype=np.float64)
    minutes, nearest = travel(lng, lat, ulng, ulat, m_per_min, detour=detour)
    minutes = np.asarray(minutes, dtype=np.float64)
    nearest = np.asarray(nearest, dtype=np.int64)
    found = nearest >= 0
    minutes = np.where(found, minutes, np.nan)
    distance = np.full(c.size, np.nan)
    if found.any():
        cxy = _ecef(lng[found], lat[found])
        uxy = _ecef(ulng[nearest[found]], ulat[nearest[found]])
        distance[found] = np.linalg.norm(cxy - uxy, axis=1)
    # Position -1 (no unit) is no label of the range index, so it comes back missing.
    unit_ids = present["unit_id"].astype(str).reset_index(drop=True).reindex(nearest)
    unit_kinds = present["kind"].astype(str).reset_index(drop=True).reindex(nearest)
    return pd.DataFrame(
        {
            "cell": c,
            "minutes": minutes,
            "nearest_unit": unit_ids.to_numpy(),
            "nearest_kind": unit_kinds.to_numpy(),
            "distance_m": distance,
            "band": pd.array(minutes_to_band(minutes), dtype="str"),
            "class": minutes_to_class(minutes),
        }
    )


def unit_reach(
    cells: npt.ArrayLike,
    units: pd.DataFrame,
    *,
    speeds_kmh: Mapping[str, float] = DEFAULT_SPEEDS_KMH,
    detour: float = DEFAULT_DETOUR,
    travel: TravelModel = straight_line_travel,
) -> pd.DataFrame:
    """For each response unit, how many cells it reaches within 1, 3 and 5 minutes.

    ``sole_within_5`` counts the cells that this unit alone reaches within 5 minutes:
    the cells that become a gap when it is away.

    Parameters
    ----------
    cells : array_like of uint64
        The cells of the area.
    units : DataFrame
        Response units: ``unit_id``, ``kind``, ``lng``, ``lat`` (``name`` is kept if
        present).
    speeds_kmh, detour, travel
        As in :func:`reach`.

    Returns
    -------
    DataFrame
        One row per unit, sorted by ``unit_id``: ``unit_id``, ``name``, ``kind``,
        ``speed_kmh``, ``cells_within_1``, ``cells_within_3``, ``cells_within_5``
        (cumulative: within 3 includes within 1), ``sole_within_5``.
    """
    if not detour >= 1.0:
        raise ValueError(f"detour must be at least 1.0, got {detour}")
    c = _as_cells(cells)
    present, m_per_min = _prepared_units(units, (), speeds_kmh)
    lng, lat = cell_centres(c)
    ulng = present["lng"].to_numpy(dtype=np.float64)
    ulat = present["lat"].to_numpy(dtype=np.float64)
    n_units = len(present)
    counts = np.zeros((n_units, 3), dtype=np.int64)
    within5: list[IntArray] = []
    reached_by = np.zeros(c.size, dtype=np.int64)
    if n_units and c.size:
        tree = cKDTree(_ecef(lng, lat))
        uxy = _ecef(ulng, ulat)
        limit = BAND_LIMITS[-1]
        for i in range(n_units):
            # Candidates: cells within 5 minutes at this speed along a straight line
            # (detour 1.0), a superset of what any path-following model can reach.
            cand = np.asarray(
                tree.query_ball_point(uxy[i], r=limit * m_per_min[i] * (1 + 1e-9)), dtype=np.int64
            )
            cand.sort()
            m, _ = travel(
                lng[cand],
                lat[cand],
                ulng[i : i + 1],
                ulat[i : i + 1],
                m_per_min[i : i + 1],
                detour=detour,
            )
            m = np.where(np.isnan(m), np.inf, np.asarray(m, dtype=np.float64))
            for j, lim in enumerate(BAND_LIMITS):
                counts[i, j] = int(np.count_nonzero(m <= lim))
            hit = cand[m <= limit]
            within5.append(hit)
            reached_by[hit] += 1
    else:
        within5 = [np.zeros(0, dtype=np.int64) for _ in range(n_units)]
    sole = np.array([int(np.count_nonzero(reached_by[h] == 1)) for h in within5], dtype=np.int64)
    names = present["name"] if "name" in present.columns else pd.Series([pd.NA] * n_units)
    return pd.DataFrame(
        {
            "unit_id": present["unit_id"].astype(str).to_numpy(),
            "name": pd.array(names.to_numpy(dtype=object), dtype="str"),
            "kind": present["kind"].astype(str).to_numpy(),
            "speed_kmh": m_per_min * 60.0 / 1000.0,
            "cells_within_1": counts[:, 0],
            "cells_within_3": counts[:, 1],
            "cells_within_5": counts[:, 2],
            "sole_within_5": sole,
        }
    )


def _per_cell_values(
    frame: pd.DataFrame | None, value_col: str, res: int, what: str
) -> pd.Series | None:
    if frame is None:
        return None
    missing = [c for c in ("cell", value_col) if c not in frame.columns]
    if missing:
        raise KeyError(f"{what} lacks column(s) {missing}")
    if lineage(frame.columns):  # cube rows: each point's own cell at res
        cells = cells_at(frame, res)
    else:  # an areal estimate (population spread over fine cells): summed into parents
        cells = frame["cell"].to_numpy(dtype=np.uint64)
        cells = cells_to_parent(cells, res) if cells.size else cells
    values = pd.Series(frame[value_col].to_numpy(dtype=np.float64), index=cells)
    return values.groupby(level=0).sum()


def grid_reach(
    cells: pd.DataFrame,
    grids: gpd.GeoDataFrame,
    *,
    id_col: str = "grid_id",
    cell_population: pd.DataFrame | None = None,
    incidents: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per grid: the share of its cells, its population and its incidents beyond 5 minutes.

    Parameters
    ----------
    cells : DataFrame
        The output of :func:`reach` (``cell``, ``band``, ``minutes``); when it has no
        ``id_col`` column, each cell is put in the grid that contains its centre.
    grids : GeoDataFrame
        The grids (``grid_id``, optional ``population``, geometry in WGS84). Every grid
        gets a row, also one that contains no cell centre at this resolution.
    id_col : str, keyword-only
        The grid id column (``"grid_id"``; ``"precinct_id"`` with precincts as zones).
    cell_population : DataFrame, keyword-only, optional
        ``cell``, ``population`` per cell at this resolution or finer (finer cells are
        summed into their parents). Without it, a grid's ``population`` is spread evenly
        over its cells, so its population beyond 5 minutes is population × share.
    incidents : DataFrame, keyword-only, optional
        Incident counts per cell (``cell``, ``count``; e.g. cube rows already filtered to a
        window), at this resolution or finer. Cells outside the area are ignored.

    Returns
    -------
    DataFrame
        One row per grid, sorted by ``id_col``: ``cells``, ``cells_beyond_5``,
        ``share_beyond_5`` (NA when the grid holds no cell centre), ``max_minutes``,
        ``population``, ``population_beyond_5``, ``incidents``, ``incidents_beyond_5``
        (NA when not given), ``state`` (``"ok"`` or ``"no_cells"``) and ``class``
        (by :data:`GRID_SHARE_BINS`; NA with ``no_cells``).
    """
    if id_col not in grids.columns:
        raise KeyError(f"grids have no column {id_col!r}")
    for col in ("cell", "band", "minutes"):
        if col not in cells.columns:
            raise KeyError(f"cells lack column {col!r}; pass the output of reach()")
    cell_arr = cells["cell"].to_numpy(dtype=np.uint64)
    res = int(cells_res(cell_arr[:1])[0]) if cell_arr.size else 0
    if id_col in cells.columns:
        zone = cells[id_col].to_numpy(dtype=object)
    else:
        zone = cells_to_zones(cell_arr, grids, id_col=id_col).to_numpy(dtype=object)
    beyond = (cells["band"].astype(str) == "beyond_5").to_numpy()
    minutes = cells["minutes"].to_numpy(dtype=np.float64)
    per_cell = pd.DataFrame(
        {
            "zone": zone,
            "beyond": beyond,
            "minutes": np.where(np.isnan(minutes), np.inf, minutes),
        },
        index=pd.Index(cell_arr, dtype=np.uint64),
    )
    pop = _per_cell_values(cell_population, "population", res, "cell_population")
    inc = _per_cell_values(incidents, "count", res, "incidents")
    if pop is not None:
        per_cell["population"] = pop.reindex(per_cell.index).fillna(0.0).to_numpy()
    if inc is not None:
        per_cell["incidents"] = inc.reindex(per_cell.index).fillna(0.0).to_numpy()
    per_cell = per_cell[pd.notna(per_cell["zone"])]
    per_cell["zone"] = per_cell["zone"].astype(str)
    g = per_cell.groupby("zone", sort=True)
    out = pd.DataFrame(
        {
            "cells": g.size(),
            "cells_beyond_5": g["beyond"].sum(),
            "max_minutes": g["minutes"].max(),
        }
    )
    ids = grids[id_col].astype(str).drop_duplicates().sort_values().to_numpy()
    out = out.reindex(pd.Index(ids, name=id_col))
    out["cells"] = out["cells"].fillna(0).astype(np.int64)
    out["cells_beyond_5"] = out["cells_beyond_5"].fillna(0).astype(np.int64)
    has_cells = out["cells"] > 0
    share = out["cells_beyond_5"] / out["cells"].where(has_cells)
    out["share_beyond_5"] = share.astype("Float64")
    out["max_minutes"] = out["max_minutes"].replace(np.inf, np.nan).astype("Float64")

    if pop is not None:
        p = per_cell.groupby("zone")["population"].sum().reindex(out.index).fillna(0.0)
        pb = (
            per_cell[per_cell["beyond"]]
            .groupby("zone")["population"]
            .sum()
            .reindex(out.index)
            .fillna(0.0)
        )
        out["population"] = p.astype("Float64")
        out["population_beyond_5"] = pb.astype("Float64")
    elif "population" in grids.columns:
        gp = (
            grids.assign(_id=grids[id_col].astype(str))
            .drop_duplicates("_id")
            .set_index("_id")["population"]
            .reindex(out.index)
            .astype("Float64")
        )
        out["population"] = gp
        out["population_beyond_5"] = gp * out["share_beyond_5"]
    else:
        out["population"] = pd.array([pd.NA] * len(out), dtype="Float64")
        out["population_beyond_5"] = pd.array([pd.NA] * len(out), dtype="Float64")

    if inc is not None:
        i_all = per_cell.groupby("zone")["incidents"].sum().reindex(out.index).fillna(0.0)
        i_beyond = (
            per_cell[per_cell["beyond"]]
            .groupby("zone")["incidents"]
            .sum()
            .reindex(out.index)
            .fillna(0.0)
        )
        out["incidents"] = i_all.round().astype("Int64")
        out["incidents_beyond_5"] = i_beyond.round().astype("Int64")
    else:
        out["incidents"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["incidents_beyond_5"] = pd.array([pd.NA] * len(out), dtype="Int64")

    out["state"] = pd.array(np.where(has_cells, "ok", "no_cells"), dtype="str")
    bins = np.asarray(GRID_SHARE_BINS)
    klass = np.searchsorted(bins, share.fillna(0.0).to_numpy(dtype=np.float64), side="left")
    out["class"] = pd.array(np.minimum(klass, bins.size - 1), dtype="Int64")
    out.loc[~has_cells, "class"] = pd.NA
    out = out.reset_index()
    out[id_col] = out[id_col].astype(str)
    return out[
        [
            id_col,
            "cells",
            "cells_beyond_5",
            "share_beyond_5",
            "max_minutes",
            "population",
            "population_beyond_5",
            "incidents",
            "incidents_beyond_5",
            "state",
            "class",
        ]
    ]


__all__: list[str] = [
    "BANDS",
    "BAND_LABELS",
    "BAND_LIMITS",
    "DEFAULT_DETOUR",
    "DEFAULT_SPEEDS_KMH",
    "GRID_SHARE_BINS",
    "TravelModel",
    "grid_reach",
    "minutes_to_band",
    "minutes_to_class",
    "reach",
    "straight_line_travel",
    "unit_reach",
]
