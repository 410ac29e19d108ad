"""The side panel's *why* for one cell: the numbers behind its colour, its weekly trend,
its grid and precinct, and the communities and response units nearby."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dashboard.cache import LayerCache
from dashboard.datasource import View
from dashboard.views import scoped_result
from geodata.hexes import cells_res, str_to_cell
from geodata.schema import COMMUNITY_STATUSES, RESPONSE_UNIT_KINDS, Label
from geodata.snapshot import NO_ZONE
from layers.grids import cell_centres
from layers.nearby import nearest
from layers.registry import LayerParams
from layers.registry.protection import community_statuses
from layers.time_window import weekly_counts

TREND_WEEKS = 52
NEARBY_COMMUNITIES = 6
NEARBY_COMMUNITY_M = 1500.0
NEARBY_UNITS = 3


def _format(value: Any, lang: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, Label):
        return value.text(lang)
    if isinstance(value, bool | np.bool_):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if v.is_integer() and abs(v) < 1e9:
            return f"{int(v):,}"
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(value)


def _zone_bounds(frame: Any, id_col: str, zone_id: str) -> list[list[float]] | None:
    row = frame[frame[id_col].astype(str) == zone_id]
    if row.empty:
        return None
    west, south, east, north = (float(v) for v in row.geometry.iloc[0].bounds)
    return [[south, west], [north, east]]


def _zone(frame: Any, id_col: str, zone_id: str) -> dict[str, Any] | None:
    row = frame[frame[id_col].astype(str) == zone_id] if len(frame) else frame
    if not len(row):
        return None
    return {
        "id": zone_id,
        "name": str(row["name"].iloc[0]),
        "bounds": _zone_bounds(frame, id_col, zone_id),
    }


def zones_of(view: View, cell: int) -> dict[str, Any]:
    """The grid and precinct holding a cell's centre (decided at build time, see
    :meth:`geodata.snapshot.Snapshot.zones`), with names and extents; None for what
    the cell lies in none of, or what the view may not see."""
    out: dict[str, Any] = {"grid": None, "precinct": None}
    snap = view.snapshot
    c = np.asarray([cell], dtype=np.uint64)
    res = int(cells_res(c)[0])
    if 7 <= res <= 11:
        grid = int(snap.zones(res).grid_codes_of(c)[0])
        if grid != NO_ZONE:
            out["grid"] = _zone(view.grids, "grid_id", snap.grid_ids[grid])
    precinct = view.precinct_of_cell(cell)
    if precinct is not None:
        out["precinct"] = _zone(view.precincts, "precinct_id", precinct)
    return out


def cell_detail(
    view: View,
    cache: LayerCache,
    params: LayerParams,
    cell: str,
    *,
    window: tuple[str, str],
    lang: str,
) -> dict[str, Any]:
    """Everything the side panel shows for ``cell`` (an H3 id) under the current layer.

    Returns
    -------
    dict
        ``cell``, ``res``, ``lng``, ``lat``, ``layer`` (title), ``category`` (the class
        label of a categorical layer, or None), ``rows`` (``[label, value]`` pairs; the
        layer's explaining numbers), ``trend`` (``weeks``, ``values``: weekly incidents
        over the last year), ``zones`` (grid and precinct), ``communities`` and ``units``
        nearby (names, kinds, distances). Plain JSON types only.
    """
    c = str_to_cell(cell)
    result = scoped_result(view, cache, params)
    lng_a, lat_a = cell_centres(np.asarray([c], dtype=np.uint64))
    lng, lat = float(lng_a[0]), float(lat_a[0])
    rows: list[list[str]] = []
    category = None
    own = result.own_cell(c)  # explained by the layer's cell that holds it
    if own in result.explain.index:
        record = result.explain.loc[own]
        rows = [
            [label.text(lang), _format(record[col], lang)]
            for col, label in result.explain_labels.items()
            if col in record.index
        ]
        pos = int(np.searchsorted(result.cells, np.uint64(own)))
        if result.categorical and pos < result.cells.size and result.cells[pos] == own:
            category = result.categories[int(result.values[pos])].label.text(lang)
    trend = weekly_counts(
        view.snapshot.incident_cube,
        c,
        until=view.window[1],
        weeks=TREND_WEEKS,
        categories=list(params.cats) if params.cats else None,
    )
    since, until = window
    statuses = community_statuses(
        view.snapshot, LayerParams(layer="community", res=params.res, since=since, until=until)
    )
    if len(statuses):  # the communities of the view's precincts only
        statuses = statuses[view.allows(statuses["precinct_id"].tolist())]
    communities = []
    if len(statuses):
        pos_c, dist_c = nearest(
            lng,
            lat,
            statuses["lng"],
            statuses["lat"],
            k=NEARBY_COMMUNITIES,
            max_m=NEARBY_COMMUNITY_M,
        )
        for i, d in zip(pos_c, dist_c, strict=True):
            row = statuses.iloc[int(i)]
            status = str(row["status"])
            communities.append(
                {
                    "name": str(row["name"]),
                    "status": COMMUNITY_STATUSES[status].text(lang)
                    if status in COMMUNITY_STATUSES
                    else status,
                    "at_risk": bool(row["at_risk"]),
                    "reason": str(row["reason_zh" if lang == "zh" else "reason_en"] or ""),
                    "distance_m": round(float(d)),
                }
            )
    units = []
    ru = view.response_units
    if len(ru):
        pos_u, dist_u = nearest(lng, lat, ru["lng"], ru["lat"], k=NEARBY_UNITS)
        for i, d in zip(pos_u, dist_u, strict=True):
            row = ru.iloc[int(i)]
            kind = str(row["kind"])
            units.append(
                {
                    "name": str(row["name"]),
                    "kind": RESPONSE_UNIT_KINDS[kind].text(lang)
                    if kind in RESPONSE_UNIT_KINDS
                    else kind,
                    "distance_m": round(float(d)),
                }
            )
    return {
        "cell": cell,
        "res": int(result.res),
        "lng": lng,
        "lat": lat,
        "layer": result.title.text(lang),
        "category": category,
        "empty": result.empty.text(lang) if not rows else "",
        "rows": rows,
        "trend": {
            "weeks": [w.strftime("%Y-%m-%d") for w in trend["week"]],
            "values": [float(v) for v in trend["value"]],
        },
        "zones": zones_of(view, c),
        "communities": communities,
        "units": units,
    }
