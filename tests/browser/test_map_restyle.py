"""The hex layer in a real Chromium: a new classification repaints in the browser alone.

The server sends a layer's styles for every scheme with the layer; choosing another
scheme must repaint the canvas in the new classes without asking the server again, and
every hexagon must show the colour of its class.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h3
import pytest

from dashboard.app import create_app
from dashboard.settings import load_settings
from tests.browser.conftest import LiveApp, serve

pytestmark = pytest.mark.browser

TIMEOUT = 90  # seconds; a cold Chromium on a busy 2-core machine is slow to start
FILL_ALPHA = round(0.78 * 255)  # the hexagons' fill opacity (pnm.js)

DRAWN = """
const s = window.pnm && window.pnm.status && window.pnm.status.hexes;
if (!s || s.expected === 0 || s.drawn !== s.expected) { return null; }
const shown = window.pnm.inspect();
return shown && {paints: s.paints, generation: s.generation, hideout: shown.hideout,
                 cells: shown.cells, v: shown.v, mode: s.mode};
"""


@pytest.fixture
def live_app(map_data: Path) -> Iterator[LiveApp]:
    app = create_app(load_settings({}, data_dir=str(map_data), auth="none"))
    yield from serve(app.server)


def _class_of(value: float, breaks: list[float] | None) -> int:
    """The class of a value: the first upper bound not below it (independent of pnm.js)."""
    if breaks is None:
        return int(value)
    return next((i for i, b in enumerate(breaks) if value <= b), len(breaks) - 1)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _posted_outputs(driver: Any) -> list[str]:
    """The outputs of every Dash callback the page posted since the log was last read."""
    outputs = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] != "Network.requestWillBeSent":
            continue
        request = message["params"]["request"]
        if request["url"].endswith("/_dash-update-component") and request.get("postData"):
            outputs.append(json.loads(request["postData"])["output"])
    return outputs


def _choose_scheme(driver: Any, label: str) -> None:
    """Open the scheme dropdown and click the option reading ``label`` (the list opens in
    a popover outside the dropdown's own element)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.CSS_SELECTOR, "#scheme").click()

    def option(d: Any) -> Any:
        found = [
            o for o in d.find_elements(By.CSS_SELECTOR, "[role=option]") if o.text.strip() == label
        ]
        return found[0] if found else None

    WebDriverWait(driver, 10).until(option).click()


def open_map(driver: Any, url: str) -> Any:
    """Open ``url`` in ``driver``; a wait for its conditions (TIMEOUT, polled every 0.1 s)."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    return WebDriverWait(driver, TIMEOUT, poll_frequency=0.1)


def check_pixels(driver: Any, state: dict[str, Any]) -> int:
    """Check that hexagons spread over the values show their class's colour on the canvas;
    return how many were on screen and checked."""
    hideout, values, cells = state["hideout"], state["v"], state["cells"]
    breaks = hideout["breaks"]
    order = sorted(range(len(values)), key=lambda i: -1 if values[i] is None else values[i])
    sample = sorted({order[round(k * (len(order) - 1) / 39)] for k in range(40)})
    checked = 0
    for i in sample:
        lat, lng = h3.cell_to_latlng(cells[i])
        pixel = driver.execute_script(
            "return window.pnm.pixelAt(arguments[0], arguments[1]);", lat, lng
        )
        if pixel is None or pixel[3] == 0:
            continue  # outside the canvas (off screen)
        colour = (
            hideout["nodata"]
            if values[i] is None
            else hideout["colours"][_class_of(values[i], breaks)]
        )
        assert all(abs(p - c) <= 3 for p, c in zip(pixel[:3], _rgb(colour), strict=True)), (
            cells[i], values[i], colour, pixel,
        )  # fmt: skip
        assert abs(pixel[3] - FILL_ALPHA) <= 3
        checked += 1
    return checked


def test_many_small_hexagons_are_written_as_pixels_in_their_class_colours(
    live_app: LiveApp, chrome: Any
) -> None:
    driver = chrome
    wait = open_map(driver, f"{live_app.url}/?layer=reach&res=10&lang=en")
    state = wait.until(lambda d: d.execute_script(DRAWN))
    assert len(state["cells"]) >= 3000 and state["mode"] == "pixels", len(state["cells"])
    assert check_pixels(driver, state) >= 30


def test_a_new_scheme_repaints_every_hexagon_in_its_class_without_the_server(
    live_app: LiveApp, chrome: Any
) -> None:
    driver = chrome
    wait = open_map(driver, f"{live_app.url}/?layer=rate&res=8&lang=en&scheme=natural_breaks")
    first = wait.until(lambda d: d.execute_script(DRAWN))
    assert len(first["cells"]) > 20 and first["hideout"]["breaks"]
    assert first["mode"] == "polygons"
    legend_before = driver.find_element("id", "legend").text

    _posted_outputs(driver)  # forget the page's own start-up requests
    _choose_scheme(driver, "Equal interval")
    then = wait.until(
        lambda d: (
            (s := d.execute_script(DRAWN))
            and s["generation"] > first["generation"]
            and s["hideout"]["breaks"] != first["hideout"]["breaks"]
            and s
        ),
        message=f"no repaint in new classes; before: {first['hideout']}",
    )
    wait.until(lambda d: d.find_element("id", "legend").text != legend_before)
    wait.until(lambda d: "scheme=equal_interval" in d.current_url)
    posted = _posted_outputs(driver)
    assert not [o for o in posted if "layer-styles" in o or "hideout" in o], posted

    # Equal intervals: the breaks split the range into equal steps.
    breaks, values = then["hideout"]["breaks"], then["v"]
    steps = [b - a for a, b in itertools.pairwise(breaks)]
    known = [v for v in values if v is not None]
    assert max(steps) - min(steps) <= 0.02 * (max(known) - min(known)), breaks
    # Every hexagon (a sample spread over the values) shows its class's colour.
    assert check_pixels(driver, then) >= 15
