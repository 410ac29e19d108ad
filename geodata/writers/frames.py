"""Turning a bundle into the GeoDataFrame a GDAL driver writes, in the export CRS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.writers.bundle import ExportBundle
from geodata.writers.crs import ExportCrs, project_geometry


def plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with nullable numbers as plain numpy numbers where that loses nothing.

    ``Float64`` becomes ``float64`` (NA → NaN, which every format writes as null or
    empty); ``Int64`` without NA becomes ``int64``; ``Int64`` with NA becomes ``float64``
    so that no format writes a made-up 0; text columns stay text.
    """
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if isinstance(col.dtype, pd.Float64Dtype):
            out[name] = col.astype("float64")
        elif isinstance(col.dtype, pd.Int64Dtype):
            out[name] = col.astype("int64") if not col.isna().any() else col.astype("float64")
        elif isinstance(col.dtype, pd.BooleanDtype):
            out[name] = col.astype("float64") if col.isna().any() else col.astype(bool)
    return out


def to_geoframe(bundle: ExportBundle, target: ExportCrs) -> gpd.GeoDataFrame:
    """The bundle's rows with their hexagons converted to ``target``."""
    geometry = project_geometry(np.asarray(bundle.geometry, dtype=object), target)
    return gpd.GeoDataFrame(
        plain_columns(bundle.frame).reset_index(drop=True),
        geometry=gpd.GeoSeries(geometry, crs=target.crs),
        crs=target.crs,
    )
