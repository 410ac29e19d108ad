"""Where the partitions of a cube build run: here, one after another, or on Dask
(:class:`geodata.cubes.dask_build.DaskExecutor`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs a function over items, returning the results in the items' order."""

    name: str

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[fn(x) for x in items]``, wherever it runs."""
        ...


class LocalExecutor:
    """Runs the partitions one after another in this process."""

    name = "local"

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[fn(x) for x in items]``."""
        return [fn(x) for x in items]
