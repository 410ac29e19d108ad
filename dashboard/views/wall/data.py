"""What the wall shows, computed in one pass: :func:`wall_data`.

:func:`layers.coverage_gaps.cell_layers` runs once at :data:`~.maps.WALL_RES` over the
last :data:`~.maps.RISK_DAYS` days of incidents and :data:`~.maps.PATROL_DAYS` days of
patrols (both ending at the newest hour of the data), and its per-cell layers feed the
four views, the gap list and most headline figures. Only whitelisted fields leave: cells,
numbers, and the names of grids and precincts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dashboard.views.base import LayerResult
from dashboard.views.gaps import protection_inputs
from dashboard.views.wall.figures import Figures, data_end, today_and_week
from dashboard.views.wall.maps import (
    PATROL_DAYS,
    RISK_DAYS,
    WALL_RES,
    community_view,
    gap_view,
    heat_view,
    patrol_view,
)
from dashboard.views.wall.versions import built_at
from geodata.schema import Label
from layers.coverage_gaps import cell_layers, gaps_of, top_gaps
from layers.coverage_gaps.inputs import HOT_CLASSES
from layers.patrol_coverage import CoverageStandard, koper_summary

TOP_GAPS = 6
"""Gaps sent to the wall; it shows as many whole entries as fit its screen."""


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


def _names(frame: pd.DataFrame, key: str) -> dict[str, str]:
    if frame.empty or key not in frame.columns or "name" not in frame.columns:
        return {}
    return dict(zip(frame[key].astype(str), frame["name"].astype(str), strict=True))


def _gap_lines(gaps: pd.DataFrame, grids: pd.DataFrame, precincts: pd.DataFrame) -> list[GapLine]:
    grid_names = _names(grids, "grid_id")
    precinct_names = _names(precincts, "precinct_id")
    top = top_gaps(gaps, n=TOP_GAPS)
    grid_ids = top["grid_id"] if "grid_id" in top else pd.Series([None] * len(top))
    precinct_ids = top["precinct_id"] if "precinct_id" in top else pd.Series([None] * len(top))
    lines = []
    for i in range(len(top)):
        grid_id, precinct_id = grid_ids.iloc[i], precinct_ids.iloc[i]
        lines.append(
            GapLine(
                rank=int(top["rank"].iloc[i]),
                cell=format(int(top["cell"].iloc[i]), "x"),
                klass=int(top["class"].iloc[i]),
                grid=grid_names.get(str(grid_id), "") if pd.notna(grid_id) else "",
                precinct=precinct_names.get(str(precinct_id), "") if pd.notna(precinct_id) else "",
                reason=Label(str(top["reason_zh"].iloc[i]), str(top["reason_en"].iloc[i])),
            )
        )
    return lines


def wall_data(source: Any, *, version: str = "") -> WallData:
    """Compute what the wall shows from a data source.

    Parameters
    ----------
    source : DataSource or ScopedSource
        The data: the whole area, or a scope's precincts (every table already cut to
        them, see :meth:`dashboard.datasource.DataSource.for_scope`).
    version : str
        The data version it was computed from (:func:`data_stamp`), kept with it.

    Returns
    -------
    WallData
    """
    cube = source.incident_cube
    end = data_end(cube)
    since, patrol_since = end - pd.Timedelta(days=RISK_DAYS), end - pd.Timedelta(days=PATROL_DAYS)
    layers = cell_layers(
        cube,
        *protection_inputs(source, patrol_since, end),
        source.grids,
        res=WALL_RES,
        since=since,
        until=end,
        patrol_since=patrol_since,
    )
    gaps = gaps_of(layers)
    today, week = today_and_week(cube, end)
    hot = layers.hotspots.loc[layers.hotspots["class"].isin(HOT_CLASSES), "cell"].to_numpy()
    coverage = layers.coverage[np.isin(layers.coverage["cell"].to_numpy(), hot)]
    dose = koper_summary(layers.dose).iloc[0]
    statuses = layers.statuses
    is_gap = gaps["is_gap"].to_numpy(dtype=bool)
    classes = gaps.loc[is_gap, "class"].value_counts()
    figures = Figures(
        today=today,
        week=week,
        hotspots=int(hot.size),
        hotspots_covered=int(CoverageStandard().met(coverage).sum()),
        koper_hours=int(dose["hours"]),
        koper_dosed=int(dose["dosed_hours"]),
        gap_cells=int(is_gap.sum()),
        gap_classes={int(k): int(v) for k, v in classes.items()},
        communities=0 if statuses is None else len(statuses),
        certified=0 if statuses is None else int((statuses["status"] == "certified").sum()),
        at_risk=0 if statuses is None else int(statuses["at_risk"].sum()),
    )
    heat = heat_view(layers.heat, hot)
    views = {
        "gaps": gap_view(gaps),
        "heat": heat,
        "patrol": patrol_view(layers.coverage, float(PATROL_DAYS)),
        "community": community_view(statuses),
    }
    return WallData(
        version=version,
        built_at=built_at(source.data_dir),
        until=end,
        figures=figures,
        gaps=_gap_lines(gaps, source.grids, source.precincts),
        views=views,
        marks={"heat": np.isin(heat.cells, hot)},
    )


__all__ = ["TOP_GAPS", "GapLine", "WallData", "wall_data"]
