"""Coverage and dose per management grid and per precinct.

A grid (网格) or precinct (派出所辖区) is "covered" in the share of its cells that meet a
patrol standard; its Koper dose is the dosed share of its hot-spot hours. Both take the
zone of each cell from a frame such as :func:`layers.grids.zone_cells` gives (``cell``
with ``grid_id`` and ``precinct_id``), so a cell counts in exactly one grid and one
precinct.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from layers.patrol_coverage.coverage import classes
from layers.patrol_coverage.koper import SHARE_BINS

DEFAULT_ZONE_COLUMNS: tuple[str, ...] = ("grid_id", "precinct_id")


@dataclass(frozen=True)
class CoverageStandard:
    """What a cell needs over the window to count as covered; every rule set must hold.

    Attributes
    ----------
    dwell_min_per_day : float or None
        Least dwell minutes per day of the window (all unit kinds asked for together).
        Default 30: half an hour a day at a res-9 cell (≈0.1 km², a block or a village
        centre) — two 15-minute Koper stops. Scale it with the resolution: a res-11 cell
        is 49 times smaller.
    max_gap_h : float or None
        Longest stretch (hours) the cell may go without any unit present (the
        ``longest_gap_h`` of :func:`~layers.patrol_coverage.patrol_coverage`); e.g. 24 for
        "seen every day", 8 with the night band for "seen every night". Default None: no
        gap rule.
    """

    dwell_min_per_day: float | None = 30.0
    max_gap_h: float | None = None

    def __post_init__(self) -> None:
        if self.dwell_min_per_day is None and self.max_gap_h is None:
            raise ValueError("a coverage standard needs dwell_min_per_day, max_gap_h or both")
        for name in ("dwell_min_per_day", "max_gap_h"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")

    def met(self, per_cell: pd.DataFrame) -> npt.NDArray[np.bool_]:
        """Which rows of a :func:`~layers.patrol_coverage.patrol_coverage` frame meet it."""
        ok = np.ones(len(per_cell), dtype=np.bool_)
        if self.dwell_min_per_day is not None:
            ok &= per_cell["dwell_min_per_day"].to_numpy(dtype=np.float64) >= (
                self.dwell_min_per_day
            )
        if self.max_gap_h is not None:
            ok &= per_cell["longest_gap_h"].to_numpy(dtype=np.float64) <= self.max_gap_h
        return ok


def _zone_columns(zones_cells: pd.DataFrame, id_cols: Sequence[str] | None) -> list[str]:
    if "cell" not in zones_cells.columns:
        raise KeyError("zones_cells needs a 'cell' column")
    if id_cols is None:
        cols = [c for c in DEFAULT_ZONE_COLUMNS if c in zones_cells.columns]
        if not cols:
            raise KeyError(
                f"zones_cells has none of {DEFAULT_ZONE_COLUMNS}; name its zone columns "
                "with id_cols"
            )
        return cols
    missing = [c for c in id_cols if c not in zones_cells.columns]
    if missing:
        raise KeyError(f"zones_cells has no column(s) {missing}")
    return list(id_cols)


def _by_zone(zones_cells: pd.DataFrame, values: pd.DataFrame, id_cols: list[str]) -> pd.DataFrame:
    """Sum ``values`` (indexed by cell) over the zones of each id column, long form."""
    cells = zones_cells["cell"].to_numpy(dtype=np.uint64)
    if pd.Index(cells).has_duplicates:
        raise ValueError("zones_cells lists a cell twice: each cell belongs to one zone")
    joined = values.reindex(pd.Index(cells, dtype=np.uint64)).fillna(0)
    joined.index = pd.RangeIndex(cells.size)
    parts = []
    for col in id_cols:
        ids = zones_cells[col].reset_index(drop=True)
        keep = ids.notna().to_numpy()
        sums = joined[keep].groupby(ids[keep].astype(str).to_numpy(), sort=True).sum()
        sums.insert(0, "cells", ids[keep].astype(str).value_counts().reindex(sums.index))
        sums.insert(0, "zone_id", sums.index.astype(str))
        sums.insert(0, "level", col)
        parts.append(sums.reset_index(drop=True))
    return pd.concat(parts, ignore_index=True)


def coverage_share(
    per_cell: pd.DataFrame,
    zones_cells: pd.DataFrame,
    *,
    standard: CoverageStandard = CoverageStandard(),
    id_cols: Sequence[str] | None = None,
    class_bins: Sequence[float] = SHARE_BINS,
) -> pd.DataFrame:
    """Coverage % per grid and per precinct: the share of its cells meeting ``standard``.

    Parameters
    ----------
    per_cell : pandas.DataFrame
        :func:`~layers.patrol_coverage.patrol_coverage` at the resolution of
        ``zones_cells`` (ideally with ``cells=`` the same cells). A zone cell missing from
        it had no patrol, and does not meet the standard.
    zones_cells : pandas.DataFrame
        ``cell`` and one column per zone level, e.g. from
        ``zone_cells(grids, res=9, id_col="grid_id", keep=("precinct_id",))``.
    standard : CoverageStandard
        What a cell needs; default 30 dwell minutes per day.
    id_cols : sequence of str, optional
        The zone columns, one level each; default those of ``grid_id`` and
        ``precinct_id`` present.
    class_bins : sequence of float
        Upper bounds of the classes of ``value``, see
        :data:`~layers.patrol_coverage.SHARE_BINS`.

    Returns
    -------
    pandas.DataFrame
        One row per zone, sorted by level (in the order of ``id_cols``) then ``zone_id``:
        ``level`` (the id column), ``zone_id`` (str), ``value`` (share 0..1), ``class``,
        ``cells``, ``covered`` (cells meeting the standard), ``dwell_min`` (all dwell in
        the zone) and ``no_patrol`` (cells without any dwell).
    """
    cols = _zone_columns(zones_cells, id_cols)
    index = pd.Index(per_cell["cell"].to_numpy(dtype=np.uint64))
    dwell = per_cell["dwell_min"].to_numpy(dtype=np.float64)
    values = pd.DataFrame(
        {
            "covered": standard.met(per_cell).astype(np.int64),
            "dwell_min": dwell,
            "patrolled": (dwell > 0).astype(np.int64),
        },
        index=index,
    )
    out = _by_zone(zones_cells, values, cols)
    out["covered"] = out["covered"].astype(np.int64)
    out["no_patrol"] = out["cells"].astype(np.int64) - out["patrolled"].astype(np.int64)
    out["value"] = out["covered"] / out["cells"]
    out["class"] = classes(out["value"], class_bins)
    return out[["level", "zone_id", "value", "class", "cells", "covered", "dwell_min", "no_patrol"]]


def koper_summary(
    per_cell: pd.DataFrame,
    zones_cells: pd.DataFrame | None = None,
    *,
    id_cols: Sequence[str] | None = None,
    class_bins: Sequence[float] = SHARE_BINS,
) -> pd.DataFrame:
    """The Koper dose overall, or per grid and per precinct: dosed hot-spot hours / hours.

    Parameters
    ----------
    per_cell : pandas.DataFrame
        :func:`~layers.patrol_coverage.koper_dose`.
    zones_cells : pandas.DataFrame, optional
        As for :func:`coverage_share`; None gives one row, level ``"all"``.
    id_cols : sequence of str, optional
        The zone columns; default those of ``grid_id`` and ``precinct_id`` present.
    class_bins : sequence of float
        Upper bounds of the classes of ``value``.

    Returns
    -------
    pandas.DataFrame
        ``level``, ``zone_id``, ``value`` (dose share 0..1; NaN for a zone without hot
        spots), ``class`` (NA there), ``hotspot_cells``, ``hours``, ``dosed_hours``,
        ``doses``. Zones without hot-spot cells are kept, so every grid has a row.
    """
    sums = ["hours", "dosed_hours", "doses"]
    values = per_cell[sums].astype(np.int64).copy()
    values["hotspot_cells"] = 1
    values.index = pd.Index(per_cell["cell"].to_numpy(dtype=np.uint64))
    if zones_cells is None:
        totals = {k: [int(values[k].sum())] for k in values.columns}
        out = pd.DataFrame({"level": ["all"], "zone_id": ["all"], **totals})
    else:
        out = _by_zone(zones_cells, values, _zone_columns(zones_cells, id_cols))
        out = out.drop(columns="cells")
    for k in [*sums, "hotspot_cells"]:
        out[k] = out[k].astype(np.int64)
    hours = out["hours"].to_numpy(dtype=np.float64)
    share = np.divide(
        out["dosed_hours"].to_numpy(dtype=np.float64),
        hours,
        out=np.full(hours.size, np.nan),
        where=hours > 0,
    )
    out["value"] = share
    klass = pd.array(classes(np.nan_to_num(share), class_bins), dtype="Int64")
    klass[hours == 0] = pd.NA
    out["class"] = klass
    return out[["level", "zone_id", "value", "class", "hotspot_cells", *sums]].reset_index(
        drop=True
    )


__all__ = ["CoverageStandard", "coverage_share", "koper_summary"]
