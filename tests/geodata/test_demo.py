"""The synthetic demo data set: determinism, schema, geography, plausibility, planted gaps.

Known answers come from the real boundary (geodata.xuanhan), the schema and pyproj, not
from the demo's own helpers.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from geodata.demo import build_demo
from geodata.schema import DATASETS, VOCABULARIES
from geodata.store import read_manifest, read_table, table_path
from geodata.xuanhan import boundary, townships

KINDS = tuple(DATASETS)
NOW = pd.Timestamp("2026-11-25 23:59:59")
EQUAL_AREA = "EPSG:6933"
GEOD = Geod(ellps="WGS84")


def _area_m2(geoms: gpd.GeoSeries) -> np.ndarray:
    return geoms.to_crs(EQUAL_AREA).area.to_numpy()


def _planar(geoms: gpd.GeoSeries) -> np.ndarray:
    """Planar areas in square degrees: exact for comparing tilings with straight edges."""
    return shapely.area(np.asarray(geoms.array))


def _dist_m(lng1, lat1, lng2, lat2) -> np.ndarray:
    lng1, lat1, lng2, lat2 = np.broadcast_arrays(lng1, lat1, lng2, lat2)
    return GEOD.inv(lng1, lat1, lng2, lat2)[2]


# --- determinism -------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_tables(demo_small: Path, tmp_path: Path):
    again = build_demo(tmp_path / "again", seed=7, scale="small")
    for kind in KINDS:
        assert table_path(again, kind).read_bytes() == table_path(demo_small, kind).read_bytes(), (
            kind
        )
    assert read_manifest(again) == read_manifest(demo_small)


def test_another_seed_gives_other_data(demo_small: Path, tmp_path: Path):
    other = build_demo(tmp_path / "other", seed=8, scale="small")
    for kind in ("precincts", "grids", "communities", "incidents", "patrol_fixes"):
        assert table_path(other, kind).read_bytes() != table_path(demo_small, kind).read_bytes(), (
            kind
        )
    a, b = read_table(demo_small, "incidents"), read_table(other, "incidents")
    assert not np.array_equal(a["lng"].to_numpy()[:100], b["lng"].to_numpy()[:100])
    # The real geography does not depend on the seed.
    assert (
        read_table(other, "area")
        .geometry.iloc[0]
        .equals(read_table(demo_small, "area").geometry.iloc[0])
    )


def test_unknown_scale_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="unknown scale"):
        build_demo(tmp_path, scale="huge")


# --- schema ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_tables_follow_the_schema(demo_small: Path, kind: str):
    schema = DATASETS[kind]
    frame = read_table(demo_small, kind)
    assert len(frame) > 0
    names = [c.name for c in schema.columns]
    assert set(frame.columns) <= set(names), set(frame.columns) - set(names)
    assert set(schema.required) <= set(frame.columns)
    if schema.key:
        assert frame[schema.key].is_unique
    if schema.geometry == "polygon":
        assert isinstance(frame, gpd.GeoDataFrame)
        assert frame.crs.to_epsg() == 4326
        assert frame.geometry.is_valid.all()
        assert set(frame.geom_type) <= {"Polygon", "MultiPolygon"}
    for column in schema.columns:
        if column.name not in frame.columns or column.dtype == "geometry":
            continue
        values = frame[column.name]
        if column.required:
            assert values.notna().all(), column.name
        present = values.dropna()
        if column.dtype == "str":
            assert pd.api.types.is_string_dtype(values), (column.name, values.dtype)
        elif column.dtype == "int":
            assert pd.api.types.is_integer_dtype(values), (column.name, values.dtype)
        elif column.dtype in ("float", "lng", "lat"):
            assert pd.api.types.is_float_dtype(values), (column.name, values.dtype)
        elif column.dtype in ("datetime", "date"):
            assert pd.api.types.is_datetime64_dtype(values), (column.name, values.dtype)
            assert values.dt.tz is None  # naive China Standard Time
            if column.dtype == "date":
                assert (present == present.dt.normalize()).all()
        if column.allowed:
            assert set(present) <= set(VOCABULARIES[column.allowed]), column.name
        if column.minimum is not None:
            assert (present >= column.minimum).all(), column.name
        if column.maximum is not None:
            assert (present <= column.maximum).all(), column.name


def test_manifest_says_synthetic(demo_small: Path):
    manifest = read_manifest(demo_small)
    assert manifest["synthetic"] is True
    assert manifest["note"] == {
        "zh": "演示数据，系为合成，非真实警情",
        "en": "Synthetic demo data, not real incidents",
    }
    assert manifest["seed"] == 7
    assert manifest["scale"] == "small"
    assert manifest["now"] == "2026-11-25 23:59:59"
    for kind in KINDS:
        assert manifest["counts"][kind] == len(read_table(demo_small, kind)), kind
    licences = {s["what"]: s["licence"] for s in manifest["sources"]}
    assert licences["county boundary"] == "MIT"
    assert licences["township codes and names"] == "MIT"
    first, last = manifest["time_range"]["incidents"]
    inc = read_table(demo_small, "incidents")
    assert pd.Timestamp(first) == inc["time"].min()
    assert pd.Timestamp(last) == inc["time"].max()


# --- geography ---------------------------------------------------------------------------


def test_area_is_the_real_boundary(demo_small: Path):
    area = read_table(demo_small, "area")
    assert list(area["code"]) == ["511722"]
    assert list(area["name"]) == ["宣汉县"]
    assert area.geometry.iloc[0].equals(boundary())


@pytest.mark.parametrize("kind", ["communities", "incidents", "patrol_fixes", "response_units"])
def test_every_point_lies_inside_the_county(demo_small: Path, kind: str):
    frame = read_table(demo_small, kind, columns=["lng", "lat"])
    assert shapely.contains_xy(boundary(), frame["lng"].to_numpy(), frame["lat"].to_numpy()).all()


def test_one_precinct_per_township_named_after_its_station(demo_small: Path):
    precincts = read_table(demo_small, "precincts").set_index("precinct_id")
    assert sorted(precincts.index) == [code for code, _ in townships()]
    assert precincts.loc["511722001", "name"] == "东乡派出所"
    assert precincts.loc["511722002", "name"] == "蒲江派出所"
    assert precincts.loc["511722101", "name"] == "君塘派出所"  # 君塘镇
    assert precincts.loc["511722204", "name"] == "老君派出所"  # 老君乡
    assert precincts.loc["511722222", "name"] == "三墩派出所"  # 三墩土家族乡
    assert precincts["name"].is_unique


def test_precincts_tile_the_county(demo_small: Path):
    precincts = read_table(demo_small, "precincts")
    # Edges are straight in longitude/latitude, so tiling is checked on planar areas in
    # degrees (exact); sizes on an equal-area projection.
    assert _area_m2(precincts.geometry).min() > 1e6
    county = boundary().area
    union = shapely.union_all(precincts.geometry).area
    assert union == pytest.approx(county, rel=1e-9)
    # Overlaps would make the parts add up to more than their union.
    assert _planar(precincts.geometry).sum() == pytest.approx(union, rel=1e-9)


def test_urban_core_is_two_small_precincts_at_the_county_seat(demo_small: Path):
    precincts = read_table(demo_small, "precincts").set_index("precinct_id")
    dongxiang, pujiang = precincts.geometry["511722001"], precincts.geometry["511722002"]
    m2 = _area_m2(gpd.GeoSeries([dongxiang, pujiang], crs="EPSG:4326"))
    assert (m2 > 5e6).all() and (m2 < 60e6).all()
    rural = _area_m2(precincts.drop(["511722001", "511722002"]).geometry)
    assert rural.min() > 3 * m2.max()
    seat = shapely.Point(107.73, 31.35)
    assert shapely.union(dongxiang, pujiang).contains(seat)
    assert dongxiang.touches(pujiang) or dongxiang.intersection(pujiang).length > 0


def test_grids_lie_in_and_tile_their_precinct(demo_small: Path):
    precincts = read_table(demo_small, "precincts").set_index("precinct_id")
    grids = read_table(demo_small, "grids")
    assert grids["precinct_id"].isin(precincts.index).all()
    for pid, group in grids.groupby("precinct_id"):
        precinct = precincts.geometry[pid]
        # Planar areas in degrees, as for the precincts: rounding only, no real overlap.
        outside = _planar(group.geometry.difference(precinct))
        assert (outside < 1e-12 * precinct.area).all(), pid
        assert _planar(group.geometry).sum() == pytest.approx(precinct.area, rel=1e-9)
        for gid, name in zip(group["grid_id"], group["name"], strict=True):
            m = re.fullmatch(rf"{pid}-G(\d\d)", gid)
            assert m, gid
            assert re.fullmatch(rf".+第{int(m.group(1))}网格", name), name
    counts = grids.groupby("precinct_id").size()
    assert (
        counts.loc[["511722001", "511722002"]].min() > counts.drop(["511722001", "511722002"]).max()
    )


def test_population_is_dense_in_the_core_and_sums_to_a_county(demo_small: Path):
    grids = read_table(demo_small, "grids")
    population = read_table(demo_small, "population")
    assert 1_000_000 <= grids["population"].sum() <= 1_300_000
    urban = grids["precinct_id"].isin(["511722001", "511722002"])
    assert 250_000 <= grids.loc[urban, "population"].sum() <= 350_000
    density = grids["population"] / _area_m2(grids.geometry) * 1e6
    assert density[urban].median() > 20 * density[~urban].median()
    ratio = grids["population"] / grids["households"]
    assert ratio.between(2.5, 3.2).all()
    merged = population.merge(grids[["grid_id", "population"]], on="grid_id", validate="one_to_one")
    assert len(merged) == len(grids)
    assert (merged["residents"] == merged["population"]).all()
    assert grids["community_officer"].str.fullmatch(r"民警[甲乙丙丁戊己庚辛壬癸]\d\d").all()
    assert (grids["grid_workers"] >= 1).all()


# --- communities, incidents, patrols, response units ------------------------------------


def test_communities_mix_and_grid_membership(demo_small: Path):
    communities = read_table(demo_small, "communities")
    grids = read_table(demo_small, "grids")
    shares = communities["status"].value_counts(normalize=True)
    assert shares["certified"] == pytest.approx(0.45, abs=0.02)
    assert shares["in_progress"] == pytest.approx(0.30, abs=0.02)
    assert shares["not_started"] == pytest.approx(0.25, abs=0.02)
    assert set(communities["kind"]) == {"compound", "village", "unit"}
    certified = communities["status"] == "certified"
    assert communities.loc[certified, "certified_on"].notna().all()
    assert communities.loc[~certified, "certified_on"].isna().all()
    assert (communities["certified_on"].dropna() <= NOW).all()
    points = gpd.GeoDataFrame(
        communities[["community_id", "grid_id"]],
        geometry=gpd.points_from_xy(communities["lng"], communities["lat"]),
        crs="EPSG:4326",
    )
    joined = gpd.sjoin(points, grids[["grid_id", "geometry"]], predicate="intersects", how="left")
    ok = joined.groupby("community_id").apply(
        lambda g: (g["grid_id_left"] == g["grid_id_right"]).any()
    )
    assert ok.all()


def test_incident_categories_seasons_and_hours(demo_small: Path):
    inc = read_table(demo_small, "incidents")
    assert inc["time"].min() >= pd.Timestamp("2024-11-26")
    assert inc["time"].max() <= NOW
    shares = inc["category"].value_counts(normalize=True)
    assert set(shares.index[:2]) == {"dispute", "theft"}
    assert shares["telecom_fraud"] > 0.05
    assert shares.get("weapons_terror", 0) + shares.get("trafficking", 0) < 0.01
    month = inc["time"].dt.month
    violent = inc["category"].isin(["theft", "assault", "robbery"])
    summer = (violent & month.isin([6, 7, 8])).sum()
    winter = (violent & month.isin([12, 1, 2])).sum()
    assert summer > 1.1 * winter
    hour = inc["time"].dt.hour
    assault = inc["category"] == "assault"
    assert ((hour >= 20) | (hour < 2))[assault].mean() > 3 * ((hour >= 6) & (hour < 12))[
        assault
    ].mean()
    disputes = inc.loc[inc["category"] == "dispute", "time"].dt.normalize()
    festival = disputes.between("2025-01-22", "2025-02-05") | disputes.between(
        "2026-02-10", "2026-02-24"
    )
    assert festival.sum() / 30 > 1.3 * len(disputes) / 730
    assert inc["incident_id"].str.fullmatch(r"JQ\d{8}\d{4}").all()
    assert (inc["incident_id"].str[2:10] == inc["time"].dt.strftime("%Y%m%d")).all()


def test_hot_spots_are_where_the_manifest_says(demo_small: Path):
    inc = read_table(demo_small, "incidents")
    spots = {s["key"]: s for s in read_manifest(demo_small)["hot_spots"]}
    assert {"market_street", "bus_station", "night_life", "mining_town"} <= set(spots)
    emerging = [s for s in spots.values() if s["emerging"]]
    assert len(emerging) == 1
    # Persistent hot spots: far denser than the urban core's background.
    for spot in spots.values():
        near = _dist_m(inc["lng"], inc["lat"], spot["lng"], spot["lat"]) <= spot["radius_m"]
        assert near.sum() >= 10, spot["key"]
    e = emerging[0]
    since = pd.Timestamp(e["since"])
    assert NOW - since <= pd.Timedelta(days=92)
    near = _dist_m(inc["lng"], inc["lat"], e["lng"], e["lat"]) <= e["radius_m"]
    recent = near & (inc["time"] >= since)
    before = near & (inc["time"] >= since - (NOW - since)) & (inc["time"] < since)
    assert recent.sum() > 3 * max(before.sum(), 1)


def test_patrol_fixes_are_sorted_regular_and_plausible(demo_small: Path):
    fixes = read_table(demo_small, "patrol_fixes")
    assert set(fixes["unit_kind"]) == set(VOCABULARIES["unit_kind"])
    assert fixes["time"].max() <= NOW
    assert fixes["time"].min() >= NOW.normalize() - pd.Timedelta(days=1)  # small: 2 days
    order = fixes.sort_values(["unit_id", "time"], kind="stable").index
    assert (order == fixes.index).all()
    assert fixes.groupby("unit_id")["unit_kind"].nunique().max() == 1
    same = (fixes["unit_id"] == fixes["unit_id"].shift()).to_numpy()
    step = fixes["time"].diff().dt.total_seconds().to_numpy()
    expected = {
        "police_car": 10,
        "security_guard": 20,
        "foot_patrol": 30,
        "volunteer_patrol": 30,
        "red_armband": 30,
    }
    kinds = fixes["unit_kind"].to_numpy()
    for kind, seconds in expected.items():
        assert np.median(step[same & (kinds == kind)]) == seconds, kind
    # Speed over ten fixes (noise averages out): cars below 60 km/h, people on foot below 8.
    lng, lat = fixes["lng"].to_numpy(), fixes["lat"].to_numpy()
    same10 = (fixes["unit_id"] == fixes["unit_id"].shift(10)).to_numpy()
    dt10 = fixes["time"].diff(10).dt.total_seconds().to_numpy()
    d10 = np.full(len(fixes), np.nan)
    d10[10:] = _dist_m(lng[10:], lat[10:], lng[:-10], lat[:-10])
    ok = same10 & (dt10 <= 10 * 30)
    kmh = d10[ok] / dt10[ok] * 3.6
    k = kinds[ok]
    assert np.percentile(kmh[k == "police_car"], 99) < 60
    assert np.percentile(kmh[k == "police_car"], 75) > 10  # cars do move
    for kind in ("foot_patrol", "volunteer_patrol", "red_armband", "security_guard"):
        assert np.percentile(kmh[k == kind], 99) < 8, kind
    # Urban police cars cover the clock in shifts.
    urban_cars = fixes["unit_id"].str.match(r"JC-51172200[12]-")
    assert fixes.loc[urban_cars, "time"].dt.hour.nunique() == 24


def test_response_units(demo_small: Path):
    units = read_table(demo_small, "response_units")
    assert set(units["kind"]) == set(VOCABULARIES["response_unit_kind"])
    stations = units[units["kind"] == "police_station"]
    assert len(stations) == 36  # all townships but the remote one
    assert stations["name"].str.endswith("派出所").all()
    assert (units["staff"] > 0).all()


# --- planted gaps ------------------------------------------------------------------------


def _gaps(data: Path) -> dict[str, dict]:
    return {g["key"]: g for g in read_manifest(data)["planted_gaps"]}


def test_planted_gaps_are_listed(demo_small: Path):
    gaps = _gaps(demo_small)
    assert set(gaps) == {
        "night_unpatrolled_hotspot",
        "remote_township_unreached",
        "certified_cluster_contradicted",
    }
    for gap in gaps.values():
        assert gap["what"]["zh"] and gap["what"]["en"]
        assert -180 < gap["lng"] < 180 and shapely.contains_xy(boundary(), gap["lng"], gap["lat"])
        assert gap["precinct_id"] in {code for code, _ in townships()}


def test_night_hot_spot_gets_no_night_patrol(demo_small: Path):
    gap = _gaps(demo_small)["night_unpatrolled_hotspot"]
    fixes = read_table(demo_small, "patrol_fixes")
    inc = read_table(demo_small, "incidents")
    start, end = gap["hours"]
    fh, ih = fixes["time"].dt.hour, inc["time"].dt.hour
    near_f = _dist_m(fixes["lng"], fixes["lat"], gap["lng"], gap["lat"]) <= gap["radius_m"]
    assert not (near_f & ((fh >= start) | (fh < end))).any()
    assert (near_f & (fh >= end) & (fh < start)).sum() > 0  # it is patrolled by day
    near_i = _dist_m(inc["lng"], inc["lat"], gap["lng"], gap["lat"]) <= 200
    night_i = (near_i & ((ih >= start) | (ih < end))).sum()
    assert night_i >= 20
    assert night_i > 2 * (near_i & (ih >= end) & (ih < start)).sum()


def test_remote_township_is_beyond_five_minutes(demo_small: Path):
    gap = _gaps(demo_small)["remote_township_unreached"]
    units = read_table(demo_small, "response_units")
    precinct = (
        read_table(demo_small, "precincts").set_index("precinct_id").geometry[gap["precinct_id"]]
    )
    assert not shapely.contains_xy(precinct, units["lng"], units["lat"]).any()
    assert precinct.contains(shapely.Point(gap["lng"], gap["lat"]))
    nearest = _dist_m(units["lng"], units["lat"], gap["lng"], gap["lat"]).min()
    minutes = nearest * 1.4 / (40_000 / 60)
    assert minutes > 5
    communities = read_table(demo_small, "communities")
    assert communities["community_id"].str.startswith(gap["precinct_id"]).any()


def test_certified_cluster_is_contradicted_by_its_incidents(demo_small: Path):
    gap = _gaps(demo_small)["certified_cluster_contradicted"]
    communities = read_table(demo_small, "communities")
    inc = read_table(demo_small, "incidents")
    compounds = communities[
        (communities["kind"] == "compound") & (communities["status"] == "certified")
    ]
    in_cluster = compounds["community_id"].isin(gap["community_ids"])
    assert in_cluster.sum() == len(gap["community_ids"]) >= 5
    assert compounds.loc[in_cluster, "community_id"].str.startswith(gap["precinct_id"]).all()
    rates = []
    for _, c in compounds.iterrows():
        d = _dist_m(inc["lng"], inc["lat"], c["lng"], c["lat"])
        n = ((d <= 150) & (inc["time"] >= c["certified_on"])).sum()
        rates.append(n / c["households"] * 100)
    rates = np.array(rates)
    assert np.median(rates[in_cluster.to_numpy()]) > 3 * np.median(rates[~in_cluster.to_numpy()])
