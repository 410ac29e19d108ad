"""What every map layer view shares: its parameters, its result, and how a result becomes
the compact payload, the style (``hideout``) and the legend the browser draws.

A view computes a :class:`LayerResult` for the whole scope once (cached); panning only
slices it (:func:`payload`), and a new classification or highlight only restyles it
(:func:`style`). Geometry never travels: the payload holds H3 ids and values, the browser
builds hexagons with h3-js and colours them from ``hideout``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.hexes import cells_res, cells_to_parent, cells_to_str
from geodata.schema import Label
from layers.classify import classify, legend, ramp
from layers.grids import cell_centres
from layers.viewport import Bounds, in_bounds

NO_DATA_COLOUR = "#d1d5db"
CLASSES = 5

# ColorBrewer sequential ramps (Cynthia Brewer, Penn State; Apache-2.0), light to dark,
# for layers that are not incident heat: protection reads blue-green, not alarm red.
BLUES = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
GREENS = ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c")


@dataclass(frozen=True)
class LayerParams:
    """Everything that changes a layer's result (and so its cache key).

    ``since``/``until`` are ISO timestamps (half-open window); ``scope`` is the user's
    jurisdiction (:func:`dashboard.datasource.scope_key`: "county" for the whole area);
    :func:`dashboard.views.layer_result` sets it from the data source it computes from.
    """

    layer: str
    res: int
    since: str
    until: str
    cats: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    band: str = "all"
    scope: str = "county"

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return pd.Timestamp(self.since), pd.Timestamp(self.until)

    def key(self) -> dict[str, Any]:
        """The parameters as a plain dict for :func:`dashboard.cache.cache_key`."""
        out = asdict(self)
        out["cats"], out["kinds"] = sorted(self.cats), sorted(self.kinds)
        return out


@dataclass(frozen=True)
class Category:
    """One class of a categorical layer: its code, label and colour."""

    code: str
    label: Label
    colour: str


@dataclass
class LayerResult:
    """A layer computed for the whole scope at one resolution.

    ``values`` are floats (NaN: no value); for a categorical layer they are indexes into
    ``categories``, and its legend lists the categories present — all of them with
    ``legend_all`` (a scale read against something else, as the gap classes against the
    ranked list). ``explain`` is indexed by cell (uint64) and holds the numbers behind
    each colour, its columns labelled by ``explain_labels``.
    """

    layer: str
    res: int
    cells: npt.NDArray[np.uint64]
    values: npt.NDArray[np.float64]
    title: Label
    unit: Label = field(default_factory=lambda: Label("", ""))
    categories: tuple[Category, ...] = ()
    colours: tuple[str, ...] = ()
    integer: bool = False
    explain: pd.DataFrame = field(default_factory=pd.DataFrame)
    explain_labels: dict[str, Label] = field(default_factory=dict)
    summary: Label = field(default_factory=lambda: Label("", ""))
    headline: dict[str, Any] = field(default_factory=dict)
    empty: Label = field(default_factory=lambda: Label("无数据", "No data"))
    nodata: Label = field(default_factory=lambda: Label("无数据", "No data"))
    lng: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    lat: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    legend_all: bool = False

    def __post_init__(self) -> None:
        order = np.argsort(self.cells, kind="stable")
        self.cells = np.asarray(self.cells, dtype=np.uint64)[order]
        self.values = np.asarray(self.values, dtype=np.float64)[order]
        if self.lng.size != self.cells.size:
            self.lng, self.lat = cell_centres(self.cells)
        else:
            self.lng, self.lat = self.lng[order], self.lat[order]

    @property
    def categorical(self) -> bool:
        return bool(self.categories)

    def own_cell(self, cell: int) -> int:
        """The cell of this result's resolution that holds ``cell``: itself, or its
        parent when it is finer (a street-level click on a layer capped at res 9)."""
        cells = np.asarray([cell], dtype=np.uint64)
        if int(cells_res(cells)[0]) > self.res:
            return int(cells_to_parent(cells, self.res)[0])
        return int(cell)


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
    result: LayerResult, *, scheme: str, lang: str, selected: str = ""
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The layer's ``hideout`` (breaks, colours, highlight) and legend description.

    Numeric layers are classified over the whole scope (so colours do not change while
    panning); categorical layers list only the categories present (every one with
    ``result.legend_all``).
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
        values = result.values[~np.isnan(result.values)]
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


Compute = Callable[[Any, LayerParams], LayerResult]


@dataclass(frozen=True)
class LayerSpec:
    """A layer the map offers: its label, its view function and the resolutions it allows.

    ``filters`` names the filters that change it (``cats``, ``kinds``, ``band``,
    ``window``), so a filter that does not apply is not part of its cache key.
    """

    id: str
    label: Label
    compute: Compute
    min_res: int = 7
    max_res: int = 11
    filters: frozenset[str] = frozenset({"window", "cats", "band"})

    def clamp(self, res: int) -> int:
        return min(max(res, self.min_res), self.max_res)
