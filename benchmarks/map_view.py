"""Speed of the map page on a data directory (default: the ``county`` demo at /tmp/county).

Prints, per layer at H3 res 9: server time of one layer update (the data and style
callbacks) with a cold cache and a warm one, for a precinct-sized view and for the whole
county; the bytes of the update (cell ids and values, JSON and gzip) against plain
GeoJSON of the same hexagons. ``--browser`` also times the first hex layer in headless
Chromium (navigation start to hexagons painted).

    python -m benchmarks.map_view [--data DIR] [--browser]
"""

from __future__ import annotations

import argparse
import gzip
import json
import threading
import time
from pathlib import Path
from typing import Any

import h3
from flask import Flask

from dashboard.cache import LayerCache
from dashboard.datasource import ReloadingSource, View
from dashboard.pages.map import update_layer, update_styles
from dashboard.settings import load_settings
from dashboard.views import LAYERS
from geodata.snapshot import Snapshot

# A view of the county seat at zoom 11.5 (res 9) on a 1620x1028 map, and the whole county.
SEAT_VIEW = [[31.30, 107.62], [31.40, 107.84]]


def _geojson(payload: dict[str, Any]) -> bytes:
    features = []
    for cell, value in zip(payload["cells"], payload["v"], strict=True):
        ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(cell)]  # GeoJSON: lng, lat
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                "properties": {"cell": cell, "v": value},
            }
        )
    text = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    return text.encode()


def _update(source: View, cache: LayerCache, layer: str, bounds: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    data, key, *_ = update_layer(
        source, cache, layer=layer, preset="30d", start_date=None, end_date=None, cats=[],
        kinds=[], band="all", resolution="9", step="off", frame=0, bounds=bounds, zoom=11.5,
        lang="zh",
    )  # fmt: skip
    update_styles(source, cache, key=key, lang="zh")
    return time.perf_counter() - t0, data


def server(data_dir: Path) -> None:
    settings = load_settings({}, data_dir=str(data_dir))
    source = ReloadingSource(Snapshot(data_dir)).view(None)
    source.snapshot.zones(9)  # opened once per app; not part of a request
    print(f"{'layer':<10} {'view':<7} {'cells':>6} {'cold s':>7} {'warm ms':>8} "
          f"{'JSON kB':>8} {'gzip kB':>8} {'GeoJSON kB':>10} {'gzip kB':>8} {'ratio':>6}")  # fmt: skip
    for layer in LAYERS:
        for name, bounds in (("seat", SEAT_VIEW), ("county", source.bounds)):
            cache = LayerCache(Flask("bench"), settings)
            cold, data = _update(source, cache, layer, bounds)
            warm = min(_update(source, cache, layer, bounds)[0] for _ in range(5))
            body = json.dumps(data, separators=(",", ":")).encode()
            geo = _geojson(data)
            print(
                f"{layer:<10} {name:<7} {len(data['cells']):>6} {cold:>7.3f} {warm * 1000:>8.1f} "
                f"{len(body) / 1e3:>8.1f} {len(gzip.compress(body)) / 1e3:>8.1f} "
                f"{len(geo) / 1e3:>10.1f} {len(gzip.compress(geo)) / 1e3:>8.1f} "
                f"{len(geo) / max(len(body), 1):>6.1f}"
            )


def browser(data_dir: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    app = create_app(load_settings({}, data_dir=str(data_dir), auth="none"))
    srv = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False},
    )
    drawn = (
        "const s = window.pnm && window.pnm.status.hexes;"
        "return s && s.expected > 0 && s.drawn === s.expected ? s : null;"
    )
    try:
        for query in ("", "?res=9", "?res=9&lat=31.35&lng=107.73&zoom=11.5"):
            driver.get(f"http://127.0.0.1:{srv.server_port}/{query}")
            s = WebDriverWait(driver, 120).until(lambda d: d.execute_script(drawn))
            print(
                f"browser {query or '/':<40} res {s['res']} {s['expected']:>6} hexagons: "
                f"first hex layer at {s['drawnAt']:.0f} ms after navigation "
                f"(hexagons built in {s['buildMs']:.0f} ms)"
            )
    finally:
        driver.quit()
        srv.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/county"))
    parser.add_argument("--browser", action="store_true")
    args = parser.parse_args()
    server(args.data)
    if args.browser:
        browser(args.data)


if __name__ == "__main__":
    main()
