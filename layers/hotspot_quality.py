"""Hot-spot quality: how well last period's hot spots catch next period's incidents.

A hot-spot map is only worth patrolling if the places it marks keep holding incidents.
This module draws the hot spots on a *training* period and scores them on the *test*
period that follows, with the measures of the crime-forecasting literature:

* **PAI**, Predictive Accuracy Index (Chainey, Tompson & Uhlig 2008, "The utility of
  hotspot mapping for predicting spatial patterns of crime", Security Journal 21; the
  accuracy measure of the NIJ Real-Time Crime Forecasting Challenge, 2017):
  ``PAI = (n / N) / (a / A)`` with ``n`` test incidents inside the hot spots, ``N`` all
  test incidents in the area, ``a`` the hot-spot area and ``A`` the whole area.
  1 = no better than chance; 10 = hot spots hold ten times their share of the area.
* **RRI**, Recapture Rate Index (Levine 2008, "The 'hottest' part of a hotspot:
  comments on 'The utility of hotspot mapping …'", Security Journal 21):
  ``RRI = (n2 / n1) / (N2 / N1)``: incidents in the hot spots in the test period over
  the training period, relative to the same ratio for the whole area. 1 = the hot spots
  keep their share; below 1 they cool faster than the county.
* **PEI**, Predictive Efficiency Index (Hunt 2016, used by the NIJ Challenge): ``n``
  over the most test incidents any choice of the same number of cells could have held.
  With H3 cells of (nearly) equal area this is PAI over the best possible PAI.

The NIJ Challenge scored PAI and PEI; the issue's "RRI" is Levine's index above.

Resolution matters: coarse cells hold many incidents but cover much ground, fine cells
are precise but noisy. :func:`resolution_quality` computes the measures at several H3
resolutions on the same data, so the choice of resolution rests on numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Literal

import h3.api.numpy_int as h3i
import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.cubes.tables import cells_at, lineage
from geodata.hexes import cells_res, cells_to_parent
from layers.hotspots import area_to_cells, gi_star, values_on_area

Method = Literal["top_share", "gi_star"]
METHODS: Final[tuple[Method, ...]] = ("top_share", "gi_star")

CellArray = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]

QUALITY_COLUMNS: Final[tuple[str, ...]] = (
    "res",
    "cells",
    "hot_cells",
    "hot_area_km2",
    "area_km2",
    "area_share",
    "captured_share",
    "pai",
    "rri",
    "pei",
)


def cell_areas_km2(cells: CellArray) -> FloatArray:
    """Exact area of each H3 cell in km² (H3 cells of one resolution differ slightly)."""
    return np.fromiter(
        (h3i.cell_area(int(c), unit="km^2") for c in cells), dtype=np.float64, count=cells.size
    )


def _counts_on(cells: CellArray, frame: pd.DataFrame, value_col: str) -> FloatArray:
    inside = values_on_area(frame, cells, value_col=value_col)
    x = np.zeros(cells.size, dtype=np.float64)
    np.add.at(x, np.searchsorted(cells, inside["cell"].to_numpy()), inside[value_col].to_numpy())
    return x


def _hot_mask(
    cells: CellArray,
    train: FloatArray,
    *,
    method: Method,
    hot_share: float,
    k: int,
    confidence: int,
) -> npt.NDArray[np.bool_]:
    hot = np.zeros(cells.size, dtype=bool)
    if method == "top_share":
        wanted = max(1, round(hot_share * cells.size)) if cells.size else 0
        # Busiest first; ties broken by cell id so the same data give the same map.
        order = np.lexsort((cells, -train))[:wanted]
        hot[order[train[order] > 0]] = True
    elif method == "gi_star":
        gi = gi_star(pd.DataFrame({"cell": cells, "count": train}), area_cells=cells, k=k)
        levels = [c for c in (90, 95, 99) if c >= confidence]
        hot = gi["class"].isin([f"hot_{c}" for c in levels]).to_numpy()
    else:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    return hot


def _scores(
    train: FloatArray, test: FloatArray, area_km2: FloatArray, hot: npt.NDArray[np.bool_]
) -> dict[str, float]:
    n1, big_n1 = float(train[hot].sum()), float(train.sum())
    n2, big_n2 = float(test[hot].sum()), float(test.sum())
    a, big_a = float(area_km2[hot].sum()), float(area_km2.sum())
    area_share = a / big_a if big_a > 0 else math.nan
    captured = n2 / big_n2 if big_n2 > 0 else math.nan
    pai = captured / area_share if area_share > 0 else math.nan
    rri = (n2 / n1) / (big_n2 / big_n1) if n1 > 0 and big_n1 > 0 and big_n2 > 0 else math.nan
    best = float(np.sort(test)[::-1][: int(hot.sum())].sum())
    pei = n2 / best if best > 0 else math.nan
    return {
        "hot_cells": int(hot.sum()),
        "hot_area_km2": a,
        "area_km2": big_a,
        "area_share": area_share,
        "n_train": n1,
        "total_train": big_n1,
        "n_test": n2,
        "total_test": big_n2,
        "captured_share": captured,
        "pai": pai,
        "rri": rri,
        "pei": pei,
    }


def _check(method: str, hot_share: float, confidence: int) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    if not 0 < hot_share <= 1:
        raise ValueError(f"hot_share must be in (0, 1], got {hot_share}")
    if confidence not in (90, 95, 99):
        raise ValueError(f"confidence must be 90, 95 or 99, got {confidence}")


def pai_rri(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    area_cells: npt.ArrayLike,
    method: Method = "top_share",
    hot_share: float = 0.05,
    k: int = 1,
    confidence: int = 95,
    value_col: str = "count",
) -> dict[str, float]:
    """PAI, RRI and PEI of hot spots drawn on ``train`` and scored on ``test``.

    Parameters
    ----------
    train, test : DataFrame
        Columns ``cell`` (uint64, the area's resolution) and ``value_col`` (incident
        counts) for the two periods. Rows outside the area are ignored.
    area_cells : array-like of uint64
        Every cell of the study area.
    method : {"top_share", "gi_star"}
        How hot spots are drawn from ``train``: the ``hot_share`` of the area's cells with
        the most incidents (cells with none are never hot), or the cells Gi* classes as
        hot at ``confidence`` % or more.
    hot_share : float
        Share of the area's cells marked hot by ``top_share`` (rounded, at least one).
    k, confidence : int
        Gi* neighbourhood radius and least confidence (90, 95 or 99) for ``gi_star``.
    value_col : str
        Name of the count column.

    Returns
    -------
    dict
        ``hot_cells``, ``hot_area_km2`` (``a``), ``area_km2`` (``A``), ``area_share``,
        ``n_train`` (``n1``), ``total_train`` (``N1``), ``n_test`` (``n``, ``n2``),
        ``total_test`` (``N``, ``N2``), ``captured_share`` (``n/N``, the hit rate),
        ``pai``, ``rri``, ``pei``. A measure whose denominator is zero (no test
        incidents, no hot spots, nothing in the hot spots during training) is NaN.
    """
    _check(method, hot_share, confidence)
    cells = area_to_cells(area_cells)
    x_train = _counts_on(cells, train, value_col)
    x_test = _counts_on(cells, test, value_col)
    hot = _hot_mask(cells, x_train, method=method, hot_share=hot_share, k=k, confidence=confidence)
    return _scores(x_train, x_test, cell_areas_km2(cells), hot)


def _roll_up(cells: CellArray, counts: FloatArray, res: int) -> tuple[CellArray, FloatArray]:
    parents = cells_to_parent(cells, res)
    up, inverse = np.unique(parents, return_inverse=True)
    return up, np.bincount(inverse, weights=counts, minlength=up.size).astype(np.float64)


def resolution_quality(
    train_cube: pd.DataFrame,
    test_cube: pd.DataFrame,
    *,
    area_cells: npt.ArrayLike,
    resolutions: Sequence[int] = (7, 8, 9, 10),
    method: Method = "top_share",
    hot_share: float = 0.05,
    k: int = 1,
    confidence: int = 95,
    value_col: str = "count",
) -> pd.DataFrame:
    """Hot-spot quality at several H3 resolutions, one row per resolution.

    Parameters
    ----------
    train_cube, test_cube : DataFrame
        Incident cube rows of the two periods (columns ``cell`` at the cube's base
        resolution and ``value_col``; other columns such as ``hour`` or ``category`` are
        summed over — filter them before calling).
    area_cells : array-like of uint64
        The study area at one resolution at least as fine as every entry of
        ``resolutions`` and no finer than the cubes. Incidents are kept when their cell
        lies in it, and every area — ``a`` and ``A`` — is the summed exact area of these
        fine cells, so a coarse cell overlapping the boundary counts only its inside
        part and the numbers of different resolutions stay comparable.
    resolutions : sequence of int
        The H3 resolutions to compare.
    method, hot_share, k, confidence, value_col
        As in :func:`pai_rri`, applied at each resolution.

    Returns
    -------
    DataFrame
        Columns ``res``, ``cells`` (area cells at ``res``), ``hot_cells``,
        ``hot_area_km2``, ``area_km2``, ``area_share``, ``captured_share`` (share of
        test incidents inside the hot spots), ``pai``, ``rri``, ``pei``; sorted by res.
    """
    _check(method, hot_share, confidence)
    fine = area_to_cells(area_cells)
    if fine.size == 0:
        return pd.DataFrame(columns=list(QUALITY_COLUMNS))
    fine_res = int(cells_res(fine[:1])[0])
    wanted = sorted({int(r) for r in resolutions})
    if wanted and wanted[-1] > fine_res:
        raise ValueError(
            f"area_cells are at resolution {fine_res}; they must be at least as fine as "
            f"every resolution asked for (finest: {wanted[-1]})"
        )
    counts: dict[str, FloatArray] = {}
    for name, cube in (("train", train_cube), ("test", test_cube)):
        base = cube.loc[:, ["cell", *lineage(cube.columns), value_col]]
        rolled = (
            pd.DataFrame(
                {
                    "cell": cells_at(base, fine_res),
                    value_col: base[value_col].to_numpy(dtype=np.float64),
                }
            )
            .groupby("cell", sort=True)[value_col]
            .sum()
            .reset_index()
        )
        counts[name] = _counts_on(fine, rolled, value_col)
    fine_area = cell_areas_km2(fine)
    rows = []
    for res in wanted:
        cells, train = _roll_up(fine, counts["train"], res)
        _, test = _roll_up(fine, counts["test"], res)
        _, area = _roll_up(fine, fine_area, res)
        hot = _hot_mask(
            cells, train, method=method, hot_share=hot_share, k=k, confidence=confidence
        )
        scores = _scores(train, test, area, hot)
        rows.append({"res": res, "cells": int(cells.size), **scores})
    return pd.DataFrame(rows, columns=list(QUALITY_COLUMNS))
