"""The wall screen as a command centre sees it, in headless Chromium at 1920x1080 and
3840x2160, on a copy of the small demo data set served by ``python -m dashboard`` in a
subprocess (so it can be killed and started again on the same port).

Waits for states (a title, a figure, a banner's class), never sleeps. Saves
``artifacts/screenshots/wall-1080.png`` and ``wall-2160.png``.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dashboard.views.wall import VIEW_TITLES
from geodata.store import read_table, write_table

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
TIMEOUT = 120  # seconds; a cold Chromium and a cold server on a busy 2-core machine
EXTRA_INCIDENTS = 25

HEXES_DRAWN = """
const s = window.pnm && window.pnm.status && window.pnm.status.hexes;
return !!s && s.expected > 0 && s.drawn === s.expected;
"""
FIGURE = """
const e = document.querySelector('#wall-figure-' + arguments[0] + ' .pnm-wall-figure-value');
return e ? e.innerText : null;
"""
# Counts the timers the page holds (setInterval minus clearInterval), from page start.
TIMERS = """
(function () {
  const active = new Set();
  const set = window.setInterval, clear = window.clearInterval;
  window.setInterval = function () { const id = set.apply(window, arguments); active.add(id); return id; };
  window.clearInterval = function (id) { active.delete(id); return clear.call(window, id); };
  window.__activeIntervals = () => active.size;
})();
"""
LAYOUT = """
const h = window.innerHeight, w = window.innerWidth;
const box = e => e.getBoundingClientRect();
const px = (sel) => parseFloat(getComputedStyle(document.querySelector(sel)).fontSize);
const tiles = [...document.querySelectorAll('.pnm-wall-figure')];
const list = document.querySelector('.pnm-wall-gap-list');
const shown = [...document.querySelectorAll('.pnm-wall-gap')].filter(
  e => box(e).left < box(list).right);
const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1 &&
  a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
const overlap = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 &&
  a.top < b.bottom - 1 && b.top < a.bottom - 1;
const screen = {left: 0, top: 0, right: w, bottom: h};
return {
  height: h,
  value_px: px('.pnm-wall-figure-value'),
  label_px: px('.pnm-wall-figure-label'),
  title_px: px('#wall-title'),
  place_px: px('.pnm-wall-gap-place'),
  reason_px: px('.pnm-wall-gap-reason'),
  legend_px: px('.pnm-wall-legend .pnm-legend-row'),
  tiles_overflowing: tiles.filter(t => t.scrollWidth > t.clientWidth + 1).length,
  tiles_off_screen: tiles.filter(t => !inside(box(t), screen)).length,
  tiles_overlapping: tiles.some((a, i) => tiles.some((b, j) => i < j && overlap(box(a), box(b)))),
  header_overflowing: document.querySelector('.pnm-wall-header').scrollWidth > w + 1,
  gaps_shown: shown.length,
  gaps_clipped: shown.filter(e => !inside(box(e), box(list))).length,
  figures_over_gaps: overlap(box(document.querySelector('.pnm-wall-figures')), box(list)),
  legend_on_screen: inside(box(document.querySelector('.pnm-wall-legends')), screen),
};
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``python -m dashboard`` on ``data`` and a fixed port, in a subprocess."""

    def __init__(self, data: Path, port: int, log: Path) -> None:
        self.data, self.port, self.log = data, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "PNM_AUTH": "none",
            "PNM_WALL_STALE_MINUTES": "600",
            "PYTHONPATH": str(ROOT),
        }
        command = [sys.executable, "-m", "dashboard", "--data", str(self.data)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*command, "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait(self._answers, f"the server on port {self.port} to answer")

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the server exited: {self.log.read_text()[-2000:]}")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", "/wall")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None


def _wait(ready: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    """Poll ``ready`` until it returns something true; fail saying ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        time.sleep(0.2)  # the polling step of a wait for a state, not a wait for time
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def wall_data(demo_with_cubes: Path, tmp_path: Path) -> Path:
    """A copy of the small demo with cubes: this test adds incidents to it."""
    out = tmp_path / "data"
    shutil.copytree(demo_with_cubes, out)
    return out


@pytest.fixture
def server(wall_data: Path, tmp_path: Path) -> Iterator[Server]:
    s = Server(wall_data, _free_port(), tmp_path / "server.log")
    s.start()
    try:
        yield s
    finally:
        s.stop()


def _screenshot(driver: Any, name: str) -> None:
    ARTIFACTS.joinpath("screenshots").mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "screenshots" / name))


def _text(driver: Any, selector: str) -> str:
    script = "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';"
    return str(driver.execute_script(script, selector))


def _banner(driver: Any) -> str:
    script = "const e = document.getElementById('wall-banner'); return e ? e.className : '';"
    return str(driver.execute_script(script))


def _callback_answers(driver: Any) -> list[str]:
    """The bodies of the Dash callback answers in the performance log since last read
    (those Chromium still holds; the HTTP test in tests/dashboard reads every one)."""
    from selenium.common.exceptions import WebDriverException

    bodies = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] != "Network.responseReceived":
            continue
        if "_dash-update-component" not in message["params"]["response"]["url"]:
            continue
        request = {"requestId": message["params"]["requestId"]}
        try:
            got = driver.execute_cdp_cmd("Network.getResponseBody", request)
        except WebDriverException:
            got = None
        if got:
            bodies.append(json.dumps(json.loads(got["body"]), ensure_ascii=False))
    return bodies


def _add_incidents(data: Path, n: int) -> None:
    """Append ``n`` incidents in the data's newest hour, then rebuild the cubes."""
    incidents = read_table(data, "incidents")
    extra = incidents.iloc[:n].copy()
    extra["incident_id"] = [f"WALL{i:06d}" for i in range(n)]
    extra["time"] = pd.Timestamp(incidents["time"].max())
    write_table(data, "incidents", pd.concat([incidents, extra], ignore_index=True))
    subprocess.run(
        [sys.executable, "-m", "geodata", "cubes", "--data", str(data)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        capture_output=True,
    )


def test_wall_rotates_refreshes_survives_a_restart_and_goes_stale(
    chrome: Any, server: Server, wall_data: Path
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chrome
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TIMERS})
    driver.get(f"{server.url}/wall?period=2&refresh=2")
    wait = WebDriverWait(driver, TIMEOUT, poll_frequency=0.2)
    wait.until(lambda d: d.execute_script(HEXES_DRAWN))
    today = wait.until(lambda d: d.execute_script(FIGURE, "today"))

    # It rotates through every view on its own.
    titles = {label.zh for label in VIEW_TITLES.values()}
    seen: set[str] = set()

    def all_seen(d: Any) -> bool:
        seen.add(_text(d, "#wall-title"))
        return titles <= seen

    wait.until(all_seen)
    # ... and what it holds does not grow: the same view a cycle later has the same DOM
    # and the same timers (the two dcc.Interval and whatever the libraries keep).
    wait.until(lambda d: _text(d, "#wall-title") == "防控缺口")
    nodes = driver.execute_script("return document.getElementsByTagName('*').length")
    timers = driver.execute_script("return window.__activeIntervals()")
    wait.until(lambda d: _text(d, "#wall-title") != "防控缺口")
    wait.until(lambda d: _text(d, "#wall-title") == "防控缺口")
    wait.until(lambda d: d.execute_script(HEXES_DRAWN))
    assert driver.execute_script("return document.getElementsByTagName('*').length") == nodes
    assert driver.execute_script("return window.__activeIntervals()") == timers
    layout = driver.execute_script(LAYOUT)
    _screenshot(driver, "wall-1080.png")
    assert layout["height"] == 1080
    assert layout["value_px"] >= 0.06 * 1080  # headline numbers: 6 % of the screen's height
    assert min(layout["label_px"], layout["place_px"], layout["legend_px"]) >= 0.02 * 1080
    assert not (layout["tiles_overflowing"] or layout["tiles_off_screen"])
    assert not (layout["tiles_overlapping"] or layout["header_overflowing"])
    assert layout["gaps_clipped"] == 0 and not layout["figures_over_gaps"]

    # New incidents in the store: the figure follows without a reload.
    before = int(today.replace(",", ""))
    _add_incidents(wall_data, EXTRA_INCIDENTS)
    wait.until(lambda d: d.execute_script(FIGURE, "today") == f"{before + EXTRA_INCIDENTS:,}")

    # Nothing the wall received names a person.
    officers = set(read_table(wall_data, "grids")["community_officer"].astype(str))
    answers = _callback_answers(driver)
    assert any('"wall-status"' in a for a in answers)
    page_text = str(driver.execute_script("return document.body.innerText"))
    for text in [*answers, page_text]:
        assert not [name for name in officers if name in text]
        assert "WALL000" not in text  # the incident numbers just added

    # The server goes away: the picture stays, the banner says so; it comes back on the
    # same port and the next refresh clears the banner, with no reload of the page.
    driver.execute_script("window.__samePage = true")
    app = driver.execute_script("return window.pnm.wall.seen.app")
    server.stop()
    wait.until(lambda d: "pnm-wall-banner-offline" in _banner(d))
    assert driver.execute_script(FIGURE, "today") == f"{before + EXTRA_INCIDENTS:,}"
    assert "连接中断" in _text(driver, "#wall-banner")
    server.start()
    wait.until(lambda d: "pnm-wall-banner-off" in _banner(d).split())
    # The same page, unless the server came back with other code (then it reloads).
    same = driver.execute_script("return window.__samePage === true")
    assert same or driver.execute_script("return window.pnm.wall.seen.app") != app
    # (After such a reload the figures are back with the first refresh.)
    wait.until(lambda d: d.execute_script(FIGURE, "today") == f"{before + EXTRA_INCIDENTS:,}")

    # Data older than the wall's limit (here 0.001 minutes): the stale banner.
    driver.get(f"{server.url}/wall?refresh=2&stale=0.001")
    wait.until(lambda d: "pnm-wall-banner-stale" in _banner(d))
    assert "未更新" in _text(driver, "#wall-banner")


def test_wall_at_3840x2160_reads_like_1080_at_twice_the_size(chrome: Any, server: Server) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chrome
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 3840, "height": 2160, "deviceScaleFactor": 1, "mobile": False},
    )
    driver.get(f"{server.url}/wall?views=gaps,heat&period=600")
    wait = WebDriverWait(driver, TIMEOUT, poll_frequency=0.2)
    wait.until(lambda d: d.execute_script(HEXES_DRAWN))
    wait.until(lambda d: d.execute_script(FIGURE, "certified"))
    layout = driver.execute_script(LAYOUT)
    _screenshot(driver, "wall-2160.png")
    assert layout["height"] == 2160
    assert layout["value_px"] >= 0.06 * 2160
    assert min(layout["label_px"], layout["place_px"], layout["legend_px"]) >= 0.02 * 2160
    assert not (layout["tiles_overflowing"] or layout["tiles_off_screen"])
    assert not (layout["tiles_overlapping"] or layout["header_overflowing"])
    assert layout["gaps_shown"] >= 1 and layout["gaps_clipped"] == 0
    assert layout["legend_on_screen"]
