"""One version of a data directory, as every reader sees it: :class:`Snapshot`.

A snapshot is opened once per data version (the map, the wall and the exports share it)
and never changes: a rebuild of the cubes or a new import is a new snapshot with a new
:attr:`Snapshot.version`. Its tables and cubes are read when first asked for (the
incidents cube and the area at once, so a broken directory fails at open, not in a
request) and kept.

What it holds, for the layers (:mod:`layers.registry` computes every layer from it, for
the whole area):

* the area, precincts, grids, communities and response units (WGS84);
* the cubes (:mod:`geodata.cubes`) and the visits table of the recent days;
* :meth:`Snapshot.zones`: every cell of the area at a resolution with the precinct and
  grid that hold its centre — decided once, so a user's scope is a mask on cells and no
  request joins points to polygons;
* :attr:`Snapshot.versions`: a fingerprint per table and cube, so that a cache key can name
  only what a layer reads (new incidents do not make the response reach cold).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl
import shapely

from geodata import cubes
from geodata.cubes.mapped import mapped
from geodata.cubes.tables import empty
from geodata.limits import now_cst
from geodata.store import (
    MANIFEST,
    StoreError,
    cubes_dir,
    file_identity,
    has_table,
    read_manifest,
    read_table,
)

WINDOW_DAYS: Final = 30
"""The default window: the last 30 whole days of the data."""
VISIT_DAYS: Final = 93
"""Visits kept in memory: the longest preset window (a quarter, up to 92 days) and a day.
Older windows read their visits from disk when asked (:meth:`Snapshot.visits_for`)."""
VISIT_MARGIN: Final = pd.Timedelta(hours=3)
"""Stays ending this long before a window still matter to it: the Koper dose's 2-hour
revisit rule plus a 10-minute stop and a 10-minute silence inside a visit."""

# Outline simplification: ~20 m in degrees at 30°N, below a pixel up to zoom ~12, and
# coordinates on a 1e-5° grid (~1 m). Enough for outlines; analytics use the real shapes.
SIMPLIFY_DEGREES: Final = 0.0002
PRECISION_DEGREES: Final = 1e-5
OUTLINE_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "area": ("code", "name"),
    "precincts": ("precinct_id", "name"),
    "grids": ("grid_id", "name", "precinct_id"),
}
TABLES: Final = ("area", "precincts", "grids", "communities", "response_units", "population")
NO_ZONE: Final = -1
"""The zone code of a cell in no precinct (or grid)."""


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
    if not (cubes_dir(data_dir) / "incidents.parquet").exists():
        raise DataDirError(
            f"{data_dir} has no hex cubes yet; build them with: "
            f"python -m geodata cubes --data {data_dir}"
        )
    try:
        cubes.check_format(data_dir)
    except StoreError as exc:
        raise DataDirError(str(exc)) from None


def content_digest(path: Path) -> str:
    """A digest of a file's bytes ("" when it does not exist). Rebuilt cubes with the same
    content keep it, so what was computed from them stays valid (≈1 GB/s)."""
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, lambda: hashlib.blake2b(digest_size=16)).hexdigest()
    except FileNotFoundError:
        return ""


def window_end(hours: pd.Series, now: pd.Timestamp | None = None) -> pd.Timestamp:
    """The end of the default window: the midnight after the newest hour not after ``now``
    (default: the clock, naive CST), so that one row dated 2099 (or 9999) never anchors
    the map's window; the midnight after ``now`` when every hour lies after it."""
    now = now_cst() if now is None else pd.Timestamp(now)
    values = pd.Series(hours)
    past = values[values <= now]
    newest = pd.Timestamp(past.max()) if len(past) else now
    return newest.normalize() + pd.Timedelta(days=1)


def _digest(parts: Iterable[str]) -> str:
    return hashlib.blake2b("|".join(parts).encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Zones:
    """The cells of the area at one resolution and the zones holding their centres.

    ``cells`` is sorted and unique; ``precinct`` and ``grid`` are codes into the
    snapshot's :attr:`Snapshot.precinct_ids` and :attr:`Snapshot.grid_ids`
    (:data:`NO_ZONE` for none).
    """

    res: int
    cells: npt.NDArray[np.uint64]
    precinct: npt.NDArray[np.int32]
    grid: npt.NDArray[np.int32]

    def codes_of(self, cells: npt.ArrayLike) -> npt.NDArray[np.int32]:
        """The precinct code of each cell (:data:`NO_ZONE` for a cell not in the area)."""
        c = np.asarray(cells, dtype=np.uint64)
        return _lookup(self.cells, self.precinct, c)

    def grid_codes_of(self, cells: npt.ArrayLike) -> npt.NDArray[np.int32]:
        """The grid code of each cell (:data:`NO_ZONE` for a cell not in any grid)."""
        c = np.asarray(cells, dtype=np.uint64)
        return _lookup(self.cells, self.grid, c)


def _lookup(
    keys: npt.NDArray[np.uint64], values: npt.NDArray[np.int32], asked: npt.NDArray[np.uint64]
) -> npt.NDArray[np.int32]:
    out = np.full(asked.size, NO_ZONE, dtype=np.int32)
    if not keys.size or not asked.size:
        return out
    pos = np.searchsorted(keys, asked)
    pos[pos >= keys.size] = 0
    found = keys[pos] == asked
    out[found] = values[pos[found]]
    return out


class Snapshot:
    """A data directory at one version: manifest, tables, cubes, zones (see the module).

    Parameters
    ----------
    data_dir : Path
        A data directory built by ``python -m geodata demo`` or imports, with cubes.

    Raises
    ------
    DataDirError
        If the directory is missing, holds no data set, has no cubes, or no incidents.
    """

    def __init__(self, data_dir: Path | str) -> None:
        data_dir = Path(data_dir)
        check_data_dir(data_dir)
        self.data_dir = data_dir
        self.manifest: dict[str, Any] = read_manifest(data_dir)
        self.versions: dict[str, str] = self._versions()
        self.version: str = f"{data_dir.resolve()}:{_digest(self.versions.values())}"
        area = self.area
        self.area_name = str(area["name"].iloc[0]) if len(area) and "name" in area else ""
        west, south, east, north = (float(v) for v in area.total_bounds)
        self.bounds: list[list[float]] = [[south, west], [north, east]]
        cube = self.incident_cube
        if cube.empty:
            raise DataDirError(f"{data_dir} has no incidents in its cube; import incidents first")
        until = window_end(cube["hour"])
        self.window: tuple[pd.Timestamp, pd.Timestamp] = (
            until - pd.Timedelta(days=WINDOW_DAYS),
            until,
        )
        self._lock = threading.Lock()
        self._zones: dict[int, Zones] = {}

    # ------------------------------------------------------------------ versions

    def _versions(self) -> dict[str, str]:
        d = self.data_dir
        out = {"manifest": content_digest(d / MANIFEST)}
        for kind in TABLES:
            out[kind] = content_digest(d / f"{kind}.parquet")
        cube_dir = cubes_dir(d)
        for name in (*cubes.CUBE_NAMES, "cells"):
            out[f"cube:{name}"] = content_digest(cube_dir / f"{name}.parquet")
        return out

    def version_of(self, reads: Iterable[str]) -> str:
        """A fingerprint of the named tables and cubes only (``cube:incidents``,
        ``grids``…): what a cache key of a computation reading just those holds."""
        names = sorted(set(reads))
        unknown = [n for n in names if n not in self.versions]
        if unknown:
            raise ValueError(f"unknown tables {unknown}; known: {sorted(self.versions)}")
        return f"{self.data_dir.resolve()}:{_digest(f'{n}={self.versions[n]}' for n in names)}"

    # ------------------------------------------------------------------ tables

    def _table(self, kind: str) -> pd.DataFrame:
        if not has_table(self.data_dir, kind):
            return pd.DataFrame()
        return read_table(self.data_dir, kind)

    @cached_property
    def area(self) -> gpd.GeoDataFrame:
        """The area (county) with its geometry (WGS84)."""
        return read_table(self.data_dir, "area")

    @cached_property
    def precincts(self) -> gpd.GeoDataFrame:
        """Precincts with their geometry (WGS84); empty if not imported."""
        return self._table("precincts")

    @cached_property
    def grids(self) -> gpd.GeoDataFrame:
        """Management grids with their geometry (WGS84); empty if not imported."""
        return self._table("grids")

    @cached_property
    def communities(self) -> pd.DataFrame:
        """Communities (points) of the safe-community programme; empty if not imported."""
        return self._table("communities")

    @cached_property
    def response_units(self) -> pd.DataFrame:
        """Minimum emergency response units; empty if not imported."""
        return self._table("response_units")

    @property
    def synthetic(self) -> bool:
        """Whether the data is synthetic (the page then says so in a banner)."""
        return bool(self.manifest.get("synthetic", False))

    @property
    def last_day(self) -> pd.Timestamp:
        """The data's last day (midnight): "today" for every window preset."""
        return self.window[1] - pd.Timedelta(days=1)

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

    # ------------------------------------------------------------------ cubes

    @cached_property
    def incident_cube(self) -> pd.DataFrame:
        """The incidents cube: cell (uint64), hour, category, count, severity."""
        return cubes.load_cube(self.data_dir, "incidents")

    @cached_property
    def patrol_cube(self) -> pl.DataFrame:
        """The patrol cube (cell, its exact coarser cells, hour, unit_kind, fixes, units,
        dwell_s, visits), in the build's order of hour; empty when the data set has no
        patrol fixes. Polars, as the layers read it (a pandas copy cost the county demo
        ≈330 MB more per worker and a conversion per layer), memory-mapped from an Arrow
        copy that the workers share (:mod:`geodata.cubes.mapped`)."""
        path = cubes_dir(self.data_dir) / "patrol.parquet"
        if not path.exists():
            return empty("patrol")
        return mapped(path, cubes.scan_cube(self.data_dir, "patrol").collect)

    @property
    def visits_since(self) -> pd.Timestamp:
        """The first moment of the windows :attr:`visits` answers (:data:`VISIT_DAYS`)."""
        return self.window[1] - pd.Timedelta(days=VISIT_DAYS)

    @cached_property
    def visits(self) -> pl.DataFrame:
        """The visits table (one row per stay of a unit in a cell) reaching into the last
        :data:`VISIT_DAYS` days, read once: polars, the unit codes kept as the file's
        Enum, memory-mapped from an Arrow copy that the workers share
        (:mod:`geodata.cubes.mapped`). Exact visits, units, gaps and the Koper dose need it."""
        since = self.visits_since - VISIT_MARGIN
        path = cubes_dir(self.data_dir) / "visits.parquet"
        if not path.exists():
            return read_visits(self.data_dir, since=since)
        return mapped(path, lambda: read_visits(self.data_dir, since=since), key=str(since))

    def visits_for(self, since: pd.Timestamp, until: pd.Timestamp) -> pl.DataFrame:
        """A visits table holding every visit that can matter to ``[since, until)``: the
        whole of :attr:`visits` when the window lies within it (no copy: the layers cut
        the window with the columns they read, 40-100 ms less than a copy of all of them),
        otherwise read from disk for that window. :func:`visits_window` cuts it."""
        if pd.Timestamp(since) >= self.visits_since:
            return self.visits
        return read_visits(self.data_dir, since=pd.Timestamp(since) - VISIT_MARGIN, until=until)

    # ------------------------------------------------------------------ zones

    @cached_property
    def precinct_ids(self) -> tuple[str, ...]:
        """Every precinct id (of the precincts table and of the grids), sorted; the
        codes of :class:`Zones` index this."""
        ids = set(self.grid_precinct.values())
        if len(self.precincts) and "precinct_id" in self.precincts:
            ids |= set(self.precincts["precinct_id"].astype(str))
        return tuple(sorted(ids))

    @cached_property
    def grid_ids(self) -> tuple[str, ...]:
        """Every grid id, sorted; the grid codes of :class:`Zones` index this."""
        if not len(self.grids):
            return ()
        return tuple(sorted(self.grids["grid_id"].astype(str)))

    def precinct_codes(self, ids: Iterable[str]) -> npt.NDArray[np.int32]:
        """The codes of some precinct ids (ids the data do not know are left out)."""
        index = {p: i for i, p in enumerate(self.precinct_ids)}
        return np.asarray(sorted(index[p] for p in ids if p in index), dtype=np.int32)

    def zones(self, res: int) -> Zones:
        """The area's cells at ``res`` with the precinct and grid holding each centre
        (read from the cubes' ``cells.parquet``, kept)."""
        found = self._zones.get(res)
        if found is not None:
            return found
        with self._lock:
            if res not in self._zones:
                self._zones[res] = self._read_zones(res)
            return self._zones[res]

    def _read_zones(self, res: int) -> Zones:
        frame = _zone_frame(self, res)
        cells = frame["cell"].to_numpy().astype(np.uint64)
        order = np.argsort(cells, kind="stable")
        precinct_index = {p: i for i, p in enumerate(self.precinct_ids)}
        grid_index = {g: i for i, g in enumerate(self.grid_ids)}
        precinct = np.asarray(
            [precinct_index.get(p, NO_ZONE) if p is not None else NO_ZONE
             for p in frame["precinct_id"].to_list()],
            dtype=np.int32,
        )  # fmt: skip
        grid = np.asarray(
            [grid_index.get(g, NO_ZONE) if g is not None else NO_ZONE
             for g in frame["grid_id"].to_list()],
            dtype=np.int32,
        )  # fmt: skip
        return Zones(res, cells[order], precinct[order], grid[order])

    def zone_frame(self, res: int) -> pd.DataFrame:
        """:meth:`zones` as a frame: ``cell`` (sorted), ``precinct_id`` and ``grid_id``
        (str; missing where none), what an export files each cell under."""
        z = self.zones(res)
        precincts = np.asarray([*self.precinct_ids, None], dtype=object)
        grids = np.asarray([*self.grid_ids, None], dtype=object)
        return pd.DataFrame(
            {
                "cell": z.cells,
                "precinct_id": pd.array(precincts[z.precinct], dtype="str"),
                "grid_id": pd.array(grids[z.grid], dtype="str"),
            }
        )

    def area_cells(self, res: int) -> npt.NDArray[np.uint64]:
        """The study region at ``res``: every cell of :meth:`zones` (sorted)."""
        return self.zones(res).cells

    def precincts_of_points(self, lng: npt.ArrayLike, lat: npt.ArrayLike) -> list[str | None]:
        """The precinct id holding each point (through its grid, or the precincts table
        without grids); None outside every one. For tables of points (communities,
        units), computed once per snapshot by their callers."""
        lng_a = np.asarray(lng, dtype=np.float64)
        lat_a = np.asarray(lat, dtype=np.float64)
        out: list[str | None] = [None] * lng_a.size
        if not lng_a.size:
            return out
        points = shapely.points(lng_a, lat_a)
        if len(self.grids) and "precinct_id" in self.grids:
            hit = _containing(self.grids, points)
            ids = self.grids["precinct_id"].astype(str).to_numpy()
        elif len(self.precincts):
            hit = _containing(self.precincts, points)
            ids = self.precincts["precinct_id"].astype(str).to_numpy()
        else:
            return out
        return [None if h < 0 else str(ids[h]) for h in hit]

    @cached_property
    def unit_precincts(self) -> list[str | None]:
        """The precinct of each response unit (row order of :attr:`response_units`)."""
        units = self.response_units
        if not len(units):
            return []
        return self.precincts_of_points(units["lng"], units["lat"])

    @cached_property
    def community_precincts(self) -> list[str | None]:
        """The precinct of each community (row order of :attr:`communities`)."""
        com = self.communities
        if not len(com) or not {"lng", "lat"} <= set(com.columns):
            return [None] * len(com)
        return self.precincts_of_points(com["lng"], com["lat"])

    # ------------------------------------------------------------------ outlines

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


def _containing(zones: gpd.GeoDataFrame, points: npt.NDArray[np.object_]) -> npt.NDArray[np.intp]:
    """The row of ``zones`` whose polygon holds each point (-1: none); a point on a
    shared boundary goes to the zone of the lowest row."""
    tree = shapely.STRtree(np.asarray(zones.geometry.values))
    pairs = tree.query(points, predicate="intersects")
    out = np.full(len(points), -1, dtype=np.intp)
    if pairs.size:
        order = np.lexsort((pairs[1], pairs[0]))
        p, z = pairs[0][order], pairs[1][order]
        first = np.ones(p.size, dtype=bool)
        first[1:] = p[1:] != p[:-1]
        out[p[first]] = z[first]
    return out


def _zone_frame(snapshot: Snapshot, res: int) -> pd.DataFrame:
    """``cell``, ``precinct_id``, ``grid_id`` of the area's cells at ``res``."""
    path = cubes_dir(snapshot.data_dir) / "cells.parquet"
    if path.exists():
        frame = (
            pl.read_parquet(path)
            .filter(pl.col("res") == res)
            .select("cell", "precinct_id", "grid_id")
        )
        return frame.to_pandas()
    # Cubes built before the cells table: the zones from the grids (a spatial fill).
    from layers.grids import area_cells, zone_cells

    if len(snapshot.grids):
        keep = ("precinct_id",) if "precinct_id" in snapshot.grids else ()
        out = zone_cells(snapshot.grids, res=res, id_col="grid_id", keep=keep)
        return pd.DataFrame(
            {
                "cell": out["cell"].to_numpy(dtype=np.uint64),
                "precinct_id": out["precinct_id"]
                .astype(object)
                .where(out["precinct_id"].notna(), None)
                if "precinct_id" in out
                else None,
                "grid_id": out["grid_id"].astype(str),
            }
        )
    if len(snapshot.precincts):
        out = zone_cells(snapshot.precincts, res=res, id_col="precinct_id")
        return pd.DataFrame(
            {
                "cell": out["cell"].to_numpy(dtype=np.uint64),
                "precinct_id": out["precinct_id"].astype(str),
                "grid_id": None,
            }
        )
    cells = area_cells(snapshot.area.geometry.union_all(), res=res)
    return pd.DataFrame({"cell": cells, "precinct_id": None, "grid_id": None})


VISIT_SCHEMA: Final[dict[str, Any]] = {
    "unit_id": pl.String,
    "unit_kind": pl.String,
    "cell": pl.UInt64,
    **{f"cell_{r}": pl.UInt64 for r in cubes.COARSE_RES},  # each stay's exact coarser cells
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
    path = cubes_dir(data_dir) / "visits.parquet"
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


__all__ = [
    "NO_ZONE",
    "VISIT_DAYS",
    "VISIT_MARGIN",
    "WINDOW_DAYS",
    "DataDirError",
    "Snapshot",
    "Zones",
    "check_data_dir",
    "file_identity",
    "read_visits",
    "visits_window",
    "window_end",
]
