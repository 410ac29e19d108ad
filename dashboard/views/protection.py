"""The patrol layer's zone figures for the side panel: the coverage % of a cell's grid and
precinct, from the patrol layer of the whole area (:mod:`layers.registry.protection`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from dashboard.cache import LayerCache
from dashboard.datasource import COUNTY
from dashboard.views import layer_result
from geodata.snapshot import Snapshot
from layers.grids import zone_cells
from layers.patrol_coverage import coverage_share
from layers.registry import LayerParams, reads_of
from layers.registry.protection import STANDARD, ZONE_RES

__all__ = ["STANDARD", "ZONE_RES", "patrol_zones", "zone_coverage"]


def patrol_zones(snapshot: Snapshot, cache: LayerCache, p: LayerParams) -> pd.DataFrame:
    """Coverage % per grid and precinct (:func:`layers.patrol_coverage.coverage_share`)
    at :data:`ZONE_RES` for the window, unit kinds and band of ``p``: the share of a
    zone's hexagons meeting :data:`STANDARD`. Of the whole area, cached like the layers;
    the panel shows the rows of the clicked cell's own grid and precinct only."""
    at = replace(p, layer="patrol", res=ZONE_RES)

    def compute() -> pd.DataFrame:
        result = layer_result(snapshot, cache, at)
        per_cell = result.explain.reset_index(names="cell")
        if per_cell.empty:
            per_cell = pd.DataFrame(
                {"cell": np.zeros(0, np.uint64), "dwell_min": [], "dwell_min_per_day": []}
            )
        zones = zone_cells(snapshot.grids, res=ZONE_RES, id_col="grid_id", keep=("precinct_id",))
        return coverage_share(per_cell, zones, standard=STANDARD)

    if not len(snapshot.grids):
        return pd.DataFrame(columns=["level", "zone_id", "value", "cells", "covered"])
    key = {"version": snapshot.version_of(reads_of("patrol")), **at.key(), "scope": COUNTY}
    return cache.get_or_compute("patrol-zones", key, compute)


def zone_coverage(shares: pd.DataFrame, zones: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The coverage % rows of a cell's grid and precinct, for the side panel.

    Parameters
    ----------
    shares : DataFrame
        :func:`patrol_zones`.
    zones : mapping
        ``{"grid": {"id", "name"} or None, "precinct": ...}`` as
        :func:`dashboard.views.detail.zones_of` gives.

    Returns
    -------
    list of dict
        ``level``, ``name``, ``value`` (0..1), ``covered``, ``cells``; grid first.
    """
    out = []
    for level, column in (("grid", "grid_id"), ("precinct", "precinct_id")):
        zone = zones.get(level)
        if not zone or not len(shares):
            continue
        row = shares[(shares["level"] == column) & (shares["zone_id"] == str(zone["id"]))]
        if row.empty:
            continue
        out.append(
            {
                "level": level,
                "name": str(zone["name"]),
                "value": float(row["value"].iloc[0]),
                "covered": int(row["covered"].iloc[0]),
                "cells": int(row["cells"].iloc[0]),
            }
        )
    return out
