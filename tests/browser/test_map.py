"""The map page as a person sees it, in headless Chromium, on the small demo data set.

Waits for states (hexagons on the canvas, a label in the other language), never sleeps.
Records the time from navigation to hexagons drawn and the size of the hex payload in
``artifacts/browser-map.json``, and saves screenshots under ``artifacts/screenshots/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import h3
import pandas as pd
import pytest

from dashboard.app import create_app
from dashboard.settings import load_settings
from geodata.cubes import load_cube
from tests.browser.conftest import LiveApp, serve

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
TIMEOUT = 60  # seconds; a cold Chromium on a busy 2-core machine is slow to start

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
        bytes: s.bytes, painted: painted};
"""

RESOURCES = """
return performance.getEntriesByType('resource').map(e => ({
    name: e.name, transferSize: e.transferSize, encodedBodySize: e.encodedBodySize,
    decodedBodySize: e.decodedBodySize, initiatorType: e.initiatorType}));
"""


def _expected_res8_cells(data_dir: Path) -> int:
    """Distinct res-8 cells with incidents in the last 30 days, computed with h3-py."""
    cube = load_cube(data_dir, "incidents")
    until = pd.Timestamp(cube["hour"].max()).normalize() + pd.Timedelta(days=1)
    recent = cube[(cube["hour"] >= until - pd.Timedelta(days=30)) & (cube["count"] > 0)]
    return len({h3.cell_to_parent(h3.int_to_str(int(c)), 8) for c in recent["cell"].unique()})


@pytest.fixture
def live_app(map_data: Path) -> Iterator[LiveApp]:
    app = create_app(load_settings({}, data_dir=str(map_data)))
    yield from serve(app.server)


def _text(driver: object, selector: str) -> str:
    script = "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';"
    return str(driver.execute_script(script, selector))  # type: ignore[attr-defined]


NETWORK_SCHEMES = {"http", "https", "ws", "wss", "ftp"}


def _requests(driver: object) -> list[tuple[str, str]]:
    """(document URL, request URL) of every request in the performance log since last read."""
    found = []
    for entry in driver.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            params = message["params"]
            found.append((params.get("documentURL", ""), params["request"]["url"]))
    return found


def test_map_draws_hexagons_legend_and_switches_language(
    chrome: object, live_app: LiveApp, map_data: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chrome
    wait = WebDriverWait(driver, TIMEOUT)  # type: ignore[arg-type]
    driver.get_log("performance")  # type: ignore[attr-defined]  # drop the browser's start-up
    driver.get(f"{live_app.url}/")  # type: ignore[attr-defined]

    drawn = wait.until(lambda d: d.execute_script(HEXES_DRAWN))
    assert drawn["expected"] == _expected_res8_cells(map_data)

    legend = driver.find_element(By.ID, "legend")  # type: ignore[attr-defined]
    assert legend.is_displayed()
    assert "警情数" in legend.text
    banner = driver.find_element(By.ID, "synthetic-banner")  # type: ignore[attr-defined]
    assert banner.is_displayed()
    assert banner.text == "演示数据（合成），非真实警情"
    assert driver.execute_script("return document.documentElement.lang") == "zh-CN"  # type: ignore[attr-defined]

    ARTIFACTS.joinpath("screenshots").mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "screenshots" / "map.png"))  # type: ignore[attr-defined]

    resources = driver.execute_script(RESOURCES)  # type: ignore[attr-defined]
    logged = _requests(driver)
    requested = [url for _, url in logged] + [r["name"] for r in resources]
    outside = sorted(
        {u for u in requested if urlsplit(u).scheme in NETWORK_SCHEMES}
        - {u for u in requested if urlsplit(u).netloc == live_app.netloc}
    )
    assert outside == [], f"requests to other hosts: {outside}"
    from_page = {urlsplit(u).scheme for doc, u in logged if urlsplit(doc).netloc == live_app.netloc}
    assert from_page <= {"http", "data", "blob"}, f"unexpected schemes: {from_page}"
    assert len(requested) > 10  # the log did record the page's own requests

    updates = [r for r in resources if "_dash-update-component" in r["name"]]
    (ARTIFACTS / "browser-map.json").write_text(
        json.dumps(
            {
                "data_dir": str(map_data),
                "hexagons": drawn["expected"],
                "navigation_to_hexagons_drawn_ms": round(drawn["drawnAt"], 1),
                "hex_build_in_browser_ms": round(drawn["buildMs"], 1),
                "hex_payload_json_bytes": drawn["bytes"],
                "dash_update_responses": updates,
                "requests": len(logged),
            },
            indent=2,
        ),
        encoding="utf-8",
    )

    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[attr-defined]
    assert errors == [], "\n".join(errors)

    driver.find_element(By.ID, "lang-en").click()  # type: ignore[attr-defined]
    # The page is re-rendered in English: read texts in the page, not through element
    # handles that the re-render replaces.
    wait.until(lambda d: _text(d, "label[for='category-filter']") == "Incident categories")
    wait.until(lambda d: "Incidents" in _text(d, "#legend"))
    wait.until(lambda d: d.execute_script(HEXES_DRAWN))
    assert driver.execute_script("return document.documentElement.lang") == "en"  # type: ignore[attr-defined]
    assert "lang=en" in driver.current_url  # type: ignore[attr-defined]
    driver.save_screenshot(str(ARTIFACTS / "screenshots" / "map-en.png"))  # type: ignore[attr-defined]
