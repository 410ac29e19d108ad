"""The app's own tile route and the basemap on the map and wall pages.

The tile packages here are written with sqlite3 and Pillow directly (not with
``geodata.tiles.write_package``), following the MBTiles spec: rows count from the south.
"""

from __future__ import annotations

import io
import logging
import sqlite3
from pathlib import Path
from typing import Any

import dash_leaflet as dl
import pytest
from PIL import Image

from dashboard import tiles
from dashboard.app import create_app, render_page
from dashboard.datasource import ReloadingSource
from dashboard.settings import load_settings
from geodata.snapshot import Snapshot
from tests.dashboard.auth_data import SECRET, build_secure_data, sign_in
from tests.dashboard.tiny_data import build_tiny_data

Z, X, Y = 10, 818, 418  # a tile over the tiny data's area (107.7 E, 31.35 N)


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(buffer, "JPEG")
    return buffer.getvalue()


RED, GREEN, BLUE = _png((255, 0, 0)), _png((0, 255, 0)), _png((0, 0, 255))
JPEG = _jpeg((200, 200, 0))


def write_mbtiles(path: Path, metadata: dict[str, str]) -> Path:
    """Tile z/x/y is RED, z/x/y+1 GREEN (stored at TMS rows 2^z-1-y and 2^z-2-y), and
    BLUE at TMS row y itself — what a route that forgot the flip would serve for y."""
    rows = (1 << Z) - 1
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
            " tile_data BLOB)"
        )
        db.executemany("INSERT INTO metadata VALUES (?, ?)", metadata.items())
        db.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [
                (Z, X, rows - Y, RED),
                (Z, X, rows - (Y + 1), GREEN),
                (Z, X, Y, BLUE),
                (Z, X + 1, rows - Y, JPEG),
            ],
        )
    return path


WGS84 = {
    "name": "test",
    "format": "png",
    "bounds": "107.6,31.2,107.9,31.5",
    "minzoom": "10",
    "maxzoom": "10",
    "attribution": "测试底图 <b>&</b>",
    "datum": "WGS84",
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_data(tmp_path_factory.mktemp("tiles") / "data")


def _app(data: Path, package: Path, **settings: Any) -> Any:
    cfg = {"auth": "none", "warm": "0", **settings}
    return create_app(load_settings({}, data_dir=str(data), tile_package=str(package), **cfg))


def _components(tree: Any, kind: type) -> list[Any]:
    found: list[Any] = []

    def walk(c: Any) -> None:
        if isinstance(c, list | tuple):
            for child in c:
                walk(child)
            return
        if isinstance(c, kind):
            found.append(c)
        if hasattr(c, "to_plotly_json"):
            walk(getattr(c, "children", None))

    walk(tree)
    return found


def _page(data: Path, path: str, **settings: Any) -> Any:
    cfg = load_settings({}, data_dir=str(data), auth="none", **settings)
    page, _ = render_page(ReloadingSource(Snapshot(data)).view(None), cfg, path, "")
    return page


def test_tiles_are_served_with_the_tms_flip_type_and_caching(tiny: Path, tmp_path: Path) -> None:
    app = _app(tiny, write_mbtiles(tmp_path / "basemap.mbtiles", WGS84))
    client = app.server.test_client()
    r = client.get(f"/tiles/{Z}/{X}/{Y}.png")
    assert r.status_code == 200 and r.data == RED  # not BLUE: rows flipped
    assert r.headers["Content-Type"] == "image/png"
    assert r.headers["Cache-Control"] == f"private, max-age={tiles.MAX_AGE_S}"
    assert "Cookie" not in r.headers.get("Vary", "")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/tiles/{Z}/{X}/{Y + 1}.png").data == GREEN
    # The bytes decide the type, whatever the extension says.
    jpeg = client.get(f"/tiles/{Z}/{X + 1}/{Y}.png")
    assert jpeg.data == JPEG and jpeg.headers["Content-Type"] == "image/jpeg"
    again = client.get(f"/tiles/{Z}/{X}/{Y}.png", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    for missing in (
        f"/tiles/{Z}/{X + 2}/{Y}.png",
        f"/tiles/{Z}/{1 << Z}/{Y}.png",
        "/tiles/3/9/0.png",
    ):
        assert client.get(missing).status_code == 404, missing


def test_the_map_and_the_wall_draw_the_package_with_its_attribution(
    tiny: Path, tmp_path: Path
) -> None:
    package = write_mbtiles(tmp_path / "basemap.mbtiles", WGS84)
    for path in ("/", "/wall"):
        (layer,) = _components(_page(tiny, path, tile_package=str(package)), dl.TileLayer)
        assert layer.url.startswith("/tiles/{z}/{x}/{y}.png?v=")
        assert layer.attribution == "测试底图 &lt;b&gt;&amp;&lt;/b&gt;"  # a file's text, escaped
        assert (layer.minNativeZoom, layer.maxNativeZoom) == (10, 10)
        assert layer.bounds == [[31.2, 107.6], [31.5, 107.9]]
    # A tile server wins over the package.
    page = _page(
        tiny, "/", tile_package=str(package), tile_url="https://tiles.example/{z}/{x}/{y}.png"
    )
    (layer,) = _components(page, dl.TileLayer)
    assert layer.url == "https://tiles.example/{z}/{x}/{y}.png"
    # No package: the plain land, no tiles.
    assert (
        _components(_page(tiny, "/", tile_package=str(tmp_path / "none.mbtiles")), dl.TileLayer)
        == []
    )


def test_the_data_directory_package_is_found_by_name(tmp_path: Path) -> None:
    data = build_tiny_data(tmp_path / "data")
    assert load_settings({}, data_dir=str(data)).tile_package_path == data / "basemap.mbtiles"
    write_mbtiles(data / "basemap.mbtiles", WGS84)
    app = create_app(load_settings({}, data_dir=str(data), auth="none", warm="0"))
    assert app.server.test_client().get(f"/tiles/{Z}/{X}/{Y}.png").data == RED
    assert _components(_page(data, "/"), dl.TileLayer)


@pytest.mark.parametrize("datum", ["GCJ-02", "gcj02", "BD-09"])
def test_offset_tiles_are_refused_in_the_log_and_on_the_page(
    tiny: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, datum: str
) -> None:
    package = write_mbtiles(tmp_path / "basemap.mbtiles", {**WGS84, "datum": datum})
    with caplog.at_level(logging.INFO, logger="dashboard.tiles"):
        app = _app(tiny, package)
    refusals = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    named = "BD-09" if datum == "BD-09" else "GCJ-02"
    assert len(refusals) == 1 and "\n" not in refusals[0]
    assert "basemap refused" in refusals[0] and named in refusals[0]
    assert app.server.test_client().get(f"/tiles/{Z}/{X}/{Y}.png").status_code == 404
    for path in ("/", "/wall"):
        assert _components(_page(tiny, path, tile_package=str(package)), dl.TileLayer) == []
    cfg = load_settings({}, data_dir=str(tiny), tile_package=str(package))
    zh, en = tiles.notice(cfg, "zh"), tiles.notice(cfg, "en")
    assert zh is not None and en is not None
    assert (
        zh.children
        == f"底图未加载：瓦片包 basemap.mbtiles 为 {named} 坐标，与本图的 WGS84 数据相差数百米，请换用 WGS84 瓦片"
    )
    assert named in en.children and "WGS84" in en.children


def test_the_notice_is_on_the_rendered_map_page(tiny: Path, tmp_path: Path) -> None:
    package = write_mbtiles(tmp_path / "basemap.mbtiles", {**WGS84, "datum": "GCJ-02"})
    app = _app(tiny, package)
    client = app.server.test_client()
    body = {
        "output": "..page.children...document.data..",
        "outputs": [{"id": "page", "property": "children"}, {"id": "document", "property": "data"}],
        "inputs": [
            {"id": "url", "property": "pathname", "value": "/"},
            {"id": "url", "property": "search", "value": ""},
        ],
        "state": [{"id": "document", "property": "data", "value": None}],
        "changedPropIds": ["url.pathname"],
    }
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200
    assert "pnm-basemap-notice" in r.get_data(as_text=True)
    assert "GCJ-02" in r.get_data(as_text=True)


def test_a_package_without_a_datum_is_taken_as_wgs84_and_the_log_says_so(
    tiny: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    metadata = {k: v for k, v in WGS84.items() if k != "datum"}
    package = write_mbtiles(tmp_path / "basemap.mbtiles", metadata)
    with caplog.at_level(logging.INFO, logger="dashboard.tiles"):
        app = _app(tiny, package)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "assuming WGS84" in warnings[0]
    assert app.server.test_client().get(f"/tiles/{Z}/{X}/{Y}.png").data == RED
    assert (
        tiles.notice(load_settings({}, data_dir=str(tiny), tile_package=str(package)), "zh") is None
    )


def test_a_replaced_package_is_used_at_once(tiny: Path, tmp_path: Path) -> None:
    package = write_mbtiles(tmp_path / "basemap.mbtiles", {**WGS84, "datum": "GCJ-02"})
    app = _app(tiny, package)
    client = app.server.test_client()
    assert client.get(f"/tiles/{Z}/{X}/{Y}.png").status_code == 404
    replacement = write_mbtiles(tmp_path / "new.mbtiles", WGS84)
    replacement.replace(package)
    assert client.get(f"/tiles/{Z}/{X}/{Y}.png").data == RED


def test_tiles_need_a_sign_in_when_sign_in_is_on(tmp_path: Path) -> None:
    data = build_secure_data(tmp_path / "data")
    write_mbtiles(data / "basemap.mbtiles", WGS84)
    app = create_app(load_settings({}, data_dir=str(data), secret_key=SECRET, warm="0"))
    client = app.server.test_client()
    anonymous = client.get(f"/tiles/{Z}/{X}/{Y}.png")
    assert anonymous.status_code == 401 and anonymous.data != RED
    sign_in(client, "east")  # a precinct chief: the basemap is the same for everybody
    r = client.get(f"/tiles/{Z}/{X}/{Y}.png")
    assert r.status_code == 200 and r.data == RED


def test_a_damaged_package_is_refused_without_an_error_page(tiny: Path, tmp_path: Path) -> None:
    package = write_mbtiles(tmp_path / "basemap.mbtiles", WGS84)
    app = _app(tiny, package)
    client = app.server.test_client()
    assert client.get(f"/tiles/{Z}/{X}/{Y}.png").data == RED
    package.write_bytes(b"not an mbtiles file " * 200)
    assert client.get(f"/tiles/{Z}/{X}/{Y}.png").status_code == 404
    cfg = load_settings({}, data_dir=str(tiny), tile_package=str(package))
    notice = tiles.notice(cfg, "zh")
    assert (
        notice is not None
        and notice.children == "底图未加载：瓦片包 basemap.mbtiles 无法使用（原因见日志）"
    )


def test_the_tile_package_setting_is_read_from_the_environment_and_a_file(tmp_path: Path) -> None:
    env = load_settings({"PNM_TILE_PACKAGE": "/srv/tiles/pgis.mbtiles"})
    assert env.tile_package_path == Path("/srv/tiles/pgis.mbtiles")
    config = tmp_path / "pnm.toml"
    config.write_text('tile_package = "tiles/tdt.mbtiles"\n', encoding="utf-8")
    assert (
        load_settings({"PNM_CONFIG": str(config)}).tile_package_path
        == tmp_path / "tiles/tdt.mbtiles"
    )
