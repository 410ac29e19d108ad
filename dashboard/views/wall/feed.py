"""The wall's data kept current: :class:`WallFeed` follows the data in service (or
reopens the data directory itself when it changes) and computes each version once, off
the request thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from dashboard.cache import LayerCache, cache_key
from dashboard.datasource import DataSource, ReloadingSource
from dashboard.views.wall.data import WallData, wall_data
from dashboard.views.wall.versions import data_stamp

log = logging.getLogger(__name__)


class WallFeed:
    """The wall's data, kept current and computed off the request thread.

    Given the app's :class:`ReloadingSource`, the wall shows the data the map is serving
    (one copy of the data per worker; new cubes reach the wall when they reach the map,
    after their warm-up when the switch is staged). Given a plain :class:`DataSource`,
    each call of :meth:`data` checks the data directory's fingerprint and reopens the
    source when the data or the cubes changed. A new version is computed once, in one
    background thread, and cached (flask-caching, keyed by version and scope); a request
    waits for it at most ``wait_s`` and otherwise returns None, so a slow computation
    never holds up a refresh — the page keeps its last picture and asks again.

    Parameters
    ----------
    source : ReloadingSource or DataSource
        The app's data in service, or a data source just opened (followed on disk).
    cache : LayerCache
        Where computed wall data are kept.
    """

    def __init__(self, source: DataSource | ReloadingSource, cache: LayerCache) -> None:
        self._live = source if isinstance(source, ReloadingSource) else None
        self._source = source.current if isinstance(source, ReloadingSource) else source
        self._stamp = data_stamp(self._source.data_dir)
        self._cache = cache
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pnm-wall")
        self._jobs: dict[str, Future[WallData]] = {}

    def current(self) -> tuple[DataSource, str]:
        """The data source and its version: the ones in service, or reopened if the data
        changed on disk."""
        if self._live is not None:
            current = self._live.current
            return current, self._live.stamp_of(current)
        stamp = data_stamp(self._source.data_dir)
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._source = DataSource(self._source.data_dir)
                    self._stamp = stamp
                except Exception:  # a rebuild in progress: keep the last good data
                    log.warning("wall: data directory changed but cannot be opened yet")
            return self._source, self._stamp

    def data(
        self, scope: Collection[str] | None = None, *, wait_s: float = 10.0
    ) -> WallData | None:
        """The wall data for ``scope`` (precinct ids; None for the whole area) at the
        current version; None if not ready within ``wait_s`` seconds or if computing it
        failed (logged; the next call tries again)."""
        base, stamp = self.current()
        source = base.for_scope(None if scope is None else frozenset(scope))
        name = cache_key("wall", version=stamp, scope=source.scope_key)
        found = self._get(name)
        if found is not None:
            return found
        with self._lock:
            job = self._jobs.get(name)
            if job is None:
                # Jobs of earlier versions nobody waits for any more are dropped.
                self._jobs = {k: j for k, j in self._jobs.items() if not j.done()}
                job = self._jobs[name] = self._pool.submit(wall_data, source, version=stamp)
        try:
            result = job.result(timeout=wait_s)
        except FutureTimeout:
            return None
        except Exception:
            log.exception("wall: computing the wall data failed")
            return None
        finally:
            if job.done():
                with self._lock:
                    if self._jobs.get(name) is job:
                        del self._jobs[name]
        self._set(name, result)
        return result

    def _get(self, name: str) -> WallData | None:
        try:
            found = self._cache.cache.get(name)
        except Exception as exc:  # a cache backend that fails: compute, uncached
            log.warning("wall: cache unreachable: %s", exc)
            return None
        return found if isinstance(found, WallData) else None

    def _set(self, name: str, value: WallData) -> None:
        try:
            self._cache.cache.set(name, value)
        except Exception as exc:
            log.warning("wall: cache unreachable, result not kept: %s", exc)


__all__ = ["WallFeed"]
