"""The wall's four map views: the map's own layers, coloured for a dark wall.

Each view is the registry's :class:`~layers.registry.frame.LayerResult` of the map at
:data:`WALL_RES` over the map's default window (:mod:`dashboard.views.wall.data`), so a
hexagon on the wall holds the number it holds on the map; only the colours change, so
that more of a thing reads brighter on the wall's dark ground. :func:`view_payload`
turns one into what the browser needs: H3 ids and values, the ``hideout`` for
``window.pnm.hexLayer`` and the legend.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from dashboard.views.base import payload, style
from geodata.schema import Label
from layers.registry import LayerResult
from layers.viewport import zoom_to_res

WALL_ZOOM = 10
"""The zoom the wall's screen shows the county at (a 1920×1080 screen fits a county of
~4,000 km² at zoom 9–10)."""
WALL_RES = zoom_to_res(WALL_ZOOM)
"""H3 resolution of the wall: the map's automatic resolution at :data:`WALL_ZOOM` (res 8,
≈0.74 km² hexagons), so every wall figure opens on the map at the same cells."""
WALL_PRESET = "30d"
"""The wall's window: the map's default preset (the last 30 days of the data), for
incidents and patrols alike."""
NIGHT = "night"
"""The patrol view's time-of-day band (22–06 h, :data:`layers.patrol_coverage.DEFAULT_BANDS`)."""

# Gap classes critical, serious, moderate, minor (the registry's order): red, orange,
# amber and a dim brown, so the gaps themselves stand out on the dark wall.
GAP_COLOURS = {"4": "#ef4444", "3": "#f97316", "2": "#f59e0b", "1": "#78350f"}
# Incident heat on a dark background: dark-to-bright reds, so more reads brighter.
HEAT_COLOURS = ("#7f1d1d", "#b91c1c", "#ef4444", "#fb923c", "#fde047")
# Patrol classes, most dwell first (the registry's order): pale to mid blue, so more
# patrol reads brighter on the dark wall.
PATROL_COLOURS = ("#e0f2fe", "#93c5fd", "#60a5fa", "#3b82f6", "#2563eb", "#1e3a8a")
# Safe communities: more certified households brighter green; none certified a dim
# stone, a title at risk bright violet, households unknown slate (registry order).
COMMUNITY_COLOURS = ("#57534e", "#166534", "#15803d", "#22c55e", "#86efac", "#e879f9", "#475569")

VIEW_TITLES: dict[str, Label] = {
    "gaps": Label("防控缺口", "Protection gaps"),
    "heat": Label("警情热力与热点", "Incident heat and hot spots"),
    "patrol": Label("夜间巡逻覆盖", "Patrol coverage at night"),
    "community": Label("平安创建", "Safe communities"),
}
VIEW_WINDOWS: dict[str, Label] = {
    "gaps": Label("近30天警情与巡逻", "incidents and patrols, last 30 days"),
    "heat": Label("近30天", "last 30 days"),
    "patrol": Label("近30天 · 22–06 时", "last 30 days · 22–06 h"),
    "community": Label("近30天警情核验", "titles checked against 30 days"),
}
HOTSPOT_MARK = Label("热点（Gi* 95% 以上置信）", "Hot spot (Gi*, 95 %+ confidence)")


def _recoloured(result: LayerResult, colours: dict[str, str] | tuple[str, ...]) -> LayerResult:
    if isinstance(colours, dict):
        cats = tuple(replace(c, colour=colours.get(c.code, c.colour)) for c in result.categories)
    else:
        cats = tuple(
            replace(c, colour=colour) for c, colour in zip(result.categories, colours, strict=True)
        )
    return replace(result, categories=cats)


def gap_view(gaps: LayerResult) -> LayerResult:
    """The map's gap layer, in the wall's colours."""
    return _recoloured(gaps, GAP_COLOURS)


def heat_view(heat: LayerResult, hot: np.ndarray) -> LayerResult:
    """The map's incident counts, plus every hot spot (Gi* counts the neighbours too, so a
    hot spot may hold no incident itself: it shows as 0)."""
    extra = np.setdiff1d(np.asarray(hot, dtype=np.uint64), heat.cells)
    cells = np.concatenate([heat.cells, extra])
    values = np.concatenate([heat.values, np.zeros(extra.size)])
    return LayerResult(
        layer="heat",
        res=heat.res,
        cells=cells,
        values=values,
        title=heat.title,
        unit=heat.unit,
        colours=HEAT_COLOURS,
        integer=True,
    )


def patrol_view(patrol: LayerResult) -> LayerResult:
    """The map's patrol coverage at night, in the wall's colours."""
    return _recoloured(patrol, PATROL_COLOURS)


def community_view(community: LayerResult) -> LayerResult:
    """The map's safe-community layer, in the wall's colours."""
    return _recoloured(community, COMMUNITY_COLOURS)


# Dark-theme hexagon style, read by window.pnm.hexLayer from the hideout; sparse views
# get a halo (an outline in the fill's colour) so a single
# hexagon of ~5 px at 1080 lines still shows from across the room.
HEX_LOOK = {"stroke": "#0b1120", "weight": 0.5, "fillOpacity": 0.88}
HALO = {"gaps": 3.0, "patrol": 2.0}
STRONGEST_FIRST = frozenset({"gaps", "patrol"})


def view_payload(
    result: LayerResult,
    view: str,
    lang: str,
    marks: np.ndarray | None = None,
    basis: LayerResult | None = None,
) -> dict[str, Any]:
    """One view for the browser: its cells and values (``cells``, ``v`` and, with
    ``marks``, the hot-spot flags ``h``), the ``hideout`` that colours them, the legend
    description, its title and window."""
    hideout, legend = style(result, scheme="natural_breaks", lang=lang, basis=basis)
    cells = payload(result, None)
    if marks is not None:
        cells["h"] = [1 if m else 0 for m in marks]
    # Canvas draws in order: the highest classes last, on top of their neighbours' halos
    # (the gap and patrol classes list the strongest first: there the lowest index is).
    rank = np.nan_to_num(result.values, nan=-1.0)
    if view in STRONGEST_FIRST:
        rank = -np.nan_to_num(result.values, nan=1e9)
    order = np.argsort(rank, kind="stable").tolist()
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
    "NIGHT",
    "VIEW_TITLES",
    "VIEW_WINDOWS",
    "WALL_PRESET",
    "WALL_RES",
    "community_view",
    "gap_view",
    "heat_view",
    "patrol_view",
    "view_payload",
]
