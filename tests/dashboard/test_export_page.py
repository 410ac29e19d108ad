"""The export page's views and callbacks, called directly on the tiny data directory.

Known answers (tests/dashboard/tiny_data.py): in the last 30 days (27 Oct – 25 Nov 2026)
cells A and B (one res-8 parent, in the west precinct P1) hold 3 thefts and 4 frauds, and
cell C (the east precinct P2) holds 7 disputes on the data's last day; C's 50 thefts of
1 Sep lie outside the window. The expected cells are computed here with h3-py.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import h3
import pandas as pd
import pyogrio
import pytest
from flask import Flask

import dashboard.views.export_files as export_files
from dashboard import ids
from dashboard.app import render_page
from dashboard.components import export_choices as choices
from dashboard.datasource import ReloadingSource, View
from dashboard.downloads import Viewer, download, register_download_route
from dashboard.pages import export as page
from dashboard.settings import Settings, load_settings
from dashboard.views import LAYERS as MAP_LAYERS
from dashboard.views.export import (
    ExportProblem,
    ExportRequest,
    export_href,
    request_from_query,
)
from dashboard.views.export_files import ExportService
from geodata.audit import read_events
from geodata.export_inputs import load_export_inputs
from geodata.snapshot import Snapshot
from layers.export import build_export
from tests.conftest import SmallDisk
from tests.cube_rows import centre_cell
from tests.dashboard.fixtures import county_view
from tests.dashboard.tiny_data import (
    CUBE_ROWS,
    MID_LAT,
    MID_LNG,
    NEW_ROW,
    A,
    B,
    C,
    build_tiny_data,
    rebuild_cube,
)

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
COUNTY = Viewer("planner1", None)
WEST_CHIEF = Viewer("chief_p1", frozenset({"P1"}))
WINDOW = ("2026-10-27", "2026-11-26")  # the tiny data's last 30 days, half-open
LAST_DAY = pd.Timestamp("2026-11-25")


def _parent(cell: int, res: int) -> str:
    """The res-``res`` hexagon of the tiny cube row's point (its res-11 cell's centre)."""
    return str(h3.int_to_str(centre_cell(cell, res)))


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A fresh tiny data directory per test (its audit log starts empty)."""
    return build_tiny_data(tmp_path / "data")


@pytest.fixture
def source(tiny: Path) -> View:
    return county_view(tiny)


@pytest.fixture
def service(source: View) -> ExportService:
    return ExportService(ReloadingSource(source.snapshot))


@pytest.fixture
def settings(tiny: Path) -> Settings:
    return load_settings({}, data_dir=str(tiny))


def _request(**kw: Any) -> ExportRequest:
    return replace(ExportRequest(res=8), **kw)


def _find(component: Any, wanted: str) -> Any:
    """The component with id ``wanted`` in a layout tree, or None."""
    if isinstance(component, list | tuple):
        for child in component:
            found = _find(child, wanted)
            if found is not None:
                return found
        return None
    if component is None or isinstance(component, str | int | float):
        return None
    if getattr(component, "id", None) == wanted:
        return component
    return _find(getattr(component, "children", None), wanted)


def _text(children: Any) -> str:
    if isinstance(children, list | tuple):
        return " ".join(_text(c) for c in children)
    if children is None or isinstance(children, str | int | float):
        return "" if children is None else str(children)
    return _text(getattr(children, "children", None))


def _strings(component: Any) -> list[str]:
    """Every text a person reads in a layout: children, option labels, placeholders."""
    if isinstance(component, str):
        return [component]
    if isinstance(component, list | tuple):
        return [s for child in component for s in _strings(child)]
    if component is None or isinstance(component, int | float):
        return []
    props = component.to_plotly_json()["props"]
    found = [props[k] for k in ("placeholder", "title") if isinstance(props.get(k), str)]
    for option in props.get("options") or []:
        found += _strings(option["label"])
    return found + _strings(props.get("children"))


def _members(path: Path, into: Path) -> dict[str, Path]:
    with zipfile.ZipFile(path) as zf:
        zf.extractall(into)
        return {name: into / name for name in zf.namelist()}


# --------------------------------------------------------------------------- counts


def test_feature_count_is_the_known_answer_and_matches_build_export(
    tiny: Path, service: ExportService
) -> None:
    request = _request(layers=("incidents",), res=8)
    summary, href, css, name = page.update_preview(service, request, COUNTY)
    # A and B share a res-8 parent; C has its own: two hexagons with incidents.
    assert {_parent(A, 8), _parent(C, 8)} == {_parent(B, 8), _parent(C, 8)}
    assert "共 2 个要素" in _text(summary)
    assert href is not None and href.startswith("/export/download?")
    assert "pnm-disabled" not in css and name.endswith(".gpkg.zip")
    bundle = build_export(
        load_export_inputs(tiny), layer="incidents", res=8, since=WINDOW[0], until=WINDOW[1]
    )
    assert bundle.features == 2
    preview = service.preview(request, None)
    assert preview.features == {"incidents": bundle.features} and preview.exact
    counts = dict(zip(bundle.frame["h3_cell"], bundle.frame["count"], strict=True))
    assert counts == {_parent(A, 8): 3 + 4, _parent(C, 8): 7}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"area": "precincts", "precincts": ("P1",)}, {_parent(A, 8)}),
        ({"area": "grids", "grids": ("G4",)}, {_parent(C, 8)}),  # north-east quadrant
        ({"cats": ("theft",)}, {_parent(A, 8)}),  # C's thefts are outside the window
        ({"window": "today"}, {_parent(C, 8)}),
        ({"area": "view", "bbox": (MID_LAT, MID_LNG, 31.40, 107.78)}, {_parent(C, 8)}),
    ],
)
def test_area_window_and_filters_choose_the_cells(
    tiny: Path, service: ExportService, change: dict[str, Any], expected: set[str]
) -> None:
    request = _request(**change)
    bundles, _ = service.bundles(request, None)
    assert set(bundles[0].frame["h3_cell"]) == expected
    if request.area != "view":  # the same parameters straight to build_export
        since, until = request.span(service.source.last_day)
        direct = build_export(
            load_export_inputs(tiny),
            layer="incidents",
            res=8,
            since=since,
            until=until,
            precincts=request.precincts,
            grids=request.grids,
            categories=list(request.cats) or None,
        )
        assert direct.features == bundles[0].features
    else:
        assert bundles[0].metadata["area"]["bbox"]["south"] == MID_LAT


def test_the_download_does_not_recompute_the_preview(
    service: ExportService, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[str] = []
    real = export_files.build_export

    def counting(*args: Any, **kw: Any) -> Any:
        calls.append(kw["layer"])
        return real(*args, **kw)

    monkeypatch.setattr(export_files, "build_export", counting)
    request = _request(layers=("incidents", "hotspots"))
    _, href, _, _ = page.update_preview(service, request, COUNTY)
    assert calls == ["incidents", "hotspots"]
    prepared, _ = download(service, href.split("?", 1)[1], COUNTY)
    assert calls == ["incidents", "hotspots"]  # nothing built again
    files = _members(prepared.path, tmp_path / "unzipped")
    gpkg = next(p for n, p in files.items() if n.endswith(".gpkg"))
    layers = {layer for layer, _ in pyogrio.list_layers(gpkg)}
    assert {"hotspots", "incidents"} <= layers  # one table per layer (and QGIS styles)


# --------------------------------------------------------------------------- download


def test_download_reads_back_with_the_count_and_crs_and_is_logged_once(
    tiny: Path, service: ExportService, tmp_path: Path
) -> None:
    request = _request(crs="EPSG:4545", fmt="gpkg", area="precincts", precincts=("P1",))
    _, href, _, _ = page.update_preview(service, request, COUNTY)
    assert list(read_events(tiny)) == []  # a preview is not an export
    prepared, asked = download(service, href.split("?", 1)[1], COUNTY)
    assert asked == request
    files = _members(prepared.path, tmp_path / "gpkg")
    names = sorted(files)
    assert names[0].endswith(".gpkg") and names[1].endswith(".qml") and len(names) == 2
    info = pyogrio.read_info(files[names[0]], layer="incidents")
    assert info["features"] == 1
    assert info["crs"] == "EPSG:4545"
    events = list(read_events(tiny))
    assert len(events) == 1
    event = events[0]
    assert event["user"] == "planner1" and event["action"] == "export"
    assert event["layer"] == ["incidents"] and event["res"] == 8
    assert (event["fmt"], event["crs"], event["features"]) == ("gpkg", "EPSG:4545", 1)
    assert event["area"] == {"kind": "precincts", "precincts": ["P1"], "scope": "county"}
    download(service, href.split("?", 1)[1], COUNTY)
    assert len(list(read_events(tiny))) == 2  # one line per download


def test_shapefile_and_csv_downloads(service: ExportService, tmp_path: Path) -> None:
    shp, _ = download(service, _request(fmt="shp", crs="EPSG:4524").to_query(), COUNTY)
    assert shp.file_name.endswith(".zip") and not shp.file_name.endswith(".shp.zip.zip")
    info = pyogrio.read_info(f"/vsizip/{shp.path}/incidents.shp")
    assert info["features"] == 2 and info["crs"] == "EPSG:4524"
    csv, _ = download(service, _request(fmt="csv", crs="GCJ-02").to_query(), COUNTY)
    files = _members(csv.path, tmp_path / "csv")
    assert {Path(n).suffix for n in files} == {".csv", ".csvt", ".qml", ".json"}
    meta = json.loads(next(p for n, p in files.items() if n.endswith(".metadata.json")).read_text())
    assert meta["crs"]["key"] == "GCJ-02" and meta["features"] == 2


def test_the_route_streams_the_file_and_refuses_clearly(
    tiny: Path, service: ExportService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dashboard.downloads as downloads

    monkeypatch.setattr(downloads, "signed_in", lambda: COUNTY)
    server = Flask("test")
    register_download_route(server, service)
    client = server.test_client()
    ok = client.get("/export/download" + _request(fmt="parquet").to_query())
    assert ok.status_code == 200
    assert ok.headers["Content-Type"] == "application/zip"
    assert "attachment" in ok.headers["Content-Disposition"]
    assert ".parquet.zip" in ok.headers["Content-Disposition"]
    assert len(ok.data) > 0 and ok.data[:2] == b"PK"
    bad = client.get("/export/download" + _request(fmt="geojson", crs="EPSG:4545").to_query())
    assert bad.status_code == 400
    assert "GeoJSON" in bad.get_data(as_text=True) and "WGS84" in bad.get_data(as_text=True)
    edited = client.get("/export/download?layers=incidents&res=8&fmt=kml&lang=en")
    assert edited.status_code == 400
    assert edited.get_data(as_text=True).strip() == "Invalid parameter fmt: kml"
    assert len(list(read_events(tiny))) == 1  # only the download that was sent


def test_a_full_disk_answers_507_leaves_no_scratch_and_logs_no_export(
    tiny: Path, service: ExportService, monkeypatch: pytest.MonkeyPatch, small_disk: SmallDisk
) -> None:
    import tempfile

    import dashboard.downloads as downloads

    monkeypatch.setattr(downloads, "signed_in", lambda: COUNTY)
    monkeypatch.setattr(tempfile, "tempdir", str(small_disk.path))  # exports are written here
    server = Flask("test")
    register_download_route(server, service)
    client = server.test_client()
    small_disk.fill(leave=8192)
    before = {p.name for p in small_disk.path.rglob("*")}
    for fmt, lang, text in (("gpkg", "zh", "磁盘空间已满"), ("parquet", "en", "disk is full")):
        r = client.get("/export/download" + _request(fmt=fmt, lang=lang).to_query())
        assert r.status_code == 507, r.get_data(as_text=True)
        assert text in r.get_data(as_text=True) and r.mimetype == "text/plain"
        left = {p.name for p in small_disk.path.rglob("*") if p.is_file()} - before
        assert left == set(), left  # no scratch file, no partial zip
    assert list(read_events(tiny)) == []  # nothing exported, nothing logged

    small_disk.free()
    ok = client.get("/export/download" + _request(fmt="gpkg").to_query())
    assert ok.status_code == 200 and ok.data[:2] == b"PK"
    assert [e["action"] for e in read_events(tiny)] == ["export"]


# --------------------------------------------------------------------------- refusals


def test_geojson_in_gauss_kruger_is_refused_with_a_clear_message(service: ExportService) -> None:
    request = _request(fmt="geojson", crs="EPSG:4545", lang="en")
    summary, href, css, name = page.update_preview(service, request, COUNTY)
    text = _text(summary)
    assert text.startswith("GeoJSON is WGS84 longitude/latitude only (RFC 7946)")
    assert "CGCS2000 / 3-degree Gauss-Kruger CM 108E" in text
    assert href is None and name is None and "pnm-disabled" in css
    options = {o["value"]: o["disabled"] for o in choices.format_options("EPSG:4545", "zh")}
    assert options["geojson"] is True and not any(v for k, v in options.items() if k != "geojson")
    assert choices.format_options("EPSG:4326", "zh")[2]["disabled"] is False


def test_several_layers_need_a_geopackage(service: ExportService) -> None:
    request = _request(layers=("incidents", "hotspots"), fmt="csv")
    summary, href, *_ = page.update_preview(service, request, COUNTY)
    assert "一个文件只能放一个图层（已选 2 个）" in _text(summary) and href is None


def test_an_empty_result_says_so_and_nothing_is_downloaded(
    tiny: Path, service: ExportService
) -> None:
    request = _request(window="today", cats=("fraud",))  # the last day had disputes only
    summary, href, css, _ = page.update_preview(service, request, COUNTY)
    assert "没有任何要素" in _text(summary) and href is None and "pnm-disabled" in css
    with pytest.raises(ExportProblem) as refused:
        download(service, request.to_query(), COUNTY)
    assert refused.value.status == 404
    assert list(read_events(tiny)) == []


def test_a_chief_exports_only_their_precincts(source: View, service: ExportService) -> None:
    bundles, area = service.bundles(_request(), WEST_CHIEF.scope)  # "county" = my jurisdiction
    assert set(bundles[0].frame["h3_cell"]) == {_parent(A, 8)}
    assert area.precincts == ("P1",)
    with pytest.raises(ExportProblem) as refused:
        service.bundles(_request(area="precincts", precincts=("P2",)), WEST_CHIEF.scope)
    assert refused.value.status == 403 and "P2" in refused.value.text("en")
    with pytest.raises(ExportProblem):
        service.bundles(_request(area="grids", grids=("G3",)), WEST_CHIEF.scope)  # P2's grid
    precincts, grids = choices.place_options(source, WEST_CHIEF, "zh")
    assert [o["value"] for o in precincts] == ["P1"]
    assert [o["value"] for o in grids] == ["G1", "G2"]
    options = choices.area_options(_request(), WEST_CHIEF, "zh")
    assert options[0]["label"] == "本辖区（1 个派出所）"


def test_res_finer_than_the_map_draws_a_layer_is_not_offered() -> None:
    options = {
        o["value"]: o["disabled"] for o in choices.res_options(["incidents", "hotspots"], "en")
    }
    assert options == {6: False, 7: False, 8: False, 9: False, 10: True, 11: True}
    with pytest.raises(ExportProblem):
        request_from_query("?layers=hotspots&res=11", last_day=LAST_DAY, strict=True)
    lenient = request_from_query("?layers=hotspots&res=11", last_day=LAST_DAY)
    assert lenient.res == 9


# --------------------------------------------------------------------------- pre-fill


MAP_QUERY = (
    "?layer=hotspots&window=custom&since=2026-11-01&until=2026-11-20&cats=theft,fraud"
    "&res=auto&lat=31.35&lng=107.73&zoom=13.5&bbox=31.340000,107.710000,31.360000,107.750000"
)


def test_the_map_query_pre_fills_the_page(source: View, settings: Settings) -> None:
    request = request_from_query(MAP_QUERY, last_day=source.last_day)
    assert request.layers == ("hotspots",)
    assert (request.window, request.since, request.until) == ("custom", "2026-11-01", "2026-11-20")
    assert request.cats == ("fraud", "theft")
    assert request.res == 9  # zoom 13 draws res 10; hot spots go down to 9
    assert request.area == "view" and request.bbox == (31.34, 107.71, 31.36, 107.75)
    layout = page.layout(
        source=source, settings=settings, lang="zh", pathname="/export", search=MAP_QUERY,
        viewer=COUNTY,
    )  # fmt: skip
    assert _find(layout, ids.EXPORT_LAYERS).value == ["hotspots"]
    assert _find(layout, ids.EXPORT_RES).value == 9
    assert _find(layout, ids.EXPORT_AREA).value == "view"
    assert "北纬 31.340°–31.360°，东经 107.710°–107.750°" in str(
        _find(layout, ids.EXPORT_AREA).options[-1]["label"]
    )
    assert _find(layout, ids.EXPORT_WINDOW).value == "custom"
    dates = _find(layout, ids.EXPORT_DATES)
    assert (dates.start_date, dates.end_date) == ("2026-11-01", "2026-11-20")
    assert _find(layout, ids.EXPORT_CATS).value == ["fraud", "theft"]
    assert _find(layout, ids.EXPORT_VIEW).data == [31.34, 107.71, 31.36, 107.75]


def test_map_playback_exports_the_frame_shown_and_every_map_layer_itself(
    source: View, settings: Settings
) -> None:
    # Week by week over the last 30 days (27 Oct – 25 Nov), frame 2 is 3–9 Nov.
    frame = request_from_query("?window=30d&step=week&frame=1&res=8", last_day=source.last_day)
    assert (frame.window, frame.since, frame.until) == ("custom", "2026-11-03", "2026-11-09")
    assert frame.area == "county" and frame.res == 8
    # "Export this view" of any map layer exports that layer (gaps: not incidents).
    expected = {"heat": "incidents", "rate": "incidents", "reach": "response_reach",
                "community": "safe_community", "patrol": "patrol_coverage"}  # fmt: skip
    for layer in MAP_LAYERS:
        layout = page.layout(
            source=source, settings=settings, lang="en", pathname="/export",
            search=f"?layer={layer}&lang=en", viewer=COUNTY,
        )  # fmt: skip
        assert _find(layout, ids.EXPORT_LAYERS).value == [expected.get(layer, layer)], layer
        assert "cannot be exported" not in _text(layout)


def test_the_map_link_carries_the_view_and_the_download_link_round_trips(
    source: View,
) -> None:
    href = export_href("?layer=heat&zoom=12&lat=31.35&lng=107.73", [[31.3, 107.7], [31.4, 107.8]])
    assert href.startswith("/export?layer=heat&")
    query = dict(parse_qsl(href.split("?", 1)[1]))
    assert query["bbox"] == "31.300000,107.700000,31.400000,107.800000"
    assert export_href("", None) == "/export"
    request = _request(
        layers=("incidents", "patrol_coverage"), area="view", bbox=(31.3, 107.7, 31.4, 107.8),
        window="custom", since="2026-11-01", until="2026-11-02", cats=("theft",),
        crs="GCJ-02", fmt="gpkg", lang="en",
    )  # fmt: skip
    again = request_from_query(request.to_query(), last_day=source.last_day, strict=True)
    assert again == request


def test_the_app_routes_export_and_the_english_page_speaks_english(
    source: View, settings: Settings
) -> None:
    page_en, document = render_page(source, settings, "/export", "?lang=en")
    assert document["path"] == "/export" and document["lang"] == "en"
    assert _find(page_en, ids.EXPORT_DOWNLOAD) is not None
    layout = page.layout(
        source=source, settings=settings, lang="en", pathname="/export", search="?lang=en",
        viewer=COUNTY,
    )  # fmt: skip
    texts = _strings(layout)
    assert "Export layers" in texts
    names = {"示例县", "中文", "测试数据"}  # the area, the switch back, the data note
    names |= {f"{n} ({i})" for n, i in [("西城派出所", "P1"), ("东城派出所", "P2")]}
    names |= {s for s in texts if s.endswith(("(G1)", "(G2)", "(G3)", "(G4)"))}  # grid names
    assert {s for s in texts if CJK.search(s)} <= names


def test_the_estimate_path_for_large_exports(
    service: ExportService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_files, "PREPARE_LIMIT", 0)
    request = _request(fmt="fgb", crs="EPSG:3857")
    preview = service.preview(request, None)
    assert not preview.exact and preview.total == 2 and preview.bytes > 0
    prepared = service.prepare(request, None)  # written at download time
    assert abs(prepared.bytes - preview.bytes) <= 0.1 * prepared.bytes


def test_exports_follow_new_cubes_without_a_restart(tiny: Path) -> None:
    live = ReloadingSource(Snapshot(tiny), check_seconds=0.0)
    service = ExportService(live)
    old = live.version
    before, _ = service.bundles(_request(), None)
    rebuild_cube(tiny, [*CUBE_ROWS, NEW_ROW], "2026-11-26T08:00:00+00:00")
    after, _ = service.bundles(_request(), None)
    assert service.source.version == live.version != old
    new_cell = _parent(NEW_ROW[0], 8)
    assert new_cell not in set(before[0].frame["h3_cell"])
    assert new_cell in set(after[0].frame["h3_cell"])  # the new incidents, not the old cube
