"""Protection views: safe-community status, 1-3-5 response reach and patrol presence.

Each calls :mod:`layers` (or the cubes of :mod:`geodata`) and returns a
:class:`~dashboard.views.base.LayerResult` with the numbers a click explains.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pandas as pd

from dashboard.views.base import BLUES, GREENS, Category, LayerParams, LayerResult
from geodata.cubes import rollup
from geodata.schema import Label
from layers.response_reach import BAND_LABELS, BANDS, reach
from layers.safe_community import cell_status, community_status
from layers.time_window import band_mask

REACH_COLOURS = ("#1a9850", "#a6d96a", "#fdae61", "#d73027")  # RdYlGn, 4 classes

SHARE_CATEGORIES = (
    Category("none", Label("无已创建户", "No certified households"), GREENS[0]),
    Category("s25", Label("已创建户 ≤ 25%", "Certified households ≤ 25 %"), GREENS[1]),
    Category("s50", Label("已创建户 25–50%", "Certified households 25–50 %"), GREENS[2]),
    Category("s75", Label("已创建户 50–75%", "Certified households 50–75 %"), GREENS[3]),
    Category("s100", Label("已创建户 75–100%", "Certified households 75–100 %"), GREENS[4]),
    Category("at_risk", Label("已创建·称号存疑", "Certified, title at risk"), "#7b3294"),
    Category("no_households", Label("户数未知", "Households unknown"), "#bdbdbd"),
)


def community_statuses(source: Any, p: LayerParams) -> pd.DataFrame:
    """Per community: status, incidents in the window, title at risk and its reason."""
    if source.communities.empty:
        return pd.DataFrame()
    since, until = p.window
    return community_status(source.communities, source.incident_cube, start=since, end=until)


def community(source: Any, p: LayerParams) -> LayerResult:
    """Safe-community status per hexagon: certified-household share, titles at risk."""
    statuses = community_statuses(source, p)
    cells = cell_status(statuses, res=p.res) if not statuses.empty else pd.DataFrame()
    if cells.empty:
        codes = np.zeros(0, dtype=np.float64)
        cell_ids = np.zeros(0, dtype=np.uint64)
    else:
        klass = cells["class"].to_numpy(dtype=np.float64, na_value=np.nan)
        codes = np.where(np.isnan(klass), 6.0, klass)
        codes = np.where(cells["at_risk"].to_numpy() > 0, 5.0, codes)
        cell_ids = cells["cell"].to_numpy()
    columns = [
        "communities",
        "certified",
        "in_progress",
        "not_started",
        "households",
        "certified_share",
        "zero_incident",
        "at_risk",
    ]
    explain = cells.set_index("cell")[columns] if not cells.empty else pd.DataFrame()
    return LayerResult(
        layer=p.layer,
        res=p.res,
        cells=cell_ids,
        values=codes,
        title=Label("平安创建", "Safe-community status"),
        unit=Label("按已创建户占比", "by certified households"),
        categories=SHARE_CATEGORIES,
        explain=explain,
        explain_labels={
            "communities": Label("小区/村社/单位", "Communities"),
            "certified": Label("已创建", "Certified"),
            "in_progress": Label("创建中", "In progress"),
            "not_started": Label("未启动", "Not started"),
            "households": Label("户数", "Households"),
            "certified_share": Label("已创建户占比", "Share of households certified"),
            "zero_incident": Label("零发案小区", "Zero-incident communities"),
            "at_risk": Label("称号存疑", "Titles at risk"),
        },
        summary=Label(
            "{certified}/{communities} 个已创建，{at_risk} 个称号存疑",
            "{certified} of {communities} certified, {at_risk} titles at risk",
        ),
        headline={
            "communities": len(statuses),
            "certified": int((statuses["status"] == "certified").sum()) if len(statuses) else 0,
            "at_risk": int(statuses["at_risk"].sum()) if len(statuses) else 0,
        },
        empty=Label("无小区数据", "No community data"),
    )


def response(source: Any, p: LayerParams) -> LayerResult:
    """Minutes to the nearest minimum response unit, banded 1-3-5, over the whole scope."""
    cells = source.scope_cells(p.res, p.scope)
    units = source.response_units
    if units.empty or not cells.size:
        frame = pd.DataFrame({"cell": np.zeros(0, np.uint64), "class": [], "minutes": []})
    else:
        frame = reach(cells, units)
    names = (
        units.set_index("unit_id")["name"].astype(str) if "name" in units else pd.Series(dtype=str)
    )
    explain = pd.DataFrame(
        {
            "minutes": frame["minutes"].to_numpy(dtype=np.float64),
            "nearest_unit": frame.get("nearest_unit", pd.Series(dtype=str))
            .map(names)
            .to_numpy(dtype=object)
            if len(frame)
            else [],
            "distance_m": frame.get("distance_m", pd.Series(dtype=float)).to_numpy(),
        },
        index=frame["cell"].to_numpy(),
    )
    beyond = int((frame["class"] == 3).sum()) if len(frame) else 0
    return LayerResult(
        layer=p.layer,
        res=p.res,
        cells=frame["cell"].to_numpy(),
        values=frame["class"].to_numpy(dtype=np.float64),
        title=Label("1-3-5 应急处置圈", "1-3-5 response reach"),
        unit=Label("到最近处置单元的时间", "time to the nearest unit"),
        categories=tuple(
            Category(b, BAND_LABELS[b], c) for b, c in zip(BANDS, REACH_COLOURS, strict=True)
        ),
        explain=explain,
        explain_labels={
            "minutes": Label("到最近处置单元（分钟）", "Minutes to the nearest unit"),
            "nearest_unit": Label("最近处置单元", "Nearest unit"),
            "distance_m": Label("直线距离（米）", "Straight-line distance (m)"),
        },
        summary=Label(
            "{beyond}/{cells} 个六边形超出 5 分钟处置圈",
            "{beyond} of {cells} hexagons beyond 5 minutes",
        ),
        headline={"beyond": beyond, "cells": len(frame)},
        empty=Label("无应急处置单元数据", "No response units"),
    )


def patrol_coverage_available() -> bool:
    """Whether ``layers.patrol_coverage`` (Koper dose, coverage share) exists yet."""
    return importlib.util.find_spec("layers.patrol_coverage") is not None


def patrol(source: Any, p: LayerParams) -> LayerResult:
    """Patrol presence per hexagon: minutes of dwell credited in the window, by unit kind
    and time-of-day band (from the patrol cube; capped dwell, see geodata.cubes.patrol)."""
    cube: pd.DataFrame = source.patrol_cube
    since, until = p.window
    keep = (cube["hour"] >= since) & (cube["hour"] < until)
    if p.kinds:
        keep &= cube["unit_kind"].isin(list(p.kinds))
    rows = cube[keep]
    rows = rows[band_mask(rows["hour"], p.band)]
    if rows.empty:
        sums = pd.DataFrame(
            {"cell": np.zeros(0, np.uint64), "dwell_s": np.zeros(0), "fixes": np.zeros(0)}
        )
    else:
        sums = rollup(rows[["cell", "hour", "unit_kind", "fixes", "dwell_s"]], p.res, keys=["cell"])
    minutes = sums["dwell_s"].to_numpy(dtype=np.float64) / 60.0
    explain = pd.DataFrame(
        {"dwell_min": minutes, "fixes": sums["fixes"].to_numpy(dtype=np.float64)},
        index=sums["cell"].to_numpy(),
    )
    return LayerResult(
        layer=p.layer,
        res=p.res,
        cells=sums["cell"].to_numpy(),
        values=minutes,
        title=Label("巡逻覆盖（驻留时长）", "Patrol presence (dwell)"),
        unit=Label("分钟 / 六边形", "minutes per hexagon"),
        colours=BLUES,
        explain=explain,
        explain_labels={
            "dwell_min": Label("巡逻驻留（分钟）", "Patrol dwell (minutes)"),
            "fixes": Label("定位点数", "GPS fixes"),
        },
        summary=Label(
            "{cells} 个六边形有巡逻，共驻留 {hours} 小时",
            "Patrols in {cells} hexagons, {hours} hours of dwell",
        ),
        headline={"cells": int(minutes.size), "hours": float(minutes.sum() / 60.0)},
        empty=Label("所选范围内无巡逻轨迹", "No patrol fixes in the selection"),
    )
