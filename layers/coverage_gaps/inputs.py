"""The per-cell layers a gap score needs, computed once from the cubes and tables.

:func:`cell_layers` runs every layer the gap score and the grid table read — incident
heat, Gi* hot spots, emerging hot spots, 环比/同比, incidents by time-of-day band, patrol
coverage, Koper dose, response reach, safe-community status — for one area, resolution
and window, and keeps them together in a :class:`CellLayers`. :func:`gap_layer` is the
one call the map, the wall screen and the exports make. Frames in, frames out: nothing
here opens a file (the caller loads the cubes and tables with :mod:`geodata`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl
from shapely.geometry.base import BaseGeometry

from geodata.cubes.tables import cells_at, lineage
from geodata.schema import INCIDENT_CATEGORIES
from layers.change import period_change
from layers.coverage_gaps.score import (
    DEFAULT_GAP_CLASS,
    DEFAULT_SCALES,
    DEFAULT_WEIGHTS,
    GapScales,
    GapWeights,
    coverage_gaps,
)
from layers.emerging import emerging_hotspots
from layers.grids import area_cells, area_to_cells, zone_cells
from layers.hotspots import gi_star
from layers.incident_heat import incident_counts_by_bin, incident_heat
from layers.patrol_coverage import koper_dose, patrol_coverage
from layers.patrol_coverage.bands import DEFAULT_BANDS, band_of_hour, check_bands
from layers.population import cell_population
from layers.response_reach import reach
from layers.safe_community import community_points_at, community_status

MIN_WEEKS = 4
"""A window of at least this many weeks gives the emerging hot spots their weekly bins."""
EMERGING_WEEKS = 12
"""Weeks of emerging-hot-spot bins before the window's end when the window is shorter."""

HOT_CLASSES: tuple[str, ...] = ("hot_99", "hot_95")
"""Gi* classes whose cells get a Koper dose (hot spots at 95 % confidence or more)."""


def band_counts(
    cube: pd.DataFrame,
    *,
    res: int,
    since: pd.Timestamp | str,
    until: pd.Timestamp | str,
    categories: Iterable[str] | None = None,
    bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS,
    cells: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """Incidents per cell and time-of-day band: when each cell's incidents happen.

    Parameters
    ----------
    cube : DataFrame
        The incidents cube (``cell``, ``hour``, ``category``, ``count``). Not modified.
    res : int
        H3 resolution of the result.
    since, until : Timestamp or str
        The window, half-open on the cube's hours.
    categories : iterable of str, optional
        Category codes to keep; None keeps all.
    bands : mapping of str to (int, int)
        Time-of-day bands sharing out the 24 hours (as for patrol coverage).
    cells : array_like of uint64, optional
        The area at ``res``: exactly these rows, zeros included. None: cells with incidents.

    Returns
    -------
    DataFrame
        Sorted by cell: ``cell``, ``incidents`` and ``incidents_<band>`` per band (int64;
        the bands add up to ``incidents``).
    """
    spec = check_bands(bands)
    names = list(spec)
    start, end = pd.Timestamp(since), pd.Timestamp(until)
    keep = (cube["hour"] >= start) & (cube["hour"] < end)
    if categories is not None:
        wanted = sorted(set(categories))
        unknown = [c for c in wanted if c not in INCIDENT_CATEGORIES]
        if unknown:
            raise ValueError(f"unknown incident categories {unknown}")
        keep &= cube["category"].isin(wanted)
    rows = cube.loc[keep, ["cell", *lineage(cube.columns), "hour", "count"]]
    owner = np.asarray([names.index(b) for b in band_of_hour(spec)], dtype=np.int64)
    band = owner[pd.to_datetime(rows["hour"]).dt.hour.to_numpy()]
    frame = pd.DataFrame(
        {
            "cell": cells_at(rows, res),
            "band": band,
            "count": rows["count"].to_numpy(dtype=np.int64),
        }
    )
    wide = frame.pivot_table(
        index="cell", columns="band", values="count", aggfunc="sum", fill_value=0
    ).reindex(columns=range(len(names)), fill_value=0)
    index = area_to_cells(cells, res=res) if cells is not None else wide.index.to_numpy(np.uint64)
    wide = wide.reindex(pd.Index(index, dtype=np.uint64), fill_value=0)
    values = wide.to_numpy(dtype=np.int64)
    out = pd.DataFrame({"cell": np.asarray(index, dtype=np.uint64), "incidents": values.sum(1)})
    for i, name in enumerate(names):
        out[f"incidents_{name}"] = values[:, i]
    return out


def community_cells(
    statuses: pd.DataFrame,
    *,
    res: int,
    cells: npt.ArrayLike | None = None,
    communities: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Safe-community protection per cell: households, certified ones, volunteers.

    A certified community whose title is at risk (:func:`layers.safe_community.
    community_status`) does not count as certified here: its data contradict the title.

    Parameters
    ----------
    statuses : DataFrame
        :func:`layers.safe_community.community_status` (``community_id``, ``status``,
        ``households``, ``at_risk``, ``base_cell``).
    res : int
        H3 resolution of the result, no finer than ``base_cell``.
    cells : array_like of uint64, optional
        The area at ``res``: exactly these rows. None: the cells holding a community.
    communities : DataFrame, optional
        The communities table (``community_id``, ``volunteers``) for the volunteers;
        without it ``volunteers`` is 0.

    Returns
    -------
    DataFrame
        Sorted by cell: ``cell``, ``communities``, ``households``, ``certified_households``
        (of certified communities not at risk), ``at_risk`` (communities), ``volunteers``.
    """
    hh = pd.to_numeric(statuses["households"]).astype("Float64").fillna(0).to_numpy(np.float64)
    good = (statuses["status"].astype(str) == "certified").to_numpy() & ~statuses[
        "at_risk"
    ].to_numpy(dtype=bool)
    vol = np.zeros(len(statuses), dtype=np.float64)
    if communities is not None and "volunteers" in communities.columns:
        by_id = pd.Series(
            pd.to_numeric(communities["volunteers"]).astype("Float64").fillna(0).to_numpy(),
            index=communities["community_id"].astype(str).to_numpy(),
        )
        vol = np.asarray(
            by_id.reindex(statuses["community_id"].astype(str)).fillna(0), dtype=np.float64
        )
    frame = pd.DataFrame(
        {
            "cell": community_points_at(statuses, res),
            "communities": 1,
            "households": hh,
            "certified_households": np.where(good, hh, 0.0),
            "at_risk": statuses["at_risk"].to_numpy(dtype=np.int64),
            "volunteers": vol,
        }
    )
    sums = frame.groupby("cell", sort=True).sum()
    index = area_to_cells(cells, res=res) if cells is not None else sums.index.to_numpy(np.uint64)
    sums = sums.reindex(pd.Index(index, dtype=np.uint64), fill_value=0)
    out = sums.reset_index(names="cell")
    out["cell"] = out["cell"].astype(np.uint64)
    for col in ("communities", "at_risk"):
        out[col] = out[col].astype(np.int64)
    return out


@dataclass(frozen=True)
class CellLayers:
    """Every per-cell layer of one area, resolution and window, computed once.

    ``zones`` is the area's cells with ``grid_id`` and ``precinct_id``; ``statuses`` is
    one row per community (:func:`layers.safe_community.community_status`), the others
    one row per area cell (``dose`` one per hot-spot cell), as their functions return.
    """

    res: int
    since: pd.Timestamp
    until: pd.Timestamp
    patrol_since: pd.Timestamp
    cells: npt.NDArray[np.uint64]
    zones: pd.DataFrame
    population: pd.DataFrame
    heat: pd.DataFrame
    hotspots: pd.DataFrame
    emerging: pd.DataFrame | None
    change: pd.DataFrame
    band_counts: pd.DataFrame
    coverage: pd.DataFrame
    dose: pd.DataFrame
    reach: pd.DataFrame
    statuses: pd.DataFrame | None
    communities: pd.DataFrame | None

    @property
    def incident_days(self) -> float:
        """Length of the incident window in days."""
        return float((self.until - self.since) / pd.Timedelta(days=1))


def emerging_bins(
    since: pd.Timestamp, until: pd.Timestamp
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Weekly bins for emerging hot spots: the window's whole weeks, ending at ``until``;
    the last :data:`EMERGING_WEEKS` weeks when the window is shorter than :data:`MIN_WEEKS`
    (the dashboard's rule, so the two agree)."""
    week = pd.Timedelta(weeks=1)
    start = since if until - since >= MIN_WEEKS * week else until - EMERGING_WEEKS * week
    weeks = (until - start) // week
    return [(until - (weeks - i) * week, until - (weeks - i - 1) * week) for i in range(weeks)]


def _area(
    area: BaseGeometry | npt.ArrayLike | None, zones: pd.DataFrame, res: int
) -> npt.NDArray[np.uint64]:
    if area is None:
        return area_to_cells(zones["cell"].to_numpy(dtype=np.uint64), res=res)
    if isinstance(area, BaseGeometry):
        return area_cells(area, res=res)
    return area_to_cells(area, res=res)


def cell_layers(
    incident_cube: pd.DataFrame,
    patrol_cube: pd.DataFrame | pl.DataFrame,
    visits: pd.DataFrame | pl.DataFrame,
    communities: pd.DataFrame,
    units: pd.DataFrame,
    grids: gpd.GeoDataFrame,
    area: BaseGeometry | npt.ArrayLike | None = None,
    *,
    res: int,
    since: pd.Timestamp | str,
    until: pd.Timestamp | str,
    patrol_since: pd.Timestamp | str | None = None,
    categories: Iterable[str] | None = None,
    bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS,
    k: int = 1,
    emerging: bool = True,
) -> CellLayers:
    """Compute every per-cell layer of the gap score and the grid table, once.

    Parameters
    ----------
    incident_cube, patrol_cube, visits : DataFrame
        The cubes of :mod:`geodata.cubes` (the visits table holding at least the stays
        from a few hours before ``patrol_since``). Not modified.
    communities, units : DataFrame
        The communities and response-unit tables.
    grids : GeoDataFrame
        The grids (``grid_id``, ``precinct_id``, ``population``, polygons in WGS84); without
        a ``population`` column the residents are unknown (no rate, no volunteer part).
    area : Polygon, MultiPolygon or array of uint64, optional
        The area (a chief's scope); None is every cell of the grids.
    res : int
        H3 resolution.
    since, until : Timestamp or str
        The incident window (risk), half-open, whole hours.
    patrol_since : Timestamp or str, optional
        Start of the patrol window (protection), which ends at ``until`` too; default
        ``since``. Risk may be judged over a quarter and protection over the last week.
    categories : iterable of str, optional
        Incident categories of the risk (None: all). Titles at risk use all incidents.
    bands : mapping of str to (int, int)
        Time-of-day bands of the patrol and band-count layers.
    k : int
        Gi* neighbourhood radius.
    emerging : bool
        Compute emerging hot spots (weekly Gi* with Mann–Kendall) for the trend part; the
        环比 change is always computed.

    Returns
    -------
    CellLayers
    """
    t0, t1 = pd.Timestamp(since), pd.Timestamp(until)
    p0 = t0 if patrol_since is None else pd.Timestamp(patrol_since)
    cats = None if categories is None else list(categories)
    zones = zone_cells(grids, res=res, id_col="grid_id", keep=("precinct_id",))
    cells = _area(area, zones, res)
    zones = zones[np.isin(zones["cell"].to_numpy(dtype=np.uint64), cells)].reset_index(drop=True)
    if "population" not in grids.columns:
        grids = grids.assign(population=np.nan)
    population = cell_population(grids, res=res, cells=cells, communities=communities)
    heat = incident_heat(
        incident_cube,
        res=res,
        since=t0,
        until=t1,
        categories=cats,
        population=population,
        cells=cells,
    )
    hotspots = gi_star(heat[["cell", "count"]], area_cells=cells, k=k)
    trends = None
    if emerging:
        bins = emerging_bins(t0, t1)
        values = incident_counts_by_bin(incident_cube, res=res, bins=bins, categories=cats)
        values = values[np.isin(values["cell"].to_numpy(), cells)].reset_index(drop=True)
        trends = emerging_hotspots(values, area_cells=cells, k=k, bins=list(range(len(bins))))
    change = period_change(incident_cube, res=res, since=t0, until=t1, categories=cats, cells=cells)
    by_band = band_counts(
        incident_cube, res=res, since=t0, until=t1, categories=cats, bands=bands, cells=cells
    )
    coverage = patrol_coverage(
        patrol_cube, visits, res=res, since=p0, until=t1, bands=bands, cells=cells
    )
    hot = hotspots.loc[hotspots["class"].isin(HOT_CLASSES), "cell"].to_numpy(dtype=np.uint64)
    dose = koper_dose(visits, hot, res=res, since=p0, until=t1, bands=bands)
    reached = reach(cells, units)
    statuses = None
    community = None
    if len(communities):
        statuses = community_status(communities, incident_cube, start=t0, end=t1)
        community = community_cells(statuses, res=res, cells=cells, communities=communities)
    return CellLayers(
        res=res,
        since=t0,
        until=t1,
        patrol_since=p0,
        cells=cells,
        zones=zones,
        population=population,
        heat=heat,
        hotspots=hotspots,
        emerging=trends,
        change=change,
        band_counts=by_band,
        coverage=coverage,
        dose=dose,
        reach=reached,
        statuses=statuses,
        communities=community,
    )


def gaps_of(
    layers: CellLayers,
    *,
    weights: GapWeights = DEFAULT_WEIGHTS,
    scales: GapScales = DEFAULT_SCALES,
    bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS,
    min_class: int = DEFAULT_GAP_CLASS,
) -> pd.DataFrame:
    """:func:`~layers.coverage_gaps.coverage_gaps` of layers already computed (same
    ``bands`` as :func:`cell_layers` was given), with grid and precinct columns."""
    return coverage_gaps(
        layers.cells,
        heat=layers.heat,
        hotspots=layers.hotspots,
        coverage=layers.coverage,
        reach=layers.reach,
        emerging=layers.emerging,
        change=layers.change,
        band_counts=layers.band_counts,
        communities=layers.communities,
        dose=layers.dose,
        zones=layers.zones,
        incident_days=layers.incident_days,
        weights=weights,
        scales=scales,
        bands=bands,
        min_class=min_class,
    )


def gap_layer(
    incident_cube: pd.DataFrame,
    patrol_cube: pd.DataFrame | pl.DataFrame,
    visits: pd.DataFrame | pl.DataFrame,
    communities: pd.DataFrame,
    units: pd.DataFrame,
    grids: gpd.GeoDataFrame,
    area: BaseGeometry | npt.ArrayLike | None = None,
    *,
    res: int,
    since: pd.Timestamp | str,
    until: pd.Timestamp | str,
    patrol_since: pd.Timestamp | str | None = None,
    categories: Iterable[str] | None = None,
    weights: GapWeights = DEFAULT_WEIGHTS,
    scales: GapScales = DEFAULT_SCALES,
    bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS,
    min_class: int = DEFAULT_GAP_CLASS,
    k: int = 1,
) -> pd.DataFrame:
    """The gap layer of an area from the cubes and tables already loaded.

    What the map, the wall screen and the exports call: :func:`cell_layers` then
    :func:`~layers.coverage_gaps.coverage_gaps`. To build the grid table from the same
    layers, call :func:`cell_layers` once and pass it to :func:`gaps_of` and
    :func:`layers.grid_stats.grid_statistics_of`.

    Parameters are those of :func:`cell_layers` and
    :func:`~layers.coverage_gaps.coverage_gaps`.

    Returns
    -------
    DataFrame
        The frame of :func:`~layers.coverage_gaps.coverage_gaps`, with ``grid_id`` and
        ``precinct_id``.
    """
    layers = cell_layers(
        incident_cube,
        patrol_cube,
        visits,
        communities,
        units,
        grids,
        area,
        res=res,
        since=since,
        until=until,
        patrol_since=patrol_since,
        categories=categories,
        bands=bands,
        k=k,
    )
    return gaps_of(layers, weights=weights, scales=scales, bands=bands, min_class=min_class)


__all__ = [
    "EMERGING_WEEKS",
    "HOT_CLASSES",
    "MIN_WEEKS",
    "CellLayers",
    "band_counts",
    "cell_layers",
    "community_cells",
    "emerging_bins",
    "gap_layer",
    "gaps_of",
]
