"""The incident cube: incidents counted by (cell, hour, category).

Each incident is indexed at the base resolution and at every coarser resolution of
:data:`~geodata.cubes.tables.COARSE_RES` (``cell_<res>``): a row is one combination of
exact cells, so a coarser count sums that resolution's own column."""

from __future__ import annotations

import polars as pl

from geodata.cubes.tables import BASE_RES, TIME, coarse_res
from geodata.hexes import NULL_CELL, cell_expr


def incident_cube(incidents: pl.DataFrame, *, base_res: int = BASE_RES) -> pl.DataFrame:
    """Count incidents by (cell, hour, category) at ``base_res``.

    Parameters
    ----------
    incidents : polars.DataFrame
        Columns ``time`` (naive China Standard Time), ``lng``, ``lat``, ``category`` and
        optionally ``severity`` (1-3). Rows without a time or a placeable coordinate are
        left out; the caller sees how many from the difference of ``count`` and rows.
    base_res : int
        H3 resolution of the cells.

    Returns
    -------
    polars.DataFrame
        ``cell`` (UInt64), ``cell_<res>`` (UInt64, the exact cell at each coarser
        resolution), ``hour``, ``category``, ``count``, ``severity_sum`` and
        ``severity_known`` (incidents whose severity is known, so that the mean severity
        is ``severity_sum / severity_known``), sorted by (hour, cell, category).
    """
    sev = (
        pl.col("severity").cast(pl.Int32, strict=False)
        if "severity" in incidents.columns
        else pl.lit(None, dtype=pl.Int32)
    )
    exact = [f"cell_{r}" for r in coarse_res(base_res)]
    return (
        incidents.lazy()
        .select(
            cell_expr("lng", "lat", base_res),
            *(cell_expr("lng", "lat", r).alias(f"cell_{r}") for r in coarse_res(base_res)),
            pl.col("time").cast(TIME).dt.truncate("1h").alias("hour"),
            pl.col("category").cast(pl.String),
            sev.alias("severity"),
        )
        .filter((pl.col("cell") != NULL_CELL) & pl.col("hour").is_not_null())
        .filter(pl.col("category").is_not_null())
        .group_by("cell", *exact, "hour", "category")
        .agg(
            pl.len().cast(pl.Int32).alias("count"),
            pl.col("severity").sum().cast(pl.Int32).alias("severity_sum"),
            pl.col("severity").count().cast(pl.Int32).alias("severity_known"),
        )
        .sort("hour", "cell", "category", *exact)
        .collect()
    )
