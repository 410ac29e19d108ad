"""Partitioned cube builds: incremental refresh by day, and the engine of the Dask build.

``python -m geodata cubes --incremental`` (:func:`refresh_cubes`) folds what changed in
the store since the last build into the cubes, recomputing only the days it touched:

1. The store's per-day row counts and digests (:meth:`CubeSource.day_digests`) are
   compared with those kept beside the cubes (``cubes/partitions.parquet``): a day whose
   count or digest differs — new rows appended, late reports for old days, deletions —
   is *changed*.
2. Incidents: the changed days are recomputed. Patrol: the changed days and the days
   either side of them (a fix's dwell looks at the next fix, its visit flag at the one
   before). Stored visits touching none of those days stay; the others are made again
   from the new days' pieces and the kept pieces, on other days, of visits that ran over
   midnight (``cubes/spans.parquet``). See :mod:`geodata.cubes.partitions`.
3. The dwell caps come from the median gap of *all* fixes. The gap counts of every day
   are kept too (``cubes/gaps.parquet``); the new days' counts are summed with the
   others', and if a kind's interval moved, every day is recomputed — the result is
   always what a full build gives, never an approximation.
4. The cube files are rewritten with the recomputed days' rows replaced, each file
   atomically (temporary file, rename), then the day table, then ``meta.json`` last with
   a new build id. A refresh interrupted half-way is caught by the next one: it either
   finds the old day table (and recomputes the same days) or a build id that does not
   match (and rebuilds in full).

Without a previous partitioned build (or after a plain ``python -m geodata cubes``, or
with other settings) the refresh is a full build, cut into partitions the same way. The
same engine runs on Dask (:mod:`geodata.cubes.dask_build`): partitions are independent
tasks that read their own rows from the store.
"""

from __future__ import annotations

from geodata.cubes.refresh.engine import refresh_cubes, update_cubes
from geodata.cubes.refresh.executors import Executor, LocalExecutor
from geodata.cubes.refresh.ledger import DAYS_FILE, GAPS_FILE, SPANS_FILE

__all__ = [
    "DAYS_FILE",
    "GAPS_FILE",
    "SPANS_FILE",
    "Executor",
    "LocalExecutor",
    "refresh_cubes",
    "update_cubes",
]
