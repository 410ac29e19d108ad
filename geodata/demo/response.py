"""Minimum emergency response units (最小应急处置单元) of the demo.

A police station at every precinct seat, patrol posts in the urban core and the busiest
towns, community units at large certified communities, enterprise units at work units.
Planted gap: the remote township :data:`~geodata.demo.hotspots.REMOTE_TOWNSHIP` gets no
unit at all (its station shares offices with a neighbour's), so its seat lies far beyond
the 5-minute professional reach of the "1-3-5" standard.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geodata.demo.area import Geography
from geodata.demo.communities import Communities
from geodata.demo.hotspots import REMOTE_TOWNSHIP, HotSpot, night_gap_spot
from geodata.demo.scale import COUNTY_SEAT
from geodata.demo.space import jitter_inside

REACH_SPEED_KMH = 40.0
"""Assumed road speed of a responding unit."""

REACH_DETOUR = 1.4
"""Road distance over straight-line distance in the county's hills."""

REACH_MINUTES = 5.0
"""Professional response within 5 minutes (the "5" of 1-3-5)."""


def reach_m() -> float:
    """Straight-line distance a unit covers in :data:`REACH_MINUTES` (about 2.4 km)."""
    return REACH_SPEED_KMH * 1000 / 60 * REACH_MINUTES / REACH_DETOUR


def build_response_units(
    geo: Geography,
    communities: Communities,
    spots: list[HotSpot],
    multiplier: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """About 150 × ``multiplier`` response units (police stations always all present).

    Parameters
    ----------
    geo, communities, spots
        What the units are placed by.
    multiplier
        Scale of the community and enterprise unit counts.
    rng
        Deterministic generator.

    Returns
    -------
    DataFrame
        Columns of the ``response_units`` schema, ordered by unit_id.
    """
    remote = geo.precinct_index(REMOTE_TOWNSHIP)
    rows: list[tuple[str, str, str, float, float, int]] = []
    for p, town in enumerate(geo.townships):
        if p == remote:
            continue
        staff = int(rng.integers(28, 46)) if town.urban else int(rng.integers(6, 16))
        rows.append((f"PS{p + 1:03d}", town.station, "police_station", *town.seat, staff))

    # Patrol posts: the core (away from the night-life block) and the three biggest towns.
    night = night_gap_spot(spots)
    posts: list[tuple[str, float, float]] = [
        (s.name_zh, s.lng, s.lat) for s in spots if s.key in ("market_street", "bus_station")
    ]
    posts.append(("县城中心", *COUNTY_SEAT))
    f = geo.frame
    for east, north, label in ((-1800, -600, "西城"), (300, -1900, "南门"), (-400, 2300, "北门")):
        posts.append((label, COUNTY_SEAT[0] + east / f.kx, COUNTY_SEAT[1] + north / f.ky))
    mining = next(s for s in spots if s.key == "mining_town")
    posts.append((mining.name_zh, mining.lng, mining.lat))
    town_pop = np.bincount(
        geo.grid_precinct, weights=geo.grid_population, minlength=len(geo.townships)
    )
    big = [
        p
        for p in np.argsort(-town_pop, kind="stable")
        if not geo.townships[p].urban
        and p != remote
        and geo.townships[p].code != mining.precinct_id
    ][:2]
    for p in big:
        t = geo.townships[p]
        posts.append((t.name, t.seat[0] + 600 / f.kx, t.seat[1] + 300 / f.ky))
    post_xy = np.array([(x, y) for _, x, y in posts])
    post_xy = jitter_inside(geo.safe, post_xy, 30.0, f, rng)
    for i, ((label, _, _), (x, y)) in enumerate(zip(posts, post_xy, strict=True), start=1):
        if f.distance(x, y, night.lng, night.lat) < 800:  # keep the planted night gap true
            raise RuntimeError(f"patrol post {label} too close to the night-life block")
        rows.append(
            (f"PP{i:03d}", f"{label}巡逻警务站", "patrol_post", x, y, int(rng.integers(3, 7)))
        )

    cf = communities.frame
    eligible = communities.precinct != remote
    hh = cf["households"].fillna(0).to_numpy(dtype=np.float64)
    comm = np.flatnonzero(
        eligible & (cf["status"] == "certified").to_numpy() & (cf["kind"] != "unit").to_numpy()
    )
    comm = comm[np.argsort(-hh[comm], kind="stable")][: round(80 * multiplier)]
    for i, r in enumerate(sorted(comm), start=1):
        row = cf.iloc[r]
        rows.append(
            (
                f"CU{i:03d}",
                f"{row['name']}应急处置单元",
                "community_unit",
                row["lng"],
                row["lat"],
                int(rng.integers(5, 13)),
            )
        )
    units = np.flatnonzero(eligible & (cf["kind"] == "unit").to_numpy())
    guards = cf["guards"].to_numpy()
    units = units[np.argsort(-guards[units], kind="stable")][: round(25 * multiplier)]
    for i, r in enumerate(sorted(units), start=1):
        row = cf.iloc[r]
        rows.append(
            (
                f"EU{i:03d}",
                f"{row['name']}内保应急单元",
                "enterprise_unit",
                row["lng"],
                row["lat"],
                int(rng.integers(4, 16)),
            )
        )
    frame = pd.DataFrame(rows, columns=["unit_id", "name", "kind", "lng", "lat", "staff"])
    frame = frame.sort_values("unit_id", kind="stable").reset_index(drop=True)
    frame["staff"] = frame["staff"].astype(np.int64)
    if not shapely.contains_xy(
        geo.boundary, frame["lng"].to_numpy(), frame["lat"].to_numpy()
    ).all():
        raise RuntimeError("a response unit lies outside the county")
    return frame


def nearest_unit_m(geo: Geography, units: pd.DataFrame, lng: float, lat: float) -> float:
    """Straight-line distance from a point to the nearest response unit, in metres."""
    d = geo.frame.distance(units["lng"].to_numpy(), units["lat"].to_numpy(), lng, lat)
    return float(d.min())
