"""Emerging hot spots: how each cell's Gi* z-score moves across ordered time bins.

For every time bin (a week, a month) the Gi* z-score of each cell is computed on the same
H3 neighbourhood (:mod:`layers.hotspots`). The series of z-scores of a cell is then tested
for a monotonic trend with the Mann–Kendall test, and the cell is put in one of the
pattern classes of ArcGIS Pro's *Emerging Hot Spot Analysis* ("How Emerging Hot Spot
Analysis works"): new, consecutive, intensifying, persistent, diminishing, sporadic,
oscillating and historical hot spots, the same eight for cold spots, or no pattern.

Differences from ArcGIS, on purpose:

* The neighbourhood is spatial only (the cell and its ``k``-ring in the same bin).
  ArcGIS also adds the neighbours of earlier bins ("neighborhood time step"), which
  smooths the series; bin the data more coarsely for the same effect.
* No false-discovery-rate correction of the per-bin significance by default
  (``fdr=False``). ArcGIS Pro always corrects it: "How Emerging Hot Spot Analysis works"
  computes Gi* for each bin with an FDR correction, and its script's ``applyFDR``
  defaults to True, with Benjamini–Hochberg over every (cell, bin) of the cube at once.
  ``fdr=True`` does the same here.
* Where ArcGIS's definitions overlap, the precedence is explicit (see
  :func:`classify_trends`).

The frame's ``attrs`` say whether the correction was used and whether the study region
is too small to judge, as :func:`layers.hotspots.gi_star`'s do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from geodata.schema import Label
from layers.hotspots import (
    area_to_cells,
    gi_star_z,
    neighbour_weights,
    p_to_fdr,
    study_attrs,
    values_on_area,
)

#: Pattern classes with their labels, hot first, then cold, then none.
EMERGING_PATTERNS: Final[dict[str, Label]] = {
    "new_hot": Label("新增热点", "New hot spot"),
    "consecutive_hot": Label("连续热点", "Consecutive hot spot"),
    "intensifying_hot": Label("加剧热点", "Intensifying hot spot"),
    "persistent_hot": Label("持续热点", "Persistent hot spot"),
    "diminishing_hot": Label("减弱热点", "Diminishing hot spot"),
    "sporadic_hot": Label("零星热点", "Sporadic hot spot"),
    "oscillating_hot": Label("振荡热点", "Oscillating hot spot"),
    "historical_hot": Label("历史热点", "Historical hot spot"),
    "new_cold": Label("新增冷点", "New cold spot"),
    "consecutive_cold": Label("连续冷点", "Consecutive cold spot"),
    "intensifying_cold": Label("加剧冷点", "Intensifying cold spot"),
    "persistent_cold": Label("持续冷点", "Persistent cold spot"),
    "diminishing_cold": Label("减弱冷点", "Diminishing cold spot"),
    "sporadic_cold": Label("零星冷点", "Sporadic cold spot"),
    "oscillating_cold": Label("振荡冷点", "Oscillating cold spot"),
    "historical_cold": Label("历史冷点", "Historical cold spot"),
    "none": Label("无明显模式", "No pattern detected"),
}

# ArcGIS: "statistically significant hot spot for ninety percent of the time-step intervals".
PERSISTENT_SHARE: Final[float] = 0.9

FloatArray = npt.NDArray[np.float64]

COLUMNS: Final[tuple[str, ...]] = (
    "cell",
    "bins",
    "hot_bins",
    "cold_bins",
    "last_z",
    "mk_s",
    "mk_z",
    "mk_p",
    "tau",
    "class",
    "label_zh",
    "label_en",
)


def mann_kendall(series: npt.ArrayLike) -> dict[str, FloatArray]:
    """Mann–Kendall trend test on each row of ``series`` (``m x n``: ``m`` series of ``n``).

    ``S = sum_{i<j} sign(x_j - x_i)``; its variance under "no trend" with the tie
    correction ``Var S = [n(n-1)(2n+5) - sum_t t(t-1)(2t+5)] / 18`` (``t`` the size of
    each group of equal values); ``z = (S - sign S) / sqrt(Var S)`` with the usual
    continuity correction; ``p`` two-sided from the normal. ``tau`` is Kendall's tau-b
    between the series and time (equal to ``scipy.stats.kendalltau(range(n), x)``),
    which is 1 for a strictly increasing series even when values tie elsewhere.
    A series with no variation (``Var S = 0``) gets ``z = 0``, ``p = 1``, ``tau = 0``.

    Mann (1945), Econometrica 13; Kendall (1975), *Rank Correlation Methods*.
    """
    x = np.atleast_2d(np.asarray(series, dtype=np.float64))
    n = x.shape[1]
    if n < 2:
        raise ValueError("the Mann–Kendall test needs at least two time bins")
    # One pass per bin keeps memory at m x n (a county at res 9 has ~40,000 series).
    s = np.zeros(x.shape[0], dtype=np.float64)
    equal = np.empty_like(x)
    for i in range(n):
        s += np.sign(x[:, i + 1 :] - x[:, i : i + 1]).sum(axis=1)
        equal[:, i] = (x == x[:, i : i + 1]).sum(axis=1)
    # Each value of a tie group of size t sees t equal values (itself included), so
    # summing (c-1)(2c+5) over values gives sum_t t(t-1)(2t+5) over groups.
    tie_term = ((equal - 1.0) * (2.0 * equal + 5.0)).sum(axis=1)
    var_s = (n * (n - 1) * (2 * n + 5) - tie_term) / 18.0
    z = np.zeros_like(s)
    ok = var_s > 0
    np.divide(s - np.sign(s), np.sqrt(var_s, where=ok, out=np.ones_like(var_s)), out=z, where=ok)
    p = 2.0 * stats.norm.sf(np.abs(z))
    pairs = n * (n - 1) / 2.0
    tied_pairs = ((equal - 1.0).sum(axis=1)) / 2.0
    tau_den = np.sqrt(pairs * (pairs - tied_pairs))
    tau = np.zeros_like(s)
    np.divide(s, tau_den, out=tau, where=tau_den > 0)
    return {"s": s, "var_s": var_s, "z": z, "p": p, "tau": tau}


def significant_bins(
    gi_z: npt.ArrayLike, *, alpha: float = 0.05, fdr: bool = False
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Which (cell, bin) z-scores are significant hot and cold spots: ``(hot, cold)``.

    Significant means a two-sided normal p-value below ``alpha``; with ``fdr`` the
    Benjamini–Hochberg adjusted p-value over all cells and bins together must be below
    ``alpha`` as well (ArcGIS's correction of the whole cube).
    """
    z = np.asarray(gi_z, dtype=np.float64)
    crit = float(stats.norm.isf(alpha / 2.0))
    passes = np.abs(z) > crit
    if fdr:
        passes &= p_to_fdr(2.0 * stats.norm.sf(np.abs(z))) < alpha
    return passes & (z > 0), passes & (z < 0)


def classify_trends(
    gi_z: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    trend_alpha: float = 0.05,
    fdr: bool = False,
) -> npt.NDArray[np.str_]:
    """The emerging-hot-spot pattern of each row of Gi* z-scores (``m`` cells x ``n`` bins).

    A bin is a significant hot (cold) spot when its two-sided normal p-value is below
    ``alpha`` and z is positive (negative); with ``fdr``, when it also passes
    Benjamini–Hochberg at ``alpha`` over all ``m x n`` bins (:func:`significant_bins`).
    The trend is the Mann–Kendall test of the whole z series at ``trend_alpha``, never
    corrected. With ``H`` the share of hot bins:

    * ``H >= 0.9`` and the last bin hot: *intensifying* (significant upward trend),
      *diminishing* (significant downward trend), else *persistent*.
    * ``H >= 0.9`` and the last bin not hot: *historical*.
    * ``H < 0.9`` and the last bin hot: *oscillating* if any earlier bin was a
      significant cold spot; else *new* if no earlier bin was hot; else *consecutive* if
      the bins are hot in one uninterrupted final run of two or more and never before;
      else *sporadic* (on again, off again).
    * The same rules with hot and cold exchanged (an *intensifying* cold spot trends
      downward), and *none* for everything else.

    Precedence where ArcGIS's wordings overlap: the state of the last bin decides
    between hot and cold patterns (a cell now cold after a hot history is an oscillating
    cold spot, not a historical hot spot), and a history of the opposite sign makes a
    pattern *oscillating* rather than *new* or *consecutive*. As in current ArcGIS Pro,
    *sporadic* and *oscillating* need the last bin to be significant; a cell that was hot
    now and then but is not now has no pattern.
    """
    z = np.atleast_2d(np.asarray(gi_z, dtype=np.float64))
    m, n = z.shape
    if n < 2:
        raise ValueError("emerging hot spots need at least two time bins")
    mk = mann_kendall(z)
    up = (mk["p"] < trend_alpha) & (mk["z"] > 0)
    down = (mk["p"] < trend_alpha) & (mk["z"] < 0)
    out = np.full(m, "none", dtype=object)
    hot, cold = significant_bins(z, alpha=alpha, fdr=fdr)
    # Cold rules first, hot rules second: the two sets cannot both match one row, so the
    # order only keeps the code symmetric.
    for same, other, kind, rising, falling in (
        (cold, hot, "cold", down, up),
        (hot, cold, "hot", up, down),
    ):
        share = same.sum(axis=1) / n
        last = same[:, -1]
        final_run = np.cumprod(same[:, ::-1], axis=1).sum(axis=1)
        before_run = same.sum(axis=1) - final_run
        other_ever = other[:, :-1].any(axis=1)
        mostly = share >= PERSISTENT_SHARE
        rules = [
            (mostly & ~last & ~other[:, -1], "historical"),
            (mostly & last & rising, "intensifying"),
            (mostly & last & falling, "diminishing"),
            (mostly & last, "persistent"),
            (~mostly & last & other_ever, "oscillating"),
            (~mostly & last & (same.sum(axis=1) == 1), "new"),
            (~mostly & last & (before_run == 0) & (final_run >= 2), "consecutive"),
            (~mostly & last & (before_run > 0), "sporadic"),
        ]
        taken = np.zeros(m, dtype=bool)
        for mask, name in rules:
            hit = mask & ~taken
            out[hit] = f"{name}_{kind}"
            taken |= hit
    return out.astype(str)


def bins_matrix(
    values: pd.DataFrame,
    cells: npt.NDArray[np.uint64],
    *,
    bin_col: str,
    value_col: str,
    bins: Sequence[Any] | None = None,
) -> tuple[FloatArray, npt.NDArray[Any]]:
    """Values as a dense ``cells x bins`` matrix (zeros where a cell had nothing).

    ``bins`` is the ordered time axis; by default the sorted distinct bins present in
    ``values``. Rows of other bins, or outside the area, are left out.
    """
    inside = values_on_area(values, cells, value_col=value_col, key_cols=(bin_col,))
    axis = np.asarray(
        sorted(pd.unique(inside[bin_col])) if bins is None else list(bins), dtype=object
    )
    if pd.Index(axis).has_duplicates:
        raise ValueError("bins repeat; give each time bin once")
    col = pd.Index(axis).get_indexer(inside[bin_col].to_numpy())
    keep = col >= 0
    x = np.zeros((cells.size, axis.size), dtype=np.float64)
    rows = np.searchsorted(cells, inside["cell"].to_numpy()[keep])
    x[rows, col[keep]] = inside[value_col].to_numpy()[keep]
    return x, axis


def gi_star_by_bin(
    values: pd.DataFrame,
    *,
    area_cells: npt.ArrayLike,
    k: int = 1,
    bin_col: str = "bin",
    value_col: str = "count",
    bins: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Gi* z-score of every area cell in every time bin (long format).

    Parameters are those of :func:`emerging_hotspots`. Returns columns ``cell``,
    ``bin_col``, ``value``, ``gi_z``, sorted by cell then bin — what a time slider
    or a cell's click-through chart draws.
    """
    cells = area_to_cells(area_cells)
    x, axis = bins_matrix(values, cells, bin_col=bin_col, value_col=value_col, bins=bins)
    z = gi_star_z(neighbour_weights(cells, k=k), x)
    return pd.DataFrame(
        {
            "cell": np.repeat(cells, axis.size),
            bin_col: np.tile(axis, cells.size),
            "value": x.ravel(),
            "gi_z": z.ravel(),
        }
    )


def emerging_hotspots(
    values: pd.DataFrame,
    *,
    area_cells: npt.ArrayLike,
    k: int = 1,
    bin_col: str = "bin",
    value_col: str = "count",
    bins: Sequence[Any] | None = None,
    alpha: float = 0.05,
    trend_alpha: float = 0.05,
    fdr: bool = False,
) -> pd.DataFrame:
    """Emerging hot-spot pattern of each cell over ordered time bins.

    Parameters
    ----------
    values : DataFrame
        Columns ``cell`` (uint64), ``bin_col`` (orderable: week start, month number …)
        and ``value_col``; one row per (cell, bin). Missing pairs count as 0.
    area_cells : array-like of uint64
        Every cell of the study area, at the resolution of ``values``.
    k : int
        Gi* neighbourhood radius in grid steps.
    bin_col, value_col : str
        Column names.
    bins : sequence, optional
        The complete ordered time axis. Give it when some bins may have no rows at all
        (a quiet week is still a week); by default the distinct bins found, sorted.
    alpha : float
        Significance level of a hot or cold bin (two-sided). 0.05 = 95 % confidence.
    trend_alpha : float
        Significance level of the Mann–Kendall trend.
    fdr : bool
        Count a bin as hot or cold only if it also passes Benjamini–Hochberg at ``alpha``
        over every (cell, bin) of the area, as ArcGIS Pro does. Off by default.

    Returns
    -------
    DataFrame
        One row per area cell, sorted by cell: ``cell``, ``bins`` (number of bins),
        ``hot_bins``, ``cold_bins`` (significant bins, FDR-corrected when ``fdr``),
        ``last_z`` (Gi* z of the last bin), ``mk_s``, ``mk_z``, ``mk_p``, ``tau`` (the
        Mann–Kendall test of the z series), ``class`` (a key of
        :data:`EMERGING_PATTERNS`), ``label_zh``, ``label_en``.

        ``attrs`` holds ``fdr``, ``n_cells``, ``too_small`` and ``too_small_reason``
        (``"too_few"`` below 30 cells, ``"no_variance"`` when every cell holds the same
        value in every bin), as in :func:`layers.hotspots.gi_star`; show
        :func:`layers.hotspots.too_small_label` rather than the patterns of a too-small
        frame (a constant cube gives *none* everywhere).

    Raises
    ------
    ValueError
        With fewer than two bins, and on the input errors of
        :func:`layers.hotspots.gi_star`. ArcGIS asks for at least ten bins; with fewer the
        trend test has little power and most cells get *none* or *new*.
    """
    if not 0 < alpha < 1 or not 0 < trend_alpha < 1:
        raise ValueError("alpha and trend_alpha must lie strictly between 0 and 1")
    cells = area_to_cells(area_cells)
    x, axis = bins_matrix(values, cells, bin_col=bin_col, value_col=value_col, bins=bins)
    if axis.size < 2:
        raise ValueError(f"emerging hot spots need at least two time bins, got {axis.size}")
    z = gi_star_z(neighbour_weights(cells, k=k), x)
    hot, cold = significant_bins(z, alpha=alpha, fdr=fdr)
    mk = mann_kendall(z) if cells.size else {key: np.zeros(0) for key in ("s", "z", "p", "tau")}
    classes = (
        classify_trends(z, alpha=alpha, trend_alpha=trend_alpha, fdr=fdr)
        if cells.size
        else np.zeros(0, dtype=str)
    )
    out = pd.DataFrame(
        {
            "cell": cells,
            "bins": np.full(cells.size, axis.size, dtype=np.int64),
            "hot_bins": hot.sum(axis=1).astype(np.int64),
            "cold_bins": cold.sum(axis=1).astype(np.int64),
            "last_z": z[:, -1],
            "mk_s": mk["s"],
            "mk_z": mk["z"],
            "mk_p": mk["p"],
            "tau": mk["tau"],
            "class": np.asarray(classes, dtype=str),
            "label_zh": [EMERGING_PATTERNS[c].zh for c in classes],
            "label_en": [EMERGING_PATTERNS[c].en for c in classes],
        },
        columns=list(COLUMNS),
    )
    out.attrs.update(study_attrs(x, fdr=fdr))
    return out
