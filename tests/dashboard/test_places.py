"""The search box finds places as people name them: town names, pinyin, duplicates told
apart, ranked; and a chief finds only their own places."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from pypinyin import lazy_pinyin
from shapely.geometry import box

from dashboard.datasource import View
from dashboard.views import places as place_search

CRS = "EPSG:4326"


def _grid(i: int, pid: str, name: str) -> dict[str, Any]:
    return {"grid_id": f"G{i}", "name": name, "precinct_id": pid, "geometry": box(i, 0, i + 1, 1)}


@pytest.fixture(scope="module")
def town() -> Any:
    """Three precincts named after their towns (one of them also says its township in a
    column), their grids named after the township, and communities sharing names."""
    precincts = gpd.GeoDataFrame(
        {
            "precinct_id": ["P1", "P2", "P3"],
            "name": ["普光派出所", "东乡派出所", "光明派出所"],
            "township": ["", "", "光明乡"],
        },
        geometry=[box(0, 0, 2, 1), box(2, 0, 4, 1), box(4, 0, 5, 1)],
        crs=CRS,
    )
    grids = gpd.GeoDataFrame(
        [
            _grid(1, "P1", "普光镇第2网格"),
            _grid(0, "P1", "普光镇第1网格"),
            _grid(2, "P2", "东乡镇第1网格"),
            _grid(3, "P2", "东乡镇第2网格"),
            _grid(4, "P3", "第1网格"),
        ],
        crs=CRS,
    )
    communities = pd.DataFrame(
        {
            "community_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "name": ["光明社区", "光明社区", "李塘村", "李塘村", "新光明村", "普光家园"],
            "lng": [0.5, 2.5, 2.5, 3.5, 4.5, 1.5],
            "lat": [0.5] * 6,
            "grid_id": ["G0", "G2", "G2", "G3", "G4", "G1"],
        }
    )
    return SimpleNamespace(precincts=precincts, grids=grids, communities=communities)


def _labels(index: list[Any], text: str) -> list[str]:
    return [o["label"] for o in place_search.search(index, text, lang="zh")]


def test_a_town_name_finds_its_precinct_first_then_its_grids(town: Any) -> None:
    index = place_search.build_index(town)
    found = place_search.search(index, "普光镇", lang="zh")
    assert [o["value"] for o in found] == ["precinct:P1", "grid:G0", "grid:G1"]
    assert found[0]["label"] == "普光派出所 · 普光镇 · 派出所辖区"
    # Whatever township suffix is typed, and the short town name alone.
    assert place_search.search(index, "普光乡", lang="zh")[0]["value"] == "precinct:P1"
    assert place_search.search(index, "东乡", lang="zh")[0]["value"] == "precinct:P2"
    # A township column wins over the grid names (P3's grids do not name it).
    assert place_search.townships(town.precincts, town.grids) == {
        "P1": "普光镇",
        "P2": "东乡镇",
        "P3": "光明乡",
    }


@pytest.mark.parametrize("typed", ["puguang", "PuGuang", "pu guang", "pg", "puguangzhen", "pgz"])
def test_pinyin_full_or_by_initials_finds_the_precinct_first(town: Any, typed: str) -> None:
    index = place_search.build_index(town)
    found = place_search.search(index, typed, lang="zh")
    assert found[0]["value"] == "precinct:P1"
    # Then the places whose pinyin starts with it (checked against pypinyin directly).
    compact = typed.replace(" ", "").lower()
    for option in found[1:]:
        name = option["label"].split(" · ")[0]
        full = "".join(lazy_pinyin(name)).lower()
        initials = "".join(w[0] for w in lazy_pinyin(name)).lower()
        assert full.startswith(compact) or initials.startswith(compact), option


def test_duplicates_are_told_apart_by_their_township(town: Any) -> None:
    index = place_search.build_index(town)
    assert sorted(_labels(index, "光明社区")) == [
        "光明社区 · 东乡镇 · 小区/村社",
        "光明社区 · 普光镇 · 小区/村社",
    ]
    # Two of one township: their grid says which.
    assert sorted(_labels(index, "李塘村")) == [
        "李塘村 · 东乡镇 · 东乡镇第1网格 · 小区/村社",
        "李塘村 · 东乡镇 · 东乡镇第2网格 · 小区/村社",
    ]
    # A name nobody shares is not cluttered.
    assert _labels(index, "新光明村") == ["新光明村 · 小区/村社"]


def test_ranking_exact_then_prefix_then_contains_precincts_first(town: Any) -> None:
    index = place_search.build_index(town)
    found = [o["value"] for o in place_search.search(index, "光明", lang="zh")]
    # 光明派出所 (its town's name: exact), then the names starting with 光明, then
    # the one containing it.
    assert found == ["precinct:P3", "community:C1", "community:C2", "community:C5"]
    assert [o["value"] for o in place_search.search(index, "普光", lang="zh")] == [
        "precinct:P1",
        "grid:G0",
        "grid:G1",
        "community:C6",
    ]
    assert place_search.search(index, "   ", lang="zh") == []


def test_each_option_can_be_found_again_by_the_dropdowns_own_filter(town: Any) -> None:
    """The dropdown filters the options again in the browser (a substring of a word of
    ``search``): every option the server returns must pass it."""
    index = place_search.build_index(town)
    for typed in ("普光镇", "puguang", "pg", "光明", "李塘村", "dx"):
        for option in place_search.search(index, typed, lang="zh"):
            words = option["search"].split()
            assert all(any(part in w for w in words) for part in typed.lower().split()), (
                typed,
                option,
            )


def test_the_searched_place_has_an_outline(source: View) -> None:
    index = place_search.build_index(source)
    grid = place_search.find(index, "grid:G2")
    shape = place_search.outline_of(grid, source.outlines)
    assert len(shape["features"]) == 1
    assert shape["features"][0]["geometry"]["type"] == "Polygon"
    assert place_search.outline_of(None, source.outlines)["features"] == []


def test_a_chiefs_search_never_returns_another_precincts_places(source: View) -> None:
    west = source.for_scope(frozenset({"P1"}))
    index = place_search.build_index(west)
    assert {p.value for p in index} == {"precinct:P1", "grid:G1", "grid:G2"}
    for typed in ("城", "东城", "dongcheng", "dc", "网格", "wangge", "派出所", "pcs"):
        for option in place_search.search(index, typed, lang="zh"):
            assert option["value"] in {"precinct:P1", "grid:G1", "grid:G2"}, (typed, option)
    assert place_search.search(index, "东城", lang="zh") == []
    assert place_search.search(index, "dc", lang="zh") == []
    # The same search over the county finds the east precinct by its pinyin.
    county = place_search.build_index(source)
    assert place_search.search(county, "dc", lang="zh")[0]["value"] == "precinct:P2"
    assert place_search.outline_of(place_search.find(index, "grid:G3"), west.outlines) == {
        "type": "FeatureCollection",
        "features": [],
    }
