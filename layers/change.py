"""同比/环比: incidents in a window against the same window a month and a year earlier.

环比 (``mom``) compares with the window shifted back one calendar month, 同比 (``yoy``)
with the window shifted back one calendar year, both by :class:`pandas.DateOffset` (so
1–31 March is compared with 1 February – 1 March, and 29 February with 28 February; a
day or week window on the wall screen may pass ``mom_offset=pd.DateOffset(days=1)`` or
``weeks=1`` for the usual 日环比/周环比).

The reported change is the plain one the bureau's statistics use: ``(count - earlier) /
earlier * 100``. It is undefined (NaN) when the earlier window had no incident; the state
then says ``new`` (incidents now, none before) or ``none`` (none in either).

Significance for small counts
-----------------------------
A cell going from 4 incidents to 10 is "+150 %", and may still be chance. Two Poisson
counts ``x`` (now) and ``y`` (earlier) with equal rates have, given their total
``n = x + y``, ``x ~ Binomial(n, p0)`` with ``p0 = t_now / (t_now + t_earlier)`` the share
of the time both windows cover — ``p0 = 0.5`` for windows of equal length (the exact
conditional test, Przyborowski & Wilenski 1940). The p-value is two-sided
(:func:`scipy.stats.binomtest`, which sums the probabilities of outcomes no likelier than
the one seen); a change is *significant* when ``p < alpha`` (default 0.05). With fewer
than 6 incidents in both windows together nothing can be significant at 5 %
(``2 * 0.5**5 = 0.0625``), which is the point: small counts do not make strong colours.

Classes (diverging, for the map)
--------------------------------
The class follows the reported % change; significance only makes it strong:

- ``strong_increase`` / ``strong_decrease``: change of at least ``stable_pct`` (default
  10 %) up / down (``new`` counts as up) **and** significant;
- ``increase`` / ``decrease``: the same change, not significant;
- ``stable``: a change smaller than ``stable_pct`` either way, or no incident in either
  window (a significant rate change hidden by unequal window lengths stays ``stable``);
- missing (NA) when the earlier window lies before the data (state ``no_data``).

Colours: :func:`layers.classify.ramp` ``("diverging", 5)`` in the order of
:data:`CHANGE_CLASSES` (blue for decreases, red for increases).

When the data begin
-------------------
An earlier window that starts before the data do is not "zero incidents", it is unknown.
``data_since`` (default: midnight of the first hour in the cube) marks where the data
begin; such comparisons get state ``no_data`` and missing numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from geodata.cubes.tables import cells_at
from geodata.hexes import cells_res
from geodata.schema import Label
from layers.arrays import unique_sorted
from layers.grids import area_to_cells
from layers.incident_heat import incident_counts

DEFAULT_ALPHA: Final[float] = 0.05
DEFAULT_STABLE_PCT: Final[float] = 10.0
MONTH: Final[pd.DateOffset] = pd.DateOffset(months=1)
YEAR: Final[pd.DateOffset] = pd.DateOffset(years=1)

CHANGE_CLASSES: Final[Mapping[str, Label]] = MappingProxyType(
    {
        "strong_decrease": Label("显著下降", "Significant decrease"),
        "decrease": Label("下降", "Decrease"),
        "stable": Label("持平", "Stable"),
        "increase": Label("上升", "Increase"),
        "strong_increase": Label("显著上升", "Significant increase"),
    }
)
"""Diverging classes, from the strongest decrease to the strongest increase."""

COMPARISON_STATES: Final[Mapping[str, Label]] = MappingProxyType(
    {
        "ok": Label("可比", "Comparable"),
        "new": Label("新发（上期为零）", "New (none before)"),
        "none": Label("两期均无警情", "None in either window"),
        "no_data": Label("上期无数据", "No data for the earlier window"),
    }
)
"""State of one comparison: why a % change is or is not given."""

COMPARISONS: Final[tuple[str, ...]] = ("mom", "yoy")


def _hours(since: pd.Timestamp, until: pd.Timestamp) -> float:
    return float((until - since) / pd.Timedelta(hours=1))


def _binom_p(
    k: npt.NDArray[np.int64], n: npt.NDArray[np.int64], p0: float
) -> npt.NDArray[np.float64]:
    """Two-sided exact binomial p-values, as :func:`scipy.stats.binomtest` gives them.

    The same rule, for all cells at once: the probability of every outcome no likelier
    than ``k`` (within scipy's relative tolerance of 1e-7) — ``k``'s own tail plus the
    outcomes on the other side of the mode whose probability is at most ``k``'s. One
    probability table per distinct ``n`` instead of one scipy call per distinct
    ``(k, n)`` (≈100 µs each: 0.2 s for a county's cells at res 9).
    """
    out = np.ones(k.size, dtype=np.float64)
    if k.size == 0 or not 0 < p0 < 1:
        return out
    rerr = 1 + 1e-7
    for size in np.unique(n):
        if size == 0:
            continue
        at = np.flatnonzero(n == size)
        x = np.arange(size + 1)
        pmf = stats.binom.pmf(x, size, p0)
        cdf = stats.binom.cdf(x, size, p0)
        sf = stats.binom.sf(x, size, p0)  # P(X > x)
        kk = k[at]
        d = pmf[kk] * rerr
        mode_lo, mode_hi = int(np.floor(p0 * size)), int(np.ceil(p0 * size))
        # Below the mean: the upper side is decreasing from ceil(np): y outcomes there.
        right = pmf[mode_hi:][::-1]  # increasing
        y_right = np.searchsorted(right, d, side="right")
        below = cdf[kk] + np.where(y_right > 0, sf[size - y_right], 0.0)
        # Above the mean: the lower side is increasing up to floor(np): y outcomes there.
        left = pmf[: mode_lo + 1]
        y_left = np.searchsorted(left, d, side="right")
        above = (
            np.where(y_left > 0, cdf[np.maximum(y_left - 1, 0)], 0.0) + sf[np.maximum(kk - 1, 0)]
        )
        value = np.where(kk < p0 * size, below, above)
        value = np.where(kk == p0 * size, 1.0, value)
        out[at] = np.minimum(value, 1.0)
    return out


def compare_counts(
    current: npt.ArrayLike,
    earlier: npt.ArrayLike,
    *,
    current_hours: float,
    earlier_hours: float,
    covered: bool = True,
    alpha: float = DEFAULT_ALPHA,
    stable_pct: float = DEFAULT_STABLE_PCT,
) -> pd.DataFrame:
    """Compare incident counts now with counts in an earlier window, element by element.

    The rules are the module's (% change, exact conditional binomial test, classes); this
    is the part grid and precinct tables share with the cell layer.

    Parameters
    ----------
    current, earlier : array_like of int
        Counts in the window and in the earlier window, same length, not negative.
    current_hours, earlier_hours : float
        Lengths of the two windows (their ratio sets the test's ``p0``).
    covered : bool
        Whether the data reach back over the earlier window; False gives ``no_data``.
    alpha : float
        Significance level (two-sided).
    stable_pct : float
        Changes smaller than this (in %) either way are ``stable``.

    Returns
    -------
    pandas.DataFrame
        One row per element, default index: ``earlier`` (Int64; NA without data),
        ``change_pct`` (float64; NaN when earlier is 0 or unknown), ``p_value``
        (float64; NaN without data), ``significant`` (boolean; NA without data),
        ``state`` (a key of :data:`COMPARISON_STATES`), ``class`` (a key of
        :data:`CHANGE_CLASSES`; NA without data).
    """
    x = np.asarray(current, dtype=np.int64).ravel()
    y = np.asarray(earlier, dtype=np.int64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"current and earlier differ in length: {x.size} vs {y.size}")
    if (x < 0).any() or (y < 0).any():
        raise ValueError("counts must not be negative")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    usable = covered and current_hours > 0 and earlier_hours > 0
    n = x.size
    if not usable:
        return pd.DataFrame(
            {
                "earlier": pd.array([pd.NA] * n, dtype="Int64"),
                "change_pct": np.full(n, np.nan),
                "p_value": np.full(n, np.nan),
                "significant": pd.array([pd.NA] * n, dtype="boolean"),
                "state": pd.array(["no_data"] * n, dtype="str"),
                "class": pd.array([pd.NA] * n, dtype="str"),
            }
        )
    p0 = current_hours / (current_hours + earlier_hours)
    p = _binom_p(x, x + y, p0)
    significant = p < alpha
    pct = np.full(n, np.nan)
    has_base = y > 0
    pct[has_base] = (x[has_base] - y[has_base]) / y[has_base] * 100.0
    state = np.select([has_base, x > 0], ["ok", "new"], default="none")
    up = (state == "new") | (has_base & (pct >= stable_pct))
    down = has_base & (pct <= -stable_pct)
    klass = np.select(
        [up & significant, up, down & significant, down],
        ["strong_increase", "increase", "strong_decrease", "decrease"],
        default="stable",
    )
    return pd.DataFrame(
        {
            "earlier": pd.array(y, dtype="Int64"),
            "change_pct": pct,
            "p_value": p,
            "significant": pd.array(significant, dtype="boolean"),
            "state": pd.array(state, dtype="str"),
            "class": pd.array(klass, dtype="str"),
        }
    )


def earlier_windows(
    since: pd.Timestamp | str,
    until: pd.Timestamp | str,
    *,
    mom_offset: pd.DateOffset = MONTH,
    yoy_offset: pd.DateOffset = YEAR,
) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """The window and its two earlier windows: ``{"now", "mom", "yoy"} -> (since, until)``."""
    start, end = pd.Timestamp(since), pd.Timestamp(until)
    if not end > start:
        raise ValueError(f"the window must end after it starts: {start} .. {end}")
    return {
        "now": (start, end),
        "mom": (start - mom_offset, end - mom_offset),
        "yoy": (start - yoy_offset, end - yoy_offset),
    }


def _data_since(cube: pd.DataFrame, data_since: pd.Timestamp | str | None) -> pd.Timestamp | None:
    if data_since is not None:
        return pd.Timestamp(data_since)
    if cube.empty:
        return None
    return pd.Timestamp(cube["hour"].min()).normalize()


def _compare_all(
    counts: Mapping[str, npt.NDArray[np.int64]],
    windows: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]],
    first: pd.Timestamp | None,
    alpha: float,
    stable_pct: float,
) -> dict[str, pd.DataFrame]:
    now_hours = _hours(*windows["now"])
    out = {}
    for name in COMPARISONS:
        start, end = windows[name]
        out[name] = compare_counts(
            counts["now"],
            counts[name],
            current_hours=now_hours,
            earlier_hours=_hours(start, end),
            covered=first is None or start >= first,
            alpha=alpha,
            stable_pct=stable_pct,
        )
    return out


def _columns(result: dict[str, pd.DataFrame]) -> dict[str, object]:
    columns: dict[str, object] = {}
    for name in COMPARISONS:
        columns[f"count_{name}"] = result[name]["earlier"].array
    for name in COMPARISONS:
        columns[f"change_{name}_pct"] = result[name]["change_pct"].to_numpy()
    for field in ("p_value", "significant", "state", "class"):
        prefix = "p" if field == "p_value" else field
        for name in COMPARISONS:
            columns[f"{prefix}_{name}"] = result[name][field].array
    return columns


def period_change(
    cube: pd.DataFrame,
    *,
    res: int,
    since: pd.Timestamp | str,
    until: pd.Timestamp | str,
    categories: Iterable[str] | None = None,
    cells: npt.ArrayLike | None = None,
    mom_offset: pd.DateOffset = MONTH,
    yoy_offset: pd.DateOffset = YEAR,
    alpha: float = DEFAULT_ALPHA,
    stable_pct: float = DEFAULT_STABLE_PCT,
    data_since: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """同比/环比 per H3 cell: counts now, a month and a year earlier, change and significance.

    Parameters
    ----------
    cube : pandas.DataFrame
        The incidents cube (``cell``, ``hour``, ``category``, ``count``). Not modified.
    res : int
        H3 resolution of the result; not finer than the cube's.
    since, until : pandas.Timestamp or str
        The window, half-open on the cube's hours; must not be empty.
    categories : iterable of str, optional
        Category codes to keep; None keeps all.
    cells : array_like of uint64, optional
        The area at ``res``: exactly these cells are reported (zeros included). None:
        every cell with an incident in one of the three windows.
    mom_offset, yoy_offset : pandas.DateOffset
        How far back the 环比 and 同比 windows lie (one calendar month, one year).
    alpha : float
        Significance level of the two-sided exact test (default 0.05).
    stable_pct : float
        Half-width of the ``stable`` class in % (default 10).
    data_since : Timestamp or str, optional
        Where the data begin (default: midnight of the cube's first hour); earlier
        windows starting before it get state ``no_data``.

    Returns
    -------
    pandas.DataFrame
        One row per cell, sorted by cell: ``cell`` (uint64), ``count`` (int64),
        ``count_mom``, ``count_yoy`` (Int64; NA without data), ``change_mom_pct``,
        ``change_yoy_pct`` (float64; NaN when the earlier count is 0 or unknown),
        ``p_mom``, ``p_yoy`` (two-sided exact p-values), ``significant_mom``,
        ``significant_yoy`` (boolean, ``p < alpha``), ``state_mom``, ``state_yoy``
        (:data:`COMPARISON_STATES`), ``class_mom``, ``class_yoy``
        (:data:`CHANGE_CLASSES`; NA without data). ``attrs["windows"]`` holds the three
        windows (:func:`earlier_windows`).
    """
    windows = earlier_windows(since, until, mom_offset=mom_offset, yoy_offset=yoy_offset)
    per_window = {
        name: incident_counts(cube, res=res, since=s, until=u, categories=categories).set_index(
            "cell"
        )["count"]
        for name, (s, u) in windows.items()
    }
    if cells is None:
        index = unique_sorted(
            np.concatenate([s.index.to_numpy(np.uint64) for s in per_window.values()])
        )
    else:
        index = area_to_cells(cells, res=res)
    counts = {
        name: s.reindex(index, fill_value=0).to_numpy(dtype=np.int64)
        for name, s in per_window.items()
    }
    result = _compare_all(counts, windows, _data_since(cube, data_since), alpha, stable_pct)
    out = pd.DataFrame(
        {"cell": index.astype(np.uint64), "count": counts["now"], **_columns(result)}
    )
    out.attrs["windows"] = windows
    return out


def total_change(
    cube: pd.DataFrame,
    *,
    since: pd.Timestamp | str,
    until: pd.Timestamp | str,
    categories: Iterable[str] | None = None,
    cells: npt.ArrayLike | None = None,
    mom_offset: pd.DateOffset = MONTH,
    yoy_offset: pd.DateOffset = YEAR,
    alpha: float = DEFAULT_ALPHA,
    stable_pct: float = DEFAULT_STABLE_PCT,
    data_since: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """同比/环比 of the whole area: the wall screen's headline ("incidents today: 37, 环比
    +12 %, 同比 −8 %").

    Parameters
    ----------
    cube, since, until, categories, mom_offset, yoy_offset, alpha, stable_pct, data_since
        As in :func:`period_change`.
    cells : array_like of uint64, optional
        The area, at any one resolution no finer than the cube's (a precinct's cells):
        incidents whose cell lies in one of them count. None: the whole cube.

    Returns
    -------
    pandas.DataFrame
        One row: ``since``, ``until``, ``since_mom``, ``until_mom``, ``since_yoy``,
        ``until_yoy`` (the three windows), then the columns of :func:`period_change`
        without ``cell``.
    """
    windows = earlier_windows(since, until, mom_offset=mom_offset, yoy_offset=yoy_offset)
    first = _data_since(cube, data_since)
    rows = cube
    if cells is not None:
        area = area_to_cells(cells)
        if area.size == 0:
            rows = cube.iloc[:0]
        else:
            area_res = int(cells_res(area[:1])[0])
            rows = cube[np.isin(cells_at(cube, area_res), area)]
    counts = {}
    # Counting per cell at the rows' own resolution and adding up reuses the window and
    # category checks.
    base = int(cells_res(rows["cell"].to_numpy()[:1])[0]) if len(rows) else 0
    for name, (s, u) in windows.items():
        per_cell = incident_counts(rows, res=base, since=s, until=u, categories=categories)
        counts[name] = np.array([int(per_cell["count"].sum())], dtype=np.int64)
    result = _compare_all(counts, windows, first, alpha, stable_pct)
    frame: dict[str, object] = {}
    for name, key in (("now", ""), ("mom", "_mom"), ("yoy", "_yoy")):
        frame[f"since{key}"] = [windows[name][0]]
        frame[f"until{key}"] = [windows[name][1]]
    frame["count"] = counts["now"]
    frame.update(_columns(result))
    return pd.DataFrame(frame)


__all__ = [
    "CHANGE_CLASSES",
    "COMPARISONS",
    "COMPARISON_STATES",
    "DEFAULT_ALPHA",
    "DEFAULT_STABLE_PCT",
    "MONTH",
    "YEAR",
    "compare_counts",
    "earlier_windows",
    "period_change",
    "total_change",
]
