"""The search box's index: precincts (townships), grids and communities by name.

A chief types part of a Chinese name (``东乡``, ``第3网格``, ``家园``); the matches come
back with the place's extent so the map can fly there. Names are data: they are shown as
text by Dash components, never as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geodata.schema import Label

KINDS: dict[str, Label] = {
    "precinct": Label("派出所辖区", "Precinct"),
    "grid": Label("网格", "Grid"),
    "community": Label("小区/村社", "Community"),
}
MAX_MATCHES = 20
# A community is a point: fly to it at a street zoom, where its res-11 cells show.
POINT_ZOOM = 16


@dataclass(frozen=True)
class Place:
    """A searchable place: ``bounds`` is ``[[south, west], [north, east]]``."""

    kind: str
    id: str
    name: str
    bounds: tuple[tuple[float, float], tuple[float, float]]

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.id}"


def _zones(frame: Any, kind: str, id_col: str) -> list[Place]:
    if frame is None or len(frame) == 0:
        return []
    bounds = frame.geometry.bounds.to_numpy()
    return [
        Place(kind, str(i), str(n), ((b[1], b[0]), (b[3], b[2])))
        for i, n, b in zip(frame[id_col], frame["name"], bounds, strict=True)
    ]


def build_index(source: Any) -> list[Place]:
    """Every precinct, grid and community of the data set, in that order."""
    places = _zones(source.precincts, "precinct", "precinct_id")
    places += _zones(source.grids, "grid", "grid_id")
    com = source.communities
    if len(com) and "name" in com:
        places += [
            Place("community", str(i), str(n), ((y, x), (y, x)))
            for i, n, x, y in zip(
                com["community_id"], com["name"], com["lng"], com["lat"], strict=True
            )
        ]
    return places


def search(index: list[Place], text: str | None, *, lang: str) -> list[dict[str, str]]:
    """Dropdown options for the places whose name contains ``text`` (case-insensitive).

    Names starting with the text come first, then shorter names; precincts before grids
    before communities on a tie. At most :data:`MAX_MATCHES`.
    """
    needle = (text or "").strip().casefold()
    if not needle:
        return []
    order = {k: i for i, k in enumerate(KINDS)}
    hits = [p for p in index if needle in p.name.casefold()]
    hits.sort(key=lambda p: (not p.name.casefold().startswith(needle), len(p.name), order[p.kind]))
    return [
        {"value": p.value, "label": f"{p.name} · {KINDS[p.kind].text(lang)}"}
        for p in hits[:MAX_MATCHES]
    ]


def find(index: list[Place], value: str | None) -> Place | None:
    """The place of a dropdown value (``kind:id``), or None."""
    return next((p for p in index if p.value == value), None)


def viewport_of(place: Place) -> dict[str, Any]:
    """The map ``viewport`` that flies to a place."""
    (south, west), (north, east) = place.bounds
    if place.kind == "community":
        return {"center": [south, west], "zoom": POINT_ZOOM, "transition": "flyTo"}
    return {"bounds": [[south, west], [north, east]], "transition": "flyToBounds"}
