"""How a layer's result becomes what the browser draws: the compact payload (cells in
view), the style (``hideout``) and legend, and the summary line.

A result is computed for the whole area once (cached); panning only slices it
(:func:`payload`), and a new classification or highlight only restyles it (:func:`style`).
Geometry never travels: the payload holds H3 ids and values, the browser builds hexagons
with h3-js and colours them from ``hideout``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from geodata.hexes import cells_to_str
from layers.classify import classify, legend, ramp
from layers.registry.frame import LayerResult
from layers.viewport import Bounds, in_bounds

NO_DATA_COLOUR = "#d1d5db"
CLASSES = 5


def _round(values: npt.NDArray[np.float64], integer: bool) -> list[Any]:
    """Values for JSON: ints for counts and classes, 4 significant digits otherwise."""
    if integer:
        return [None if np.isnan(v) else int(v) for v in values]
    return [None if np.isnan(v) else float(f"{v:.4g}") for v in values]


def payload(result: LayerResult, bounds: Bounds | None) -> dict[str, Any]:
    """The cells of ``result`` whose centre lies in ``bounds``: ``{layer, res, cells, v}``."""
    inside = in_bounds(result.lng, result.lat, bounds)
    values = result.values[inside]
    return {
        "layer": result.layer,
        "res": result.res,
        "cells": cells_to_str(result.cells[inside]),
        "v": _round(values, result.integer or result.categorical),
    }


def style(
    result: LayerResult,
    *,
    scheme: str,
    lang: str,
    selected: str = "",
    basis: LayerResult | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The layer's ``hideout`` (breaks, colours, highlight) and legend description.

    Numeric layers are classified over ``basis`` (the whole area's result, so a cell
    has the same colour on every chief's map, on the wall and in the exports, and colours
    do not change while panning; default ``result``); categorical layers list the
    categories present in ``result`` (every one with ``result.legend_all``).
    """
    if result.categorical:
        present = set(np.unique(result.values[~np.isnan(result.values)]).astype(int).tolist())
        entries = [
            {"colour": c.colour, "label": c.label.text(lang), "lower": None, "upper": None}
            for i, c in enumerate(result.categories)
            if i in present or result.legend_all
        ]
        hideout: dict[str, Any] = {
            "colours": [c.colour for c in result.categories],
            "breaks": None,
        }
        description = {
            "title": result.title.text(lang),
            "unit": result.unit.text(lang),
            "entries": entries,
        }
    else:
        whole = result if basis is None else basis
        values = whole.values[~np.isnan(whole.values)]
        _, breaks = classify(values, scheme=scheme, k=CLASSES)  # type: ignore[arg-type]
        n = max(len(breaks), 1)
        colours = list(result.colours[-n:]) if result.colours else ramp("heat", n)
        if result.colours and n < len(result.colours):
            picks = np.linspace(0, len(result.colours) - 1, n).round().astype(int)
            colours = [result.colours[i] for i in picks]
        description = legend(
            breaks,
            ramp=colours[: len(breaks)],
            title=result.title.text(lang),
            unit=result.unit.text(lang),
            lower=float(values.min()) if values.size else None,
            integer=result.integer,
        )
        hideout = {"colours": colours[: len(breaks)], "breaks": [float(b) for b in breaks]}
        if np.isnan(result.values).any():  # drawn grey: say so (listed last, at the bottom)
            description["entries"].insert(  # type: ignore[attr-defined]
                0,
                {"colour": NO_DATA_COLOUR, "label": result.nodata.text(lang), "lower": None,
                 "upper": None},
            )  # fmt: skip
    hideout.update(nodata=NO_DATA_COLOUR, selected=selected)
    return hideout, description


def summary_text(result: LayerResult, lang: str) -> str:
    """The one-line summary of a layer in ``lang``."""
    if not result.cells.size:
        return result.empty.text(lang)
    numbers = {
        k: f"{v:,}" if isinstance(v, int) else (f"{v:,.1f}" if isinstance(v, float) else v)
        for k, v in result.headline.items()
    }
    return result.summary.text(lang).format(**numbers)
