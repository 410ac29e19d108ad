"""Residents per H3 cell, from grid populations: the denominator of every rate.

"一标三实" gives the bureau a resident count per management grid (网格), not per hexagon.
A rate per 1,000 residents on the hex map needs the grid's people spread over its cells.
How they are spread:

1. **Spread resolution.** Each grid's population is placed on cells at ``spread_res``
   (default 9: hexagons of ≈0.1 km², edge ≈174 m — a compound or a village centre), or at
   ``res`` when that is finer, and then summed into the res-``res`` parents. So a coarse
   hexagon gets the residents of the parts of each grid that lie inside it, not all of
   one grid's, and populations at res ``r`` are the sums of their children at ``r + 1``
   (as incident counts are), whenever both are no finer than ``spread_res``.
2. **Even spread.** A grid's cells are those whose centre lies inside it (H3's own
   polygon rule, :func:`layers.grids.zone_cells`); each gets an equal share. A grid too
   small to hold any cell centre puts all its residents on the cell containing a point
   inside it (``representative_point``), so no grid's people are lost.
3. **Weighted by communities (optional).** Households concentrate in compounds and
   villages, not evenly over fields and hills. Given the safe-community frame (points
   with ``households``), a share ``f = min(1, C / H)`` of a grid's residents goes to the
   cells of its communities in proportion to their households, and the rest ``1 - f`` is
   spread evenly; ``C`` is the households of the communities whose point lies in the
   grid, ``H`` the grid's own ``households``. Without a known ``H > 0`` for a grid, or
   with no community households in it, the grid falls back to the even spread
   (communities alone cannot say how many of a grid's residents live elsewhere). Work
   units (单位) usually have no households and so carry no weight.

The result has one row per (cell, grid) pair: a cell that straddles grids (always at
coarse resolutions, sometimes at fine ones) has one row per grid, holding that grid's
residents in the cell. So per-grid and per-precinct sums reproduce the input exactly,
and :func:`population_by_cell` sums the rows into one figure per cell for rates.

Populations are shares of whole people and so fractional; they are estimates of where
residents live, no better than the grid figures and the community households.
"""

from __future__ import annotations

from typing import Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.hexes import cells_res, cells_to_parent, lnglat_to_cells
from layers.grids import area_to_cells, points_to_zones, zone_cells

DEFAULT_SPREAD_RES: Final[int] = 9
"""Resolution at which grid populations are spread before summing into coarser cells."""

STATES: Final[tuple[str, ...]] = ("ok", "no_population")
"""``ok``: the cell has a known resident count above zero. ``no_population``: it has none
known (no grid, a grid without a population figure, or zero residents) — no rate."""

COLUMNS: Final[tuple[str, ...]] = ("cell", "grid_id", "population", "state")


def _grid_figure(grids: pd.DataFrame, column: str) -> npt.NDArray[np.float64]:
    """A numeric column of ``grids`` as float64 with NaN for missing (or absent)."""
    if column not in grids.columns:
        return np.full(len(grids), np.nan, dtype=np.float64)
    values = pd.to_numeric(grids[column], errors="raise").astype("Float64")
    out = np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    if (out < 0).any():
        raise ValueError(f"grids have a negative {column!r}")
    return out


def _community_weights(
    communities: pd.DataFrame,
    grids: gpd.GeoDataFrame,
    grid_households: npt.NDArray[np.float64],
    spread_res: int,
) -> pd.DataFrame:
    """Rows (cell, grid index, weight) placing a share of each grid on its communities.

    The weights of a grid's rows add up to its ``f = min(1, C / H)``; grids without a
    known ``H > 0`` or without community households get no rows.
    """
    missing = [c for c in ("lng", "lat", "households") if c not in communities.columns]
    if missing:
        raise KeyError(f"communities lack column(s) {missing}")
    hh = (
        pd.to_numeric(communities["households"], errors="raise")
        .astype("Float64")
        .to_numpy(dtype=np.float64, na_value=np.nan)
    )
    lng = communities["lng"].to_numpy(dtype=np.float64)
    lat = communities["lat"].to_numpy(dtype=np.float64)
    ids = grids["grid_id"].astype(str).to_numpy()
    zone = points_to_zones(lng, lat, grids, id_col="grid_id")
    row = pd.Index(ids).get_indexer(zone.to_numpy(dtype=object))
    row[zone.isna().to_numpy()] = -1
    cell = lnglat_to_cells(lng, lat, spread_res)
    ok = (row >= 0) & np.isfinite(hh) & (hh > 0) & (cell != 0)
    frame = pd.DataFrame({"cell": cell[ok], "grid": row[ok], "households": hh[ok]})
    if frame.empty:
        return pd.DataFrame({"cell": np.zeros(0, np.uint64), "grid": [], "weight": []})
    c_g = frame.groupby("grid")["households"].transform("sum").to_numpy()
    h_g = grid_households[frame["grid"].to_numpy()]
    usable = np.isfinite(h_g) & (h_g > 0)
    share = np.minimum(1.0, np.divide(c_g, h_g, out=np.zeros_like(c_g), where=usable))
    frame["weight"] = share * frame["households"].to_numpy() / c_g
    return frame.loc[usable, ["cell", "grid", "weight"]]


def cell_population(
    grids: gpd.GeoDataFrame,
    *,
    res: int,
    cells: npt.ArrayLike | None = None,
    communities: pd.DataFrame | None = None,
    spread_res: int = DEFAULT_SPREAD_RES,
) -> pd.DataFrame:
    """Residents of each grid spread over the H3 cells at resolution ``res``.

    Parameters
    ----------
    grids : GeoDataFrame
        ``grid_id`` (unique), ``population`` (residents; missing allowed), optional
        ``households``, polygons in WGS84. To use the ``population`` data set instead of
        the grids' own figure, merge its ``residents`` in as ``population`` first.
    res : int
        H3 resolution of the result, 0..15 (the layers use 6..11).
    cells : array_like of uint64, optional
        The area to report, at ``res``: rows of other cells are dropped and every cell
        of the area gets at least one row (``grid_id`` missing, population NaN, state
        ``no_population`` for a cell in no grid). None reports every populated cell.
    communities : DataFrame, optional
        Safe-community frame with ``lng``, ``lat`` (WGS84) and ``households``; when given,
        residents concentrate where the communities' households are (module docstring).
    spread_res : int
        Resolution of the spread before summing into ``res`` (default 9); ``res`` itself
        when finer.

    Returns
    -------
    DataFrame
        One row per (cell, grid) pair, sorted by ``cell`` then ``grid_id``: ``cell``
        (uint64 at ``res``), ``grid_id`` (str; missing for a cell of ``cells`` in no
        grid), ``population`` (float64 residents; NaN when the grid's figure is
        missing), ``state`` (``"ok"`` or ``"no_population"``, see :data:`STATES`).
        Sums by ``grid_id`` equal the grids' populations.

    Raises
    ------
    ValueError
        On repeated grid ids, negative figures, a grid without geometry, or ``cells``
        not at ``res``.
    KeyError
        When ``grids`` lack ``grid_id`` or ``population``.
    """
    for col in ("grid_id", "population"):
        if col not in grids.columns:
            raise KeyError(f"grids have no column {col!r}; columns: {list(grids.columns)}")
    if grids["grid_id"].isna().any() or grids["grid_id"].astype(str).duplicated().any():
        raise ValueError("grid ids must be present and unique (a repeated grid counts twice)")
    if not 0 <= res <= 15 or not 0 <= spread_res <= 15:
        raise ValueError(f"H3 resolutions must be 0..15, got res={res}, spread_res={spread_res}")
    scope = None if cells is None else area_to_cells(cells, res=res)
    ordered = grids.assign(grid_id=grids["grid_id"].astype(str)).reset_index(drop=True)
    empty = ordered.geometry.isna() | ordered.geometry.is_empty
    if empty.any():
        raise ValueError(f"grid(s) without geometry: {ordered.loc[empty, 'grid_id'].tolist()}")
    fine = max(res, spread_res)
    population = _grid_figure(ordered, "population")

    # Even spread: every grid's cells (centre inside) at the spread resolution.
    placed = zone_cells(ordered, res=fine, id_col="grid_id")
    ids = pd.Index(ordered["grid_id"].to_numpy())
    grid_of = ids.get_indexer(placed["grid_id"].astype(str).to_numpy())
    cell = placed["cell"].to_numpy(dtype=np.uint64)
    lonely = np.setdiff1d(np.arange(len(ordered)), grid_of)
    if lonely.size:
        # Grids holding no cell centre at this resolution: one cell at a point inside.
        points = ordered.geometry.iloc[lonely].representative_point()
        cell = np.concatenate([cell, lnglat_to_cells(points.x, points.y, fine)])
        grid_of = np.concatenate([grid_of, lonely])
    n_cells = np.bincount(grid_of, minlength=len(ordered)).astype(np.float64)
    share: npt.NDArray[np.float64] = np.zeros(len(ordered), dtype=np.float64)
    if communities is not None and len(communities):
        weighted = _community_weights(
            communities, ordered, _grid_figure(ordered, "households"), fine
        )
        share = np.bincount(
            weighted["grid"].to_numpy(dtype=np.int64),
            weights=weighted["weight"].to_numpy(dtype=np.float64),
            minlength=len(ordered),
        ).astype(np.float64)
    else:
        weighted = pd.DataFrame({"cell": np.zeros(0, np.uint64), "grid": [], "weight": []})
    # Shares summed in floating point can exceed 1 by ~1e-16; a residue is no population.
    even = np.clip(1.0 - share[grid_of], 0.0, None) / n_cells[grid_of]
    w_grid = np.concatenate([grid_of, weighted["grid"].to_numpy(dtype=np.int64)])
    w_cell = np.concatenate([cell, weighted["cell"].to_numpy(dtype=np.uint64)])
    weight = np.concatenate([even, weighted["weight"].to_numpy(dtype=np.float64)])

    rows = pd.DataFrame(
        {
            "cell": cells_to_parent(w_cell, res),
            "grid": w_grid,
            "population": population[w_grid] * weight,
        }
    )
    summed = rows.groupby(["cell", "grid"], sort=True, as_index=False)["population"].sum(
        min_count=1
    )
    out = pd.DataFrame(
        {
            "cell": summed["cell"].to_numpy(dtype=np.uint64),
            "grid_id": pd.array(ids.to_numpy()[summed["grid"].to_numpy()], dtype="str"),
            "population": summed["population"].to_numpy(dtype=np.float64),
        }
    )
    if scope is not None:
        out = out[np.isin(out["cell"].to_numpy(), scope)]
        absent = np.setdiff1d(scope, out["cell"].to_numpy())
        gaps = pd.DataFrame(
            {
                "cell": absent,
                "grid_id": pd.array([pd.NA] * absent.size, dtype="str"),
                "population": np.full(absent.size, np.nan),
            }
        )
        out = pd.concat([out, gaps], ignore_index=True) if absent.size else out
    out = out.sort_values(["cell", "grid_id"], kind="stable", na_position="first")
    out = out.reset_index(drop=True)
    out["state"] = _states(out["population"].to_numpy(dtype=np.float64))
    return out[list(COLUMNS)]


def _states(population: npt.NDArray[np.float64]) -> pd.api.extensions.ExtensionArray:
    known = np.isfinite(population) & (population > 0)
    return pd.array(np.where(known, "ok", "no_population"), dtype="str")


def population_by_cell(population: pd.DataFrame, *, res: int) -> pd.DataFrame:
    """One resident figure per cell at ``res``: the rows of each cell (and of its children)
    summed.

    Parameters
    ----------
    population : DataFrame
        ``cell`` and ``population`` — the output of :func:`cell_population` at ``res`` or
        finer, or any frame of per-cell residents (repeats allowed).
    res : int
        Resolution of the result; no finer than the cells given.

    Returns
    -------
    DataFrame
        ``cell`` (uint64), ``population`` (float64: the sum of the known figures; NaN
        only when no figure of the cell is known), ``state`` (:data:`STATES`), sorted by
        cell, one row per cell. A cell partly in a grid of unknown population counts only
        the known part.
    """
    missing = [c for c in ("cell", "population") if c not in population.columns]
    if missing:
        raise KeyError(f"population lacks column(s) {missing}")
    cell = population["cell"].to_numpy(dtype=np.uint64)
    if cell.size and np.unique(cells_res(cell)).size > 1:
        raise ValueError("population cells mix resolutions")
    values = pd.to_numeric(population["population"], errors="raise").astype("Float64")
    frame = pd.DataFrame(
        {
            "cell": cells_to_parent(cell, res),
            "population": values.to_numpy(dtype=np.float64, na_value=np.nan),
        }
    )
    if (frame["population"] < 0).any():
        raise ValueError("population has negative figures")
    out = frame.groupby("cell", sort=True)["population"].sum(min_count=1).reset_index()
    out["cell"] = out["cell"].astype(np.uint64)
    out["state"] = _states(out["population"].to_numpy(dtype=np.float64))
    return out


__all__ = [
    "COLUMNS",
    "DEFAULT_SPREAD_RES",
    "STATES",
    "cell_population",
    "population_by_cell",
]
