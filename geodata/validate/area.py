"""The area points must fall in: the stored boundary, widened a little, prepared."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from geodata import store
from geodata.validate.reasons import BoolArray, FloatArray

AREA_BUFFER_M: Final = 1000.0
"""Slack around the stored area, in metres: a boundary digitised at a coarse scale (the
AMap-derived county outlines are simplified to tens of metres) must not reject an
incident recorded on the border road."""


@dataclass(frozen=True)
class Area:
    """The stored area, widened by a buffer, ready for fast point-in-polygon tests.

    Attributes
    ----------
    geometry : shapely.Geometry
        The union of the area's polygons, buffered by ``buffer_m`` metres, WGS84, prepared.
    buffer_m : float
        The buffer, in metres.
    """

    geometry: shapely.Geometry
    buffer_m: float

    @classmethod
    def from_frame(cls, frame: gpd.GeoDataFrame, *, buffer_m: float = AREA_BUFFER_M) -> Area:
        """Build the area from a WGS84 GeoDataFrame of one or more polygons.

        The buffer is drawn in metres in an azimuthal equidistant projection centred on
        the area, so it has the same width in every direction.

        Parameters
        ----------
        frame : geopandas.GeoDataFrame
            The area's polygons in WGS84 (as stored).
        buffer_m : float
            Width of the slack, in metres.

        Returns
        -------
        Area
        """
        geoms = np.asarray(frame.geometry.values, dtype=object)
        union = shapely.union_all(shapely.make_valid(geoms))
        centre = union.centroid
        local = CRS.from_proj4(
            f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m +no_defs"
        )
        there = Transformer.from_crs("EPSG:4326", local, always_xy=True)
        back = Transformer.from_crs(local, "EPSG:4326", always_xy=True)
        projected = shapely.transform(union, lambda xy: np.column_stack(there.transform(*xy.T)))
        widened = shapely.buffer(projected, buffer_m)
        geometry = shapely.transform(widened, lambda xy: np.column_stack(back.transform(*xy.T)))
        shapely.prepare(geometry)
        return cls(geometry=geometry, buffer_m=buffer_m)

    def contains(self, lng: FloatArray, lat: FloatArray) -> BoolArray:
        """Whether each WGS84 point lies in the (widened) area; NaN points do not."""
        return np.asarray(shapely.contains_xy(self.geometry, lng, lat), dtype=bool)

    def intersects(self, geoms: NDArray[np.object_]) -> BoolArray:
        """Whether each WGS84 geometry touches the (widened) area."""
        return np.asarray(shapely.intersects(self.geometry, geoms), dtype=bool)


def load_area(data_dir: Path | str, *, buffer_m: float = AREA_BUFFER_M) -> Area | None:
    """The stored ``area`` of a data directory as an :class:`Area`; None if it has none.

    Parameters
    ----------
    data_dir : path-like
        The store.
    buffer_m : float
        Width of the slack, in metres.

    Returns
    -------
    Area or None
    """
    if not store.has_table(data_dir, "area"):
        return None
    frame = store.read_table(data_dir, "area")
    if not isinstance(frame, gpd.GeoDataFrame) or frame.empty:
        return None
    return Area.from_frame(frame, buffer_m=buffer_m)
