"""The data the dashboard serves, and what each user may see of it.

**One snapshot per data version** (:class:`geodata.snapshot.Snapshot`), shared by the
map, the wall and the exports of a worker. :class:`ReloadingSource` holds the snapshot in
service and opens a new one when the data directory's fingerprint changes, so a rebuild
of the cubes reaches every page without a restart; cubes that cannot be read leave the
last good snapshot in service and set :attr:`ReloadingSource.problem`.

**One view per request** (:class:`View`): a snapshot and a user's scope (precinct ids,
None for the whole area), resolved once at the edge of a request by :class:`Resolver`
and passed down, so one callback never mixes two versions or two scopes. Layers are
computed for the whole area (:mod:`layers.registry`); a view cuts them to its scope in
one function (:meth:`View.cut`), and every table a page shows (outlines, places, the
panel's nearby communities) comes through the view, already cut.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Collection
from functools import cached_property
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import shapely
from flask import g, has_request_context

from geodata.hexes import NULL_CELL, cells_res, cells_to_lnglat, str_to_cell
from geodata.snapshot import DataDirError, Snapshot, check_data_dir
from geodata.store import cubes_dir
from layers.registry import LayerResult, cut, scope_codes

COUNTY: Final = "county"
Scope = frozenset[str] | None
"""Precinct ids a user may see; None for the whole area."""

# Views kept per snapshot (one per distinct precinct list in the users file).
MAX_VIEWS: Final = 64
# How often, at most, ReloadingSource looks at the data directory's fingerprint.
RELOAD_CHECK_SECONDS: Final = 1.0
log = logging.getLogger(__name__)

__all__ = [
    "COUNTY",
    "DataDirError",
    "ReloadingSource",
    "Resolver",
    "Scope",
    "Snapshot",
    "View",
    "check_cubes",
    "check_data_dir",
    "scope_key",
]


def scope_key(scope: Scope) -> str:
    """The text naming a scope in cache keys and layer keys: ``county`` or
    ``precincts:["P1","P2"]`` (sorted)."""
    if scope is None:
        return COUNTY
    return "precincts:" + json.dumps(sorted(scope), ensure_ascii=False, separators=(",", ":"))


def _valid_cell(cell: str | int | None) -> int | None:
    """The cell as an integer if it is a valid H3 cell, else None."""
    try:
        value = str_to_cell(cell) if isinstance(cell, str) else int(cell)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    if not 0 < value < 2**64 or not h3.is_valid_cell(h3.int_to_str(value)):
        return None
    return value


class View:
    """What a user with ``scope`` may see of ``snapshot``.

    Parameters
    ----------
    snapshot : Snapshot
        The data version.
    scope : frozenset of str or None
        Precinct ids (ids the data do not know select nothing); None: the whole area.
    """

    def __init__(self, snapshot: Snapshot, scope: Scope) -> None:
        self.snapshot = snapshot
        self.scope: Scope = None if scope is None else frozenset(scope)
        self.scope_key = scope_key(self.scope)
        self.codes: tuple[int, ...] | None = scope_codes(snapshot.precinct_ids, self.scope)

    # The data version and what every page shows of it.
    @property
    def version(self) -> str:
        return self.snapshot.version

    @property
    def data_dir(self) -> Path:
        return self.snapshot.data_dir

    @property
    def manifest(self) -> dict[str, Any]:
        return self.snapshot.manifest

    @property
    def area_name(self) -> str:
        return self.snapshot.area_name

    @property
    def synthetic(self) -> bool:
        return self.snapshot.synthetic

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return self.snapshot.window

    @property
    def last_day(self) -> pd.Timestamp:
        """The data's last day (of the whole area: "today" is the same for everyone)."""
        return self.snapshot.last_day

    def for_scope(self, scope: Scope) -> View:
        """The view of another scope on the same snapshot."""
        return View(self.snapshot, scope)

    # ----------------------------------------------------------------- the cut

    def cut(self, result: LayerResult) -> LayerResult:
        """``result`` (computed for the whole area) as this view's user may see it."""
        return cut(result, self.codes)

    def allows(self, precinct_ids: Collection[str | None]) -> np.ndarray:
        """Whether each precinct id (None: in no precinct) lies in the scope."""
        if self.scope is None:
            return np.ones(len(precinct_ids), dtype=bool)
        return np.asarray([p is not None and p in self.scope for p in precinct_ids], dtype=bool)

    def _rows(self, frame: pd.DataFrame, owners: list[str | None]) -> pd.DataFrame:
        if self.scope is None or not len(frame):
            return frame
        return frame[self.allows(owners)]

    # ----------------------------------------------------------------- tables

    @cached_property
    def precincts(self) -> gpd.GeoDataFrame:
        frame = self.snapshot.precincts
        if self.scope is None or not len(frame):
            return frame
        return frame[frame["precinct_id"].astype(str).isin(self.scope)]

    @cached_property
    def grids(self) -> gpd.GeoDataFrame:
        frame = self.snapshot.grids
        if self.scope is None:
            return frame
        if not len(frame) or "precinct_id" not in frame:
            return frame.iloc[0:0] if len(frame) else frame
        return frame[frame["precinct_id"].astype(str).isin(self.scope)]

    @cached_property
    def communities(self) -> pd.DataFrame:
        """The communities whose point lies in the scope's precincts."""
        return self._rows(self.snapshot.communities, self.snapshot.community_precincts)

    @cached_property
    def response_units(self) -> pd.DataFrame:
        """The response units whose point lies in the scope's precincts (for the panel's
        nearby list; the reach layer counts every unit of the area)."""
        return self._rows(self.snapshot.response_units, self.snapshot.unit_precincts)

    @cached_property
    def geometry(self) -> Any:
        """The scope as one (Multi)Polygon; None when it holds no precinct."""
        if self.scope is None:
            return shapely.union_all(np.asarray(self.snapshot.area.geometry.values))
        shapes = self.precincts.geometry if len(self.precincts) else self.grids.geometry
        if not len(shapes):
            return None
        return shapely.union_all(np.asarray(shapes.values))

    @cached_property
    def bounds(self) -> list[list[float]]:
        """``[[south, west], [north, east]]`` of the scope (the area's for the county or an
        empty scope): a chief's map opens on their jurisdiction."""
        if self.scope is None or self.geometry is None or self.geometry.is_empty:
            return self.snapshot.bounds
        west, south, east, north = (float(v) for v in self.geometry.bounds)
        return [[south, west], [north, east]]

    @cached_property
    def outlines(self) -> dict[str, dict[str, Any]]:
        """The area's outline, and the outlines of the scope's precincts and grids only."""
        full = self.snapshot.outlines
        if self.scope is None:
            return full
        keep = {
            "precincts": set(self.precincts["precinct_id"].astype(str))
            if len(self.precincts)
            else set(),
            "grids": set(self.grids["grid_id"].astype(str)) if len(self.grids) else set(),
        }
        id_of = {"precincts": "precinct_id", "grids": "grid_id"}
        out = {"area": full["area"]}
        for kind, wanted in keep.items():
            out[kind] = {
                "type": "FeatureCollection",
                "features": [
                    f for f in full[kind]["features"] if f["properties"][id_of[kind]] in wanted
                ],
            }
        return out

    # ----------------------------------------------------------------- checks

    def precinct_of_cell(self, cell: int) -> str | None:
        """The precinct holding the centre of ``cell`` (decided at build time for cells
        of the area; a finer cell by its centre's res-11 cell)."""
        res = int(cells_res(np.asarray([cell], dtype=np.uint64))[0])
        ids = self.snapshot.precinct_ids
        if 7 <= res <= 11:
            code = int(self.snapshot.zones(res).codes_of(np.asarray([cell], np.uint64))[0])
            return ids[code] if code >= 0 else None
        lng, lat = cells_to_lnglat(np.asarray([cell], dtype=np.uint64))
        return self.snapshot.precincts_of_points(lng, lat)[0]

    def contains_cell(self, cell: str | int) -> bool:
        """Whether a cell may be shown: any valid cell for the whole area; for a scope,
        a cell whose centre lies in one of its precincts (whole cells, as the layers are
        cut)."""
        value = _valid_cell(cell)
        if value is None or value == NULL_CELL:
            return False
        if self.scope is None:
            return True
        return self.precinct_of_cell(value) in self.scope

    def contains_point(self, lng: float, lat: float) -> bool:
        """Whether a point may be selected: anywhere for the whole area; for a scope, a
        point in one of its precincts."""
        if self.scope is None:
            return True
        return self.snapshot.precincts_of_points([lng], [lat])[0] in self.scope

    def has_place(self, kind: str, place_id: str) -> bool:
        """Whether a precinct, grid or community of the scope has this id."""
        tables = {
            "precinct": (self.precincts, "precinct_id"),
            "grid": (self.grids, "grid_id"),
            "community": (self.communities, "community_id"),
        }
        if kind not in tables:
            return False
        frame, column = tables[kind]
        if not len(frame) or column not in frame:
            return False
        return bool((frame[column].astype(str) == str(place_id)).any())


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
    """The data directory's current :class:`Snapshot`, reopened when the data change.

    The directory's fingerprint is read at most every ``check_seconds``; when it changed,
    the cubes are checked (:func:`check_cubes`) and a new snapshot opened. A directory
    that cannot be opened keeps the last good snapshot in service and sets
    :attr:`problem` (the page shows a banner, ``/healthz`` answers 503) until a later
    fingerprint opens cleanly.

    **Staged switch** (:meth:`stage`, what the warm-up asks for): a new snapshot opened
    cleanly is first held as :attr:`pending` while the one in service — whose views are
    warm — goes on answering; the warm-up computes the pending version's area views and
    then puts it in service (:meth:`promote`), or the pending version goes into service by
    itself ``seconds`` after it was opened. A newer change while one is pending replaces
    it, but not its deadline.

    Parameters
    ----------
    source : Snapshot
        The snapshot just opened.
    check_seconds : float
        Least time between two looks at the directory.
    clock : callable, optional
        Monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        source: Snapshot,
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
        """How many times a new snapshot was put in service."""
        self._stage_seconds = 0.0
        # (snapshot, stamp, monotonic deadline) of data opened but not yet in service.
        self._pending: tuple[Snapshot, str, float] | None = None
        self._views: dict[tuple[int, str], View] = {}

    @property
    def data_dir(self) -> Path:
        return self._source.data_dir

    def stage(self, seconds: float) -> None:
        """From now on, hold new data back up to ``seconds`` (see the class docstring);
        0 puts new data in service as soon as they are opened (the default)."""
        self._stage_seconds = max(0.0, float(seconds))

    @property
    def pending(self) -> Snapshot | None:
        """New data opened but not yet in service (None when there are none)."""
        pending = self._pending
        return None if pending is None else pending[0]

    def stamp_of(self, source: Snapshot) -> str:
        """The fingerprint of ``source``: the one in service or the pending one."""
        pending = self._pending
        if pending is not None and pending[0] is source:
            return pending[1]
        return self._stamp

    def promote(self, source: Snapshot) -> bool:
        """Put the pending ``source`` in service (no-op unless it is the pending one)."""
        with self._lock:
            pending = self._pending
            if pending is None or pending[0] is not source:
                return False
            self._swap(pending[0], pending[1])
            return True

    def _swap(self, fresh: Snapshot, stamp: str) -> None:
        self._source, self._stamp, self._failed_stamp = fresh, stamp, None
        self._pending = None
        self.problem = None
        self.reloads += 1
        self._views = {}
        log.info("data in service: version %s", fresh.version)

    @property
    def current(self) -> Snapshot:
        """The snapshot in service (a new one opened first if the data changed on disk)."""
        if self._clock() >= self._next_check:
            self.refresh(wait=False)
        pending = self._pending
        if pending is not None and self._clock() >= pending[2]:
            self.promote(pending[0])  # held long enough: in service, warm or not
        return self._source

    @property
    def stamp(self) -> str:
        """The fingerprint of the data directory in service (what tells a change)."""
        return self._stamp

    @property
    def version(self) -> str:
        """The version of the snapshot in service (what cache keys hold)."""
        return self.current.version

    def view(self, scope: Scope, snapshot: Snapshot | None = None) -> View:
        """The :class:`View` of ``scope`` on ``snapshot`` (default: the one in service),
        kept per snapshot so its cut tables are made once."""
        snap = self.current if snapshot is None else snapshot
        key = (id(snap), scope_key(scope))
        found = self._views.get(key)
        if found is not None and found.snapshot is snap:
            return found
        made = View(snap, scope)
        views = self._views
        if len(views) >= MAX_VIEWS:
            views.pop(next(iter(views)))
        views[key] = made
        return made

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
            if stamp == self._stamp and self.problem is not None:
                # The files are again the very ones in service: healthy again.
                self.problem, self._failed_stamp = None, None
                log.info("data on disk are again those in service: problem cleared")
            if stamp in (self._stamp, self._failed_stamp, staged):
                return False
            try:
                check_data_dir(self._source.data_dir)
                check_cubes(self._source.data_dir)
                fresh = Snapshot(self._source.data_dir)
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


class Resolver:
    """The view of the request being served: resolved once per request, at the edge.

    ``scope_of`` gives the signed-in user's scope (it raises when nobody is signed in,
    so nothing is ever served unscoped by mistake). Within one request every call
    returns the same view (kept on :data:`flask.g`), so a callback that reads twice never
    meets two data versions; outside a request (the warm-up thread, a test) each call
    resolves afresh.
    """

    def __init__(self, live: ReloadingSource, scope_of: Callable[[], Scope]) -> None:
        self.live = live
        self._scope_of = scope_of

    def __call__(self) -> View:
        if has_request_context():
            found = g.get("pnm_view")
            if isinstance(found, View):
                return found
            view = self.live.view(self._scope_of())
            g.pnm_view = view
            return view
        return self.live.view(self._scope_of())

    def for_scope(self, scope: Scope) -> View:
        """The view of ``scope`` on the snapshot in service (outside the request's own)."""
        return self.live.view(scope)


def _data_stamp(data_dir: Path) -> str:
    # Imported here: dashboard.views imports this module.
    from dashboard.views.wall.versions import data_stamp

    return data_stamp(data_dir)
