"""The peers a user would pick instead of this app, timed on the same data in the same run.

* ingest: h3pandas (``GeoDataFrame.h3.geo_to_h3`` then a count per cell — the GeoPandas
  way) and bare polars-h3 indexing plus a group-by (the floor), next to the cube build;
* the map in a browser: the HTML that ``GeoDataFrame.explore()`` (folium) writes, its CDN
  scripts pointed at a local Leaflet, and a plain page drawing deck.gl's
  ``H3HexagonLayer`` from cell ids (the WebGL engine behind kepler.gl).

The browser assets live in ``benchmarks/web``: Leaflet 1.9 and h3-js 4 are committed
(small); deck.gl 9's bundle (4.4 MB, ``dist.dev.js`` — version 9.4 ships no minified
bundle) is unpacked by :func:`ensure_deck` with ``npm pack`` into the git-ignored
``benchmarks/web/vendor`` on first use.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import polars_h3 as plh3

WEB = Path(__file__).parent / "web"
VENDOR = WEB / "vendor"
DECK_VERSION = "9.4.0"


def points_frame(lng: Any, lat: Any) -> Any:
    """The points as the ``GeoDataFrame`` a GeoPandas user would hold (EPSG:4326)."""
    import geopandas as gpd

    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(lng, lat), crs="EPSG:4326")


def h3pandas_count(gdf: Any, resolutions: Sequence[int]) -> int:
    """Cells with at least one point at each of ``resolutions``, counted the GeoPandas
    way; returns the number of (resolution, cell) pairs.

    h3pandas indexes the points of a ``GeoDataFrame`` already in memory (see
    :func:`points_frame`; building it is not timed) and pandas counts per cell, once per
    resolution: H3 is not nested, so a coarser count needs its own indexing.
    """
    import h3pandas  # noqa: F401  (registers the .h3 accessor)

    found = 0
    for res in resolutions:
        indexed = gdf.h3.geo_to_h3(res)
        found += len(indexed.groupby(level=0).size())
    return found


def floor_count(points: pl.DataFrame, resolutions: Sequence[int]) -> int:
    """Bare vectorised H3 indexing at each of ``resolutions`` plus a group-by count per
    resolution (the least any build of exact cells must do)."""
    cells = points.select(
        plh3.latlng_to_cell("lat", "lng", r).alias(f"cell_{r}") for r in resolutions
    )
    return sum(cells.group_by(f"cell_{r}").len().height for r in resolutions)


# --- browser peers ---------------------------------------------------------------------


def ensure_deck() -> Path:
    """deck.gl's browser bundle, unpacked from ``npm pack deck.gl@DECK_VERSION`` once."""
    target = VENDOR / f"deck.gl-{DECK_VERSION}.js"
    if target.exists():
        return target
    VENDOR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", f"deck.gl@{DECK_VERSION}", "--silent"],
            cwd=tmp,
            check=True,
            capture_output=True,
        )
        tgz = next(Path(tmp).glob("deck.gl-*.tgz"))
        with tarfile.open(tgz) as tar:
            member = tar.extractfile("package/dist/dist.dev.js")
            assert member is not None
            target.write_bytes(member.read())
    return target


_DECK_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>deck.gl H3HexagonLayer</title>
<style>html,body{margin:0;height:100%}#map{position:absolute;inset:0}</style>
<script src="h3-js.umd.js"></script>
<script src="vendor/deck.gl-DECKV.js"></script></head>
<body><div id="map"></div><script>
window.bench = {drawnAt: null, restyledAt: null, restyleStart: null, n: 0, error: null};
const colours = [[255,245,235],[253,208,162],[253,141,60],[217,72,1],[127,39,4]];
function layer(data, breaks, trigger) {
  return new deck.H3HexagonLayer({
    id: "hex", data, getHexagon: d => d.c, filled: true, stroked: false,
    extruded: false, highPrecision: false,
    getFillColor: d => { let i = 0; while (i < breaks.length - 1 && d.v > breaks[i]) i++;
                          return colours[i]; },
    updateTriggers: {getFillColor: trigger},
  });
}
fetch("cells.json").then(r => r.json()).then(p => {
  const data = p.cells.map((c, i) => ({c, v: p.v[i]}));
  window.bench.n = data.length;
  const d = new deck.Deck({
    parent: document.getElementById("map"),
    initialViewState: {longitude: LNG, latitude: LAT, zoom: ZOOM},
    controller: true, layers: [layer(data, BREAKS1, 1)],
    onError: (e) => { window.bench.error = String(e); },
    onAfterRender: () => {
      const b = window.bench, now = performance.now();
      // Drawn: the layer is loaded and has made its polygon sublayer.
      const hex = d.props.layers[0];
      const ready = hex.isLoaded && hex.getSubLayers().length > 0;
      if (b.drawnAt === null) { if (ready) b.drawnAt = now; }
      else if (b.restyleStart !== null && b.restyledAt === null) b.restyledAt = now;
    },
  });
  window.bench.restyle = () => {
    window.bench.restyleStart = performance.now();
    d.setProps({layers: [layer(data, BREAKS2, 2)]});
  };
});
</script></body></html>
"""


def deck_page(center: tuple[float, float], zoom: float, breaks: tuple[list[float], ...]) -> str:
    """The deck.gl page (``cells.json`` next to it: ``{cells: [...], v: [...]}``)."""
    return (
        _DECK_PAGE.replace("DECKV", DECK_VERSION)
        .replace("LNG", repr(center[1]))
        .replace("LAT", repr(center[0]))
        .replace("ZOOM", repr(zoom))
        .replace("BREAKS1", json.dumps(breaks[0]))
        .replace("BREAKS2", json.dumps(breaks[1]))
    )


_MARK_FOLIUM = """<script>
(function () {
  window.bench = {drawnAt: null, restyledAt: null, n: 0};
  function layers() {
    const out = [];
    for (const k of Object.keys(window)) {
      if (k.startsWith("geo_json_") && window[k] instanceof L.GeoJSON) out.push(window[k]);
    }
    return out;
  }
  function count() { return document.querySelectorAll("path.leaflet-interactive").length; }
  // The GeoJSON layer is added synchronously by the inline script above; two frames
  // later its SVG paths have been painted.
  requestAnimationFrame(() => requestAnimationFrame(() => {
    window.bench.n = count();
    window.bench.drawnAt = performance.now();
  }));
  window.bench.restyle = function () {
    const t0 = performance.now();
    window.bench.restyleStart = t0;
    for (const g of layers()) g.setStyle({fillColor: "#7f2704", fillOpacity: 0.6});
    requestAnimationFrame(() => requestAnimationFrame(() => {
      window.bench.restyledAt = performance.now();
    }));
  };
})();
</script>"""


def folium_page(cells: list[str], values: list[float]) -> str:
    """The HTML ``GeoDataFrame.explore(column="v")`` writes for these cells, made local.

    Leaflet's CDN links point at the local copy; folium's other CDN assets (jQuery,
    Bootstrap, Leaflet.awesome-markers, font-awesome) are dropped — the hex layer needs
    none of them. ``legend=False`` because branca's legend loads d3 from a CDN.
    """
    import geopandas as gpd
    import h3
    from shapely.geometry import Polygon

    polys = [Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells]
    gdf = gpd.GeoDataFrame({"cell": cells, "v": values}, geometry=polys, crs="EPSG:4326")
    m = gdf.explore(column="v", scheme="NaturalBreaks", k=5, legend=False, tiles=None)
    html = m.get_root().render()
    html = re.sub(r'<script src="https?://[^"]*leaflet[^"/]*/dist/leaflet\.js"></script>', "", html)
    html = re.sub(r'<script src="https?://[^"]+"></script>', "", html)
    html = re.sub(r'<link rel="stylesheet" href="https?://[^"]+"/>', "", html)
    head = '<script src="leaflet.js"></script><link rel="stylesheet" href="leaflet.css"/>'
    html = html.replace("<head>", "<head>" + head, 1)
    return html.replace("</html>", _MARK_FOLIUM + "</html>")


@contextmanager
def static_site(files: dict[str, str]) -> Iterator[str]:
    """Serve ``benchmarks/web`` plus ``files`` (name -> text) on localhost; yields the base URL."""
    with tempfile.TemporaryDirectory(prefix="pnm-peers-") as tmp:
        root = Path(tmp)
        for item in WEB.iterdir():
            if item.name.startswith("."):
                continue
            (root / item.name).symlink_to(item.resolve())
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8")
        handler = functools.partial(_QuietHandler, directory=str(root))
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{srv.server_address[1]}"
        finally:
            srv.shutdown()
            srv.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def time_page(driver: Any, url: str, *, timeout: float = 180.0) -> dict[str, float]:
    """Navigate to a peer page; ms from navigation start to drawn, and of one restyle."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    driver.get(url)
    drawn = "const b = window.bench; return b && b.drawnAt !== null ? b : null;"
    failed = "return window.bench && window.bench.error;"
    b = WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: d.execute_script(drawn) or _raise(d.execute_script(failed))
    )
    driver.execute_script("window.bench.restyle();")
    restyled = "const b = window.bench; return b.restyledAt !== null ? b : null;"
    r = WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: d.execute_script(restyled)
    )
    return {
        "drawn_ms": float(b["drawnAt"]),
        "restyle_ms": float(r["restyledAt"] - r["restyleStart"]),
        "n": float(b["n"]),
    }


def chromium() -> Any:
    """Headless system Chromium at 1920x1080, as the browser tests drive it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--enable-unsafe-swiftshader",  # WebGL for deck.gl without a GPU
        "--window-size=1920,1080",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False},
    )
    # A page busy drawing (deck.gl on software WebGL, folium's 44k SVG paths) can hold its
    # main thread longer than WebDriver's default 30 s script timeout on a loaded machine.
    driver.set_script_timeout(180)
    return driver


def _raise(error: str | None) -> bool:
    """False (keep waiting) unless the page reported an error, which is raised."""
    if error:
        raise RuntimeError(f"the peer page failed: {error}")
    return False
