"""Requests from another site change nothing and download nothing
(dashboard/auth/origin.py); the same requests from the app's own pages still work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dashboard.app import create_app
from dashboard.settings import load_settings
from geodata.audit import read_events
from tests.dashboard.auth_data import SECRET, build_secure_data, callback_body, sign_in
from tests.dashboard.tiny_data import CUBE_ROWS, rebuild_cube

EXPORT = (
    "/export/download?layers=incidents&res=8&area=precincts&fmt=gpkg&crs=EPSG:4326&window=30d"
    "&precincts=P1"
)
CROSS_SITE = [
    {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
    {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"},
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = build_secure_data(tmp_path_factory.mktemp("cross") / "data")
    rebuild_cube(out, list(CUBE_ROWS), "2026-11-26T00:00:00+00:00")  # with its meta.json
    return out


@pytest.fixture(scope="module")
def app(data: Path) -> Any:
    return create_app(load_settings({}, data_dir=str(data), secret_key=SECRET))


def audit_lines(data: Path) -> int:
    return len(list(read_events(data)))


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_a_cross_site_export_downloads_nothing_and_audits_nothing(
    app: Any, data: Path, headers: dict[str, str]
) -> None:
    client = app.server.test_client()
    sign_in(client, "west")
    before = audit_lines(data)
    r = client.get(EXPORT + "&lang=en", headers=headers)
    assert r.status_code == 403
    assert r.mimetype == "text/plain" and "Content-Disposition" not in r.headers
    assert "another site" in r.get_data(as_text=True) and "其他网站" in r.get_data(as_text=True)
    assert audit_lines(data) == before


def test_the_same_export_from_the_app_or_a_script_is_sent_and_audited(app: Any, data: Path) -> None:
    client = app.server.test_client()
    sign_in(client, "west")
    for headers in ({"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {}):
        before = audit_lines(data)
        r = client.get(EXPORT, headers=headers)
        assert r.status_code == 200, headers
        assert r.headers["Content-Disposition"].startswith("attachment")
        assert [e["action"] for e in list(read_events(data))[before:]] == ["export"]


def test_a_cross_site_sign_out_or_callback_is_refused(app: Any, data: Path) -> None:
    client = app.server.test_client()
    sign_in(client, "west")
    router = next(k for k in app.callback_map if k.startswith("..page.children"))
    body = callback_body(app, router, {("url", "pathname"): "/"})
    before = audit_lines(data)
    for headers in CROSS_SITE:
        assert client.post("/logout", headers=headers).status_code == 403
        r = client.post("/_dash-update-component", json=body, headers=headers)
        assert r.status_code == 403, headers
    assert audit_lines(data) == before  # no sign-out, no refusal written
    assert client.get("/_dash-layout").status_code == 200  # still signed in
    own = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/_dash-update-component", json=body, headers=own).status_code == 200
    assert client.post("/logout", headers=own).status_code == 302
    assert client.get("/_dash-layout").status_code == 401


def test_a_cross_site_sign_in_is_refused(app: Any) -> None:
    client = app.server.test_client()
    r = sign_in(client, "west", headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and client.get("/_dash-layout").status_code == 401
