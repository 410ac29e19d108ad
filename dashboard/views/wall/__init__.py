"""The wall screen's data (指挥中心大屏): headline figures, the top gaps and four map views.

Kept apart from the map's views on purpose. Everyone in a command centre sees the wall,
so this module returns only what the wall shows, built from whitelisted fields: H3 cells
at :data:`WALL_RES` with numbers, counts and shares, and the names of precincts and grids
(public places). Never names of people (the grids' community officers), incident ids,
addresses or free text: it reads the cubes, not the raw incidents, and copies no text
column of any table except those place names and the reason lines the gap layer writes
from numbers.

Everything is computed once per data version and scope (:func:`wall_data`, about a second
and a half for the county demo) with :func:`layers.coverage_gaps.cell_layers`, whose
per-cell layers feed all four views and most figures; :class:`WallFeed` keeps it
current. Windows end at the newest hour of the data (:func:`data_end`), so an old data
set shows its own last day — and the wall says how old it is (the stale banner).

- **Today** (今日) runs from midnight of the newest data's day to its newest hour;
  日环比 compares the same hours a day earlier, 同比 a year earlier. **This week** (本周)
  runs from Monday 00:00; 周环比 compares with the same hours a week earlier.
- **Risk** (incident heat, hot spots, gaps, safe communities): the last 30 days.
- **Protection** (patrol coverage, Koper dose): the last 7 days.

Modules: :mod:`.figures` (today and this week), :mod:`.maps` (the four views),
:mod:`.data` (:func:`wall_data`), :mod:`.versions` (data versions and age),
:mod:`.feed` (:class:`WallFeed`).
"""

from __future__ import annotations

from dashboard.views.wall.data import TOP_GAPS, GapLine, WallData, wall_data
from dashboard.views.wall.feed import WallFeed
from dashboard.views.wall.figures import (
    Change,
    Count,
    Figures,
    data_end,
    incident_count,
    today_and_week,
)
from dashboard.views.wall.maps import (
    HOTSPOT_MARK,
    PATROL_DAYS,
    RISK_DAYS,
    VIEW_TITLES,
    VIEW_WINDOWS,
    WALL_RES,
    view_payload,
)
from dashboard.views.wall.versions import built_at, data_stamp

__all__ = [
    "HOTSPOT_MARK",
    "PATROL_DAYS",
    "RISK_DAYS",
    "TOP_GAPS",
    "VIEW_TITLES",
    "VIEW_WINDOWS",
    "WALL_RES",
    "Change",
    "Count",
    "Figures",
    "GapLine",
    "WallData",
    "WallFeed",
    "built_at",
    "data_end",
    "data_stamp",
    "incident_count",
    "today_and_week",
    "view_payload",
    "wall_data",
]
