"""Roles: which pages, callbacks, layers and downloads each role may use.

- **commander** (指挥中心): everything, the whole area.
- **chief** (派出所所长): the map and exports, only of their own precincts.
- **planner** (规划/勤务编排): the map and exports, of their precincts, or of the whole
  area when their account lists none.
- **wall** (大屏): the wall screen only — county aggregates, no side panel, no search,
  no names, no exports.

A callback belongs to the page whose module registered it (``dashboard.pages.map`` →
``map``); the app shell's router belongs to every signed-in role and checks the path it
is asked to render. A callback or a route that no table here names is refused to every
role: a new page is closed until it is given its roles here.
"""

from __future__ import annotations

from typing import Final

ROLES: Final = ("commander", "chief", "planner", "wall")
"""Every role, most powerful first."""

SCOPED_ROLES: Final = frozenset({"chief", "planner"})
"""Roles whose account may list precincts (a chief must)."""

ROLE_LABELS: Final = {
    "commander": ("指挥中心", "Commander"),
    "chief": ("派出所所长", "Precinct chief"),
    "planner": ("规划/勤务编排", "Planner"),
    "wall": ("大屏", "Wall screen"),
}

_PEOPLE: Final = frozenset({"commander", "chief", "planner"})

PAGE_ROLES: Final[dict[str, frozenset[str]]] = {
    "/": _PEOPLE,
    "/export": _PEOPLE,
    "/wall": frozenset({"commander", "wall"}),
}
"""Pages by path. A path not listed (a 404) is rendered for the commander only."""

FEATURE_ROLES: Final[dict[str, frozenset[str]]] = {
    "shell": frozenset(ROLES),  # the router: it checks the page path itself
    "map": _PEOPLE,
    "export": _PEOPLE,
    "wall": frozenset({"commander", "wall"}),
    "download": _PEOPLE,
}
"""What each part of the app is, and who may use it."""

MODULE_FEATURES: Final[dict[str, str]] = {
    "dashboard.app": "shell",
    "dashboard.pages.map": "map",
    "dashboard.pages.export": "export",
    "dashboard.pages.wall": "wall",
}
"""The module that registers a callback decides which feature it belongs to."""

WALL_MAX_RES: Final = 9
"""Finest hexagons a wall screen may ask for (≈0.1 km²): aggregates, not addresses."""


def page_allowed(role: str, path: str) -> bool:
    """Whether ``role`` may open the page at ``path``."""
    return role in PAGE_ROLES.get(path.rstrip("/") or "/", frozenset({"commander"}))


def feature_allowed(role: str, feature: str | None) -> bool:
    """Whether ``role`` may use ``feature`` (None, an unknown feature: nobody)."""
    return feature is not None and role in FEATURE_ROLES.get(feature, frozenset())


def layer_allowed(role: str, layer: str, known: frozenset[str] | set[str]) -> bool:
    """Whether ``role`` may see ``layer``: any known layer for people, and for a wall
    screen every layer too (they are aggregates), but never an unknown id."""
    return layer in known and role in ROLES


def res_allowed(role: str, res: int) -> bool:
    """Whether ``role`` may ask for hexagons at H3 resolution ``res``."""
    if not 0 <= res <= 15:
        return False
    return res <= WALL_MAX_RES if role == "wall" else True
