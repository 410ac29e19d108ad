"""Array helpers the layers share.

:func:`unique_sorted` is ``np.unique`` of a 1-D array, by sorting: for arrays of many
distinct ``uint64`` values (H3 cells) NumPy 2.4's ``np.unique`` takes its hash path and
is about a hundred times slower (≈1 s for the 310,000 res-10 cells of the county,
against ≈10 ms sorted). Same result: the distinct values, ascending.

:func:`running_max` is a maximum accumulated within runs of rows (the reach of a cell's
intervals so far): NumPy has no segmented accumulate and polars' ``cum_max().over()``
with the sort before it cost the patrol layers three times as much.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def unique_sorted(values: Any, dtype: npt.DTypeLike | None = None) -> npt.NDArray[Any]:
    """The distinct values of ``values`` (flattened), ascending, as ``np.unique`` gives
    them (for arrays without NaN: every use here is integer cells or codes)."""
    a = np.sort(np.asarray(values, dtype=dtype).ravel())
    if a.size < 2:
        return a
    keep = np.empty(a.size, dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def run_starts(*keys: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Whether each row starts a run: a key differs from the row before (rows sorted by
    ``keys``); the first row always does."""
    n = keys[0].size
    new = np.ones(n, dtype=bool)
    if n > 1:
        new[1:] = False
        for key in keys:
            new[1:] |= key[1:] != key[:-1]
    return new


def running_max(values: npt.NDArray[np.int64], run: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The maximum of ``values`` so far within each run, ``run`` being the run index of
    each row (ascending from 0: ``np.cumsum(run_starts(...)) - 1``).

    One ``np.maximum.accumulate`` over the values lifted by their run's offset, so that a
    run never sees the one before; where the offsets would overflow int64, the values'
    ranks are lifted instead.
    """
    if values.size == 0:
        return values.astype(np.int64)
    v = values.astype(np.int64)
    low = int(v.min())
    span = int(v.max()) - low + 1
    if (int(run[-1]) + 1) * span < 2**62:
        lift = run.astype(np.int64) * np.int64(span)
        return np.maximum.accumulate(lift + (v - low)) - lift + low
    distinct = unique_sorted(v)
    lift = run.astype(np.int64) * np.int64(distinct.size)
    return distinct[np.maximum.accumulate(lift + np.searchsorted(distinct, v)) - lift]


__all__ = ["run_starts", "running_max", "unique_sorted"]
