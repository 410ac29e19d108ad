"""unique_sorted is np.unique, by sorting; running_max is a loop's running maximum per run."""

from __future__ import annotations

import numpy as np
import pytest

from layers.arrays import run_starts, running_max, unique_sorted


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


def _loop_running_max(values: list[int], runs: list[int]) -> list[int]:
    out, best = [], 0
    for i, (v, r) in enumerate(zip(values, runs, strict=True)):
        best = v if i == 0 or r != runs[i - 1] else max(best, v)
        out.append(best)
    return out


@pytest.mark.parametrize("scale", [1_000, 2**61])  # the lifted values, and the ranks
def test_running_max_restarts_at_each_run_as_a_loop_does(scale: int) -> None:
    rng = np.random.default_rng(scale % 97)
    for size in (0, 1, 2, 50, 2000):
        values = rng.integers(-scale, scale, size, dtype=np.int64)
        keys = np.sort(rng.integers(0, max(size // 5, 1), size))
        runs = np.cumsum(run_starts(keys)) - 1
        got = running_max(values, runs)
        assert got.tolist() == _loop_running_max(values.tolist(), runs.tolist())


def test_run_starts_marks_a_change_of_any_key() -> None:
    a = np.array([1, 1, 1, 2, 2])
    b = np.array([0, 0, 1, 1, 1])
    assert run_starts(a).tolist() == [True, False, False, True, False]
    assert run_starts(a, b).tolist() == [True, False, True, True, False]
    assert run_starts(a[:0]).tolist() == []
