"""The gap layer on the map: where risk is high and protection thin, and why (预防为主).

One call of :func:`layers.coverage_gaps.gap_layer` per scope, resolution, window,
incident categories and patrol unit kinds gives every cell of the scope its gap score,
class and parts; the map draws the cells of class 1 (minor) to 4 (critical) on a
sequential ramp and leaves the cells without a gap (class 0) uncoloured, so only what
needs attention carries colour. The whole frame is kept as the result's ``explain``
(with its ``attrs``: windows, weights, parts), so a click can give the reason line and
the parts, and the ranked list (:func:`gap_list`) is :func:`layers.coverage_gaps.top_gaps`
of the same frame — never a second computation.

The list is ranked at :data:`LIST_RES` whatever the zoom, so it does not reshuffle while
the map flies to an entry; an entry flies to zoom :data:`FLY_ZOOM`, where the map's
automatic resolution is :data:`LIST_RES` too.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import pandas as pd
import polars as pl

from dashboard.cache import LayerCache
from dashboard.views.base import Category, LayerParams, LayerResult
from dashboard.views.protection import patrol_inputs
from geodata.hexes import cell_to_str, str_to_cell
from geodata.schema import Label
from layers.coverage_gaps import (
    GAP_CLASSES,
    PROTECTION_PARTS,
    RISK_PARTS,
    STATES,
    gap_layer,
    reason,
    top_gaps,
)
from layers.viewport import ZOOM_RES

# ColorBrewer YlOrRd (Cynthia Brewer, Penn State; Apache-2.0), classes 1 (minor) to 4
# (critical): the sequential "alarm" ramp of incident heat, since a gap is a risk.
GAP_COLOURS: Final[dict[int, str]] = {1: "#fed976", 2: "#fd8d3c", 3: "#e31a1c", 4: "#800026"}
GAP_CATEGORIES: Final[tuple[Category, ...]] = tuple(
    Category(str(k), GAP_CLASSES[k], GAP_COLOURS[k]) for k in (4, 3, 2, 1)
)
"""Critical first, so the legend reads like a thermometer; a class ``k`` is value ``4 - k``."""

LIST_RES: Final = 9
"""Resolution of the ranked list: a block (≈0.1 km²), what a patrol can be sent to."""
TOP_N: Final = 20
FLY_ZOOM: Final = next(z for z, r in ZOOM_RES if r == LIST_RES) + 1
"""The zoom an entry flies to: the last zoom whose automatic resolution is LIST_RES."""

RISK_LABELS: Final[dict[str, Label]] = {
    "intensity": Label("警情强度", "Incident intensity"),
    "hotspot": Label("热点（Gi*）", "Hot spot (Gi*)"),
    "trend": Label("上升趋势", "Rising trend"),
}
PROTECTION_LABELS: Final[dict[str, Label]] = {
    "patrol": Label("警情时段巡逻", "Patrol at incident hours"),
    "reach": Label("1-3-5 处置圈", "1-3-5 response reach"),
    "certified": Label("平安创建", "Certified communities"),
    "volunteers": Label("群防志愿者", "Volunteers"),
}
EXPLAIN_LABELS: Final[dict[str, Label]] = {
    "gap": Label("缺口分值（0–1）", "Gap score (0–1)"),
    "risk": Label("风险（0–1）", "Risk (0–1)"),
    "protection": Label("防护（0–1）", "Protection (0–1)"),
    "count": Label("窗口内警情数", "Incidents in the window"),
    "rate_per_1000": Label("每千人警情数", "Incidents per 1,000 residents"),
    "gi_z": Label("Gi* z 值", "Gi* z-score"),
    "dwell_min_per_day": Label("日均巡逻驻留（分钟）", "Patrol dwell per day (min)"),
    "koper_dose": Label("巡防剂量（热点小时占比）", "Koper dose (share of hot-spot hours)"),
    "minutes": Label("到最近处置单元（分钟）", "Minutes to the nearest unit"),
    "certified_share": Label("已创建户占比", "Share of households certified"),
    "volunteers": Label("群防志愿者", "Volunteers"),
}


def protection_inputs(
    source: Any, since: pd.Timestamp, until: pd.Timestamp, kinds: tuple[str, ...] = ()
) -> tuple[pd.DataFrame, pl.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The patrol cube rows and the visits of the patrol window (of ``kinds``), the
    communities and the response units, as :func:`layers.coverage_gaps.cell_layers`
    takes them: data without patrols, communities or units give empty tables."""
    cube, visits = patrol_inputs(source, since, until, kinds)
    communities = source.communities if len(source.communities) else pd.DataFrame()
    units = source.response_units
    if not len(units):  # no unit anywhere: every cell is beyond reach
        units = pd.DataFrame({"unit_id": [], "kind": [], "lng": [], "lat": []})
    return cube, visits, communities, units


def gap_frame(source: Any, p: LayerParams) -> pd.DataFrame:
    """:func:`layers.coverage_gaps.gap_layer` of the scope's cells for ``p``: risk from
    the window's incidents (of ``p.cats``), protection from the window's patrols (of
    ``p.kinds``), the 1-3-5 reach and the safe communities."""
    since, until = p.window
    return gap_layer(
        source.incident_cube,
        *protection_inputs(source, since, until, p.kinds),
        source.grids,
        source.scope_cells(p.res, p.scope),
        res=p.res,
        since=since,
        until=until,
        categories=list(p.cats) if p.cats else None,
    )


def gaps(source: Any, p: LayerParams) -> LayerResult:
    """The gap layer: cells of class 1–4 coloured (critical darkest), every cell explained."""
    frame = gap_frame(source, p)
    classes = frame["class"].to_numpy(dtype=np.int64)
    shown = classes >= 1
    explain = frame.set_index("cell")
    explain.attrs = dict(frame.attrs)
    counts = {k: int((classes == k).sum()) for k in GAP_CLASSES}
    return LayerResult(
        layer=p.layer,
        res=p.res,
        cells=frame["cell"].to_numpy(dtype=np.uint64)[shown],
        values=(4 - classes[shown]).astype(np.float64),
        title=Label("防控缺口", "Protection gaps"),
        unit=Label(
            "风险高而防护弱；不着色为无缺口", "high risk, thin protection; uncoloured: none"
        ),
        categories=GAP_CATEGORIES,
        # All four classes, always: the ranked list (at LIST_RES) shows classes the map's
        # resolution may not have, and reads against this legend.
        legend_all=True,
        explain=explain,
        explain_labels=EXPLAIN_LABELS,
        summary=Label(
            "{gaps} 个缺口六边形（严重 {c4}、较大 {c3}、一般 {c2}），{c1} 个轻微",
            "{gaps} gap hexagons ({c4} critical, {c3} serious, {c2} moderate), {c1} minor",
        ),
        headline={
            "gaps": int(frame["is_gap"].sum()),
            **{f"c{k}": v for k, v in counts.items()},
        },
        empty=Label("所选范围内无防控缺口", "No protection gaps in the selection"),
    )


def frame_of(result: LayerResult) -> pd.DataFrame:
    """The gap frame of a gap-layer result (``cell`` a column again, ``attrs`` kept)."""
    frame = result.explain.reset_index(names="cell")
    frame.attrs = dict(result.explain.attrs)
    return frame


def _names(table: pd.DataFrame, id_col: str) -> dict[str, str]:
    if not len(table) or id_col not in table or "name" not in table:
        return {}
    return dict(zip(table[id_col].astype(str), table["name"].astype(str), strict=True))


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def list_params(key: dict[str, Any]) -> LayerParams:
    """The parameters of the ranked list for a map layer key: the gap layer at
    :data:`LIST_RES` with the key's window, categories and unit kinds."""
    from dashboard.views import params_for

    since, until = key["window"]
    return params_for(
        "gaps",
        res=LIST_RES,
        since=since,
        until=until,
        cats=tuple(key.get("cats") or ()),
        kinds=tuple(key.get("kinds") or ()),
        scope=str(key.get("scope") or "county"),
    )


def gap_list(
    source: Any, cache: LayerCache, p: LayerParams, *, n: int = TOP_N
) -> list[dict[str, Any]]:
    """The ``n`` largest gaps of the scope for ``p`` (:func:`layers.coverage_gaps.top_gaps`),
    as plain entries: ``rank``, ``cell`` (H3 id), ``class``, ``gap``, ``lat``, ``lng``,
    ``label_zh``/``label_en``, ``reason_zh``/``reason_en``, ``grid`` and ``precinct``
    (names, "" when unknown). Cached with the scope."""
    from dashboard.views import layer_result, scoped_params

    src = getattr(source, "current", source)
    at = scoped_params(src, p)

    def compute() -> list[dict[str, Any]]:
        top = top_gaps(frame_of(layer_result(src, cache, at)), n=n)
        grids, precincts = _names(src.grids, "grid_id"), _names(src.precincts, "precinct_id")
        return [
            {
                "rank": int(row["rank"]),
                "cell": cell_to_str(int(row["cell"])),
                "class": int(row["class"]),
                "gap": round(float(row["gap"]), 3),
                "lat": float(row["lat"]),
                "lng": float(row["lng"]),
                "label_zh": str(row["label_zh"]),
                "label_en": str(row["label_en"]),
                "reason_zh": str(row["reason_zh"]),
                "reason_en": str(row["reason_en"]),
                "grid": grids.get(_text(row.get("grid_id")), ""),
                "precinct": precincts.get(_text(row.get("precinct_id")), ""),
            }
            for row in top.to_dict("records")
        ]

    return cache.get_or_compute("gap-list", {"version": src.version, **at.key(), "n": n}, compute)


def entry_target(entries: list[dict[str, Any]], cell: str) -> tuple[str, dict[str, Any]] | None:
    """The cell and the map viewport (``flyTo`` its centre at :data:`FLY_ZOOM`) of the
    list entry for ``cell``; None when the list holds no such entry (a stale or forged
    click selects nothing)."""
    for entry in entries:
        if entry["cell"] == cell:
            viewport = {
                "center": [entry["lat"], entry["lng"]],
                "zoom": FLY_ZOOM,
                "transition": "flyTo",
            }
            return entry["cell"], viewport
    return None


def _part(value: Any) -> float | None:
    v = float(value)
    return None if math.isnan(v) else v


def gap_detail(
    source: Any, cache: LayerCache, p: LayerParams, cell: str, *, lang: str
) -> dict[str, Any] | None:
    """Why a cell has its gap class, in ``lang``: class, state, score, the reason line
    and the parts of risk and protection (0..1; None for a part left out). None when the
    cell is not in the scope's gap frame."""
    from dashboard.views import layer_result

    result = layer_result(source, cache, p)
    frame = result.explain
    try:
        c = result.own_cell(str_to_cell(cell))  # a finer cell: the gap cell holding it
    except (TypeError, ValueError):
        return None
    if c not in frame.index:
        return None
    row: dict[str, Any] = {str(k): v for k, v in frame.loc[c].items()}
    attrs = frame.attrs
    zh, en = reason(
        row,
        incident_days=attrs.get("incident_days"),
        patrol_days=attrs.get("patrol_days"),
        parts=attrs.get("parts", (*RISK_PARTS, *PROTECTION_PARTS)),
        weights=attrs.get("weights"),
    )
    klass = int(row["class"])
    return {
        "class": klass,
        "colour": GAP_COLOURS.get(klass),
        "label": GAP_CLASSES[klass].text(lang),
        "state": STATES[str(row["state"])].text(lang),
        "gap": float(row["gap"]),
        "risk": float(row["risk"]),
        "protection": float(row["protection"]),
        "rank": int(row["rank"]),
        "cells": len(frame),
        "reason": zh if lang == "zh" else en,
        "risk_parts": [[RISK_LABELS[k].text(lang), _part(row[f"risk_{k}"])] for k in RISK_PARTS],
        "protection_parts": [
            [PROTECTION_LABELS[k].text(lang), _part(row[f"protection_{k}"])]
            for k in PROTECTION_PARTS
        ],
    }


__all__ = [
    "FLY_ZOOM",
    "GAP_CATEGORIES",
    "GAP_COLOURS",
    "LIST_RES",
    "TOP_N",
    "entry_target",
    "frame_of",
    "gap_detail",
    "gap_frame",
    "gap_list",
    "gaps",
    "list_params",
]
