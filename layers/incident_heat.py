"""Incident heat: how many incidents fell in each H3 cell over a time window.

Reads the incidents cube (one row per base-resolution cell, hour and category with a
count), never raw incidents, so the cost depends on the cube's size. Counts add up
across child cells and hours, so a coarser resolution is a sum over ``cell_to_parent``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from geodata.hexes import cells_to_parent
from geodata.schema import INCIDENT_CATEGORIES

CUBE_COLUMNS = ("cell", "hour", "category", "count")


def _check_cube(cube: pd.DataFrame) -> None:
    missing = [c for c in CUBE_COLUMNS if c not in cube.columns]
    if missing:
        raise ValueError(f"the incidents cube lacks columns {missing}; has {list(cube.columns)}")


def incident_counts(
    cube: pd.DataFrame,
    *,
    res: int,
    since: pd.Timestamp | str,
    until: pd.Timestamp | str,
    categories: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Count incidents per H3 cell at resolution ``res`` inside a time window.

    Parameters
    ----------
    cube : pandas.DataFrame
        The incidents cube: ``cell`` (uint64, base resolution), ``hour`` (datetime, start
        of the hour), ``category`` (code of ``geodata.schema.INCIDENT_CATEGORIES``),
        ``count`` (int). Not modified.
    res : int
        H3 resolution of the result; not finer than the cube's base resolution.
    since, until : pandas.Timestamp or str
        The window, half-open: hours ``since <= hour < until`` (naive China Standard Time,
        as stored).
    categories : iterable of str, optional
        Category codes to keep; None keeps all. An empty iterable keeps none.

    Returns
    -------
    pandas.DataFrame
        Columns ``cell`` (uint64, at ``res``) and ``count`` (int64, > 0), one row per cell
        holding at least one incident, sorted by ``cell``.
    """
    _check_cube(cube)
    start, end = pd.Timestamp(since), pd.Timestamp(until)
    if end < start:
        raise ValueError(f"the window ends ({end}) before it starts ({start})")
    keep = (cube["hour"] >= start) & (cube["hour"] < end)
    if categories is not None:
        wanted = sorted(set(categories))
        unknown = [c for c in wanted if c not in INCIDENT_CATEGORIES]
        if unknown:
            known = ", ".join(INCIDENT_CATEGORIES)
            raise ValueError(f"unknown incident categories {unknown}; known: {known}")
        keep &= cube["category"].isin(wanted)
    rows = cube.loc[keep, ["cell", "count"]]
    parents = cells_to_parent(rows["cell"].to_numpy(dtype=np.uint64), res)
    counts = (
        pd.DataFrame({"cell": parents, "count": rows["count"].to_numpy(dtype=np.int64)})
        .groupby("cell", sort=True, as_index=False)["count"]
        .sum()
    )
    counts = counts[counts["count"] > 0].reset_index(drop=True)
    return counts.astype({"cell": np.uint64, "count": np.int64})


def last_days(cube: pd.DataFrame, *, days: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The window of the last ``days`` whole days of the data, as ``(since, until)``.

    "Now" is the data's last day, not the wall clock: a demo or an archived import keeps
    showing its own last month. ``until`` is midnight after the last hour in the cube.

    Parameters
    ----------
    cube : pandas.DataFrame
        A cube with an ``hour`` column; not modified.
    days : int
        Length of the window in days, at least 1.

    Returns
    -------
    tuple of pandas.Timestamp
        ``(since, until)``, half-open, ``until - since == days`` days.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    if cube.empty:
        raise ValueError("the cube is empty: it has no last day")
    last = pd.Timestamp(cube["hour"].max())
    until = last.normalize() + pd.Timedelta(days=1)
    return until - pd.Timedelta(days=days), until
