"""Cache warm-up: the area's views, computed in the background after each (re)load.

Layers are computed once for the whole area and cut by scope at the edge
(:mod:`layers.registry`), so what is worth warming is the area's views only — every map
layer at the resolutions of the map's zooms over the preset windows, and the wall's data
— never a view per chief. :class:`Warmer` runs one daemon thread per worker that,
whenever the data version in service changes (at start and after every cube rebuild),
computes them and stores them in the layer cache under the very keys the callbacks read
(:func:`dashboard.views.layer_key`: the versions of what each layer reads, so a layer
whose tables did not change is found warm and skipped).

- **Shared, not doubled:** each view is claimed first (:meth:`LayerCache.claim`: Redis
  ``SET NX`` with an expiry, released once the view is stored), so with several workers
  on one Redis each view is computed by one of them; a view already cached is skipped.
- **Never blocking:** the thread serves nobody; requests never wait for it. A request
  for a view not warmed yet computes it as before.
- **Kept warm:** cache entries expire (:data:`dashboard.cache.TIMEOUT_SECONDS`), so
  every :data:`KEEP_SECONDS` a further pass of the same version moves the expiry of each
  warm view on (Redis ``EXPIRE``, no value read) and computes only the ones that are gone.
- **New data first** (``PNM_SWITCH_WAIT``): when new cubes are opened they are held back
  (:meth:`dashboard.datasource.ReloadingSource.stage`); any pass under way stops, a pass
  warms the default window of the new data, then puts them in service, and a full pass
  follows.
- **Stops** as soon as the data version in service changes (the next pass warms the new
  one) and when the app stops. ``PNM_WARM=0`` turns it off.

``/healthz`` reports its progress (``warm``: state, views done, seconds).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dashboard import pagestate
from dashboard.cache import SIMPLE_THRESHOLD, TIMEOUT_SECONDS, LayerCache, cache_key
from dashboard.datasource import COUNTY, ReloadingSource
from dashboard.views import LAYERS, layer_key, layer_result, params_for
from geodata.snapshot import Snapshot
from layers.registry import LayerParams

log = logging.getLogger(__name__)

# The map's zooms: the county opens around zoom 10 (res 8), a chief zooms into a precinct
# (11-12: res 9) and a grid (13-14: res 10), the whole county at zoom 9 is res 7. Layers
# clamp to what they allow.
AREA_RES = (8, 9, 10, 7)
# The other preset windows, warmed after the default one.
OTHER_PRESETS = ("7d", "quarter", "today")
# Cheaper layers first, the gap layer (which computes every other layer's frame) last.
ORDER = ("heat", "rate", "hotspots", "emerging", "mom", "yoy", "community", "reach",
         "patrol", "koper", "gaps")  # fmt: skip
# Without Redis the cache keeps SIMPLE_THRESHOLD entries (views and their panned slices
# alike): a warm-up of more views than half of that would push out what it warmed.
SIMPLE_LIMIT = SIMPLE_THRESHOLD // 2
# How long a claim holds: longer than the slowest view, so two workers never both
# compute one; a worker that dies while holding it only delays that view to its first
# request.
CLAIM_SECONDS = 300
# How long, at most, the process waits at exit for the view being warmed.
EXIT_WAIT_SECONDS = 20.0
# How often the thread looks for a new data version.
POLL_SECONDS = 2.0
# How often a pass over the same version keeps the warm views from expiring: well within
# the cache timeout, so a view a pass touched is still there at the next.
KEEP_SECONDS = TIMEOUT_SECONDS // 3


@dataclass
class WarmReport:
    """Progress of the warm-up of one data version (for ``/healthz`` and the log)."""

    state: str = "waiting"
    version: str = ""
    done: int = 0
    skipped: int = 0
    failed: int = 0
    total: int = 0
    started: float = 0.0
    seconds: float | None = None
    passes: int = 0
    began: float = 0.0  # wall clock (epoch seconds), for the report
    staged: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "worker": os.getpid(),
            "computed": self.done,
            "already_cached": self.skipped,
            "failed": self.failed,
            "views": self.total,
            "seconds": None if self.seconds is None else round(self.seconds, 1),
            "passes": self.passes,
            "began": round(self.began, 1),
            "staged": self.staged,
        }


def jobs(snapshot: Snapshot, *, others: bool = True) -> Iterator[LayerParams | None]:
    """The layer parameters to warm, in order; None is the wall.

    The default window at the first of :data:`AREA_RES`, the wall, the default window at
    the other resolutions, then (unless ``others`` is False) each other preset window
    (:data:`OTHER_PRESETS`) at every resolution."""
    seen: set[LayerParams] = set()
    layers = (*ORDER, *(name for name in LAYERS if name not in ORDER))

    def each(preset: str | None, resolutions: tuple[int, ...]) -> Iterator[LayerParams]:
        since, until = pagestate.window(snapshot.last_day, preset=preset).iso
        for res in resolutions:
            for layer in layers:
                p = params_for(layer, res=res, since=since, until=until)
                if p not in seen:  # clamped resolutions, ignored windows
                    seen.add(p)
                    yield p

    yield from each(None, AREA_RES[:1])
    yield None
    yield from each(None, AREA_RES[1:])
    if others:
        for preset in OTHER_PRESETS:
            yield from each(preset, AREA_RES)


def prime(snapshot: Snapshot) -> None:
    """Read what every view of this worker needs first, in this worker: the tables a
    snapshot loads lazily (patrol cube, visits, communities, units, outlines) and the
    zones at :data:`AREA_RES` — seconds a worker's first requests would otherwise spend,
    even when the views themselves come from Redis."""
    for name in ("patrol_cube", "visits", "communities", "response_units", "outlines"):
        getattr(snapshot, name)
    for res in AREA_RES:
        snapshot.zones(res)


class Warmer:
    """The warm-up thread of one worker.

    Parameters
    ----------
    live : ReloadingSource
        The data in service (its version is watched).
    cache : LayerCache
        Where the views go (shared by the workers when it is Redis).
    switch_wait_s : float
        When positive, :meth:`start` has ``live`` hold new data back
        (:meth:`ReloadingSource.stage`) until the default window's views are warm (then
        this thread puts them in service) or this many seconds have passed.
    """

    def __init__(
        self, live: ReloadingSource, cache: LayerCache, switch_wait_s: float = 0.0
    ) -> None:
        self._live = live
        self._cache = cache
        self._switch_wait_s = switch_wait_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.report = WarmReport()

    def start(self) -> None:
        """Start the thread (once), and the staged switch of new data."""
        if self._switch_wait_s > 0:
            self._live.stage(self._switch_wait_s)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pnm-warm", daemon=True)
            self._thread.start()
            # A daemon thread still inside polars or Arrow when the interpreter finalises
            # aborts the process ("terminate called without an active exception") or
            # hangs it: let the view under way finish before exit.
            atexit.register(self.stop, EXIT_WAIT_SECONDS)

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to stop after the view it is computing."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        warmed, at, staged = "", 0.0, ""
        while not self._stop.is_set():
            try:
                pending = getattr(self._live, "pending", None)
                if pending is not None and pending.version != staged:
                    # New data held back: warm their most asked views while the warm
                    # data answer, then put them in service (no-op when replaced by newer
                    # data meanwhile, or already in service after the hold).
                    staged = pending.version
                    self.warm(pending, staged=True)
                    self._live.promote(pending)
                    continue
                source = self._live.current
                due = source.version != warmed or time.monotonic() - at >= KEEP_SECONDS
                if due and self._live.problem is None:
                    at = time.monotonic()
                    passes = self.report.passes if source.version == warmed else 0
                    if self.warm(source, passes=passes + 1).state == "done":
                        warmed = source.version
            except Exception:  # never let the thread die: log, wait, try again
                log.exception("warm-up failed")
            self._stop.wait(POLL_SECONDS)

    def _current(self, version: str) -> bool:
        """Whether a pass over ``version`` goes on: it is the pending data's (new data
        waiting stop any other pass, so their warm-up starts at once), or, with none
        pending, the version in service."""
        if self._stop.is_set():
            return False
        pending = getattr(self._live, "pending", None)
        if pending is not None:
            return bool(pending.version == version)
        return bool(self._live.current.version == version)

    def warm(self, source: Snapshot, *, passes: int = 1, staged: bool = False) -> WarmReport:
        """Warm every view of ``source``'s version (``passes``: the how-manieth pass over
        it this is; ``staged``: ``source`` is pending, warm only the default window);
        stops early when the version in service, and pending, is another."""
        todo = list(jobs(source, others=not staged))
        if self._cache.kind != "redis" and len(todo) > SIMPLE_LIMIT:
            log.info("warm-up: %d views, the first %d kept (no Redis)", len(todo), SIMPLE_LIMIT)
            todo = todo[:SIMPLE_LIMIT]
        report = self.report = WarmReport(
            state="running",
            version=source.version,
            total=len(todo),
            started=time.monotonic(),
            passes=passes,
            began=time.time(),
            staged=staged,
        )
        log.info("warm-up of %d views started", len(todo))
        prime(source)
        for params in todo:
            if not self._current(source.version):
                report.state = "stopped"
                log.info("warm-up stopped: the data changed (or the app stops)")
                return report
            try:
                computed = self._warm_one(source, params)
            except Exception:
                report.failed += 1
                log.exception("warm-up of %s failed", params)
                continue
            if computed:
                report.done += 1
            else:
                report.skipped += 1
        report.seconds = time.monotonic() - report.started
        report.state = "done"
        log.info(
            "warm-up done in %.1f s: %d computed, %d already cached, %d failed",
            report.seconds,
            report.done,
            report.skipped,
            report.failed,
        )
        return report

    def _warm_one(self, src: Snapshot, params: LayerParams | None) -> bool:
        """Compute one view unless cached (then kept for another cache timeout) or claimed
        by another worker; whether it did."""
        if params is None:
            return self._warm_wall(src)
        key = cache_key("layer", **layer_key(src, params))
        if self._kept(key) or not self._cache.claim(key, CLAIM_SECONDS):
            return False
        try:
            layer_result(src, self._cache, params)
        finally:
            self._cache.cache.release(key)
        return True

    def _warm_wall(self, src: Snapshot) -> bool:
        from dashboard.views.wall import wall_data

        key = cache_key("wall", version=src.version, scope=COUNTY)
        if self._kept(key) or not self._cache.claim(key, CLAIM_SECONDS):
            return False
        try:
            self._cache.cache.set(key, wall_data(self._live.view(None, src), self._cache))
        finally:
            self._cache.cache.release(key)
        return True

    def _kept(self, key: str) -> bool:
        """Whether ``key`` is cached, its expiry moved a cache timeout on if so."""
        return self._cache.cache.touch(key, TIMEOUT_SECONDS)


__all__ = [
    "AREA_RES",
    "KEEP_SECONDS",
    "OTHER_PRESETS",
    "WarmReport",
    "Warmer",
    "jobs",
]
