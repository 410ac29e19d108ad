"""The cube tables: their names, columns and which columns add up.

Shared by the build (:mod:`geodata.cubes.build`), the patrol and incident indexing and
the coarser views (:mod:`geodata.cubes.coarser`), so every part agrees on one schema.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl

from geodata.hexes import NULL_CELL, cells_res

BASE_RES = 11
"""Base resolution of the cubes (H3 res 11: edge ≈ 25 m, a house and its yard)."""

COARSE_RES = (6, 7, 8, 9, 10)
"""The coarser resolutions whose cells each cube row also carries, as ``cell_<res>``.

H3 is not nested: a res-11 hexagon can straddle two res-9 hexagons, so the res-9 parent
of the res-11 cell of a point is not always the res-9 cell of the point (6-7 % of
uniform points at res 7-10). Each point is therefore indexed at every resolution a
layer draws or exports, and a row of a cube is one combination of exact cells: a
coarser view groups by that resolution's own column, never by ``cell_to_parent``."""

CUBE_NAMES = ("incidents", "patrol", "visits")
"""The cube files, ``<name>.parquet`` under ``cubes/`` of a data directory."""

ADDITIVE = ("count", "severity_sum", "severity_known", "fixes", "dwell_s")
"""Measure columns that add across cells and hours."""

NON_ADDITIVE = ("units", "visits")
"""Measure columns that do not add across cells: a unit crossing two child cells makes
two visits there and one in their parent, and is one distinct unit, not two."""

TIME_COLUMN = {"incidents": "hour", "patrol": "hour", "visits": "entered"}
"""The column a time window filters on, per cube."""

CODE_COLUMNS = ("category", "unit_kind", "unit_id")
"""Columns holding codes; the files store them dictionary-encoded, loaders give str."""


def coarse_res(base_res: int = BASE_RES) -> tuple[int, ...]:
    """The resolutions of :data:`COARSE_RES` coarser than ``base_res``."""
    return tuple(r for r in COARSE_RES if r < base_res)


def cell_column(res: int, base_res: int = BASE_RES) -> str:
    """The column holding the exact res-``res`` cells of a cube built at ``base_res``.

    Raises
    ------
    ValueError
        When the cubes hold no exact cells at ``res``.
    """
    if res == base_res:
        return "cell"
    if res in coarse_res(base_res):
        return f"cell_{res}"
    held = ", ".join(map(str, (*coarse_res(base_res), base_res)))
    raise ValueError(f"the cubes hold exact cells at resolutions {held} only, not {res}")


def lineage(columns: Iterable[str]) -> list[str]:
    """The ``cell_<res>`` columns among ``columns``, coarsest first."""
    found = [c for c in columns if c.startswith("cell_") and c[5:].isdigit()]
    return sorted(found, key=lambda c: int(c[5:]))


def cells_at(rows: pd.DataFrame | pl.DataFrame, res: int) -> npt.NDArray[np.uint64]:
    """The exact res-``res`` cell of each row of a cube (or of a frame already at ``res``).

    Parameters
    ----------
    rows : pandas.DataFrame or polars.DataFrame
        Rows of an incidents or patrol cube or of the visits table (``cell`` and the
        ``cell_<res>`` columns), or any frame whose ``cell`` is at ``res`` already.
    res : int
        The resolution wanted.

    Returns
    -------
    numpy.ndarray of uint64

    Raises
    ------
    ValueError
        When the rows hold no exact cells at ``res`` (a cube of the old format, or a
        resolution the cubes do not index).
    """
    name = f"cell_{res}"
    if name in rows.columns:
        return np.asarray(rows[name].to_numpy(), dtype=np.uint64)
    cells = np.asarray(rows["cell"].to_numpy(), dtype=np.uint64)
    if cells.size == 0:
        return cells
    found = cells_res(cells[cells != NULL_CELL][:1])
    if found.size == 0 or int(found[0]) == res:
        return cells
    if res > int(found[0]):
        raise ValueError(f"cannot make rows of the finer res {res} from res-{int(found[0])} rows")
    raise ValueError(
        f"the rows hold res-{int(found[0])} cells and no exact res-{res} cells "
        f"(column {name}); rebuild the cubes with `python -m geodata cubes --data DIR`"
    )


US_PER_S = 1_000_000
US_PER_HOUR = 3_600 * US_PER_S
TIME = pl.Datetime("us")


def empty(name: str, base_res: int = BASE_RES) -> pl.DataFrame:
    """A cube with no rows and the right columns (for a store lacking that source)."""
    exact: dict[str, pl.DataType] = {f"cell_{r}": pl.UInt64() for r in coarse_res(base_res)}
    schemas: dict[str, dict[str, pl.DataType]] = {
        "incidents": {
            "cell": pl.UInt64(),
            **exact,
            "hour": TIME,
            "category": pl.String(),
            "count": pl.Int32(),
            "severity_sum": pl.Int32(),
            "severity_known": pl.Int32(),
        },
        "patrol": {
            "cell": pl.UInt64(),
            **exact,
            "hour": TIME,
            "unit_kind": pl.String(),
            "fixes": pl.Int32(),
            "units": pl.Int32(),
            "dwell_s": pl.Float32(),
            "visits": pl.Int32(),
        },
        "visits": {
            "unit_id": pl.String(),
            "unit_kind": pl.String(),
            "cell": pl.UInt64(),
            **exact,
            "entered": TIME,
            "last_fix": TIME,
            "left": TIME,
            "fixes": pl.Int32(),
        },
    }
    return pl.DataFrame(schema=schemas[name])
