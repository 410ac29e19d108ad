"""The wall screen's data (指挥中心大屏): headline figures, the top gaps and four map views.

Kept apart from the map's views on purpose. Everyone in a command centre sees the wall,
so this module returns only what the wall shows, built from whitelisted fields: H3 cells
at :data:`WALL_RES` with numbers, counts and shares, and the names of precincts and grids
(public places). Never names of people (the grids' community officers), incident ids,
addresses or free text: it reads the cubes, not the raw incidents, and copies no text
column of any table except those place names and the reason lines the gap layer writes
from numbers.

Everything is the map's: :func:`wall_data` reads the registry's layers of the whole area
through the map's cache at the map's resolution for the wall's zoom (:data:`WALL_RES`)
and its default window (the last 30 days, incidents and patrols alike), cut to the
viewer's scope as the map cuts; so every figure is a number the map shows for the same
window (:data:`~.data.FIGURE_LINKS` names the map view), and the top-gaps list is the
map's ranked list. :class:`WallFeed` keeps it current.

- **Today** (今日) is the map's "today" window (the data's last day); 日环比 compares the
  day before, 同比 the same day a year earlier. **7 days** (近7天) is the map's 7-day
  window; 周环比 compares the 7 days before.

Modules: :mod:`.figures` (today and this week), :mod:`.maps` (the four views),
:mod:`.data` (:func:`wall_data`), :mod:`.versions` (data versions and age),
:mod:`.feed` (:class:`WallFeed`).
"""

from __future__ import annotations

from dashboard.views.wall.data import (
    FIGURE_LINKS,
    TOP_GAPS,
    GapLine,
    WallData,
    figure_link,
    wall_data,
    wall_params,
)
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
    VIEW_TITLES,
    VIEW_WINDOWS,
    WALL_RES,
    view_payload,
)
from dashboard.views.wall.versions import built_at, data_stamp

__all__ = [
    "FIGURE_LINKS",
    "HOTSPOT_MARK",
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
    "figure_link",
    "incident_count",
    "today_and_week",
    "view_payload",
    "wall_data",
    "wall_params",
]
