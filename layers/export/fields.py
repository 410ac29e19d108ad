"""Every column an export can hold: its kind (how it is rounded), its Shapefile name and meaning.

One table, :data:`COLUMNS`, for every layer's file: the export assembly
(:func:`layers.export.build_export`) rounds each value by its column's kind
(:data:`ROUNDING` — minutes to 0.1, rates to 3 significant digits, counts to integers,
p-values to 4 decimals, z to 2), and a Shapefile, whose dBASE field names hold 10
characters at most, writes each column under its ``dbf`` name. The mapping is fixed (the
same name in every file, whatever else the file holds) and listed in each export's
metadata and README (field → full name → meaning in zh/en); GeoPackage, GeoJSON, CSV and
GeoParquet keep the full names.

Names longer than 10 characters that are not in the table (none today; a test checks)
are shortened by :func:`geodata.writers.shapefile.short_names`' fixed rule instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.schema import UNIT_KINDS
from geodata.writers.bundle import FieldInfo
from layers.time_window import BANDS


@dataclass(frozen=True)
class Rounding:
    """How a kind of value is written: ``decimals`` after the point, or ``significant``
    digits; ``integer`` casts to whole numbers (nullable where a value is missing)."""

    unit: str
    decimals: int | None = None
    significant: int | None = None
    integer: bool = False

    def apply(self, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """``values`` rounded (floats; NaN stays NaN)."""
        x = np.asarray(values, dtype=np.float64)
        if self.significant is not None:
            out = x.copy()
            ok = np.isfinite(x) & (x != 0)
            shift = self.significant - 1 - np.floor(np.log10(np.abs(x[ok])))
            # Divide by an exact power of ten (10**2, not 10**-2, which no float holds).
            up, down = 10.0 ** np.maximum(shift, 0), 10.0 ** np.maximum(-shift, 0)
            out[ok] = np.round(x[ok] * up / down) * down / up
            return out
        return np.round(x, self.decimals or 0)


ROUNDING: Final[Mapping[str, Rounding]] = MappingProxyType(
    {
        "count": Rounding("whole number", integer=True),
        "flag": Rounding("0/1", integer=True),
        "minutes": Rounding("min", decimals=1),
        "hours": Rounding("h", decimals=1),
        "metres": Rounding("m", decimals=0),
        "residents": Rounding("residents (estimated)", decimals=0),
        "rate": Rounding("per 1,000 residents", significant=3),
        "percent": Rounding("%", decimals=1),
        "share": Rounding("share 0-1", decimals=3),
        "score": Rounding("0-1", decimals=3),
        "p": Rounding("probability", decimals=4),
        "z": Rounding("standard deviations", decimals=2),
    }
)
"""Each numeric kind of column and how it is rounded: what a value means, not what a
float holds (44.47166666666667 min of dwell is written 44.5)."""
TEXT: Final = "text"
"""The kind of a column left as it is: ids, codes, labels, times, classes."""


@dataclass(frozen=True)
class Column:
    """One export column: its kind (a key of :data:`ROUNDING` or :data:`TEXT`), its
    Shapefile field name (at most 10 characters) and what it means."""

    kind: str
    dbf: str
    zh: str
    en: str
    unit: str = ""
    description: str = ""


def _c(kind: str, dbf: str, zh: str, en: str, unit: str = "", description: str = "") -> Column:
    return Column(
        kind, dbf, zh, en, unit or (ROUNDING[kind].unit if kind in ROUNDING else ""), description
    )


# Unit kinds and time-of-day bands as patrol columns (``dwell_min_<kind>``), with the short
# word each has in a Shapefile.
_KIND_DBF: Final = {
    "police_car": "car",
    "foot_patrol": "foot",
    "volunteer_patrol": "vol",
    "red_armband": "redarm",
    "security_guard": "guard",
}
_BAND_DBF: Final = {"day": "day", "evening": "eve", "night": "night"}
_BAND_ZH: Final = {"day": "白天", "evening": "傍晚", "night": "夜间"}
_DWELL_PARTS: Final = {
    **{k: (s, UNIT_KINDS[k].zh, UNIT_KINDS[k].en) for k, s in _KIND_DBF.items() if k in UNIT_KINDS},
    **{b: (s, _BAND_ZH[b], f"{b.capitalize()} band") for b, s in _BAND_DBF.items() if b in BANDS},
}
"""Each unit kind and time-of-day band of a ``dwell_min_<part>`` column: (Shapefile word,
zh, en)."""

_TABLE: dict[str, Column] = {
    # every layer
    "h3_cell": _c(TEXT, "h3_cell", "H3六边形编号", "H3 cell", "H3 index"),
    "h3_res": _c(TEXT, "h3_res", "H3分辨率", "H3 resolution", "resolution"),
    "precinct_id": _c(TEXT, "precinct", "派出所编号", "Precinct ID", "id"),
    "grid_id": _c(TEXT, "grid_id", "网格编号", "Grid ID", "id"),
    "class": _c(TEXT, "class", "分类（地图颜色）", "Class (the map's colour)", "class"),
    "class_zh": _c(TEXT, "class_zh", "分类（中文）", "Class label (zh)", "label"),
    "class_en": _c(TEXT, "class_en", "分类（英文）", "Class label (en)", "label"),
    # incidents
    "count": _c("count", "count", "警情数（起）", "Incidents", "incidents"),
    "population": _c("residents", "population", "实有人口（估）", "Residents (estimated)"),
    "rate_per_1000": _c("rate", "rate_1000", "每千人警情数", "Incidents per 1,000 residents"),
    "pop_state": _c(TEXT, "pop_state", "人口状态", "Population state", "code"),
    # hot spots and emerging hot spots
    "neighbours": _c("count", "neighbours", "邻域六边形数", "Cells in the neighbourhood", "cells"),
    "gi_z": _c("z", "gi_z", "Gi* z值", "Gi* z-score"),
    "p_value": _c("p", "p_value", "p值（双侧）", "p-value (two-sided)"),
    "class_code": _c(TEXT, "class_code", "类别代码", "Class code", "code"),
    "bins": _c("count", "weeks", "周数", "Weeks", "weeks"),
    "hot_bins": _c(
        "count", "hot_weeks", "显著热点周数", "Weeks as a significant hot spot", "weeks"
    ),
    "cold_bins": _c(
        "count", "cold_weeks", "显著冷点周数", "Weeks as a significant cold spot", "weeks"
    ),
    "last_z": _c("z", "last_z", "最近一周 Gi* z值", "Gi* z of the last week"),
    "mk_z": _c("z", "mk_z", "趋势 Mann–Kendall z值", "Trend (Mann–Kendall z)"),
    "mk_p": _c("p", "mk_p", "趋势 p值", "Trend p-value"),
    # change (环比 / 同比)
    "count_mom": _c("count", "count_mom", "上月同期警情", "Incidents a month earlier", "incidents"),
    "change_mom_pct": _c("percent", "chg_mom", "环比变化（%）", "Change month on month (%)"),
    "p_mom": _c("p", "p_mom", "环比精确检验 p值", "Exact test p-value (month on month)"),
    "count_yoy": _c("count", "count_yoy", "去年同期警情", "Incidents a year earlier", "incidents"),
    "change_yoy_pct": _c("percent", "chg_yoy", "同比变化（%）", "Change year on year (%)"),
    "p_yoy": _c("p", "p_yoy", "同比精确检验 p值", "Exact test p-value (year on year)"),
    # response reach
    "minutes": _c("minutes", "minutes", "到最近处置单元（分钟）", "Minutes to the nearest unit"),
    "distance_m": _c("metres", "dist_m", "直线距离（米）", "Straight-line distance (m)"),
    "nearest_unit": _c(TEXT, "near_unit", "最近处置单元", "Nearest unit", "unit_id"),
    "nearest_kind": _c(TEXT, "near_kind", "单元类型", "Unit kind", "code"),
    "band": _c(TEXT, "band", "处置圈", "Band", "code"),
    # safe communities
    "communities": _c("count", "comms", "创建对象数", "Communities", "communities"),
    "certified": _c("count", "certified", "已创建", "Certified", "communities"),
    "in_progress": _c("count", "in_progr", "创建中", "In progress", "communities"),
    "not_started": _c("count", "not_start", "未启动", "Not started", "communities"),
    "households": _c("count", "households", "户数", "Households", "households"),
    "certified_households": _c(
        "count", "cert_hh", "已创建户数", "Households in certified communities", "households"
    ),
    "certified_share": _c("share", "cert_share", "已创建户数占比", "Certified share of households"),
    "zero_incident": _c(
        "count", "zero_inc", "零发案对象数", "Zero-incident communities", "communities"
    ),
    "at_risk": _c("count", "at_risk", "称号存疑对象数", "Certified titles at risk", "communities"),
    "state": _c(TEXT, "state", "状态", "State", "code"),
    # patrol coverage
    "dwell_min_per_day": _c(
        "minutes", "dwl_p_day", "日均驻留（分钟）", "Dwell per day (min)", "min/day"
    ),
    "dwell_min": _c("minutes", "dwell_min", "驻留（分钟）", "Dwell (min)"),
    "fixes": _c("count", "fixes", "定位点数", "GPS fixes", "fixes"),
    "visits": _c("count", "visits", "到访次数", "Visits", "visits"),
    "units": _c("count", "units", "巡逻单元数", "Distinct units", "units"),
    "last_visit": _c(TEXT, "last_visit", "最近到访", "Last visit", "time (UTC+8)"),
    "longest_gap_h": _c("hours", "long_gap_h", "最长空档（小时）", "Longest gap (h)"),
    **{
        f"dwell_min_{part}": _c("minutes", f"dwl_{short}", f"{zh}驻留（分钟）", f"{en} dwell (min)")
        for part, (short, zh, en) in _DWELL_PARTS.items()
    },
    # Koper dose at hot spots
    "dose_share": _c("share", "dose_share", "有效剂量小时占比", "Share of hot-spot hours dosed"),
    "dose_class": _c(TEXT, "dose_class", "剂量等级", "Dose class", "class"),
    "share_pct": _c("percent", "share_pct", "有效剂量小时占比（%）", "Dosed hours (%)"),
    "hours": _c("count", "hours", "统计小时", "Hours counted", "hours"),
    "dosed_hours": _c("count", "dosed_h", "有效剂量小时", "Dosed hours", "hours"),
    "doses": _c("count", "doses", "10–15 分钟停留次数", "Stops of 10–15 min (doses)", "stops"),
    "short_visits": _c("count", "short_vis", "不足 10 分钟的到访", "Visits under 10 min", "visits"),
    "dose_min": _c("minutes", "dose_min", "计入剂量（分钟）", "Dose credited (min)"),
    "excess_min": _c("minutes", "excess_min", "超出 15 分钟部分（分钟）", "Minutes beyond 15"),
    "last_dose": _c(TEXT, "last_dose", "最近一次剂量", "Last dose", "time (UTC+8)"),
    # protection gaps
    "gap": _c(
        "score", "gap", "缺口分值（0–1）", "Gap score (0–1)", description="risk x (1 - protection)"
    ),
    "gap_class": _c(
        TEXT,
        "gap_class",
        "缺口等级（0–4）",
        "Gap class (0–4)",
        "class",
        "0 none, 1 minor, 2 moderate, 3 serious, 4 critical",
    ),
    "gap_class_zh": _c(TEXT, "gap_cls_zh", "缺口等级（中文）", "Gap class label (zh)", "label"),
    "gap_class_en": _c(TEXT, "gap_cls_en", "缺口等级（英文）", "Gap class label (en)", "label"),
    "is_gap": _c("flag", "is_gap", "是否缺口（等级≥2）", "Is a gap (class 2 or more)"),
    "rank": _c("count", "rank", "缺口排名（1 最大）", "Rank (1 = largest gap)", "rank"),
    "risk": _c("score", "risk", "风险（0–1）", "Risk (0–1)", description="intensity x confidence"),
    "protection": _c(
        "score",
        "protect",
        "防护（0–1）",
        "Protection (0–1)",
        description="weighted mean of the protection parts",
    ),
    "risk_intensity": _c("score", "r_intens", "风险：警情强度", "Risk part: incident intensity"),
    "risk_hotspot": _c("score", "r_hotspot", "风险：热点（Gi*）", "Risk part: hot spot (Gi*)"),
    "risk_trend": _c("score", "r_trend", "风险：上升趋势", "Risk part: rising trend"),
    "protection_patrol": _c(
        "score", "p_patrol", "防护：警情时段巡逻", "Protection part: patrol at incident hours"
    ),
    "protection_reach": _c(
        "score", "p_reach", "防护：1-3-5 处置圈", "Protection part: 1-3-5 response reach"
    ),
    "protection_certified": _c(
        "score", "p_certif", "防护：平安创建", "Protection part: certified communities"
    ),
    "protection_volunteers": _c(
        "score", "p_volunt", "防护：群防志愿者", "Protection part: volunteers"
    ),
    "hotspot_class": _c(TEXT, "hot_class", "热点类别", "Hot-spot class", "code"),
    "trend_source": _c(TEXT, "trend_src", "趋势来源", "Trend source", "code"),
    "trend_class": _c(TEXT, "trend_cls", "趋势类别", "Trend class", "code"),
    "peak_band": _c(TEXT, "peak_band", "警情高发时段", "Peak incident band", "code"),
    "peak_share": _c(
        "share", "peak_share", "高发时段警情占比", "Share of incidents in the peak band"
    ),
    "peak_dwell_min_per_day": _c(
        "minutes",
        "pk_dwl_day",
        "高发时段日均驻留（分钟）",
        "Dwell per day in the peak band (min)",
        "min/day",
    ),
    "koper_dose": _c(
        "share", "koper_dose", "巡防剂量（热点小时占比）", "Koper dose (share of hot-spot hours)"
    ),
    "volunteers": _c("count", "volunteers", "群防志愿者", "Volunteers", "volunteers"),
    "reason_zh": _c(TEXT, "reason_zh", "缺口原因（中文）", "Reason (zh)", "text"),
    "reason_en": _c(TEXT, "reason_en", "缺口原因（英文）", "Reason (en)", "text"),
}
COLUMNS: Final[Mapping[str, Column]] = MappingProxyType(_TABLE)
"""Every export column by its full name."""


def column_of(name: str) -> Column | None:
    """The column called ``name``, or None for one the table does not list."""
    return COLUMNS.get(name)


def dbf_name(name: str) -> str:
    """The Shapefile field name of column ``name`` ("" when the table has none)."""
    found = COLUMNS.get(name)
    return found.dbf if found is not None else ""


def field_info(name: str, *, zh: str = "", en: str = "") -> FieldInfo:
    """The :class:`FieldInfo` of a listed column (``zh``/``en`` override its labels, as a
    layer's own labels do); KeyError for a column the table does not list."""
    col = COLUMNS[name]
    return FieldInfo(name, col.unit, zh or col.zh, en or col.en, col.description, short=col.dbf)


def round_values(name: str, values: pd.Series) -> Any:
    """``values`` of column ``name`` as its kind is written; a text column, a column the
    table does not list and a non-numeric column are returned as they are."""
    col = COLUMNS.get(name)
    if col is None or col.kind not in ROUNDING:
        return values
    rule = ROUNDING[col.kind]
    series = values
    if series.dtype.kind == "b":
        return series.astype(np.int64).to_numpy() if rule.integer else series.to_numpy()
    if series.dtype.kind not in "iuf" and not pd.api.types.is_numeric_dtype(series.dtype):
        return values
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=math.nan)
    rounded = rule.apply(numbers)
    if rule.integer:
        if np.isnan(rounded).any():
            return pd.array([None if math.isnan(v) else int(v) for v in rounded], dtype="Int64")
        return rounded.astype(np.int64)
    return rounded


def round_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column of ``frame`` rounded by its kind (a new frame)."""
    out = frame.copy()
    for name in frame.columns:
        values = round_values(str(name), frame[name])
        if values is not frame[name]:
            out[name] = values
    return out


__all__ = [
    "COLUMNS",
    "ROUNDING",
    "TEXT",
    "Column",
    "Rounding",
    "column_of",
    "dbf_name",
    "field_info",
    "round_frame",
    "round_values",
]
