"""The incident-heat layer as the browser receives it: cell ids, values, classes, colours.

Geometry is heavy and colour is cheap: the payload holds H3 cell ids (strings) with their
count and class, and the browser builds the hexagons with h3-js. Colours travel apart, in
the layer's ``hideout``, so a new classification restyles without resending cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dashboard.datasource import DataSource
from dashboard.i18n import t
from geodata.hexes import cells_to_str
from layers.classify import Scheme, classify, legend, ramp
from layers.incident_heat import incident_counts

DEFAULT_RES = 8
RESOLUTIONS = (6, 7, 8, 9, 10)
CLASSES = 5
# Incident counts are skewed (many cells with one or two, a few hot ones): quantiles then
# collapse into one or two classes, Fisher–Jenks keeps the hot cells apart.
SCHEME: Scheme = "natural_breaks"

# Average H3 hexagon edge length per resolution (H3 "Table of cell statistics").
EDGE_LENGTH: dict[int, str] = {
    6: "3.7 km",
    7: "1.4 km",
    8: "530 m",
    9: "200 m",
    10: "76 m",
}


def resolve_res(value: object) -> int:
    """The H3 resolution to draw: the override if it is one of :data:`RESOLUTIONS`,
    else the default (later: chosen from the zoom)."""
    try:
        res = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return DEFAULT_RES
    return res if res in RESOLUTIONS else DEFAULT_RES


def incident_heat_view(
    source: DataSource, *, res: int, categories: Sequence[str] | None, lang: str
) -> dict[str, Any]:
    """Compute the incident-heat layer for the page.

    Parameters
    ----------
    source : DataSource
        The open data directory.
    res : int
        H3 resolution (one of :data:`RESOLUTIONS`).
    categories : sequence of str or None
        Incident category codes; None or empty means all.
    lang : str
        Language of the legend.

    Returns
    -------
    dict
        ``payload``: ``{"res", "cells", "v", "k"}`` for the browser's hex builder;
        ``hideout``: colours per class for ``window.pnm.hexStyle``; ``legend``: the
        legend description (see :func:`layers.classify.legend`); ``total`` and ``cells``:
        number of incidents and of hexagons. Plain JSON types only.
    """
    since, until = source.window
    counts = incident_counts(
        source.incident_cube,
        res=res,
        since=since,
        until=until,
        categories=list(categories) if categories else None,
    )
    values = counts["count"].to_numpy()
    classes, breaks = classify(values, scheme=SCHEME, k=CLASSES)
    colours = ramp("heat", max(len(breaks), 1))
    description = legend(
        breaks,
        ramp=colours[: len(breaks)],
        title=t("heat_title", lang),
        unit=t("heat_unit", lang),
        lower=float(values.min()) if values.size else None,
        integer=True,
    )
    return {
        "payload": {
            "res": res,
            "cells": cells_to_str(counts["cell"].to_numpy()),
            "v": values.astype(np.int64).tolist(),
            "k": classes.tolist(),
        },
        "hideout": {"colours": colours[: len(breaks)]},
        "legend": description,
        "total": int(values.sum()),
        "cells": int(values.size),
    }
