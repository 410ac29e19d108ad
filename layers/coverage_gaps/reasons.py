"""Why a cell is a gap, in one line of zh-CN and of English, built from its parts.

"热点（99%置信），近30天警情42起，近30天夜间无巡逻驻留，距最近处置单元7分钟" /
"hot spot 99 %, 42 incidents in 30 days, no patrol dwell at night in 30 days, 7 min to
nearest unit": first the risk (hot spot, incidents, trend), then each protection part
that is weak (below :data:`WEAK`), in the order of the score's parts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any, Final, cast

import numpy as np
import pandas as pd

from geodata.schema import Label
from layers.coverage_gaps.score import DEFAULT_WEIGHTS, PROTECTION_PARTS, RISK_PARTS
from layers.emerging import EMERGING_PATTERNS
from layers.grids import cell_centres
from layers.patrol_coverage.bands import BAND_LABELS
from layers.response_reach import BAND_LIMITS

WEAK: Final[float] = 0.5
"""A protection part below this is named in the reason line."""

REACH_STANDARD_MIN: Final[float] = BAND_LIMITS[-1]
"""Minutes to the nearest unit named in a reason when exceeded: the 1-3-5 standard's 5."""

BAND_PHRASES: Final[Mapping[str, Label]] = {
    "day": Label(BAND_LABELS["day"].zh, "by day"),
    "evening": Label(BAND_LABELS["evening"].zh, "in the evening"),
    "night": Label(BAND_LABELS["night"].zh, "at night"),
}
"""How a time-of-day band reads inside a sentence; other bands read "in band <name>"."""


def _num(x: float) -> str:
    """A short number: 30.0 -> "30", 7.25 -> "7.2", 12.6 -> "13" (one decimal below 10)."""
    if abs(x) >= 10:
        return f"{x:.0f}"
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _days(days: float | None) -> tuple[str, str]:
    if days is None or not math.isfinite(days):
        return "", ""
    return f"近{_num(days)}天", f" in {_num(days)} days"


def _band(name: str) -> Label:
    return BAND_PHRASES.get(name, Label(f"{name}时段", f"in band {name}"))


def _used(parts: Sequence[str], weights: Mapping[str, float], part: str) -> bool:
    return part in parts and weights.get(part, 0.0) > 0


def reason(
    row: Mapping[str, Any],
    *,
    incident_days: float | None = None,
    patrol_days: float | None = None,
    parts: Sequence[str] = (*RISK_PARTS, *PROTECTION_PARTS),
    weights: Mapping[str, float] | None = None,
) -> tuple[str, str]:
    """The reason line of one row of :func:`~layers.coverage_gaps.coverage_gaps`.

    Parameters
    ----------
    row : mapping
        One row (e.g. ``frame.iloc[i]`` or a dict) with the columns of the gap frame.
    incident_days, patrol_days : float, optional
        Lengths of the windows, for "in 30 days"; omitted when unknown.
    parts : sequence of str
        The parts the score used (``attrs["parts"]`` of the gap frame); parts left out
        are not named.
    weights : mapping, optional
        The weights (``attrs["weights"]``); parts of weight 0 are not named. Default
        :class:`~layers.coverage_gaps.GapWeights`.

    Returns
    -------
    tuple of str
        ``(zh, en)``.
    """
    w = dict(weights) if weights is not None else asdict(DEFAULT_WEIGHTS)
    zh: list[str] = []
    en: list[str] = []
    in_zh, in_en = _days(incident_days)
    hot = str(row.get("hotspot_class") or "")
    if hot.startswith("hot_") and _used(parts, w, "hotspot"):
        conf = hot.removeprefix("hot_")
        zh.append(f"热点（{conf}%置信）")
        en.append(f"hot spot {conf} %")
    n = int(row.get("count") or 0)
    if n > 0:
        zh.append(f"{in_zh}警情{n}起")
        en.append(f"{n} incident{'' if n == 1 else 's'}{in_en}")
    source = row.get("trend_source")
    klass = str(row.get("trend_class") or "")
    if _used(parts, w, "trend") and isinstance(source, str):
        if source == "emerging" and klass in EMERGING_PATTERNS:
            label = EMERGING_PATTERNS[klass]
            zh.append(label.zh)
            en.append(label.en[:1].lower() + label.en[1:])
        elif source == "change_mom":
            pct = float(row.get("change_mom_pct") or math.nan)
            strong = klass == "strong_increase"
            if math.isnan(pct):
                zh.append("环比新发")
                en.append("new since last month")
            else:
                zh.append(f"环比上升{_num(pct)}%{'（显著）' if strong else ''}")
                en.append(f"up {_num(pct)} % on last month{' (significant)' if strong else ''}")

    p_zh, p_en = _days(patrol_days)
    if _used(parts, w, "patrol") and float(row.get("protection_patrol", 1.0)) < WEAK:
        band = _band(str(row.get("peak_band") or ""))
        total = float(row.get("dwell_min_per_day") or 0.0)
        peak = float(row.get("peak_dwell_min_per_day") or 0.0)
        if total == 0:
            zh.append(f"{p_zh}无巡逻驻留")
            en.append(f"no patrol dwell{p_en}")
        elif peak == 0:
            zh.append(f"{p_zh}{band.zh}无巡逻驻留")
            en.append(f"no patrol dwell {band.en}{p_en}")
        elif peak < 1:
            zh.append(f"{band.zh}巡逻驻留每天不足1分钟")
            en.append(f"under 1 min of patrol dwell a day {band.en}")
        else:
            zh.append(f"{band.zh}巡逻驻留每天仅{_num(peak)}分钟")
            en.append(f"only {_num(peak)} min of patrol dwell a day {band.en}")
    if _used(parts, w, "reach"):
        minutes = float(row.get("minutes", math.nan))
        if math.isnan(minutes):
            zh.append("无可到达的应急处置单元")
            en.append("no response unit")
        elif minutes > REACH_STANDARD_MIN:
            zh.append(f"距最近处置单元{_num(minutes)}分钟")
            en.append(f"{_num(minutes)} min to nearest unit")
    households = float(row.get("households") or 0.0)
    if _used(parts, w, "certified"):
        if int(row.get("at_risk") or 0) > 0:
            zh.append("已创建小区称号存疑")
            en.append("a certified community's title is at risk")
        elif households > 0 and float(row.get("protection_certified", 1.0)) < WEAK:
            zh.append("已创建平安小区户数不足一半")
            en.append("under half the households in certified communities")
    weak_volunteers = float(row.get("protection_volunteers", 1.0)) < WEAK
    if _used(parts, w, "volunteers") and weak_volunteers and households > 0:
        zh.append("群防志愿者不足")
        en.append("few volunteers")
    return "，".join(zh), ", ".join(en)


def reasons(gaps: pd.DataFrame) -> pd.DataFrame:
    """``reason_zh`` and ``reason_en`` of every row of a gap frame (index kept).

    The windows, parts and weights are read from ``gaps.attrs`` (as set by
    :func:`~layers.coverage_gaps.coverage_gaps`).
    """
    attrs = gaps.attrs
    kwargs: dict[str, Any] = {
        "incident_days": attrs.get("incident_days"),
        "patrol_days": attrs.get("patrol_days"),
        "weights": attrs.get("weights"),
    }
    if "parts" in attrs:
        kwargs["parts"] = attrs["parts"]
    records = cast("list[dict[str, Any]]", gaps.to_dict("records"))
    lines = [reason(row, **kwargs) for row in records]
    return pd.DataFrame(
        {"reason_zh": [z for z, _ in lines], "reason_en": [e for _, e in lines]},
        index=gaps.index,
    )


def top_gaps(gaps: pd.DataFrame, *, n: int = 20) -> pd.DataFrame:
    """The ``n`` largest gaps, ranked, each with its reason line in zh-CN and English.

    Parameters
    ----------
    gaps : DataFrame
        :func:`~layers.coverage_gaps.coverage_gaps` (or rows of it, e.g. one precinct's;
        its ``attrs`` give the windows for the reasons).
    n : int
        How many at most; fewer when fewer cells are gaps (``is_gap``).

    Returns
    -------
    DataFrame
        The gap rows (``is_gap``) with the largest ``gap``, ties by cell, renumbered
        ``rank`` 1..n, with ``lng``, ``lat`` (the cell's centre) and ``reason_zh``,
        ``reason_en`` after ``label_en``; the other columns as in ``gaps``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    found = gaps[gaps["is_gap"].to_numpy(dtype=bool)]
    order = np.lexsort((found["cell"].to_numpy(dtype=np.uint64), -found["gap"].to_numpy()))
    top = found.iloc[order[:n]].copy()
    top.attrs = dict(gaps.attrs)
    top["rank"] = np.arange(1, len(top) + 1, dtype=np.int64)
    lng, lat = cell_centres(top["cell"].to_numpy(dtype=np.uint64))
    why = reasons(top)
    at = list(top.columns).index("label_en") + 1
    top.insert(at, "reason_en", why["reason_en"])
    top.insert(at, "reason_zh", why["reason_zh"])
    top.insert(at, "lat", lat)
    top.insert(at, "lng", lng)
    return top.reset_index(drop=True)


__all__ = ["BAND_PHRASES", "REACH_STANDARD_MIN", "WEAK", "reason", "reasons", "top_gaps"]
