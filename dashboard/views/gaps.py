"""The gap layer's presenters: the ranked list beside the map and the side panel's why.

Both read the gap layer of the whole area (:mod:`layers.registry.gaps`) cut to the
user's view: the list is :func:`layers.coverage_gaps.top_gaps` of the same frame the map
draws — never a second computation — ranked at the resolution the map draws the gap
layer at (its key's ``res``; the list says which), so the list's #1 is the map's and the
wall's #1 for the same window. An entry flies to the last zoom that still draws that
resolution (:func:`fly_zoom`).
"""

from __future__ import annotations

import math
from typing import Any, Final

import pandas as pd

from dashboard.cache import LayerCache
from dashboard.datasource import View
from dashboard.views import layer_key, params_for, scoped_result
from geodata.hexes import cell_to_str, str_to_cell
from layers.coverage_gaps import (
    GAP_CLASSES,
    PROTECTION_PARTS,
    RISK_PARTS,
    STATES,
    reason,
    top_gaps,
)
from layers.registry import LayerParams
from layers.registry.gaps import (
    GAP_CATEGORIES,
    GAP_COLOURS,
    PROTECTION_LABELS,
    RISK_LABELS,
    frame_of,
)
from layers.viewport import ZOOM_RES

TOP_N: Final = 20


def fly_zoom(res: int) -> int:
    """The zoom a list entry of ``res`` flies to: the last zoom whose automatic
    resolution is ``res``."""
    starts = [z for z, r in ZOOM_RES if r == res]
    later = [z for z, r in ZOOM_RES if r > res]
    if not starts:
        return 12
    return (min(later) - 1) if later else starts[0]


def _names(table: pd.DataFrame, id_col: str) -> dict[str, str]:
    if not len(table) or id_col not in table or "name" not in table:
        return {}
    return dict(zip(table[id_col].astype(str), table["name"].astype(str), strict=True))


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def list_params(key: dict[str, Any]) -> LayerParams:
    """The parameters of the ranked list for a map layer key: the gap layer at the key's
    resolution (the one the map draws), window, categories and unit kinds."""
    since, until = key["window"]
    return params_for(
        "gaps",
        res=int(key.get("res") or 9),
        since=since,
        until=until,
        cats=tuple(key.get("cats") or ()),
        kinds=tuple(key.get("kinds") or ()),
    )


def gap_list(
    view: View, cache: LayerCache, p: LayerParams, *, n: int = TOP_N
) -> list[dict[str, Any]]:
    """The ``n`` largest gaps of the view's scope for ``p``
    (:func:`layers.coverage_gaps.top_gaps` of the area's frame cut to the scope), as
    plain entries: ``rank``, ``cell`` (H3 id), ``res``, ``class``, ``gap``, ``lat``,
    ``lng``, ``label_zh``/``label_en``, ``reason_zh``/``reason_en``, ``grid`` and
    ``precinct`` (names, "" when unknown). Cached with the scope."""

    def compute() -> list[dict[str, Any]]:
        top = top_gaps(frame_of(scoped_result(view, cache, p)), n=n)
        snap = view.snapshot
        grids, precincts = _names(snap.grids, "grid_id"), _names(snap.precincts, "precinct_id")
        return [
            {
                "rank": int(row["rank"]),
                "cell": cell_to_str(int(row["cell"])),
                "res": p.res,
                "class": int(row["class"]),
                "gap": round(float(row["gap"]), 3),
                "lat": float(row["lat"]),
                "lng": float(row["lng"]),
                "label_zh": str(row["label_zh"]),
                "label_en": str(row["label_en"]),
                "reason_zh": str(row["reason_zh"]),
                "reason_en": str(row["reason_en"]),
                "grid": grids.get(_text(row.get("grid_id")), ""),
                "precinct": precincts.get(_text(row.get("precinct_id")), ""),
            }
            for row in top.to_dict("records")
        ]

    key = {**layer_key(view.snapshot, p), "scope": view.scope_key, "n": n}
    return cache.get_or_compute("gap-list", key, compute)


def entry_target(entries: list[dict[str, Any]], cell: str) -> tuple[str, dict[str, Any]] | None:
    """The cell and the map viewport (``flyTo`` its centre at :func:`fly_zoom` of its
    resolution) of the list entry for ``cell``; None when the list holds no such entry (a
    stale or forged click selects nothing)."""
    for entry in entries:
        if entry["cell"] == cell:
            viewport = {
                "center": [entry["lat"], entry["lng"]],
                "zoom": fly_zoom(int(entry.get("res", 9))),
                "transition": "flyTo",
            }
            return entry["cell"], viewport
    return None


def _part(value: Any) -> float | None:
    v = float(value)
    return None if math.isnan(v) else v


def _rank_in(frame: pd.DataFrame, cell: int) -> int:
    """The rank of ``cell`` by gap score among the cells of ``frame`` (the view's: a
    chief reads the rank in their own precincts), ties by cell as in ``top_gaps``."""
    gap = frame["gap"].to_numpy(dtype=float)
    mine = float(frame["gap"].to_numpy(dtype=float)[frame.index.get_loc(cell)])
    cells = frame.index.to_numpy(dtype="uint64")
    ahead = (gap > mine) | ((gap == mine) & (cells < cell))
    return int(ahead.sum()) + 1


def gap_detail(
    view: View, cache: LayerCache, p: LayerParams, cell: str, *, lang: str
) -> dict[str, Any] | None:
    """Why a cell has its gap class, in ``lang``: class, state, score, the reason line
    and the parts of risk and protection (0..1; None for a part left out). None when the
    cell is not in the view's gap frame."""
    result = scoped_result(view, cache, p)
    frame = result.explain
    try:
        c = result.own_cell(str_to_cell(cell))  # a finer cell: the gap cell holding it
    except (TypeError, ValueError):
        return None
    if c not in frame.index:
        return None
    row: dict[str, Any] = {str(k): v for k, v in frame.loc[c].items()}
    attrs = frame.attrs
    zh, en = reason(
        row,
        incident_days=attrs.get("incident_days"),
        patrol_days=attrs.get("patrol_days"),
        parts=attrs.get("parts", (*RISK_PARTS, *PROTECTION_PARTS)),
        weights=attrs.get("weights"),
    )
    klass = int(row["class"])
    return {
        "class": klass,
        "colour": GAP_COLOURS.get(klass),
        "label": GAP_CLASSES[klass].text(lang),
        "state": STATES[str(row["state"])].text(lang),
        "gap": float(row["gap"]),
        "risk": float(row["risk"]),
        "protection": float(row["protection"]),
        "rank": _rank_in(frame, c),
        "cells": len(frame),
        "reason": zh if lang == "zh" else en,
        "risk_parts": [[RISK_LABELS[k].text(lang), _part(row[f"risk_{k}"])] for k in RISK_PARTS],
        "protection_parts": [
            [PROTECTION_LABELS[k].text(lang), _part(row[f"protection_{k}"])]
            for k in PROTECTION_PARTS
        ],
    }


__all__ = [
    "GAP_CATEGORIES",
    "GAP_COLOURS",
    "TOP_N",
    "entry_target",
    "fly_zoom",
    "gap_detail",
    "gap_list",
    "list_params",
]
