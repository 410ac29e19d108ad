"""Incident layers: counts and rates per hexagon, Gi* hot spots, emerging hot spots,
同比 and 环比.

Each calls :mod:`layers` on the incidents cube restricted to the chosen categories, window
and time-of-day band, for the whole area, and returns a
:class:`~layers.registry.frame.LayerResult` with the numbers a click explains and the
headline figures per precinct.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.schema import Label
from layers.change import CHANGE_CLASSES, period_change
from layers.classify import ramp
from layers.emerging import EMERGING_PATTERNS, emerging_hotspots
from layers.hotspots import HOTSPOT_CLASSES, gi_star, too_small_label
from layers.incident_heat import incident_counts, incident_counts_by_bin, incident_heat
from layers.population import cell_population
from layers.registry.frame import (
    PRECINCT_COLUMN,
    Category,
    LayerParams,
    LayerResult,
    totals_by_precinct,
)
from layers.registry.inputs import Inputs
from layers.time_window import band_mask, frames

TITLE = Label("警情数", "Incidents")
UNIT = Label("起 / 六边形", "per hexagon")

# Hot and cold spots: ColorBrewer RdBu (colour-blind safe), strongest at the ends.
HOTSPOT_COLOURS = {
    "hot_99": "#b2182b",
    "hot_95": "#ef8a62",
    "hot_90": "#fddbc7",
    "cold_90": "#d1e5f0",
    "cold_95": "#67a9cf",
    "cold_99": "#2166ac",
}

# Emerging patterns: reds for hot, blues for cold, the strongest trends darkest.
EMERGING_COLOURS = {
    "new_hot": "#fdd0a2",
    "consecutive_hot": "#fdae6b",
    "intensifying_hot": "#a50f15",
    "persistent_hot": "#e31a1c",
    "diminishing_hot": "#fb6a4a",
    "sporadic_hot": "#fee391",
    "oscillating_hot": "#dd3497",
    "historical_hot": "#d4b9da",
    "new_cold": "#c6dbef",
    "consecutive_cold": "#9ecae1",
    "intensifying_cold": "#08306b",
    "persistent_cold": "#2171b5",
    "diminishing_cold": "#6baed6",
    "sporadic_cold": "#deebf7",
    "oscillating_cold": "#807dba",
    "historical_cold": "#bcbddc",
}

# Emerging hot spots need a series of bins: weekly bins over the window when it holds at
# least this many weeks, otherwise over the last EMERGING_WEEKS weeks to its end.
MIN_WEEKS = 4
# Residents below which a hexagon's rate is not shown (see rate()).
MIN_POPULATION = 50.0
EMERGING_WEEKS = 12


def result(
    data: Inputs, p: LayerParams, cells: npt.ArrayLike, values: npt.ArrayLike,
    totals: dict[str, Any], **fields: Any,
) -> LayerResult:  # fmt: skip
    """A :class:`LayerResult` of ``cells`` with the precinct of each and the headline
    contributions ``totals`` (per-cell arrays aligned with ``cells``, or scalars) summed
    per precinct."""
    c = np.asarray(cells, dtype=np.uint64)
    zones = data.zones(p.res)
    codes = zones.codes_of(c)
    explain = fields.get("explain")
    if explain is not None and len(explain) and PRECINCT_COLUMN not in explain:
        explain[PRECINCT_COLUMN] = zones.codes_of(explain.index.to_numpy(dtype=np.uint64))
    return LayerResult(
        layer=p.layer, res=p.res, cells=c, values=np.asarray(values, dtype=np.float64),
        precincts=codes, totals=totals_by_precinct(codes, **totals), **fields,
    )  # fmt: skip


def _incidents(data: Inputs, p: LayerParams) -> pd.DataFrame:
    """The incidents cube limited to the time-of-day band (the window is left to layers)."""
    cube: pd.DataFrame = data.incident_cube
    if p.band in ("", "all"):
        return cube
    return cube[band_mask(cube["hour"], p.band)]


def _counts(data: Inputs, p: LayerParams, since: pd.Timestamp, until: pd.Timestamp) -> pd.DataFrame:
    return incident_counts(
        _incidents(data, p),
        res=p.res,
        since=since,
        until=until,
        categories=list(p.cats) if p.cats else None,
    )


def heat(data: Inputs, p: LayerParams) -> LayerResult:
    """Incident counts per hexagon in the window."""
    counts = _counts(data, p, *p.window)
    values = counts["count"].to_numpy(dtype=np.float64)
    return result(
        data,
        p,
        counts["cell"].to_numpy(),
        values,
        {"cells": 1, "total": counts["count"].to_numpy(dtype=np.int64)},
        title=TITLE,
        unit=UNIT,
        integer=True,
        explain=pd.DataFrame({"count": values}, index=counts["cell"].to_numpy()),
        explain_labels={"count": Label("窗口内警情数", "Incidents in the window")},
        summary=Label(
            "{cells} 个六边形，共 {total} 起警情", "{total} incidents in {cells} hexagons"
        ),
        empty=Label("所选范围内无警情", "No incidents in the selection"),
    )


def hotspots(data: Inputs, p: LayerParams) -> LayerResult:
    """Getis-Ord Gi* hot and cold spots (k = 1) over every cell of the area."""
    counts = _counts(data, p, *p.window)
    area = data.area_cells(p.res)
    if not counts.empty:
        counts = counts[np.isin(counts["cell"].to_numpy(), area)]
    gi = gi_star(counts, area_cells=area, k=1, fdr=p.fdr)
    codes = list(HOTSPOT_COLOURS)
    # A study region too small for the statistic (or without variance) says so, instead
    # of drawing every cell "not significant".
    too_small = too_small_label(gi)
    significant = gi[gi["class"] != "not_significant"] if too_small is None else gi.iloc[:0]
    index = pd.Index(codes).get_indexer(pd.Index(significant["class"]))
    explain = significant.set_index("cell")[["value", "neighbours", "gi_z", "p_value"]]
    klass = significant["class"].astype(str)
    return result(
        data,
        p,
        significant["cell"].to_numpy(),
        index.astype(np.float64),
        {
            "hot": klass.str.startswith("hot").to_numpy(dtype=np.int64),
            "cold": klass.str.startswith("cold").to_numpy(dtype=np.int64),
        },
        title=_fdr_title(Label("热点分析（Gi*）", "Hot spots (Gi*)"), p.fdr),
        unit=Label("置信度", "confidence"),
        categories=tuple(Category(c, HOTSPOT_CLASSES[c], HOTSPOT_COLOURS[c]) for c in codes),
        explain=explain,
        explain_labels={
            "value": Label("本六边形警情数", "Incidents in this hexagon"),
            "neighbours": Label("参与计算的相邻六边形（含自身）", "Hexagons in the neighbourhood"),
            "gi_z": Label("Gi* z 值", "Gi* z-score"),
            "p_value": Label("p 值", "p-value"),
        },
        summary=Label("{hot} 个热点六边形，{cold} 个冷点", "{hot} hot-spot hexagons, {cold} cold"),
        empty=too_small or Label("无显著热点或冷点", "No significant hot or cold spots"),
    )


def _fdr_title(title: Label, fdr: bool) -> Label:
    """A hot-spot title that says whether the FDR correction was applied (the legend's)."""
    if not fdr:
        return title
    return Label(f"{title.zh}·错误发现率校正", f"{title.en}, FDR-corrected")


def _weekly_bins(p: LayerParams) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    since, until = p.window
    if until - since < pd.Timedelta(weeks=MIN_WEEKS):
        since = until - pd.Timedelta(weeks=EMERGING_WEEKS)
    # Whole weeks ending at the window's end; a partial first week would look quiet.
    weeks = (until - since) // pd.Timedelta(weeks=1)
    return frames(until - pd.Timedelta(weeks=weeks), until, step="week")


def emerging(data: Inputs, p: LayerParams) -> LayerResult:
    """Emerging hot-spot patterns (Mann–Kendall on weekly Gi*) over every cell of the area."""
    bins = _weekly_bins(p)
    area = data.area_cells(p.res)
    values = incident_counts_by_bin(
        _incidents(data, p), res=p.res, bins=bins, categories=list(p.cats) if p.cats else None
    )
    values = values[np.isin(values["cell"].to_numpy(), area)]
    trends = emerging_hotspots(values, area_cells=area, bins=list(range(len(bins))), fdr=p.fdr)
    codes = list(EMERGING_COLOURS)
    too_small = too_small_label(trends)
    found = trends[trends["class"] != "none"] if too_small is None else trends.iloc[:0]
    index = pd.Index(codes).get_indexer(pd.Index(found["class"]))
    explain = found.set_index("cell")[["bins", "hot_bins", "cold_bins", "last_z", "mk_z", "mk_p"]]
    klass = found["class"].astype(str)
    return result(
        data,
        p,
        found["cell"].to_numpy(),
        index.astype(np.float64),
        {
            "hot": klass.str.endswith("_hot").to_numpy(dtype=np.int64),
            "cold": klass.str.endswith("_cold").to_numpy(dtype=np.int64),
        },
        title=_fdr_title(Label("时空热点趋势", "Emerging hot spots"), p.fdr),
        unit=Label(f"按周，共 {len(bins)} 周", f"weekly, {len(bins)} weeks"),
        categories=tuple(Category(c, EMERGING_PATTERNS[c], EMERGING_COLOURS[c]) for c in codes),
        explain=explain,
        explain_labels={
            "bins": Label("周数", "Weeks"),
            "hot_bins": Label("显著热点周数", "Weeks as a significant hot spot"),
            "cold_bins": Label("显著冷点周数", "Weeks as a significant cold spot"),
            "last_z": Label("最近一周 Gi* z 值", "Gi* z of the last week"),
            "mk_z": Label("趋势 Mann–Kendall z 值", "Trend (Mann–Kendall z)"),
            "mk_p": Label("趋势 p 值", "Trend p-value"),
        },
        summary=Label(
            "{hot} 个六边形呈热点模式，{cold} 个呈冷点模式",
            "{hot} hexagons with a hot-spot pattern, {cold} cold",
        ),
        empty=too_small or Label("无时空热点模式", "No emerging pattern"),
    )


def _change(data: Inputs, p: LayerParams, which: str) -> LayerResult:
    """同比 (``yoy``) or 环比 (``mom``): the window against the same window a year or a month
    earlier, classed by the % change, strong only where the exact test finds it significant."""
    since, until = p.window
    frame = period_change(
        _incidents(data, p),
        res=p.res,
        since=since,
        until=until,
        categories=list(p.cats) if p.cats else None,
    )
    klass = frame[f"class_{which}"]
    shown = frame[klass.notna() & (klass.astype(str) != "stable")]
    codes = list(CHANGE_CLASSES)
    index = pd.Index(codes).get_indexer(pd.Index(shown[f"class_{which}"].astype(str)))
    columns = ["count", f"count_{which}", f"change_{which}_pct", f"p_{which}"]
    explain = shown.set_index("cell")[columns].astype("float64")
    colours = ramp("diverging", len(codes))
    name = Label("环比", "Month on month") if which == "mom" else Label("同比", "Year on year")
    earlier = Label("上月同期", "Same window a month earlier")
    if which == "yoy":
        earlier = Label("去年同期", "Same window a year earlier")
    klass = shown[f"class_{which}"].astype(str)
    return result(
        data,
        p,
        shown["cell"].to_numpy(),
        index.astype(np.float64),
        {
            "up": klass.str.endswith("increase").to_numpy(dtype=np.int64),
            "down": klass.str.endswith("decrease").to_numpy(dtype=np.int64),
            "sig": shown[f"significant_{which}"].fillna(False).astype(bool).to_numpy(np.int64),
        },
        title=Label(f"警情{name.zh}", f"Incidents, {name.en.lower()}"),
        unit=Label("持平（±10%）不着色", "stable (±10 %) not coloured"),
        categories=tuple(
            Category(c, CHANGE_CLASSES[c], colour) for c, colour in zip(codes, colours, strict=True)
        ),
        explain=explain,
        explain_labels={
            "count": Label("本期警情", "Incidents now"),
            f"count_{which}": Label(f"{earlier.zh}警情", f"Incidents, {earlier.en.lower()}"),
            f"change_{which}_pct": Label("变化（%）", "Change (%)"),
            f"p_{which}": Label("精确检验 p 值", "Exact test p-value"),
        },
        summary=Label(
            "{up} 个六边形上升，{down} 个下降（{sig} 个显著）",
            "{up} hexagons up, {down} down ({sig} significant)",
        ),
        empty=Label("与上期相比无变化", "No change against the earlier window"),
    )


def change_mom(data: Inputs, p: LayerParams) -> LayerResult:
    """环比: against the same window one calendar month earlier."""
    return _change(data, p, "mom")


def change_yoy(data: Inputs, p: LayerParams) -> LayerResult:
    """同比: against the same window one calendar year earlier."""
    return _change(data, p, "yoy")


def rate(data: Inputs, p: LayerParams) -> LayerResult:
    """Incidents per 1,000 residents per hexagon (residents of each grid spread over its
    cells by :func:`layers.population.cell_population`); hexagons without a known
    population are drawn grey ("no population"), never as zero."""
    since, until = p.window
    population = None
    if len(data.grids) and "population" in data.grids.columns:
        population = cell_population(
            data.grids,
            res=p.res,
            communities=data.communities if len(data.communities) else None,
        )
    frame = incident_heat(
        _incidents(data, p),
        res=p.res,
        since=since,
        until=until,
        categories=list(p.cats) if p.cats else None,
        population=population,
    )
    values = (
        frame["rate_per_1000"].to_numpy(dtype=np.float64)
        if population is not None
        else (np.full(len(frame), np.nan))
    )
    explain = pd.DataFrame(
        {
            "count": frame["count"].to_numpy(dtype=np.float64),
            "population": frame["population"].to_numpy(dtype=np.float64)
            if "population" in frame
            else np.nan,
            "rate": values,
        },
        index=frame["cell"].to_numpy(),
    )
    # A rate over a handful of residents says nothing (one incident among 0.3 spread
    # residents is "3,000 per 1,000"): below MIN_POPULATION the hexagon is "unknown".
    small = explain["population"].to_numpy(dtype=np.float64) < MIN_POPULATION
    values = np.where(small, np.nan, values)
    explain["rate"] = values
    known = ~np.isnan(values)
    return result(
        data,
        p,
        frame["cell"].to_numpy(),
        values,
        {"cells": 1, "unknown": (~known).astype(np.int64)},
        title=Label("警情率", "Incident rate"),
        unit=Label("起 / 千人", "per 1,000 residents"),
        explain=explain,
        explain_labels={
            "count": Label("窗口内警情数", "Incidents in the window"),
            "population": Label("实有人口（按网格分摊）", "Residents (spread from the grid)"),
            "rate": Label("每千人警情", "Incidents per 1,000 residents"),
        },
        summary=Label(
            "{cells} 个六边形有警情，{unknown} 个人口未知或不足 50 人（灰色）",
            "{cells} hexagons with incidents, {unknown} with no or under 50 residents (grey)",
        ),
        empty=Label("所选范围内无警情", "No incidents in the selection"),
        nodata=Label("人口未知或不足 50 人", "No or under 50 residents"),
    )
