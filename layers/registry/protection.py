"""Protection layers: safe-community status, 1-3-5 response reach, patrol coverage and
the Koper dose at hot spots.

Each calls :mod:`layers` for the whole area and returns a
:class:`~layers.registry.frame.LayerResult` with the numbers a click explains. Patrol
coverage is :func:`layers.patrol_coverage.patrol_coverage`, classed and coloured as the
export classes it (:mod:`layers.export.styles`), so a planner's file and the screen agree.
The reach counts every unit of the area, a neighbour's too: a unit across the border
does reach a cell in five minutes (its name is hidden from a chief of another precinct,
see :func:`layers.registry.frame.cut`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl

from geodata.cubes.coarser import to_polars
from geodata.cubes.tables import COARSE_RES
from geodata.schema import UNIT_KINDS, Label
from layers.coverage_gaps import HOT_CLASSES
from layers.export.styles import PATROL_COLOURS
from layers.hotspots import gi_star
from layers.incident_heat import incident_counts
from layers.patrol_coverage import (
    BAND_LABELS as TIME_BANDS,
)
from layers.patrol_coverage import (
    COVERAGE_CLASSES,
    DEFAULT_BANDS,
    CoverageStandard,
    koper_dose,
    patrol_coverage,
)
from layers.registry.frame import GREENS, NO_ZONE, Category, LayerParams, LayerResult
from layers.registry.incidents import result
from layers.registry.inputs import Inputs
from layers.response_reach import BAND_LABELS, BANDS, reach
from layers.safe_community import cell_status, community_status

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


def community_statuses(data: Inputs, p: LayerParams) -> pd.DataFrame:
    """Per community: status, incidents in the window, title at risk and its reason, and
    the precinct holding it (``precinct_id``)."""
    if data.communities.empty:
        return pd.DataFrame()
    since, until = p.window
    out = community_status(data.communities, data.incident_cube, start=since, end=until)
    owner = dict(
        zip(data.communities["community_id"].astype(str), data.community_precincts, strict=True)
    )
    out["precinct_id"] = [owner.get(str(c)) for c in out["community_id"]]
    return out


def community(data: Inputs, p: LayerParams) -> LayerResult:
    """Safe-community status per hexagon: certified-household share, titles at risk."""
    statuses = community_statuses(data, p)
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
    counts = {
        "communities": cells["communities"].to_numpy(np.int64) if len(cells) else 0,
        "certified": cells["certified"].to_numpy(np.int64) if len(cells) else 0,
        "at_risk": cells["at_risk"].to_numpy(np.int64) if len(cells) else 0,
    }
    return result(
        data,
        p,
        cell_ids,
        codes,
        counts,
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
        empty=Label("无小区数据", "No community data"),
    )


def response(data: Inputs, p: LayerParams) -> LayerResult:
    """Minutes to the nearest minimum response unit, banded 1-3-5, over the whole area
    (every unit counts, whichever precinct it belongs to)."""
    cells = data.area_cells(p.res)
    units = data.response_units
    if units.empty or not cells.size:
        frame = pd.DataFrame({"cell": np.zeros(0, np.uint64), "class": [], "minutes": []})
    else:
        frame = reach(cells, units)
    names = (
        units.set_index("unit_id")["name"].astype(str) if "name" in units else pd.Series(dtype=str)
    )
    index = {pid: i for i, pid in enumerate(data.precinct_ids)}
    owner = pd.Series(
        [NO_ZONE if q is None else index.get(q, NO_ZONE) for q in data.unit_precincts],
        index=units["unit_id"].astype(str).to_numpy() if len(units) else [],
        dtype=np.int64,
    )
    nearest = frame.get("nearest_unit", pd.Series(dtype=str)).astype(str)
    explain = pd.DataFrame(
        {
            "minutes": frame["minutes"].to_numpy(dtype=np.float64),
            "nearest_unit": nearest.map(names).to_numpy(dtype=object) if len(frame) else [],
            "distance_m": frame.get("distance_m", pd.Series(dtype=float)).to_numpy(),
            "_unit_precinct": nearest.map(owner).fillna(NO_ZONE).to_numpy(dtype=np.int64)
            if len(frame)
            else np.zeros(0, np.int64),
        },
        index=frame["cell"].to_numpy(),
    )
    klass = frame["class"].to_numpy(dtype=np.int64) if len(frame) else np.zeros(0, np.int64)
    return result(
        data,
        p,
        frame["cell"].to_numpy(),
        frame["class"].to_numpy(dtype=np.float64),
        {"beyond": (klass == 3).astype(np.int64), "cells": 1},
        private={"nearest_unit": "_unit_precinct"},
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
        empty=Label("无应急处置单元数据", "No response units"),
    )


# --------------------------------------------------------------------------- patrol

PATROL_COLUMNS: Mapping[str, Any] = {
    "cell": pl.UInt64,
    **{f"cell_{r}": pl.UInt64 for r in COARSE_RES},
    "hour": pl.Datetime("us"),
    "unit_kind": pl.String,
    "fixes": pl.Int32,
    "dwell_s": pl.Float32,
}
"""The patrol cube's columns the coverage reads (an empty cube has them too): the exact
cells of each row at every resolution (``cell_6`` … ``cell_10``) among them."""

# Koper dose share classes (layers.patrol_coverage.SHARE_BINS: none, ≤¼, ≤½, ≤¾, more).
# ColorBrewer BuPu (Cynthia Brewer, Penn State; Apache-2.0), light to dark: more dosed
# hours read darker, like the patrol Blues, but apart from them.
DOSE_COLOURS = ("#edf8fb", "#b3cde3", "#8c96c6", "#8856a7", "#810f7c")
DOSE_CLASSES: Mapping[int, Label] = {
    0: Label("无有效剂量小时", "No dosed hour"),
    1: Label("有效剂量小时 ≤ 25%", "Dosed hours ≤ 25 %"),
    2: Label("有效剂量小时 25–50%", "Dosed hours 25–50 %"),
    3: Label("有效剂量小时 50–75%", "Dosed hours 50–75 %"),
    4: Label("有效剂量小时 > 75%", "Dosed hours > 75 %"),
}
ZONE_RES = 9
"""Resolution at which a grid's coverage % is counted: the coverage standard (30 min a
day, :class:`~layers.patrol_coverage.CoverageStandard`) is set for res-9 cells, as in
:mod:`layers.grid_stats`."""
STANDARD = CoverageStandard()


def top_first(labels: Mapping[int, Label], colours: Sequence[str]) -> tuple[Category, ...]:
    """Categories of fixed classes ``0..n-1``, the highest first (the legend reads like a
    thermometer); a class ``k`` is the value ``n - 1 - k`` (see :func:`class_index`)."""
    return tuple(Category(str(k), labels[k], colours[k]) for k in sorted(labels, reverse=True))


def class_index(classes: npt.ArrayLike, n: int) -> npt.NDArray[np.float64]:
    """The category index of each class ``0..n-1`` in :func:`top_first` order."""
    return (n - 1 - np.asarray(classes, dtype=np.int64)).astype(np.float64)


PATROL_CATEGORIES = top_first(COVERAGE_CLASSES, PATROL_COLOURS)
DOSE_CATEGORIES = top_first(DOSE_CLASSES, DOSE_COLOURS)


def has_patrols(data: Inputs) -> bool:
    """Whether the data set holds a patrol cube at all."""
    return "dwell_s" in data.patrol_cube.columns


def patrol_inputs(
    data: Inputs, since: pd.Timestamp, until: pd.Timestamp, kinds: Sequence[str] = ()
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The patrol cube rows of a window (and of some unit kinds only), and a visits
    table holding every visit that can matter to it.

    The cube's rows are cut here (one slice), so a layer reads only the window's; the
    visits by kind only, and by window in the layers themselves
    (:func:`layers.patrol_coverage.intervals.visits_near`, with only the columns they
    read: a copy of all the table's columns of the window's rows cost more than the merge).
    """
    cube = to_polars(data.patrol_cube)
    if not has_patrols(data):
        cube = pl.DataFrame({c: pl.Series(c, [], dtype=t) for c, t in PATROL_COLUMNS.items()})
    rows = _window_rows(cube, since, until)
    if kinds:
        rows = rows.filter(pl.col("unit_kind").is_in(list(kinds)))
    visits: pl.DataFrame = data.visits_for(since, until)
    if kinds:  # the gap layer counts what it is given
        visits = visits.filter(pl.col("unit_kind").is_in(list(kinds)))
    return rows, visits


def _window_rows(cube: pl.DataFrame, since: pd.Timestamp, until: pd.Timestamp) -> pl.DataFrame:
    """The cube's rows of ``[since, until)`` with the columns the coverage reads. The build
    stores the rows in order of hour, so the window is one slice found by binary search
    (no copy; a third of the time of a mask on the county demo); a cube in another order
    is filtered."""
    columns = [c for c in PATROL_COLUMNS if c in cube.columns]
    hours = cube["hour"].cast(pl.Datetime("us"))
    if hours.len() and hours.is_sorted():  # read in place, no copy of the column
        bounds = pl.Series([since, until], dtype=pl.Datetime("us"))
        lo, hi = (int(i) for i in hours.search_sorted(bounds))
        return cube.slice(lo, hi - lo).select(columns)
    return cube.filter((pl.col("hour") >= since) & (pl.col("hour") < until)).select(columns)


def _band(p: LayerParams) -> str | None:
    return None if p.band in ("", "all") else p.band


def _kind_labels(kinds: Sequence[str]) -> dict[str, Label]:
    chosen = [k for k in UNIT_KINDS if not kinds or k in kinds]
    return {f"dwell_min_{k}": Label(f"{UNIT_KINDS[k].zh}驻留（分钟）",
                                    f"{UNIT_KINDS[k].en} dwell (min)") for k in chosen}  # fmt: skip


PATROL_LABELS: dict[str, Label] = {
    "dwell_min_per_day": Label("日均驻留（分钟）", "Dwell per day (min)"),
    "dwell_min": Label("驻留合计（分钟）", "Dwell in the window (min)"),
    "visits": Label("到访次数", "Visits"),
    "units": Label("巡逻单元数（不重复）", "Distinct units"),
    "last_visit": Label("最近到访", "Last visit"),
    "longest_gap_h": Label("最长无人空档（小时）", "Longest gap without a unit (h)"),
    "fixes": Label("定位点数", "GPS fixes"),
}


def patrol_frame(data: Inputs, p: LayerParams) -> pd.DataFrame:
    """:func:`layers.patrol_coverage.patrol_coverage` of every cell of the area, for the
    window, unit kinds and time-of-day band of ``p`` (the export's call, with filters)."""
    since, until = p.window
    cube, visits = patrol_inputs(data, since, until, p.kinds)
    return patrol_coverage(
        cube,
        visits,
        res=p.res,
        since=since,
        until=until,
        unit_kinds=list(p.kinds) or None,
        band=_band(p),
        cells=data.area_cells(p.res),
    )


def patrol(data: Inputs, p: LayerParams) -> LayerResult:
    """Patrol coverage per hexagon: dwell minutes per day in the export's classes, with
    visits, distinct units, last visit and longest gap (exact, from the visits table).

    Cells of class 0 (no dwell at all) are not sent: the export's near-white on the map's
    white land would cost three quarters of the payload (≈34,000 of 44,000 county cells at
    res 9) to draw almost nothing; the legend says that uncoloured means no patrol."""
    if not has_patrols(data):
        frame = pd.DataFrame({"cell": np.zeros(0, np.uint64), "class": [], "dwell_min": []})
    else:
        frame = patrol_frame(data, p)
    classes = frame["class"].to_numpy(dtype=np.int64)
    active = (frame[["fixes", "visits", "units"]].to_numpy().sum(axis=1) > 0) if len(frame) else []
    labels = {
        **PATROL_LABELS,
        **_kind_labels(p.kinds),
        **{f"dwell_min_{b}": Label(f"{TIME_BANDS[b].zh}驻留（分钟）",
                                   f"{TIME_BANDS[b].en} dwell (min)") for b in DEFAULT_BANDS},
    }  # fmt: skip
    explain = frame[np.asarray(active, dtype=bool)].set_index("cell") if len(frame) else frame
    explain = explain[[c for c in labels if c in explain.columns]].copy()
    if "last_visit" in explain:
        text = pd.to_datetime(explain["last_visit"]).dt.strftime("%Y-%m-%d %H:%M")
        explain["last_visit"] = text.astype(object).where(text.notna(), None)
    dwell = frame["dwell_min"].to_numpy(dtype=np.float64)
    shown = classes > 0
    all_cells = frame["cell"].to_numpy(dtype=np.uint64)
    out = result(
        data,
        p,
        all_cells,
        class_index(classes, len(PATROL_CATEGORIES)),
        {
            "cells": 1,
            "patrolled": shown.astype(np.int64),
            "met": (classes >= 4).astype(np.int64),
            "hours": dwell / 60.0,
        },
        title=Label("巡逻覆盖（日均驻留）", "Patrol coverage (dwell per day)"),
        unit=Label("分钟 / 天；不着色为无巡逻", "min a day; uncoloured: no patrol"),
        categories=PATROL_CATEGORIES,
        explain=explain,
        explain_labels=labels,
        summary=Label(
            "{patrolled}/{cells} 个六边形有巡逻，{met} 个每天驻留 30 分钟以上，共 {hours} 小时",
            "Patrols in {patrolled} of {cells} hexagons, {met} with 30+ min a day; "
            "{hours} hours in all",
        ),
        empty=Label("所选时段和范围内无巡逻", "No patrol in this window and area"),
        nodata=Label("无巡逻", "No patrol"),
    )
    # Only patrolled cells are drawn; the headline above counted every cell of the area.
    drawn = np.isin(out.cells, all_cells[shown])
    out.cells, out.values = out.cells[drawn], out.values[drawn]
    out.lng, out.lat, out.precincts = out.lng[drawn], out.lat[drawn], out.precincts[drawn]
    return out


def hot_cells(data: Inputs, p: LayerParams) -> npt.NDArray[np.uint64]:
    """The hot spots (Gi*, k = 1, 95 % confidence or more) of the area at ``p.res``:
    incidents of the window and categories, the whole day — as the gap layer finds them."""
    since, until = p.window
    area = data.area_cells(p.res)
    counts = incident_counts(
        data.incident_cube,
        res=p.res,
        since=since,
        until=until,
        categories=list(p.cats) if p.cats else None,
    )
    counts = counts[np.isin(counts["cell"].to_numpy(), area)]
    gi = gi_star(counts, area_cells=area, k=1)
    return gi.loc[gi["class"].isin(HOT_CLASSES), "cell"].to_numpy(dtype=np.uint64)


DOSE_LABELS: dict[str, Label] = {
    "share_pct": Label("有效剂量小时占比（%）", "Dosed hours (%)"),
    "dosed_hours": Label("有效剂量小时", "Dosed hours"),
    "hours": Label("统计小时", "Hours counted"),
    "doses": Label("10–15 分钟停留次数", "Stops of 10–15 min (doses)"),
    "short_visits": Label("不足 10 分钟的到访", "Visits under 10 min"),
    "dose_min": Label("计入剂量（分钟）", "Dose credited (min)"),
    "excess_min": Label("超出 15 分钟部分（分钟）", "Minutes beyond 15 (min)"),
    "last_dose": Label("最近一次剂量", "Last dose"),
}


def koper(data: Inputs, p: LayerParams) -> LayerResult:
    """The Koper dose of each hot-spot hexagon: the share of its hours (of the band) dosed
    by 10–15 minute stops with revisits at most 2 hours apart
    (:func:`layers.patrol_coverage.koper_dose`)."""
    hot = hot_cells(data, p) if has_patrols(data) else np.zeros(0, np.uint64)
    if hot.size:
        since, until = p.window
        _, visits = patrol_inputs(data, since, until, p.kinds)
        dose = koper_dose(
            visits,
            hot,
            res=p.res,
            since=since,
            until=until,
            unit_kinds=list(p.kinds) or None,
            band=_band(p),
        )
    else:
        dose = pd.DataFrame({"cell": np.zeros(0, np.uint64), "value": [], "class": []})
    explain = dose.set_index("cell")
    if len(dose):
        explain = explain.assign(
            share_pct=explain["value"] * 100.0,
            last_dose=pd.Series(
                [
                    None if pd.isna(t) else pd.Timestamp(t).strftime("%Y-%m-%d %H:%M")
                    for t in explain["last_dose"]
                ],
                index=explain.index,
                dtype=object,
            ),
        )
    classes = dose["class"].to_numpy(dtype=np.int64)
    n = len(dose)
    return result(
        data,
        p,
        dose["cell"].to_numpy(dtype=np.uint64),
        class_index(classes, len(DOSE_CATEGORIES)),
        {
            "hot": 1,
            "dosed": dose["dosed_hours"].to_numpy(np.int64) if n else 0,
            "hours": dose["hours"].to_numpy(np.int64) if n else 0,
        },
        title=Label("热点巡防剂量", "Koper dose at hot spots"),
        unit=Label("10–15 分钟停留、2 小时内复巡", "10–15 min stops, back within 2 h"),
        categories=DOSE_CATEGORIES,
        explain=explain,
        explain_labels=DOSE_LABELS,
        summary=Label(
            "{hot} 个热点六边形，{dosed}/{hours} 个热点小时有效剂量",
            "{hot} hot-spot hexagons, {dosed} of {hours} hot-spot hours dosed",
        ),
        empty=Label("无 95% 以上置信的热点", "No hot spots at 95 % confidence or more"),
    )
