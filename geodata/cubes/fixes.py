"""Patrol fixes read into numpy columns, without touching a string per row.

Unit and kind codes come from the Arrow dictionaries of the Parquet file (or of a frame
dictionary-encoded once), renumbered in the sorted order of the names so that sorting by
code is sorting by name. Times become microseconds of naive China Standard Time; cells
are indexed straight from the Arrow coordinate columns.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from geodata.cubes.tables import coarse_res
from geodata.hexes import coarser_cells, frame_to_cells

FIX_COLUMNS = ("unit_id", "unit_kind", "time", "lng", "lat")
CODE_FIX_COLUMNS = ("unit_id", "unit_kind")

_U64 = np.uint64
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
CellArray = npt.NDArray[np.uint64]


class Fixes(NamedTuple):
    """Patrol fixes as numpy columns, codes numbered in sorted order of the names."""

    unit: IntArray  # rank of unit_id among the sorted names
    unit_names: list[str]
    kind: IntArray  # rank of unit_kind among the sorted names
    kind_names: list[str]
    t: IntArray  # microseconds since 1970, naive China Standard Time
    cell: CellArray
    coarse: dict[int, CellArray]  # the exact cell at each coarser resolution

    def take(self, index: npt.NDArray[np.intp] | BoolArray) -> Fixes:
        return self._replace(
            unit=self.unit[index],
            kind=self.kind[index],
            t=self.t[index],
            cell=self.cell[index],
            coarse={r: c[index] for r, c in self.coarse.items()},
        )


def starts(values: npt.NDArray[np.generic]) -> BoolArray:
    """True on the first row and wherever a value differs from the one before."""
    out = np.empty(values.size, dtype=np.bool_)
    out[:1] = True
    np.not_equal(values[1:], values[:-1], out=out[1:])
    return out


def codes(column: pa.ChunkedArray) -> tuple[IntArray, list[str]]:
    """Integer codes of a string column, numbered in the sorted order of the strings."""
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column.cast(pa.string()))
    if column.num_chunks == 0:
        return np.zeros(0, dtype=np.int32), []
    arr = column.unify_dictionaries().combine_chunks()
    names = [str(x) for x in arr.dictionary.to_pylist()]
    index = arr.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    order = sorted(range(len(names)), key=names.__getitem__)
    if order == list(range(len(names))):  # already in order, as a sorted file gives it
        return index, names
    rank = np.empty(len(names), dtype=np.int32)
    rank[order] = np.arange(len(names), dtype=np.int32)
    return rank[index], [names[i] for i in order]


def times_us(column: pa.ChunkedArray) -> IntArray:
    typ = column.type
    if not pa.types.is_timestamp(typ):
        raise ValueError(f"patrol fixes: 'time' must be a timestamp, got {typ}")
    if typ.tz is not None:  # wall-clock time in China, as the rest of the store
        column = pc.local_timestamp(column.cast(pa.timestamp(typ.unit, "Asia/Shanghai")))
    column = column.cast(pa.timestamp("us"))
    if column.num_chunks == 0:
        return np.zeros(0, dtype=np.int64)
    out: IntArray = column.combine_chunks().to_numpy(zero_copy_only=False).view(np.int64)
    return out


def fix_arrays(fixes: pl.DataFrame | pa.Table, base_res: int) -> tuple[Fixes, int]:
    table = fixes.to_arrow() if isinstance(fixes, pl.DataFrame) else fixes
    missing = [c for c in FIX_COLUMNS if c not in table.column_names]
    if missing:
        raise ValueError(f"patrol fixes lack the columns {missing}")
    table = table.select(list(FIX_COLUMNS))
    rows = table.num_rows
    if any(table[c].null_count for c in FIX_COLUMNS):
        valid = pc.is_valid(table["unit_id"])
        for c in FIX_COLUMNS[1:]:
            valid = pc.and_(valid, pc.is_valid(table[c]))
        table = table.filter(valid)
    unit, unit_names = codes(table["unit_id"])
    kind, kind_names = codes(table["unit_kind"])
    # Index straight from the Arrow columns (no copy); the order of rows is irrelevant.
    lnglat = pl.from_arrow(table.select(["lng", "lat"]))
    assert isinstance(lnglat, pl.DataFrame)
    cell = frame_to_cells(lnglat, base_res)
    f = Fixes(
        unit=unit,
        unit_names=unit_names,
        kind=kind,
        kind_names=kind_names,
        t=times_us(table["time"]),
        cell=cell,
        coarse=coarser_cells(lnglat, cell, coarse_res(base_res)),
    )
    return f, rows - table.num_rows
