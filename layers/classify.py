"""Classification of layer values into colour classes, and the legend that explains them.

A map colours a value by its class, so the breaks decide what a reader sees. The schemes
here are mapclassify's (quantiles, Fisher–Jenks natural breaks, equal interval, fixed
bins), made deterministic and safe on the small, tied samples a county often produces. A
legend is returned as plain JSON-able data, so the Dash page, the wall screen and an
export draw the same thing.

Colour ramps are ColorBrewer 2.0 (Cynthia Brewer, Mark Harrower, Penn State; Apache-2.0):
``heat`` is YlOrRd (sequential, colour-blind safe), ``diverging`` is RdBu (colour-blind
safe); ``qualitative`` is the Okabe–Ito palette (designed for colour-vision deficiency).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import mapclassify
import numpy as np
import numpy.typing as npt

Scheme = Literal["quantiles", "natural_breaks", "equal_interval", "fixed"]
SCHEMES: tuple[Scheme, ...] = ("quantiles", "natural_breaks", "equal_interval", "fixed")

# Fisher–Jenks costs O(k·m²) for m distinct values; above this many it runs on an evenly
# spaced sample of them, exact for small layers and deterministic for large ones.
_JENKS_SAMPLE = 1000

# ColorBrewer YlOrRd, one list per number of classes (3–9), light to dark.
_YLORRD: dict[int, tuple[str, ...]] = {
    3: ("#ffeda0", "#feb24c", "#f03b20"),
    4: ("#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"),
    5: ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
    6: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"),
    7: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
    8: ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
    9: (
        "#ffffcc",
        "#ffeda0",
        "#fed976",
        "#feb24c",
        "#fd8d3c",
        "#fc4e2a",
        "#e31a1c",
        "#bd0026",
        "#800026",
    ),
}

# ColorBrewer RdBu reversed (blue = below, red = above), one list per number of classes.
_BURD: dict[int, tuple[str, ...]] = {
    3: ("#67a9cf", "#f7f7f7", "#ef8a62"),
    4: ("#0571b0", "#92c5de", "#f4a582", "#ca0020"),
    5: ("#0571b0", "#92c5de", "#f7f7f7", "#f4a582", "#ca0020"),
    6: ("#2166ac", "#67a9cf", "#d1e5f0", "#fddbc7", "#ef8a62", "#b2182b"),
    7: ("#2166ac", "#67a9cf", "#d1e5f0", "#f7f7f7", "#fddbc7", "#ef8a62", "#b2182b"),
    8: ("#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#fddbc7", "#f4a582", "#d6604d", "#b2182b"),
    9: (
        "#2166ac",
        "#4393c3",
        "#92c5de",
        "#d1e5f0",
        "#f7f7f7",
        "#fddbc7",
        "#f4a582",
        "#d6604d",
        "#b2182b",
    ),
}

# Okabe & Ito (2008), "Color Universal Design".
_OKABE_ITO: tuple[str, ...] = (
    "#e69f00",
    "#56b4e9",
    "#009e73",
    "#f0e442",
    "#0072b2",
    "#d55e00",
    "#cc79a7",
    "#000000",
)

RAMPS: tuple[str, ...] = ("heat", "diverging", "qualitative")


def ramp(name: str, k: int) -> list[str]:
    """Return ``k`` colours (hex ``#rrggbb``) of the ramp ``name``.

    Parameters
    ----------
    name : str
        ``"heat"`` (sequential YlOrRd), ``"diverging"`` (blue–white–red) or
        ``"qualitative"`` (Okabe–Ito).
    k : int
        Number of colours, 1–9 (1–8 for ``"qualitative"``).

    Returns
    -------
    list of str
        Colours ordered from the lowest class to the highest.
    """
    if name not in RAMPS:
        raise ValueError(f"unknown ramp {name!r}; known: {', '.join(RAMPS)}")
    if name == "qualitative":
        if not 1 <= k <= len(_OKABE_ITO):
            raise ValueError(f"the qualitative ramp has 1 to {len(_OKABE_ITO)} colours, not {k}")
        return list(_OKABE_ITO[:k])
    table = _YLORRD if name == "heat" else _BURD
    if not 1 <= k <= max(table):
        raise ValueError(f"the {name} ramp has 1 to {max(table)} colours, not {k}")
    if k >= 3:
        return list(table[k])
    three = table[3]
    # One or two classes: the middle colour, or the two ends, of the three-class ramp.
    return [three[1]] if k == 1 else [three[0], three[2]]


def classify(
    values: npt.ArrayLike,
    *,
    scheme: Scheme = "quantiles",
    k: int = 5,
    bins: Sequence[float] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Put each value into a class; return the class of every value and the class breaks.

    Parameters
    ----------
    values : array-like of float
        The values of a layer, one per feature (no NaN).
    scheme : {"quantiles", "natural_breaks", "equal_interval", "fixed"}
        How breaks are chosen. ``natural_breaks`` is Fisher–Jenks (exact, deterministic).
    k : int
        Wanted number of classes. Fewer come back when the values have fewer distinct
        numbers than ``k`` (five classes of three distinct counts would mislead).
    bins : sequence of float, optional
        Upper bounds of the classes for ``scheme="fixed"``; when values exceed the last
        bound, the last class is widened to hold them (its break becomes the maximum).

    Returns
    -------
    classes : ndarray of int64
        Class index (0 = lowest) of each value, in the input order.
    breaks : ndarray of float64
        Upper bound of each class, increasing; ``len(breaks)`` is the number of classes.
        Class ``i`` holds the values ``breaks[i-1] < v <= breaks[i]``. When every value
        is a whole number (counts), computed breaks are whole numbers too.
    """
    y = np.asarray(values, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError("values must be one-dimensional")
    if np.isnan(y).any():
        raise ValueError("values must not contain NaN")
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    if scheme == "fixed":
        if not bins:
            raise ValueError('scheme="fixed" needs bins')
        upper = np.asarray(bins, dtype=np.float64)
        if np.any(np.diff(upper) <= 0):
            raise ValueError("bins must be strictly increasing")
        if y.size and y.max() > upper[-1]:
            upper = upper.copy()
            upper[-1] = y.max()
        return _assign(y, upper), upper
    if k < 1:
        raise ValueError("k must be at least 1")
    if y.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    distinct = np.unique(y)
    if distinct.size <= k:
        # Each distinct value is its own class: the breaks are the values themselves.
        return _assign(y, distinct), distinct
    if scheme in ("quantiles", "equal_interval"):
        classifier = mapclassify.Quantiles if scheme == "quantiles" else mapclassify.EqualInterval
        with warnings.catch_warnings():
            # Tied quantiles make mapclassify lower k and warn; equal breaks are merged below.
            warnings.filterwarnings("ignore", "Not enough unique values", UserWarning)
            upper = np.asarray(classifier(y, k=k).bins, dtype=np.float64)
    else:
        upper = _jenks(y, k)
    if np.all(y == np.floor(y)):
        # For whole numbers "v <= 2.4" and "v <= 2" are the same class; say 2.
        upper = np.floor(upper)
    upper = np.unique(upper)  # ties in the data can make two breaks equal
    upper[-1] = y.max()
    return _assign(y, upper), upper


def _jenks(y: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.float64]:
    """Fisher–Jenks breaks: the ``k`` contiguous groups of minimal within-group variance.

    Solved exactly by dynamic programming over the distinct values weighted by their
    multiplicity (counts have few distinct values, so this is exact and fast); past
    ``_JENKS_SAMPLE`` distinct values it runs on an evenly spaced sample of them, which
    keeps it deterministic. mapclassify's FisherJenks gives the same answer but runs in
    pure Python without numba (seconds for a few thousand values).
    """
    x, w = np.unique(y, return_counts=True)
    if x.size > _JENKS_SAMPLE:
        keep = np.linspace(0, x.size - 1, _JENKS_SAMPLE).round().astype(np.int64)
        x, w = x[keep], np.ones(keep.size, dtype=np.int64)
    m = x.size
    wf = w.astype(np.float64)
    cw = np.concatenate(([0.0], np.cumsum(wf)))
    cs = np.concatenate(([0.0], np.cumsum(wf * x)))
    cs2 = np.concatenate(([0.0], np.cumsum(wf * x * x)))
    i = np.arange(m)[:, None]
    j = np.arange(m)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        n = cw[j + 1] - cw[i]
        total = cs[j + 1] - cs[i]
        cost = (cs2[j + 1] - cs2[i]) - total * total / n
    cost = np.where(j >= i, np.maximum(cost, 0.0), np.inf)
    best = cost[0].copy()  # best[j]: one group holding x[0..j]
    starts: list[npt.NDArray[np.int64]] = []
    for _ in range(1, k):
        before = np.concatenate(([np.inf], best[:-1]))  # groups up to x[i-1]
        candidates = before[:, None] + cost
        starts.append(np.argmin(candidates, axis=0))
        best = candidates.min(axis=0)
    ends = [m - 1]
    for start in reversed(starts):
        first = int(start[ends[-1]])
        ends.append(first - 1)
    return np.asarray(x[sorted(ends)], dtype=np.float64)


def _assign(y: npt.NDArray[np.float64], upper: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    classes = np.searchsorted(upper, y, side="left")
    return np.minimum(classes, upper.size - 1).astype(np.int64)


def _number(x: float, integer: bool) -> str:
    if integer:
        return f"{int(np.floor(x)):,}"
    return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def legend(
    breaks: npt.ArrayLike,
    *,
    ramp: Sequence[str],
    title: str,
    unit: str = "",
    lower: float | None = None,
    integer: bool = False,
) -> dict[str, Any]:
    """Describe a classified layer for any front end: title, unit and one entry per class.

    Parameters
    ----------
    breaks : array-like of float
        Upper bounds of the classes, as returned by :func:`classify`.
    ramp : sequence of str
        One colour per class (see :func:`ramp`).
    title, unit : str
        Text shown above the entries (already in the reader's language).
    lower : float, optional
        Lower bound of the first class (e.g. the smallest value); omitted when unknown.
    integer : bool
        Whether the values are counts: class ``i`` then starts at ``breaks[i-1] + 1``
        and labels carry no decimals (bounds are floored).

    Returns
    -------
    dict
        ``{"title", "unit", "entries": [{"lower", "upper", "colour", "label"}, ...]}``;
        ``lower`` of the first entry is None when not given. Plain JSON types only.
    """
    upper = [float(b) for b in np.asarray(breaks, dtype=np.float64)]
    if len(ramp) != len(upper):
        raise ValueError(f"{len(upper)} classes need {len(upper)} colours, got {len(ramp)}")
    entries: list[dict[str, Any]] = []
    for i, high in enumerate(upper):
        if i == 0:
            low = None if lower is None else float(lower)
        else:
            low = float(np.floor(upper[i - 1]) + 1) if integer else upper[i - 1]
        if low is None:
            label = f"≤ {_number(high, integer)}"
        elif integer and np.floor(low) == np.floor(high):
            label = _number(high, integer)
        else:
            label = f"{_number(low, integer)} – {_number(high, integer)}"
        entries.append({"lower": low, "upper": high, "colour": ramp[i], "label": label})
    return {"title": title, "unit": unit, "entries": entries}
