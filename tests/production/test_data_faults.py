"""New cubes reach the map without a restart; damaged cubes leave the last good data in
service with a banner, and a rebuild brings everything back by itself."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from dashboard.app import create_app
from dashboard.datasource import ReloadingSource
from dashboard.settings import load_settings
from geodata.snapshot import Snapshot
from geodata.store import cubes_dir
from tests.dashboard.tiny_data import CUBE_ROWS, NEW_ROW, rebuild_cube
from tests.production.conftest import Browser

# The tiny cube's counts add up to 2 + 1 + 4 + 7 + 50 (tests/dashboard/tiny_data.py).
TINY_TOTAL = 64


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_new_cubes_are_served_without_a_restart_under_a_new_version(tiny: Path) -> None:
    live = ReloadingSource(Snapshot(tiny), check_seconds=0.0)
    before = live.version
    assert int(live.current.incident_cube["count"].sum()) == TINY_TOTAL
    assert live.refresh() is False  # nothing changed: not reopened

    rebuild_cube(tiny, [*CUBE_ROWS, NEW_ROW], "2026-11-26T08:00:00+00:00")
    assert int(live.current.incident_cube["count"].sum()) == TINY_TOTAL + 5  # seen on next access
    assert live.version != before  # every cache key changes with it
    assert live.reloads == 1 and live.problem is None


def test_a_truncated_cube_keeps_the_page_up_with_a_banner_and_recovers_on_rebuild(
    tiny: Path,
) -> None:
    app = create_app(load_settings({}, data_dir=str(tiny), auth="none"))
    browser = Browser(app.server.test_client())
    status, good = browser.layer("heat")
    assert status == 200
    health = browser.client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["status"] == "ok"
    assert health.get_json()["data"]["newest"] == "2026-11-25T23:00:00"

    truncate(cubes_dir(tiny) / "incidents.parquet")
    health = browser.client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["data"]["problem"] == "data incomplete"
    assert health.get_json()["store"]["reachable"] is False
    status, page = browser.page("/")
    assert status == 200 and "数据不完整" in json.dumps(page, ensure_ascii=False)
    status, response = browser.layer("heat")
    assert status == 200 and response["hex-data"] == good["hex-data"]  # the last good data

    rebuild_cube(tiny, [*CUBE_ROWS, NEW_ROW], "2026-11-26T09:00:00+00:00")
    health = browser.client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["data"]["problem"] is None
    assert health.get_json()["data"]["built_at"] == "2026-11-26T09:00:00+00:00"
    status, page = browser.page("/")
    assert status == 200 and "数据不完整" not in json.dumps(page, ensure_ascii=False)
    status, response = browser.layer("heat")
    assert status == 200 and response["hex-data"] != good["hex-data"]  # the new cube


def test_a_cube_restored_with_its_mtime_is_picked_up_without_a_touch(
    tiny: Path, tmp_path: Path
) -> None:
    """``cp -p`` of a backup over a truncated cube: size and mtime as before, same inode."""
    app = create_app(load_settings({}, data_dir=str(tiny), auth="none"))
    client = app.server.test_client()
    assert client.get("/healthz").status_code == 200
    cube = cubes_dir(tiny) / "incidents.parquet"
    backup = tmp_path / "incidents.parquet.bak"
    shutil.copy2(cube, backup)
    before = cube.stat()

    truncate(cube)
    assert client.get("/healthz").status_code == 503
    shutil.copy2(backup, cube)
    after = cube.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size, before.st_mtime_ns, before.st_ino,
    )  # fmt: skip
    health = client.get("/healthz")
    assert health.status_code == 200, health.get_json()
    assert health.get_json()["data"]["problem"] is None
    status, response = Browser(client).layer("heat")
    assert status == 200 and response["hex-data"]


def test_staged_new_cubes_wait_until_promoted_or_the_hold_ends(tiny: Path) -> None:
    now = [0.0]
    live = ReloadingSource(Snapshot(tiny), check_seconds=0.0, clock=lambda: now[0])
    live.stage(60)
    before = live.version

    rebuild_cube(tiny, [*CUBE_ROWS, NEW_ROW], "2026-11-26T08:00:00+00:00")
    assert live.refresh() is True  # opened, but held back
    pending = live.pending
    assert pending is not None and pending.version != before
    assert int(pending.incident_cube["count"].sum()) == TINY_TOTAL + 5
    assert live.version == before  # the warm data still answer
    assert int(live.current.incident_cube["count"].sum()) == TINY_TOTAL
    assert live.refresh() is False  # the same change is not opened twice
    assert health_data(live)["pending"] is True
    assert live.promote(pending) and live.version == pending.version
    assert live.pending is None and live.reloads == 1
    assert not live.promote(pending)  # no longer pending: nothing happens

    # Not promoted: in service by itself once held 60 s — a newer change meanwhile
    # replaces the pending data but keeps the first one's deadline.
    now[0] = 10.0
    rebuild_cube(tiny, list(CUBE_ROWS), "2026-11-26T09:00:00+00:00")
    live.refresh()
    first = live.pending
    now[0] = 50.0
    rebuild_cube(tiny, [*CUBE_ROWS, NEW_ROW, NEW_ROW], "2026-11-26T10:00:00+00:00")
    live.refresh()
    newer = live.pending
    assert first is not None and newer is not None and newer is not first
    now[0] = 69.9
    assert live.version == pending.version
    now[0] = 70.0
    assert live.version == newer.version and live.pending is None
    assert int(live.current.incident_cube["count"].sum()) == TINY_TOTAL + 10


def health_data(live: ReloadingSource) -> dict[str, object]:
    """The ``data`` part of ``/healthz`` for ``live`` (an in-process cache)."""
    from flask import Flask

    from dashboard.cache import LayerCache
    from dashboard.health import health

    settings = load_settings({}, data_dir=str(live.data_dir), auth="none")
    report, _code = health(live, LayerCache(Flask(__name__), settings))
    return dict(report["data"])


def test_incidents_dated_2099_or_9999_do_not_move_the_window_or_break_a_page(
    tiny: Path,
) -> None:
    app = create_app(load_settings({}, data_dir=str(tiny), auth="none"))
    browser = Browser(app.server.test_client())
    status, good = browser.layer("heat")
    assert status == 200

    # A cube built from data imported before the time check: one row in 2099, one in 9999.
    far = [
        (CUBE_ROWS[0][0], "2099-06-01 00:00", "theft", 1),
        (CUBE_ROWS[0][0], "9999-12-31 23:00", "theft", 1),
    ]
    rebuild_cube(tiny, [*CUBE_ROWS, *far], "2026-11-26T08:00:00+00:00")
    live = ReloadingSource(Snapshot(tiny), check_seconds=0.0)
    assert live.current.window == (pd.Timestamp("2026-10-27"), pd.Timestamp("2026-11-26"))
    assert live.current.last_day == pd.Timestamp("2026-11-25")

    health = browser.client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["data"]["newest"] == "2026-11-25T23:00:00"
    for path in ("/", "/wall", "/export"):
        status, _page = browser.page(path)
        assert status == 200, path
    status, response = browser.layer("heat")
    assert status == 200 and response["hex-data"] == good["hex-data"]  # the map unchanged
