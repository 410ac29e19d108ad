"""The export page as a planner sees it, in headless Chromium, on the small demo data set.

Opened with a map view's query (layer, window, filter, resolution, view bounds), the page
shows those choices and the exact number of hexagons, and the download button puts the
file in the browser's download folder. Waits for states, never sleeps; saves
``artifacts/screenshots/export.png``.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import h3
import pyogrio
import pytest

from dashboard.app import create_app
from dashboard.settings import Settings, load_settings
from geodata.audit import read_events
from geodata.export_inputs import load_export_inputs
from layers.export import build_export
from tests.browser.conftest import LiveApp, serve
from tests.browser.network import requested_urls

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
TIMEOUT = 120  # seconds; a cold Chromium on a busy 2-core machine is slow to start
# A view of the county seat (~9 x 6 km) as the map's link carries it.
SOUTH, WEST, NORTH, EAST = 31.32, 107.68, 31.38, 107.78
MAP_QUERY = (
    "?layer=hotspots&window=7d&cats=theft&res=8&lat=31.35&lng=107.73&zoom=12"
    f"&bbox={SOUTH:.6f},{WEST:.6f},{NORTH:.6f},{EAST:.6f}"
)


@pytest.fixture
def export_app(map_data: Path, tmp_path: Path) -> Iterator[tuple[LiveApp, Path]]:
    """The app on a copy of the demo, so its audit log is this test's alone."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(map_data, data)
    # Sign-in off (the whole county for a demo user), where the settings know the mode.
    auth = {"auth": "none"} if "auth" in {f.name for f in fields(Settings)} else {}
    app = create_app(load_settings({}, data_dir=str(data), **auth))
    for live in serve(app.server):
        yield live, data


def _expected(data: Path) -> int:
    """Res-8 hexagons of the hot-spot layer whose centre lies in the view (h3-py centres)."""
    bundle = build_export(
        load_export_inputs(data),
        layer="hotspots",
        res=8,
        since="2026-11-19",
        until="2026-11-26",
        categories=["theft"],
    )
    centres = [h3.cell_to_latlng(c) for c in bundle.frame["h3_cell"]]
    return sum(SOUTH <= lat <= NORTH and WEST <= lng <= EAST for lat, lng in centres)


def test_export_page_pre_filled_from_the_map_downloads_the_file(
    chrome: Any, export_app: tuple[LiveApp, Path], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    live, data = export_app
    driver = chrome
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    wait = WebDriverWait(driver, TIMEOUT)
    driver.get(f"{live.url}/export{MAP_QUERY}")

    # The choices of the map view.
    def checked(container: str) -> list[str]:
        boxes = driver.find_elements(By.CSS_SELECTOR, f"#{container} input:checked")
        return [b.get_attribute("value") for b in boxes]

    wait.until(lambda d: checked("export-layers") == ["hotspots"])
    assert checked("export-area") == ["view"]
    assert checked("export-window") == ["7d"]
    assert checked("export-crs") == ["EPSG:4326"] and checked("export-format") == ["gpkg"]
    assert "8 级" in driver.find_element(By.ID, "export-res").text
    assert "盗窃" in driver.find_element(By.ID, "export-cats").text
    view = driver.find_element(By.CSS_SELECTOR, "#export-area").text
    assert "北纬 31.320°–31.380°，东经 107.680°–107.780°" in view

    # The exact number of hexagons, and the size, before anything is downloaded.
    summary = wait.until(
        lambda d: re.search(r"共 ([\d,]+) 个要素", d.find_element(By.ID, "export-summary").text)
    )
    assert int(summary.group(1).replace(",", "")) == _expected(data) > 0
    assert "下载文件" in driver.find_element(By.ID, "export-summary").text
    ARTIFACTS.joinpath("screenshots").mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "screenshots" / "export.png"))
    assert list(read_events(data)) == []

    # Download: the file lands in the download folder, whole, and the export is logged.
    button = driver.find_element(By.ID, "export-download")
    assert "pnm-disabled" not in (button.get_attribute("class") or "")
    button.click()

    def finished(_: Any) -> Path | None:
        done = [p for p in downloads.iterdir() if not p.name.endswith(".crdownload")]
        return done[0] if done else None

    file = wait.until(finished)
    assert file.name.endswith(".gpkg.zip") and "hotspots-res8" in file.name
    assert file.stat().st_size > 0
    events = list(read_events(data))
    assert [(e["action"], e["layer"], e["features"]) for e in events] == [
        ("export", ["hotspots"], int(summary.group(1).replace(",", "")))
    ]


HEXES_DRAWN = """
const s = window.pnm && window.pnm.status && window.pnm.status.hexes;
return Boolean(s && s.drawn === s.expected && s.drawnAt !== null) ? s.layer : null;
"""


def test_export_this_view_of_the_gap_map_exports_the_gap_layer(
    chrome: Any, export_app: tuple[LiveApp, Path], tmp_path: Path
) -> None:
    """On the map with the gap layer, "导出当前视图" opens the export of the gap layer (not
    incidents), and the downloaded GeoPackage, read back by GDAL, is the gap layer with its
    score, class, reason and parts, named after the area, layer, window and CRS."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    live, data = export_app
    driver = chrome
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    wait = WebDriverWait(driver, TIMEOUT)
    driver.get_log("performance")
    driver.get(f"{live.url}/?layer=gaps&window=30d&zoom=12&lat=31.35&lng=107.73")
    wait.until(lambda d: d.execute_script(HEXES_DRAWN) == "gaps")
    link = driver.find_element(By.ID, "export-link")
    assert link.text.strip() == "导出当前视图"
    assert "layer=gaps" in (link.get_attribute("href") or "")
    link.click()

    def checked(container: str) -> list[str]:
        boxes = driver.find_elements(By.CSS_SELECTOR, f"#{container} input:checked")
        return [b.get_attribute("value") for b in boxes]

    wait.until(lambda d: "/export" in d.current_url and checked("export-layers") == ["gaps"])
    assert checked("export-area") == ["view"]
    summary = wait.until(
        lambda d: re.search(r"共 ([\d,]+) 个要素", d.find_element(By.ID, "export-summary").text)
    )
    features = int(summary.group(1).replace(",", ""))
    assert features > 0
    ARTIFACTS.joinpath("screenshots").mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "screenshots" / "export-gaps.png"))
    driver.find_element(By.ID, "export-download").click()

    def finished(_: Any) -> Path | None:
        done = [p for p in downloads.iterdir() if not p.name.endswith(".crdownload")]
        return done[0] if done else None

    file = wait.until(finished)
    # The county demo: the area's name and code, the layer, the window, the CRS.
    assert re.fullmatch(
        r"宣汉县-511722-view-gaps-res\d+-\d{8}-\d{8}-EPSG4326\.gpkg\.zip", file.name
    ), file.name
    with zipfile.ZipFile(file) as zf:
        zf.extractall(tmp_path / "file")
    gpkg = next((tmp_path / "file").glob("*.gpkg"))
    frame = pyogrio.read_dataframe(gpkg, layer="gaps")
    assert len(frame) == features
    for column in ("gap", "gap_class", "risk", "protection", "risk_intensity",
                   "protection_patrol", "reason_zh"):  # fmt: skip
        assert column in frame.columns, column
    events = list(read_events(data))
    assert [(e["layer"], e["features"]) for e in events] == [(["gaps"], features)]
    outside = [
        u
        for u in requested_urls(driver)
        if urlsplit(u).scheme in ("http", "https", "ws", "wss")
        and urlsplit(u).netloc != live.netloc
    ]
    assert not outside, sorted(outside)
