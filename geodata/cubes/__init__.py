"""Hex cubes: incidents and patrol fixes indexed once to H3, summed by cell and hour.

``python -m geodata cubes`` (:func:`build_cubes`) reads the store's ``incidents`` and
``patrol_fixes`` and writes, under :func:`geodata.store.cubes_dir`:

``incidents.parquet``
    one row per (cells, hour, category): ``count``, ``severity_sum``, ``severity_known``.
``patrol.parquet``
    one row per (cells, hour, unit_kind): ``fixes``, ``units`` (distinct units with a fix
    in that cell-hour), ``dwell_s`` (seconds credited, see :mod:`geodata.cubes.patrol`)
    and ``visits`` (visits that *start* in that cell-hour).
``visits.parquet``
    one row per stay of a unit in a base-resolution cell: ``unit_id``, ``unit_kind``,
    ``cell``, ``entered`` (first fix), ``last_fix``, ``left`` (last fix plus its
    credited dwell), ``fixes``; sorted by (unit_id, entered).
``meta.json``
    base resolution, build time, source fingerprints (size, mtime) and row counts, time
    range, the dwell constants used, row counts of the cubes.

Cells are ``uint64`` H3 indexes: ``cell`` at the base resolution (11, edge ≈ 25 m) and
``cell_6`` … ``cell_10``, the exact cell of the same points at each coarser resolution
(H3 is not nested: a parent of a res-11 cell is not always the cell of its points, see
:data:`~geodata.cubes.tables.COARSE_RES`); "cells" above is that combination. Hours are
naive China Standard Time floored to the hour. A time window is a row filter; a coarser
resolution groups by its own column (:func:`cells_at`, :func:`rollup`: counts, fixes,
dwell summed; visits and units recomputed from the visits table) and :func:`visits_at`
(a unit's consecutive stays in one exact cell merged).

Representation: the build works in numpy and polars; :func:`load_cube` gives pandas
(what geopandas and mapclassify speak) with ``cell`` as uint64 and codes as str;
:func:`scan_cube` gives a polars LazyFrame; :func:`rollup` and :func:`visits_at` accept
either and return the kind they were given.
"""

from __future__ import annotations

from geodata.cubes.build import build_cubes, check_format, load_cube, load_meta, scan_cube
from geodata.cubes.coarser import rollup, visits_at
from geodata.cubes.incidents import incident_cube
from geodata.cubes.patrol import (
    BREAK_S,
    CAP_FACTOR,
    DEFAULT_FIX_INTERVAL_S,
    PatrolCubes,
    patrol_cubes,
)
from geodata.cubes.tables import (
    ADDITIVE,
    BASE_RES,
    COARSE_RES,
    CUBE_NAMES,
    NON_ADDITIVE,
    cell_column,
    cells_at,
)

__all__ = [
    "ADDITIVE",
    "BASE_RES",
    "BREAK_S",
    "CAP_FACTOR",
    "COARSE_RES",
    "CUBE_NAMES",
    "DEFAULT_FIX_INTERVAL_S",
    "NON_ADDITIVE",
    "PatrolCubes",
    "build_cubes",
    "cell_column",
    "cells_at",
    "check_format",
    "incident_cube",
    "load_cube",
    "load_meta",
    "patrol_cubes",
    "rollup",
    "scan_cube",
    "visits_at",
]
