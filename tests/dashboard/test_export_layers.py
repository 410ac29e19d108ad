"""Every map layer exportable, read back by GDAL, with names and fields a planner can use.

For every export (one per map layer of the registry, :data:`layers.export.LAYERS`), the
GeoPackage and the zipped Shapefile a chief of the small demo downloads are read back
with pyogrio (GDAL) and hold the chief's map cells with the map's numbers, rounded as
they mean (tests/dashboard/rounding.py) and no more digits than that; the Shapefile's
field names fit dBASE (≤ 10 characters, unique) and the zip's metadata and README list
each one with its full name and meaning. The gap layer's file carries the score, class,
reason line and the parts of risk and protection, its reasons those of the ranked list.
A chief's download is named after their precinct (name and code), with an ASCII
fallback and the full name as RFC 5987 ``filename*``.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import h3
import numpy as np
import pandas as pd
import pyogrio
import pytest

from dashboard.app import create_app
from dashboard.cache import LayerCache
from dashboard.datasource import ReloadingSource
from dashboard.settings import load_settings
from dashboard.views import LAYERS as MAP_LAYERS
from dashboard.views import LayerResult, layer_result, params_for, scoped_result
from dashboard.views.export import ExportProblem, ExportRequest, request_from_query
from dashboard.views.export_files import ExportService
from geodata.audit import read_events
from layers.coverage_gaps import top_gaps
from layers.export import LAYERS, MAP_TO_EXPORT, derived
from layers.export.derived import RENAMES, ZONE_COLUMNS
from layers.export.fields import COLUMNS
from layers.export.naming import UNSAFE, AreaName, export_name
from layers.registry.gaps import frame_of
from tests.dashboard.auth_data import SECRET, sign_in
from tests.dashboard.rounding import DECIMALS, SIGNIFICANT, as_float, assert_rounded
from tests.dashboard.test_one_truth import build_known_data

RES = 8
CHIEF = "511722001"  # 东乡 of the small demo
CHIEF_NAME = "东乡派出所"
FORMATS = ("gpkg", "shp")
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qml", ".metadata.json")

# The hand-written exports: the map layer each presents, its fields -> the map's explaining
# columns, and which of its rows the map leaves uncoloured (a GIS file covers the area).
HAND: dict[str, tuple[str, dict[str, str]]] = {
    "incidents": ("heat", {"count": "count"}),
    "hotspots": (
        "hotspots",
        {"count": "value", "neighbours": "neighbours", "gi_z": "gi_z", "p_value": "p_value"},
    ),
    "response_reach": ("reach", {"minutes": "minutes", "distance_m": "distance_m"}),
    "safe_community": (
        "community",
        {c: c for c in ("communities", "certified", "households", "certified_share", "at_risk")},
    ),
    "patrol_coverage": (
        "patrol",
        {
            c: c
            for c in (
                "dwell_min_per_day",
                "dwell_min",
                "visits",
                "units",
                "longest_gap_h",
                "dwell_min_police_car",
                "dwell_min_foot_patrol",
            )
        },
    ),
}
UNDRAWN = {
    "hotspots": lambda f: (f["class_code"] == "not_significant").to_numpy(),
    "patrol_coverage": lambda f: (f["class"] == 0).to_numpy(),
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def service(live: ReloadingSource) -> ExportService:
    return ExportService(live)


@pytest.fixture(scope="module")
def chief_map(
    live: ReloadingSource, cache: LayerCache, window: tuple[str, str]
) -> Callable[[str], LayerResult]:
    """The chief's map of a map layer at :data:`RES` over the 30-day window."""

    def of(map_layer: str) -> LayerResult:
        params = params_for(map_layer, res=RES, since=window[0], until=window[1])
        return scoped_result(live.view(frozenset({CHIEF})), cache, params)

    return of


def read_back(
    service: ExportService, layer: str, fmt: str, scope: frozenset[str] | None, tmp: Path
) -> tuple[pd.DataFrame, dict[str, Any], str, list[str]]:
    """The file a user of ``scope`` downloads, read by GDAL: its rows indexed by cell
    (Shapefile fields renamed to their full names by the zip's own mapping), the
    metadata, the download's name and the zip's members."""
    request = ExportRequest(layers=(layer,), res=RES, window="30d", fmt=fmt, crs="EPSG:4490")
    prepared = service.prepare(request, scope)
    with zipfile.ZipFile(prepared.path) as zf:
        members = zf.namelist()
        zf.extractall(tmp)
    meta: dict[str, Any] = {}
    if fmt == "gpkg":
        gpkg = next(tmp / m for m in members if m.endswith(".gpkg"))
        frame = pyogrio.read_dataframe(gpkg, layer=layer)
    else:
        frame = pyogrio.read_dataframe(f"/vsizip/{prepared.path}/{layer}.shp")
        meta = json.loads((tmp / f"{layer}.metadata.json").read_text("utf-8"))
        full = {short: name for name, short in meta["field_names"].items()}
        assert set(frame.columns) - {"geometry"} == set(full)
        frame = frame.rename(columns=full)
    cells = [int(h3.str_to_int(c)) for c in frame["h3_cell"]]
    return frame.set_index(pd.Index(cells)), meta, prepared.file_name, members


def map_rows(layer: str, mine: LayerResult) -> tuple[list[int], dict[str, str]]:
    """The cells the export must hold and its fields -> the map's explaining columns."""
    if layer in HAND:
        return mine.cells.tolist(), HAND[layer][1]
    renames = RENAMES.get(mine.layer, {})
    columns = [c for c in mine.explain.columns if not str(c).startswith("_")]
    fields = {renames.get(c, c): c for c in columns if c not in ZONE_COLUMNS}
    cells = sorted({*mine.cells.tolist(), *mine.explain.index.tolist()})
    return cells, fields


def test_every_map_layer_has_an_export_and_the_list_is_the_registrys() -> None:
    assert set(MAP_TO_EXPORT) == set(MAP_LAYERS)
    assert set(MAP_TO_EXPORT.values()) == set(LAYERS)
    assert {"gaps", "emerging", "mom", "yoy", "koper"} <= set(LAYERS)
    for name, spec in LAYERS.items():
        assert spec.map_layer in MAP_LAYERS and MAP_TO_EXPORT[spec.map_layer] == name


# --------------------------------------------------------------------------- every layer


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layer", list(LAYERS))
def test_a_chiefs_file_read_back_by_gdal_holds_the_maps_cells_and_rounded_values(
    layer: str,
    fmt: str,
    chief_map: Callable[[str], LayerResult],
    service: ExportService,
    tmp_path: Path,
) -> None:
    mine = chief_map(LAYERS[layer].map_layer)
    frame, meta, name, members = read_back(service, layer, fmt, frozenset({CHIEF}), tmp_path)
    assert len(frame) > 0, layer
    assert (frame["precinct_id"] == CHIEF).all()
    assert (frame["h3_res"].astype(int) == RES).all()
    # The rows: the map's cells (and the cells it explains but leaves uncoloured).
    cells, fields = map_rows(layer, mine)
    drawn = ~UNDRAWN[layer](frame) if layer in UNDRAWN else np.ones(len(frame), dtype=bool)
    assert frame.index[drawn].tolist() == cells, layer
    # The values: the map's, rounded by their kind, every one of them.
    explain = mine.explain.reindex(frame.index[drawn])
    for field, column in fields.items():
        assert field in frame.columns, (layer, field)
        info = COLUMNS[field]
        if info.kind in DECIMALS or info.kind in SIGNIFICANT:
            assert_rounded(field, frame.loc[drawn, field], explain[column])
        else:  # text: codes, labels, ids (the chief's own units), times
            got = frame.loc[drawn, field].astype(object).where(frame.loc[drawn, field].notna())
            want = explain[column].astype(object).where(explain[column].notna())
            # (a unit of another precinct: the map's label, in the file's language)
            want = want.map(lambda w: w.zh if hasattr(w, "zh") else w)
            same = [
                (pd.isna(g) and pd.isna(w)) or (pd.isna(g) and w == "") or str(g) == str(w)
                for g, w in zip(got, want, strict=True)
            ]
            assert all(same), (layer, field, got[~np.asarray(same)].head(3).tolist())
    # No number leaves unrounded: every numeric column has a kind and keeps to it.
    for column in frame.columns:
        if column == "geometry" or frame[column].dtype.kind not in "iuf":
            continue
        info = COLUMNS[column]
        if info.kind in DECIMALS or info.kind in SIGNIFICANT:
            assert_rounded(column, frame[column], frame[column])
    # The class is the map's colour (registry layers: the legend's index, -1 uncoloured).
    if layer not in HAND:
        on_map = dict(zip(mine.cells.tolist(), mine.values.astype(int).tolist(), strict=True))
        assert frame["class"].astype(int).tolist() == [on_map.get(c, -1) for c in frame.index]
    # The file's name says the area (the chief's precinct, name and code) and the layer.
    assert name.startswith(f"{CHIEF_NAME}-{CHIEF}-{layer}-res{RES}-")
    assert "EPSG4490" in name and not UNSAFE.search(name)
    if fmt == "shp":
        short = meta["field_names"]
        assert all(len(s) <= 10 for s in short.values())
        assert len({s.lower() for s in short.values()}) == len(short)
        # A documented name for every long column (none cut by the fallback rule).
        assert all(short[c] == COLUMNS[c].dbf for c in short if len(c) > 10), layer
        rows = {r["name"]: r for r in meta["fields"]}
        assert {r["shapefile_field"] for r in rows.values()} == set(short.values())
        readme = (tmp_path / "README.txt").read_text("utf-8")
        for full, s in short.items():
            line = next(x for x in readme.splitlines() if x.startswith(f"{s}\t"))
            field, full_name, _unit, zh, en, _ = line.split("\t")
            assert (field, full_name) == (s, full) and zh == rows[full]["zh"] and en
        assert {f"{layer}{p}" for p in SHAPEFILE_PARTS} | {"README.txt"} <= set(members)


def test_the_patrol_shapefile_names_its_unit_kinds_readably(
    service: ExportService, tmp_path: Path
) -> None:
    _, meta, _, _ = read_back(service, "patrol_coverage", "shp", None, tmp_path)
    names = meta["field_names"]
    assert names["dwell_min_police_car"] == "dwl_car"
    assert names["dwell_min_foot_patrol"] == "dwl_foot"
    assert names["dwell_min_per_day"] == "dwl_p_day"
    assert not [s for s in names.values() if s[-2:-1] == "_" and s[-1].isdigit()]


@pytest.mark.parametrize("layer", ["gaps", "patrol_coverage", "hotspots"])
def test_a_shapefile_shows_each_number_with_the_decimals_of_its_kind(
    layer: str, service: ExportService, tmp_path: Path
) -> None:
    """GDAL writes a float as N(24,15) (44.5 min reads 44.500000000000000 in ArcGIS); the
    export gives each real field the decimals its values need, as GDAL's ogrinfo reads."""
    _, meta, _, _ = read_back(service, layer, "shp", None, tmp_path)
    full = {short: name for name, short in meta["field_names"].items()}
    info = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", str(tmp_path / f"{layer}.shp")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    reals = dict(re.findall(r"^(\w+): Real \(\d+\.(\d+)\)$", info, re.M))
    assert reals, info[:500]
    for short, decimals in reals.items():
        kind = COLUMNS[full[short]].kind
        allowed = DECIMALS.get(kind, 6 if kind in SIGNIFICANT else 0)
        assert int(decimals) <= allowed, (layer, full[short], decimals)
    assert any(int(d) > 0 for d in reals.values())


# --------------------------------------------------------------------------- the gap layer


def test_the_gap_file_holds_score_class_reason_and_parts_as_the_ranked_list(
    chief_map: Callable[[str], LayerResult], service: ExportService, tmp_path: Path
) -> None:
    mine = chief_map("gaps")
    frame, _, _, _ = read_back(service, "gaps", "gpkg", frozenset({CHIEF}), tmp_path)
    parts = [
        "risk_intensity", "risk_hotspot", "risk_trend", "protection_patrol",
        "protection_reach", "protection_certified", "protection_volunteers",
    ]  # fmt: skip
    for column in ("gap", "gap_class", "risk", "protection", *parts, "reason_zh", "reason_en"):
        assert column in frame.columns, column
    # Score = risk x (1 - protection), within the rounding of the three.
    gap, risk, prot = (as_float(frame[c]) for c in ("gap", "risk", "protection"))
    assert np.all(np.abs(gap - risk * (1 - prot)) <= 0.0016)
    # The ranked list's reasons (the map's top_gaps of the same frame) are the file's.
    top = top_gaps(frame_of(mine), n=10)
    assert len(top), "the chief's precinct has gaps"
    for _, row in top.iterrows():
        cell = int(row["cell"])
        assert frame.loc[cell, "reason_zh"] == row["reason_zh"]
        assert frame.loc[cell, "reason_en"] == row["reason_en"]
        assert int(frame.loc[cell, "gap_class"]) == int(row["class"])
        assert abs(float(frame.loc[cell, "gap"]) - float(row["gap"])) <= 0.0005
    # Cells of class 1-4 are drawn (and explained), class 0 uncoloured (-1) with no reason.
    klass = frame["gap_class"].astype(int)
    assert ((klass >= 1) == (frame["class"].astype(int) >= 0)).all()
    assert (frame.loc[klass == 0, "reason_zh"].fillna("") == "").all()
    assert (frame.loc[klass >= 2, "reason_zh"].str.len() > 0).all()


def test_the_dashboards_export_is_the_result_the_map_drew(
    live: ReloadingSource,
    cache: LayerCache,
    window: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """With the map's layer cache, the export of a registry layer is the cached result the
    map drew for the same parameters — no second computation (one that would raise here)."""
    params = params_for("gaps", res=RES, since=window[0], until=window[1])
    drawn = layer_result(live.current, cache, params)

    def second_computation(*_: Any) -> None:
        raise AssertionError("the export computed the gap layer again")

    monkeypatch.setattr(derived, "compute", second_computation)
    frame, _, _, _ = read_back(ExportService(live, cache), "gaps", "gpkg", None, tmp_path)
    coloured = frame.index[frame["class"].astype(int) >= 0]
    assert coloured.tolist() == drawn.cells.tolist()
    assert sorted(frame.index) == sorted(drawn.explain.index)


# --------------------------------------------------------------------------- the map's link


def test_export_this_view_of_the_gap_map_exports_the_gap_layer_with_its_filters(
    live: ReloadingSource,
) -> None:
    query = "?layer=gaps&window=7d&cats=theft&kinds=police_car&res=8&zoom=12&lat=31.35&lng=107.73"
    request = request_from_query(query, last_day=live.current.last_day)
    assert request.layers == ("gaps",)
    assert (request.window, request.cats, request.kinds, request.res) == (
        "7d", ("theft",), ("police_car",), 8,
    )  # fmt: skip
    # A resolution the map does not draw the layer at: the page takes the nearest drawn,
    # the download refuses it.
    last = live.current.last_day
    assert request_from_query("?layers=gaps&res=6", last_day=last).res == 7
    with pytest.raises(ExportProblem, match="export_res_too_coarse"):
        request_from_query("?layers=gaps&res=6", last_day=last, strict=True)


# --------------------------------------------------------------------------- file names


def test_file_names_are_safe_on_every_system() -> None:
    since, until = pd.Timestamp("2026-11-01"), pd.Timestamp("2026-12-01")
    area = AreaName(('东乡/派出所:*?"<>|\\ 一', "蒲江"), ("511722001", "511722002"))
    name = export_name(area, ["gaps"], res=9, since=since, until=until, crs="EPSG:4490",
                       suffix=".gpkg")  # fmt: skip
    assert not UNSAFE.search(name.removesuffix(".gpkg"))
    assert (
        name == "东乡_派出所_一+蒲江-511722001+511722002-gaps-res9-20261101-20261130-EPSG4490.gpkg"
    )
    plain = export_name(area, ["gaps"], res=9, since=since, until=until, crs="GCJ-02",
                        suffix=".zip", ascii=True)  # fmt: skip
    assert plain == "511722001+511722002-gaps-res9-20261101-20261130-GCJ02.zip" and plain.isascii()
    many = AreaName(tuple(f"网格{i}" for i in range(5)), tuple(f"G{i}" for i in range(5)))
    assert export_name(many, ["incidents"], res=8, since=since, until=until, crs="EPSG:4326",
                       suffix=".csv").startswith("网格0等5处-G0+4-incidents-")  # fmt: skip
    layers = export_name(many, ["a", "b", "c", "d"], res=8, since=since, until=until,
                         crs="EPSG:4326", suffix=".gpkg")  # fmt: skip
    assert "-4layers-res8-" in layers


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_known_data(tmp_path_factory.mktemp("export-names") / "data")


def test_a_chiefs_download_is_named_after_their_precinct_and_logged(known: Path) -> None:
    app = create_app(load_settings({}, data_dir=str(known), secret_key=SECRET))
    client = app.server.test_client()
    assert sign_in(client, "west").status_code == 302
    r = client.get(f"/export/download?layers=gaps&res={RES}&area=county&fmt=gpkg&crs=EPSG:4490")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    header = r.headers["Content-Disposition"]
    assert header.startswith("attachment; ")
    plain = header.split('filename="', 1)[1].split('"', 1)[0]
    full = unquote(header.split("filename*=UTF-8''", 1)[1])
    assert full.startswith("西城派出所-P1-gaps-res8-") and full.endswith("-EPSG4490.gpkg.zip")
    assert plain == full.removeprefix("西城派出所-") and plain.isascii()
    assert quote(full, safe="") in header  # RFC 5987: percent-encoded UTF-8
    with zipfile.ZipFile(io.BytesIO(r.get_data())) as zf:
        assert full.removesuffix(".zip") in zf.namelist()
    events = [e for e in read_events(known) if e.get("action") == "export"]
    assert events[-1]["layer"] == ["gaps"] and events[-1]["file"] == full
    assert events[-1]["user"] == "west"
