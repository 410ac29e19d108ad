"""Incident heat: how many incidents fell in each H3 cell over a time window, how recent
they were, and how many per 1,000 residents.

Reads the incidents cube (one row per base-resolution cell, hour and category with a
count), never raw incidents, so the cost depends on the cube's size. Counts add up
across hours and over the rows holding one exact cell (the cube's ``cell_<res>``), so a
coarser resolution is a sum over that column — never over ``cell_to_parent`` of the base
cell, as H3 is not nested.

:func:`incident_counts` is the bare count (what the dashboard's first map draws);
:func:`incident_heat` adds the time-decayed weight, the rate per 1,000 residents ("一标三实":
rates per resident, not raw counts — a market town's street and a hamlet are not
compared by counts) with an explicit ``no_population`` state where no resident figure is
known, and a colour class.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.cubes.tables import cells_at, lineage
from geodata.schema import INCIDENT_CATEGORIES
from layers.classify import Scheme, classify
from layers.grids import area_to_cells
from layers.population import population_by_cell

CUBE_COLUMNS = ("cell", "hour", "category", "count")

DEFAULT_SCHEME: Scheme = "natural_breaks"
"""Incident counts are skewed (many cells with one or two, a few hot ones): quantiles
collapse into one or two classes, Fisher–Jenks keeps the hot cells apart."""
DEFAULT_CLASSES = 5


def _check_cube(cube: pd.DataFrame) -> None:
    missing = [c for c in CUBE_COLUMNS if c not in cube.columns]
    if missing:
        raise ValueError(f"the incidents cube lacks columns {missing}; has {list(cube.columns)}")


def _window_rows(
    cube: pd.DataFrame,
    since: pd.Timestamp | str,
    until: pd.Timestamp | str,
    categories: Iterable[str] | None,
) -> pd.DataFrame:
    """The cube rows inside the half-open window and the category set."""
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
    return cube.loc[keep, ["cell", *lineage(cube.columns), "hour", "count"]]


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
    rows = _window_rows(cube, since, until, categories)
    counts = (
        pd.DataFrame({"cell": cells_at(rows, res), "count": rows["count"].to_numpy(dtype=np.int64)})
        .groupby("cell", sort=True, as_index=False)["count"]
        .sum()
    )
    counts = counts[counts["count"] > 0].reset_index(drop=True)
    return counts.astype({"cell": np.uint64, "count": np.int64})


def incident_counts_by_bin(
    cube: pd.DataFrame,
    *,
    res: int,
    bins: Sequence[tuple[pd.Timestamp, pd.Timestamp]],
    categories: Iterable[str] | None = None,
) -> pd.DataFrame:
    """:func:`incident_counts` of each of ``bins`` in one pass over the cube.

    Parameters
    ----------
    cube, res, categories
        As for :func:`incident_counts`.
    bins : sequence of (Timestamp, Timestamp)
        Consecutive half-open windows in time order, each ending where the next starts
        (the weekly bins of emerging hot spots).

    Returns
    -------
    pandas.DataFrame
        Columns ``cell`` (uint64), ``count`` (int64, > 0) and ``bin`` (int64, the index
        into ``bins``), sorted by ``bin`` then ``cell``: the rows of :func:`incident_counts`
        of each bin with its index, one after the other.
    """
    if not bins:
        empty = {"cell": np.uint64, "count": np.int64, "bin": np.int64}
        return pd.DataFrame({name: np.zeros(0, dtype) for name, dtype in empty.items()})
    starts = [pd.Timestamp(b[0]) for b in bins]
    ends = [pd.Timestamp(b[1]) for b in bins]
    if any(e <= s for s, e in zip(starts, ends, strict=True)) or starts[1:] != ends[:-1]:
        raise ValueError("bins must be consecutive windows in time order")
    rows = _window_rows(cube, starts[0], ends[-1], categories)
    hours = rows["hour"].to_numpy()
    edges = pd.DatetimeIndex(starts[1:]).to_numpy().astype(hours.dtype)
    frame = (
        pd.DataFrame(
            {
                "bin": np.searchsorted(edges, hours, side="right").astype(np.int64),
                "cell": cells_at(rows, res),
                "count": rows["count"].to_numpy(dtype=np.int64),
            }
        )
        .groupby(["bin", "cell"], sort=True, as_index=False)["count"]
        .sum()
    )
    frame = frame[frame["count"] > 0].reset_index(drop=True)
    return frame[["cell", "count", "bin"]].astype(
        {"cell": np.uint64, "count": np.int64, "bin": np.int64}
    )


def decay_weights(
    hours: pd.Series | npt.ArrayLike, *, until: pd.Timestamp | str, half_life_days: float
) -> npt.NDArray[np.float64]:
    """The weight ``0.5 ** (age / half_life)`` of incidents in each hour.

    The age is measured from ``until`` (the end of the window) to the start of the
    incident's hour — the cube's time resolution — in days. An incident exactly one
    half-life before ``until`` weighs 0.5, two half-lives 0.25.
    """
    if not half_life_days > 0:
        raise ValueError(f"half_life_days must be positive, got {half_life_days!r}")
    age = (pd.Timestamp(until) - pd.to_datetime(pd.Series(hours))) / pd.Timedelta(days=1)
    return np.asarray(0.5 ** (age.to_numpy(dtype=np.float64) / half_life_days), dtype=np.float64)


def incident_heat(
    cube: pd.DataFrame,
    *,
    res: int,
    since: pd.Timestamp | str,
    until: pd.Timestamp | str,
    categories: Iterable[str] | None = None,
    population: pd.DataFrame | None = None,
    half_life_days: float | None = None,
    cells: npt.ArrayLike | None = None,
    scheme: Scheme = DEFAULT_SCHEME,
    k: int = DEFAULT_CLASSES,
) -> pd.DataFrame:
    """Incident heat per H3 cell: counts, time-decayed weight, rate per 1,000 residents.

    Parameters
    ----------
    cube : pandas.DataFrame
        The incidents cube (see :func:`incident_counts`). Not modified.
    res : int
        H3 resolution of the result; not finer than the cube's.
    since, until : pandas.Timestamp or str
        The window, half-open on the cube's hours.
    categories : iterable of str, optional
        Category codes to keep; None keeps all.
    population : pandas.DataFrame, optional
        Residents per cell: ``cell`` and ``population`` at ``res`` or finer, repeats
        summed — the output of :func:`layers.population.cell_population`. None: no rates.
    half_life_days : float, optional
        Time decay: each incident weighs ``0.5 ** (age_days / half_life_days)``, its age
        measured from ``until`` to the start of its hour (:func:`decay_weights`). None: no
        ``weighted`` column.
    cells : array_like of uint64, optional
        The area, at ``res``: the result has exactly these cells (0 incidents included,
        incidents elsewhere dropped). None: the cells with at least one incident.
    scheme, k : optional
        Classification of ``value`` (:func:`layers.classify.classify`); default
        Fisher–Jenks natural breaks in 5 classes (incident counts are skewed).

    Returns
    -------
    pandas.DataFrame
        One row per cell, sorted by cell:

        ``cell`` (uint64), ``count`` (int64 incidents), ``weighted`` (float64, only with
        ``half_life_days``), ``population`` (float64 residents, NaN when unknown),
        ``rate_per_1000`` (float64: ``count / population * 1000``, NaN when the state
        is ``no_population`` — never 0 or infinite for an unknown population),
        ``state`` (``"ok"`` or ``"no_population"``: no population given, none known for
        the cell, or zero residents), ``value`` (what the map colours: ``weighted`` if
        decayed, else ``count``; divided by the population per 1,000 when a population
        is given, and then NaN with ``no_population``) and ``class`` (Int64, 0 =
        lowest; NA where ``value`` is NaN).

        ``attrs["breaks"]`` holds the class upper bounds (list of float) for
        :func:`layers.classify.legend`.
    """
    rows = _window_rows(cube, since, until, categories)
    per_row = pd.DataFrame(
        {"cell": cells_at(rows, res), "count": rows["count"].to_numpy(dtype=np.int64)}
    )
    if half_life_days is not None:
        weights = decay_weights(rows["hour"], until=until, half_life_days=half_life_days)
        per_row["weighted"] = per_row["count"].to_numpy(dtype=np.float64) * weights
    sums = per_row.groupby("cell", sort=True).sum()
    sums = sums[sums["count"] > 0]
    index = sums.index.to_numpy(dtype=np.uint64)
    if cells is not None:
        index = area_to_cells(cells, res=res)
    out = sums.reindex(pd.Index(index, dtype=np.uint64, name="cell"), fill_value=0)
    out = out.reset_index()
    out["cell"] = out["cell"].astype(np.uint64)
    out["count"] = out["count"].astype(np.int64)
    if half_life_days is not None:
        out["weighted"] = out["weighted"].astype(np.float64)

    if population is None:
        pop = np.full(len(out), np.nan)
    else:
        per_cell = population_by_cell(population, res=res).set_index("cell")["population"]
        pop = per_cell.reindex(out["cell"].to_numpy()).to_numpy(dtype=np.float64)
    known = np.isfinite(pop) & (pop > 0)
    out["population"] = pop
    safe_pop = np.where(known, pop, 1.0)
    count = out["count"].to_numpy(dtype=np.float64)
    out["rate_per_1000"] = np.where(known, count / safe_pop * 1000.0, np.nan)
    out["state"] = pd.array(np.where(known, "ok", "no_population"), dtype="str")

    base = out["weighted" if half_life_days is not None else "count"].to_numpy(dtype=np.float64)
    value = base if population is None else np.where(known, base / safe_pop * 1000.0, np.nan)
    out["value"] = value
    finite = np.isfinite(value)
    klass, breaks = classify(value[finite], scheme=scheme, k=k)
    out["class"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out.loc[finite, "class"] = klass
    out.attrs["breaks"] = [float(b) for b in breaks]
    return out


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
