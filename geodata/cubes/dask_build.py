"""The cube build on a Dask cluster: day partitions as tasks, the same cubes as one pass.

``python -m geodata cubes --dask ADDRESS`` (or ``--dask local``) runs
:func:`geodata.cubes.refresh.update_cubes` with its partitions — ranges of
``window_days`` days of incidents and patrol fixes — as tasks of a
``distributed.Client``. Each task reads its own rows from the store (the data directory,
which the workers must be able to read at the same path, or PostGIS), indexes them to
H3 and returns its cube rows and visit pieces; this process joins them
(:mod:`geodata.cubes.partitions` explains why the join is exact) and writes the cubes
into the data directory, as the build in one process does. With ``--incremental`` only
the changed days go to the cluster.

The workers need the project installed (the same versions: the cube rows must not
depend on where they were computed) and read access to the data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TypeVar

from geodata.cubes.patrol import BREAK_S
from geodata.cubes.refresh import update_cubes
from geodata.cubes.sources import CubeSource, clear_cache
from geodata.cubes.tables import BASE_RES

__all__ = ["DEFAULT_WINDOW_DAYS", "LOCAL", "DaskExecutor", "build_cubes_dask", "dask_client"]

DEFAULT_WINDOW_DAYS: Final = 7
"""Days per task: a week of a county's fixes is a few hundred thousand rows, enough to
outweigh a task's overhead and small enough to spread a year over many workers."""

LOCAL: Final = "local"
"""The ``--dask`` address that starts a cluster on this machine."""

T = TypeVar("T")
R = TypeVar("R")


class DaskExecutor:
    """Runs partitions as tasks of a Dask client, gathering results in order."""

    name = "dask"

    def __init__(self, client: Any) -> None:
        self.client = client

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[fn(x) for x in items]``, computed on the cluster."""
        if not items:
            return []
        futures = self.client.map(fn, list(items), pure=False)
        result: list[R] = self.client.gather(futures)
        return result


@contextlib.contextmanager
def dask_client(address: str, *, workers: int = 2, processes: bool = True) -> Iterator[Any]:
    """A ``distributed.Client`` of the scheduler at ``address``, or of a new local cluster.

    Parameters
    ----------
    address : str
        ``tcp://HOST:8786`` of a running ``dask scheduler``, or ``"local"`` for a
        ``LocalCluster`` started (and stopped) here.
    workers : int
        Workers of a local cluster (one thread each).
    processes : bool
        Local workers as processes (True) or threads of this process.

    Raises
    ------
    OSError
        When the scheduler cannot be reached (``distributed`` raises a TimeoutError or
        an OSError after its connect timeout).
    """
    from distributed import Client, LocalCluster

    if address == LOCAL:
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=processes,
                dashboard_address=":0",  # a free port: never collide with another cluster
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
    else:
        with Client(address, timeout="20s") as client:
            try:
                yield client
            finally:
                # Workers outlive this build: let them drop the tables they read.
                with contextlib.suppress(Exception):
                    client.run(clear_cache)


def build_cubes_dask(
    data_dir: Path | str,
    client: Any,
    *,
    source: CubeSource | None = None,
    incremental: bool = False,
    window_days: int = DEFAULT_WINDOW_DAYS,
    base_res: int = BASE_RES,
    break_s: float = BREAK_S,
    fix_interval_s: Mapping[str, float] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Build (or refresh) the cubes of ``data_dir`` with partitions run on Dask.

    Parameters
    ----------
    data_dir : path
        The data directory; the cubes go to its ``cubes/``.
    client : distributed.Client
        The cluster (see :func:`dask_client`).
    source : CubeSource, optional
        Where the workers read incidents and fixes (default: the data directory's files).
    incremental : bool
        Send only the days changed since the last partitioned build.
    window_days : int
        Days per task.
    base_res, break_s, fix_interval_s
        As for :func:`geodata.cubes.build_cubes`.
    progress : bool
        Say on stderr what is computed.

    Returns
    -------
    dict
        The metadata written to ``meta.json`` (see :func:`update_cubes`).
    """
    return update_cubes(
        data_dir,
        source=source,
        executor=DaskExecutor(client),
        incremental=incremental,
        window_days=window_days,
        base_res=base_res,
        break_s=break_s,
        fix_interval_s=fix_interval_s,
        progress=progress,
    )
