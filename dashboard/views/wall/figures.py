"""The wall's headline incident counts: today and this week, with 环比 and 同比.

**Today** (今日) runs from midnight of the newest data's day to the end of its newest hour
(:func:`data_end`); 日环比 compares the same hours a day earlier, 同比 a year earlier.
**This week** (本周) runs from Monday 00:00; 周环比 compares the same hours a week
earlier. Comparing equal spans keeps a morning's count from looking like a fall against a
whole yesterday. The rules of the comparison are :func:`layers.change.total_change`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from layers.change import total_change


@dataclass(frozen=True)
class Change:
    """One comparison of an incident count: the earlier count and the % change.

    ``state`` is that of :data:`layers.change.COMPARISON_STATES` (``ok``, ``new``,
    ``none``, ``no_data``); ``pct`` is None unless it is ``ok``.
    """

    earlier: int | None
    pct: float | None
    state: str
    significant: bool


@dataclass(frozen=True)
class Count:
    """Incidents in a window with its 环比 (``mom``) and 同比 (``yoy``)."""

    count: int
    since: pd.Timestamp
    until: pd.Timestamp
    mom: Change
    yoy: Change


@dataclass(frozen=True)
class Figures:
    """The headline figures, as numbers (the page formats them in its language)."""

    today: Count
    week: Count
    hotspots: int  # hot-spot hexagons (Gi* 95 %+)
    hotspots_covered: int  # of them meeting the patrol standard
    koper_hours: int  # hot-spot hours in the patrol window
    koper_dosed: int  # of them dosed
    gap_cells: int
    gap_classes: dict[int, int]  # gap class (2..4) -> hexagons
    communities: int
    certified: int
    at_risk: int


def _change(row: pd.Series, which: str) -> Change:
    earlier = row[f"count_{which}"]
    pct = row[f"change_{which}_pct"]
    significant = row[f"significant_{which}"]
    return Change(
        earlier=None if pd.isna(earlier) else int(earlier),
        pct=None if pd.isna(pct) else float(pct),
        state=str(row[f"state_{which}"]),
        significant=bool(significant) if not pd.isna(significant) else False,
    )


def incident_count(
    cube: pd.DataFrame,
    since: pd.Timestamp,
    until: pd.Timestamp,
    *,
    mom: pd.DateOffset,
    cells: np.ndarray | None = None,
) -> Count:
    """Incidents in ``[since, until)`` with 环比 (shifted back by ``mom``) and 同比."""
    row = total_change(cube, since=since, until=until, cells=cells, mom_offset=mom).iloc[0]
    return Count(
        count=int(row["count"]),
        since=since,
        until=until,
        mom=_change(row, "mom"),
        yoy=_change(row, "yoy"),
    )


def today_and_week(
    cube: pd.DataFrame, end: pd.Timestamp, cells: np.ndarray | None = None
) -> tuple[Count, Count]:
    """今日 (from midnight, 日环比) and 本周 (from Monday, 周环比), both to ``end``."""
    day = (end - pd.Timedelta(hours=1)).normalize()
    monday = day - pd.Timedelta(days=day.day_of_week)
    today = incident_count(cube, day, end, mom=pd.DateOffset(days=1), cells=cells)
    week = incident_count(cube, monday, end, mom=pd.DateOffset(weeks=1), cells=cells)
    return today, week


def data_end(cube: pd.DataFrame) -> pd.Timestamp:
    """The end of the newest hour in a cube: where every wall window ends."""
    return pd.Timestamp(cube["hour"].max()) + pd.Timedelta(hours=1)


__all__ = ["Change", "Count", "Figures", "data_end", "incident_count", "today_and_week"]
