"""One truth: a chief's map cell is the county's cell, and a chief's export is the map.

For every layer of the registry and two neighbouring chiefs (东乡 and 蒲江 of the small
demo, 37 precincts), the chief's result is the county's result cut to the chief's
precinct: the same cells with the same numbers (1), each cell's centre inside the chief's
precinct — checked against the precinct boundary with shapely, not through the zones the
code uses (2), the headline figures the precinct's totals (3) and nothing of another
precinct — no cell, no unit, community, grid or precinct id or name (4). A chief's
export, through the export service with the chief's scope, holds the chief's map cells
with the same numbers, and no unit of another precinct by name or id (5).

Known answers, on a hand-made county of two precincts (tests/dashboard/auth_data.py with
incidents placed across the border): Gi* z-scores and the 1-3-5 reach computed here from
their formulas with h3-py, shapely and pyproj for the whole county, which differ from
what the precinct's own inputs would give (Gi* over the precinct only; reach from the
precinct's own units only) — the chief sees the county's answer, on the map and in the
file downloaded over HTTP.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from flask import Flask

from dashboard.app import create_app
from dashboard.cache import LayerCache
from dashboard.datasource import ReloadingSource, View
from dashboard.settings import load_settings
from dashboard.views import LAYERS, LayerResult, layer_result, params_for, scoped_result
from dashboard.views.base import style
from dashboard.views.export import ExportRequest
from dashboard.views.export_files import ExportService
from geodata.snapshot import Snapshot
from geodata.store import cubes_dir, write_frame
from layers.registry.frame import OTHER_PRECINCT
from layers.registry.protection import SHARE_CATEGORIES
from layers.response_reach import DEFAULT_DETOUR, DEFAULT_SPEEDS_KMH
from tests.dashboard.auth_data import SECRET, build_secure_data, sign_in
from tests.dashboard.rounding import assert_rounded
from tests.dashboard.tiny_data import EAST, MID_LNG, NORTH, SOUTH, WEST, cube_frame, write_meta

RES = 8
"""The known-answer county's resolution (its incidents are placed on res-8 cells)."""
DEMO_RES = (8, 9)
CHIEFS = ("511722001", "511722002")  # 东乡, 蒲江: the urban core, neighbours
GEOD = pyproj.Geod(ellps="WGS84")


# --------------------------------------------------------------------------- helpers


def centre(cell: int) -> tuple[float, float]:
    """(lng, lat) of a cell's centre, by h3-py (not geodata.hexes)."""
    lat, lng = h3.cell_to_latlng(h3.int_to_str(int(cell)))
    return lng, lat


def precinct_shapes(data_dir: Path) -> dict[str, Any]:
    """Each precinct's boundary, read from its file (not from the snapshot)."""
    frame = gpd.read_parquet(data_dir / "precincts.parquet")
    return dict(zip(frame["precinct_id"].astype(str), frame.geometry, strict=True))


def holder(shapes: dict[str, Any], lng: float, lat: float) -> set[str]:
    """The precincts whose boundary holds a point (within 1 cm: shared edges)."""
    point = shapely.Point(lng, lat)
    return {pid for pid, shape in shapes.items() if shape.distance(point) < 1e-7}


def point_owner(shapes: dict[str, Any], lng: float, lat: float) -> str | None:
    found = holder(shapes, lng, lat)
    return next(iter(found)) if len(found) == 1 else None


def strings_of(frame: pd.DataFrame) -> set[str]:
    """Every text in a frame's cells (Labels in both languages)."""
    out: set[str] = set()
    for column in frame.columns:
        for value in frame[column].to_numpy(dtype=object):
            if hasattr(value, "zh") and hasattr(value, "en"):
                out |= {value.zh, value.en}
            elif isinstance(value, str):
                out.add(value)
    return out


def as_float(values: Any) -> np.ndarray:
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)


# --------------------------------------------------------------------------- the demo


# live, cache and window (the demo in service, its layer cache, the 30-day window):
# tests/dashboard/conftest.py.


@pytest.fixture(scope="module")
def shapes(demo_with_cubes: Path) -> dict[str, Any]:
    return precinct_shapes(demo_with_cubes)


@pytest.fixture(scope="module")
def owners(demo_with_cubes: Path, shapes: dict[str, Any]) -> dict[str, dict[str, str | None]]:
    """The precinct of every unit (by id and by name) and community (by id), by point in
    polygon."""
    out: dict[str, dict[str, str | None]] = {}
    for kind, id_col in (("response_units", "unit_id"), ("communities", "community_id")):
        table = pd.read_parquet(demo_with_cubes / f"{kind}.parquet")
        for row in table.itertuples():
            owner = point_owner(shapes, float(row.lng), float(row.lat))
            out.setdefault(kind, {})[str(getattr(row, id_col))] = owner
            if kind == "response_units":
                out.setdefault(f"{kind}:name", {})[str(row.name)] = owner
    units = pd.read_parquet(demo_with_cubes / "response_units.parquet")
    assert not units["name"].duplicated().any()  # a unit's name tells whose it is
    return out


@pytest.fixture(scope="module")
def words(demo_with_cubes: Path, shapes: dict[str, Any]) -> list[tuple[str, str | None]]:
    """Every id and name of a unit, community, grid and precinct, with its precinct."""
    out: list[tuple[str, str | None]] = []
    for kind, id_col in (("response_units", "unit_id"), ("communities", "community_id")):
        table = pd.read_parquet(demo_with_cubes / f"{kind}.parquet")
        for row in table.itertuples():
            owner = point_owner(shapes, float(row.lng), float(row.lat))
            out += [(str(getattr(row, id_col)), owner), (str(row.name), owner)]
    for row in pd.read_parquet(demo_with_cubes / "precincts.parquet").itertuples():
        out += [(str(row.precinct_id), str(row.precinct_id)), (str(row.name), str(row.precinct_id))]
    for row in pd.read_parquet(demo_with_cubes / "grids.parquet").itertuples():
        out += [(str(row.grid_id), str(row.precinct_id)), (str(row.name), str(row.precinct_id))]
    return out


def foreign_words(words: list[tuple[str, str | None]], chief: str) -> set[str]:
    """Ids and names of things of other precincts (a name the chief's precinct shares
    with another — 花园村 — is left out: it is the chief's too)."""
    mine = {w for w, owner in words if owner == chief}
    return {w for w, owner in words if owner != chief} - mine


def unit_owner(owners: dict[str, dict[str, str | None]], unit: Any) -> str | None:
    """The precinct of a unit named by its id (gaps) or its name (reach)."""
    by_id = owners["response_units"]
    return by_id[str(unit)] if str(unit) in by_id else owners["response_units:name"][str(unit)]


def code_of(live: ReloadingSource, chief: str) -> int:
    return live.current.precinct_ids.index(chief)


# Each layer's headline figures, added up from the cells and explaining rows the chief
# sees (``n``: the number of the area's cells in the chief's precinct).
def _class_counts(result: LayerResult, test: Callable[[str], bool]) -> int:
    codes = [result.categories[int(v)].code for v in result.values]
    return sum(1 for c in codes if test(c))


HEADLINES: dict[str, Callable[[LayerResult, int], dict[str, Any]]] = {
    "heat": lambda r, n: {"cells": r.cells.size, "total": int(r.explain["count"].sum())},
    "rate": lambda r, n: {"cells": r.cells.size, "unknown": int(np.isnan(r.values).sum())},
    "hotspots": lambda r, n: {
        "hot": _class_counts(r, lambda c: c.startswith("hot")),
        "cold": _class_counts(r, lambda c: c.startswith("cold")),
    },
    "emerging": lambda r, n: {
        "hot": _class_counts(r, lambda c: c.endswith("_hot")),
        "cold": _class_counts(r, lambda c: c.endswith("_cold")),
    },
    "mom": lambda r, n: {
        "up": _class_counts(r, lambda c: c.endswith("increase")),
        "down": _class_counts(r, lambda c: c.endswith("decrease")),
    },
    "yoy": lambda r, n: {
        "up": _class_counts(r, lambda c: c.endswith("increase")),
        "down": _class_counts(r, lambda c: c.endswith("decrease")),
    },
    "community": lambda r, n: {
        k: int(r.explain[k].sum()) for k in ("communities", "certified", "at_risk")
    },
    "reach": lambda r, n: {
        "cells": r.cells.size,
        "beyond": _class_counts(r, lambda c: c == "beyond_5"),
    },
    # Patrol and gaps count every cell of the precinct, drawn or not.
    "patrol": lambda r, n: {
        "cells": n,
        "patrolled": r.cells.size,
        "hours": float(r.explain["dwell_min"].sum()) / 60.0,
    },
    "koper": lambda r, n: {
        "hot": r.cells.size,
        "dosed": int(r.explain["dosed_hours"].sum()),
        "hours": int(r.explain["hours"].sum()),
    },
    "gaps": lambda r, n: {
        "gaps": int(r.explain["is_gap"].sum()),
        **{f"c{k}": int((r.explain["class"] == k).sum()) for k in range(5)},
    },
}


def test_every_layer_has_an_independent_headline_check() -> None:
    assert set(HEADLINES) == set(LAYERS)


@pytest.mark.parametrize("res", DEMO_RES)
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_a_chief_sees_the_countys_cells_of_the_precinct_and_nothing_else(
    res: int,
    live: ReloadingSource,
    cache: LayerCache,
    window: tuple[str, str],
    shapes: dict[str, Any],
    owners: dict[str, dict[str, str | None]],
    words: list[tuple[str, str | None]],
    layer: str,
) -> None:
    params = params_for(layer, res=res, since=window[0], until=window[1])
    county = layer_result(live.current, cache, params)
    zones = live.current.zones(params.res)
    seen = 0
    for chief in CHIEFS:
        code = code_of(live, chief)
        mine = scoped_result(live.view(frozenset({chief})), cache, params)
        # (1) The county's cells whose centre lies in the precinct (by its boundary), in
        # the same order, with the same values; the county's explaining rows of them.
        keep = np.asarray([holder(shapes, *centre(c)) == {chief} for c in county.cells])
        np.testing.assert_array_equal(mine.cells, county.cells[keep])
        np.testing.assert_array_equal(mine.values, county.values[keep])
        assert mine.res == county.res == params.res
        rows = [holder(shapes, *centre(c)) == {chief} for c in county.explain.index]
        expected = county.explain[np.asarray(rows, dtype=bool)]
        expected = expected.drop(columns=list(county.private.values()))
        for column in county.private:  # names of other precincts' things are masked
            if column in expected:
                expected[column] = [
                    v if unit_owner(owners, v) == chief else OTHER_PRECINCT
                    for v in expected[column]
                ]
        pd.testing.assert_frame_equal(mine.explain, expected, check_exact=True)
        # (2) Every cell (drawn or explained) has its centre in the chief's precinct, and
        # the precinct the snapshot's zones give it is the chief's.
        for cell in {*mine.cells.tolist(), *mine.explain.index.tolist()}:
            assert holder(shapes, *centre(cell)) == {chief}, (layer, chief, h3.int_to_str(cell))
        assert (zones.codes_of(mine.cells) == code).all()
        assert (mine.precincts == code).all()
        # (3) The headline: the precinct's totals, and what the chief's cells add up to.
        headline = mine.headline
        row = county.totals.loc[code] if code in county.totals.index else None
        for name, value in headline.items():
            assert value == pytest.approx(0 if row is None else row[name]), (layer, name)
        n_cells = int((zones.precinct == code).sum())
        for name, value in HEADLINES[layer](mine, n_cells).items():
            assert headline[name] == pytest.approx(value), (layer, chief, name)
        # (4) Nothing of another precinct: no private code column, no foreign id or name.
        assert not set(county.private.values()) & set(mine.explain.columns)
        leaked = strings_of(mine.explain) & foreign_words(words, chief)
        assert not leaked, (layer, chief, sorted(leaked)[:5])
        seen += mine.cells.size
    assert seen, f"{layer}: no chief cell to check"


@pytest.mark.parametrize("res", DEMO_RES)
def test_the_cut_hides_the_neighbours_unit_names_that_the_county_shows(
    res: int,
    live: ReloadingSource,
    cache: LayerCache,
    window: tuple[str, str],
    owners: dict[str, dict[str, str | None]],
) -> None:
    """The masks above are not vacuous: each chief has cells whose nearest unit is a
    neighbour's, named on the county's map and masked on the chief's."""
    params = params_for("reach", res=res, since=window[0], until=window[1])
    county = layer_result(live.current, cache, params)
    for chief in CHIEFS:
        mine = scoped_result(live.view(frozenset({chief})), cache, params)
        masked = mine.explain.index[
            [v is OTHER_PRECINCT for v in mine.explain["nearest_unit"].to_numpy(dtype=object)]
        ]
        assert len(masked), chief
        names = county.explain.loc[masked, "nearest_unit"]
        assert all(owners["response_units:name"][str(n)] not in (None, chief) for n in names)


# --------------------------------------------------------------------------- exports

# Exportable layer -> the map layer it presents, and its fields -> the map's explain
# columns holding the same number (layers/export/catalogue.py).
EXPORTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "heat": ("incidents", "heat", {"count": "count"}),
    "rate": ("incidents", "rate", {"count": "count", "population": "population"}),
    "hotspots": (
        "hotspots",
        "hotspots",
        {"count": "value", "neighbours": "neighbours", "gi_z": "gi_z", "p_value": "p_value"},
    ),
    "reach": ("response_reach", "reach", {"minutes": "minutes", "distance_m": "distance_m"}),
    "community": (
        "safe_community",
        "community",
        {
            "communities": "communities",
            "certified": "certified",
            "households": "households",
            "certified_share": "certified_share",
            "at_risk": "at_risk",
        },
    ),
    "patrol": (
        "patrol_coverage",
        "patrol",
        {
            "dwell_min_per_day": "dwell_min_per_day",
            "dwell_min": "dwell_min",
            "visits": "visits",
            "units": "units",
        },
    ),
}
# Layers whose map leaves "nothing" cells uncoloured, which the file keeps with their
# class (a GIS file of hot spots or patrol coverage covers the area): the class code of
# such a row in the export.
UNDRAWN_CLASS: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "hotspots": lambda f: (f["class_code"] == "not_significant").to_numpy(),
    "patrol": lambda f: (f["class"] == 0).to_numpy(),
}


# The export's class of each drawn row, as the map's category code (the map's colour).
EXPORT_CLASS: dict[str, Callable[[pd.DataFrame], list[str]]] = {
    "hotspots": lambda f: f["class_code"].astype(str).tolist(),
    "reach": lambda f: f["band"].astype(str).tolist(),
    "patrol": lambda f: f["class"].astype(str).tolist(),
    "community": lambda f: [SHARE_CATEGORIES[int(c)].code for c in f["class"]],
}


def export_frame(
    service: ExportService, layer: str, scope: frozenset[str] | None, res: int, **kw: Any
) -> Any:
    """The rows (indexed by cell) of ``layer`` exported by a user of ``scope``."""
    request = ExportRequest(layers=(layer,), res=res, window="30d", **kw)
    bundles, _ = service.bundles(request, scope)
    frame = bundles[0].frame
    return frame.set_index(pd.Index([int(h3.str_to_int(c)) for c in frame["h3_cell"]]))


@pytest.mark.parametrize("res", DEMO_RES)
@pytest.mark.parametrize("map_layer", sorted(EXPORTS))
def test_a_chiefs_export_holds_the_chiefs_map_cells_and_numbers(
    res: int,
    live: ReloadingSource,
    cache: LayerCache,
    window: tuple[str, str],
    owners: dict[str, dict[str, str | None]],
    words: list[tuple[str, str | None]],
    map_layer: str,
) -> None:
    export_layer, _, fields = EXPORTS[map_layer]
    service = ExportService(live)
    params = params_for(map_layer, res=res, since=window[0], until=window[1])
    for chief in CHIEFS:
        scope = frozenset({chief})
        mine = scoped_result(live.view(scope), cache, params)
        frame = export_frame(service, export_layer, scope, res)
        same = export_frame(service, export_layer, scope, res, area="precincts", precincts=(chief,))
        pd.testing.assert_frame_equal(frame, same)  # "my county" is my precinct
        assert (frame["h3_res"] == mine.res).all()
        assert (frame["precinct_id"] == chief).all()
        drawn = ~UNDRAWN_CLASS[map_layer](frame) if map_layer in UNDRAWN_CLASS else None
        shown = frame if drawn is None else frame[drawn]
        assert shown.index.tolist() == mine.cells.tolist(), (map_layer, chief)
        if drawn is not None:  # the rest: the chief's cells the map leaves uncoloured
            rest = frame.index[~drawn]
            assert not set(rest) & set(mine.cells.tolist())
            assert set(frame.index) <= set(live.current.zone_frame(res).query(
                "precinct_id == @chief")["cell"].tolist())  # fmt: skip
        explain = mine.explain.reindex(shown.index)
        for field, column in fields.items():  # the map's numbers, rounded as they mean
            got, want = as_float(shown[field]), as_float(explain[column])
            if map_layer == "rate" and field == "population":  # the map hides under 50
                want = np.where(np.isnan(mine.values), got, want)
            assert_rounded(field, got, want)
        if map_layer == "rate":
            known = ~np.isnan(mine.values)
            assert_rounded("rate_per_1000", as_float(shown["rate_per_1000"])[known],
                           mine.values[known])  # fmt: skip
        if map_layer in EXPORT_CLASS:  # the class is the map's colour
            on_map = [mine.categories[int(v)].code for v in mine.values]
            assert EXPORT_CLASS[map_layer](shown) == on_map, (map_layer, chief)
        leaked = strings_of(frame) & foreign_words(words, chief)
        assert not leaked, (map_layer, chief, sorted(leaked)[:5])


# The map's filters travel with "export this view" and the export page offers them:
# the file then holds the filtered map's numbers, not the unfiltered layer's.
# (At res 9 the small demo's 650 hot spots are all so strong that the correction keeps
# every one; at res 8 it keeps 51 of 109.)
FILTERED: list[tuple[str, int, dict[str, Any]]] = [
    ("heat", 9, {"band": "night"}),
    ("hotspots", 8, {"fdr": True}),
    ("hotspots", 9, {"band": "evening", "fdr": True}),
    ("patrol", 9, {"kinds": ("police_car",), "band": "night"}),
]


@pytest.mark.parametrize(("map_layer", "res", "filters"), FILTERED, ids=str)
def test_an_export_with_the_maps_filters_holds_the_filtered_maps_numbers(
    live: ReloadingSource,
    cache: LayerCache,
    window: tuple[str, str],
    map_layer: str,
    res: int,
    filters: dict[str, Any],
) -> None:
    export_layer, _, fields = EXPORTS[map_layer]
    service = ExportService(live)
    params = params_for(map_layer, res=res, since=window[0], until=window[1], **filters)
    for scope in (None, *(frozenset({c}) for c in CHIEFS)):
        mine = scoped_result(live.view(scope), cache, params)
        frame = export_frame(service, export_layer, scope, res, **filters)
        drawn = ~UNDRAWN_CLASS[map_layer](frame) if map_layer in UNDRAWN_CLASS else None
        shown = frame if drawn is None else frame[drawn]
        assert shown.index.tolist() == mine.cells.tolist(), (map_layer, filters, scope)
        explain = mine.explain.reindex(shown.index)
        for field, column in fields.items():
            assert_rounded(field, shown[field], explain[column])
        if map_layer in EXPORT_CLASS:
            on_map = [mine.categories[int(v)].code for v in mine.values]
            assert EXPORT_CLASS[map_layer](shown) == on_map, (map_layer, filters, scope)
    # The filters change the file, so the test above could fail on a file without them.
    filtered = export_frame(service, export_layer, None, res, **filters)
    unfiltered = export_frame(service, export_layer, None, res).reindex(filtered.index)
    columns = [*fields, "class"]
    assert not filtered[columns].equals(unfiltered[columns]), (map_layer, filters)


def class_of(value: float, breaks: list[float]) -> int:
    """The class the browser draws a value in (assets/pnm.js ``classOf``): the first
    break at or above it, else the last."""
    return next((i for i, b in enumerate(breaks) if value <= b), len(breaks) - 1)


@pytest.mark.parametrize("res", DEMO_RES)
@pytest.mark.parametrize("scheme", ["natural_breaks", "quantiles", "equal_interval"])
def test_a_chiefs_export_classes_the_cells_as_the_chiefs_map_colours_them(
    res: int, live: ReloadingSource, cache: LayerCache, window: tuple[str, str], scheme: str
) -> None:
    service = ExportService(live)
    params = params_for("heat", res=res, since=window[0], until=window[1])
    whole = layer_result(live.current, cache, params)
    for chief in CHIEFS:
        mine = scoped_result(live.view(frozenset({chief})), cache, params)
        hideout, _ = style(mine, scheme=scheme, lang="zh", basis=whole)
        frame = export_frame(service, "incidents", frozenset({chief}), res, scheme=scheme)
        assert frame.index.tolist() == mine.cells.tolist()
        breaks = hideout["breaks"]
        assert frame["class"].tolist() == [class_of(v, breaks) for v in mine.values]
        bundle, _ = service.bundles(
            ExportRequest(layers=("incidents",), res=res, window="30d", scheme=scheme),
            frozenset({chief}),
        )
        assert [c.upper for c in bundle[0].style.classes] == breaks  # the same legend


@pytest.mark.parametrize("res", DEMO_RES)
def test_a_chiefs_export_masks_the_neighbours_units_as_the_map_does(
    res: int,
    live: ReloadingSource,
    cache: LayerCache,
    window: tuple[str, str],
    owners: dict[str, dict[str, str | None]],
) -> None:
    service = ExportService(live)
    params = params_for("reach", res=res, since=window[0], until=window[1])
    units = pd.read_parquet(live.current.data_dir / "response_units.parquet")
    name_of = dict(zip(units["unit_id"].astype(str), units["name"].astype(str), strict=True))
    for chief in CHIEFS:
        mine = scoped_result(live.view(frozenset({chief})), cache, params)
        for lang in ("zh", "en"):
            frame = export_frame(service, "response_reach", frozenset({chief}), res, lang=lang)
            on_map = mine.explain.loc[frame.index, "nearest_unit"].to_numpy(dtype=object)
            masked = np.asarray([v is OTHER_PRECINCT for v in on_map])
            assert masked.any(), chief  # see the test above
            exported = frame["nearest_unit"].astype(str).to_numpy()
            assert (exported[masked] == OTHER_PRECINCT.text(lang)).all()
            own = exported[~masked]
            assert all(owners["response_units"][u] == chief for u in own)
            assert [name_of[u] for u in own] == [str(v) for v in on_map[~masked]]
    # The commander's file names every unit, the neighbours' too.
    county = export_frame(service, "response_reach", None, res)
    assert set(county["nearest_unit"].astype(str)) <= set(name_of)


# --------------------------------------------------------------------------- known answers

W_LAT = 31.37  # the row along which incidents straddle the border (nearer the east's unit)


def border_cells() -> tuple[int, list[int]]:
    """A res-8 cell whose centre is in the west (P1) next to the border, and its
    neighbours whose centres are in the east (P2)."""
    for step in range(1, 40):
        cell = h3.latlng_to_cell(W_LAT, MID_LNG - 0.0005 * step, RES)
        lng = h3.cell_to_latlng(cell)[1]
        east = [n for n in h3.grid_ring(cell, 1) if h3.cell_to_latlng(n)[1] > MID_LNG]
        if lng < MID_LNG and len(east) >= 2:
            return int(h3.str_to_int(cell)), sorted(int(h3.str_to_int(n)) for n in east)
    raise AssertionError("no border cell")


# Incidents per res-8 cell: a few in the west border cell, many just across the border,
# a few scattered in the west away from it (so the west alone has some variance).
WEST_SCATTER = ((31.31, 107.69), (31.39, 107.69), (31.32, 107.71))


def placed_counts() -> dict[int, int]:
    w, east = border_cells()
    counts = {w: 2, east[0]: 9, east[1]: 9}
    for lat, lng in WEST_SCATTER:
        counts[int(h3.str_to_int(h3.latlng_to_cell(lat, lng, RES)))] = 1
    return counts


def build_known_data(out: Path) -> Path:
    """The two-precinct county with users (auth_data), incidents at the cells above."""
    build_secure_data(out)
    rows = []
    for cell, count in placed_counts().items():
        # The centre child: its centre, where its incidents are put, is the cell's centre.
        child = h3.cell_to_center_child(h3.int_to_str(cell), 11)
        rows.append((int(h3.str_to_int(child)), "2026-11-20 10:00", "theft", count))
    rows.append((rows[0][0], "2026-11-25 23:00", "theft", 0))  # the data's clock
    write_frame(cube_frame(rows), cubes_dir(out) / "incidents.parquet")
    write_meta(out, "2026-11-26T00:00:00")
    return out


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_known_data(tmp_path_factory.mktemp("one-truth") / "data")


def study_region() -> list[int]:
    """The county's res-8 cells (centre inside the 0.1° square), by h3-py."""
    box = h3.LatLngPoly([(SOUTH, WEST), (SOUTH, EAST), (NORTH, EAST), (NORTH, WEST)])
    return sorted(int(h3.str_to_int(c)) for c in h3.polygon_to_cells(box, RES))


def gi_z(counts: dict[int, int], region: list[int]) -> dict[int, float]:
    """Getis-Ord Gi* (binary weights, the cell and its ring inside ``region``), from the
    formula (Ord & Getis 1995), for every cell of ``region``."""
    inside = set(region)
    x = {c: float(counts.get(c, 0)) for c in region}
    n = len(region)
    mean = sum(x.values()) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in x.values()) / n)
    out = {}
    for c in region:
        disk = [int(h3.str_to_int(d)) for d in h3.grid_disk(h3.int_to_str(c), 1)]
        near = [d for d in disk if d in inside]
        w = len(near)
        spread = math.sqrt((n * w - w * w) / (n - 1))
        out[c] = (sum(x[d] for d in near) - mean * w) / (sd * spread)
    return out


def known_view(data: Path, scope: frozenset[str] | None) -> tuple[View, LayerCache]:
    view = ReloadingSource(Snapshot(data)).view(scope)
    return view, LayerCache(Flask("known"), load_settings({}, data_dir=str(data)))


def known_params(view: View, layer: str) -> Any:
    since, until = ExportRequest(window="30d").span(view.last_day)
    return params_for(layer, res=RES, since=since.isoformat(), until=until.isoformat())


def test_hot_spots_are_the_countys_gi_star_not_the_precincts(known: Path) -> None:
    view, cache = known_view(known, frozenset({"P1"}))
    region = study_region()
    assert view.snapshot.area_cells(RES).tolist() == region
    west = [c for c in region if centre(c)[0] < MID_LNG]
    county_z = gi_z(placed_counts(), region)
    alone_z = gi_z({c: v for c, v in placed_counts().items() if c in set(west)}, west)
    mine = scoped_result(view, cache, known_params(view, "hotspots"))
    assert mine.cells.size and set(mine.cells.tolist()) <= set(west)
    for cell, z in mine.explain["gi_z"].items():
        assert z == pytest.approx(county_z[cell], rel=1e-9), h3.int_to_str(cell)
    # The border cell: hot at 99 % with its eastern neighbours' incidents, which the
    # precinct alone would not see (the old way, Gi* over the precinct's cells only).
    w, _ = border_cells()
    assert county_z[w] > 2.576 and w in mine.cells.tolist()
    assert mine.categories[int(mine.values[mine.cells.tolist().index(w)])].code == "hot_99"
    assert alone_z[w] < county_z[w] - 0.5
    # Every west cell with a significant county z is on the map, and nothing else.
    significant = {c for c in west if abs(county_z[c]) > 1.645}
    assert set(mine.cells.tolist()) == significant


def reach_minutes(cell: int, units: pd.DataFrame) -> tuple[float, str]:
    """Minutes from a cell's centre to its nearest unit (straight line × detour at the
    unit kind's speed, geodesic by pyproj) and that unit's id."""
    lng, lat = centre(cell)
    best = (math.inf, "")
    for row in units.itertuples():
        _, _, metres = GEOD.inv(lng, lat, float(row.lng), float(row.lat))
        minutes = metres * DEFAULT_DETOUR / (DEFAULT_SPEEDS_KMH[str(row.kind)] * 1000 / 60)
        best = min(best, (minutes, str(row.unit_id)))
    return best


def test_reach_counts_the_neighbours_nearer_unit_and_hides_its_name(known: Path) -> None:
    view, cache = known_view(known, frozenset({"P1"}))
    units = pd.read_parquet(known / "response_units.parquet")
    own = units[units["lng"] < MID_LNG]
    mine = scoped_result(view, cache, known_params(view, "reach"))
    w, _ = border_cells()
    assert w in mine.cells.tolist()
    across = 0
    for cell, row in mine.explain.iterrows():
        minutes, unit = reach_minutes(int(cell), units)
        assert row["minutes"] == pytest.approx(minutes, rel=1e-6), h3.int_to_str(cell)
        if unit == "U2":  # the east's unit is nearer: counted, its name hidden
            across += 1
            assert row["nearest_unit"] is OTHER_PRECINCT
            assert reach_minutes(int(cell), own)[0] > minutes  # the old way: own units only
        else:
            assert row["nearest_unit"] == "西城应急单元"
    assert across and reach_minutes(w, units)[1] == "U2"


@pytest.fixture(scope="module")
def west_client(known: Path) -> Any:
    app = create_app(load_settings({}, data_dir=str(known), secret_key=SECRET))
    client = app.server.test_client()
    assert sign_in(client, "west").status_code == 302
    return client


def download(client: Any, layer: str) -> pd.DataFrame:
    """The GeoParquet a signed-in user downloads from the export route."""
    query = f"layers={layer}&res={RES}&area=county&fmt=parquet&crs=EPSG:4326&window=30d"
    r = client.get(f"/export/download?{query}")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    with zipfile.ZipFile(io.BytesIO(r.get_data())) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".parquet"))
        frame = pd.read_parquet(io.BytesIO(zf.read(name)))
    return frame.set_index(pd.Index([int(h3.str_to_int(c)) for c in frame["h3_cell"]]))


def test_the_downloaded_file_of_a_chief_is_the_chiefs_map(known: Path, west_client: Any) -> None:
    view, cache = known_view(known, frozenset({"P1"}))
    reach = scoped_result(view, cache, known_params(view, "reach"))
    frame = download(west_client, "response_reach")
    assert frame.index.tolist() == reach.cells.tolist()
    assert_rounded("minutes", frame["minutes"], reach.explain.loc[frame.index, "minutes"])
    w, _ = border_cells()
    assert frame.loc[w, "nearest_unit"] == OTHER_PRECINCT.zh
    assert set(frame["nearest_unit"]) == {"U1", OTHER_PRECINCT.zh}
    texts = frame.drop(columns=["geometry"], errors="ignore").astype(str).to_numpy().ravel()
    assert not {"U2", "东城应急单元"} & set(texts)
    hot = scoped_result(view, cache, known_params(view, "hotspots"))
    frame = download(west_client, "hotspots")
    significant = frame[frame["class_code"] != "not_significant"]
    assert significant.index.tolist() == hot.cells.tolist()
    assert_rounded("gi_z", significant["gi_z"], hot.explain.loc[significant.index, "gi_z"])
    assert significant.loc[w, "class_code"] == "hot_99"
