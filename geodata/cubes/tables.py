"""The cube tables: their names, columns and which columns add up.

Shared by the build (:mod:`geodata.cubes.build`), the patrol and incident indexing and
the coarser views (:mod:`geodata.cubes.coarser`), so every part agrees on one schema.
"""

from __future__ import annotations

import polars as pl

BASE_RES = 11
"""Base resolution of the cubes (H3 res 11: edge ≈ 25 m, a house and its yard)."""

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

US_PER_S = 1_000_000
US_PER_HOUR = 3_600 * US_PER_S
TIME = pl.Datetime("us")


def empty(name: str) -> pl.DataFrame:
    """A cube with no rows and the right columns (for a store lacking that source)."""
    schemas: dict[str, dict[str, pl.DataType]] = {
        "incidents": {
            "cell": pl.UInt64(),
            "hour": TIME,
            "category": pl.String(),
            "count": pl.Int32(),
            "severity_sum": pl.Int32(),
            "severity_known": pl.Int32(),
        },
        "patrol": {
            "cell": pl.UInt64(),
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
            "entered": TIME,
            "last_fix": TIME,
            "left": TIME,
            "fixes": pl.Int32(),
        },
    }
    return pl.DataFrame(schema=schemas[name])
