"""The map page's callbacks, called directly on the tiny data directory (known counts).

In the last 30 days (27 Oct – 25 Nov 2026) cells A and B (one res-8 parent) hold 3 thefts
(20 Nov, 08:00 and 09:00) and 4 frauds (24 Nov, 21:00); cell C holds 7 disputes on the
data's last day (25 Nov, 23:00) and 50 thefts on 1 Sep.
"""

from __future__ import annotations

import json

import h3
import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

from dashboard.app import needs_render, render_page
from dashboard.cache import LayerCache
from dashboard.components.panel import panel_view
from dashboard.datasource import View
from dashboard.pages.map import select_cell, update_layer, view_query
from dashboard.settings import Settings
from dashboard.views import LAYERS, layer_result
from dashboard.views import places as place_search
from dashboard.views.detail import cell_detail
from dashboard.viewstate import ViewState, from_query
from tests.dashboard.fixtures import components_by_id
from tests.dashboard.styles import update_style
from tests.dashboard.tiny_data import A, B, C


def _parent(cell: int, res: int) -> str:
    return str(h3.cell_to_parent(h3.int_to_str(cell), res))


@pytest.fixture
def cache(layer_cache: LayerCache) -> LayerCache:
    return layer_cache


def _layer(source: View, cache: LayerCache, **kw: object) -> tuple:
    args: dict[str, object] = {
        "layer": "heat",
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
        "zoom": 10,  # zoom 10 -> res 8
        "lang": "zh",
    }
    args.update(kw)
    return update_layer(source, cache, **args)  # type: ignore[arg-type]


def _flat(bounds: list[list[float]]) -> list[float]:
    return [v for corner in bounds for v in corner]


def _counts(data: dict) -> dict[str, int]:
    return dict(zip(data["cells"], data["v"], strict=True))


def test_heat_follows_the_zoom_and_sums_children(source: View, cache: LayerCache) -> None:
    data, key, res_text, window_text = _layer(source, cache)
    assert data["res"] == 8 and key["res"] == 8
    assert _counts(data) == {_parent(A, 8): 3 + 4, _parent(C, 8): 7}
    assert res_text == "当前 8 级 · 边长约 530 m（随缩放）"
    assert window_text == "2026-10-27 至 2026-11-25"
    hideout, legend, summary = update_style(
        source, cache, key=key, scheme="natural_breaks", selected="", lang="zh"
    )
    assert summary == "2 个六边形，共 14 起警情"
    assert hideout["breaks"] == [7.0]  # one distinct value, one class
    assert legend  # title and rows
    json.dumps([data, key, hideout])
    data15, *_ = _layer(source, cache, zoom=15.5)
    assert data15["res"] == 11


def test_only_cells_in_view_are_sent(source: View, cache: LayerCache) -> None:
    # A view of ~2 km around A at zoom 14 (res 10): C, 6 km to the north-east, is out.
    west_view = [[31.32, 107.69], [31.34, 107.71]]
    data, key, *_ = _layer(source, cache, bounds=west_view, zoom=14)
    assert data["res"] == 10
    assert _parent(A, 10) == _parent(B, 10)  # 14 m apart
    assert _counts(data) == {_parent(A, 10): 7}
    assert _parent(C, 10) not in data["cells"]
    # A small pan gives the same snapped view, hence the same cached answer and layer key.
    moved, key2, *_ = _layer(source, cache, bounds=[[31.321, 107.691], [31.341, 107.711]], zoom=14)
    assert moved == data and key2 == key


def test_filters_change_the_numbers(source: View, cache: LayerCache) -> None:
    theft, *_ = _layer(source, cache, cats=["theft"], resolution="10")
    assert _counts(theft) == {_parent(A, 10): 3}
    today, *_ = _layer(source, cache, preset="today")
    assert _counts(today) == {_parent(C, 8): 7}
    night, *_ = _layer(source, cache, band="night")  # 22-06 h: only C's 23:00
    assert _counts(night) == {_parent(C, 8): 7}
    custom, _, _, text = _layer(
        source, cache, preset="custom", start_date="2026-09-01", end_date="2026-09-01"
    )
    assert _counts(custom) == {_parent(C, 8): 50}
    assert text == "2026-09-01 至 2026-09-01"
    key = _layer(source, cache, cats=["drugs"])[1]
    assert update_style(source, cache, key=key, scheme="quantiles", selected="", lang="en")[2] == (
        "No incidents in the selection"
    )


def test_playback_frames(source: View, cache: LayerCache) -> None:
    first, _, _, text = _layer(source, cache, step="day", frame=0)
    assert first["cells"] == []
    assert text == "第 1/30 段：2026-10-27 至 2026-10-27"
    last, _, _, text = _layer(source, cache, step="day", frame=29, lang="en")
    assert _counts(last) == {_parent(C, 8): 7}
    assert text == "Frame 30/30: 2026-11-25 to 2026-11-25"
    week, _, _, text = _layer(source, cache, step="week", frame=99)  # clipped to the last
    assert text.startswith("第 5/5 段")
    assert sum(week["v"]) == 4 + 7


def test_restyle_changes_only_the_hideout(source: View, cache: LayerCache) -> None:
    key = _layer(source, cache, cats=["theft", "dispute"])[1]  # A: 3 thefts, C: 7 disputes
    a, _, _ = update_style(source, cache, key=key, scheme="quantiles", selected="", lang="zh")
    b, _, _ = update_style(source, cache, key=key, scheme="equal_interval", selected="x", lang="zh")
    assert a["breaks"] == [3.0, 7.0]  # two distinct values: one class each
    assert a["colours"] == ["#ffeda0", "#f03b20"]  # the ends of the three-class YlOrRd
    assert b["selected"] == "x" and a["selected"] == ""


def test_every_layer_computes_on_tiny_data(source: View, cache: LayerCache) -> None:
    for layer in LAYERS:
        data, key, *_ = _layer(source, cache, layer=layer)
        hideout, _legend, summary = update_style(
            source, cache, key=key, scheme="natural_breaks", selected="", lang="en"
        )
        json.dumps([data, hideout])
        assert summary, layer
    # Hot spots are capped at res 9 whatever the zoom.
    assert _layer(source, cache, layer="hotspots", zoom=16)[0]["res"] == 9


def test_click_selects_the_cell_and_drills_down(source: View, cache: LayerCache) -> None:
    key = _layer(source, cache)[1]
    click = {"latlng": {"lat": 31.33, "lng": 107.70}}
    cell, viewport = select_cell(source, click=click, zoom=9.5, key=key)
    assert cell == _parent(A, 8)
    assert viewport["transition"] == "flyToBounds"
    assert _flat(viewport["bounds"]) == pytest.approx([31.30, 107.68, 31.40, 107.73])  # 西城
    _, viewport = select_cell(source, click=click, zoom=12, key=key)
    assert _flat(viewport["bounds"]) == pytest.approx([31.30, 107.68, 31.35, 107.73])  # 一网格
    _, viewport = select_cell(source, click=click, zoom=14, key=key)
    assert viewport is no_update
    with pytest.raises(PreventUpdate):
        select_cell(source, click=None, zoom=9, key=key)


def test_cell_detail_explains_the_colour(source: View, cache: LayerCache) -> None:
    _data, key, *_ = _layer(source, cache)
    from dashboard.pages.map import _params

    detail = cell_detail(
        source, cache, _params(key), _parent(A, 8), window=tuple(key["window"]), lang="zh"
    )
    assert detail["rows"] == [["窗口内警情数", "7"]]
    assert detail["zones"]["grid"]["name"] == "一网格"
    assert detail["zones"]["precinct"]["name"] == "西城派出所"
    assert sum(detail["trend"]["values"]) == 3 + 4
    assert len(detail["trend"]["weeks"]) == 52
    json.dumps(detail)
    quiet = h3.latlng_to_cell(31.355, 107.73, 8)  # inside the area, ~3 km from A and C
    assert quiet not in {_parent(A, 8), _parent(C, 8)}
    empty = cell_detail(source, cache, _params(key), quiet, window=tuple(key["window"]), lang="en")
    assert empty["rows"] == [] and empty["empty"] == "No incidents in the selection"
    # A finer cell (a click at street level) is explained by the layer's cell holding it.
    finer = cell_detail(
        source, cache, _params(key), _parent(C, 10), window=tuple(key["window"]), lang="en"
    )
    coarse = cell_detail(
        source, cache, _params(key), _parent(C, 8), window=tuple(key["window"]), lang="en"
    )
    assert finer["rows"] == coarse["rows"] != []


def test_names_are_shown_as_text_not_html() -> None:
    detail = {
        "cell": "88409f0001fffff",
        "res": 8,
        "layer": "x",
        "category": None,
        "rows": [],
        "empty": "none",
        "trend": {"weeks": [], "values": []},
        "zones": {"grid": {"id": "g", "name": "<img src=x onerror=alert(1)>"}, "precinct": None},
        "communities": [
            {"name": "<b>家园</b>", "status": "s", "at_risk": True, "reason": "<i>r</i>",
             "distance_m": 5}
        ],
        "units": [],
    }  # fmt: skip
    text = json.dumps([c.to_plotly_json() for c in panel_view(detail, lang="zh")], default=str)
    # The names travel as plain strings (React renders them as text nodes), never as markup props.
    assert "<img src=x onerror=alert(1)>" in text and "dangerously" not in text


def test_search_finds_places_by_chinese_substring(source: View) -> None:
    index = place_search.build_index(source)
    found = place_search.search(index, "二网", lang="zh")
    assert [(o["value"], o["label"]) for o in found] == [("grid:G2", "二网格 · 网格")]
    assert len(place_search.search(index, "网格", lang="en")) == 4
    assert place_search.search(index, "派出所", lang="zh")[0]["value"] == "precinct:P1"
    assert place_search.search(index, "", lang="zh") == []
    viewport = place_search.viewport_of(place_search.find(index, "grid:G4"))  # type: ignore[arg-type]
    assert viewport["transition"] == "flyToBounds"
    assert _flat(viewport["bounds"]) == pytest.approx([31.35, 107.73, 31.40, 107.78])


def test_view_state_round_trips_through_the_url() -> None:
    state = ViewState(
        layer="hotspots",
        window="custom",
        since="2026-09-01",
        until="2026-09-30",
        cats=("fraud", "theft"),
        kinds=("police_car",),
        band="night",
        res="9",
        scheme="quantiles",
        step="week",
        frame=2,
        lat=31.35,
        lng=107.73,
        zoom=12.5,
        cell="8940f4508a3ffff",
        lang="en",
    )
    assert from_query(state.to_query()) == state
    assert from_query("?layer=nope&res=99&cats=theft,bogus&lat=91&zoom=3") == ViewState(
        cats=("theft",)
    )
    query = view_query(
        lang="zh", layer="reach", preset="30d", start_date="2026-10-27", end_date="2026-11-25",
        cats=None, kinds=None, band="all", resolution="auto", scheme="natural_breaks",
        step="off", frame=0, center={"lat": 31.4, "lng": 107.9}, zoom=11, cell="",
    )  # fmt: skip
    assert query == "?layer=reach&lat=31.4&lng=107.9&zoom=11&lang=zh"


def test_a_shared_url_opens_the_same_view(source: View, settings: Settings) -> None:
    cell = _parent(A, 8)
    query = f"?layer=reach&window=7d&lat=31.33&lng=107.7&zoom=12.5&cell={cell}&lang=en"
    page, document = render_page(source, settings, "/", query)
    found = components_by_id(page)
    assert document["lang"] == "en"
    assert found["layer-choice"].value == "reach"
    assert found["window-preset"].value == "7d"
    assert (found["map"].center, found["map"].zoom) == ([31.33, 107.7], 12.5)
    assert found["selected-cell"].data == cell
    # The query changing without a new language keeps the page; a new language re-renders.
    shown = {"lang": "en", "path": "/"}
    assert not needs_render(settings, "/", query + "&layer=heat", shown)
    assert needs_render(settings, "/", query.replace("lang=en", "lang=zh"), shown)
    assert needs_render(settings, "/", query, None)


def test_layer_results_are_cached_by_every_parameter(
    source: View, cache: LayerCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    spec = LAYERS["heat"]
    calls: list[object] = []

    def counting(src: object, params: object) -> object:
        calls.append(params)
        return spec.compute(src, params)  # type: ignore[arg-type]

    monkeypatch.setitem(LAYERS, "heat", dataclasses.replace(spec, compute=counting))
    a = _layer(source, cache)[1]
    _layer(source, cache, bounds=[[31.3, 107.6], [31.4, 107.8]])  # another view: a slice
    b = _layer(source, cache, cats=["theft"])[1]
    assert a != b
    from dashboard.pages.map import _params

    layer_result(source.snapshot, cache, _params(a))
    assert len(calls) == 2  # one per distinct parameter set, none per view
    # One result for the whole area serves every scope: a chief's view computes nothing.
    _layer(source.for_scope(frozenset({"P1"})), cache)
    assert len(calls) == 2
    assert a["scope"] == "county" and not hasattr(_params(a), "scope")


def test_a_selected_cell_keeps_its_own_resolution_after_a_drill(
    source: View, cache: LayerCache
) -> None:
    from dashboard.pages.map import _params

    key = _layer(source, cache, zoom=14)[1]  # the map has drilled in: res 10
    cell = _parent(A, 8)  # selected at the county view
    detail = cell_detail(
        source, cache, _params(key, cell), cell, window=tuple(key["window"]), lang="en"
    )
    assert detail["res"] == 8
    assert detail["rows"] == [["Incidents in the window", "7"]]


def test_month_on_month_finds_the_fall_at_c(source: View, cache: LayerCache) -> None:
    # 1 Oct against 1 Sep: C had 50 thefts then and none now; nothing else either day.
    data, key, *_ = _layer(
        source, cache, layer="mom", preset="custom", start_date="2026-10-01",
        end_date="2026-10-01",
    )  # fmt: skip
    assert _counts(data) == {_parent(C, 8): 0}  # category 0: significant decrease
    from dashboard.pages.map import _params

    detail = cell_detail(
        source, cache, _params(key), _parent(C, 8), window=tuple(key["window"]), lang="en"
    )
    assert detail["category"] == "Significant decrease"
    assert detail["rows"][:3] == [
        ["Incidents now", "0"],
        ["Incidents, same window a month earlier", "50"],
        ["Change (%)", "-100"],
    ]
