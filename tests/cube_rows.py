"""Hand-made cube rows as the build makes them: with their exact coarser cells.

A test writes cube rows by their res-11 ``cell``; the build also stores each point's own
cell at every coarser resolution (``cell_6`` … ``cell_10``, see
:data:`geodata.cubes.tables.COARSE_RES`). :func:`exact_rows` puts a hand-made row's
incidents (or fixes) at its cell's centre and indexes that point with h3-py — the
independent reference — at each coarser resolution.
"""

from __future__ import annotations

import h3.api.basic_int as h3i
import pandas as pd
import polars as pl

from geodata.cubes.tables import COARSE_RES


def centre_cell(cell: int, res: int) -> int:
    """The res-``res`` cell holding the centre of ``cell`` (h3-py)."""
    lat, lng = h3i.cell_to_latlng(int(cell))
    return int(h3i.latlng_to_cell(lat, lng, res))


def exact_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``cell_<res>`` columns after ``cell``: each row's point is its
    res-11 cell's centre."""
    out = frame.copy()
    at = list(out.columns).index("cell") + 1
    cells = [int(c) for c in out["cell"]]
    for i, res in enumerate(COARSE_RES):
        values = pd.array([centre_cell(c, res) for c in cells], dtype="uint64")
        out.insert(at + i, f"cell_{res}", values.to_numpy())
    return out


def exact_rows_pl(frame: pl.DataFrame) -> pl.DataFrame:
    """:func:`exact_rows` of a polars frame."""
    cells = [int(c) for c in frame["cell"]]
    columns = list(frame.columns)
    at = columns.index("cell") + 1
    extra = [
        pl.Series(f"cell_{res}", [centre_cell(c, res) for c in cells], dtype=pl.UInt64)
        for res in COARSE_RES
    ]
    out = frame.with_columns(extra)
    return out.select([*columns[:at], *(s.name for s in extra), *columns[at:]])


def point_cells(lat: float, lng: float) -> dict[str, int]:
    """The cube's cells of one point (h3-py): ``cell`` at res 11 and ``cell_<res>`` at
    each coarser resolution the cubes index."""
    cells = {"cell": int(h3i.latlng_to_cell(lat, lng, 11))}
    cells.update({f"cell_{res}": int(h3i.latlng_to_cell(lat, lng, res)) for res in COARSE_RES})
    return cells
