"""The wall's four map views, as layers the map page's browser code draws.

Each view is a :class:`~dashboard.views.base.LayerResult` at :data:`WALL_RES` made from
the per-cell layers of :func:`layers.coverage_gaps.cell_layers`, with colours that read
on the wall's dark ground (more of a thing reads brighter), and :func:`view_payload` turns
one into what the browser needs: H3 ids and values, the ``hideout`` for
``window.pnm.hexLayer`` and the legend.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from dashboard.views.base import NO_DATA_COLOUR, Category, LayerResult, payload, style
from dashboard.views.protection import SHARE_CATEGORIES
from geodata.schema import Label
from layers.coverage_gaps import GAP_CLASSES
from layers.safe_community import cell_status

WALL_RES = 8
"""H3 resolution of the wall's map: ≈0.74 km² hexagons, a county in ~6,000 of them."""
RISK_DAYS = 30
PATROL_DAYS = 7
# Gap classes 1 (minor, not yet a gap) to 4 (critical): a dim brown for minor, then
# amber, orange and red, so the gaps themselves stand out on the dark wall.
GAP_COLOURS = ("#78350f", "#f59e0b", "#f97316", "#ef4444")
# Incident heat on a dark background: dark-to-bright reds, so more reads brighter.
HEAT_COLOURS = ("#7f1d1d", "#b91c1c", "#ef4444", "#fb923c", "#fde047")
# Patrol dwell: blues, mid to pale, so more patrol reads brighter on the dark wall.
PATROL_COLOURS = ("#2563eb", "#3b82f6", "#60a5fa", "#93c5fd", "#e0f2fe")
# Safe communities on the dark wall: more certified households read brighter green;
# none certified is a dim stone, a title at risk bright violet, households unknown slate.
COMMUNITY_COLOURS = ("#57534e", "#166534", "#15803d", "#22c55e", "#86efac", "#e879f9", "#475569")

VIEW_TITLES: dict[str, Label] = {
    "gaps": Label("防控缺口", "Protection gaps"),
    "heat": Label("警情热力与热点", "Incident heat and hot spots"),
    "patrol": Label("夜间巡逻覆盖", "Patrol coverage at night"),
    "community": Label("平安创建", "Safe communities"),
}
VIEW_WINDOWS: dict[str, Label] = {
    "gaps": Label(
        f"近{RISK_DAYS}天警情 · 近{PATROL_DAYS}天巡逻",
        f"incidents {RISK_DAYS} days · patrols {PATROL_DAYS} days",
    ),
    "heat": Label(f"近{RISK_DAYS}天", f"last {RISK_DAYS} days"),
    "patrol": Label(f"近{PATROL_DAYS}天 · 22–06 时", f"last {PATROL_DAYS} nights · 22–06 h"),
    "community": Label(f"近{RISK_DAYS}天警情核验", f"titles checked against {RISK_DAYS} days"),
}
HOTSPOT_MARK = Label("热点（Gi* 95% 以上置信）", "Hot spot (Gi*, 95 %+ confidence)")


def gap_view(gaps: pd.DataFrame) -> LayerResult:
    shown = gaps[gaps["class"].to_numpy() >= 1]
    return LayerResult(
        layer="gaps",
        res=WALL_RES,
        cells=shown["cell"].to_numpy(dtype=np.uint64),
        # Category index 0..3 for classes 1..4 (class 0, no gap, is not drawn).
        values=shown["class"].to_numpy(dtype=np.float64) - 1,
        title=VIEW_TITLES["gaps"],
        unit=Label("风险高而防护弱", "high risk, thin protection"),
        categories=tuple(
            Category(str(k), GAP_CLASSES[k], colour)
            for k, colour in zip(range(1, 5), GAP_COLOURS, strict=True)
        ),
    )


def heat_view(heat: pd.DataFrame, hot: np.ndarray) -> LayerResult:
    """Incidents per hexagon: every hexagon with one, and every hot spot (Gi* counts
    the neighbours too, so a hot spot may hold none itself: it shows as 0)."""
    cells = heat["cell"].to_numpy(dtype=np.uint64)
    shown = heat[(heat["count"].to_numpy() > 0) | np.isin(cells, hot)]
    return LayerResult(
        layer="heat",
        res=WALL_RES,
        cells=shown["cell"].to_numpy(dtype=np.uint64),
        values=shown["count"].to_numpy(dtype=np.float64),
        title=Label("警情数", "Incidents"),
        unit=Label("起 / 六边形", "per hexagon"),
        colours=HEAT_COLOURS,
        integer=True,
    )


def patrol_view(coverage: pd.DataFrame, days: float) -> LayerResult:
    per_night = coverage["dwell_min_night"].to_numpy(dtype=np.float64) / days
    keep = per_night > 0
    return LayerResult(
        layer="patrol",
        res=WALL_RES,
        cells=coverage["cell"].to_numpy(dtype=np.uint64)[keep],
        values=per_night[keep],
        title=Label("夜间巡逻驻留", "Patrol dwell at night"),
        unit=Label("分钟 / 夜", "minutes per night"),
        colours=PATROL_COLOURS,
    )


def community_view(statuses: pd.DataFrame | None) -> LayerResult:
    cells = np.zeros(0, dtype=np.uint64)
    codes = np.zeros(0, dtype=np.float64)
    if statuses is not None and len(statuses):
        frame = cell_status(statuses, res=WALL_RES)
        klass = frame["class"].to_numpy(dtype=np.float64, na_value=np.nan)
        # The map's coding (dashboard.views.protection.community): share classes 0..4,
        # 5 for a title at risk, 6 for households unknown.
        codes = np.where(np.isnan(klass), 6.0, klass)
        codes = np.where(frame["at_risk"].to_numpy() > 0, 5.0, codes)
        cells = frame["cell"].to_numpy(dtype=np.uint64)
    return LayerResult(
        layer="community",
        res=WALL_RES,
        cells=cells,
        values=codes,
        title=Label("平安创建", "Safe-community status"),
        unit=Label("按已创建户占比", "by certified households"),
        categories=tuple(
            Category(c.code, c.label, colour)
            for c, colour in zip(SHARE_CATEGORIES, COMMUNITY_COLOURS, strict=True)
        ),
    )


# Dark-theme hexagon style, read by window.pnm.hexLayer from the hideout; sparse views
# get a halo (an outline in the fill's colour) so a single
# hexagon of ~5 px at 1080 lines still shows from across the room.
HEX_LOOK = {"stroke": "#0b1120", "weight": 0.5, "fillOpacity": 0.88}
HALO = {"gaps": 3.0, "patrol": 2.0}
# Night patrol dwell in fixed classes a watch commander reads at a glance: under 5 minutes
# a night is a pass-through, 15 one Koper stop, 30 two, an hour a steady presence.
FIXED_BREAKS: dict[str, tuple[float, ...]] = {"patrol": (5.0, 15.0, 30.0, 60.0)}
OPEN_END = 1e9  # upper bound of the last, open class (window.pnm.classOf needs one)


def _fixed_style(
    result: LayerResult, breaks: tuple[float, ...], lang: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Hideout and legend of fixed classes (upper bounds ``breaks``, the last open)."""
    colours = list(result.colours[: len(breaks) + 1])
    labels = [f"≤ {breaks[0]:g}"]
    labels += [f"{lo:g}–{hi:g}" for lo, hi in itertools.pairwise(breaks)]
    labels.append(f"> {breaks[-1]:g}")
    entries = [
        {"colour": c, "label": label, "lower": None, "upper": None}
        for c, label in zip(colours, labels, strict=True)
    ]
    hideout = {"colours": colours, "breaks": [*breaks, OPEN_END], "nodata": NO_DATA_COLOUR}
    legend = {"title": result.title.text(lang), "unit": result.unit.text(lang), "entries": entries}
    return hideout, legend


def view_payload(
    result: LayerResult, view: str, lang: str, marks: np.ndarray | None = None
) -> dict[str, Any]:
    """One view for the browser: its cells and values (``cells``, ``v`` and, with
    ``marks``, the hot-spot flags ``h``), the ``hideout`` that colours them, the legend
    description, its title and window."""
    if view in FIXED_BREAKS:
        hideout, legend = _fixed_style(result, FIXED_BREAKS[view], lang)
    else:
        hideout, legend = style(result, scheme="natural_breaks", lang=lang)
    cells = payload(result, None)
    if marks is not None:
        cells["h"] = [1 if m else 0 for m in marks]
    # Canvas draws in order: the highest classes last, on top of their neighbours' halos.
    order = np.argsort(np.nan_to_num(result.values, nan=-1.0), kind="stable").tolist()
    cells.update({k: [cells[k][i] for i in order] for k in ("cells", "v", "h") if k in cells})
    return {
        "title": VIEW_TITLES[view].text(lang),
        "window": VIEW_WINDOWS[view].text(lang),
        "data": cells,
        "hideout": {**hideout, **HEX_LOOK, "halo": HALO.get(view, 0.0)},
        "legend": legend,
        "categorical": result.categorical,
    }


__all__ = [
    "HOTSPOT_MARK",
    "PATROL_DAYS",
    "RISK_DAYS",
    "VIEW_TITLES",
    "VIEW_WINDOWS",
    "WALL_RES",
    "community_view",
    "gap_view",
    "heat_view",
    "patrol_view",
    "view_payload",
]
