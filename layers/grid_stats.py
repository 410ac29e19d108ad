"""Grid statistics: one table per grid (网格) and per precinct (派出所辖区) for chiefs and exports.

Each row is a zone with its incidents (count, rate per 1,000 residents, 环比/同比 with
significance), patrol coverage %, Koper dose, safe-community share, response-reach share
and gap cells. The chief's page and the exports read this same table, so a figure on the
screen and in a planner's file never disagree; :data:`LABELS` gives every column a zh-CN
and an English heading.

Both levels live in one frame with a ``level`` column (``"precinct"`` rows first, then
``"grid"``), rather than two frames: an export writes one table, a page filters by level,
and the columns are the same at both levels. Every per-cell input is computed once by the
caller (:func:`layers.coverage_gaps.cell_layers`) and only summed here; a cell counts in
the grid (and precinct) holding its centre, as in :func:`layers.grids.zone_cells`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.schema import Label
from layers.change import COMPARISONS, DEFAULT_ALPHA, DEFAULT_STABLE_PCT, compare_counts
from layers.coverage_gaps import CellLayers
from layers.patrol_coverage import CoverageStandard, coverage_share, koper_summary
from layers.response_reach import grid_reach
from layers.safe_community import grid_status

FloatArray = npt.NDArray[np.float64]

LEVELS: Final[tuple[str, ...]] = ("precinct", "grid")
"""Values of the ``level`` column, in the order of the rows."""

_ID_COLUMNS: Final[Mapping[str, str]] = MappingProxyType(
    {"precinct": "precinct_id", "grid": "grid_id"}
)

DEFAULT_STANDARD: Final[CoverageStandard] = CoverageStandard()

LABELS: Final[Mapping[str, Label]] = MappingProxyType(
    {
        "level": Label("层级", "Level"),
        "zone_id": Label("编号", "ID"),
        "name": Label("名称", "Name"),
        "precinct_id": Label("派出所编号", "Precinct ID"),
        "cells": Label("六边形数", "Hexagons"),
        "population": Label("实有人口", "Residents"),
        "incidents": Label("警情数", "Incidents"),
        "rate_per_1000": Label("每千人警情数", "Incidents per 1,000 residents"),
        "incidents_mom": Label("上月同期警情数", "Incidents a month earlier"),
        "change_mom_pct": Label("环比（%）", "Month on month (%)"),
        "significant_mom": Label("环比变化显著", "Month-on-month change significant"),
        "class_mom": Label("环比分类", "Month-on-month class"),
        "state_mom": Label("环比状态", "Month-on-month state"),
        "incidents_yoy": Label("去年同期警情数", "Incidents a year earlier"),
        "change_yoy_pct": Label("同比（%）", "Year on year (%)"),
        "significant_yoy": Label("同比变化显著", "Year-on-year change significant"),
        "class_yoy": Label("同比分类", "Year-on-year class"),
        "state_yoy": Label("同比状态", "Year-on-year state"),
        "coverage_share": Label("巡逻覆盖率", "Patrol coverage"),
        "covered_cells": Label("达标六边形数", "Hexagons meeting the patrol standard"),
        "no_patrol_cells": Label("无巡逻六边形数", "Hexagons without patrol"),
        "dwell_min": Label("巡逻驻留（分钟）", "Patrol dwell (min)"),
        "koper_dose": Label("热点巡防剂量（Koper）", "Koper dose at hot spots"),
        "hotspot_cells": Label("热点六边形数", "Hot-spot hexagons"),
        "communities": Label("创建对象数", "Communities"),
        "certified": Label("已创建数", "Certified"),
        "certified_share": Label("已创建户占比", "Share of households certified"),
        "zero_incident": Label("零发案数", "Zero-incident communities"),
        "at_risk": Label("称号存疑数", "Titles at risk"),
        "reach_share": Label("5分钟处置圈人口覆盖率", "Residents within 5 min of a unit"),
        "population_beyond_5": Label("5分钟外人口", "Residents beyond 5 min"),
        "incidents_beyond_5": Label("5分钟外警情数", "Incidents beyond 5 min"),
        "max_minutes": Label("最远处置时间（分钟）", "Longest time to a unit (min)"),
        "gap_cells": Label("防控缺口六边形数", "Gap hexagons"),
        "gap_share": Label("缺口占比", "Share of hexagons that are gaps"),
    }
)
"""zh-CN and English headings of the columns of :func:`grid_statistics`, in order."""

COLUMNS: Final[tuple[str, ...]] = tuple(LABELS)


def _windows(
    change: pd.DataFrame, windows: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]] | None
) -> Mapping[str, tuple[pd.Timestamp, pd.Timestamp]]:
    found = windows if windows is not None else change.attrs.get("windows")
    if found is None:
        raise ValueError(
            "the windows of the change frame are unknown: pass windows= (period_change "
            "keeps them in attrs['windows'])"
        )
    missing = [k for k in ("now", *COMPARISONS) if k not in found]
    if missing:
        raise ValueError(f"windows lack {missing}")
    return found


def _hours(window: tuple[pd.Timestamp, pd.Timestamp]) -> float:
    return float((pd.Timestamp(window[1]) - pd.Timestamp(window[0])) / pd.Timedelta(hours=1))


def _sum_by(zone: npt.NDArray[np.int64], values: npt.ArrayLike, n: int) -> FloatArray:
    """Sum of ``values`` per zone code 0..n-1 (code -1: the cell is in no zone)."""
    v = np.asarray(values, dtype=np.float64)
    keep = zone >= 0
    return np.bincount(zone[keep], weights=v[keep], minlength=n).astype(np.float64)


def _per_cell(frame: pd.DataFrame, cells: pd.Index, col: str) -> pd.Series:
    index = pd.Index(frame["cell"].to_numpy(dtype=np.uint64))
    values = pd.to_numeric(frame[col]).astype("Float64").to_numpy(np.float64, na_value=np.nan)
    return pd.Series(values, index=index).reindex(cells)


def _incidents(
    zone: npt.NDArray[np.int64],
    cells: pd.Index,
    ids: pd.Index,
    change: pd.DataFrame,
    windows: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]],
    alpha: float,
    stable_pct: float,
) -> pd.DataFrame:
    now = _sum_by(zone, _per_cell(change, cells, "count").fillna(0), len(ids))
    out = pd.DataFrame({"incidents": now.astype(np.int64)}, index=ids)
    for name in COMPARISONS:
        earlier = _per_cell(change, cells, f"count_{name}")
        covered = bool(earlier.notna().any()) or len(cells) == 0
        counts = _sum_by(zone, earlier.fillna(0), len(ids)).astype(np.int64)
        result = compare_counts(
            out["incidents"].to_numpy(),
            counts,
            current_hours=_hours(windows["now"]),
            earlier_hours=_hours(windows[name]),
            covered=covered,
            alpha=alpha,
            stable_pct=stable_pct,
        )
        result.index = ids
        out[f"incidents_{name}"] = result["earlier"]
        out[f"change_{name}_pct"] = result["change_pct"]
        out[f"significant_{name}"] = result["significant"]
        out[f"class_{name}"] = result["class"]
        out[f"state_{name}"] = result["state"]
    return out


def _population(grids: pd.DataFrame, level: str, ids: pd.Index) -> pd.Series:
    if "population" not in grids.columns:
        return pd.Series(np.nan, index=ids)
    figures = pd.to_numeric(grids["population"]).astype("Float64")
    key = grids[_ID_COLUMNS[level]].astype(str)
    return figures.groupby(key.to_numpy()).sum(min_count=1).reindex(ids).astype("float64")


def grid_statistics(
    zones: pd.DataFrame,
    *,
    grids: pd.DataFrame,
    change: pd.DataFrame,
    coverage: pd.DataFrame,
    reach: pd.DataFrame,
    precincts: pd.DataFrame | None = None,
    dose: pd.DataFrame | None = None,
    statuses: pd.DataFrame | None = None,
    population: pd.DataFrame | None = None,
    gaps: pd.DataFrame | None = None,
    windows: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]] | None = None,
    standard: CoverageStandard = DEFAULT_STANDARD,
    alpha: float = DEFAULT_ALPHA,
    stable_pct: float = DEFAULT_STABLE_PCT,
) -> pd.DataFrame:
    """Per precinct and per grid: incidents, patrol coverage, dose, communities, reach, gaps.

    Parameters
    ----------
    zones : DataFrame
        The area's cells with their zones: ``cell``, ``grid_id``, ``precinct_id``
        (``layers.grids.zone_cells(grids, res=r, id_col="grid_id",
        keep=("precinct_id",))``). Its zones are the rows of the table.
    grids : DataFrame
        The grids: ``grid_id``, ``precinct_id``; ``name`` and ``population`` (residents,
        the 一标三实 figure) when known. Precinct population is the sum of its grids'.
    change : DataFrame
        :func:`layers.change.period_change` over the zone cells: ``count``,
        ``count_mom``, ``count_yoy`` (its ``attrs["windows"]`` give the window lengths).
    coverage : DataFrame
        :func:`layers.patrol_coverage.patrol_coverage` over the zone cells.
    reach : DataFrame
        :func:`layers.response_reach.reach` over the zone cells.
    precincts : DataFrame, optional
        ``precinct_id`` and ``name``, for the precinct rows' names.
    dose : DataFrame, optional
        :func:`layers.patrol_coverage.koper_dose` of the hot-spot cells.
    statuses : DataFrame, optional
        :func:`layers.safe_community.community_status` (communities by their ``grid_id``).
    population : DataFrame, optional
        :func:`layers.population.cell_population` at the zones' resolution, for the
        residents within 5 minutes; without it a zone's residents count as spread evenly.
    gaps : DataFrame, optional
        :func:`layers.coverage_gaps.coverage_gaps` (``is_gap``) over the zone cells.
    windows : mapping, optional
        The windows of ``change`` if its ``attrs`` lost them (``"now"``, ``"mom"``,
        ``"yoy"`` to ``(since, until)``).
    standard : CoverageStandard
        What a cell needs to count as patrolled (default 30 dwell minutes a day).
    alpha, stable_pct : float
        Significance level and stable band of 环比/同比, as in :mod:`layers.change`.

    Returns
    -------
    DataFrame
        One row per zone, precincts first, then grids, each sorted by ``zone_id``;
        columns :data:`COLUMNS` (headings in :data:`LABELS`). Figures that cannot be
        computed are missing (NaN/NA), never 0: ``rate_per_1000`` without residents,
        ``koper_dose`` without hot spots (and without ``dose``), ``certified_share``
        without households (and without ``statuses``), ``reach_share`` without
        residents, ``gap_cells`` without ``gaps``; 环比/同比 as in
        :func:`layers.change.compare_counts`. Shares are fractions 0..1.
    """
    for col in ("cell", "grid_id", "precinct_id"):
        if col not in zones.columns:
            raise KeyError(f"zones need a {col!r} column; got {list(zones.columns)}")
    spans = _windows(change, windows)
    cells = pd.Index(zones["cell"].to_numpy(dtype=np.uint64))
    if cells.has_duplicates:
        raise ValueError("zones list a cell twice: each cell belongs to one grid")
    grid_of = grids.assign(grid_id=grids["grid_id"].astype(str))
    names = {
        "grid": grid_of.set_index("grid_id")["name"] if "name" in grids.columns else None,
        "precinct": (
            precincts.assign(precinct_id=precincts["precinct_id"].astype(str)).set_index(
                "precinct_id"
            )["name"]
            if precincts is not None and "name" in precincts.columns
            else None
        ),
    }
    share = coverage_share(coverage, zones, standard=standard, id_cols=["precinct_id", "grid_id"])
    koper = (
        koper_summary(dose, zones, id_cols=["precinct_id", "grid_id"]) if dose is not None else None
    )
    parts = []
    for level in LEVELS:
        id_col = _ID_COLUMNS[level]
        codes, uniques = pd.factorize(zones[id_col].astype("str"), sort=True)
        zone = np.asarray(codes, dtype=np.int64)
        ids = pd.Index(np.asarray(uniques, dtype=object), name="zone_id", dtype="str")
        frame = pd.DataFrame(index=ids)
        frame["level"] = level
        frame["zone_id"] = ids.to_numpy()
        label = names[level]
        frame["name"] = (
            label.astype(str).reindex(ids).to_numpy(dtype=object) if label is not None else None
        )
        if level == "grid":
            frame["precinct_id"] = (
                grid_of.set_index("grid_id")["precinct_id"].astype(str).reindex(ids)
            )
        else:
            frame["precinct_id"] = ids.to_numpy()
        frame["cells"] = np.bincount(zone[zone >= 0], minlength=len(ids)).astype(np.int64)
        pop = _population(grids, level, ids)
        frame["population"] = pop.to_numpy(dtype=np.float64)
        incidents = _incidents(zone, cells, ids, change, spans, alpha, stable_pct)
        frame = frame.join(incidents)
        known = np.isfinite(pop.to_numpy()) & (pop.to_numpy() > 0)
        frame["rate_per_1000"] = np.divide(
            frame["incidents"].to_numpy(dtype=np.float64) * 1000.0,
            pop.to_numpy(dtype=np.float64),
            out=np.full(len(ids), np.nan),
            where=known,
        )

        mine = share[share["level"] == id_col].set_index("zone_id").reindex(ids)
        frame["coverage_share"] = mine["value"].to_numpy(dtype=np.float64)
        frame["covered_cells"] = mine["covered"].fillna(0).to_numpy(dtype=np.int64)
        frame["no_patrol_cells"] = mine["no_patrol"].fillna(0).to_numpy(dtype=np.int64)
        frame["dwell_min"] = mine["dwell_min"].fillna(0.0).to_numpy(dtype=np.float64)
        if koper is not None:
            k = koper[koper["level"] == id_col].set_index("zone_id").reindex(ids)
            frame["koper_dose"] = k["value"].to_numpy(dtype=np.float64)
            frame["hotspot_cells"] = k["hotspot_cells"].fillna(0).to_numpy(dtype=np.int64)
        else:
            frame["koper_dose"] = np.nan
            frame["hotspot_cells"] = pd.array([pd.NA] * len(ids), dtype="Int64")

        frame = frame.join(_communities(statuses, grid_of, level, ids))
        frame = frame.join(_reach(reach, zones, id_col, ids, population, pop, change))
        if gaps is not None:
            flag = _per_cell(gaps, cells, "is_gap").fillna(0)
            counted = _sum_by(zone, flag, len(ids)).astype(np.int64)
            frame["gap_cells"] = pd.array(counted, dtype="Int64")
            frame["gap_share"] = np.divide(
                counted.astype(np.float64),
                frame["cells"].to_numpy(dtype=np.float64),
                out=np.full(len(ids), np.nan),
                where=frame["cells"].to_numpy() > 0,
            )
        else:
            frame["gap_cells"] = pd.array([pd.NA] * len(ids), dtype="Int64")
            frame["gap_share"] = np.nan
        parts.append(frame.reset_index(drop=True))
    out = pd.concat(parts, ignore_index=True)
    for col in ("level", "zone_id", "name", "precinct_id"):
        out[col] = pd.array(out[col].to_numpy(dtype=object), dtype="str")
    return out[list(COLUMNS)]


def _communities(
    statuses: pd.DataFrame | None, grids: pd.DataFrame, level: str, ids: pd.Index
) -> pd.DataFrame:
    cols = ["communities", "certified", "certified_share", "zero_incident", "at_risk"]
    if statuses is None:
        out = pd.DataFrame(index=ids)
        for col in cols:
            out[col] = np.nan if col == "certified_share" else pd.array([pd.NA] * len(ids), "Int64")
        return out
    id_col = _ID_COLUMNS[level]
    frame = statuses
    if level == "precinct":
        precinct_of = grids.set_index("grid_id")["precinct_id"].astype(str)
        frame = statuses.assign(
            precinct_id=statuses["grid_id"].astype(str).map(precinct_of).to_numpy(dtype=object)
        )
    summary = grid_status(frame, pd.DataFrame({id_col: ids.to_numpy()}), id_col=id_col)
    summary = summary.set_index(id_col).reindex(ids)
    out = pd.DataFrame(index=ids)
    for col in cols:
        if col == "certified_share":
            out[col] = summary[col].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            out[col] = summary[col].fillna(0).to_numpy(dtype=np.int64)
    return out


def _reach(
    reach: pd.DataFrame,
    zones: pd.DataFrame,
    id_col: str,
    ids: pd.Index,
    population: pd.DataFrame | None,
    zone_population: pd.Series,
    change: pd.DataFrame,
) -> pd.DataFrame:
    zone_of = pd.Series(
        zones[id_col].to_numpy(dtype=object), index=pd.Index(zones["cell"].to_numpy(np.uint64))
    )
    cells = reach["cell"].to_numpy(dtype=np.uint64)
    placed = reach.assign(**{id_col: zone_of.reindex(cells).to_numpy(dtype=object)})
    placed = placed[pd.notna(placed[id_col]).to_numpy()]
    areas = gpd.GeoDataFrame(
        {id_col: ids.to_numpy(), "population": zone_population.to_numpy(dtype=np.float64)}
    )
    table = grid_reach(
        placed,
        areas,
        id_col=id_col,
        cell_population=population,
        incidents=change[["cell", "count"]],
    ).set_index(id_col)
    table = table.reindex(ids)
    people = table["population"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    beyond = (
        table["population_beyond_5"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    )
    out = pd.DataFrame(index=ids)
    out["reach_share"] = np.divide(
        people - beyond, people, out=np.full(len(ids), np.nan), where=people > 0
    )
    out["population_beyond_5"] = beyond
    out["incidents_beyond_5"] = table["incidents_beyond_5"].astype("Int64").to_numpy()
    out["max_minutes"] = (
        table["max_minutes"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    )
    return out


def grid_statistics_of(
    layers: CellLayers,
    *,
    grids: pd.DataFrame,
    precincts: pd.DataFrame | None = None,
    gaps: pd.DataFrame | None = None,
    standard: CoverageStandard = DEFAULT_STANDARD,
) -> pd.DataFrame:
    """:func:`grid_statistics` of layers computed once by
    :func:`layers.coverage_gaps.cell_layers` (and, optionally, their gap frame)."""
    return grid_statistics(
        layers.zones,
        grids=grids,
        precincts=precincts,
        change=layers.change,
        coverage=layers.coverage,
        reach=layers.reach,
        dose=layers.dose,
        statuses=layers.statuses,
        population=layers.population,
        gaps=gaps,
        windows=layers.change.attrs.get("windows"),
        standard=standard,
    )


__all__ = [
    "COLUMNS",
    "DEFAULT_STANDARD",
    "LABELS",
    "LEVELS",
    "grid_statistics",
    "grid_statistics_of",
]
