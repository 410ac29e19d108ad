"""Reading what an export needs from a data directory, so that ``layers`` never opens files.

:func:`load_export_inputs` reads the tables and cubes that the asked layers need (the
layers say which, in :data:`layers.export.LAYERS`) into an :class:`ExportInputs`, which
:func:`layers.export.build_export` turns into a layer. The software version comes from
``pyproject.toml`` (or the installed package), the synthetic flag from the manifest.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd
import polars as pl

from geodata.cubes import load_cube, load_meta
from geodata.cubes.coarser import to_pandas
from geodata.snapshot import Snapshot, visits_window
from geodata.store import StoreError, has_table, read_manifest, read_table

PROJECT: Final = "prevention-network-map"
TABLES: Final = (
    "area",
    "precincts",
    "grids",
    "communities",
    "response_units",
    "population",
)
CUBES: Final = ("incidents", "patrol", "visits")


@dataclass(frozen=True)
class ExportInputs:
    """The frames an export is computed from; None where a table or cube was not read.

    Attributes
    ----------
    manifest : dict
        The data directory's manifest (``synthetic``, ``note``, ``time_range``...).
    software_version : str
        The project's version, for the metadata.
    tables : dict
        Data sets of :mod:`geodata.schema` by kind (``area``, ``precincts``, ``grids`` as
        GeoDataFrames in WGS84; ``communities``, ``response_units``, ``population``).
    cubes : dict
        Hex cubes by name (``incidents``, ``patrol``, ``visits``), as
        :func:`geodata.cubes.load_cube` gives them.
    cube_meta : dict
        The cubes' ``meta.json`` ({} without cubes).
    """

    manifest: dict[str, Any]
    software_version: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    cubes: dict[str, pd.DataFrame] = field(default_factory=dict)
    cube_meta: dict[str, Any] = field(default_factory=dict)
    zones: Callable[[int], pd.DataFrame] | None = None
    """The area's cells at a resolution with the precinct and grid of each (``cell``,
    ``precinct_id``, ``grid_id``), as the map has them
    (:meth:`geodata.snapshot.Snapshot.zone_frame`); None: filled from the grids."""
    source: Any = None
    """The data snapshot (:class:`geodata.snapshot.Snapshot`) the map computes from: the
    layers exported as the registry computes them need it; None: not given."""
    layer_result: Callable[[Any], Any] | None = None
    """The map's own (cached) computation of a registry layer, ``LayerParams`` →
    ``LayerResult``: the dashboard passes its layer cache, so an export of a layer the map
    has drawn is the very result it drew, not a second computation; None: computed here."""

    def table(self, kind: str) -> pd.DataFrame | None:
        """Data set ``kind``, or None when it was not read (or is not in the store)."""
        return self.tables.get(kind)

    def cube(self, name: str) -> pd.DataFrame | None:
        """Cube ``name``, or None when it was not read."""
        return self.cubes.get(name)

    @property
    def synthetic(self) -> bool:
        """Whether the data set is synthetic (the demo)."""
        return bool(self.manifest.get("synthetic", False))

    def area_polygon(self) -> gpd.GeoDataFrame | None:
        """The area boundary table, if read."""
        area = self.tables.get("area")
        return area if isinstance(area, gpd.GeoDataFrame) else None


@lru_cache(maxsize=1)
def software_version() -> str:
    """The project's version: ``pyproject.toml`` of this source tree, else the installed
    distribution's, else ``"unknown"``."""
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    try:
        with pyproject.open("rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        return importlib_metadata.version(PROJECT)
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


def load_export_inputs(
    data_dir: Path | str,
    *,
    tables: Iterable[str] = TABLES,
    cubes: Iterable[str] = ("incidents",),
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    snapshot: bool = False,
) -> ExportInputs:
    """Read the tables and cubes an export needs.

    Parameters
    ----------
    data_dir : Path or str
        A data directory (``python -m geodata demo`` or imports, then ``cubes``).
    tables : iterable of str
        Data sets to read; one the store does not hold is left out (the layer that
        needs it says so), except ``area``, without which there is no map.
    cubes : iterable of str
        Cubes to read. The incidents cube is read whole (small: one row per cell, hour
        and category); ``patrol`` only within ``since``/``until``, ``visits`` up to
        ``until`` (a stay that began before the window still counts as presence in it).
    since, until : datetime, optional
        Window for the large patrol cubes, naive China Standard Time.
    snapshot : bool
        Also open the directory as the map does (:class:`geodata.snapshot.Snapshot`,
        :attr:`ExportInputs.source`, with its zones): the layers the registry computes
        (the gap layer, change, emerging hot spots, the Koper dose) need it.

    Returns
    -------
    ExportInputs

    Raises
    ------
    StoreError
        If the directory is no data directory, or a cube asked for is missing.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise StoreError(f"no data directory at {root}")
    manifest = read_manifest(root)
    if not manifest and not has_table(root, "area"):
        raise StoreError(
            f"{root} holds no data set; build one with: python -m geodata demo --out {root}"
        )
    read: dict[str, pd.DataFrame] = {}
    for kind in dict.fromkeys(["area", *tables]):
        if has_table(root, kind):
            read[kind] = read_table(root, kind)
        elif kind == "area":
            raise StoreError(f"{root} has no area boundary (area.parquet)")
    loaded: dict[str, pd.DataFrame] = {}
    names = list(dict.fromkeys(cubes))
    meta = load_meta(root) if names else {}
    for name in names:
        if name == "incidents":
            loaded[name] = load_cube(root, name)
        elif name == "visits":
            loaded[name] = load_cube(root, name, end=until)
        else:
            loaded[name] = load_cube(root, name, start=since, end=until)
    source = None
    if snapshot:
        source = Snapshot(root)
    return ExportInputs(
        manifest=manifest,
        software_version=software_version(),
        tables=read,
        cubes=loaded,
        cube_meta=meta,
        zones=source.zone_frame if source is not None else None,
        source=source,
    )


def snapshot_inputs(
    snapshot: Any,
    *,
    cubes: Iterable[str] = ("incidents",),
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> ExportInputs:
    """What an export needs, taken from a :class:`geodata.snapshot.Snapshot` — the tables,
    cubes and zones the map computes from, so an exported cell is the map's cell.

    ``patrol`` rows are those of ``[since, until)``, ``visits`` those that can matter to
    it (the snapshot's :meth:`~geodata.snapshot.Snapshot.visits_for`, cut by
    :func:`~geodata.snapshot.visits_window`).
    """
    tables = {
        kind: frame
        for kind in TABLES
        if len(frame := getattr(snapshot, kind) if kind != "population" else _population(snapshot))
    }
    loaded: dict[str, pd.DataFrame] = {}
    for name in dict.fromkeys(cubes):
        if name == "incidents":
            loaded[name] = snapshot.incident_cube
        elif name == "patrol":
            rows = snapshot.patrol_cube
            if since is not None and "hour" in rows.columns:
                rows = rows.filter(pl.col("hour") >= pd.Timestamp(since))
            if until is not None and "hour" in rows.columns:
                rows = rows.filter(pl.col("hour") < pd.Timestamp(until))
            loaded[name] = to_pandas(rows)
        elif name == "visits":
            start = pd.Timestamp(since) if since is not None else snapshot.visits_since
            end = pd.Timestamp(until) if until is not None else snapshot.window[1]
            visits = visits_window(snapshot.visits_for(start, end), start, end)
            codes = [c for c in ("unit_id", "unit_kind") if c in visits.columns]
            loaded[name] = visits.with_columns(pl.col(codes).cast(pl.String)).to_pandas()
    meta: dict[str, Any] = load_meta(snapshot.data_dir)
    return ExportInputs(
        manifest=snapshot.manifest,
        software_version=software_version(),
        tables=tables,
        cubes=loaded,
        cube_meta=meta,
        zones=snapshot.zone_frame,
        source=snapshot,
    )


def _population(snapshot: Any) -> pd.DataFrame:
    root = Path(snapshot.data_dir)
    return read_table(root, "population") if has_table(root, "population") else pd.DataFrame()
