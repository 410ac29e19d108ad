"""The cache warm-up: it computes the area's views only (every layer at the map's
resolutions over the preset windows, and the wall) under the very keys a request reads;
it shares work through claims, skips what is cached, keeps what did not change warm, and
stops when the data change."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dashboard import pagestate
from dashboard.app import create_app
from dashboard.cache import KEY_PREFIX, TIMEOUT_SECONDS, LayerCache, cache_key
from dashboard.datasource import COUNTY, ReloadingSource
from dashboard.settings import load_settings
from dashboard.views import LAYERS, layer_key, layer_result, spec_of
from dashboard.views.wall import wall_data
from dashboard.views.warm import AREA_RES, OTHER_PRESETS, Warmer, jobs
from geodata.snapshot import Snapshot
from tests.dashboard.auth_data import SECRET, build_secure_data
from tests.dashboard.conftest import REAL_START


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_secure_data(tmp_path_factory.mktemp("warm") / "data")


def _parts(data: Path, **settings: Any) -> tuple[Any, ReloadingSource, LayerCache]:
    cfg = load_settings({}, data_dir=str(data), secret_key=SECRET, **settings)
    app = create_app(cfg)
    live = ReloadingSource(Snapshot(data))
    return cfg, live, LayerCache(app.server, cfg)


def _views(snapshot: Snapshot, *, others: bool = True) -> list[Any]:
    return [p for p in jobs(snapshot, others=others) if p is not None]


def test_warm_results_are_the_computed_ones_under_the_areas_keys(data: Path) -> None:
    _cfg, live, cache = _parts(data)
    warmer = Warmer(live, cache)
    snap = live.current
    report = warmer.warm(snap)
    # This small data set has no population: the wall is computed all the same.
    assert "population" not in snap.grids.columns
    assert report.state == "done" and report.failed == 0
    assert report.done == report.total and report.total > 0
    wall = cache.cache.get(cache_key("wall", version=snap.version, scope=COUNTY))
    fresh_wall = wall_data(live.view(None), cache)
    assert wall is not None and wall.version == fresh_wall.version
    assert wall.figures == fresh_wall.figures and wall.gaps == fresh_wall.gaps
    for params in _views(snap):
        kept = cache.cache.get(cache_key("layer", **layer_key(snap, params)))
        fresh = spec_of(params.layer).compute(snap, params)
        assert kept is not None, params
        assert np.array_equal(kept.cells, fresh.cells), params
        assert np.array_equal(kept.values, fresh.values, equal_nan=True), params
        # One entry for the whole area, whoever asks: no key holds a user's scope.
        assert layer_key(snap, params)["scope"] == COUNTY
    # A second pass finds everything cached: nothing computed again.
    again = warmer.warm(snap)
    assert again.done == 0 and again.skipped == again.total


def test_the_views_are_the_areas_not_one_set_per_chief(data: Path) -> None:
    cfg, live, _ = _parts(data)
    views = _views(live.current)
    # Sign-in on, two chiefs and a planner in the users file: the same views as without.
    assert cfg.auth == "users"
    assert len(views) == len(set(views))  # nothing twice
    windows = {
        preset: pagestate.window(live.current.last_day, preset=preset).iso
        for preset in ("30d", *OTHER_PRESETS)
    }
    for since, _until in windows.values():
        heat = [p for p in views if p.layer == "heat" and p.since == since]
        assert sorted(p.res for p in heat) == sorted(AREA_RES)
    # At most every layer at every resolution and window (fewer: clamps, ignored windows).
    assert len(views) <= len(LAYERS) * len(AREA_RES) * len(windows)
    # The default window's views all come before any other window's.
    first_other = next(i for i, p in enumerate(views) if p.since == windows["7d"][0])
    last_default = max(i for i, p in enumerate(views) if p.since == windows["30d"][0])
    assert last_default < first_other


def test_a_view_claimed_by_another_worker_is_left_to_it(data: Path) -> None:
    _cfg, live, cache = _parts(data)
    cache.claim = lambda key, seconds: False  # type: ignore[method-assign]
    report = Warmer(live, cache).warm(live.current)
    assert report.done == 0 and report.skipped == report.total
    snap = live.current
    p = _views(snap)[0]
    assert cache.cache.get(cache_key("layer", **layer_key(snap, p))) is None


class _Changing:
    """A live source whose version changes after ``after`` looks."""

    def __init__(self, live: ReloadingSource, after: int) -> None:
        self.live, self.after, self.looks = live, after, 0
        self.problem = None
        self.pending = None

    @property
    def current(self) -> Any:
        self.looks += 1
        src = self.live.current
        if self.looks > self.after:
            src.version = src.version + ":new"  # what a rebuild of the cubes does
        return src

    def view(self, scope: Any, snapshot: Any = None) -> Any:
        return self.live.view(scope, snapshot)


def test_the_warm_up_stops_when_the_data_change(data: Path) -> None:
    _cfg, _live, cache = _parts(data)
    changing = _Changing(ReloadingSource(Snapshot(data)), after=3)
    warmer = Warmer(changing, cache)  # type: ignore[arg-type]
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
    assert warm["state"] == "done"
    assert warm["computed"] == warm["views"] and warm["failed"] == 0
    assert warm["seconds"] is not None
    off = create_app(load_settings({}, data_dir=str(data), auth="none", warm="0"))
    assert off.server.test_client().get("/healthz").get_json()["warm"] == {"state": "off"}


def test_a_request_after_the_warm_up_reads_the_warm_result(data: Path) -> None:
    _cfg, live, cache = _parts(data)
    Warmer(live, cache).warm(live.current)
    snap = live.current
    p = next(p for p in _views(snap) if p.layer == "gaps")

    def fail() -> Any:
        raise AssertionError("computed again")

    assert cache.get_or_compute("layer", layer_key(snap, p), fail) is not None
    assert layer_result(snap, cache, p).layer == "gaps"


def test_has_tells_a_stored_key_without_reading_it(data: Path) -> None:
    _cfg, _live, cache = _parts(data)
    assert not cache.cache.has("layer:x")
    cache.cache.set("layer:x", {"big": "value"})
    assert cache.cache.has("layer:x")
    assert cache.claim("layer:x", 60)  # one process (simple cache): always its own


def test_new_incidents_leave_the_views_that_do_not_read_them_warm(tmp_path: Path) -> None:
    """The cache key of a layer holds the versions of what it reads: after the incidents
    cube changes, the response reach of the new snapshot is found warm, heat is not."""
    data = build_secure_data(tmp_path / "data")
    _cfg, live, cache = _parts(data)
    old = live.current
    Warmer(live, cache).warm(old, staged=True)
    cube = data / "cubes" / "incidents.parquet"
    # New content for the incidents cube (a row fewer), the other files untouched.
    import polars as pl

    frame = pl.read_parquet(cube)
    frame.slice(1).write_parquet(cube)
    new = Snapshot(data)
    assert new.version != old.version
    reach = next(p for p in _views(new, others=False) if p.layer == "reach")
    heat = next(p for p in _views(new, others=False) if p.layer == "heat")
    assert cache.cache.has(cache_key("layer", **layer_key(new, reach)))
    assert not cache.cache.has(cache_key("layer", **layer_key(new, heat)))
    report = Warmer(ReloadingSource(new), cache).warm(new, staged=True)
    assert 0 < report.done < report.total  # only what reads the incidents


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
        warmer = Warmer(live, cache)
        snap = live.current
        first = warmer.warm(snap)
        views = _views(snap)
        keys = [KEY_PREFIX + cache_key("layer", **layer_key(snap, p)) for p in views]
        assert first.done == len(views) + 1 and first.failed == 0  # and the wall
        assert all(client.exists(k) for k in keys)
        client.expire(keys[0], 5)  # about to expire
        client.delete(keys[1])  # evicted
        second = warmer.warm(snap, passes=2)
        assert second.passes == 2 and second.done == 1  # only the evicted one
        assert second.skipped == second.total - 1
        ttl: Any = client.ttl(keys[0])  # redis-py types it as maybe awaitable
        assert ttl > TIMEOUT_SECONDS - 60  # kept another timeout
        assert client.exists(keys[1])
        assert not cache.cache.touch("layer:absent", 60)
    finally:
        client.flushdb()


def test_new_data_go_into_service_once_their_default_window_is_warm(tmp_path: Path) -> None:
    data = build_secure_data(tmp_path / "data")
    _cfg, _live, cache = _parts(data)
    live = ReloadingSource(Snapshot(data), check_seconds=0.0)
    warmer = Warmer(live, cache, switch_wait_s=300)
    at_promotion: dict[str, Any] = {}
    promote = live.promote

    def watched(source: Snapshot) -> bool:
        at_promotion["served"] = live.current.version
        at_promotion["missing"] = [
            p for p in _views(source, others=False)
            if not cache.cache.has(cache_key("layer", **layer_key(source, p)))
        ]  # fmt: skip
        return promote(source)

    live.promote = watched  # type: ignore[method-assign]
    REAL_START(warmer)
    try:
        deadline = time.monotonic() + 120
        while warmer.report.state != "done" and time.monotonic() < deadline:
            time.sleep(0.1)
        old = live.current.version
        # New cubes: the incidents cube rewritten with other content (a row fewer).
        import polars as pl

        cube = data / "cubes" / "incidents.parquet"
        tmp = cube.with_suffix(".new")
        pl.read_parquet(cube).slice(1).write_parquet(tmp)
        os.replace(tmp, cube)
        while live.current.version == old and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        warmer.stop(timeout=30)
    assert live.current.version != old, "the new data never went into service"
    # Promoted by the warm-up (not by the 300 s hold), with the old data in service
    # until then, and the default window of the new data already warm.
    assert at_promotion["served"] == old
    assert at_promotion["missing"] == []
    assert live.reloads == 1


class _NewDataArrive:
    """A live source on which new data become pending after ``after`` looks."""

    def __init__(self, live: ReloadingSource, newer: Snapshot, after: int) -> None:
        self.live, self.newer, self.after, self.looks = live, newer, after, 0
        self.problem = None

    @property
    def current(self) -> Snapshot:
        return self.live.current

    @property
    def pending(self) -> Snapshot | None:
        self.looks += 1
        return self.newer if self.looks > self.after else None

    def view(self, scope: Any, snapshot: Any = None) -> Any:
        return self.live.view(scope, snapshot)


def test_a_pass_stops_when_new_data_are_pending_and_theirs_goes_on(
    data: Path, tmp_path: Path
) -> None:
    _cfg, live, cache = _parts(data)
    copy = tmp_path / "copy"
    shutil.copytree(data, copy)
    newer = Snapshot(copy)
    arriving = _NewDataArrive(live, newer, after=3)
    warmer = Warmer(arriving, cache)  # type: ignore[arg-type]
    old = warmer.warm(live.current)
    assert old.state == "stopped" and old.done + old.skipped < old.total
    staged = warmer.warm(newer, staged=True)  # the pending data's own pass is not stopped
    assert staged.state == "done" and staged.staged
    assert staged.total == len(list(jobs(newer, others=False)))


def test_without_redis_the_warm_up_keeps_to_what_the_cache_holds(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dashboard.views.warm as warm_module

    _cfg, live, cache = _parts(data)
    assert cache.kind == "simple"
    everything = list(jobs(live.current))
    monkeypatch.setattr(warm_module, "SIMPLE_LIMIT", 20)
    report = Warmer(live, cache).warm(live.current)
    assert len(everything) > 20 and report.total == 20 and report.done == 20
    assert everything[0] is not None and everything[0].since  # the default window first


def test_the_process_exits_after_the_view_under_way_not_in_the_middle_of_it(
    data: Path, tmp_path: Path
) -> None:
    """A daemon thread still computing when the interpreter finalises aborts or hangs the
    process (seen: SIGABRT "terminate called without an active exception" from polars):
    at exit the warm-up lets the view under way finish. Here that view takes 1.5 s and
    the process ends at once after starting it."""
    import subprocess
    import sys

    done = tmp_path / "finished"
    code = f"""
import time
from pathlib import Path
from flask import Flask
from dashboard.cache import LayerCache
from dashboard.datasource import ReloadingSource
from dashboard.settings import load_settings
from dashboard.views.warm import Warmer
from geodata.snapshot import Snapshot

started = Path({str(tmp_path / "started")!r})

def slow(self, source, params):
    started.touch()
    time.sleep(1.5)
    Path({str(done)!r}).touch()
    return True

Warmer._warm_one = slow
live = ReloadingSource(Snapshot(Path({str(data)!r})))
cfg = load_settings({{}}, data_dir={str(data)!r})
Warmer(live, LayerCache(Flask("exit"), cfg)).start()
while not started.exists():
    time.sleep(0.01)
"""
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert done.exists(), "the process ended in the middle of a view"
