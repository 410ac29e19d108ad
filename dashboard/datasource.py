"""The data the dashboard serves: one data directory, opened once per app.

The outlines (area, precincts, grids) are simplified and turned into GeoJSON once, at
first use, and sent to the browser once. The incidents cube is loaded once and kept in
memory: layers are computed from it on each request, never from raw incidents.

**Scope.** A chief sees only their precincts. :meth:`DataSource.for_scope` gives a
:class:`ScopedSource`: the same interface, with every table — cubes, grids, precincts,
communities, outlines — already cut to the precincts, so a view computed from it cannot
hold another precinct's cell, count or name, whatever it is asked. A cube row belongs to
the precinct whose grid holds the centre of its base-resolution (res 11, ≈30 m) cell. The
scope's key (:func:`scope_key`) is part of every cache key, so one chief's cached answer
is never another's. :class:`CurrentScopeSource` picks the signed-in user's scope on each
request, for the callbacks.

**Refresh.** :class:`ReloadingSource` holds the current :class:`DataSource` and reopens
the directory when its fingerprint (manifest, ``cubes/meta.json`` and the cube files: the
wall's :func:`dashboard.views.wall.versions.data_stamp`) changes, so a rebuild of the cubes
reaches the map without a restart; the new source has a new ``version``, so every cache
key changes with it. Cubes that cannot be read (a rebuild half done, a truncated file)
leave the last good data in service and set :attr:`ReloadingSource.problem`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import shapely

from geodata import cubes
from geodata.hexes import str_to_cell
from geodata.store import MANIFEST, StoreError, cubes_dir, has_table, read_manifest, read_table
from layers.grids import area_cells, cell_centres, points_to_zones, zone_cells
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
VISITS_CUBE = "visits"
WINDOW_DAYS = 30
# Visits kept in memory: the longest preset window (a quarter, up to 92 days) and a day.
# Older windows read their visits from disk when asked (DataSource.visits_for).
VISIT_DAYS = 93
# Stays ending this long before a window still matter to it: the Koper dose's 2-hour
# revisit rule plus a 10-minute stop and a 10-minute silence inside a visit (2 h 20 min).
VISIT_MARGIN = pd.Timedelta(hours=3)

COUNTY = "county"
Scope = frozenset[str] | None
"""Precinct ids a user may see; None for the whole area."""

# H3 children do not nest exactly inside their parent: a cell counts as inside a scope
# when it touches the scope grown by this many of its own edge lengths.
CELL_TOLERANCE_EDGES = 1.0
# Scoped views kept per data source (one per distinct precinct list in the users file).
MAX_SCOPES = 64
# How often, at most, ReloadingSource looks at the data directory's fingerprint.
RELOAD_CHECK_SECONDS = 1.0
log = logging.getLogger(__name__)


def scope_key(scope: Scope) -> str:
    """The text naming a scope in cache keys and layer keys: ``county`` or
    ``precincts:["P1","P2"]`` (sorted)."""
    if scope is None:
        return COUNTY
    return "precincts:" + json.dumps(sorted(scope), ensure_ascii=False, separators=(",", ":"))


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
        self._scoped: dict[frozenset[str], ScopedSource] = {}
        self._lock = threading.Lock()

    scope: Scope = None
    scope_key: str = COUNTY

    def for_scope(self, scope: Scope) -> DataSource | ScopedSource:
        """This source as seen by a user with ``scope`` (itself for the whole area)."""
        if scope is None:
            return self
        key = frozenset(scope)
        with self._lock:
            found = self._scoped.get(key)
            if found is None:
                if len(self._scoped) >= MAX_SCOPES:
                    self._scoped.pop(next(iter(self._scoped)))
                found = self._scoped[key] = ScopedSource(self, key)
        return found

    def contains_cell(self, cell: str | int) -> bool:
        """Whether a cell may be shown: any, for the whole area."""
        return True

    def contains_point(self, lng: float, lat: float) -> bool:
        """Whether a point may be selected: anywhere, for the whole area."""
        return True

    def has_place(self, kind: str, place_id: str) -> bool:
        """Whether a precinct, grid or community exists (for the whole area)."""
        return _has_place(self, kind, place_id)

    @cached_property
    def grid_precinct(self) -> dict[str, str]:
        """Grid id -> precinct id."""
        if not len(self.grids) or "precinct_id" not in self.grids:
            return {}
        return dict(
            zip(
                self.grids["grid_id"].astype(str),
                self.grids["precinct_id"].astype(str),
                strict=True,
            )
        )

    def precincts_of_cells(self, cells: npt.ArrayLike) -> npt.NDArray[np.object_]:
        """The precinct id of the grid holding each cell's centre (None outside every grid;
        without grids, the precinct holding it)."""
        c = np.asarray(cells, dtype=np.uint64)
        unique, inverse = np.unique(c, return_inverse=True)
        lng, lat = cell_centres(unique)
        return self._precincts_of_points(lng, lat)[inverse]

    def _precincts_of_points(
        self, lng: npt.ArrayLike, lat: npt.ArrayLike
    ) -> npt.NDArray[np.object_]:
        lng = np.asarray(lng, dtype=np.float64)
        out = np.full(lng.size, None, dtype=object)
        if lng.size == 0:
            return out
        if len(self.grids) and "precinct_id" in self.grids:
            gid = points_to_zones(lng, lat, self.grids, id_col="grid_id")
            found = gid.notna().to_numpy()
            lookup = self.grid_precinct
            out[found] = [lookup.get(str(g)) for g in gid[found]]
        elif len(self.precincts):
            pid = points_to_zones(lng, lat, self.precincts, id_col="precinct_id")
            found = pid.notna().to_numpy()
            out[found] = pid[found].astype(str).to_numpy()
        return out

    @cached_property
    def incident_precincts(self) -> npt.NDArray[np.object_]:
        """The precinct of every row of the incidents cube (by its base cell's centre)."""
        return self.precincts_of_cells(self.incident_cube["cell"].to_numpy())

    @cached_property
    def patrol_precincts(self) -> npt.NDArray[np.object_]:
        """The precinct of every row of the patrol cube (by its base cell's centre)."""
        return self.precincts_of_cells(self.patrol_cube["cell"].to_numpy())

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

    @property
    def visits_since(self) -> pd.Timestamp:
        """The first moment of the windows :attr:`visits` answers (:data:`VISIT_DAYS`)."""
        return self.window[1] - pd.Timedelta(days=VISIT_DAYS)

    @cached_property
    def visits(self) -> pl.DataFrame:
        """The visits table (one row per stay of a unit in a base cell) reaching into the
        last :data:`VISIT_DAYS` days, read once: polars, the unit codes kept as the file's
        Enum (one byte each), ≈38 bytes a row. Exact visits, units, gaps and the Koper dose
        need it (they do not add up in the patrol cube)."""
        return read_visits(self.data_dir, since=self.visits_since - VISIT_MARGIN)

    @cached_property
    def visits_precincts(self) -> npt.NDArray[np.object_]:
        """The precinct of every row of :attr:`visits` (by its base cell's centre), found
        once for every scope that cuts them."""
        return self.precincts_of_cells(self.visits["cell"].to_numpy())

    def visits_for(self, since: pd.Timestamp, until: pd.Timestamp) -> pl.DataFrame:
        """The visits that can matter to the window ``[since, until)``: from memory when
        it lies within :attr:`visits`, otherwise read from disk for that window."""
        if pd.Timestamp(since) >= self.visits_since:
            return visits_window(self.visits, since, until)
        return read_visits(self.data_dir, since=pd.Timestamp(since) - VISIT_MARGIN, until=until)

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

    def scope_cells(self, res: int, scope: str | None = None) -> npt.NDArray[np.uint64]:
        """The cells of the whole area at ``res``: every cell whose centre lies in a grid
        (or, without grids, in the area). Cached per resolution.

        ``scope`` must be None or ``county``: a chief's cells come from their
        :class:`ScopedSource`, never from here.
        """
        if scope not in (None, COUNTY):
            raise ValueError(f"scope {scope!r} asked of the whole-area source")
        key = (res, COUNTY)
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


VISIT_SCHEMA: dict[str, Any] = {
    "unit_id": pl.String,
    "unit_kind": pl.String,
    "cell": pl.UInt64,
    "entered": pl.Datetime("us"),
    "last_fix": pl.Datetime("us"),
    "left": pl.Datetime("us"),
    "fixes": pl.Int32,
}


def read_visits(
    data_dir: Path, *, since: pd.Timestamp | None = None, until: pd.Timestamp | None = None
) -> pl.DataFrame:
    """The stays of the visits cube that end at or after ``since`` and start before
    ``until`` (the filter is pushed into the Parquet read); empty without a visits cube."""
    path = cubes_dir(data_dir) / f"{VISITS_CUBE}.parquet"
    if not path.exists():
        return pl.DataFrame(schema=VISIT_SCHEMA)
    lf = pl.scan_parquet(path).select(list(VISIT_SCHEMA))
    if since is not None:
        lf = lf.filter(pl.col("left") >= pd.Timestamp(since).to_pydatetime())
    if until is not None:
        lf = lf.filter(pl.col("entered") < pd.Timestamp(until).to_pydatetime())
    return lf.collect()


def visits_window(visits: pl.DataFrame, since: pd.Timestamp, until: pd.Timestamp) -> pl.DataFrame:
    """The rows of ``visits`` that can matter to ``[since, until)``: ending no earlier
    than :data:`VISIT_MARGIN` before it, starting before its end."""
    return visits.filter(
        pl.col("left") >= (pd.Timestamp(since) - VISIT_MARGIN).to_pydatetime(),
        pl.col("entered") < pd.Timestamp(until).to_pydatetime(),
    )


def _valid_cell(cell: str | int | None) -> int | None:
    """The cell as an integer if it is a valid H3 cell, else None."""
    try:
        value = str_to_cell(cell) if isinstance(cell, str) else int(cell)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    if not 0 < value < 2**64 or not h3.is_valid_cell(h3.int_to_str(value)):
        return None
    return value


def _has_place(source: Any, kind: str, place_id: str) -> bool:
    tables = {
        "precinct": (source.precincts, "precinct_id"),
        "grid": (source.grids, "grid_id"),
        "community": (source.communities, "community_id"),
    }
    if kind not in tables:
        return False
    frame, column = tables[kind]
    if not len(frame) or column not in frame:
        return False
    return bool((frame[column].astype(str) == str(place_id)).any())


class ScopedSource:
    """A :class:`DataSource` cut to some precincts: every table holds only their rows.

    Parameters
    ----------
    base : DataSource
        The whole area.
    precincts : frozenset of str
        The precinct ids of the scope (ids the data does not know select nothing).
    """

    def __init__(self, base: DataSource, precincts: frozenset[str]) -> None:
        self.base = base
        self.scope: frozenset[str] = precincts
        self.scope_key = scope_key(precincts)
        self.data_dir = base.data_dir
        self.manifest = base.manifest
        self.area_name = base.area_name
        self.version = base.version
        self.window = base.window
        self._scope_cache: dict[int, npt.NDArray[np.uint64]] = {}

    @property
    def last_day(self) -> pd.Timestamp:
        """The data's last day (of the whole area: "today" is the same for everyone)."""
        return self.base.last_day

    @property
    def synthetic(self) -> bool:
        return self.base.synthetic

    @property
    def area(self) -> gpd.GeoDataFrame:
        """The area's boundary (the county outline is not a precinct's data)."""
        return self.base.area

    @cached_property
    def response_units(self) -> pd.DataFrame:
        """The response units inside the scope's precincts.

        A chief's 1-3-5 reach counts their own units only: each jurisdiction answers for
        its own minimum response units, and a neighbour's unit names are not theirs to
        see. (The commander's map, over the whole area, counts every unit.)
        """
        return self._points_inside(self.base.response_units)

    def _keep(self, precinct_ids: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
        return pd.Series(precinct_ids, dtype=object).isin(self.scope).to_numpy(dtype=bool)

    @cached_property
    def incident_cube(self) -> pd.DataFrame:
        """The incidents cube rows of the scope's precincts."""
        cube = self.base.incident_cube
        return cube[self._keep(self.base.incident_precincts)]

    @cached_property
    def patrol_cube(self) -> pd.DataFrame:
        """The patrol cube rows of the scope's precincts."""
        cube = self.base.patrol_cube
        if cube.empty:
            return cube
        return cube[self._keep(self.base.patrol_precincts)]

    def _cut_visits(self, visits: pl.DataFrame) -> pl.DataFrame:
        if visits.is_empty():
            return visits
        keep = self._keep(self.base.precincts_of_cells(visits["cell"].to_numpy()))
        return visits.filter(pl.Series(keep, dtype=pl.Boolean))

    @property
    def visits_since(self) -> pd.Timestamp:
        return self.base.visits_since

    @cached_property
    def visits(self) -> pl.DataFrame:
        """The visits of the scope's precincts (by the centre of each stay's base cell)."""
        visits = self.base.visits
        if visits.is_empty():
            return visits
        return visits.filter(pl.Series(self._keep(self.base.visits_precincts), dtype=pl.Boolean))

    def visits_for(self, since: pd.Timestamp, until: pd.Timestamp) -> pl.DataFrame:
        """As :meth:`DataSource.visits_for`, of the scope's precincts only."""
        if pd.Timestamp(since) >= self.visits_since:
            return visits_window(self.visits, since, until)
        return self._cut_visits(self.base.visits_for(since, until))

    @cached_property
    def precincts(self) -> gpd.GeoDataFrame:
        frame = self.base.precincts
        if not len(frame):
            return frame
        return frame[frame["precinct_id"].astype(str).isin(self.scope)]

    @cached_property
    def grids(self) -> gpd.GeoDataFrame:
        frame = self.base.grids
        if not len(frame) or "precinct_id" not in frame:
            return frame.iloc[0:0] if len(frame) else frame
        return frame[frame["precinct_id"].astype(str).isin(self.scope)]

    @cached_property
    def communities(self) -> pd.DataFrame:
        """The communities whose point lies in the scope's precincts."""
        return self._points_inside(self.base.communities)

    def _points_inside(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not len(frame) or not {"lng", "lat"} <= set(frame.columns):
            return frame.iloc[0:0] if len(frame) else frame
        where = self.base._precincts_of_points(frame["lng"], frame["lat"])
        return frame[self._keep(where)]

    @cached_property
    def geometry(self) -> Any:
        """The scope as one (Multi)Polygon, or None when it holds no precinct."""
        shapes = self.precincts.geometry if len(self.precincts) else self.grids.geometry
        if not len(shapes):
            return None
        return shapely.union_all(np.asarray(shapes.values))

    @cached_property
    def bounds(self) -> list[list[float]]:
        """``[[south, west], [north, east]]`` of the scope (the area's when it is empty):
        a chief's map opens on their jurisdiction."""
        if self.geometry is None or self.geometry.is_empty:
            return self.base.bounds
        west, south, east, north = (float(v) for v in self.geometry.bounds)
        return [[south, west], [north, east]]

    def scope_cells(self, res: int, scope: str | None = None) -> npt.NDArray[np.uint64]:
        """The cells of the scope at ``res`` (centre in one of its grids)."""
        if scope not in (None, self.scope_key):
            raise ValueError(f"scope {scope!r} asked of the source of {self.scope_key}")
        if res not in self._scope_cache:
            if len(self.grids):
                cells = zone_cells(self.grids, res=res, id_col="grid_id")["cell"].to_numpy()
            elif self.geometry is not None:
                cells = area_cells(self.geometry, res=res)
            else:
                cells = np.zeros(0, dtype=np.uint64)
            self._scope_cache[res] = np.asarray(cells, dtype=np.uint64)
        return self._scope_cache[res]

    @cached_property
    def _prepared(self) -> Any:
        if self.geometry is None:
            return None
        shapely.prepare(self.geometry)
        return self.geometry

    def contains_point(self, lng: float, lat: float) -> bool:
        """Whether a point lies in the scope."""
        geom = self._prepared
        return geom is not None and bool(shapely.intersects(geom, shapely.Point(lng, lat)))

    def contains_cell(self, cell: str | int) -> bool:
        """Whether a cell touches the scope (grown by one edge of the cell, since H3
        children poke out of their parents)."""
        value = _valid_cell(cell)
        geom = self._prepared
        if value is None or geom is None:
            return False
        text = h3.int_to_str(value)
        ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(text)]
        edge_deg = h3.average_hexagon_edge_length(h3.get_resolution(text), unit="m") / 111_000
        hexagon = shapely.Polygon(ring).buffer(edge_deg * CELL_TOLERANCE_EDGES)
        return bool(shapely.intersects(geom, hexagon))

    def has_place(self, kind: str, place_id: str) -> bool:
        """Whether a precinct, grid or community of the scope has this id."""
        return _has_place(self, kind, place_id)

    @cached_property
    def outlines(self) -> dict[str, dict[str, Any]]:
        """The area's outline, and the outlines of the scope's precincts and grids only."""
        full = self.base.outlines
        keep = {
            "precincts": set(self.precincts["precinct_id"].astype(str))
            if len(self.precincts)
            else set(),
            "grids": set(self.grids["grid_id"].astype(str)) if len(self.grids) else set(),
        }
        ids = {"precincts": "precinct_id", "grids": "grid_id"}
        out = {"area": full["area"]}
        for kind, wanted in keep.items():
            out[kind] = {
                "type": "FeatureCollection",
                "features": [
                    f for f in full[kind]["features"] if f["properties"][ids[kind]] in wanted
                ],
            }
        return out


class CurrentScopeSource:
    """The data source as the signed-in user may see it, chosen anew on each access.

    Callbacks are registered once with one source; this stands in for it and hands every
    attribute access to ``base.for_scope(scope_of())`` — the scope of the user of the
    request being served. ``scope_of`` raises when there is no user, so nothing is ever
    served unscoped by mistake.
    """

    def __init__(self, base: DataSource, scope_of: Callable[[], Scope]) -> None:
        self._base = base
        self._scope_of = scope_of

    @property
    def current(self) -> DataSource | ScopedSource:
        """The scoped source of the current request's user."""
        return self._base.for_scope(self._scope_of())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current, name)


def check_cubes(data_dir: Path) -> None:
    """Raise :class:`DataDirError` unless every cube file's Parquet footer can be read
    (a truncated or half-written file cannot): a cheap check of the whole directory,
    since the patrol and visits cubes are read only when first needed."""
    for path in sorted(cubes_dir(data_dir).glob("*.parquet")):
        try:
            pq.read_metadata(path)
        except Exception as exc:  # pyarrow raises several kinds for a damaged file
            raise DataDirError(f"cube {path.name} cannot be read: {exc}") from None


class ReloadingSource:
    """The data directory's current :class:`DataSource`, reopened when the data change.

    Every attribute is the current source's (``for_scope`` included, so
    :class:`CurrentScopeSource` over this one serves fresh data). The directory's
    fingerprint is read at most every ``check_seconds``; when it changed, the cubes are
    checked (:func:`check_cubes`) and the source reopened. A directory that cannot be
    opened keeps the last good source in service and sets :attr:`problem` (the page
    shows a banner, ``/healthz`` answers 503) until a later fingerprint opens cleanly.

    **Staged switch** (:meth:`stage`, what the cache warm-up asks for): new data opened
    cleanly are first held as :attr:`pending`, while the data in service — whose views
    are warm — go on answering; the warm-up warms the pending version's most asked views
    and then puts it in service (:meth:`promote`), or the pending version goes into
    service by itself ``seconds`` after it was opened (a warm-up that stalls never keeps
    old data in service longer than that). A newer change while one is pending replaces
    it, but not its deadline.

    Parameters
    ----------
    source : DataSource
        The source just opened.
    check_seconds : float
        Least time between two looks at the directory.
    clock : callable, optional
        Monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        source: DataSource,
        check_seconds: float = RELOAD_CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._stamp = _data_stamp(source.data_dir)
        self._failed_stamp: str | None = None
        self._check_seconds = check_seconds
        self._clock = clock
        self._next_check = clock() + check_seconds
        self._lock = threading.Lock()
        self.problem: str | None = None
        """Why the data on disk cannot be served (None when they can)."""
        self.reloads = 0
        """How many times the source was reopened."""
        self._stage_seconds = 0.0
        # (source, stamp, monotonic deadline) of data opened but not yet in service.
        self._pending: tuple[DataSource, str, float] | None = None

    def stage(self, seconds: float) -> None:
        """From now on, hold new data back up to ``seconds`` (see the class docstring);
        0 puts new data in service as soon as they are opened (the default)."""
        self._stage_seconds = max(0.0, float(seconds))

    @property
    def pending(self) -> DataSource | None:
        """New data opened but not yet in service (None when there are none)."""
        pending = self._pending
        return None if pending is None else pending[0]

    def stamp_of(self, source: DataSource) -> str:
        """The fingerprint of ``source``: the one in service or the pending one."""
        pending = self._pending
        if pending is not None and pending[0] is source:
            return pending[1]
        return self._stamp

    def promote(self, source: DataSource) -> bool:
        """Put the pending ``source`` in service (no-op unless it is the pending one)."""
        with self._lock:
            pending = self._pending
            if pending is None or pending[0] is not source:
                return False
            self._swap(pending[0], pending[1])
            return True

    def _swap(self, fresh: DataSource, stamp: str) -> None:
        self._source, self._stamp, self._failed_stamp = fresh, stamp, None
        self._pending = None
        self.problem = None
        self.reloads += 1
        log.info("data in service: version %s", fresh.version)

    @property
    def current(self) -> DataSource:
        """The current source (reopened first if the data changed on disk)."""
        if self._clock() >= self._next_check:
            self.refresh(wait=False)
        pending = self._pending
        if pending is not None and self._clock() >= pending[2]:
            self.promote(pending[0])  # held long enough: in service, warm or not
        return self._source

    @property
    def stamp(self) -> str:
        """The fingerprint of the data in service."""
        return self._stamp

    def refresh(self, *, wait: bool = True) -> bool:
        """Look at the data directory now; reopen it if it changed. Whether it did (the new
        data are in service, or :attr:`pending` when held back, see :meth:`stage`).

        With ``wait=False`` a refresh already under way in another thread is not waited
        for: the caller goes on with the data in service (requests never queue behind a
        reopen, which takes seconds on a county's cubes).
        """
        if not self._lock.acquire(blocking=wait):
            return False
        try:
            self._next_check = self._clock() + self._check_seconds
            stamp = _data_stamp(self._source.data_dir)
            staged = None if self._pending is None else self._pending[1]
            if stamp in (self._stamp, self._failed_stamp, staged):
                return False
            try:
                check_data_dir(self._source.data_dir)
                check_cubes(self._source.data_dir)
                fresh = DataSource(self._source.data_dir)
            except Exception as exc:  # a rebuild in progress or a damaged file
                self._failed_stamp = stamp
                self.problem = str(exc)
                log.warning("data changed on disk but cannot be opened; serving the last good")
                log.warning("data problem: %s", exc)
                return False
            if self._stage_seconds > 0:
                # A newer change replaces the pending data but not its deadline: changes
                # coming faster than the hold never keep the old data in service.
                deadline = self._clock() + self._stage_seconds
                if self._pending is not None:
                    deadline = min(deadline, self._pending[2])
                self._pending = (fresh, stamp, deadline)
                self._failed_stamp, self.problem = None, None
                log.info(
                    "data reopened: version %s held back up to %.0f s for the warm-up",
                    fresh.version,
                    self._stage_seconds,
                )
                return True
            self._swap(fresh, stamp)
            return True
        finally:
            self._lock.release()

    def for_scope(self, scope: Scope) -> DataSource | ScopedSource:
        """The current source as seen by a user with ``scope``."""
        return self.current.for_scope(scope)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current, name)


def _data_stamp(data_dir: Path) -> str:
    # Imported here: dashboard.views imports this module.
    from dashboard.views.wall.versions import data_stamp

    return data_stamp(data_dir)
