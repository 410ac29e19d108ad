"""The app factory, its callbacks (called directly), the settings, i18n and the lazy server.

Most tests run on the tiny hand-made data directory (tests/dashboard/tiny_data.py), whose
counts are known: in the last 30 days (27 Oct – 25 Nov 2026) cells A and B (one res-8
parent) hold 3 thefts and 4 frauds, cell C holds 7 disputes.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dashboard.app import create_app, render_page
from dashboard.cache import LayerCache, cache_key
from dashboard.datasource import DataDirError, View
from dashboard.i18n import TEXT, category_options, lang_of, t
from dashboard.settings import Settings, SettingsError, load_settings
from geodata.schema import INCIDENT_CATEGORIES
from tests.dashboard.fixtures import county_view
from tests.dashboard.tiny_data import build_tiny_data

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def test_settings_defaults() -> None:
    s = load_settings({})
    assert s.data_dir == Path("data/demo")
    assert (s.tile_url, s.language, s.cache, s.host, s.port) == (
        "",
        "zh",
        "simple",
        "127.0.0.1",
        8050,
    )


def test_settings_from_environment_and_overrides() -> None:
    env = {"PNM_DATA_DIR": "/srv/pnm", "PNM_LANGUAGE": "en", "PNM_PORT": "9000"}
    s = load_settings(env)
    assert (s.data_dir, s.language, s.port) == (Path("/srv/pnm"), "en", 9000)
    assert load_settings(env, port=9100, host=None).port == 9100


def test_settings_from_toml_with_environment_winning(tmp_path: Path) -> None:
    config = tmp_path / "pnm.toml"
    config.write_text(
        'data_dir = "data"\nlanguage = "en"\ntile_url = "http://tiles.local/{z}/{x}/{y}.png"\n',
        encoding="utf-8",
    )
    s = load_settings({"PNM_CONFIG": str(config), "PNM_LANGUAGE": "zh"})
    assert s.data_dir == tmp_path / "data"  # relative to the file
    assert s.tile_url == "http://tiles.local/{z}/{x}/{y}.png"
    assert s.language == "zh"


def test_unknown_toml_key_is_rejected_by_name(tmp_path: Path) -> None:
    config = tmp_path / "pnm.toml"
    config.write_text('langauge = "en"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"unknown setting\(s\) langauge; known: data_dir"):
        load_settings({"PNM_CONFIG": str(config)})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PNM_LANGUAGE": "fr"}, "language must be one of zh, en"),
        ({"PNM_CACHE": "memcached"}, "cache must be one of simple, redis"),
        ({"PNM_PORT": "http"}, "PNM_PORT: port must be an integer"),
        ({"PNM_PORT": "70000"}, "port must be 1..65535"),
        ({"PNM_TILE_URL": "http://tiles.local/{z}.png"}, r"tile_url lacks \{x\}, \{y\}"),
        ({"PNM_CACHE": "redis", "PNM_REDIS_URL": "localhost:6379"}, "redis_url must start"),
        ({"PNM_CONFIG": "/nonexistent/pnm.toml"}, "does not exist"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        load_settings({}).port = 1  # type: ignore[misc]


# --------------------------------------------------------------------------- i18n


def test_every_label_has_both_languages_with_the_same_fields() -> None:
    fields = re.compile(r"\{(\w+)\}")
    for key, label in TEXT.items():
        assert label.zh and label.en, key
        assert sorted(fields.findall(label.zh)) == sorted(fields.findall(label.en)), key
        assert not CJK.search(label.en), key


def test_language_codes_and_category_labels() -> None:
    assert lang_of("en-US") == "en"
    assert lang_of("zh_CN") == "zh"
    assert lang_of("fr") == "zh"
    assert lang_of(None, "en") == "en"
    options = category_options("zh")
    assert [o["value"] for o in options] == list(INCIDENT_CATEGORIES)
    assert options[0]["label"] == "盗窃"
    assert t("window_range", "zh", since="2026-10-27", until="2026-11-25") == (
        "2026-10-27 至 2026-11-25"
    )


# --------------------------------------------------------------------------- app


def test_create_app_serves_the_page_with_local_scripts_in_order(settings: Settings) -> None:
    app = create_app(settings)
    response = app.server.test_client().get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', page)
    links = re.findall(r'<link[^>]+href="([^"]+)"', page)
    assert all(src.startswith("/") for src in scripts + links), scripts + links
    names = [src.split("?")[0].rsplit("/", 1)[-1] for src in scripts]
    h3_at = names.index("h3-js.umd.js")
    assert h3_at < names.index("pnm.js")
    assert h3_at < next(i for i, n in enumerate(names) if n.startswith("dash_leaflet"))
    assert names.count("h3-js.umd.js") == 1
    assert "<title>示例县 · 治安防控网络地图</title>" in page
    vendored = app.server.test_client().get("/assets/vendor/h3-js.umd.js")
    assert vendored.status_code == 200
    assert b"cellToBoundary" in vendored.data
    vendored.close()


def test_create_app_on_a_missing_or_unbuilt_data_dir_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(DataDirError, match="python -m geodata demo"):
        create_app(load_settings({}, data_dir=str(tmp_path / "none")))
    unbuilt = build_tiny_data(tmp_path / "no-cubes", cube=False)
    with pytest.raises(DataDirError, match="python -m geodata cubes --data"):
        create_app(load_settings({}, data_dir=str(unbuilt)))


def test_dev_server_prints_one_line_for_a_missing_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dashboard.__main__ import main

    assert main(["--data", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "python -m geodata demo" in err
    assert "python -m geodata cubes" in err


def test_server_is_built_lazily_on_first_access(tiny: Path) -> None:
    code = (
        "import dashboard.app as m\n"
        "assert m._app is None, 'built at import time'\n"
        "s = m.server\n"
        "assert type(s).__name__ == 'Flask'\n"
        "assert m.server is s\n"
        "try:\n"
        "    m.nothing\n"
        "except AttributeError:\n"
        "    print('ok')\n"
    )
    env = {"PNM_DATA_DIR": str(tiny), "PNM_AUTH": "none", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_importing_the_app_module_opens_no_data() -> None:
    code = "import dashboard.app, dashboard.pages.map; print('imported')"
    env = {"PNM_DATA_DIR": "/nonexistent/pnm", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_procfile_serves_the_lazy_server_with_gunicorn() -> None:
    lines = [ln for ln in (ROOT / "Procfile").read_text().splitlines() if ln.startswith("web:")]
    assert len(lines) == 1
    assert "gunicorn dashboard.app:server" in lines[0]
    assert "${PORT:-8050}" in lines[0]


# --------------------------------------------------------------------------- callbacks


def _strings(component: Any) -> list[str]:
    """Every text a person can read in a component tree (children, labels, placeholders)."""
    found: list[str] = []
    if isinstance(component, str):
        return [component]
    if isinstance(component, list | tuple):
        for child in component:
            found += _strings(child)
        return found
    if component is None or isinstance(component, int | float):
        return found
    props = component.to_plotly_json()["props"]
    for key in ("placeholder", "title"):
        if isinstance(props.get(key), str):
            found.append(props[key])
    for option in props.get("options") or []:
        found.append(str(option["label"]))
    found += _strings(props.get("children"))
    return found


def test_map_page_in_english_has_no_chinese_but_names_and_the_switch(
    source: View, settings: Settings
) -> None:
    page, document = render_page(source, settings, "/", "?lang=en")
    assert document == {"lang": "en", "title": "示例县 · Prevention-network map", "path": "/"}
    texts = [s for s in _strings(page) if CJK.search(s)]
    # Only data (the area's name, the data note) and the switch back to Chinese.
    assert set(texts) <= {"示例县", "中文", "测试数据"}, texts


def test_map_page_in_chinese_by_default_with_the_banner(source: View, settings: Settings) -> None:
    page, document = render_page(source, settings, "/", "")
    assert document["lang"] == "zh"
    texts = _strings(page)
    assert "演示数据（合成），非真实警情" in texts
    assert "警情类别" in texts
    assert "盗窃" in texts
    assert not any(re.search(r"[A-Za-z]{3,}", s) for s in texts if s not in {"EN", "English"})


def _components(component: Any) -> list[Any]:
    if isinstance(component, list | tuple):
        return [c for child in component for c in _components(child)]
    if not hasattr(component, "to_plotly_json"):
        return []
    return [component, *_components(getattr(component, "children", None))]


def test_basemap_tiles_only_when_configured(source: View, settings: Settings) -> None:
    page, _ = render_page(source, settings, "/", "")
    assert not [c for c in _components(page) if type(c).__name__ == "TileLayer"]
    tiled = dataclasses.replace(
        settings, tile_url="http://tiles.bureau.local/{z}/{x}/{y}.png", tile_attribution="局内"
    )
    page, _ = render_page(source, tiled, "/", "")
    tiles = [c for c in _components(page) if type(c).__name__ == "TileLayer"]
    assert [(t.url, t.attribution) for t in tiles] == [
        ("http://tiles.bureau.local/{z}/{x}/{y}.png", "局内")
    ]
    (map_view,) = [c for c in _components(page) if type(c).__name__ == "MapContainer"]
    assert map_view.preferCanvas is True
    assert map_view.attributionControl is True


def test_unknown_path_renders_not_found(source: View, settings: Settings) -> None:
    page, _ = render_page(source, settings, "/nope", "")
    assert "404" in _strings(page)


def test_no_banner_for_real_data(tmp_path: Path) -> None:
    real = county_view(build_tiny_data(tmp_path / "real", synthetic=False))
    page, _ = render_page(real, load_settings({}, data_dir=str(real.data_dir)), "/", "")
    assert "演示数据（合成），非真实警情" not in _strings(page)


def test_outlines_are_geojson_of_every_shape(source: View) -> None:
    outlines = source.outlines
    assert [len(outlines[k]["features"]) for k in ("area", "precincts", "grids")] == [1, 2, 4]
    ring = outlines["area"]["features"][0]["geometry"]["coordinates"][0]
    assert sorted({tuple(p) for p in ring}) == sorted(
        {(107.68, 31.3), (107.68, 31.4), (107.78, 31.4), (107.78, 31.3)}
    )
    assert outlines["grids"]["features"][0]["properties"]["precinct_id"] == "P1"


# --------------------------------------------------------------------------- cache


def test_cache_key_is_stable_and_sensitive() -> None:
    assert cache_key("heat", res=8, lang="zh") == cache_key("heat", lang="zh", res=8)
    assert cache_key("heat", res=8, lang="zh") != cache_key("heat", res=9, lang="zh")
    assert cache_key("heat", res=8) != cache_key("coverage", res=8)


def test_layer_cache_computes_once_per_key(layer_cache: LayerCache) -> None:
    calls: list[int] = []

    def compute() -> dict[str, int]:
        calls.append(1)
        return {"n": len(calls)}

    county = {"scope": "county"}
    assert layer_cache.get_or_compute("x", {"a": 1, **county}, compute) == {"n": 1}
    assert layer_cache.get_or_compute("x", {"a": 1, **county}, compute) == {"n": 1}
    assert layer_cache.get_or_compute("x", {"a": 2, **county}, compute) == {"n": 2}
    assert len(calls) == 2


def test_redis_cache_without_the_package_is_a_settings_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine without the redis package gets a clear message, not an import error."""
    import importlib.util

    from flask import Flask

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "redis" else real_find_spec(name, *a),
    )
    with pytest.raises(SettingsError, match="needs the Python package redis"):
        LayerCache(Flask("t"), dataclasses.replace(settings, cache="redis"))
