"""The gap layer and its ranked list as a person uses them, in headless Chromium.

Switch to the gap layer, see its legend and the list beside the map, click the first
entry, see the map fly there and the side panel give that entry's reason. Waits for
states, never sleeps; saves ``artifacts/screenshots/map-gaps.png``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboard.app import create_app
from dashboard.settings import load_settings
from dashboard.views.gaps import fly_zoom
from tests.browser.conftest import LiveApp, serve
from tests.browser.network import requested_urls

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
TIMEOUT = 120  # seconds: a cold gap layer on a busy 2-core machine

HEXES_DRAWN = """
const s = window.pnm && window.pnm.status && window.pnm.status.hexes;
return Boolean(s && s.drawn === s.expected && s.drawnAt !== null) ? s.layer : null;
"""


@pytest.fixture
def live_app(map_data: Path) -> Iterator[LiveApp]:
    app = create_app(load_settings({}, data_dir=str(map_data), auth="none"))
    yield from serve(app.server)


def _text(driver: Any, selector: str) -> str:
    script = "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';"
    return str(driver.execute_script(script, selector))


def _click_label(driver: Any, container: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    for label in driver.find_elements(By.CSS_SELECTOR, f"#{container} label"):
        if label.text.strip() == text:
            label.click()
            return
    raise AssertionError(f"no option {text!r} in #{container}")


def test_gap_layer_list_and_reason(chrome: Any, live_app: LiveApp) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chrome
    wait = WebDriverWait(driver, TIMEOUT)
    driver.get_log("performance")
    driver.get(f"{live_app.url}/")
    wait.until(lambda d: d.execute_script(HEXES_DRAWN) == "heat")
    assert not driver.find_element(By.ID, "gap-list").is_displayed()

    # Switch to the gap layer: its legend, its hexagons and the ranked list appear.
    _click_label(driver, "layer-choice", "防控缺口")
    wait.until(lambda d: "防控缺口" in _text(d, "#legend"))
    assert "警情数" not in _text(driver, "#legend")
    wait.until(lambda d: d.execute_script(HEXES_DRAWN) == "gaps")
    # The list ranks at the resolution the map draws (one frame, so the list's #1 is the
    # map's); an entry flies to the last zoom that still draws that resolution.
    drawn_res = int(driver.execute_script("return window.pnm.status.hexes.res"))
    entries = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#gap-list .pnm-gap-entry"))
    assert driver.find_element(By.ID, "gap-list").is_displayed()
    first = entries[0]
    reason = first.find_element(By.CSS_SELECTOR, ".pnm-gap-reason").text
    assert first.find_element(By.CSS_SELECTOR, ".pnm-gap-rank").text == "1"
    assert reason, "the first entry has a reason line"
    cell = json.loads(str(first.get_attribute("id")))["index"]

    # Click it: the map flies there, selects it, and the panel gives its reason.
    first.click()
    wait.until(
        lambda d: "pnm-panel-open" in (d.find_element(By.ID, "side-panel").get_attribute("class"))
    )
    wait.until(lambda d: "缺口原因" in _text(d, "#side-panel"))
    assert reason in _text(driver, "#side-panel")
    assert cell in _text(driver, ".pnm-panel-title")
    wait.until(lambda d: parse_qs(urlsplit(d.current_url).query).get("cell") == [cell])
    zoom = str(fly_zoom(drawn_res))
    wait.until(lambda d: parse_qs(urlsplit(d.current_url).query).get("zoom") == [zoom])
    wait.until(lambda d: d.execute_script("return window.pnm.status.hexes.res") == drawn_res)
    wait.until(lambda d: d.execute_script(HEXES_DRAWN) == "gaps")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#gap-list .pnm-gap-selected"))
    ARTIFACTS.joinpath("screenshots").mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "screenshots" / "map-gaps.png"))

    requested = requested_urls(driver)
    outside = {
        u
        for u in requested
        if urlsplit(u).scheme in ("http", "https", "ws", "wss")
        and urlsplit(u).netloc != live_app.netloc
    }
    assert not outside, sorted(outside)
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], "\n".join(errors)
