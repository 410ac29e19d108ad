"""Jurisdiction scope on the server: a chief's data, callbacks and cache hold only their
precincts, whatever a crafted request asks for.

Every server callback of the app is called over HTTP (the Flask test client posting to
``/_dash-update-component``) by each role with payloads aimed outside its scope: the
answer is a refusal (403) or holds no east cell, count or name. Known answers come from
tests/dashboard/tiny_data.py: west (P1) holds cells A and B (3 thefts, 4 frauds in the
last 30 days), east (P2) cell C (7 disputes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h3
import pytest
from flask import Flask

from dashboard import ids
from dashboard.app import create_app
from dashboard.cache import LayerCache
from dashboard.datasource import ReloadingSource, scope_key
from dashboard.settings import load_settings
from dashboard.views import layer_result, params_for, scoped_result
from geodata.audit import read_events
from geodata.snapshot import Snapshot
from tests.dashboard.auth_data import (
    EAST_NAMES,
    SECRET,
    XSS_NAME,
    build_secure_data,
    callback_body,
    east_cells,
    post_callback,
    sign_in,
)
from tests.dashboard.fixtures import county_view
from tests.dashboard.tiny_data import A, B, C

WINDOW = ("2026-10-27T00:00:00", "2026-11-26T00:00:00")
WHOLE = [[31.25, 107.6], [31.45, 107.85]]  # bounds covering the whole tiny area


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_secure_data(tmp_path_factory.mktemp("scope") / "data")


@pytest.fixture(scope="module")
def app(data: Path) -> Any:
    return create_app(load_settings({}, data_dir=str(data), secret_key=SECRET))


@pytest.fixture(scope="module")
def clients(app: Any) -> dict[str, Any]:
    """A signed-in test client per account (the wall kiosk through its token)."""
    from tests.dashboard.auth_data import WALL_TOKEN

    out = {}
    for name in ("boss", "west", "east", "plan", "planw"):
        client = app.server.test_client()
        assert sign_in(client, name).status_code == 302
        out[name] = client
    wall = app.server.test_client()
    wall.get(f"/wall?token={WALL_TOKEN}")
    out["lobby"] = wall
    return out


def leaks(text: str) -> list[str]:
    """East names and cells found in a response body (raw or JSON-escaped)."""
    found = []
    for needle in (*EAST_NAMES, *east_cells()):
        forms = {needle, json.dumps(needle)[1:-1], json.dumps(needle, ensure_ascii=False)[1:-1]}
        forms.add(needle.replace("<", "\\u003c").replace(">", "\\u003e"))
        if any(f in text for f in forms):
            found.append(needle)
    return found


def text_of(response: Any) -> str:
    """A response's JSON as readable text (Dash escapes non-ASCII as \\uXXXX)."""
    found = response.get_json(silent=True)
    return (
        response.get_data(as_text=True) if found is None else json.dumps(found, ensure_ascii=False)
    )


def layer_key(scope: str, layer: str = "heat", res: int = 8) -> dict[str, Any]:
    return {
        **params_for(layer, res=res, since=WINDOW[0], until=WINDOW[1]).key(),
        "scope": scope,
        "window": list(WINDOW),
    }


WEST = scope_key(frozenset({"P1"}))
EAST = scope_key(frozenset({"P2"}))
C9 = h3.cell_to_parent(h3.int_to_str(C), 9)
A9 = h3.cell_to_parent(h3.int_to_str(A), 9)


def hostile_values() -> dict[tuple[str, str], Any]:
    """Values a west chief could forge to reach the east."""
    return {
        (ids.URL, "pathname"): "/",
        (ids.URL, "search"): "?layer=heat&zoom=12&lat=31.38&lng=107.76",
        (ids.LAYER, "value"): "heat",
        (ids.WINDOW, "value"): "30d",
        (ids.BAND, "value"): "all",
        (ids.RESOLUTION, "value"): "8",
        (ids.SCHEME, "value"): "natural_breaks",
        (ids.PLAY_STEP, "value"): "off",
        (ids.LAYER_KEY, "data"): layer_key("county"),
        (ids.SELECTED, "data"): C9,
        (ids.SEARCH, "value"): "community:E1",
        (ids.SEARCH, "search_value"): "东城",
        (ids.MAP, "bounds"): WHOLE,
        (ids.MAP, "zoom"): 12,
        (ids.MAP, "center"): [31.38, 107.76],
        (ids.MAP, "clickData"): {"latlng": {"lat": 31.38, "lng": 107.76}},
        (ids.LANG, "data"): "zh",
    }


CRUMBS = {ids.CRUMB: [({"index": "precinct:P2", "type": ids.CRUMB}, 1)]}


def server_callbacks(app: Any, module: str | None = None) -> list[str]:
    return [
        k
        for k, v in app.callback_map.items()
        if "callback" in v and (module is None or v["callback"].__module__ == module)
    ]


# --------------------------------------------------------------------------- data layer


def _heat(view: Any, res: int = 11) -> Any:
    cache = LayerCache(Flask("t"), load_settings({}, data_dir=str(view.data_dir)))
    return scoped_result(view, cache, params_for("heat", res=res, since=WINDOW[0], until=WINDOW[1]))


def test_a_view_holds_only_the_precincts_rows(data: Path) -> None:
    live = ReloadingSource(Snapshot(data))
    source = live.view(None)
    west = live.view(frozenset({"P1"}))
    heat = _heat(west)
    assert set(heat.cells.tolist()) == {A, B}
    assert heat.headline["total"] == 2 + 1 + 4
    east = live.view(frozenset({"P2"}))
    assert set(_heat(east).cells.tolist()) == {C}
    assert list(west.communities["name"]) == ["西城家园"]
    assert sorted(east.communities["name"]) == sorted(["东城秘密小区", XSS_NAME])
    assert list(west.grids["grid_id"]) == ["G1", "G2"]
    assert [f["properties"]["name"] for f in west.outlines["precincts"]["features"]] == [
        "西城派出所"
    ]
    assert {f["properties"]["grid_id"] for f in west.outlines["grids"]["features"]} == {"G1", "G2"}
    # The west half of the 0.1° square: a chief's map opens on it.
    assert west.bounds == [[31.30, 107.68], [31.40, 107.73]]
    assert live.view(None) is source
    assert live.view(frozenset({"P1"})) is west  # built once per scope and snapshot


def test_scope_contains_cells_and_points(data: Path) -> None:
    west = county_view(data).for_scope(frozenset({"P1"}))
    assert west.contains_point(107.70, 31.33)
    assert not west.contains_point(107.76, 31.38)
    assert west.contains_cell(A9) and not west.contains_cell(C9)
    assert not west.contains_cell("not-a-cell") and not west.contains_cell("0")
    assert west.has_place("precinct", "P1") and not west.has_place("precinct", "P2")
    assert west.has_place("community", "W1") and not west.has_place("community", "E1")
    assert not west.has_place("grid", "G3") and not west.has_place("table", "x")


def test_an_unknown_precinct_sees_nothing_not_the_county(data: Path) -> None:
    nowhere = county_view(data).for_scope(frozenset({"P9"}))
    assert nowhere.communities.empty and nowhere.grids.empty
    assert _heat(nowhere, 8).cells.size == 0 and _heat(nowhere, 8).headline["total"] == 0
    assert not nowhere.contains_cell(A9)


def test_two_chiefs_never_share_a_cached_answer(data: Path) -> None:
    source = county_view(data)
    cache = LayerCache(Flask("t"), load_settings({}, data_dir=str(data)))
    params = params_for("heat", res=8, since=WINDOW[0], until=WINDOW[1])  # scope "county"
    west = scoped_result(source.for_scope(frozenset({"P1"})), cache, params)
    east = scoped_result(source.for_scope(frozenset({"P2"})), cache, params)
    again = scoped_result(source.for_scope(frozenset({"P1"})), cache, params)
    res8 = {int(h3.str_to_int(h3.cell_to_parent(h3.int_to_str(c), 8))) for c in (A, B, C)}
    assert set(west.cells.tolist()) | set(east.cells.tolist()) == res8
    assert set(west.cells.tolist()).isdisjoint(east.cells.tolist())
    assert west.values.sum() == 7 and east.values.sum() == 7  # 3 + 4 thefts/frauds; 7 disputes
    assert set(again.cells.tolist()) == set(west.cells.tolist())
    county = layer_result(source.snapshot, cache, params)
    assert county.values.sum() == 14
    # One computation for the area, cut for each chief: the west cells hold the county's
    # numbers for them.
    assert dict(zip(west.cells.tolist(), west.values.tolist(), strict=True)) == {
        c: v
        for c, v in zip(county.cells.tolist(), county.values.tolist(), strict=True)
        if c in set(west.cells.tolist())
    }


def test_the_same_view_over_http_for_two_chiefs(app: Any, clients: dict[str, Any]) -> None:
    output = next(k for k in server_callbacks(app) if k.startswith(f"..{ids.HEX_DATA}.data"))
    values = {**hostile_values(), (ids.LAYER_KEY, "data"): None}
    answers = {}
    for name in ("west", "east", "west"):
        r = post_callback(clients[name], callback_body(app, output, values))
        assert r.status_code == 200, r.get_data(as_text=True)
        answers.setdefault(name, []).append(r.get_json()["response"])
    west, east = answers["west"][0], answers["east"][0]
    west_cells = set(west[ids.HEX_DATA]["data"]["cells"])
    east_res8 = {h3.cell_to_parent(h3.int_to_str(C), 8)}
    assert west_cells and west_cells.isdisjoint(east_res8)
    assert set(east[ids.HEX_DATA]["data"]["cells"]) == east_res8
    assert sum(west[ids.HEX_DATA]["data"]["v"]) == 7 and east[ids.HEX_DATA]["data"]["v"] == [7]
    assert west[ids.LAYER_KEY]["data"]["scope"] == WEST
    assert east[ids.LAYER_KEY]["data"]["scope"] == EAST
    assert answers["west"][1] == west


# --------------------------------------------------------------------------- callbacks


def test_every_callback_as_a_chief_with_forged_values_refuses_or_leaks_nothing(
    app: Any, clients: dict[str, Any]
) -> None:
    outputs = server_callbacks(app)
    assert len(outputs) >= 10
    refused = 0
    for output in outputs:
        body = callback_body(app, output, hostile_values(), patterns=CRUMBS)
        r = post_callback(clients["west"], body)
        text = r.get_data(as_text=True)
        assert r.status_code in (200, 204, 403), (output, r.status_code, text[:300])
        refused += r.status_code == 403
        assert not leaks(text), (output, leaks(text))
    assert refused >= 5  # style, select, panel, crumbs, fly, ... carry a forged value


@pytest.mark.parametrize(
    ("what", "values", "patterns"),
    [
        ("forged layer key", {(ids.LAYER_KEY, "data"): layer_key("county")}, None),
        ("another chief's key", {(ids.LAYER_KEY, "data"): layer_key(EAST)}, None),
        ("unknown layer", {(ids.LAYER_KEY, "data"): {**layer_key(WEST), "layer": "x"}}, None),
        ("wall-only resolution", {(ids.RESOLUTION, "value"): "99"}, None),
        ("east cell", {(ids.SELECTED, "data"): C9}, None),
        ("bad cell", {(ids.SELECTED, "data"): "zzz"}, None),
        ("east community", {(ids.SEARCH, "value"): "community:E1"}, None),
        ("east precinct", {(ids.SEARCH, "value"): "precinct:P2"}, None),
        ("east crumb", {}, CRUMBS),
        ("east gap entry", {}, {ids.GAP_ENTRY: [({"index": C9, "type": ids.GAP_ENTRY}, 1)]}),
        ("east precinct export", {(ids.EXPORT_PRECINCTS, "value"): ["P2"]}, None),
        ("east grid export", {(ids.EXPORT_GRIDS, "value"): ["G1", "G3"]}, None),
        ("wall page", {(ids.URL, "pathname"): "/wall"}, None),
    ],
)
def test_a_chief_posting_another_precincts_data_is_refused_and_audited(
    app: Any,
    clients: dict[str, Any],
    data: Path,
    what: str,
    values: dict[Any, Any],
    patterns: Any,
) -> None:
    key = next(iter(values), None)
    targets = [
        k
        for k in server_callbacks(app)
        if (key and any((d["id"], d["property"]) == key for d in _declared(app, k)))
        or (patterns and any(_pattern_type(d["id"]) in patterns for d in _declared(app, k)))
    ]
    assert targets, what
    for output in targets:
        before = len(list(read_events(data)))
        good = {**_benign(), **values}
        r = post_callback(clients["west"], callback_body(app, output, good, patterns=patterns))
        assert r.status_code == 403, (what, output, r.get_data(as_text=True)[:200])
        assert r.get_json() == {"error": "refused"}
        events = list(read_events(data))[before:]
        assert [e["action"] for e in events] == ["refused"]
        assert events[0]["user"] == "west" and events[0]["role"] == "chief"
        assert events[0]["path"] == "/_dash-update-component" and events[0]["reason"]


def _pattern_type(component_id: str) -> str | None:
    return json.loads(component_id)["type"] if component_id.startswith("{") else None


def _declared(app: Any, output: str) -> list[dict[str, str]]:
    spec = app.callback_map[output]
    return [*spec["inputs"], *spec["state"]]


def _benign() -> dict[tuple[str, str], Any]:
    return {
        **hostile_values(),
        (ids.LAYER_KEY, "data"): layer_key(WEST),
        (ids.SELECTED, "data"): A9,
        (ids.SEARCH, "value"): "community:W1",
        (ids.URL, "search"): "",
    }


def test_the_same_callbacks_with_values_in_scope_are_answered(
    app: Any, clients: dict[str, Any]
) -> None:
    """The refusals above are about the values: in scope, the same callbacks answer."""
    west_crumb = {ids.CRUMB: [({"index": "precinct:P1", "type": ids.CRUMB}, 1)]}
    for output in server_callbacks(app, "dashboard.pages.map"):
        body = callback_body(app, output, _benign(), patterns=west_crumb)
        r = post_callback(clients["west"], body)
        assert r.status_code in (200, 204), (output, r.get_data(as_text=True)[:300])
        assert not leaks(r.get_data(as_text=True)), output
    panel = next(k for k in server_callbacks(app) if k.startswith(f"..{ids.PANEL_BODY}."))
    r = post_callback(clients["west"], callback_body(app, panel, _benign()))
    text = text_of(r)
    assert "西城家园" in text and "西城派出所" in text and "一网格" in text


def test_search_finds_only_the_chiefs_places(app: Any, clients: dict[str, Any]) -> None:
    output = next(k for k in server_callbacks(app) if k == f"{ids.SEARCH}.options")
    for text, west_hits in (("城", ["西城派出所", "西城家园"]), ("东城", []), ("<img", [])):
        values = {(ids.SEARCH, "search_value"): text, (ids.LANG, "data"): "zh"}
        r = post_callback(clients["west"], callback_body(app, output, values))
        labels = [
            o["label"].split(" · ")[0] for o in r.get_json()["response"][ids.SEARCH]["options"]
        ]
        assert sorted(labels) == sorted(west_hits)
    r = post_callback(
        clients["east"], callback_body(app, output, {(ids.SEARCH, "search_value"): "<img"})
    )
    assert [
        o["label"].split(" · ")[0] for o in r.get_json()["response"][ids.SEARCH]["options"]
    ] == [XSS_NAME]


def test_the_chosen_place_stays_listed_once(app: Any, clients: dict[str, Any]) -> None:
    output = next(k for k in server_callbacks(app) if k == f"{ids.SEARCH}.options")
    chosen = {"value": "precinct:P1", "label": "西城派出所 · 派出所辖区", "search": "old words"}
    for text, expected in (
        ("西城", ["precinct:P1", "community:W1"]),
        ("一网", ["precinct:P1", "grid:G1"]),
    ):
        values = {
            (ids.SEARCH, "search_value"): text,
            (ids.SEARCH, "value"): "precinct:P1",
            (ids.SEARCH, "options"): [chosen],
            (ids.LANG, "data"): "zh",
        }
        r = post_callback(clients["west"], callback_body(app, output, values))
        options = r.get_json()["response"][ids.SEARCH]["options"]
        assert sorted(o["value"] for o in options) == sorted(expected), text


def test_a_chiefs_map_opens_on_their_jurisdiction(app: Any, clients: dict[str, Any]) -> None:
    output = next(k for k in server_callbacks(app) if k.startswith(f"..{ids.PAGE}.children"))
    values = {(ids.URL, "pathname"): "/", (ids.URL, "search"): f"?cell={C9}"}
    r = post_callback(clients["west"], callback_body(app, output, values))
    text = text_of(r)
    assert r.status_code == 200
    assert not [n for n in leaks(text) if n in EAST_NAMES]  # the cell id is the link's own
    assert all(name in text for name in ("西城派出所", "一网格", "二网格"))
    page = json.dumps(r.get_json())
    assert '"bounds": [[31.3, 107.68], [31.4, 107.73]]' in page
    assert f'"data": "{C9}"' not in page  # the shared link's east cell is dropped
    boss = post_callback(clients["boss"], callback_body(app, output, values))
    assert all(name in text_of(boss) for name in ("东城派出所", "三网格"))


def _label_texts(page: Any) -> list[str]:
    """The texts of the map's label layer in a page layout's JSON."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("id") == ids.LABEL_LAYER:
                data = node["props"]["data"] if "props" in node else node["data"]
                found.extend(
                    lb["t"] for lb in data["features"][0]["properties"]["labels"]["labels"]
                )
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(page)
    return found


def test_a_chiefs_map_names_only_their_precincts_places(app: Any, clients: dict[str, Any]) -> None:
    output = next(k for k in server_callbacks(app) if k.startswith(f"..{ids.PAGE}.children"))
    values = {(ids.URL, "pathname"): "/", (ids.URL, "search"): ""}
    west = _label_texts(
        post_callback(clients["west"], callback_body(app, output, values)).get_json()
    )
    # Each precinct twice: its own label and its township's (none known: the name).
    assert sorted(west) == sorted(["西城派出所", "西城派出所", "一网格", "二网格"])
    boss = _label_texts(
        post_callback(clients["boss"], callback_body(app, output, values)).get_json()
    )
    assert {"东城派出所", "三网格", "四网格"} <= set(boss)


def test_a_wall_kiosk_may_use_no_map_or_export_callback(app: Any, clients: dict[str, Any]) -> None:
    for output in server_callbacks(app):
        module = app.callback_map[output]["callback"].__module__
        if module in ("dashboard.pages.wall", "dashboard.app"):
            continue
        body = callback_body(app, output, _benign())
        r = post_callback(clients["lobby"], body)
        assert r.status_code == 403, output
    router = next(k for k in server_callbacks(app) if k.startswith(f"..{ids.PAGE}.children"))
    r = post_callback(clients["lobby"], callback_body(app, router, {(ids.URL, "pathname"): "/"}))
    assert r.status_code == 403


def test_planners_see_their_configured_scope(app: Any, clients: dict[str, Any]) -> None:
    output = next(k for k in server_callbacks(app) if k.startswith(f"..{ids.HEX_DATA}.data"))
    values = {**hostile_values(), (ids.LAYER_KEY, "data"): None}
    county = post_callback(clients["plan"], callback_body(app, output, values)).get_json()
    west = post_callback(clients["planw"], callback_body(app, output, values)).get_json()
    assert sum(county["response"][ids.HEX_DATA]["data"]["v"]) == 14
    assert sum(west["response"][ids.HEX_DATA]["data"]["v"]) == 7
    assert county["response"][ids.LAYER_KEY]["data"]["scope"] == "county"
    assert west["response"][ids.LAYER_KEY]["data"]["scope"] == WEST


def test_a_callback_request_must_match_what_the_callback_declared(
    app: Any, clients: dict[str, Any]
) -> None:
    panel = next(k for k in server_callbacks(app) if k.startswith(f"..{ids.PANEL_BODY}."))
    body = callback_body(app, panel, _benign())
    # The east cell smuggled in under another component's name:
    body["inputs"][0] = {"id": "something-else", "property": "data", "value": C9}
    assert post_callback(clients["west"], body).status_code == 403
    body = callback_body(app, panel, _benign())
    body["inputs"] = body["inputs"][:1]  # too few
    assert post_callback(clients["west"], body).status_code == 403
    body = callback_body(app, panel, _benign(), changed=["side-panel-close.n_clicks"])
    assert post_callback(clients["west"], body).status_code == 403
    clientside = next(k for k, v in app.callback_map.items() if "callback" not in v)
    r = post_callback(clients["west"], {"output": clientside, "inputs": [], "state": []})
    assert r.status_code == 400
    assert post_callback(clients["west"], {"nonsense": 1}).status_code == 400
    assert clients["west"].post("/_dash-update-component", data="x").status_code == 400


def test_the_commander_sees_the_whole_county(app: Any, clients: dict[str, Any]) -> None:
    panel = next(k for k in server_callbacks(app) if k.startswith(f"..{ids.PANEL_BODY}."))
    values = {**_benign(), (ids.SELECTED, "data"): C9, (ids.LAYER_KEY, "data"): layer_key("county")}
    r = post_callback(clients["boss"], callback_body(app, panel, values))
    assert r.status_code == 200 and "东城秘密小区" in text_of(r)
    assert "西城家园" not in text_of(r)  # 10 km away: not "nearby"


def test_downloads_outside_the_scope_are_refused_and_audited(
    app: Any, clients: dict[str, Any], data: Path
) -> None:
    query = "layers=incidents&res=8&area=precincts&fmt=gpkg&crs=wgs84&window=30d"
    for name, extra, refused in (
        ("west", "&precincts=P2", True),
        ("west", "&precincts=P1,P2", True),
        ("west", "&area=grids&grids=G3", True),
        ("planw", "&precincts=P2", True),
        ("lobby", "&precincts=P1", True),
        ("west", "&precincts=P1", False),
        ("plan", "&precincts=P2", False),
    ):
        before = len(list(read_events(data)))
        r = clients[name].get(f"/export/download?{query}{extra}")
        actions = [e["action"] for e in list(read_events(data))[before:]]
        if refused:
            assert r.status_code == 403 and actions == ["refused"], (name, extra)
            assert not leaks(r.get_data(as_text=True))
        else:
            assert "refused" not in actions, (name, extra, r.status_code)


def test_wall_callbacks_are_for_the_wall_and_the_commander(
    app: Any, clients: dict[str, Any]
) -> None:
    outputs = server_callbacks(app, "dashboard.pages.wall")
    assert outputs
    for output in outputs:
        body = callback_body(app, output, {(ids.WALL_CONFIG, "data"): {"lang": "zh"}})
        for name in ("west", "plan"):
            assert post_callback(clients[name], body).status_code == 403, (name, output)
        for name in ("lobby", "boss"):
            r = post_callback(clients[name], body)
            assert r.status_code in (200, 204), (name, output, r.get_data(as_text=True)[:200])


def test_an_unreachable_cache_is_skipped_not_fatal(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = LayerCache(Flask("t"), load_settings({}, data_dir=str(data)))

    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache.cache, "get", down)
    monkeypatch.setattr(cache.cache, "set", down)
    params = params_for("heat", res=8, since=WINDOW[0], until=WINDOW[1])
    result = scoped_result(county_view(data).for_scope(frozenset({"P1"})), cache, params)
    assert result.values.sum() == 7
    with pytest.raises(ValueError, match="lacks the user's scope"):
        cache.get_or_compute("x", {"version": "v"}, lambda: 1)


def test_every_page_a_chief_may_open_names_only_their_places(
    app: Any, clients: dict[str, Any]
) -> None:
    router = next(k for k in server_callbacks(app) if k.startswith(f"..{ids.PAGE}.children"))
    for path in ("/", "/export"):
        values = {(ids.URL, "pathname"): path, (ids.URL, "search"): ""}
        west = post_callback(clients["west"], callback_body(app, router, values))
        assert west.status_code == 200 and not leaks(west.get_data(as_text=True)), path
        assert "西城派出所" in text_of(west), path
        boss = post_callback(clients["boss"], callback_body(app, router, values))
        assert "东城派出所" in text_of(boss), path  # the check above can fail
