"""The wall's data kept current: :class:`WallFeed` follows the data in service and
computes each version once, off the request thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from dashboard.cache import LayerCache, cache_key
from dashboard.datasource import ReloadingSource, View
from dashboard.views.wall.data import WallData, wall_data

log = logging.getLogger(__name__)


class WallFeed:
    """The wall's data, kept current and computed off the request thread.

    The wall shows the data the map is serving (one copy of the data per worker; new
    cubes reach the wall when they reach the map, after their warm-up when the switch is
    staged). A new version is computed once, in one
    background thread, and cached (flask-caching, keyed by version and scope); a request
    waits for it at most ``wait_s`` and otherwise returns None, so a slow computation
    never holds up a refresh — the page keeps its last picture and asks again.

    Parameters
    ----------
    source : ReloadingSource
        The app's data in service.
    cache : LayerCache
        Where computed wall data are kept.
    """

    def __init__(self, source: ReloadingSource, cache: LayerCache) -> None:
        self._live = source
        self._cache = cache
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pnm-wall")
        self._jobs: dict[str, Future[WallData]] = {}

    def data(
        self, scope: Collection[str] | None = None, *, wait_s: float = 10.0
    ) -> WallData | None:
        """The wall data for ``scope`` (precinct ids; None for the whole area) at the
        current version; None if not ready within ``wait_s`` seconds or if computing it
        failed (logged; the next call tries again)."""
        view: View = self._live.view(None if scope is None else frozenset(scope))
        name = cache_key("wall", version=view.version, scope=view.scope_key)
        found = self._get(name)
        if found is not None:
            return found
        with self._lock:
            job = self._jobs.get(name)
            if job is None:
                # Jobs of earlier versions nobody waits for any more are dropped.
                self._jobs = {k: j for k, j in self._jobs.items() if not j.done()}
                job = self._jobs[name] = self._pool.submit(wall_data, view, self._cache)
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
