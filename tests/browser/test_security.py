"""Security as a person's browser sees it: signing in through the form, the page working
under the Content-Security-Policy with no violation, and a community named
``<img src=x onerror=...>`` shown as text in the search box and the side panel, never run.

One test on the tiny data set with accounts (tests/dashboard/auth_data.py), sign-in on.
Every ``securitypolicyviolation`` event of every document is recorded from the first
script on (a script the DevTools protocol adds before the page's own).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h3
import pytest

from dashboard.app import create_app
from dashboard.settings import load_settings
from tests.browser.conftest import LiveApp, serve
from tests.dashboard.auth_data import PASSWORDS, SECRET, XSS_NAME, build_secure_data

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
TIMEOUT = 90

VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push({directive: e.violatedDirective, blocked: e.blockedURI,
                               source: e.sourceFile, line: e.lineNumber, sample: e.sample});
});
"""

HEXES_DRAWN = """
const s = window.pnm && window.pnm.status && window.pnm.status.hexes;
return !!(s && s.expected > 0 && s.drawn === s.expected);
"""

OPTIONS = """
return Array.from(document.querySelectorAll('[role=option]')).map(e => e.textContent).join('\\n');
"""

XSS_STATE = """
return {fired: window.__xss !== undefined,
        images: document.querySelectorAll('img[src="x"], img[src$="/x"]').length,
        violations: window.__cspViolations || null};
"""


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    data = build_secure_data(tmp_path / "data")
    app = create_app(load_settings({}, data_dir=str(data), secret_key=SECRET))
    yield from serve(app.server)


def _screenshot(driver: Any, name: str) -> None:
    ARTIFACTS.joinpath("screenshots").mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "screenshots" / name))


def _text(driver: Any, selector: str) -> str:
    script = "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';"
    return str(driver.execute_script(script, selector))


def test_sign_in_csp_and_a_hostile_name_shown_as_text(chrome: Any, live_app: LiveApp) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chrome
    wait = WebDriverWait(driver, TIMEOUT)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": VIOLATIONS})

    # Not signed in: the sign-in page (itself under a strict policy), then the map.
    driver.get(f"{live_app.url}/?lang=zh")
    wait.until(lambda d: "/login" in d.current_url)
    assert driver.execute_script("return window.__cspViolations") == []
    driver.find_element(By.ID, "name").send_keys("boss")
    driver.find_element(By.ID, "password").send_keys(PASSWORDS["boss"], Keys.ENTER)
    wait.until(lambda d: d.execute_script(HEXES_DRAWN))
    wait.until(lambda d: "当前用户：boss（指挥中心）" in _text(d, "#auth-bar"))
    form = driver.find_element(By.CSS_SELECTOR, "#auth-bar form")
    assert form.get_attribute("method").lower() == "post"
    assert form.get_attribute("action").endswith("/logout?lang=zh")

    # The hostile name in the search box's options: text, not an element.
    driver.find_element(By.ID, "place-search").click()  # Dash 4: a button opening a popover
    box = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "input.dash-dropdown-search"))
    box.send_keys("<img")
    wait.until(lambda d: XSS_NAME in (d.execute_script(OPTIONS) or ""))
    _screenshot(driver, "security-xss-search.png")

    # ... and in the side panel's list of communities nearby.
    cell = h3.latlng_to_cell(31.3810, 107.7610, 10)
    driver.get(f"{live_app.url}/?cell={cell}&lat=31.381&lng=107.761&zoom=15")
    wait.until(
        lambda d: (
            "pnm-panel-open" in (d.find_element(By.ID, "side-panel").get_attribute("class") or "")
        )
    )
    wait.until(lambda d: XSS_NAME in _text(d, "#side-panel"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#cell-trend .main-svg"))
    names = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#side-panel .pnm-name")]
    assert XSS_NAME in names
    _screenshot(driver, "security-xss-panel.png")

    state = driver.execute_script(XSS_STATE)
    assert state["fired"] is False, "the onerror handler ran"
    assert state["images"] == 0, "the name became an <img> element"
    assert state["violations"] == [], state["violations"]
    console = [e for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    assert console == []

    # The sign-out button (a form posted) signs out: the map asks for a sign-in again.
    driver.get(f"{live_app.url}/?lang=zh")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#auth-bar button.pnm-sign-out"))
    driver.find_element(By.CSS_SELECTOR, "#auth-bar button.pnm-sign-out").click()
    wait.until(lambda d: "/login" in d.current_url)
    driver.get(f"{live_app.url}/?lang=zh")
    wait.until(lambda d: "/login" in d.current_url)
