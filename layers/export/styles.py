"""How each exported layer is classified and coloured: the map's legends, in one place.

The incident heat uses the map's own settings (Fisher–Jenks natural breaks, 5 classes,
the sequential ``heat`` ramp, integer legend starting at the smallest count); the other
layers have fixed classes (Gi* confidence bins, 1-3-5 bands, share bins) and colours
from :func:`layers.classify.ramp`. A page that draws these layers should take its
colours from here too, so a planner's file and the screen never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from geodata.schema import Label
from geodata.writers.bundle import NO_DATA_CLASS, Style, StyleClass
from layers.classify import Scheme, classify, legend, ramp

HEAT_SCHEME: Final[Scheme] = "natural_breaks"
"""Incident counts are skewed: Fisher–Jenks keeps the hot cells apart (the map's default)."""
HEAT_CLASSES: Final = 5
NO_DATA_COLOUR: Final = "#bdbdbd"

# The map's colours for the categorical layers (dashboard/views; a test keeps them equal).
# ColorBrewer (Cynthia Brewer, Penn State; Apache-2.0): RdYlGn for the 1-3-5 bands,
# Greens for certified shares, Blues for patrol; purple marks a title at risk.
REACH_COLOURS: Final = ("#1a9850", "#a6d96a", "#fdae61", "#d73027")
GREENS: Final = ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c")
BLUES: Final = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
PATROL_COLOURS: Final = ("#f7fbff", *BLUES)
"""Six classes of patrol coverage: no patrol nearly white, then the map's Blues."""
AT_RISK_COLOUR: Final = "#7b3294"


def heat_style(
    values: npt.ArrayLike,
    *,
    title: Label,
    unit: Label,
    integer: bool = True,
    scheme: Scheme = HEAT_SCHEME,
    colours: Sequence[str] | None = None,
) -> tuple[npt.NDArray[np.int64], Style]:
    """Classify a sequential value the way the map classifies incident heat.

    Parameters
    ----------
    values : array-like of float
        One value per feature, no NaN.
    title, unit : Label
        Legend title and unit in both languages.
    integer : bool
        Whether the values are counts (integer legend labels).
    scheme : str
        Classification scheme (:data:`layers.classify.SCHEMES`); the map's default.
    colours : sequence of str, optional
        A ramp to pick from, light to dark (as the map picks); default the ``heat`` ramp.

    Returns
    -------
    classes : ndarray of int64
        The class of each value.
    style : Style
        One entry per class with the map's colours and legend labels.
    """
    v = np.asarray(values, dtype=np.float64)
    classes, breaks = classify(v, scheme=scheme, k=HEAT_CLASSES)
    n = max(len(breaks), 1)
    if colours is None:
        picked = ramp("heat", n)
    else:  # evenly spread over the ramp, as the map does
        picks = np.linspace(0, len(colours) - 1, n).round().astype(int)
        picked = [colours[i] for i in picks] if n < len(colours) else list(colours[-n:])
    description = legend(
        breaks,
        ramp=picked[: len(breaks)],
        title=title.en,
        unit=unit.en,
        lower=float(v.min()) if v.size else None,
        integer=integer,
    )
    entries = tuple(
        StyleClass(
            value=i,
            colour=str(e["colour"]),
            label_zh=str(e["label"]),
            label_en=str(e["label"]),
            lower=e["lower"],
            upper=e["upper"],
        )
        for i, e in enumerate(description["entries"])
    )
    style = Style(
        field="class", title_zh=title.zh, title_en=title.en, unit=unit.en, classes=entries
    )
    return classes, style


def fixed_style(
    labels: Mapping[int, Label],
    colours: Sequence[str],
    *,
    title: Label,
    unit: str = "",
    no_data: Label | None = None,
    bounds: Sequence[tuple[float | None, float | None]] | None = None,
) -> Style:
    """A style of fixed classes ``0..n-1`` (and, with ``no_data``, class -1 in grey)."""
    if len(colours) != len(labels):
        raise ValueError(f"{len(labels)} classes need {len(labels)} colours")
    entries = [
        StyleClass(
            value=int(value),
            colour=colours[i],
            label_zh=label.zh,
            label_en=label.en,
            lower=bounds[i][0] if bounds else None,
            upper=bounds[i][1] if bounds else None,
        )
        for i, (value, label) in enumerate(sorted(labels.items()))
    ]
    if no_data is not None:
        entries.append(StyleClass(NO_DATA_CLASS, NO_DATA_COLOUR, no_data.zh, no_data.en))
    return Style(
        field="class", title_zh=title.zh, title_en=title.en, unit=unit, classes=tuple(entries)
    )
