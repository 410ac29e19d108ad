"""The map's gap layer, ranked gap list and patrol layers, their callbacks called directly.

Two data sets: the tiny hand-made one (known cells: A and B share a res-9 parent with 3
thefts and 4 frauds in the last 30 days, C holds 7 disputes; no patrols, communities or
response units), and the small demo with its cubes (patrols and visits) for the patrol
coverage, the Koper dose and the gap classes. Expected answers come from the layer
functions called here on the raw inputs, from h3-py, and from the export's own style.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h3
import numpy as np
import pandas as pd
import pytest
from dash.exceptions import PreventUpdate
from flask import Flask
from plotly.utils import PlotlyJSONEncoder

from dashboard.cache import LayerCache
from dashboard.components.gap_list import HIDDEN, SHOWN, gap_list_view
from dashboard.datasource import View
from dashboard.pages.map import (
    layer_sections,
    select_gap_entry,
    update_gap_list,
    update_layer,
    with_sections,
)
from dashboard.settings import load_settings
from dashboard.views import layer_result, params_for
from dashboard.views.gaps import fly_zoom, gap_detail, list_params
from dashboard.views.protection import ZONE_RES, patrol_zones, zone_coverage
from geodata.cubes import load_cube
from geodata.export_inputs import load_export_inputs
from layers.coverage_gaps import cell_layers, coverage_gaps, top_gaps
from layers.export import build_export, export_window
from layers.grids import zone_cells
from layers.patrol_coverage import CoverageStandard, coverage_share, patrol_coverage
from layers.viewport import zoom_to_res
from tests.dashboard.fixtures import county_view
from tests.dashboard.styles import update_style
from tests.dashboard.tiny_data import A, C, build_tiny_data

LIST_RES = 9
"""The resolution of the list in these tests: the map's at zoom 12 (the keys' zoom)."""
FLY_ZOOM = fly_zoom(LIST_RES)


def _parent(cell: int, res: int) -> str:
    return str(h3.cell_to_parent(h3.int_to_str(cell), res))


def _cache(data_dir: Path) -> LayerCache:
    return LayerCache(Flask("test"), load_settings({}, data_dir=str(data_dir)))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_data(tmp_path_factory.mktemp("tiny-gaps"))


@pytest.fixture(scope="module")
def tiny_source(tiny: Path) -> View:
    return county_view(tiny)


@pytest.fixture(scope="module")
def demo_source(demo_with_cubes: Path) -> View:
    return county_view(demo_with_cubes)


def _key(source: Any, cache: LayerCache, **kw: Any) -> dict[str, Any]:
    """The layer key the map's layer callback stores (zoom 12: res 9 unless overridden)."""
    args: dict[str, Any] = {
        "layer": "gaps",
        "preset": "30d",
        "start_date": None,
        "end_date": None,
        "cats": [],
        "kinds": [],
        "band": "all",
        "resolution": "auto",
        "step": "off",
        "frame": 0,
        "bounds": None,
        "zoom": 12,
        "lang": "zh",
    }
    args.update(kw)
    return update_layer(source, cache, **args)[1]  # type: ignore[no-any-return]


def _entries(children: list[Any]) -> list[str]:
    """The cells of the list's entries, in order (from the buttons' ids)."""
    found: list[str] = []

    def walk(c: Any) -> None:
        cid = getattr(c, "id", None)
        if isinstance(cid, dict) and cid.get("type") == "gap-entry":
            found.append(cid["index"])
        kids = getattr(c, "children", None)
        for k in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            walk(k)

    for child in children:
        walk(child)
    return found


def _text(children: list[Any]) -> str:
    """The components as the browser receives them (JSON, nested components included)."""
    return json.dumps(children, cls=PlotlyJSONEncoder, ensure_ascii=False)


# --------------------------------------------------------------------------- the list


def test_the_list_holds_the_known_gaps_in_rank_order(tiny_source: View, tiny: Path) -> None:
    cache = _cache(tiny)
    key = _key(tiny_source, cache)
    children, shown = update_gap_list(tiny_source, cache, key=key, selected="", lang="en")
    assert shown == SHOWN
    # A+B (3 thefts, 4 frauds) and C (7 disputes): 7 incidents each, no protection at
    # all, so the same score; ties rank by cell id.
    expected = sorted([_parent(A, LIST_RES), _parent(C, LIST_RES)], key=h3.str_to_int)
    assert _entries(children) == expected
    text = _text(children)
    assert "7 incidents in 30 days" in text and "no response unit" in text
    zh, _ = update_gap_list(tiny_source, cache, key=key, selected="", lang="zh")
    assert "近30天警情7起" in _text(zh) and "东城派出所" in _text(zh)
    # Another layer hides the list (and computes nothing for it).
    assert update_gap_list(tiny_source, cache, key={**key, "layer": "heat"}, selected="",
                           lang="en") == ([], HIDDEN)  # fmt: skip


def test_the_list_follows_the_window_categories_and_scope(tiny_source: View, tiny: Path) -> None:
    cache = _cache(tiny)

    def cells(source: Any, **kw: Any) -> list[str]:
        children, _ = update_gap_list(
            source, cache, key=_key(source, cache, **kw), selected="", lang="en"
        )
        return _entries(children)

    assert cells(tiny_source, cats=["dispute"]) == [_parent(C, LIST_RES)]
    assert cells(tiny_source, cats=["fraud"]) == [_parent(A, LIST_RES)]
    # 1 Sep: C's 50 thefts, nothing else.
    assert cells(tiny_source, preset="custom", start_date="2026-09-01", end_date="2026-09-01") == [
        _parent(C, LIST_RES)
    ]
    # The west precinct's chief sees A, never C; the cache keeps the two apart.
    west = tiny_source.for_scope(frozenset({"P1"}))
    assert cells(west) == [_parent(A, LIST_RES)]
    assert len(cells(tiny_source)) == 2


def test_the_list_ranks_as_top_gaps_does(demo_source: View, demo_with_cubes: Path) -> None:
    cache = _cache(demo_with_cubes)
    key = _key(demo_source, cache)  # zoom 12: the map draws res 9, the list ranks res 9
    assert key["res"] == LIST_RES
    children, _ = update_gap_list(demo_source, cache, key=key, selected="", lang="en")
    # At the county's zoom the map draws res 7: the list ranks what is drawn.
    county, _ = update_gap_list(
        demo_source, cache, key=_key(demo_source, cache, zoom=9), selected="", lang="en"
    )
    assert {h3.get_resolution(c) for c in _entries(county)} <= {7}
    since, until = (pd.Timestamp(t) for t in key["window"])
    layers = cell_layers(
        load_cube(demo_with_cubes, "incidents"),
        load_cube(demo_with_cubes, "patrol"),
        load_cube(demo_with_cubes, "visits"),
        demo_source.communities,
        demo_source.response_units,
        demo_source.grids,
        res=LIST_RES,
        since=since,
        until=until,
    )
    gaps = coverage_gaps(
        layers.cells,
        heat=layers.heat,
        hotspots=layers.hotspots,
        coverage=layers.coverage,
        reach=layers.reach,
        emerging=layers.emerging,
        change=layers.change,
        band_counts=layers.band_counts,
        communities=layers.communities,
        dose=layers.dose,
        incident_days=layers.incident_days,
    )
    top = top_gaps(gaps, n=20)
    assert len(top) > 1
    assert _entries(children) == [h3.int_to_str(int(c)) for c in top["cell"]]
    text = _text(children)
    for line in top["reason_en"]:
        assert json.dumps(line, ensure_ascii=False)[1:-1] in text


def test_clicking_an_entry_flies_there_and_selects_it(tiny_source: View, tiny: Path) -> None:
    cache = _cache(tiny)
    key = _key(tiny_source, cache)
    target = _parent(C, LIST_RES)
    cell, viewport = select_gap_entry(tiny_source, cache, key=key, cell=target)
    lat, lng = h3.cell_to_latlng(target)
    assert cell == target
    assert viewport["transition"] == "flyTo" and viewport["zoom"] == FLY_ZOOM
    assert viewport["center"] == pytest.approx([lat, lng])
    assert zoom_to_res(FLY_ZOOM) == LIST_RES  # lands where the map draws the list's cells
    # A cell that is not in the list, or out of the chief's scope, selects nothing.
    with pytest.raises(PreventUpdate):
        select_gap_entry(tiny_source, cache, key=key, cell=_parent(A, 10))
    with pytest.raises(PreventUpdate):
        select_gap_entry(tiny_source.for_scope(frozenset({"P1"})), cache, key=key, cell=target)
    # The selected entry is marked, and the panel gives its reason line.
    children, _ = update_gap_list(tiny_source, cache, key=key, selected=cell, lang="en")
    assert '"pnm-gap-entry pnm-gap-selected"' in _text(children)
    sections = layer_sections(
        tiny_source, cache, key=key, cell=cell, zones={"grid": None, "precinct": None},
        lang="en",
    )  # fmt: skip
    text = _text(sections)
    assert "hot spot 99 %, 7 incidents in 30 days" in text
    assert "Critical gap" in text and "Patrol at incident hours" in text


def test_gap_detail_gives_the_parts_and_the_reason(tiny_source: View, tiny: Path) -> None:
    cache = _cache(tiny)
    p = list_params(_key(tiny_source, cache))
    detail = gap_detail(tiny_source, cache, p, _parent(C, LIST_RES), lang="zh")
    assert detail is not None
    # No patrol, no unit, no communities: protection 0, the certified and volunteer
    # parts left out; the score is the risk.
    assert detail["protection"] == 0.0 and detail["gap"] == pytest.approx(detail["risk"])
    assert dict(detail["protection_parts"]) == {
        "警情时段巡逻": 0.0,
        "1-3-5 处置圈": 0.0,
        "平安创建": None,
        "群防志愿者": None,
    }
    assert dict(detail["risk_parts"])["热点（Gi*）"] == 1.0  # z beyond 2.576
    assert detail["reason"].startswith("热点（99%置信），近30天警情7起")
    outside = h3.latlng_to_cell(0.0, 0.0, LIST_RES)
    assert gap_detail(tiny_source, cache, p, outside, lang="en") is None  # not in the area


def test_a_cell_finer_than_the_layer_is_explained_by_the_cell_holding_it(
    tiny_source: View, tiny: Path
) -> None:
    from dashboard.views.detail import cell_detail

    cache = _cache(tiny)
    p = list_params(_key(tiny_source, cache))  # the gap layer, capped at res 9
    street = _parent(C, 11)  # a street-level selection inside a gap cell
    block = _parent(C, LIST_RES)
    assert gap_detail(tiny_source, cache, p, street, lang="zh") == gap_detail(
        tiny_source, cache, p, block, lang="zh"
    )
    window = (p.since, p.until)
    fine = cell_detail(tiny_source, cache, p, street, window=window, lang="zh")
    coarse = cell_detail(tiny_source, cache, p, block, window=window, lang="zh")
    assert fine["rows"] and fine["rows"] == coarse["rows"]  # not "no value"
    assert fine["category"] == coarse["category"] is not None
    assert fine["cell"] == street and fine["res"] == LIST_RES


def test_names_and_reasons_are_text_not_markup() -> None:
    entry = {
        "rank": 1, "cell": "8940f450ba3ffff", "class": 4, "gap": 0.7, "lat": 31.0,
        "lng": 107.0, "label_zh": "严重缺口", "label_en": "Critical gap",
        "reason_zh": "<script>alert(1)</script>", "reason_en": "<b>x</b>",
        "grid": "<img src=x onerror=alert(1)>", "precinct": "P",
    }  # fmt: skip
    text = _text(gap_list_view([entry], lang="zh"))
    assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(1)>" in text
    assert "dangerously" not in text


# --------------------------------------------------------------------------- the layers


def test_gap_cells_carry_the_classes_of_coverage_gaps(
    demo_source: View, demo_with_cubes: Path
) -> None:
    cache = _cache(demo_with_cubes)
    data, key, *_ = update_layer(
        demo_source, cache, layer="gaps", preset="30d", start_date=None, end_date=None,
        cats=["theft", "fraud"], kinds=[], band="night", resolution="8", step="off",
        frame=0, bounds=None, zoom=10, lang="en",
    )  # fmt: skip
    assert key["res"] == 8 and key["band"] == "all"  # the gap layer weighs every band
    since, until = (pd.Timestamp(t) for t in key["window"])
    layers = cell_layers(
        load_cube(demo_with_cubes, "incidents"),
        load_cube(demo_with_cubes, "patrol"),
        load_cube(demo_with_cubes, "visits"),
        demo_source.communities,
        demo_source.response_units,
        demo_source.grids,
        res=8,
        since=since,
        until=until,
        categories=["fraud", "theft"],
    )
    gaps = coverage_gaps(
        layers.cells,
        heat=layers.heat,
        hotspots=layers.hotspots,
        coverage=layers.coverage,
        reach=layers.reach,
        emerging=layers.emerging,
        change=layers.change,
        band_counts=layers.band_counts,
        communities=layers.communities,
        dose=layers.dose,
        incident_days=layers.incident_days,
    )
    expected = {
        h3.int_to_str(int(c)): int(k)
        for c, k in zip(gaps["cell"], gaps["class"], strict=True)
        if k >= 1
    }
    assert expected
    shown = {c: 4 - int(v) for c, v in zip(data["cells"], data["v"], strict=True)}
    assert shown == expected  # every class 1-4 cell, no class-0 cell
    hideout, legend, summary = update_style(
        demo_source, cache, key=key, scheme="natural_breaks", selected="", lang="zh"
    )
    assert hideout["breaks"] is None
    assert hideout["colours"] == ["#800026", "#e31a1c", "#fd8d3c", "#fed976"]
    assert "防控缺口" in _text(legend)
    # Every class in the legend, present at this resolution or not: the ranked list
    # (res 9) shows classes res 8 may lack, and reads against this legend.
    assert set(expected.values()) != {1, 2, 3, 4}
    for label in ("严重缺口", "较大缺口", "一般缺口", "轻微"):
        assert label in _text(legend)
    assert summary.startswith(f"{int(gaps['is_gap'].sum())} 个缺口六边形")


def test_patrol_classes_equal_the_exports(demo_source: View, demo_with_cubes: Path) -> None:
    inputs = load_export_inputs(demo_with_cubes, cubes=["incidents", "patrol", "visits"])
    since, until = export_window(inputs, "2026-11-24", "2026-11-26")  # the demo's patrols
    bundle = build_export(inputs, layer="patrol_coverage", res=8, since=since, until=until)
    cache = _cache(demo_with_cubes)
    p = params_for("patrol", res=8, since=since.isoformat(), until=until.isoformat())
    result = layer_result(demo_source.snapshot, cache, p)
    n = len(result.categories)
    mine = {int(c): n - 1 - int(v) for c, v in zip(result.cells, result.values, strict=True)}
    theirs = {
        h3.str_to_int(c): int(k)
        for c, k in zip(bundle.frame["h3_cell"], bundle.frame["class"], strict=True)
    }
    # Every coloured cell has the export's class; the uncoloured ones are its class 0.
    assert mine == {c: k for c, k in theirs.items() if k > 0}
    assert len(set(theirs.values())) >= 3  # more than "none" and "a little"
    style = {c.value: (c.colour, c.label_zh, c.label_en) for c in bundle.style.classes}
    for category in result.categories:
        assert style[int(category.code)] == (
            category.colour,
            category.label.zh,
            category.label.en,
        )


def test_patrol_filters_and_panel(demo_source: View, demo_with_cubes: Path) -> None:
    cache = _cache(demo_with_cubes)
    key = _key(demo_source, cache, layer="patrol", kinds=["security_guard"], band="night")
    assert (key["kinds"], key["band"], key["res"]) == (["security_guard"], "night", 9)
    since, until = (pd.Timestamp(t) for t in key["window"])
    cover = patrol_coverage(
        load_cube(demo_with_cubes, "patrol"),
        load_cube(demo_with_cubes, "visits"),
        res=9,
        since=since,
        until=until,
        unit_kinds=["security_guard"],
        band="night",
    )
    busiest = cover.sort_values(["visits", "cell"], ascending=[False, True]).iloc[0]
    assert busiest["visits"] > 0
    from dashboard.pages.map import _params

    result = layer_result(demo_source.snapshot, cache, _params(key))
    row = result.explain.loc[np.uint64(busiest["cell"])]
    assert row["visits"] == busiest["visits"] and row["units"] == busiest["units"]
    assert row["longest_gap_h"] == pytest.approx(busiest["longest_gap_h"])
    assert row["last_visit"] == pd.Timestamp(busiest["last_visit"]).strftime("%Y-%m-%d %H:%M")
    assert "dwell_min_police_car" not in result.explain_labels  # only the kinds asked for
    # The grid's coverage % in the panel: coverage_share of the same patrols at res 9.
    shares = patrol_zones(demo_source.snapshot, cache, _params(key))
    zones = zone_cells(demo_source.grids, res=ZONE_RES, id_col="grid_id", keep=("precinct_id",))
    truth = coverage_share(cover, zones, standard=CoverageStandard())
    grid_id = str(zones.loc[zones["cell"] == busiest["cell"], "grid_id"].iloc[0])
    rows = zone_coverage(shares, {"grid": {"id": grid_id, "name": "G"}, "precinct": None})
    want = truth[(truth["level"] == "grid_id") & (truth["zone_id"] == grid_id)].iloc[0]
    assert rows == [
        {
            "level": "grid",
            "name": "G",
            "value": pytest.approx(float(want["value"])),
            "covered": int(want["covered"]),
            "cells": int(want["cells"]),
        }
    ]
    cell = h3.int_to_str(int(busiest["cell"]))
    sections = layer_sections(
        demo_source, cache, key=key, cell=cell,
        zones={"grid": {"id": grid_id, "name": "网格甲"}, "precinct": None}, lang="zh",
    )  # fmt: skip
    assert "网格甲" in _text(sections) and "巡逻覆盖率" in _text(sections)
    # The sections go after the numbers behind the colour, before the trend.
    body = with_sections(["title", "why", "trend-heading", _Trend()], ["S"])
    assert body == ["title", "why", "S", "trend-heading", body[-1]]


class _Trend:
    id = "cell-trend"


def test_koper_layer_colours_the_hot_spots_by_dose(
    demo_source: View, demo_with_cubes: Path
) -> None:
    cache = _cache(demo_with_cubes)
    key = _key(demo_source, cache, layer="koper", zoom=10)
    from dashboard.pages.map import _params

    result = layer_result(demo_source.snapshot, cache, _params(key))
    hot = layer_result(demo_source.snapshot, cache, _params({**key, "layer": "hotspots"}))
    hot_cells = {
        int(c)
        for c, v in zip(hot.cells, hot.values, strict=True)
        if hot.categories[int(v)].code in ("hot_99", "hot_95")
    }
    assert result.cells.size and {int(c) for c in result.cells} == hot_cells
    n = len(result.categories)
    share = result.explain.loc[result.cells, "value"].to_numpy()
    klass = n - 1 - result.values.astype(int)
    assert np.all((share == 0) == (klass == 0))
    assert np.all(share[klass == 1] <= 0.25)
