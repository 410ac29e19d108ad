"""A page on another site sends a signed-in chief's browser to the export: headless
Chromium downloads nothing and the audit log gets nothing; the same link opened by the
chief downloads the file (so the harness would see a download).

The app listens on 127.0.0.1, the other site on ``localhost`` (another site for the
browser, whatever the port); its page moves the browser to the export by a script, as a
hostile page would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Response

from dashboard.app import create_app
from dashboard.settings import load_settings
from geodata.audit import read_events
from tests.browser.conftest import LiveApp, serve
from tests.dashboard.auth_data import PASSWORDS, SECRET, build_secure_data
from tests.dashboard.tiny_data import CUBE_ROWS, rebuild_cube

pytestmark = pytest.mark.browser

TIMEOUT = 90
EXPORT = (
    "/export/download?layers=incidents&res=8&area=precincts&fmt=gpkg&crs=EPSG:4326"
    "&window=30d&precincts=P1"
)


@pytest.fixture
def secure_app(tmp_path: Path) -> Iterator[tuple[LiveApp, Path]]:
    data = build_secure_data(tmp_path / "data")
    rebuild_cube(data, list(CUBE_ROWS), "2026-11-26T00:00:00+00:00")
    app = create_app(load_settings({}, data_dir=str(data), secret_key=SECRET))
    for live in serve(app.server):
        yield live, data


@pytest.fixture
def other_site(secure_app: tuple[LiveApp, Path]) -> Iterator[str]:
    """``http://localhost:PORT/``: a page whose script sends the browser to the export."""
    target = secure_app[0].url + EXPORT
    page = f"<!DOCTYPE html><title>prize</title><script>location.href = {target!r};</script>"

    def site(environ: Any, start_response: Any) -> Any:
        return Response(page, mimetype="text/html")(environ, start_response)

    for served in serve(site):
        yield served.url.replace("127.0.0.1", "localhost") + "/"


def test_a_cross_site_navigation_to_the_export_downloads_and_audits_nothing(
    chrome: Any, secure_app: tuple[LiveApp, Path], other_site: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    live, data = secure_app
    driver = chrome
    wait = WebDriverWait(driver, TIMEOUT)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.get(f"{live.url}/login?lang=zh")
    driver.find_element(By.ID, "name").send_keys("west")
    driver.find_element(By.ID, "password").send_keys(PASSWORDS["west"], Keys.ENTER)
    wait.until(lambda d: "/login" not in d.current_url)
    exports = [e for e in read_events(data) if e["action"] == "export"]
    lines = len(list(read_events(data)))

    driver.get(other_site)
    # The browser ends on the app's refusal (a download would leave no page there).
    wait.until(lambda d: d.current_url.startswith(live.url + "/export/download"))
    wait.until(lambda d: "其他网站" in d.find_element(By.TAG_NAME, "body").text)
    assert list(downloads.iterdir()) == []
    # Nothing about the export; the only line is the browser's own /favicon.ico asked on
    # the refusal page (a path a chief may not open).
    after = list(read_events(data))[lines:]
    assert [e.get("path") for e in after] in ([], ["/favicon.ico"]), after
    assert exports == [] and not [e for e in after if e["action"] == "export"]

    # The chief opening the same link downloads it (the harness sees a download).
    driver.get(live.url + EXPORT)

    def finished(_: Any) -> Path | None:
        done = [p for p in downloads.iterdir() if not p.name.endswith(".crdownload")]
        return done[0] if done else None

    assert wait.until(finished).name.endswith(".gpkg.zip")
    logged = [e["action"] for e in read_events(data) if e.get("path") != "/favicon.ico"]
    assert logged[-1:] == ["export"] and logged.count("export") == 1
