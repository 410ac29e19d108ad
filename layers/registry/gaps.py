"""The gap layer: where risk is high and protection thin, and why (预防为主).

One call of :func:`layers.coverage_gaps.gap_layer` per resolution, window, incident
categories and patrol unit kinds gives every cell of the area its gap score, class and
parts; the map draws the cells of class 1 (minor) to 4 (critical) on a sequential ramp
and leaves the cells without a gap (class 0) uncoloured, so only what needs attention
carries colour. The whole frame is kept as the result's ``explain`` (with its ``attrs``:
windows, weights, parts), so a click can give the reason line and the parts, and the
ranked list is :func:`layers.coverage_gaps.top_gaps` of the same frame — never a second
computation.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl

from geodata.schema import Label
from layers.coverage_gaps import GAP_CLASSES, gap_layer
from layers.registry.frame import NO_ZONE, Category, LayerParams, LayerResult
from layers.registry.incidents import result
from layers.registry.inputs import Inputs
from layers.registry.protection import patrol_inputs

# ColorBrewer YlOrRd (Cynthia Brewer, Penn State; Apache-2.0), classes 1 (minor) to 4
# (critical): the sequential "alarm" ramp of incident heat, since a gap is a risk.
GAP_COLOURS: Final[dict[int, str]] = {1: "#fed976", 2: "#fd8d3c", 3: "#e31a1c", 4: "#800026"}
GAP_CATEGORIES: Final[tuple[Category, ...]] = tuple(
    Category(str(k), GAP_CLASSES[k], GAP_COLOURS[k]) for k in (4, 3, 2, 1)
)
"""Critical first, so the legend reads like a thermometer; a class ``k`` is value ``4 - k``."""

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
    data: Inputs, since: pd.Timestamp, until: pd.Timestamp, kinds: tuple[str, ...] = ()
) -> tuple[pl.DataFrame, pl.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The patrol cube rows and the visits of the patrol window (of ``kinds``), the
    communities and the response units, as :func:`layers.coverage_gaps.cell_layers`
    takes them: data without patrols, communities or units give empty tables."""
    cube, visits = patrol_inputs(data, since, until, kinds)
    communities = data.communities if len(data.communities) else pd.DataFrame()
    units = data.response_units
    if not len(units):  # no unit anywhere: every cell is beyond reach
        units = pd.DataFrame({"unit_id": [], "kind": [], "lng": [], "lat": []})
    return cube, visits, communities, units


def gap_frame(data: Inputs, p: LayerParams) -> pd.DataFrame:
    """:func:`layers.coverage_gaps.gap_layer` of the area's cells for ``p``: risk from
    the window's incidents (of ``p.cats``), protection from the window's patrols (of
    ``p.kinds``), the 1-3-5 reach and the safe communities."""
    since, until = p.window
    return gap_layer(
        data.incident_cube,
        *protection_inputs(data, since, until, p.kinds),
        data.grids,
        data.area_cells(p.res),
        res=p.res,
        since=since,
        until=until,
        categories=list(p.cats) if p.cats else None,
    )


def unit_precinct_codes(data: Inputs, unit_ids: pd.Series) -> npt.NDArray[np.int64]:
    """The precinct code of each unit id (:data:`NO_ZONE` for none or an unknown id)."""
    index = {pid: i for i, pid in enumerate(data.precinct_ids)}
    units = data.response_units
    owner = dict(
        zip(
            units["unit_id"].astype(str) if len(units) else [],
            [NO_ZONE if q is None else index.get(q, NO_ZONE) for q in data.unit_precincts],
            strict=True,
        )
    )
    codes = pd.Series(unit_ids, dtype=object).astype(str).map(owner)
    return np.asarray(codes.fillna(NO_ZONE), dtype=np.int64)


def gaps(data: Inputs, p: LayerParams) -> LayerResult:
    """The gap layer: cells of class 1–4 coloured (critical darkest), every cell explained.

    The nearest unit of each cell (the reach part) may be a neighbouring precinct's: its
    id is private to that precinct (:attr:`LayerResult.private`), as on the reach layer."""
    frame = gap_frame(data, p)
    classes = frame["class"].to_numpy(dtype=np.int64)
    shown = classes >= 1
    explain = frame.set_index("cell")
    explain.attrs = dict(frame.attrs)
    if "nearest_unit" in explain:
        explain["_unit_precinct"] = unit_precinct_codes(data, explain["nearest_unit"])
    all_cells = frame["cell"].to_numpy(dtype=np.uint64)
    out = result(
        data,
        p,
        all_cells,
        (4 - classes).astype(np.float64),
        {
            "gaps": frame["is_gap"].to_numpy(dtype=np.int64),
            **{f"c{k}": (classes == k).astype(np.int64) for k in GAP_CLASSES},
        },
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
        private={"nearest_unit": "_unit_precinct"} if "nearest_unit" in explain else {},
        summary=Label(
            "{gaps} 个缺口六边形（严重 {c4}、较大 {c3}、一般 {c2}），{c1} 个轻微",
            "{gaps} gap hexagons ({c4} critical, {c3} serious, {c2} moderate), {c1} minor",
        ),
        empty=Label("所选范围内无防控缺口", "No protection gaps in the selection"),
    )
    drawn = np.isin(out.cells, all_cells[shown])
    out.cells, out.values = out.cells[drawn], out.values[drawn]
    out.lng, out.lat, out.precincts = out.lng[drawn], out.lat[drawn], out.precincts[drawn]
    return out


def frame_of(result: LayerResult) -> pd.DataFrame:
    """The gap frame of a gap-layer result (``cell`` a column again, ``attrs`` kept)."""
    frame = result.explain.reset_index(names="cell")
    frame.attrs = dict(result.explain.attrs)
    return frame
