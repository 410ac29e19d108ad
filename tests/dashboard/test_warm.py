"""The cache warm-up: what it computes is exactly what a request computes, under the
same scoped key; it shares work through claims, skips what is cached, and stops when the
data change."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import h3
import numpy as np
import pytest

from dashboard import pagestate
from dashboard.app import create_app
from dashboard.cache import KEY_PREFIX, TIMEOUT_SECONDS, LayerCache, cache_key
from dashboard.datasource import COUNTY, DataSource, ReloadingSource
from dashboard.settings import load_settings
from dashboard.views import layer_key, layer_result, spec_of
from dashboard.views.wall import wall_data
from dashboard.views.warm import OTHER_PRESETS, SCOPE_RES, Warmer, jobs, scopes_to_warm
from tests.dashboard.auth_data import SECRET, build_secure_data, east_cells
from tests.dashboard.conftest import REAL_START
from tests.dashboard.tiny_data import C


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_secure_data(tmp_path_factory.mktemp("warm") / "data")


def _parts(data: Path, **settings: Any) -> tuple[Any, ReloadingSource, LayerCache]:
    cfg = load_settings({}, data_dir=str(data), secret_key=SECRET, **settings)
    app = create_app(cfg)
    live = ReloadingSource(DataSource(data))
    return cfg, live, LayerCache(app.server, cfg)


def test_the_scopes_are_the_county_and_the_users_precinct_lists(data: Path) -> None:
    cfg, live, _ = _parts(data)
    scopes = scopes_to_warm(cfg, live.current)
    assert scopes[0] is None
    # west and planw share P1 (two users), east has P2: most shared first.
    assert scopes[1:] == [frozenset({"P1"}), frozenset({"P2"})]
    off = load_settings({}, data_dir=str(data), auth="none")
    assert scopes_to_warm(off, live.current) == [None]


def test_warm_results_are_the_computed_ones_under_each_scopes_key(data: Path) -> None:
    cfg, live, cache = _parts(data)
    warmer = Warmer(live, cache, lambda s: scopes_to_warm(cfg, s))
    report = warmer.warm(live.current)
    # This small data set has no population: the wall is computed all the same.
    assert "population" not in live.current.grids.columns
    assert report.state == "done" and report.failed == 0
    assert report.done == report.total and report.total > 0
    wall = cache.cache.get(cache_key("wall", version=live.stamp, scope=COUNTY))
    fresh_wall = wall_data(live.current, version=live.stamp)
    assert wall is not None and wall.version == fresh_wall.version
    assert wall.figures == fresh_wall.figures and wall.gaps == fresh_wall.gaps
    for src, params in jobs(live.current, scopes_to_warm(cfg, live.current)):
        if params is None:
            continue
        kept = cache.cache.get(cache_key("layer", **layer_key(src, params)))
        fresh = spec_of(params.layer).compute(src, params)
        assert kept is not None, params
        assert np.array_equal(kept.cells, fresh.cells), params
        assert np.array_equal(kept.values, fresh.values, equal_nan=True), params
        # Kept under the scope of the source it was computed from: a chief's entry is
        # found with their scope only (the cache key holds it).
        assert layer_key(src, params)["scope"] == src.scope_key
        if src.scope_key == 'precincts:["P1"]':
            assert not {h3.int_to_str(int(c)) for c in kept.cells} & (east_cells() - {
                h3.cell_to_parent(h3.int_to_str(C), 7)})  # fmt: skip
    # A second pass finds everything cached: nothing computed again.
    again = warmer.warm(live.current)
    assert again.done == 0 and again.skipped == again.total


def test_a_view_claimed_by_another_worker_is_left_to_it(data: Path) -> None:
    _cfg, live, cache = _parts(data)
    cache.claim = lambda key, seconds: False  # type: ignore[method-assign]
    warmer = Warmer(live, cache, lambda s: [None])
    report = warmer.warm(live.current)
    assert report.done == 0 and report.skipped == report.total
    src = live.current
    p = next(p for _, p in jobs(src, [None]) if p is not None)
    assert cache.cache.get(cache_key("layer", **layer_key(src, p))) is None


class _Changing:
    """A live source whose version changes after ``after`` looks."""

    def __init__(self, live: ReloadingSource, after: int) -> None:
        self.live, self.after, self.looks = live, after, 0
        self.problem = None
        self.stamp = live.stamp

    @property
    def current(self) -> Any:
        self.looks += 1
        src = self.live.current
        if self.looks > self.after:
            src.version = src.version + ":new"  # what a rebuild of the cubes does
        return src


def test_the_warm_up_stops_when_the_data_change(data: Path) -> None:
    _cfg, _live, cache = _parts(data)
    changing = _Changing(ReloadingSource(DataSource(data)), after=3)
    warmer = Warmer(changing, cache, lambda s: [None])  # type: ignore[arg-type]
    report = warmer.warm(changing.live.current)
    assert report.state == "stopped"
    assert report.done + report.skipped < report.total


def test_the_thread_warms_after_start_and_health_reports_it(data: Path) -> None:
    app = create_app(load_settings({}, data_dir=str(data), auth="none"))
    client = app.server.test_client()
    assert client.get("/healthz").get_json()["warm"]["state"] == "waiting"
    # The app's own warmer: started as create_app starts it outside the tests.
    warmer = next(
        c.cell_contents
        for c in (app.server.view_functions["pnm_healthz"].__closure__ or ())
        if isinstance(c.cell_contents, Warmer)
    )
    REAL_START(warmer)
    deadline = time.monotonic() + 60
    while warmer.report.state != "done" and time.monotonic() < deadline:
        time.sleep(0.1)
    warm = client.get("/healthz").get_json()["warm"]
    warmer.stop(timeout=10)
    assert warm["state"] == "done" and warm["scopes"] == 1
    assert warm["computed"] == warm["views"] and warm["failed"] == 0
    assert warm["seconds"] is not None
    off = create_app(load_settings({}, data_dir=str(data), auth="none", warm="0"))
    assert off.server.test_client().get("/healthz").get_json()["warm"] == {"state": "off"}


def test_a_request_after_the_warm_up_reads_the_warm_result(data: Path) -> None:
    _cfg, live, cache = _parts(data)
    Warmer(live, cache, lambda s: [None]).warm(live.current)
    src = live.current
    p = next(p for _, p in jobs(src, [None]) if p is not None and p.layer == "gaps")

    def fail() -> Any:
        raise AssertionError("computed again")

    key = layer_key(src, p)
    assert cache.get_or_compute("layer", key, fail) is not None
    assert layer_result(src, cache, p).layer == "gaps"


def test_has_tells_a_stored_key_without_reading_it(data: Path) -> None:
    _cfg, _live, cache = _parts(data)
    assert not cache.cache.has("layer:x")
    cache.cache.set("layer:x", {"big": "value"})
    assert cache.cache.has("layer:x")
    assert cache.claim("layer:x", 60)  # one process (simple cache): always its own


def test_jobs_warm_every_scopes_other_windows_after_the_countys(data: Path) -> None:
    cfg, live, _ = _parts(data)
    src = live.current
    scopes = scopes_to_warm(cfg, src)
    order = [(s.scope_key, p) for s, p in jobs(src, scopes) if p is not None]
    assert len(set(order)) == len(order)  # nothing twice
    windows = {
        preset: pagestate.window(src.last_day, preset=preset).iso
        for preset in ("30d", *OTHER_PRESETS)
    }
    for scope in scopes[1:]:
        key = src.for_scope(scope).scope_key
        for preset, (since, _until) in windows.items():
            heat = [p for k, p in order if k == key and p.layer == "heat" and p.since == since]
            assert sorted(p.res for p in heat) == sorted(SCOPE_RES), (key, preset)
    # A chief's other windows come after every default window and the county's others.
    first_other = next(
        i for i, (k, p) in enumerate(order) if k != COUNTY and p.since == windows["7d"][0]
    )
    last_county = max(i for i, (k, _) in enumerate(order) if k == COUNTY)
    last_default = max(i for i, (k, p) in enumerate(order) if p.since == windows["30d"][0])
    assert first_other > last_county > last_default


@pytest.mark.cache
def test_a_later_pass_keeps_warm_views_alive_and_computes_only_the_missing(
    data: Path,
) -> None:
    import redis

    url = "redis://127.0.0.1:6379/13"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        _cfg, live, cache = _parts(data, cache="redis", redis_url=url)
        warmer = Warmer(live, cache, lambda s: [None])
        first = warmer.warm(live.current)
        src = live.current
        views = [p for _, p in jobs(src, [None]) if p is not None]
        keys = [KEY_PREFIX + cache_key("layer", **layer_key(src, p)) for p in views]
        assert first.done == len(views) + 1 and first.failed == 0  # and the wall
        assert all(client.exists(k) for k in keys)
        client.expire(keys[0], 5)  # about to expire
        client.delete(keys[1])  # evicted
        second = warmer.warm(src, passes=2)
        assert second.passes == 2 and second.done == 1  # only the evicted one
        assert second.skipped == second.total - 1
        ttl: Any = client.ttl(keys[0])  # redis-py types it as maybe awaitable
        assert ttl > TIMEOUT_SECONDS - 60  # kept another timeout
        assert client.exists(keys[1])
        assert not cache.cache.touch("layer:absent", 60)
    finally:
        client.flushdb()


def test_new_data_go_into_service_once_their_default_windows_are_warm(
    tmp_path: Path,
) -> None:
    import os

    data = build_secure_data(tmp_path / "data")
    cfg, _live, cache = _parts(data)
    live = ReloadingSource(DataSource(data), check_seconds=0.0)
    warmer = Warmer(live, cache, lambda s: scopes_to_warm(cfg, s), switch_wait_s=300)
    at_promotion: dict[str, Any] = {}
    promote = live.promote

    def watched(source: DataSource) -> bool:
        views = [(s, p) for s, p in jobs(source, scopes_to_warm(cfg, source), others=False)]
        at_promotion["served"] = live.version
        at_promotion["missing"] = [
            p for s, p in views
            if p is not None and not cache.cache.has(cache_key("layer", **layer_key(s, p)))
        ]  # fmt: skip
        return promote(source)

    live.promote = watched  # type: ignore[method-assign]
    REAL_START(warmer)
    try:
        deadline = time.monotonic() + 120
        while warmer.report.state != "done" and time.monotonic() < deadline:
            time.sleep(0.1)
        old = live.version
        cube = data / "cubes" / "incidents.parquet"
        later = cube.stat().st_mtime_ns + 10**9
        os.utime(cube, ns=(later, later))  # what a rebuild of the cubes does
        while live.version == old and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        warmer.stop(timeout=30)
    assert live.version != old, "the new data never went into service"
    # Promoted by the warm-up (not by the 300 s hold), with the old data in service
    # until then, and every scope's default window of the new data already warm.
    assert at_promotion["served"] == old
    assert at_promotion["missing"] == []
    assert live.reloads == 1


class _NewDataArrive:
    """A live source on which new data become pending after ``after`` looks."""

    def __init__(self, live: ReloadingSource, newer: DataSource, after: int) -> None:
        self.live, self.newer, self.after, self.looks = live, newer, after, 0
        self.problem = None
        self.stamp = live.stamp

    @property
    def current(self) -> DataSource:
        return self.live.current

    @property
    def pending(self) -> DataSource | None:
        self.looks += 1
        return self.newer if self.looks > self.after else None


def test_a_pass_stops_when_new_data_are_pending_and_theirs_goes_on(data: Path) -> None:
    _cfg, live, cache = _parts(data)
    newer = DataSource(data)
    newer.version = newer.version + ":new"
    arriving = _NewDataArrive(live, newer, after=3)
    warmer = Warmer(arriving, cache, lambda s: [None])  # type: ignore[arg-type]
    old = warmer.warm(live.current)
    assert old.state == "stopped" and old.done + old.skipped < old.total
    staged = warmer.warm(newer, staged=True)  # the pending data's own pass is not stopped
    assert staged.state == "done" and staged.staged
    assert staged.total == len(list(jobs(newer, [None], others=False)))


def test_without_redis_the_warm_up_keeps_to_what_the_cache_holds(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dashboard.views.warm as warm_module

    cfg, live, cache = _parts(data)
    assert cache.kind == "simple"
    everything = list(jobs(live.current, scopes_to_warm(cfg, live.current)))
    monkeypatch.setattr(warm_module, "SIMPLE_LIMIT", 20)
    report = Warmer(live, cache, lambda s: scopes_to_warm(cfg, s)).warm(live.current)
    assert len(everything) > 20 and report.total == 20 and report.done == 20
    # The first ones: the county's default window.
    src, first = everything[0]
    assert first is not None and src.scope_key == COUNTY
    assert cache.cache.has(cache_key("layer", **layer_key(src, first)))
