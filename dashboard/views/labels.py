"""Names on the map: where the precinct, township and grid labels go and at which zooms.

Each label sits at a point inside its polygon (the centroid when it lies inside, else
:func:`shapely.point_on_surface`: a crescent's centroid is outside it) and shows only in
its zoom band, so the map never holds more names than fit: precincts at county zooms,
townships (with their precinct below) in between, grids at street zooms. The browser
(``window.pnm.labelLayer``) draws the ones in view that do not overlap one already
placed, as text (never HTML: names come from imported files). The labels are built from
a view's tables, so a chief sees only their own precinct's names.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import shapely

from dashboard.views.places import short_town, townships

# Zoom bands [from, below) of each kind of label; the map's zooms are 7-18.
ZOOMS: Final[dict[str, tuple[float, float]]] = {
    "precinct": (0.0, 12.0),
    "township": (12.0, 14.0),
    "grid": (14.0, 30.0),
}
# Below this zoom (the county on a laptop) a precinct is labelled with its town's short
# name (普光, not 普光派出所): the full names of 37 precincts do not fit.
SHORT_BELOW: Final = 10.0
# A grid wider than the view of a street zoom (a rural grid is kilometres across; the
# screen at zoom 15 shows ~8 x 4 km) also has points every this many km inside it, so its
# name shows wherever the map looks into it (the browser uses the one nearest the view's
# centre, and the label's own point first).
SPREAD_KM: Final = 1.5
# The wall shows its precincts' names at whatever zoom fits the area on its screen.
WALL_ZOOMS: Final[dict[str, tuple[float, float]]] = {"precinct": (0.0, 30.0)}


def label_points(geometries: Any) -> np.ndarray:
    """A point inside each polygon, as ``[[lat, lng], ...]`` rounded to 1e-5° (~1 m)."""
    shapes = np.asarray(geometries, dtype=object)
    if not len(shapes):
        return np.zeros((0, 2))
    centres = shapely.centroid(shapes)
    inside = shapely.contains_properly(shapes, centres)
    points = np.where(inside, centres, shapely.point_on_surface(shapes))
    xy = shapely.get_coordinates(points)
    return np.round(xy[:, ::-1], 5)


def spread_points(shape: Any, km: float = SPREAD_KM) -> list[list[float]]:
    """Points inside ``shape`` on a lattice ``km`` apart (``[[lat, lng], ...]``); none for
    a shape narrower than two steps."""
    west, south, east, north = shape.bounds
    dlat = km / 111.32
    dlng = km / (111.32 * max(np.cos(np.radians((south + north) / 2)), 0.1))
    if north - south < 2 * dlat and east - west < 2 * dlng:
        return []
    lats = np.arange(south + dlat / 2, north, dlat)
    lngs = np.arange(west + dlng / 2, east, dlng)
    lng, lat = (a.ravel() for a in np.meshgrid(lngs, lats))
    inside = shapely.contains_xy(shape, lng, lat)
    return [
        [round(float(y), 5), round(float(x), 5)]
        for x, y in zip(lng[inside], lat[inside], strict=True)
    ]


def _rows(
    frame: Any,
    kind: str,
    texts: list[str],
    subs: list[str] | None = None,
    shorts: list[str] | None = None,
    spread: bool = False,
) -> list[Any]:
    if frame is None or not len(frame):
        return []
    shapes = np.asarray(frame.geometry.values, dtype=object)
    points = label_points(shapes)
    more = [spread_points(g) if spread else [] for g in shapes]
    # The smaller places first: where two names would overlap, the smaller place's shows
    # (a town seat's small, busy precinct rather than the wide rural one beside it, whose
    # label point has room elsewhere).
    order = np.argsort(shapely.area(shapes), kind="stable")
    return [
        {
            "k": kind,
            "t": texts[i],
            **({"s": subs[i]} if subs and subs[i] else {}),
            **({"short": shorts[i]} if shorts and shorts[i] != texts[i] else {}),
            "at": [float(v) for v in points[i]],
            **({"more": more[i]} if more[i] else {}),
        }
        for i in order
    ]


def map_labels(
    source: Any,
    zooms: dict[str, tuple[float, float]] = ZOOMS,
    *,
    short_below: float = SHORT_BELOW,
) -> dict[str, Any]:
    """The labels of ``source`` (a view) for the kinds in ``zooms``: ``{"zooms": {kind:
    [from, below]}, "short_below": zoom, "labels": [{"k": kind, "t": text, "s": second
    line, "short": text below short_below, "at": [lat, lng], "more": [[lat, lng], ...]},
    ...]}`` (``more``: a wide grid's further points, :func:`spread_points`), precincts first, each kind from its smallest place up (the browser
    places them in this order and skips one that would overlap)."""
    precincts, grids = source.precincts, source.grids
    labels: list[Any] = []
    names = [str(n) for n in precincts["name"]] if len(precincts) else []
    if "precinct" in zooms:
        labels += _rows(precincts, "precinct", names, shorts=[short_town(n) for n in names])
    if "township" in zooms and len(precincts):
        town = townships(precincts, grids)
        towns = [town.get(str(p), "") for p in precincts["precinct_id"]]
        # A precinct whose township is not known is labelled with its own name.
        labels += _rows(
            precincts,
            "township",
            [t or n for t, n in zip(towns, names, strict=True)],
            [n if t else "" for t, n in zip(towns, names, strict=True)],
        )
    if "grid" in zooms:
        names = [str(n) for n in grids["name"]] if len(grids) else []
        labels += _rows(grids, "grid", names, spread=True)
    return {
        "zooms": {k: list(v) for k, v in zooms.items()},
        "short_below": short_below,
        "labels": labels,
    }


def label_data(
    source: Any, zooms: dict[str, tuple[float, float]] = ZOOMS, *, short_below: float = SHORT_BELOW
) -> dict[str, Any]:
    """:func:`map_labels` as the data of the label layer's GeoJSON: one point feature
    carrying them all (``window.pnm.labelLayer`` is its ``pointToLayer``). Kept per data
    version and scope (a page load reuses them: the county's take ~70 ms to build)."""
    key = (
        getattr(source, "version", None),
        getattr(source, "scope_key", None),
        tuple(sorted(zooms.items())),
        short_below,
    )
    if key[0] is None or key not in _built:
        data = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [0, 0]},
                    "properties": {"labels": map_labels(source, zooms, short_below=short_below)},
                }
            ],
        }
        if key[0] is None:
            return data
        while len(_built) >= MAX_BUILT:
            _built.pop(next(iter(_built)))
        _built[key] = data
    return _built[key]


MAX_BUILT: Final = 64
_built: dict[tuple[Any, ...], dict[str, Any]] = {}
