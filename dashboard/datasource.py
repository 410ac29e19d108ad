"""The data the dashboard serves: one data directory, opened once per app.

The outlines (area, precincts, grids) are simplified and turned into GeoJSON once, at
first use, and sent to the browser once. The incidents cube is loaded once and kept in
memory: layers are computed from it on each request, never from raw incidents.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geodata import cubes
from geodata.store import MANIFEST, StoreError, cubes_dir, has_table, read_manifest, read_table
from layers.grids import area_cells, zone_cells
from layers.incident_heat import last_days

# Outline simplification: ~20 m in degrees at 30°N, below a pixel up to zoom ~12, and
# coordinates on a 1e-5° grid (~1 m). Enough for outlines; analytics use the real shapes.
SIMPLIFY_DEGREES = 0.0002
PRECISION_DEGREES = 1e-5

OUTLINE_COLUMNS: dict[str, tuple[str, ...]] = {
    "area": ("code", "name"),
    "precincts": ("precinct_id", "name"),
    "grids": ("grid_id", "name", "precinct_id"),
}

INCIDENT_CUBE = "incidents"
PATROL_CUBE = "patrol"
WINDOW_DAYS = 30


class DataDirError(StoreError):
    """The data directory is missing or not built: said in one line, with the fix."""


def _fix_hint(data_dir: Path) -> str:
    return (
        f"build it with: python -m geodata demo --out {data_dir} "
        f"&& python -m geodata cubes --data {data_dir}"
    )


def check_data_dir(data_dir: Path) -> None:
    """Raise :class:`DataDirError` unless ``data_dir`` holds an area and an incidents cube."""
    if not data_dir.is_dir():
        raise DataDirError(f"no data directory at {data_dir}; {_fix_hint(data_dir)}")
    if not (data_dir / MANIFEST).exists() or not has_table(data_dir, "area"):
        raise DataDirError(
            f"{data_dir} holds no data set (no manifest or area); {_fix_hint(data_dir)}"
        )
    if not (cubes_dir(data_dir) / f"{INCIDENT_CUBE}.parquet").exists():
        raise DataDirError(
            f"{data_dir} has no hex cubes yet; build them with: "
            f"python -m geodata cubes --data {data_dir}"
        )


class DataSource:
    """A data directory as the dashboard sees it: manifest, outlines, cubes and window.

    Everything but the outlines is read when the source is opened (when the app is
    built), so a broken data directory stops the start, not a request.

    Parameters
    ----------
    data_dir : Path
        A data directory built by ``python -m geodata demo`` or imports, with cubes.

    Attributes
    ----------
    manifest : dict
        What the data is and when it was built.
    area_name : str
        Name of the area (e.g. 宣汉县), for the page title.
    bounds : list
        ``[[south, west], [north, east]]`` of the area, for the map's first view.
    version : str
        Changes whenever the data or its cubes are rebuilt; part of every cache key.
    incident_cube : pandas.DataFrame
        The incidents cube: cell (uint64), hour, category, count.
    window : tuple of pandas.Timestamp
        The default window, half-open: the last 30 days of the data (not of the clock).
    """

    def __init__(self, data_dir: Path) -> None:
        check_data_dir(data_dir)
        self.data_dir = data_dir
        self.manifest: dict[str, Any] = read_manifest(data_dir)
        area = read_table(data_dir, "area", columns=["name", "geometry"])
        self.area_name = str(area["name"].iloc[0]) if len(area) else ""
        west, south, east, north = (float(v) for v in area.total_bounds)
        self.bounds = [[south, west], [north, east]]
        cube_path = cubes_dir(data_dir) / f"{INCIDENT_CUBE}.parquet"
        self.version = (
            f"{data_dir.resolve()}:{(data_dir / MANIFEST).stat().st_mtime_ns}"
            f":{cube_path.stat().st_mtime_ns}"
        )
        self.incident_cube = cubes.load_cube(data_dir, INCIDENT_CUBE)
        if self.incident_cube.empty:
            raise DataDirError(f"{data_dir} has no incidents in its cube; import incidents first")
        self.window = last_days(self.incident_cube, days=WINDOW_DAYS)
        self._scope_cache: dict[tuple[int, str], npt.NDArray[np.uint64]] = {}

    @property
    def last_day(self) -> pd.Timestamp:
        """The data's last day (midnight): "today" for every window preset."""
        return self.window[1] - pd.Timedelta(days=1)

    @cached_property
    def patrol_cube(self) -> pd.DataFrame:
        """The patrol cube (cell, hour, unit_kind, fixes, units, dwell_s, visits); empty
        when the data set has no patrol fixes."""
        if not (cubes_dir(self.data_dir) / f"{PATROL_CUBE}.parquet").exists():
            return pd.DataFrame(
                {"cell": np.zeros(0, np.uint64), "hour": pd.to_datetime([]), "unit_kind": []}
            )
        return cubes.load_cube(self.data_dir, PATROL_CUBE)

    def _table(self, kind: str) -> pd.DataFrame:
        return read_table(self.data_dir, kind) if has_table(self.data_dir, kind) else pd.DataFrame()

    @cached_property
    def communities(self) -> pd.DataFrame:
        """Communities (points) of the safe-community programme; empty if not imported."""
        return self._table("communities")

    @cached_property
    def response_units(self) -> pd.DataFrame:
        """Minimum emergency response units; empty if not imported."""
        return self._table("response_units")

    @cached_property
    def grids(self) -> gpd.GeoDataFrame:
        """Management grids with their geometry (WGS84)."""
        return self._table("grids")

    @cached_property
    def precincts(self) -> gpd.GeoDataFrame:
        """Precincts with their geometry (WGS84)."""
        return self._table("precincts")

    @cached_property
    def area(self) -> gpd.GeoDataFrame:
        """The area (county) with its geometry (WGS84)."""
        return read_table(self.data_dir, "area")

    def scope_cells(self, res: int, scope: str = "county") -> npt.NDArray[np.uint64]:
        """The cells of a scope at ``res``: for ``county`` every cell whose centre lies in
        a grid (or, without grids, in the area). Cached per resolution."""
        key = (res, scope)
        if key not in self._scope_cache:
            if len(self.grids):
                cells = zone_cells(self.grids, res=res, id_col="grid_id")["cell"].to_numpy()
            else:
                cells = area_cells(self.area.geometry.union_all(), res=res)
            self._scope_cache[key] = np.asarray(cells, dtype=np.uint64)
        return self._scope_cache[key]

    @property
    def synthetic(self) -> bool:
        """Whether the data is synthetic (the page then says so in a banner)."""
        return bool(self.manifest.get("synthetic", False))

    @cached_property
    def outlines(self) -> dict[str, dict[str, Any]]:
        """Simplified GeoJSON FeatureCollections of the area, precincts and grids.

        A missing precincts or grids table gives an empty collection: a bureau may import
        its boundary before its precincts.
        """
        result: dict[str, dict[str, Any]] = {}
        for kind, columns in OUTLINE_COLUMNS.items():
            if not has_table(self.data_dir, kind):
                result[kind] = {"type": "FeatureCollection", "features": []}
                continue
            frame = read_table(self.data_dir, kind, columns=[*columns, "geometry"])
            geoms = shapely.set_precision(
                shapely.simplify(frame.geometry.array, SIMPLIFY_DEGREES, preserve_topology=True),
                PRECISION_DEGREES,
            )
            features = [
                {
                    "type": "Feature",
                    "geometry": shapely.geometry.mapping(geom),
                    "properties": {c: str(frame[c].iloc[i]) for c in columns},
                }
                for i, geom in enumerate(geoms)
                if geom is not None and not geom.is_empty
            ]
            # A round trip through JSON turns shapely's tuples into lists, as the browser
            # will see them, and checks that everything is serialisable.
            result[kind] = json.loads(
                json.dumps({"type": "FeatureCollection", "features": features})
            )
        return result
