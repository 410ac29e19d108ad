"""What the wall shows: the map's own results, at the map's resolution and windows.

:func:`wall_data` reads the registry's layers (:mod:`layers.registry`, through the same
cache the map uses) at :data:`~.maps.WALL_RES` over the map's default window — incidents
and patrols alike — cut to the viewer's scope by the same function the map cuts with. So
every figure is a number the map shows: each comes with the map link (:data:`FIGURE_LINKS`)
whose summary line reads the same number, and the top-gaps list is the map's ranked list
for that window and resolution. Only whitelisted fields leave: cells, numbers, and the
names of grids and precincts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

from dashboard import pagestate
from dashboard.cache import LayerCache
from dashboard.datasource import View
from dashboard.views import layer_result, params_for
from dashboard.views.gaps import gap_list
from dashboard.views.wall.figures import Count, Figures, incident_count
from dashboard.views.wall.maps import (
    NIGHT,
    WALL_PRESET,
    WALL_RES,
    community_view,
    gap_view,
    heat_view,
    patrol_view,
)
from dashboard.views.wall.versions import built_at
from geodata.schema import Label
from layers.coverage_gaps import HOT_CLASSES
from layers.registry import LayerParams, LayerResult
from layers.registry.protection import STANDARD

TOP_GAPS: Final = 6
"""Gaps sent to the wall; it shows as many whole entries as fit its screen."""

FIGURE_LINKS: Final[dict[str, dict[str, str]]] = {
    "today": {"layer": "heat", "window": "today"},
    "week": {"layer": "heat", "window": "7d"},
    "hotspots": {"layer": "koper", "window": WALL_PRESET},
    "koper": {"layer": "koper", "window": WALL_PRESET},
    "gaps": {"layer": "gaps", "window": WALL_PRESET},
    "communities": {"layer": "community", "window": WALL_PRESET},
}
"""The map view (layer and window preset, at :data:`WALL_RES`) whose summary line shows
each wall figure: ``/?layer=…&window=…&res=8``."""


def figure_link(name: str, lang: str = "zh") -> str:
    """The map URL showing the wall figure ``name`` (a key of :data:`FIGURE_LINKS`)."""
    link = FIGURE_LINKS[name]
    return f"/?layer={link['layer']}&window={link['window']}&res={WALL_RES}&lang={lang}"


@dataclass(frozen=True)
class GapLine:
    """One entry of the top-gaps list: a rank, a place and why."""

    rank: int
    cell: str
    klass: int
    grid: str
    precinct: str
    reason: Label


@dataclass
class WallData:
    """Everything the wall shows for one data version and scope."""

    version: str
    built_at: dt.datetime | None
    until: pd.Timestamp
    figures: Figures
    gaps: list[GapLine]
    views: dict[str, LayerResult]
    marks: dict[str, np.ndarray] = field(default_factory=dict)
    bases: dict[str, LayerResult] = field(default_factory=dict)
    """The area's result behind each view: what its classes are computed over (a
    chief's wall colours a cell as the county's does)."""


def wall_params(
    view: View, layer: str, *, preset: str = WALL_PRESET, band: str = "all"
) -> LayerParams:
    """The map's parameters of ``layer`` at the wall's resolution and ``preset`` window."""
    since, until = pagestate.window(view.last_day, preset=preset).iso
    return params_for(layer, res=WALL_RES, since=since, until=until, band=band)


def _count(view: View, preset: str, mom: pd.DateOffset) -> Count:
    """The incidents of the map's ``preset`` window in the view's scope (the map's heat
    layer's total over that window), with 环比 (``mom`` earlier) and 同比."""
    since, until = wall_params(view, "heat", preset=preset).window
    cells = None
    if view.scope is not None:
        zones = view.snapshot.zones(WALL_RES)
        cells = zones.cells[np.isin(zones.precinct, np.asarray(view.codes or (), np.int32))]
    return incident_count(view.snapshot.incident_cube, since, until, mom=mom, cells=cells)


def wall_data(view: View, cache: LayerCache) -> WallData:
    """Compute what the wall shows for ``view`` (its data version and scope).

    Parameters
    ----------
    view : View
        The snapshot and the viewer's scope (None: the whole area).
    cache : LayerCache
        The map's layer cache (the wall reads the very results the map does).

    Returns
    -------
    WallData
    """

    def layer(name: str, band: str = "all") -> tuple[LayerResult, LayerResult]:
        whole = layer_result(view.snapshot, cache, wall_params(view, name, band=band))
        return view.cut(whole), whole

    gaps, gaps_all = layer("gaps")
    heat, heat_all = layer("heat")
    hotspots, _ = layer("hotspots")
    koper, _ = layer("koper")
    patrol, _ = layer("patrol")
    night, night_all = layer("patrol", band=NIGHT)
    community, community_all = layer("community")

    hot = hotspots.explain.index.to_numpy(dtype=np.uint64)
    if len(hotspots.explain):
        codes = [c.code for c in hotspots.categories]
        classes = np.asarray(codes)[
            hotspots.values[np.searchsorted(hotspots.cells, hot)].astype(int)
        ]
        hot = hot[np.isin(classes, HOT_CLASSES)]
    per_cell = patrol.explain
    at_hot = per_cell[per_cell.index.isin(hot)] if len(per_cell) else per_cell
    dose, gap_head, com = koper.headline, gaps.headline, community.headline
    figures = Figures(
        today=_count(view, "today", pd.DateOffset(days=1)),
        week=_count(view, "7d", pd.DateOffset(weeks=1)),
        hotspots=int(dose.get("hot", 0)),
        hotspots_covered=int(STANDARD.met(at_hot).sum()) if len(at_hot) else 0,
        koper_hours=int(dose.get("hours", 0)),
        koper_dosed=int(dose.get("dosed", 0)),
        gap_cells=int(gap_head.get("gaps", 0)),
        gap_classes={k: int(gap_head.get(f"c{k}", 0)) for k in (2, 3, 4)},
        communities=int(com.get("communities", 0)),
        certified=int(com.get("certified", 0)),
        at_risk=int(com.get("at_risk", 0)),
    )
    heat_cells = heat_view(heat, hot)
    entries = gap_list(view, cache, wall_params(view, "gaps"), n=TOP_GAPS)
    lines = [
        GapLine(
            rank=int(e["rank"]),
            cell=str(e["cell"]),
            klass=int(e["class"]),
            grid=str(e["grid"]),
            precinct=str(e["precinct"]),
            reason=Label(str(e["reason_zh"]), str(e["reason_en"])),
        )
        for e in entries
    ]
    return WallData(
        version=view.version,
        built_at=built_at(view.data_dir),
        until=view.window[1],
        figures=figures,
        gaps=lines,
        views={
            "gaps": gap_view(gaps),
            "heat": heat_cells,
            "patrol": patrol_view(night),
            "community": community_view(community),
        },
        marks={"heat": np.isin(heat_cells.cells, hot)},
        bases={"heat": heat_all, "gaps": gaps_all, "patrol": night_all, "community": community_all},
    )


__all__ = [
    "FIGURE_LINKS",
    "TOP_GAPS",
    "GapLine",
    "WallData",
    "figure_link",
    "wall_data",
    "wall_params",
]
