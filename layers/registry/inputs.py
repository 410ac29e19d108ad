"""What the registry's layers read: the shape of a data snapshot.

:class:`geodata.snapshot.Snapshot` is the one implementation (it reads the data
directory); the layers only call what is listed here, so they never open a file and a
test can hand them a snapshot of tiny frames.
"""

from __future__ import annotations

from typing import Protocol

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl


class ZoneLookup(Protocol):
    """The cells of the area at one resolution and the precinct of each."""

    @property
    def cells(self) -> npt.NDArray[np.uint64]: ...

    def codes_of(self, cells: npt.ArrayLike) -> npt.NDArray[np.int32]: ...

    def grid_codes_of(self, cells: npt.ArrayLike) -> npt.NDArray[np.int32]: ...


class Inputs(Protocol):
    """A data version as the layers see it (see :class:`geodata.snapshot.Snapshot`)."""

    @property
    def incident_cube(self) -> pd.DataFrame: ...

    @property
    def patrol_cube(self) -> pl.DataFrame: ...

    @property
    def grids(self) -> gpd.GeoDataFrame: ...

    @property
    def precincts(self) -> gpd.GeoDataFrame: ...

    @property
    def communities(self) -> pd.DataFrame: ...

    @property
    def response_units(self) -> pd.DataFrame: ...

    @property
    def precinct_ids(self) -> tuple[str, ...]: ...

    @property
    def grid_ids(self) -> tuple[str, ...]: ...

    @property
    def unit_precincts(self) -> list[str | None]: ...

    @property
    def community_precincts(self) -> list[str | None]: ...

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]: ...

    def visits_for(self, since: pd.Timestamp, until: pd.Timestamp) -> pl.DataFrame: ...

    def zones(self, res: int) -> ZoneLookup: ...

    def area_cells(self, res: int) -> npt.NDArray[np.uint64]: ...


__all__ = ["Inputs", "ZoneLookup"]
