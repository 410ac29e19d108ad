"""unique_sorted is np.unique, by sorting."""

from __future__ import annotations

import numpy as np

from layers.arrays import unique_sorted


def test_unique_sorted_equals_numpy_unique() -> None:
    rng = np.random.default_rng(3)
    cells = rng.integers(0, 2**63, 5000, dtype=np.uint64)
    cells = np.concatenate([cells, cells[:100], cells[:7]])  # repeats
    rng.shuffle(cells)
    for values in (cells, cells.reshape(-1, 1), cells[:1], cells[:0], list(cells[:50])):
        got = unique_sorted(values, np.uint64)
        want = np.unique(np.asarray(values, dtype=np.uint64).ravel())
        assert got.dtype == want.dtype and np.array_equal(got, want)
    codes = rng.integers(-5, 5, 1000)
    assert np.array_equal(unique_sorted(codes), np.unique(codes))
