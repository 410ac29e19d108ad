"""The search box's index: precincts, grids and communities as people name them.

A chief types part of a Chinese name (``东乡``, ``第3网格``, ``家园``), a town's name
(``普光镇`` finds 普光派出所's jurisdiction first, then its grids) or its pinyin, full or
by initials (``puguang``, ``pg``). The matches come back ranked — an exact name, then a
name that starts with the text, then one that contains it; precincts before grids before
communities — and labelled with their township when the name alone is ambiguous
(``李塘村 · 君塘镇``), with the place's extent so the map can fly there and its outline
(:func:`outline_of`). The index is built from a view's tables, so a chief finds only
their places. Names are data: they are shown as text by Dash components, never as HTML.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from pypinyin import Style, lazy_pinyin

from geodata.schema import Label

KINDS: dict[str, Label] = {
    "precinct": Label("派出所辖区", "Precinct"),
    "grid": Label("网格", "Grid"),
    "community": Label("小区/村社", "Community"),
}
MAX_MATCHES = 20
# A community is a point: fly to it at a street zoom, where its res-11 cells show.
POINT_ZOOM = 16
# What a precinct's name ends with after its town's short name (普光 + 派出所).
STATION_SUFFIXES = ("公安派出所", "派出所", "警务站", "警务室")
# What a township's name ends with after its short name (普光 + 镇, 东乡 + 街道).
TOWN_SUFFIX = re.compile(r"(?:街道办事处|街道|[\u4e00-\u9fff]{0,4}族乡|镇|乡)$")
SEPARATOR = " · "
EXACT, PREFIX, CONTAINS = 0, 1, 2


@dataclass(frozen=True)
class Place:
    """A searchable place: ``bounds`` is ``[[south, west], [north, east]]``.

    ``township`` is the township of the place's precinct ("" when not known),
    ``precinct`` the precinct's name; ``keys`` are the lower-case texts a search
    matches (the name, and a precinct's township and town short name), ``spelled`` their
    pinyin, full and by initials (matched whole or by their start only: a few letters
    inside a pinyin string match too much).
    """

    kind: str
    id: str
    name: str
    bounds: tuple[tuple[float, float], tuple[float, float]]
    township: str = ""
    precinct: str = ""
    keys: tuple[str, ...] = ()
    spelled: tuple[str, ...] = ()
    detail: str = ""
    """What tells the place apart from another of the same name and kind (see
    :func:`build_index`)."""

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.id}"


@lru_cache(maxsize=8192)
def spellings(text: str) -> tuple[str, str]:
    """The pinyin of ``text`` without tones and spaces, in full and by initials
    (``普光镇`` -> ``("puguangzhen", "pgz")``); other characters are kept as they are."""
    full = "".join(lazy_pinyin(text)).casefold()
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER)).casefold()
    return re.sub(r"\s+", "", full), re.sub(r"\s+", "", initials)


def short_town(name: str) -> str:
    """A precinct's or township's name without its suffix: 普光派出所, 普光镇 -> 普光."""
    for suffix in STATION_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    stripped = TOWN_SUFFIX.sub("", name)
    return stripped or name


def townships(precincts: Any, grids: Any) -> dict[str, str]:
    """The township of each precinct id ("" when the data do not say).

    A ``township`` column of the precincts table says it; without one, the township is
    read from the names of the precinct's grids, which in Chinese usage start with the
    full township name (``普光镇第3网格`` of 普光派出所 -> 普光镇).
    """
    out: dict[str, str] = {}
    if precincts is None or not len(precincts):
        return out
    named = "township" in precincts
    by_precinct: dict[str, list[str]] = {}
    if grids is not None and len(grids) and "precinct_id" in grids:
        for pid, name in zip(grids["precinct_id"].astype(str), grids["name"], strict=True):
            by_precinct.setdefault(pid, []).append(str(name))
    for i, pid in enumerate(precincts["precinct_id"].astype(str)):
        given = str(precincts["township"].iloc[i]) if named else ""
        if given and given not in ("nan", "None"):
            out[pid] = given
            continue
        stem = short_town(str(precincts["name"].iloc[i]))
        found = Counter(
            m.group(0)
            for n in by_precinct.get(pid, [])
            if (m := re.match(re.escape(stem) + TOWN_SUFFIX.pattern[:-1], n))
        )
        out[pid] = found.most_common(1)[0][0] if found else ""
    return out


def _keys(name: str, *more: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    texts = [t for t in (name, *more) if t]
    keys = tuple(dict.fromkeys(t.casefold() for t in texts))
    spelled = tuple(dict.fromkeys(s for t in texts for s in spellings(t) if s))
    return keys, spelled


def _zones(frame: Any, kind: str, id_col: str) -> list[Place]:
    if frame is None or len(frame) == 0:
        return []
    bounds = frame.geometry.bounds.to_numpy()
    return [
        Place(kind, str(i), str(n), ((b[1], b[0]), (b[3], b[2])))
        for i, n, b in zip(frame[id_col], frame["name"], bounds, strict=True)
    ]


def _community_precincts(source: Any, grid_owner: dict[str, str]) -> list[str | None]:
    """The precinct of each of the view's communities (row order of its table): the one
    its point lies in, as the scope decides (a snapshot's view), else its grid's."""
    com = source.communities
    snapshot = getattr(source, "snapshot", None)
    if snapshot is not None:
        owners = dict(zip(snapshot.communities.index, snapshot.community_precincts, strict=True))
        return [owners.get(i) for i in com.index]
    grids = com["grid_id"].astype(str) if "grid_id" in com else [""] * len(com)
    return [grid_owner.get(g) for g in grids]


def build_index(source: Any) -> list[Place]:
    """Every precinct, grid and community of ``source`` (a view: the scope's only), in
    that order, each with its township, precinct and search keys."""
    town = townships(source.precincts, source.grids)
    precinct_name = (
        dict(
            zip(
                source.precincts["precinct_id"].astype(str),
                source.precincts["name"].astype(str),
                strict=True,
            )
        )
        if len(source.precincts)
        else {}
    )
    places = [
        replace(p, township=town.get(p.id, ""), precinct=p.name)
        for p in _zones(source.precincts, "precinct", "precinct_id")
    ]
    grid_owner: dict[str, str] = {}
    if len(source.grids) and "precinct_id" in source.grids:
        grid_owner = dict(
            zip(
                source.grids["grid_id"].astype(str),
                source.grids["precinct_id"].astype(str),
                strict=True,
            )
        )
    grid_name = dict(
        zip(source.grids["grid_id"].astype(str), source.grids["name"].astype(str), strict=True)
    )
    places += [
        replace(
            p,
            township=town.get(grid_owner.get(p.id, ""), ""),
            precinct=precinct_name.get(grid_owner.get(p.id, ""), ""),
        )
        for p in _zones(source.grids, "grid", "grid_id")
    ]
    com = source.communities
    grid_of: dict[str, str] = {}
    if len(com) and "name" in com:
        owners = _community_precincts(source, grid_owner)
        grid_ids = com["grid_id"].astype(str) if "grid_id" in com else [""] * len(com)
        places += [
            Place(
                "community",
                str(i),
                str(n),
                ((y, x), (y, x)),
                township=town.get(o or "", ""),
                precinct=precinct_name.get(o or "", ""),
            )
            for i, n, x, y, o, g in zip(
                com["community_id"], com["name"], com["lng"], com["lat"], owners, grid_ids,
                strict=True,
            )
        ]  # fmt: skip
        grid_of = {
            f"community:{i}": grid_name.get(g, "")
            for i, g in zip(com["community_id"].astype(str), grid_ids, strict=True)
        }
    return [_with_keys(p) for p in _told_apart(places, grid_of)]


def _with_keys(place: Place) -> Place:
    if place.kind == "precinct":
        stem = short_town(place.name)
        keys, spelled = _keys(place.name, place.township, stem)
    else:
        keys, spelled = _keys(place.name)
    return replace(place, keys=keys, spelled=spelled)


def _told_apart(places: list[Place], grid_of: dict[str, str]) -> list[Place]:
    """Places whose name and kind another place shares, with what tells them apart: the
    township (else the precinct), and for two of one township a community's grid (else
    the id)."""
    same = Counter((p.kind, p.name) for p in places)
    first = [
        replace(p, detail=(p.township or p.precinct) if same[(p.kind, p.name)] > 1 else "")
        for p in places
    ]
    twice = Counter((p.kind, p.name, p.detail) for p in first)
    return [
        replace(p, detail=SEPARATOR.join(filter(None, (p.detail, grid_of.get(p.value) or p.id))))
        if twice[(p.kind, p.name, p.detail)] > 1
        else p
        for p in first
    ]


def rank(place: Place, needle: str) -> int | None:
    """How ``place`` matches the lower-case ``needle``: :data:`EXACT`, :data:`PREFIX`,
    :data:`CONTAINS`, or None. A precinct matches its town's name exactly whatever the
    suffix typed (``普光镇`` or ``普光乡`` for 普光派出所)."""
    compact = re.sub(r"\s+", "", needle)
    if needle in place.keys or compact in place.spelled:
        return EXACT
    if place.kind == "precinct" and short_town(needle) == short_town(place.name).casefold():
        return EXACT
    if any(k.startswith(needle) for k in place.keys) or any(
        s.startswith(compact) for s in place.spelled
    ):
        return PREFIX
    if any(needle in k for k in place.keys):
        return CONTAINS
    return None


def label_of(place: Place, lang: str) -> str:
    """The option's text: the name, then the township when a precinct has one or the
    name alone is ambiguous, then the kind (``李塘村 · 君塘镇 · 小区/村社``)."""
    parts = [place.name]
    if place.kind == "precinct" and place.township and place.township != place.name:
        parts.append(place.township)
    elif place.detail:
        parts.append(place.detail)
    return SEPARATOR.join([*parts, KINDS[place.kind].text(lang)])


def _numbers(name: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", name))


def search(index: list[Place], text: str | None, *, lang: str) -> list[dict[str, str]]:
    """Dropdown options for the places matching ``text`` (see :func:`rank`), best first;
    precincts before grids before communities on a tie, then shorter names, numbered
    names by their numbers. At most
    :data:`MAX_MATCHES`.

    Each option's ``search`` holds what it was matched on (the dropdown filters its
    options again in the browser, by substring of those words), ``label`` what it shows.
    """
    needle = (text or "").strip().casefold()
    if not needle:
        return []
    order = {k: i for i, k in enumerate(KINDS)}
    hits = [(r, p) for p in index if (r := rank(p, needle)) is not None]
    # Numbered names in their numbers' order (第2网格 before 第10网格); else data order.
    hits.sort(key=lambda h: (h[0], order[h[1].kind], len(h[1].name), _numbers(h[1].name)))
    return [
        {
            "value": p.value,
            "label": label_of(p, lang),
            "search": " ".join([*p.keys, *p.spelled, needle if r == EXACT else ""]).strip(),
        }
        for r, p in hits[:MAX_MATCHES]
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


def outline_of(place: Place | None, outlines: dict[str, Any]) -> dict[str, Any]:
    """The searched place's shape as a FeatureCollection: a precinct's or grid's
    outline (from the view's outlines, so only the scope's), a community's point."""
    empty: dict[str, Any] = {"type": "FeatureCollection", "features": []}
    if place is None:
        return empty
    if place.kind == "community":
        (lat, lng), _ = place.bounds
        point = {"type": "Point", "coordinates": [lng, lat]}
        return {**empty, "features": [{"type": "Feature", "geometry": point, "properties": {}}]}
    kind, key = {"precinct": ("precincts", "precinct_id"), "grid": ("grids", "grid_id")}[place.kind]
    shapes = [
        {"type": "Feature", "geometry": f["geometry"], "properties": {}}
        for f in outlines.get(kind, {}).get("features", [])
        if f["properties"].get(key) == place.id
    ]
    return {**empty, "features": shapes}
