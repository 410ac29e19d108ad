"""The exports with fields of their own, each computed by the same function the map uses.

Each entry of :data:`HAND_WRITTEN` (incidents, hot spots, reach, safe communities,
patrol coverage: a GIS file covering the area, with classes for every cell) names the
map layers it presents and what it needs from the data directory, and computes,
for the whole county at one resolution, a table keyed by H3 cell with its values, an
integer ``class`` and the style that colours the classes. The area filter is applied
afterwards (:mod:`layers.export.assembly`), so a precinct's file holds exactly the rows
of the county's file that lie in the precinct — the same numbers the county map shows.
Every other map layer is exported as the registry computes it
(:mod:`layers.export.derived`, whose :data:`~layers.export.derived.LAYERS` is the whole
list).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.export_inputs import ExportInputs
from geodata.schema import INCIDENT_CATEGORIES, UNIT_KINDS, Label
from geodata.writers.bundle import FieldInfo, Style
from layers.classify import Scheme, ramp
from layers.export.styles import (
    AT_RISK_COLOUR,
    GREENS,
    HEAT_SCHEME,
    NO_DATA_COLOUR,
    PATROL_COLOURS,
    REACH_COLOURS,
    fixed_style,
    heat_style,
)
from layers.hotspots import HOTSPOT_CLASSES, gi_star
from layers.incident_heat import incident_counts, incident_heat
from layers.patrol_coverage import COVERAGE_CLASS_BINS, COVERAGE_CLASSES, patrol_coverage
from layers.population import cell_population
from layers.response_reach import BAND_LABELS, BAND_LIMITS, BANDS, DEFAULT_DETOUR, reach
from layers.safe_community import (
    DEFAULT_CAP,
    DEFAULT_MATCH_RES,
    DEFAULT_PER_DAYS,
    DEFAULT_VETO_CATEGORIES,
    SHARE_BINS,
    cell_status,
    community_status,
)
from layers.time_window import band_mask


class LayerUnavailable(ValueError):
    """The data directory lacks what a layer needs; the message says what."""


@dataclass(frozen=True)
class Request:
    """What the planner asked for, as a layer computation sees it."""

    res: int
    since: pd.Timestamp
    until: pd.Timestamp
    area_cells: npt.NDArray[np.uint64]
    categories: tuple[str, ...] | None = None
    hotspot_k: int = 1
    scheme: Scheme = HEAT_SCHEME
    band: str | None = None
    """Time-of-day band (a key of :data:`layers.time_window.BANDS`) of incidents and
    patrols, as the map's band filter; None: the whole day."""
    unit_kinds: tuple[str, ...] | None = None
    """Patrol unit kinds counted; None: all."""
    fdr: bool = False
    """Hot spots with the false discovery rate correction, as the map's switch."""


@dataclass(frozen=True)
class LayerTable:
    """A computed layer: ``frame`` has ``cell`` (uint64), the values and ``class``."""

    frame: pd.DataFrame
    fields: tuple[FieldInfo, ...]
    style: Style
    parameters: dict[str, Any] = field(default_factory=dict)
    windowed: bool = True


@dataclass(frozen=True)
class LayerSpec:
    """An exportable layer: its name, title, what it reads and how it is computed.

    ``presents`` names the map layers (:data:`layers.registry.LAYERS`) whose numbers
    the file holds, the first being the one whose resolutions and filters it takes;
    ``snapshot`` says it is computed by the registry itself from the data snapshot
    (:attr:`geodata.export_inputs.ExportInputs.source`) rather than from the frames.
    """

    name: str
    title: Label
    description: Label
    tables: tuple[str, ...]
    cubes: tuple[str, ...]
    compute: Callable[[ExportInputs, Request], LayerTable]
    presents: tuple[str, ...] = ()
    snapshot: bool = False

    @property
    def map_layer(self) -> str:
        """The map layer whose resolutions and filters this export takes."""
        return self.presents[0] if self.presents else self.name


def _need(
    inputs: ExportInputs, layer: str, *, tables: tuple[str, ...] = (), cubes: tuple[str, ...] = ()
) -> None:
    missing = [f"table {t}" for t in tables if inputs.table(t) is None]
    missing += [f"cube {c}" for c in cubes if inputs.cube(c) is None]
    if missing:
        raise LayerUnavailable(
            f"layer {layer} needs {', '.join(missing)}, which the data directory lacks"
        )


def _frame(inputs: ExportInputs, kind: str) -> pd.DataFrame:
    frame = inputs.table(kind)
    assert frame is not None  # checked by _need
    return frame


def _cube(inputs: ExportInputs, name: str) -> pd.DataFrame:
    cube = inputs.cube(name)
    assert cube is not None  # checked by _need
    return cube


def _incident_rows(inputs: ExportInputs, req: Request) -> pd.DataFrame:
    """The incidents cube of the request's time-of-day band (the map's band filter)."""
    cube = _cube(inputs, "incidents")
    return cube if req.band is None else cube[band_mask(cube["hour"], req.band)]


def _categories(req: Request) -> list[str] | None:
    return list(req.categories) if req.categories else None


# --- incidents -----------------------------------------------------------------------------

INCIDENTS_TITLE = Label("警情数", "Incidents")
COUNT_FIELD = FieldInfo(
    "count", "incidents", "警情数（起）", "Incidents", "incidents in the window"
)


def _population(inputs: ExportInputs, res: int) -> pd.DataFrame | None:
    """Residents per cell from the grids' figures (spread by households), or None."""
    grids = inputs.table("grids")
    if grids is None or grids.empty or "population" not in grids.columns:
        return None
    spread = cell_population(grids, res=res, communities=inputs.table("communities"))
    return pd.DataFrame({"cell": spread["cell"], "population": spread["population"]})


def _incidents(inputs: ExportInputs, req: Request) -> LayerTable:
    _need(inputs, "incidents", cubes=("incidents",))
    population = _population(inputs, req.res)
    heat = incident_heat(
        _incident_rows(inputs, req),
        res=req.res,
        since=req.since,
        until=req.until,
        categories=_categories(req),
        population=population,
    )
    counts = heat["count"].to_numpy(dtype=np.int64)
    # The map colours the count (its default); the rate travels as a value.
    classes, style = heat_style(
        counts, title=INCIDENTS_TITLE, unit=Label("起", "incidents"), scheme=req.scheme
    )
    frame = pd.DataFrame(
        {
            "cell": heat["cell"].to_numpy(dtype=np.uint64),
            "count": counts,
            "population": heat["population"].to_numpy(dtype=np.float64),
            "rate_per_1000": heat["rate_per_1000"].to_numpy(dtype=np.float64),
            "pop_state": pd.array(heat["state"].astype(str).to_numpy(), dtype="str"),
            "class": classes,
        }
    )
    fields = (
        COUNT_FIELD,
        FieldInfo(
            "population",
            "residents",
            "实有人口（估）",
            "Residents (estimated)",
            "grid population spread over its cells by households; empty when unknown",
        ),
        FieldInfo(
            "rate_per_1000",
            "incidents per 1,000 residents",
            "每千人警情数",
            "Incidents per 1,000 residents",
            "empty when the population is unknown",
        ),
        FieldInfo("pop_state", "code", "人口状态", "Population state", "ok or no_population"),
    )
    return LayerTable(
        frame=frame,
        fields=fields,
        style=style,
        parameters={
            "categories": _categories(req) or "all",
            "band": req.band or "all",
            "classification": {"of": "count", "scheme": req.scheme, "classes": len(style.classes)},
            "population": "grids' population spread by households"
            if population is not None
            else None,
        },
    )


# --- hot spots -----------------------------------------------------------------------------

HOTSPOT_ORDER: tuple[str, ...] = tuple(reversed(HOTSPOT_CLASSES))
"""Gi* classes from cold_99 (class 0) to hot_99 (class 6), the order of the diverging ramp."""


def _hotspots(inputs: ExportInputs, req: Request) -> LayerTable:
    _need(inputs, "hotspots", cubes=("incidents",))
    counts = incident_counts(
        _incident_rows(inputs, req),
        res=req.res,
        since=req.since,
        until=req.until,
        categories=_categories(req),
    )
    gi = gi_star(counts, area_cells=req.area_cells, k=req.hotspot_k, fdr=req.fdr)
    index = {code: i for i, code in enumerate(HOTSPOT_ORDER)}
    frame = pd.DataFrame(
        {
            "cell": gi["cell"].to_numpy(dtype=np.uint64),
            "count": gi["value"].to_numpy().round().astype(np.int64),
            "neighbours": gi["neighbours"].to_numpy(dtype=np.int64),
            "gi_z": gi["gi_z"].to_numpy(dtype=np.float64),
            "p_value": gi["p_value"].to_numpy(dtype=np.float64),
            "class_code": pd.array(gi["class"].astype(str).to_numpy(), dtype="str"),
            "class": gi["class"].map(index).to_numpy(dtype=np.int64),
        }
    )
    style = fixed_style(
        {i: HOTSPOT_CLASSES[c] for i, c in enumerate(HOTSPOT_ORDER)},
        ramp("diverging", len(HOTSPOT_ORDER)),
        title=Label("热点分析（Gi*）", "Hot spots (Getis-Ord Gi*)"),
        unit="z",
    )
    fields = (
        COUNT_FIELD,
        FieldInfo(
            "neighbours",
            "cells",
            "邻域六边形数",
            "Cells in the neighbourhood",
            "the cell and its k-ring inside the area (W_i)",
        ),
        FieldInfo(
            "gi_z", "z-score", "Gi* z值", "Gi* z-score", "Getis-Ord Gi* standardised statistic"
        ),
        FieldInfo(
            "p_value", "probability", "p值（双侧）", "p-value (two-sided)", "normal approximation"
        ),
        FieldInfo(
            "class_code",
            "code",
            "热点类别代码",
            "Hot-spot class code",
            "hot_99 ... not_significant ... cold_99",
        ),
    )
    return LayerTable(
        frame=frame,
        fields=fields,
        style=style,
        parameters={
            "categories": _categories(req) or "all",
            "band": req.band or "all",
            "fdr": "Benjamini-Hochberg" if req.fdr else "none",
            "k": req.hotspot_k,
            "weights": "binary, cell plus its k-ring inside the county",
            "study_area": "county (cells of the area boundary)",
            "confidence_z": {"99": 2.576, "95": 1.960, "90": 1.645},
        },
    )


# --- response reach ------------------------------------------------------------------------


def _response_reach(inputs: ExportInputs, req: Request) -> LayerTable:
    _need(inputs, "response_reach", tables=("response_units",))
    result = reach(req.area_cells, _frame(inputs, "response_units"))
    frame = pd.DataFrame(
        {
            "cell": result["cell"].to_numpy(dtype=np.uint64),
            "minutes": result["minutes"].to_numpy(dtype=np.float64),
            "distance_m": result["distance_m"].to_numpy(dtype=np.float64),
            "nearest_unit": pd.array(result["nearest_unit"].to_numpy(dtype=object), dtype="str"),
            "nearest_kind": pd.array(result["nearest_kind"].to_numpy(dtype=object), dtype="str"),
            "band": pd.array(result["band"].astype(str).to_numpy(), dtype="str"),
            "class": result["class"].to_numpy(dtype=np.int64),
        }
    )
    bounds = [
        (None, BAND_LIMITS[0]),
        (BAND_LIMITS[0], BAND_LIMITS[1]),
        (BAND_LIMITS[1], BAND_LIMITS[2]),
        (BAND_LIMITS[2], None),
    ]
    style = fixed_style(
        {i: BAND_LABELS[b] for i, b in enumerate(BANDS)},
        REACH_COLOURS,
        title=Label("1-3-5分钟处置圈", "1-3-5 minute response reach"),
        unit="min",
        bounds=bounds,
    )
    fields = (
        FieldInfo(
            "minutes",
            "min",
            "到最近处置单元（分钟）",
            "Minutes to the nearest unit",
            "straight line x detour / speed of the unit's kind",
        ),
        FieldInfo(
            "distance_m", "m", "直线距离（米）", "Straight-line distance (m)", "to the nearest unit"
        ),
        FieldInfo("nearest_unit", "id", "最近处置单元", "Nearest unit", "unit_id"),
        FieldInfo("nearest_kind", "code", "单元类型", "Unit kind", "response_unit_kind code"),
        FieldInfo("band", "code", "处置圈", "Band", "within_1, within_3, within_5, beyond_5"),
    )
    return LayerTable(
        frame=frame,
        fields=fields,
        style=style,
        parameters={
            "detour": DEFAULT_DETOUR,
            "travel_model": "straight line x detour at the speed of the unit's kind (no road network)",
            "band_limits_min": list(BAND_LIMITS),
        },
        windowed=False,
    )


# --- safe communities ----------------------------------------------------------------------

SHARE_LABELS: Mapping[int, Label] = MappingProxyType(
    {
        0: Label("无已创建户", "No certified households"),
        1: Label("已创建户 ≤ 25%", "Certified households ≤ 25 %"),
        2: Label("已创建户 25–50%", "Certified households 25–50 %"),
        3: Label("已创建户 50–75%", "Certified households 50–75 %"),
        4: Label("已创建户 75–100%", "Certified households 75–100 %"),
        5: Label("已创建·称号存疑", "Certified, title at risk"),
        6: Label("户数未知", "Households unknown"),
    }
)
"""The map's safe-community classes: the certified share (0–4, by
:data:`layers.safe_community.SHARE_BINS`), then any title at risk (5) and no households
on record (6) over it."""
AT_RISK_CLASS = 5
NO_HOUSEHOLDS_CLASS = 6


def _safe_community(inputs: ExportInputs, req: Request) -> LayerTable:
    _need(inputs, "safe_community", tables=("communities",), cubes=("incidents",))
    communities = community_status(
        _frame(inputs, "communities"),
        _cube(inputs, "incidents"),
        start=req.since,
        end=req.until,
    )
    status = cell_status(communities, res=req.res)
    frame = status.copy()
    frame["cell"] = frame["cell"].to_numpy(dtype=np.uint64)
    frame["state"] = pd.array(frame["state"].astype(str).to_numpy(), dtype="str")
    klass = frame["class"].fillna(NO_HOUSEHOLDS_CLASS).astype(np.int64).to_numpy()
    frame["class"] = np.where(frame["at_risk"].to_numpy() > 0, AT_RISK_CLASS, klass)
    bounds: list[tuple[float | None, float | None]] = [(None, SHARE_BINS[0])]
    bounds += [(SHARE_BINS[i - 1], SHARE_BINS[i]) for i in range(1, len(SHARE_BINS))]
    style = fixed_style(
        SHARE_LABELS,
        [*GREENS, AT_RISK_COLOUR, NO_DATA_COLOUR],
        title=Label("平安创建", "Safe-community status"),
        unit="share of households certified",
        bounds=[*bounds, (None, None), (None, None)],
    )
    count = "communities"
    fields = (
        FieldInfo(
            "communities",
            count,
            "创建对象数",
            "Communities",
            "compounds, villages and units in the programme",
        ),
        FieldInfo("certified", count, "已创建", "Certified", ""),
        FieldInfo("in_progress", count, "创建中", "In progress", ""),
        FieldInfo("not_started", count, "未启动", "Not started", ""),
        FieldInfo("households", "households", "户数", "Households", "of the cell's communities"),
        FieldInfo(
            "certified_households",
            "households",
            "已创建户数",
            "Households in certified communities",
            "",
        ),
        FieldInfo(
            "certified_share",
            "share (0-1)",
            "已创建户数占比",
            "Certified share of households",
            "empty without households",
        ),
        FieldInfo(
            "zero_incident",
            count,
            "零发案对象数",
            "Zero-incident communities",
            "no incident in the window",
        ),
        FieldInfo(
            "at_risk",
            count,
            "称号存疑对象数",
            "Certified titles at risk",
            "incident rate above the cap or a veto incident",
        ),
        FieldInfo("state", "code", "状态", "State", "ok, no_households, no_communities"),
    )
    return LayerTable(
        frame=frame[["cell", *(f.name for f in fields), "class"]],
        fields=fields,
        style=style,
        parameters={
            "match_res": DEFAULT_MATCH_RES,
            "cap_per_100_households": DEFAULT_CAP,
            "per_days": DEFAULT_PER_DAYS,
            "veto_categories": list(DEFAULT_VETO_CATEGORIES),
            "cells": "cells holding at least one community",
        },
    )


# --- patrol coverage -----------------------------------------------------------------------


def _patrol(inputs: ExportInputs, req: Request) -> LayerTable:
    _need(inputs, "patrol_coverage", cubes=("patrol", "visits"))
    cover = patrol_coverage(
        _cube(inputs, "patrol"),
        _cube(inputs, "visits"),
        res=req.res,
        since=req.since,
        until=req.until,
        unit_kinds=list(req.unit_kinds) if req.unit_kinds else None,
        band=req.band,
        cells=req.area_cells,
    )
    kinds = [
        c.removeprefix("dwell_min_")
        for c in cover.columns
        if c.startswith("dwell_min_") and c != "dwell_min_per_day"
    ]
    frame = pd.DataFrame(
        {
            "cell": cover["cell"].to_numpy(dtype=np.uint64),
            "dwell_min_per_day": cover["dwell_min_per_day"].to_numpy(dtype=np.float64),
            "dwell_min": cover["dwell_min"].to_numpy(dtype=np.float64),
            "fixes": cover["fixes"].to_numpy(dtype=np.int64),
            "visits": cover["visits"].to_numpy(dtype=np.int64),
            "units": cover["units"].to_numpy(dtype=np.int64),
            "last_visit": pd.array(
                [None if pd.isna(t) else pd.Timestamp(t).isoformat() for t in cover["last_visit"]],
                dtype="str",
            ),
            "longest_gap_h": cover["longest_gap_h"].to_numpy(dtype=np.float64),
        }
    )
    fields = [
        FieldInfo(
            "dwell_min_per_day",
            "min/day",
            "日均驻留（分钟）",
            "Dwell per day (min)",
            "what the classes are drawn from",
        ),
        FieldInfo("dwell_min", "min", "驻留（分钟）", "Dwell (min)", "capped per fix by unit kind"),
        FieldInfo("fixes", "fixes", "定位点数", "GPS fixes", ""),
        FieldInfo("visits", "visits", "到访次数", "Visits", "visits starting in the window"),
        FieldInfo("units", "units", "巡逻单元数", "Distinct units", ""),
        FieldInfo(
            "last_visit", "time (UTC+8)", "最近到访", "Last visit", "start of the latest visit"
        ),
        FieldInfo(
            "longest_gap_h",
            "h",
            "最长空档（小时）",
            "Longest gap (h)",
            "longest stretch with no unit present",
        ),
    ]
    for kind in kinds:
        if kind in UNIT_KINDS:
            frame[f"dwell_min_{kind}"] = cover[f"dwell_min_{kind}"].to_numpy(dtype=np.float64)
            label = UNIT_KINDS[kind]
            fields.append(
                FieldInfo(
                    f"dwell_min_{kind}",
                    "min",
                    f"{label.zh}驻留（分钟）",
                    f"{label.en} dwell (min)",
                    "",
                )
            )
    frame["class"] = cover["class"].to_numpy(dtype=np.int64)
    bounds: list[tuple[float | None, float | None]] = [(None, COVERAGE_CLASS_BINS[0])]
    bounds += [
        (COVERAGE_CLASS_BINS[i - 1], COVERAGE_CLASS_BINS[i])
        for i in range(1, len(COVERAGE_CLASS_BINS))
    ]
    bounds.append((COVERAGE_CLASS_BINS[-1], None))
    style = fixed_style(
        dict(COVERAGE_CLASSES),
        PATROL_COLOURS,
        title=Label("巡逻覆盖（日均驻留）", "Patrol coverage (dwell per day)"),
        unit="min/day",
        bounds=bounds,
    )
    return LayerTable(
        frame=frame,
        fields=tuple(fields),
        style=style,
        parameters={
            "unit_kinds": list(req.unit_kinds) if req.unit_kinds else "all",
            "band": req.band or "all",
            "class_bins_min_per_day": list(COVERAGE_CLASS_BINS),
            "dwell": "cube dwell, capped per fix by unit kind (geodata.cubes.patrol)",
        },
    )


HAND_WRITTEN: Mapping[str, LayerSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            LayerSpec(
                "incidents",
                INCIDENTS_TITLE,
                Label("时间窗内每个六边形的警情数", "Incidents per hexagon in the window"),
                tables=("grids", "communities"),
                cubes=("incidents",),
                compute=_incidents,
                presents=("heat", "rate"),
            ),
            LayerSpec(
                "hotspots",
                Label("热点分析（Gi*）", "Hot spots (Getis-Ord Gi*)"),
                Label(
                    "Getis-Ord Gi* 热点与冷点（90/95/99%置信）",
                    "Getis-Ord Gi* hot and cold spots at 90/95/99 % confidence",
                ),
                tables=(),
                cubes=("incidents",),
                compute=_hotspots,
                presents=("hotspots",),
            ),
            LayerSpec(
                "response_reach",
                Label("1-3-5分钟处置圈", "1-3-5 minute response reach"),
                Label(
                    "每个六边形到最近最小应急处置单元的分钟数",
                    "Minutes from each hexagon to the nearest minimum response unit",
                ),
                tables=("response_units",),
                cubes=(),
                compute=_response_reach,
                presents=("reach",),
            ),
            LayerSpec(
                "safe_community",
                Label("平安创建", "Safe communities"),
                Label(
                    "每个六边形的平安创建对象状态、已创建户数占比与称号存疑",
                    "Safe-community status per hexagon: certified share, titles at risk",
                ),
                tables=("communities",),
                cubes=("incidents",),
                compute=_safe_community,
                presents=("community",),
            ),
            LayerSpec(
                "patrol_coverage",
                Label("巡逻覆盖", "Patrol coverage"),
                Label(
                    "每个六边形的巡逻驻留、到访、单元数与最长空档（各类巡逻力量）",
                    "Patrol dwell, visits, units and longest gap per hexagon (every unit kind)",
                ),
                tables=(),
                cubes=("patrol", "visits"),
                compute=_patrol,
                presents=("patrol",),
            ),
        )
    }
)
"""The exports with fields of their own (names, units, the classes of a GIS file that
covers the area); every other map layer is exported as the registry computes it
(:mod:`layers.export.derived`)."""


def known_categories() -> tuple[str, ...]:
    """Incident category codes accepted by ``categories``."""
    return tuple(INCIDENT_CATEGORIES)
