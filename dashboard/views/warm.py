"""Cache warm-up: the views most asked for, computed in the background after each (re)load.

The first chief to open a layer of a new data version would otherwise wait for its cold
computation (seconds for the gap layer of the county), and fifty chiefs opening the map
after a cube build would queue behind each other's. :class:`Warmer` runs one daemon
thread per worker that, whenever the data version in service changes (at start and after
every cube rebuild), computes for every scope users can have — the county first (the
commanders, the wall), then each chief's precinct list from the users file, the most
shared first — every map layer over the default window at the resolutions of the map's
first zooms, and the wall's data of the whole area, then the other preset windows (the
county's, then each chief's), and stores them in the layer cache under the very keys the
callbacks read (data version and scope included: :func:`dashboard.views.layer_key`).

- **Shared, not doubled:** each view is claimed first (:meth:`LayerCache.claim`: Redis
  ``SET NX`` with an expiry, released once the view is stored), so with several workers
  on one Redis each view is computed by one of them; a view already cached is skipped.
- **Never blocking:** the thread serves nobody; requests never wait for it. A request
  for a view not warmed yet computes it as before.
- **Bounded without Redis:** the in-process cache keeps 1,000 entries, so at most
  :data:`SIMPLE_LIMIT` views are warmed there (the first, most asked ones).
- **Kept warm:** cache entries expire (:data:`dashboard.cache.TIMEOUT_SECONDS`), so
  every :data:`KEEP_SECONDS` a further pass of the same version moves the expiry of each
  warm view on (Redis ``EXPIRE``, no value read) and computes only the ones that are gone
  (expired, evicted, or — without Redis — past their timeout).
- **New data first** (``PNM_SWITCH_WAIT``): when new cubes are opened they are held back
  (:meth:`dashboard.datasource.ReloadingSource.stage`); any pass under way stops, a pass
  warms every scope's default window of the new data, then puts them in service, and a
  full pass follows.
- **Stops** as soon as the data version in service changes (the next pass warms the new
  one) and when the app stops. ``PNM_WARM=0`` turns it off.

``/healthz`` reports its progress (``warm``: state, views done, seconds).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dashboard import pagestate
from dashboard.cache import SIMPLE_THRESHOLD, TIMEOUT_SECONDS, LayerCache, cache_key
from dashboard.datasource import COUNTY, DataSource, ReloadingSource, Scope
from dashboard.views import LAYERS, layer_key, layer_result, params_for
from dashboard.views.base import LayerParams

log = logging.getLogger(__name__)

# The map's first zooms: the county opens around zoom 10 (res 8) and a chief zooms into
# a precinct (11-12: res 9) and a grid (13-14: res 10). Layers clamp to what they allow.
COUNTY_RES = (8, 9, 10)
SCOPE_RES = (9, 8, 10)
# The other preset windows, warmed last: the county's (a commander switches windows), then
# each chief's scope's.
OTHER_PRESETS = ("7d", "quarter", "today")
# Cheaper layers first; patrol and koper before gaps (the gap layer reuses their merged
# visits, see layers.memo).
ORDER = ("heat", "rate", "hotspots", "emerging", "mom", "yoy", "community", "reach",
         "patrol", "koper", "gaps")  # fmt: skip
# Without Redis the cache keeps SIMPLE_THRESHOLD entries (views and their panned slices
# alike): a warm-up of more views than half of that would push out what it warmed, and
# its keep passes would compute them again and again.
SIMPLE_LIMIT = SIMPLE_THRESHOLD // 2
# How long a claim holds: longer than the slowest view, so two workers never both
# compute one; a worker that dies while holding it only delays that view to its first
# request.
CLAIM_SECONDS = 300
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
    scopes: int = 0
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
            "scopes": self.scopes,
            "seconds": None if self.seconds is None else round(self.seconds, 1),
            "passes": self.passes,
            "began": round(self.began, 1),
            "staged": self.staged,
        }


def scopes_to_warm(settings: Any, source: DataSource) -> list[Scope]:
    """The scopes users can have: the county, then the distinct precinct lists of the
    users file (most users first); none but the county when sign-in is off."""
    out: list[Scope] = [None]
    if getattr(settings, "auth", "none") == "none":
        return out
    try:
        from dashboard.auth.users import read_users

        users = read_users(settings.users_path)
    except Exception as exc:  # no users file yet: the scopes are not known
        log.info("warm-up: users file not readable (%s); warming the county only", exc)
        return out
    counts = Counter(u.scope for u in users.values() if u.scope is not None)
    known = set(source.precincts["precinct_id"].astype(str)) if len(source.precincts) else set()
    ranked = sorted(counts, key=lambda s: (-counts[s], sorted(s)))
    out += [s for s in ranked if s and s & known]
    return out


def jobs(
    source: DataSource, scopes: list[Scope], *, others: bool = True
) -> Iterator[tuple[Any, LayerParams | None]]:
    """(scoped source, layer parameters) to warm, in order; parameters None is the wall.

    The county's default window at :data:`COUNTY_RES` (the wall after its first
    resolution), each further scope's default window at :data:`SCOPE_RES`, then (unless
    ``others`` is False) each other preset window (:data:`OTHER_PRESETS`), the county's
    first and then each further scope's."""
    seen: set[tuple[str, LayerParams]] = set()
    layers = (*ORDER, *(name for name in LAYERS if name not in ORDER))

    def each(
        src: Any, preset: str | None, resolutions: tuple[int, ...]
    ) -> Iterator[tuple[Any, LayerParams]]:
        since, until = pagestate.window(src.last_day, preset=preset).iso
        for res in resolutions:
            for layer in layers:
                p = params_for(layer, res=res, since=since, until=until, scope=src.scope_key)
                if (src.scope_key, p) not in seen:  # clamped resolutions, ignored windows
                    seen.add((src.scope_key, p))
                    yield src, p

    county = source.for_scope(None)
    yield from each(county, None, COUNTY_RES[:1])
    yield county, None
    yield from each(county, None, COUNTY_RES[1:])
    for scope in scopes:
        if scope is not None:
            yield from each(source.for_scope(scope), None, SCOPE_RES)
    if not others:
        return
    for preset in OTHER_PRESETS:
        yield from each(county, preset, COUNTY_RES)
    for preset in OTHER_PRESETS:
        for scope in scopes:
            if scope is not None:
                yield from each(source.for_scope(scope), preset, SCOPE_RES)


def prime(source: DataSource, scoped: bool) -> None:
    """Read what every view of this worker needs first, in this worker: the tables a
    source loads lazily (patrol cube, visits, communities, units), with ``scoped`` the
    precinct of every cube row (what cuts a chief's tables), and the county's cells at
    :data:`COUNTY_RES` — seconds a worker's first requests would otherwise spend, even
    when the views themselves come from Redis (a worker replaced after
    ``--max-requests`` starts with none of it)."""
    names = ["patrol_cube", "visits", "communities", "response_units", "outlines"]
    if scoped:
        names += ["incident_precincts", "patrol_precincts", "visits_precincts"]
    for name in names:
        getattr(source, name)
    for res in COUNTY_RES:
        source.scope_cells(res)


class Warmer:
    """The warm-up thread of one worker.

    Parameters
    ----------
    live : ReloadingSource
        The data in service (its version is watched).
    cache : LayerCache
        Where the views go (shared by the workers when it is Redis).
    scopes : callable
        The scopes to warm for a source (:func:`scopes_to_warm`).
    switch_wait_s : float
        When positive, :meth:`start` has ``live`` hold new data back
        (:meth:`ReloadingSource.stage`) until the default windows of every scope are warm
        (then this thread puts them in service) or this many seconds have passed.
    """

    def __init__(
        self,
        live: ReloadingSource,
        cache: LayerCache,
        scopes: Callable[[DataSource], list[Scope]],
        switch_wait_s: float = 0.0,
    ) -> None:
        self._live = live
        self._cache = cache
        self._scopes = scopes
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

    def warm(self, source: DataSource, *, passes: int = 1, staged: bool = False) -> WarmReport:
        """Warm every view of ``source``'s version (``passes``: the how-manieth pass over
        it this is; ``staged``: ``source`` is pending, warm only every scope's default
        window); stops early when the version in service, and pending, is another."""
        scopes = self._scopes(source)
        todo = list(jobs(source, scopes, others=not staged))
        if self._cache.kind != "redis" and len(todo) > SIMPLE_LIMIT:
            log.info("warm-up: %d views, the first %d kept (no Redis)", len(todo), SIMPLE_LIMIT)
            todo = todo[:SIMPLE_LIMIT]
        report = self.report = WarmReport(
            state="running",
            version=source.version,
            total=len(todo),
            started=time.monotonic(),
            scopes=len(scopes),
            passes=passes,
            began=time.time(),
            staged=staged,
        )
        log.info("warm-up of %d views over %d scopes started", len(todo), len(scopes))
        prime(source, scoped=any(scope is not None for scope in scopes))
        for src, params in todo:
            if not self._current(source.version):
                report.state = "stopped"
                log.info("warm-up stopped: the data changed (or the app stops)")
                return report
            try:
                computed = self._warm_one(src, params)
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

    def _warm_one(self, src: Any, params: LayerParams | None) -> bool:
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

    def _warm_wall(self, src: Any) -> bool:
        from dashboard.views.wall import wall_data

        if src.scope_key != COUNTY:
            return False
        stamp_of = getattr(self._live, "stamp_of", None)
        stamp = self._live.stamp if stamp_of is None else stamp_of(src)
        key = cache_key("wall", version=stamp, scope=src.scope_key)
        if self._kept(key) or not self._cache.claim(key, CLAIM_SECONDS):
            return False
        try:
            self._cache.cache.set(key, wall_data(src, version=stamp))
        finally:
            self._cache.cache.release(key)
        return True

    def _kept(self, key: str) -> bool:
        """Whether ``key`` is cached, its expiry moved a cache timeout on if so."""
        return self._cache.cache.touch(key, TIMEOUT_SECONDS)


__all__ = [
    "COUNTY_RES",
    "KEEP_SECONDS",
    "OTHER_PRESETS",
    "SCOPE_RES",
    "WarmReport",
    "Warmer",
    "jobs",
    "scopes_to_warm",
]
