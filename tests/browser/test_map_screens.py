"""The map page on a phone, a laptop, a 1080p screen and a 4K screen, in headless Chromium.

At each size, with the gap layer (its ranked list is the largest box over the map): the
map keeps most of the screen, nothing scrolls sideways, and the panel of a clicked cell is
wholly on screen. The phone opens and closes the sidebar as a drawer and folds the bottom
sheet; the laptop unfolds the folded gap list; the 4K screen draws the page's text twice
the 1080p size, with its dropdown menus under their fields. The viewport is set with CDP
``Emulation.setDeviceMetricsOverride`` (as ``benchmarks/map_view.py`` does); screenshots
go to ``artifacts/screenshots/map-<width>x<height>*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.app import create_app
from dashboard.settings import load_settings
from tests.browser.conftest import LiveApp, serve
from tests.browser.test_map import (
    HEXES_DRAWN,
    RESOURCES,
    TIMEOUT,
    _click_label,
    _outside,
    _requests,
    _screenshot,
    _text,
)

pytestmark = pytest.mark.browser

PHONE = (390, 844)
LAPTOP = (1366, 768)
FULL_HD = (1920, 1080)
UHD = (3840, 2160)
MIN_MAP_SHARE = 0.6

# The share of the viewport where the topmost element is the map (its canvas, its
# outlines), sampled on a 48 x 48 grid: what is hidden by the header, the sidebar, the
# list, the legend, the search or the panel does not count.
MAP_SHARE = """
const map = document.getElementById('map');
const n = 48; let hits = 0;
for (let i = 0; i < n; i++) {
  for (let j = 0; j < n; j++) {
    const x = (i + 0.5) * innerWidth / n, y = (j + 0.5) * innerHeight / n;
    const e = document.elementFromPoint(x, y);
    if (e && map.contains(e) && !e.closest('.leaflet-control')) { hits += 1; }
  }
}
return hits / (n * n);
"""

RECT = """
const e = typeof arguments[0] === 'string' ? document.querySelector(arguments[0]) : arguments[0];
if (!e) { return null; }
const r = e.getBoundingClientRect(), s = getComputedStyle(e);
return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width,
        height: r.height, shown: s.display !== 'none' && s.visibility !== 'hidden'};
"""

VIEWPORT = "return [innerWidth, innerHeight, document.documentElement.scrollWidth];"


@pytest.fixture
def live_app(map_data: Path) -> Iterator[LiveApp]:
    app = create_app(load_settings({}, data_dir=str(map_data), auth="none"))
    yield from serve(app.server)


def _resize(driver: Any, size: tuple[int, int]) -> None:
    """The viewport at ``size``; below 900 px as a phone (its viewport meta applies)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": size[0] < 900},
    )


def _rect(driver: Any, target: Any) -> dict[str, Any]:
    found = driver.execute_script(RECT, target)
    assert found is not None, f"no {target}"
    return dict(found)


def _on_screen(driver: Any, target: Any) -> bool:
    width, height, _ = driver.execute_script(VIEWPORT)
    r = _rect(driver, target)
    return bool(
        r["shown"]
        and r["width"] > 0
        and r["left"] >= -0.5
        and r["top"] >= -0.5
        and r["right"] <= width + 0.5
        and r["bottom"] <= height + 0.5
    )


def _no_sideways_scroll(driver: Any) -> None:
    width, _, scroll_width = driver.execute_script(VIEWPORT)
    assert scroll_width <= width, f"the page is {scroll_width} px wide in a {width} px window"


def _open_gap_map(driver: Any, url: str, size: tuple[int, int]) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    _resize(driver, size)
    wait = WebDriverWait(driver, TIMEOUT, poll_frequency=0.2)
    # At res 8 whatever the zoom: the small demo has gaps of class 2+ at res 8, none at 7.
    driver.get(f"{url}/?layer=gaps&res=8")
    wait.until(lambda d: d.execute_script(HEXES_DRAWN))
    wait.until(
        lambda d: d.execute_script(
            "const l = document.getElementById('gap-list');"
            "return l && l.className.indexOf('hidden') < 0 && !!l.querySelector('li');"
        )
    )
    return wait


def _gap_list_open(driver: Any) -> bool:
    return bool(_rect(driver, "#gap-list-body")["shown"])


def _click_cell(driver: Any, wait: Any) -> None:
    """Click the map's centre (clear of every box at every size) and wait for the panel."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "map").click()
    wait.until(lambda d: "pnm-panel-open" in _panel_class(d))
    wait.until(lambda d: "颜色依据" in _text(d, "#side-panel"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#cell-trend .main-svg"))


def _panel_class(driver: Any) -> str:
    return str(driver.execute_script("return document.getElementById('side-panel').className"))


def _check_default_and_panel(driver: Any, wait: Any, size: tuple[int, int]) -> float:
    """The checks of every size; returns the map's share of the screen."""
    share = float(driver.execute_script(MAP_SHARE))
    assert share >= MIN_MAP_SHARE, f"the map shows on {share:.0%} of {size}"
    _no_sideways_scroll(driver)
    for box in (".pnm-gaps", ".pnm-legend", ".pnm-search", ".pnm-header"):
        assert _on_screen(driver, box), box
    _screenshot(driver, f"map-{size[0]}x{size[1]}.png")
    _click_cell(driver, wait)
    assert _on_screen(driver, "#side-panel"), _rect(driver, "#side-panel")
    assert _on_screen(driver, "#side-panel-close")
    _no_sideways_scroll(driver)
    _screenshot(driver, f"map-{size[0]}x{size[1]}-panel.png")
    return share


def _check_requests(driver: Any, netloc: str) -> None:
    requested = [u for _, u in _requests(driver)]
    requested += [r["name"] for r in driver.execute_script(RESOURCES)]
    assert _outside(requested, netloc) == []
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], "\n".join(errors)


def test_phone_drawer_and_bottom_sheet(chrome: Any, live_app: LiveApp) -> None:
    from selenium.webdriver.common.by import By

    driver = chrome
    driver.get_log("performance")
    wait = _open_gap_map(driver, live_app.url, PHONE)
    width, height, _ = driver.execute_script(VIEWPORT)
    assert (width, height) == PHONE

    # Closed by default: the sidebar is off the screen, the map has the whole width.
    sidebar = _rect(driver, "#map-sidebar")
    assert sidebar["right"] <= 0 and not sidebar["shown"]
    assert _rect(driver, "#map")["width"] == width
    assert not _gap_list_open(driver)  # folded to its title

    def drawer_open(d: Any) -> bool:
        r = _rect(d, "#map-sidebar")
        return bool(r["shown"] and r["left"] == 0 and r["right"] <= width)

    def drawer_closed(d: Any) -> bool:
        return not _rect(d, "#map-sidebar")["shown"]

    # The button opens it; a choice closes it and takes effect.
    driver.find_element(By.ID, "drawer-open").click()
    wait.until(drawer_open)
    _no_sideways_scroll(driver)
    _screenshot(driver, f"map-{width}x{height}-drawer.png")
    _click_label(driver, "layer-choice", "警情热力")
    wait.until(drawer_closed)
    wait.until(lambda d: "警情数" in _text(d, "#legend"))

    # A tap on the dimmed map beside it closes it, and so does its own close button.
    driver.find_element(By.ID, "drawer-open").click()
    wait.until(drawer_open)
    beside = driver.execute_script(
        "const e = document.elementFromPoint(innerWidth - 10, innerHeight / 2);"
        "e.click(); return e.id;"
    )
    assert beside == "drawer-backdrop"
    wait.until(drawer_closed)
    driver.find_element(By.ID, "drawer-open").click()
    wait.until(drawer_open)
    driver.find_element(By.ID, "drawer-close").click()
    wait.until(drawer_closed)
    assert "layer=gaps" not in driver.current_url

    # Back on the gap layer: the checks of every size; the panel is a bottom sheet.
    wait = _open_gap_map(driver, live_app.url, PHONE)
    _check_default_and_panel(driver, wait, PHONE)
    sheet = _rect(driver, "#side-panel")
    assert sheet["bottom"] == pytest.approx(height, abs=1)
    assert sheet["width"] == pytest.approx(width, abs=1)
    assert sheet["height"] <= 0.5 * height, sheet

    # The sheet folds to its title bar, still on screen, and unfolds again.
    open_height = sheet["height"]
    driver.find_element(By.ID, "side-panel-fold").click()
    wait.until(lambda d: _rect(d, "#side-panel")["height"] < 80)
    assert _on_screen(driver, "#side-panel")
    assert "六边形" in _text(driver, "#side-panel")  # the title stays
    driver.find_element(By.ID, "side-panel-fold").click()
    wait.until(lambda d: _rect(d, "#side-panel")["height"] == open_height)

    # The folded gap list opens on a tap; a chosen entry folds it away for the sheet.
    driver.find_element(By.ID, "gap-list-fold").click()
    wait.until(_gap_list_open)
    assert _on_screen(driver, "#gap-list")
    _no_sideways_scroll(driver)
    driver.find_element(By.CSS_SELECTOR, "#gap-list .pnm-gap-entry").click()
    wait.until(lambda d: not _gap_list_open(d))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#gap-list .pnm-gap-selected"))
    assert _on_screen(driver, "#side-panel")
    _check_requests(driver, live_app.netloc)


def test_laptop_folds_the_gap_list(chrome: Any, live_app: LiveApp) -> None:
    from selenium.webdriver.common.by import By

    driver = chrome
    driver.get_log("performance")
    wait = _open_gap_map(driver, live_app.url, LAPTOP)
    assert not _gap_list_open(driver)
    share = _check_default_and_panel(driver, wait, LAPTOP)

    # Opened by its title, the list stays on screen; the panel folds to its title bar.
    driver.find_element(By.ID, "gap-list-fold").click()
    wait.until(_gap_list_open)
    assert _on_screen(driver, "#gap-list") and _on_screen(driver, "#side-panel")
    assert float(driver.execute_script(MAP_SHARE)) < share  # the list does cover some
    driver.find_element(By.ID, "side-panel-fold").click()
    wait.until(lambda d: _rect(d, "#side-panel")["height"] < 80)
    driver.find_element(By.ID, "gap-list-fold").click()
    wait.until(lambda d: not _gap_list_open(d))
    # A new cell unfolds the panel.
    before = _text(driver, ".pnm-panel-title")
    driver.find_element(By.CSS_SELECTOR, "#gap-list-fold").click()
    wait.until(_gap_list_open)
    driver.find_element(By.CSS_SELECTOR, "#gap-list .pnm-gap-entry").click()
    wait.until(lambda d: _text(d, ".pnm-panel-title") not in ("", before))
    wait.until(lambda d: _rect(d, "#side-panel")["height"] > 200)
    assert _gap_list_open(driver)  # a laptop keeps the list open for the next entry
    _check_requests(driver, live_app.netloc)


def test_full_hd_as_before(chrome: Any, live_app: LiveApp) -> None:
    driver = chrome
    driver.get_log("performance")
    wait = _open_gap_map(driver, live_app.url, FULL_HD)
    assert _gap_list_open(driver)  # a large screen shows the ranking at once
    assert _rect(driver, "#map-sidebar")["width"] == 300  # pnm.css's sidebar, unscaled
    _check_default_and_panel(driver, wait, FULL_HD)
    _check_requests(driver, live_app.netloc)


def test_4k_scales_the_page_up(chrome: Any, live_app: LiveApp) -> None:
    from selenium.webdriver.common.by import By

    driver = chrome
    driver.get_log("performance")
    sizes = {}
    for size in (FULL_HD, UHD):
        _open_gap_map(driver, live_app.url, size)
        sizes[size] = {
            box: _rect(driver, box)["height"]
            for box in (".pnm-legend-title", ".pnm-gaps-title", "#layer-choice label")
        }
    for box, full_hd in sizes[FULL_HD].items():
        assert sizes[UHD][box] == pytest.approx(2 * full_hd, rel=0.1), box
    wait = _open_gap_map(driver, live_app.url, UHD)
    assert _gap_list_open(driver)
    _check_default_and_panel(driver, wait, UHD)

    # A dropdown menu of the scaled sidebar opens right under its field, as wide.
    field = driver.find_element(By.ID, "category-filter")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", field)
    field.click()
    menu = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".dash-dropdown-content"))[0]
    below, under = _rect(driver, field), _rect(driver, menu)
    assert abs(under["left"] - below["left"]) < 8
    assert 0 <= under["top"] - below["bottom"] < 20
    assert under["width"] == pytest.approx(below["width"], rel=0.05)
    assert _on_screen(driver, menu)
    _check_requests(driver, live_app.netloc)
