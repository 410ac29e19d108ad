"""Hot spots: the Getis-Ord Gi* statistic on the H3 neighbourhood of each cell.

A cell is a hot spot when it *and its neighbours* hold more incidents than chance would
put there; one busy cell among quiet ones is not. Gi* answers that with a z-score per
cell, which the map colours by the usual confidence bins (90 / 95 / 99 %).

The statistic is Getis & Ord (1992) as generalised by Ord & Getis (1995), the "star"
form that counts the cell itself among its neighbours. With binary weights
``w_ij = 1`` when ``j`` is ``i`` or within ``k`` grid steps of ``i`` (and ``j`` lies in
the study area), ``0`` otherwise — not row-standardised:

    z_i = (sum_j w_ij x_j - xbar W_i) / (S * sqrt((n W_i - W_i**2) / (n - 1)))

with ``n`` the number of area cells, ``W_i = sum_j w_ij`` (the ``neighbours`` column),
``xbar`` the mean and ``S = sqrt(sum_j x_j**2 / n - xbar**2)`` the population standard
deviation of the values over the whole area. For binary weights ``sum_j w_ij**2 = W_i``,
which is why ``W_i`` appears where the general formula has the sum of squared weights.
This equals ArcGIS "Hot Spot Analysis (Getis-Ord Gi*)" and PySAL
``esda.G_Local(y, w, star=True, transform="B").Zs`` on the same neighbours (a test
proves the latter).

Cells of the study area with no incidents count as zeros: leaving them out would make
every busy place look average. Cells outside the area are neither values nor neighbours.

Two additions, both after ArcGIS Pro's tool:

* **False discovery rate.** Testing every cell of a county at 95 % finds some 5 % of
  them "significant" by chance alone. With ``fdr=True`` the confidence bins follow the
  Benjamini–Hochberg procedure over all cells instead (the tool's "Apply False Discovery
  Rate (FDR) Correction"): a cell is in the 99 % bin only if it passes BH at 0.01, and so
  on. The z-scores and raw p-values are unchanged; ``p_fdr`` holds the adjusted ones.
* **A study region too small to judge.** Below :data:`MIN_CELLS` cells, or when every
  cell holds the same value (no incidents at all), Gi* has nothing reliable to say. The
  frame says so in ``attrs["too_small"]`` (see :func:`too_small_label`) rather than only
  reporting every cell as "not significant" (ArcGIS warns below 30 features and stops on
  a constant field).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl
import polars_h3 as plh3
from scipy import sparse, stats

from geodata.hexes import cells_res
from geodata.schema import Label
from layers.grids import area_to_cells  # also imported from here by emerging, hotspot_quality

#: Gi* classes, from hottest to coldest, with their labels.
HOTSPOT_CLASSES: Final[dict[str, Label]] = {
    "hot_99": Label("热点（99%置信）", "Hot spot, 99 % confidence"),
    "hot_95": Label("热点（95%置信）", "Hot spot, 95 % confidence"),
    "hot_90": Label("热点（90%置信）", "Hot spot, 90 % confidence"),
    "not_significant": Label("不显著", "Not significant"),
    "cold_90": Label("冷点（90%置信）", "Cold spot, 90 % confidence"),
    "cold_95": Label("冷点（95%置信）", "Cold spot, 95 % confidence"),
    "cold_99": Label("冷点（99%置信）", "Cold spot, 99 % confidence"),
}

# Two-sided critical values of the standard normal for 99 / 95 / 90 % confidence: the
# bins ArcGIS reports as Gi_Bin ±3 / ±2 / ±1.
Z_CRITICAL: Final[tuple[tuple[float, int], ...]] = ((2.576, 99), (1.960, 95), (1.645, 90))

# Esri's threshold for a reliable Gi*: ArcGIS Pro's Hot Spot Analysis script (class
# LocalG) reads its features with ``minNumObs=3, warnNumObs=30`` (an error below 3, a
# warning below 30); Emerging Hot Spot Analysis stops below 30 (error 110028); Optimized
# Hot Spot Analysis's messages 001572 / 001574 ask for at least 30 features for reliable
# results.
MIN_CELLS: Final[int] = 30

#: Why Gi* cannot judge a study region (the values of ``attrs["too_small_reason"]``), with
#: the text a map shows instead of its legend; ``{n}`` is the number of cells. Not classes:
#: every cell of such a frame keeps a code of :data:`HOTSPOT_CLASSES`.
TOO_SMALL_REASONS: Final[dict[str, Label]] = {
    "too_few": Label(
        f"样本过少，无法判断（研究区仅 {{n}} 个六边形，少于 {MIN_CELLS} 个）",
        f"Too few cells to test (the study region has {{n}} cells, fewer than {MIN_CELLS})",
    ),
    "no_variance": Label(
        "无法判断：研究区 {n} 个六边形的数值全部相同（例如没有警情）",
        "Nothing to test: all {n} cells of the study region have the same value "
        "(no incidents, for example)",
    ),
}

CellArray = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]

COLUMNS: Final[tuple[str, ...]] = (
    "cell",
    "value",
    "neighbours",
    "gi_z",
    "p_value",
    "p_fdr",
    "class",
    "label_zh",
    "label_en",
)


def neighbour_weights(cells: CellArray, *, k: int = 1) -> sparse.csr_array:
    """Binary Gi* weights: each cell with itself and its ``k``-ring, inside ``cells``.

    Parameters
    ----------
    cells : ndarray of uint64
        The study area, sorted and unique (see :func:`layers.grids.area_to_cells`); row
        ``i`` of the result is ``cells[i]``.
    k : int
        Grid distance of the neighbourhood (1 = the cell and its six neighbours).

    Returns
    -------
    scipy.sparse.csr_array
        ``n x n`` matrix of ones and zeros with ones on the diagonal.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    n = cells.size
    if n == 0:
        return sparse.csr_array((0, 0), dtype=np.float64)
    # polars-h3 computes every disk in one vectorised call (~25x faster than a loop
    # over h3-py's grid_disk for the 44k res-9 cells of a county).
    disks = pl.DataFrame({"cell": pl.Series(cells, dtype=pl.UInt64)}).select(
        plh3.grid_disk("cell", k).alias("disk")
    )["disk"]
    sizes = disks.list.len().to_numpy().astype(np.int64)
    rows = np.repeat(np.arange(n), sizes)
    cols_cells = disks.explode().to_numpy().astype(np.uint64)
    pos = np.searchsorted(cells, cols_cells)
    pos_clipped = np.minimum(pos, n - 1)
    inside = cells[pos_clipped] == cols_cells
    data = np.ones(int(inside.sum()), dtype=np.float64)
    return sparse.csr_array((data, (rows[inside], pos_clipped[inside])), shape=(n, n))


def gi_star_z(weights: sparse.csr_array, values: FloatArray) -> FloatArray:
    """Gi* z-scores for one value vector (``n``) or several at once (``n x b``).

    A column whose values are all equal (no incidents at all, or the same count
    everywhere) has no spatial pattern to find: its standard deviation is zero and the
    formula is 0/0. Such a column gets ``z = 0`` (and so ``p = 1``, not significant),
    as does a cell whose neighbourhood is the whole area (``W_i = n``). Reporting 0
    rather than NaN keeps every downstream sum, trend test and colour defined.
    """
    x = np.asarray(values, dtype=np.float64)
    one = x.ndim == 1
    if one:
        x = x[:, None]
    n = x.shape[0]
    z = np.zeros_like(x)
    if n < 2:
        return z[:, 0] if one else z
    w_i = np.asarray(weights.sum(axis=1), dtype=np.float64).ravel()[:, None]
    mean = x.mean(axis=0)
    # Two-pass variance, and an exact test for a constant column: the one-pass
    # E[x^2] - E[x]^2 can leave a tiny positive residue on a constant field and turn
    # rounding noise into a huge z.
    sd = np.sqrt(((x - mean) ** 2).mean(axis=0))
    constant = np.ptp(x, axis=0) == 0
    numerator = weights @ x - w_i * mean
    spread = np.sqrt(np.maximum(n * w_i - w_i**2, 0.0) / (n - 1))
    denominator = sd * spread
    ok = (denominator > 0) & ~constant
    np.divide(numerator, denominator, out=z, where=ok)
    return z[:, 0] if one else z


def p_to_fdr(p: npt.ArrayLike) -> FloatArray:
    """Benjamini–Hochberg adjusted p-values of one family of tests (any shape, all at once).

    With the ``m`` p-values sorted, ``p_(i)`` gets ``min_{j >= i} p_(j) m / j`` (capped at
    1). A test passes BH at level ``alpha`` exactly when its adjusted value is below
    ``alpha``: the procedure's "reject the ``k`` smallest, ``k`` the largest ``i`` with
    ``p_(i) < i alpha / m``" read off per test. Benjamini & Hochberg (1995), JRSS B 57(1).
    """
    pv = np.asarray(p, dtype=np.float64)
    flat = pv.ravel()
    m = flat.size
    out = np.empty(m, dtype=np.float64)
    if m == 0:
        return out.reshape(pv.shape)
    order = np.argsort(flat, kind="stable")
    scaled = flat[order] * m / np.arange(1, m + 1)
    out[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return out.reshape(pv.shape)


def z_to_class(z: npt.ArrayLike, *, p_fdr: npt.ArrayLike | None = None) -> npt.NDArray[np.str_]:
    """The ArcGIS confidence bin of each z-score: ``hot_99`` … ``not_significant`` … ``cold_99``.

    Thresholds are the two-sided normal critical values |z| > 2.576 / 1.960 / 1.645. Given
    ``p_fdr`` (from :func:`p_to_fdr`), a cell must also pass Benjamini–Hochberg at that
    level (adjusted p below 0.01 / 0.05 / 0.10), as ArcGIS bins with its FDR option: the
    correction can lower a cell's confidence, never raise it.
    """
    zz = np.asarray(z, dtype=np.float64)
    passes = np.ones(zz.shape, dtype=bool)
    q = None if p_fdr is None else np.asarray(p_fdr, dtype=np.float64)
    if q is not None and q.shape != zz.shape:
        raise ValueError(f"p_fdr has shape {q.shape} but z has shape {zz.shape}")
    conditions = []
    choices = []
    for sign, kind in ((1.0, "hot"), (-1.0, "cold")):
        for crit, conf in Z_CRITICAL:
            if q is not None:
                passes = q < (100 - conf) / 100
            conditions.append((sign * zz > crit) & passes)
            choices.append(f"{kind}_{conf}")
    return np.select(conditions, choices, default="not_significant").astype(str)


def too_small_reason(values: npt.ArrayLike) -> str | None:
    """Why Gi* cannot judge these values, a key of :data:`TOO_SMALL_REASONS`, or None.

    ``values`` holds one value per area cell (``n``), or one column per time bin
    (``n x b``). ``"too_few"`` below :data:`MIN_CELLS` cells; ``"no_variance"`` when every
    cell holds the same value (in every bin): Gi* is then 0/0, which ArcGIS stops on
    (error 906) and :func:`gi_star_z` reports as ``z = 0``.
    """
    x = np.asarray(values, dtype=np.float64)
    n = x.shape[0] if x.ndim else 0
    if n < MIN_CELLS:
        return "too_few"
    if (np.ptp(x.reshape(n, -1), axis=0) == 0).all():
        return "no_variance"
    return None


def too_small_label(frame: pd.DataFrame) -> Label | None:
    """The message to show instead of a legend when ``frame`` is too small to judge.

    ``frame`` is a result of :func:`gi_star` (or :func:`layers.emerging.emerging_hotspots`);
    returns None when its study region can be judged. The label has the cell count filled
    in, e.g. "Too few cells to test (the study region has 12 cells, fewer than 30)".
    """
    reason = frame.attrs.get("too_small_reason")
    if reason is None:
        return None
    n = int(frame.attrs.get("n_cells", len(frame)))
    label = TOO_SMALL_REASONS[reason]
    return Label(label.zh.format(n=n), label.en.format(n=n))


def study_attrs(values: npt.ArrayLike, *, fdr: bool) -> dict[str, object]:
    """The frame-level facts of a Gi* result: ``fdr``, ``n_cells``, ``too_small`` and
    ``too_small_reason`` (see :func:`gi_star`)."""
    x = np.asarray(values, dtype=np.float64)
    reason = too_small_reason(x)
    return {
        "fdr": bool(fdr),
        "n_cells": int(x.shape[0]) if x.ndim else 0,
        "too_small": reason is not None,
        "too_small_reason": reason,
    }


def values_on_area(
    values: pd.DataFrame, cells: CellArray, *, value_col: str, key_cols: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The rows of ``values`` that lie in the area, checked: one resolution, no NaN.

    Rows outside the area are dropped (the caller chose the area). Returns a new frame
    with a uint64 ``cell`` column, ``value_col`` as float64 and ``key_cols`` untouched.
    """
    missing = [c for c in ("cell", value_col, *key_cols) if c not in values.columns]
    if missing:
        raise ValueError(f"values lack column(s) {missing}; found {list(values.columns)}")
    vcells = np.asarray(values["cell"].to_numpy(), dtype=np.uint64)
    v = np.asarray(values[value_col].to_numpy(), dtype=np.float64)
    if np.isnan(v).any():
        raise ValueError(f"{value_col!r} has NaN; a cell without incidents is 0, not missing")
    if vcells.size and cells.size:
        area_res = int(cells_res(cells[:1])[0])
        found = np.unique(cells_res(vcells))
        if found.size != 1 or int(found[0]) != area_res:
            raise ValueError(
                f"values are at H3 resolution(s) {sorted(found.tolist())} but the area is at "
                f"resolution {area_res}; roll the values up to the area's resolution first"
            )
    pos = np.minimum(np.searchsorted(cells, vcells), max(cells.size - 1, 0))
    inside = cells[pos] == vcells if cells.size else np.zeros(vcells.size, dtype=bool)
    out = pd.DataFrame({"cell": vcells[inside], value_col: v[inside]})
    for col in key_cols:
        out[col] = values[col].to_numpy()[inside]
    if out.duplicated(subset=["cell", *key_cols]).any():
        keys = ", ".join(["cell", *key_cols])
        raise ValueError(f"values repeat ({keys}); aggregate them before computing Gi*")
    return out


def gi_star(
    values: pd.DataFrame,
    *,
    area_cells: npt.ArrayLike,
    k: int = 1,
    value_col: str = "count",
    fdr: bool = False,
) -> pd.DataFrame:
    """Getis-Ord Gi* hot and cold spots on H3 cells.

    Parameters
    ----------
    values : DataFrame
        Columns ``cell`` (uint64 H3 cell, one row per cell) and ``value_col``. Cells of
        the area missing here count as 0; rows outside the area are ignored.
    area_cells : array-like of uint64
        Every cell of the study area, at the resolution of ``values``.
    k : int
        Neighbourhood radius in grid steps; the cell itself is always included.
    value_col : str
        Name of the value column (incident counts, rates, ...).
    fdr : bool
        Bin by the false discovery rate (Benjamini–Hochberg over all area cells, at 0.10 /
        0.05 / 0.01 for the 90 / 95 / 99 % bins) instead of each cell's own p-value.
        Off by default, as in ArcGIS.

    Returns
    -------
    DataFrame
        One row per area cell, sorted by cell: ``cell``, ``value``, ``neighbours``
        (``W_i``: the cell plus its area neighbours), ``gi_z``, ``p_value`` (two-sided,
        normal, never adjusted), ``p_fdr`` (the Benjamini–Hochberg adjusted p-value over
        all area cells, given whether or not ``fdr`` is on), ``class`` (a key of
        :data:`HOTSPOT_CLASSES`: by ``gi_z``, and by ``p_fdr`` as well when ``fdr``;
        see :func:`z_to_class`), ``label_zh``, ``label_en``.

        ``attrs`` holds ``fdr`` (whether the classes used the correction), ``n_cells``,
        ``too_small`` (bool) and ``too_small_reason``: None, ``"too_few"`` (fewer than
        :data:`MIN_CELLS` cells) or ``"no_variance"`` (every cell holds the same value,
        e.g. no incidents). A too-small frame keeps its classes (for fewer than 30 cells
        the z-scores are computed as usual; a constant field gives ``gi_z = 0``,
        ``p_value = 1`` and ``not_significant`` everywhere) but a map should show
        :func:`too_small_label` instead of them.

    Raises
    ------
    ValueError
        On a missing column, NaN values, repeated cells, or cells whose resolution
        differs from the area's.

    Notes
    -----
    Getis, A. & Ord, J. K. (1992), "The analysis of spatial association by use of
    distance statistics", Geographical Analysis 24(3); Ord, J. K. & Getis, A. (1995),
    "Local spatial autocorrelation statistics: distributional issues and an
    application", Geographical Analysis 27(4). Weights are binary, not row-standardised.
    Benjamini, Y. & Hochberg, Y. (1995), "Controlling the false discovery rate", JRSS B
    57(1); ArcGIS applies it per confidence level in the same way (its ``fdrTransform``:
    BH cut-offs ``i / n`` times 0.10, 0.05 and 0.01 over all features).
    """
    cells = area_to_cells(area_cells)
    inside = values_on_area(values, cells, value_col=value_col)
    x = np.zeros(cells.size, dtype=np.float64)
    x[np.searchsorted(cells, inside["cell"].to_numpy())] = inside[value_col].to_numpy()
    weights = neighbour_weights(cells, k=k)
    z = gi_star_z(weights, x)
    p = 2.0 * stats.norm.sf(np.abs(z))
    q = p_to_fdr(p)
    classes = z_to_class(z, p_fdr=q if fdr else None)
    out = pd.DataFrame(
        {
            "cell": cells,
            "value": x,
            "neighbours": np.asarray(weights.sum(axis=1)).ravel().astype(np.int64),
            "gi_z": z,
            "p_value": p,
            "p_fdr": q,
            "class": classes,
            "label_zh": [HOTSPOT_CLASSES[c].zh for c in classes],
            "label_en": [HOTSPOT_CLASSES[c].en for c in classes],
        },
        columns=list(COLUMNS),
    )
    out.attrs.update(study_attrs(x, fdr=fdr))
    return out
