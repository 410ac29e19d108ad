"""The map page as a person sees it, in headless Chromium, on the small demo data set.

Waits for states (hexagons on the canvas, a legend title, the side panel open), never
sleeps. Records the time from navigation to hexagons drawn and the size of the hex
payload in ``artifacts/browser-map.json``, saves screenshots under
``artifacts/screenshots/``, and checks that every request of the page goes to the app.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import h3
import pandas as pd
import pytest

from dashboard.app import create_app
from dashboard.settings import load_settings
from geodata.cubes import load_cube
from tests.browser.conftest import LiveApp, serve

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
TIMEOUT = 90  # seconds; a cold Chromium on a busy 2-core machine is slow to start
CJK = re.compile(r"[\u3400-\u9fff]")

HEXES_DRAWN = """
const s = window.pnm && window.pnm.status && window.pnm.status.hexes;
if (!s || s.expected === 0 || s.drawn !== s.expected) { return null; }
const canvas = document.querySelector('.leaflet-pnm-hexes-pane canvas');
if (!canvas) { return null; }
const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
let painted = 0;
for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { painted += 1; } }
if (painted === 0) { return null; }
return {expected: s.expected, drawn: s.drawn, drawnAt: s.drawnAt, buildMs: s.buildMs,
        painted: painted, res: s.res, layer: s.layer,
        generation: s.generation};
"""

RESOURCES = """
return performance.getEntriesByType('resource').map(e => ({
    name: e.name, transferSize: e.transferSize, encodedBodySize: e.encodedBodySize,
    decodedBodySize: e.decodedBodySize, initiatorType: e.initiatorType}));
"""

NETWORK_SCHEMES = {"http", "https", "ws", "wss", "ftp"}


def _expected_cells(data_dir: Path, res: int) -> int:
    """Distinct res-``res`` cells with incidents in the last 30 days, computed with h3-py."""
    cube = load_cube(data_dir, "incidents")
    until = pd.Timestamp(cube["hour"].max()).normalize() + pd.Timedelta(days=1)
    recent = cube[(cube["hour"] >= until - pd.Timedelta(days=30)) & (cube["count"] > 0)]
    return len({h3.cell_to_parent(h3.int_to_str(int(c)), res) for c in recent["cell"].unique()})


@pytest.fixture
def live_app(map_data: Path) -> Iterator[LiveApp]:
    app = create_app(load_settings({}, data_dir=str(map_data), auth="none"))
    yield from serve(app.server)


def _text(driver: Any, selector: str) -> str:
    script = "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';"
    return str(driver.execute_script(script, selector))


def _requests(driver: Any) -> list[tuple[str, str]]:
    """(document URL, request URL) of every request in the performance log since last read."""
    found = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            params = message["params"]
            found.append((params.get("documentURL", ""), params["request"]["url"]))
    return found


def _outside(requested: list[str], netloc: str) -> list[str]:
    return sorted(
        {u for u in requested if urlsplit(u).scheme in NETWORK_SCHEMES}
        - {u for u in requested if urlsplit(u).netloc == netloc}
    )


def _click_label(driver: Any, container: str, text: str) -> None:
    """Click the radio option of ``container`` whose label reads ``text``."""
    from selenium.webdriver.common.by import By

    for label in driver.find_elements(By.CSS_SELECTOR, f"#{container} label"):
        if label.text.strip() == text:
            label.click()
            return
    raise AssertionError(f"no option {text!r} in #{container}")


def _new_hexes(previous: int) -> str:
    return HEXES_DRAWN.replace(
        "if (painted === 0)", f"if (s.generation <= {previous} || painted === 0)"
    )


def _screenshot(driver: Any, name: str) -> None:
    ARTIFACTS.joinpath("screenshots").mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "screenshots" / name))


def test_map_layers_window_panel_and_shared_url(
    chrome: Any, live_app: LiveApp, map_data: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chrome
    wait = WebDriverWait(driver, TIMEOUT)
    driver.get_log("performance")  # drop the browser's start-up
    driver.get(f"{live_app.url}/")

    # Hexagons drawn, at the resolution the zoom asked for, every cell with incidents.
    drawn = wait.until(lambda d: d.execute_script(HEXES_DRAWN))
    assert drawn["layer"] == "heat"
    assert drawn["expected"] == _expected_cells(map_data, drawn["res"])
    legend = driver.find_element(By.ID, "legend")
    assert legend.is_displayed() and "警情数" in legend.text
    assert driver.find_element(By.ID, "synthetic-banner").text == "演示数据（合成），非真实警情"
    assert driver.execute_script("return document.documentElement.lang") == "zh-CN"
    _screenshot(driver, "map.png")
    resources = driver.execute_script(RESOURCES)
    updates = [r for r in resources if "_dash-update-component" in r["name"]]
    (ARTIFACTS / "browser-map.json").write_text(
        json.dumps(
            {
                "data_dir": str(map_data),
                "hexagons": drawn["expected"],
                "res": drawn["res"],
                "navigation_to_hexagons_drawn_ms": round(drawn["drawnAt"], 1),
                "hex_build_in_browser_ms": round(drawn["buildMs"], 1),
                "dash_update_responses": updates,
            },
            indent=2,
        ),
        encoding="utf-8",
    )

    # Switch the layer: the legend changes with it.
    _click_label(driver, "layer-choice", "1-3-5 处置圈")
    wait.until(lambda d: "1-3-5 应急处置圈" in _text(d, "#legend"))
    wait.until(lambda d: "超过5分钟" in _text(d, "#legend"))
    _click_label(driver, "layer-choice", "警情热力")
    wait.until(lambda d: "警情数" in _text(d, "#legend"))

    # Change the time window: the numbers change.
    before = wait.until(lambda d: _text(d, "#heat-summary") or None)
    _click_label(driver, "window-preset", "近 7 天")
    wait.until(lambda d: _text(d, "#heat-summary") not in ("", before))
    assert re.search(r"共 [\d,]+ 起警情", _text(driver, "#heat-summary"))
    assert "2026-11-19 至 2026-11-25" in _text(driver, "#window-text")

    # Click the map: the panel opens with the why, and the map drills down to a precinct.
    generation = driver.execute_script("return window.pnm.status.hexes.generation")
    driver.find_element(By.CSS_SELECTOR, "#map").click()  # the centre of the county
    wait.until(
        lambda d: "pnm-panel-open" in d.find_element(By.ID, "side-panel").get_attribute("class")
    )
    wait.until(lambda d: "颜色依据" in _text(d, "#side-panel"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#cell-trend .main-svg"))
    wait.until(lambda d: d.execute_script(_new_hexes(generation)))
    wait.until(lambda d: "cell=" in d.current_url and "zoom=" in d.current_url)
    _screenshot(driver, "map-panel.png")
    title = _text(driver, ".pnm-panel-title")
    shared = driver.current_url
    query = parse_qs(urlsplit(shared).query)
    assert query["window"] == ["7d"] and query["lang"] == ["zh"]

    # Open the shared URL afresh: the same window, place, zoom and selected cell.
    driver.get(shared)
    wait.until(
        lambda d: (
            "pnm-panel-open" in (d.find_element(By.ID, "side-panel").get_attribute("class") or "")
        )
    )
    wait.until(lambda d: _text(d, ".pnm-panel-title") == title)
    wait.until(lambda d: d.execute_script(HEXES_DRAWN))
    checked = driver.find_element(By.CSS_SELECTOR, "#window-preset input:checked")
    assert checked.get_attribute("value") == "7d"
    zoom = driver.execute_script(
        "return document.querySelector('#map') && window.pnm.status.hexes.res"
    )
    assert zoom == drawn["res"] or zoom >= drawn["res"]  # drilled in: finer or equal
    assert parse_qs(urlsplit(driver.current_url).query)["zoom"] == query["zoom"]

    requested = [u for _, u in _requests(driver)]
    requested += [r["name"] for r in driver.execute_script(RESOURCES)]
    assert _outside(requested, live_app.netloc) == []
    assert len(requested) > 10
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], "\n".join(errors)


def test_language_switch_leaves_no_mixed_screen(
    chrome: Any, live_app: LiveApp, map_data: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chrome
    wait = WebDriverWait(driver, TIMEOUT)
    driver.get_log("performance")
    driver.get(f"{live_app.url}/?layer=community")
    wait.until(lambda d: d.execute_script(HEXES_DRAWN))
    wait.until(lambda d: "平安创建" in _text(d, "#legend"))
    driver.find_element(By.ID, "lang-en").click()
    wait.until(lambda d: _text(d, "label[for='category-filter']") == "Incident categories")
    wait.until(lambda d: "Safe-community status" in _text(d, "#legend"))
    wait.until(lambda d: d.execute_script(HEXES_DRAWN))
    wait.until(lambda d: _text(d, "#heat-summary") != "")
    assert driver.execute_script("return document.documentElement.lang") == "en"
    assert "layer=community" in driver.current_url and "lang=en" in driver.current_url
    area = str(json.loads((map_data / "manifest.json").read_text(encoding="utf-8"))["area"]["name"])
    # Only data (the area's name, the places named on the map) and the switch back to
    # Chinese may be Chinese.
    names = set(driver.execute_script(
        "return [...document.querySelectorAll('.pnm-label span')].map(e => e.textContent);"
    ))  # fmt: skip
    lines = [
        ln.strip()
        for ln in _text(driver, "body").replace(area, "").splitlines()
        if CJK.search(ln) and ln.strip() not in names
    ]
    assert set(lines) <= {"中文"}, lines
    _screenshot(driver, "map-en.png")
    requested = [u for _, u in _requests(driver)]
    assert _outside(requested, live_app.netloc) == []
