"""Back and Forward on the map restore the view the URL holds, in a real Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboard.app import create_app
from dashboard.settings import load_settings
from tests.browser.conftest import LiveApp, serve
from tests.browser.test_map_restyle import DRAWN, check_pixels, open_map

pytestmark = pytest.mark.browser


SHOWN = """
const s = window.pnm && window.pnm.status && window.pnm.status.hexes;
const checked = document.querySelector('#layer-choice input:checked');
return s && s.expected > 0 && s.drawn === s.expected && checked
    ? {layer: s.layer, checked: checked.value} : null;
"""


@pytest.fixture
def live_app(map_data: Path) -> Iterator[LiveApp]:
    app = create_app(load_settings({}, data_dir=str(map_data), auth="none"))
    yield from serve(app.server)


def _query(driver: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(driver.current_url).query)


def _choose_layer(driver: Any, label: str) -> None:
    from selenium.webdriver.common.by import By

    for option in driver.find_elements(By.CSS_SELECTOR, "#layer-choice label"):
        if option.text.strip() == label:
            option.click()
            return
    raise AssertionError(f"no layer {label!r}")


def test_back_and_forward_restore_the_layer_of_each_history_entry(
    live_app: LiveApp, chrome: Any
) -> None:
    driver = chrome
    wait = open_map(driver, f"{live_app.url}/?layer=heat&lang=en")
    assert wait.until(lambda d: d.execute_script(SHOWN)) == {"layer": "heat", "checked": "heat"}

    _choose_layer(driver, "Incident rate per 1,000")
    wait.until(lambda d: _query(d).get("layer") == ["rate"])
    wait.until(lambda d: d.execute_script(SHOWN) == {"layer": "rate", "checked": "rate"})
    # The rate layer's hexagons were mostly the heat layer's: copied, not rebuilt, and
    # still each in its place with its class's colour.
    assert driver.execute_script("return window.pnm.status.hexes.reused") > 0
    assert check_pixels(driver, driver.execute_script(DRAWN)) >= 15

    driver.back()
    wait.until(lambda d: _query(d).get("layer") in (["heat"], None))
    wait.until(lambda d: d.execute_script(SHOWN) == {"layer": "heat", "checked": "heat"})

    driver.forward()
    wait.until(lambda d: _query(d).get("layer") == ["rate"])
    wait.until(lambda d: d.execute_script(SHOWN) == {"layer": "rate", "checked": "rate"})
