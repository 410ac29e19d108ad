"""The wall screen's data, settings and callbacks, called directly and over HTTP.

Known answers: the incident counts of a hand-made cube (today, this week, 日环比, 周环比,
同比 worked out below), and on the small demo data set the counts of the raw incident
and community tables and the dwell of the raw patrol cube, computed here without the
code under test. The privacy test posts the wall's callbacks through the Flask test
client and searches every answer for the people in the data.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any

import h3
import numpy as np
import pandas as pd
import pytest
from dash import no_update
from flask import Flask
from plotly.utils import PlotlyJSONEncoder

from dashboard import ids, pagestate
from dashboard.app import create_app
from dashboard.cache import LayerCache
from dashboard.components.wall_panels import age_text, change_text, gaps_view
from dashboard.datasource import ReloadingSource, View
from dashboard.i18n import TEXT
from dashboard.pages import wall as wall_page
from dashboard.settings import WALL_VIEWS, Settings, SettingsError, load_settings
from dashboard.views.wall import (
    Change,
    GapLine,
    WallData,
    WallFeed,
    data_end,
    today_and_week,
    view_payload,
    wall_data,
)
from dashboard.views.wall import data as wall_data_module
from geodata.schema import Label
from geodata.snapshot import Snapshot
from geodata.store import read_table, write_table
from tests.dashboard.fixtures import county_view

CJK = re.compile(r"[\u3400-\u9fff]")


# --------------------------------------------------------------------------- settings


def test_wall_settings_defaults_environment_and_errors() -> None:
    s = load_settings({})
    assert (s.wall_views, s.wall_period_s, s.wall_refresh_s, s.wall_stale_minutes) == (
        ("gaps", "heat", "patrol", "community"),
        30.0,
        60.0,
        60.0,
    )
    env = {
        "PNM_WALL_VIEWS": " heat , gaps ",
        "PNM_WALL_PERIOD_S": "12",
        "PNM_WALL_REFRESH_S": "20.5",
        "PNM_WALL_STALE_MINUTES": "0.5",
    }
    s = load_settings(env)
    assert (s.wall_views, s.wall_period_s, s.wall_refresh_s, s.wall_stale_minutes) == (
        ("heat", "gaps"),
        12.0,
        20.5,
        0.5,
    )
    for bad, words in (
        ({"PNM_WALL_VIEWS": "gaps,radar"}, "wall_views"),
        ({"PNM_WALL_VIEWS": " , "}, "wall_views"),
        ({"PNM_WALL_PERIOD_S": "1"}, "at least 2 seconds"),
        ({"PNM_WALL_REFRESH_S": "soon"}, "must be a number"),
        ({"PNM_WALL_STALE_MINUTES": "0"}, "positive"),
    ):
        with pytest.raises(SettingsError, match=words):
            load_settings(bad)


def test_wall_settings_from_toml_list(tmp_path: Path) -> None:
    config = tmp_path / "pnm.toml"
    config.write_text('wall_views = ["community", "patrol"]\nwall_period_s = 45\n', "utf-8")
    s = load_settings({"PNM_CONFIG": str(config)})
    assert s.wall_views == ("community", "patrol") and s.wall_period_s == 45.0


def test_url_overrides_the_configured_rotation() -> None:
    s = Settings(wall_views=("gaps", "heat"), wall_period_s=30, wall_refresh_s=60)
    assert wall_page.wall_options(s, None) == wall_page.WallOptions(("gaps", "heat"), 30, 60, 60)
    o = wall_page.wall_options(s, "?views=community,patrol&period=5&refresh=9&stale=2")
    assert o == wall_page.WallOptions(("community", "patrol"), 5.0, 9.0, 2.0)
    # Unknown views are dropped; nothing known left, or values below the minimum or not
    # numbers, fall back to the configuration: a typo still shows a working wall.
    assert wall_page.wall_options(s, "?views=radar,heat").views == ("heat",)
    o = wall_page.wall_options(s, "?views=radar&period=0.5&refresh=nan&stale=-1")
    assert o == wall_page.WallOptions(("gaps", "heat"), 30, 60, 60)


def test_every_wall_label_in_both_languages() -> None:
    keys = [k for k in TEXT if k.startswith("wall_")]
    assert len(keys) > 20
    for key in keys:
        assert TEXT[key].zh and TEXT[key].en
        assert not CJK.search(TEXT[key].en), key


# --------------------------------------------------------------------------- figures


def _cube(rows: list[tuple[str, int]]) -> pd.DataFrame:
    cell = int(h3.str_to_int(h3.latlng_to_cell(31.35, 107.73, 11)))
    return pd.DataFrame(
        {
            "cell": np.full(len(rows), cell, dtype=np.uint64),
            "hour": pd.to_datetime([h for h, _ in rows]),
            "category": ["theft"] * len(rows),
            "count": np.array([n for _, n in rows], dtype=np.int64),
        }
    )


def test_today_and_week_known_answers() -> None:
    cube = _cube(
        [
            ("2025-11-25 08:00", 10),  # a year before today (and the data's first day)
            ("2026-11-17 12:00", 6),  # last week, Tuesday noon: inside last week's span
            ("2026-11-23 01:00", 1),  # Monday of this week
            ("2026-11-24 05:00", 4),  # yesterday, before 11:00
            ("2026-11-24 12:00", 9),  # yesterday, after 11:00: not in 日环比's span
            ("2026-11-25 09:00", 3),  # today
            ("2026-11-25 10:00", 2),  # today, the newest hour: the data end at 11:00
        ]
    )
    end = data_end(cube)
    assert end == pd.Timestamp("2026-11-25 11:00")
    assert pd.Timestamp("2026-11-25").day_of_week == 2  # a Wednesday: the week began 11-23
    today, week = today_and_week(cube, end)
    assert (today.since, today.until, today.count) == (pd.Timestamp("2026-11-25"), end, 5)
    # 日环比: 11-24 00:00-11:00 holds 4 -> +25 %; 同比: 2025-11-25 00:00-11:00 holds 10.
    assert today.mom.earlier == 4 and today.mom.pct == pytest.approx(25.0)
    assert today.yoy.earlier == 10 and today.yoy.pct == pytest.approx(-50.0)
    # This week: Monday 11-23 00:00 to 11-25 11:00 holds 1 + 4 + 9 + 3 + 2 = 19; the same
    # span a week earlier (11-16 00:00 to 11-18 11:00) holds 6.
    assert (week.since, week.count) == (pd.Timestamp("2026-11-23"), 19)
    assert week.mom.earlier == 6 and week.mom.pct == pytest.approx(1300 / 6)
    # A year before this week starts 2025-11-23, before the data begin: no data.
    assert week.yoy.state == "no_data" and week.yoy.pct is None


@pytest.mark.parametrize(
    ("change", "zh", "en", "tone"),
    [
        (Change(40, 12.4, "ok", False), "▲ 12%", "▲ 12%", "up"),
        (Change(40, -30.0, "ok", True), "▼ 30%", "▼ 30%", "down-strong"),
        (Change(40, 0.2, "ok", False), "持平", "no change", "flat"),
        (Change(0, None, "new", False), "新发", "new", "up"),
        (Change(0, None, "none", False), "均为 0", "none either", "flat"),
        (Change(None, None, "no_data", False), "无数据", "no data", "na"),
    ],
)
def test_change_text(change: Change, zh: str, en: str, tone: str) -> None:
    assert change_text(change, "zh") == (zh, tone)
    assert change_text(change, "en") == (en, tone)


def test_age_text() -> None:
    assert age_text(59, "zh") == "0 分钟"
    assert age_text(119 * 60, "en") == "119 min"
    assert age_text(5 * 3600 + 59, "zh") == "5 小时"
    assert age_text(3 * 86400, "en") == "3 days"


# --------------------------------------------------------------------------- on the demo


@pytest.fixture(scope="module")
def source(demo_with_cubes: Path) -> View:
    return county_view(demo_with_cubes)


@pytest.fixture(scope="module")
def cache(demo_with_cubes: Path) -> LayerCache:
    return LayerCache(Flask("wall-test"), load_settings({}, data_dir=str(demo_with_cubes)))


@pytest.fixture(scope="module")
def data(source: View, cache: LayerCache) -> WallData:
    return wall_data(source, cache)


def test_wall_counts_match_the_raw_tables(source: View, data: WallData) -> None:
    incidents = read_table(source.data_dir, "incidents", columns=["time"])["time"]
    end = incidents.max().normalize() + pd.Timedelta(days=1)  # midnight after the last day
    assert data.until == end
    day = end - pd.Timedelta(days=1)
    week = end - pd.Timedelta(days=7)
    f = data.figures

    def count(since: pd.Timestamp, until: pd.Timestamp) -> int:
        return int(((incidents >= since) & (incidents < until)).sum())

    assert f.today.count == count(day, end)
    assert f.today.mom.earlier == count(day - pd.Timedelta(days=1), day)
    assert f.week.count == count(week, end)
    assert f.week.mom.earlier == count(week - pd.Timedelta(days=7), week)
    year = pd.DateOffset(years=1)
    assert f.today.yoy.earlier == count(day - year, end - year)
    communities = read_table(source.data_dir, "communities")
    assert f.communities == len(communities)
    assert f.certified == int((communities["status"] == "certified").sum())


def _map_summary(source: View, cache: LayerCache, name: str) -> dict[str, Any]:
    """The headline the map shows for a wall figure's link (its layer and window)."""
    from dashboard.views import params_for, scoped_result
    from dashboard.views.wall import FIGURE_LINKS, WALL_RES

    link = FIGURE_LINKS[name]
    since, until = pagestate.window(source.last_day, preset=link["window"]).iso
    p = params_for(link["layer"], res=WALL_RES, since=since, until=until)
    return scoped_result(source, cache, p).headline


def test_every_wall_figure_is_the_number_its_map_view_shows(
    source: View, cache: LayerCache, data: WallData
) -> None:
    f = data.figures
    assert f.today.count == _map_summary(source, cache, "today")["total"]
    assert f.week.count == _map_summary(source, cache, "week")["total"]
    koper = _map_summary(source, cache, "koper")
    assert (f.hotspots, f.koper_dosed, f.koper_hours) == (
        koper["hot"], koper["dosed"], koper["hours"],
    )  # fmt: skip
    gaps = _map_summary(source, cache, "gaps")
    assert f.gap_cells == gaps["gaps"] and f.gap_classes == {k: gaps[f"c{k}"] for k in (2, 3, 4)}
    com = _map_summary(source, cache, "communities")
    assert (f.communities, f.certified, f.at_risk) == (
        com["communities"], com["certified"], com["at_risk"],
    )  # fmt: skip
    # The wall's ranked gaps are the map's list for the same window and resolution.
    from dashboard.views.gaps import gap_list
    from dashboard.views.wall import wall_params

    entries = gap_list(source, cache, wall_params(source, "gaps"), n=len(data.gaps))
    assert [g.cell for g in data.gaps] == [e["cell"] for e in entries]
    # The views hold the map's cells and values.
    from dashboard.views import scoped_result

    heat = scoped_result(source, cache, wall_params(source, "heat"))
    shown = dict(zip(data.views["heat"].cells.tolist(), data.views["heat"].values, strict=True))
    assert all(shown[c] == v for c, v in zip(heat.cells.tolist(), heat.values, strict=True))


def test_hot_spots_patrolled_from_the_raw_patrol_cube(source: View, data: WallData) -> None:
    hot = data.views["heat"].cells[data.marks["heat"]]
    assert data.figures.hotspots == hot.size > 0
    cube = source.snapshot.patrol_cube.to_pandas()
    since = data.until - pd.Timedelta(days=30)
    rows = cube[(cube["hour"] >= since) & (cube["hour"] < data.until)]
    # Each row's dwell in the res-8 hexagon its fixes lie in (the build's exact cell,
    # checked against h3-py in tests/geodata/test_cubes.py), not its res-11 parent's.
    dwell = (
        pd.Series(rows["dwell_s"].to_numpy(dtype=float)).groupby(rows["cell_8"].to_numpy()).sum()
    )
    per_day = dwell.reindex(hot, fill_value=0.0) / 60.0 / 30.0
    assert data.figures.hotspots_covered == int((per_day >= 30.0).sum())


def test_views_hold_res8_cells_and_only_whitelisted_fields(data: WallData) -> None:
    assert set(data.views) == set(WALL_VIEWS)
    for view, result in data.views.items():
        assert result.cells.size > 0, view
        assert {h3.get_resolution(h3.int_to_str(int(c))) for c in result.cells} == {8}
        p = view_payload(result, view, "zh", data.marks.get(view), basis=data.bases.get(view))
        assert set(p) == {"title", "window", "data", "hideout", "legend", "categorical"}
        assert set(p["data"]) <= {"layer", "res", "cells", "v", "h"}
        assert len(p["data"]["cells"]) == len(p["data"]["v"]) == result.cells.size
    gaps = data.views["gaps"].values  # category index 0..3 = gap class 4..1
    assert data.figures.gap_cells == int((gaps <= 2).sum())
    assert data.figures.gap_cells >= len(data.gaps) or len(data.gaps) == wall_data_module.TOP_GAPS
    # The patrol view is the map's patrol layer at night, in its classes.
    patrol = view_payload(data.views["patrol"], "patrol", "en")
    assert patrol["categorical"]
    from layers.patrol_coverage import COVERAGE_CLASSES

    labels = [e["label"] for e in patrol["legend"]["entries"]]
    assert labels and set(labels) <= {c.en for c in COVERAGE_CLASSES.values()}


def test_gap_list_names_places_never_people(source: View, data: WallData) -> None:
    grids = set(source.grids["name"].astype(str))
    precincts = set(source.precincts["name"].astype(str))
    for gap in data.gaps:
        assert gap.grid in grids and gap.precinct in precincts
    view = gaps_view(
        [GapLine(1, "8840f450b1fffff", 3, "东乡街道第23网格", "东乡派出所", Label("甲", "a"))],
        "en",
    )
    text = json.dumps(view, cls=PlotlyJSONEncoder, ensure_ascii=False)
    assert '"东乡街道第23网格 (东乡派出所)"' in text and '"a"' in text


# --------------------------------------------------------------------------- the feed


def _feed(source: View) -> WallFeed:
    """The feed of ``source`` as the app serves it (looked at on every access)."""
    return WallFeed(
        ReloadingSource(source.snapshot, check_seconds=0.0),
        LayerCache(Flask("wall-test"), Settings()),
    )


def test_feed_reopens_the_data_when_new_incidents_arrive(
    demo_with_cubes: Path, tmp_path: Path
) -> None:
    from geodata.cubes import build_cubes

    copy = tmp_path / "data"
    shutil.copytree(demo_with_cubes, copy)
    feed = _feed(county_view(copy))
    first = feed.data(None, wait_s=120)
    assert first is not None
    again = feed.data(None, wait_s=120)  # from the cache
    assert again is not None and again.version == first.version
    _add_incidents_today(copy, 7)
    build_cubes(copy)
    second = feed.data(None, wait_s=120)
    assert second is not None and second.version != first.version
    assert second.figures.today.count == first.figures.today.count + 7


def _add_incidents_today(data_dir: Path, n: int) -> None:
    """Append ``n`` copies of incidents at the data's newest hour (today, same window end)."""
    incidents = read_table(data_dir, "incidents")
    extra = incidents.iloc[:n].copy()
    extra["incident_id"] = [f"WALLTEST{i}" for i in range(n)]
    extra["time"] = incidents["time"].max().floor("h")
    write_table(data_dir, "incidents", pd.concat([incidents, extra], ignore_index=True))


def test_feed_of_the_live_data_shows_what_the_map_serves(
    demo_with_cubes: Path, tmp_path: Path
) -> None:
    from geodata.cubes import build_cubes

    copy = tmp_path / "data"
    shutil.copytree(demo_with_cubes, copy)
    live = ReloadingSource(Snapshot(copy), check_seconds=0.0)
    live.stage(300)  # new data held back until promoted, as with the warm-up on
    feed = WallFeed(live, LayerCache(Flask("wall-test"), Settings()))
    first = feed.data(None, wait_s=120)
    assert first is not None
    _add_incidents_today(copy, 7)
    build_cubes(copy)
    assert live.refresh() and live.pending is not None
    held = feed.data(None, wait_s=120)  # the map still serves the old data: so does the wall
    assert held is not None and held.version == first.version
    live.promote(live.pending)
    second = feed.data(None, wait_s=120)
    assert second is not None and second.version == live.version != first.version
    assert second.figures.today.count == first.figures.today.count + 7


def test_a_slow_computation_never_holds_a_refresh(
    source: View, data: WallData, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def slow(_view: Any, _cache: Any) -> WallData:
        release.wait(60)
        return data

    monkeypatch.setattr("dashboard.views.wall.feed.wall_data", slow)
    feed = _feed(source)
    assert feed.data(None, wait_s=0.05) is None  # not ready: the page keeps its picture
    release.set()
    assert feed.data(None, wait_s=60) is data


def test_a_failed_computation_is_retried(
    source: View, data: WallData, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def flaky(_view: Any, _cache: Any) -> WallData:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("cube being rewritten")
        return data

    monkeypatch.setattr("dashboard.views.wall.feed.wall_data", flaky)
    feed = _feed(source)
    assert feed.data(None, wait_s=60) is None
    assert feed.data(None, wait_s=60) is data and len(calls) == 2


# --------------------------------------------------------------------------- refresh


class FixedFeed:
    """A feed that answers with given data (or None: not ready)."""

    def __init__(self, data: WallData | None) -> None:
        self.value = data

    def data(self, scope: Any = None, *, wait_s: float = 10.0) -> WallData | None:
        return self.value


CONFIG = {"views": ["gaps", "heat", "gaps"], "refresh_s": 60, "stale_s": 3600, "lang": "zh"}


def test_refresh_sends_a_version_once_then_only_its_status(data: WallData) -> None:
    built = data.built_at
    assert built is not None
    now = built + dt.timedelta(minutes=5)
    feed: Any = FixedFeed(data)
    status, figures, gaps, legends, views, footer = wall_page.refresh(
        feed, n=0, config=CONFIG, shown={"seq": 0, "shown": ""}, now=now
    )
    assert status["seq"] == 0 and status["shown"] == data.version and not status["stale"]
    assert status["app"] == wall_page.app_version()
    assert list(views) == ["gaps", "heat"]  # each view once, in order
    assert len(figures) == 6 and len(legends) == 2 and "数据截至" in footer
    assert gaps[0].children == "最大的防控缺口" and len(gaps[1].children) == len(data.gaps)
    again = wall_page.refresh(feed, n=1, config=CONFIG, shown=status, now=now)
    assert again[0]["seq"] == 1 and again[1:5] == (no_update,) * 4
    # Another language is another picture.
    english = wall_page.refresh(feed, n=2, config={**CONFIG, "lang": "en"}, shown=status, now=now)
    assert english[4] is not no_update and "Data to" in english[5]


def test_refresh_marks_old_data_stale(data: WallData) -> None:
    assert data.built_at is not None
    late = data.built_at + dt.timedelta(hours=3)
    status = wall_page.refresh(FixedFeed(data), n=4, config=CONFIG, shown=None, now=late)[0]  # type: ignore[arg-type]
    assert status["stale"] and status["age_s"] == pytest.approx(3 * 3600)
    assert status["stale_text"].startswith("数据已 3 小时未更新")


def test_refresh_without_data_keeps_the_picture_and_its_age(data: WallData) -> None:
    assert data.built_at is not None
    now = data.built_at + dt.timedelta(minutes=5)
    shown = wall_page.refresh(FixedFeed(data), n=3, config=CONFIG, shown=None, now=now)[0]  # type: ignore[arg-type]
    later = now + dt.timedelta(hours=2)
    out = wall_page.refresh(FixedFeed(None), n=4, config=CONFIG, shown=shown, now=later)  # type: ignore[arg-type]
    assert out[0]["seq"] == 4 and out[0]["shown"] == data.version
    assert out[0]["stale"] and out[0]["age_s"] == pytest.approx(2 * 3600 + 300)
    assert out[1:] == (no_update,) * 5


# --------------------------------------------------------------------------- over HTTP

PEOPLE = ("王建国", "李秀英", "张伟")


@pytest.fixture(scope="module")
def planted(demo_with_cubes: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo with people's names as community officers of every grid."""
    out = tmp_path_factory.mktemp("wall-people") / "data"
    shutil.copytree(demo_with_cubes, out)
    grids = read_table(out, "grids")
    grids["community_officer"] = [f"{PEOPLE[i % 3]}{i}" for i in range(len(grids))]
    write_table(out, "grids", grids)
    return out


def _body(app: Any, output: str, values: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """The body the Dash renderer posts for the callback ``output``."""
    spec = app.callback_map[output]

    def items(declared: list[dict[str, str]]) -> list[dict[str, Any]]:
        return [
            {
                "id": d["id"],
                "property": d["property"],
                "value": values.get((d["id"], d["property"])),
            }
            for d in declared
        ]

    outputs = []
    for part in output.strip(".").split("..."):
        cid, _, prop = part.rpartition(".")
        outputs.append({"id": cid, "property": prop})
    first = spec["inputs"][0]
    return {
        "output": output,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": items(spec["inputs"]),
        "state": items(spec["state"]),
        "changedPropIds": [f"{first['id']}.{first['property']}"],
    }


def _readable(body: str) -> str:
    """A response as text with every character as itself (JSON may escape CJK)."""
    try:
        return json.dumps(json.loads(body), ensure_ascii=False)
    except ValueError:
        return body


def _output_of(app: Any, component: str) -> str:
    found = [o for o in app.callback_map if f"{component}." in o and "wall" in o]
    assert len(found) == 1, found
    return found[0]


def test_nothing_the_wall_receives_names_a_person(planted: Path) -> None:
    app = create_app(load_settings({}, data_dir=str(planted), auth="none"))
    client = app.server.test_client()
    bodies = [client.get("/wall").get_data(as_text=True)]
    bodies.append(client.get("/_dash-layout").get_data(as_text=True))
    route = next(o for o in app.callback_map if f"{ids.PAGE}.children" in o)
    page = client.post(
        "/_dash-update-component",
        json=_body(app, route, {(ids.URL, "pathname"): "/wall", (ids.URL, "search"): ""}),
    )
    assert page.status_code == 200
    bodies.append(page.get_data(as_text=True))
    assert ids.WALL_CONFIG in bodies[-1], "the wall's layout came back"
    refresh = _output_of(app, f"{ids.WALL_STATUS}.data")
    wall_config = {
        "views": list(WALL_VIEWS),
        "refresh_s": 60,
        "stale_s": 3600,
        "lang": "zh",
    }
    for lang in ("zh", "en"):
        answer = client.post(
            "/_dash-update-component",
            json=_body(
                app,
                refresh,
                {
                    (ids.WALL_REFRESH, "n_intervals"): 0,
                    (ids.WALL_CONFIG, "data"): {**wall_config, "lang": lang},
                    (ids.WALL_STATUS, "data"): {"seq": 0, "shown": ""},
                },
            ),
        )
        assert answer.status_code == 200
        text = answer.get_data(as_text=True)
        assert ids.WALL_VIEWS in text and "cells" in text  # the data arrived, not a refusal
        bodies.append(text)
    received = "\n".join(_readable(b) for b in bodies)
    grids = read_table(planted, "grids")
    for name in grids["community_officer"].astype(str):
        assert name not in received, name
    for person in PEOPLE:
        assert person not in received
    incidents = read_table(planted, "incidents", columns=["incident_id"])["incident_id"]
    assert incidents.str.match(r"JQ\d{12}").all()  # the demo's incident numbers
    assert re.search(r"JQ\d{6}", received) is None  # so none reached the wall
    patrols = read_table(planted, "patrol_fixes", columns=["unit_id"])["unit_id"].unique()
    for unit in patrols:
        assert unit not in received
    for key in ('"lat"', '"lng"', '"incident_id"', '"community_officer"', '"address"'):
        assert key not in received


def test_a_file_rewritten_with_its_size_and_mtime_kept_is_a_new_data_version(
    tmp_path: Path,
) -> None:
    """What ``cp -p`` of a same-size backup leaves: only the change time tells."""
    from dashboard.views.wall import data_stamp
    from geodata.store import MANIFEST

    manifest = tmp_path / MANIFEST
    manifest.write_text('{"v": 1}', encoding="utf-8")
    old = manifest.stat()
    before = data_stamp(tmp_path)
    backup = tmp_path / "backup.json"
    backup.write_text('{"v": 2}', encoding="utf-8")  # the same size, other bytes
    os.utime(backup, ns=(old.st_atime_ns, old.st_mtime_ns))
    shutil.copy2(backup, manifest)
    now = manifest.stat()
    assert (now.st_size, now.st_mtime_ns, now.st_ino) == (old.st_size, old.st_mtime_ns, old.st_ino)
    assert data_stamp(tmp_path) != before


@pytest.mark.parametrize(
    ("config", "status"),
    [
        ({"views": ["nope"]}, None),
        ({"views": [["heat"]], "lang": {"x": 1}}, None),
        ("x", None),
        ({"views": ["heat"], "refresh_s": "soon"}, None),
        ({"views": ["heat"], "stale_s": float("nan")}, None),
        ({"views": ["heat"]}, {"shown": "v", "built": "yesterday"}),
        ({"views": ["heat"]}, ["x"]),
    ],
)
def test_the_walls_refresh_with_forged_stores_answers_no_update_not_500(
    tiny: Path, config: Any, status: Any
) -> None:
    from tests.dashboard.auth_data import callback_body

    app = create_app(load_settings({}, data_dir=str(tiny), auth="none"))
    output = next(k for k in app.callback_map if f"{ids.WALL_STATUS}.data" in k)
    values = {
        (ids.WALL_REFRESH, "n_intervals"): 1,
        (ids.WALL_CONFIG, "data"): config,
        (ids.WALL_STATUS, "data"): status,
    }
    r = app.server.test_client().post(
        "/_dash-update-component", json=callback_body(app, output, values)
    )
    assert r.status_code in (204, 400), r.get_data(as_text=True)[:300]


def test_the_walls_refresh_with_its_own_stores_still_answers(tiny: Path, tmp_path: Path) -> None:
    from tests.dashboard.auth_data import callback_body

    data = shutil.copytree(tiny, tmp_path / ("a-long-folder-name-" * 6) / "data")
    app = create_app(load_settings({}, data_dir=str(data), auth="none"))
    output = next(k for k in app.callback_map if f"{ids.WALL_STATUS}.data" in k)
    config = {"views": ["heat", "gaps"], "lang": "en", "refresh_s": 60, "stale_s": 3600.0}
    values = {(ids.WALL_REFRESH, "n_intervals"): 1, (ids.WALL_CONFIG, "data"): config}
    r = app.server.test_client().post(
        "/_dash-update-component", json=callback_body(app, output, values)
    )
    assert r.status_code == 200
    answer = r.get_json()["response"]
    assert answer[ids.WALL_STATUS]["data"]["lang"] == "en"
    assert set(answer[ids.WALL_VIEWS]["data"]) == {"heat", "gaps"}
    # The next tick sends back the status this one answered (its version names the
    # data directory's path): the same data, so only the status and the footer change.
    shown = answer[ids.WALL_STATUS]["data"]
    assert str(data.resolve()) in shown["shown"]
    values[(ids.WALL_STATUS, "data")] = shown
    values[(ids.WALL_REFRESH, "n_intervals")] = 2
    r = app.server.test_client().post(
        "/_dash-update-component", json=callback_body(app, output, values)
    )
    assert r.status_code == 200
    assert set(r.get_json()["response"]) == {ids.WALL_STATUS, ids.WALL_FOOTER}
