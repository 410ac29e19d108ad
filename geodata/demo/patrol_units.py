"""Patrol units of the demo: who patrols, from where, when, and along which loops.

Units: police cars (one per rural precinct, three per urban precinct covering the clock in
8-hour shifts), foot patrols in the core and the biggest towns, volunteer patrol teams and
red armbands at their communities, security guards doing rounds at work units. Each unit
has a few closed loops of straight segments between waypoints (its base, communities, hot
spots) that keep 30 m inside the county, travelled at plausible speeds with a stop at every
waypoint; :mod:`geodata.demo.patrols` turns them into GPS fixes.

Planted gap: from 20:00 to 06:00 every unit uses night variants of its loops that keep at
least :data:`~geodata.demo.hotspots.NIGHT_GAP_RADIUS_M` (+ the GPS noise margin) away from
the night-life block, so no fix comes near it at night while its incidents peak then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely

from geodata.demo.area import Geography
from geodata.demo.communities import Communities
from geodata.demo.hotspots import (
    NIGHT_GAP_RADIUS_M,
    REMOTE_TOWNSHIP,
    HotSpot,
    night_gap_spot,
)
from geodata.demo.space import FloatArray, IntArray

# Speed on a segment (km/h; a car averages ~30 km/h with its stops, people on foot ~4) and
# time spent at each waypoint (s), drawn uniformly from these ranges.
_SPEED_KMH = {
    "police_car": (22.0, 45.0),
    "foot_patrol": (3.5, 5.0),
    "volunteer_patrol": (3.0, 4.5),
    "red_armband": (2.5, 4.0),
    "security_guard": (3.0, 5.0),
}
_DWELL_S = {
    "police_car": (60.0, 720.0),
    "foot_patrol": (120.0, 900.0),  # Koper-style stops of up to 15 min at hot spots
    "volunteer_patrol": (60.0, 300.0),
    "red_armband": (180.0, 900.0),
    "security_guard": (30.0, 180.0),
}
_PREFIX = {
    "police_car": "JC",
    "foot_patrol": "BX",
    "volunteer_patrol": "YW",
    "red_armband": "HX",
    "security_guard": "BA",
}

GPS_SIGMA_M = 5.0
"""Standard deviation of the GPS noise; it is cut at 3 sigma (15 m)."""

_NIGHT_CLEARANCE_M = NIGHT_GAP_RADIUS_M + 3 * GPS_SIGMA_M + 5.0
_LOOPS = 3
"""Day loops per unit (and as many night loops), chosen at random per session."""

# A day's sessions: (start, end) in seconds after midnight; may run past 24:00.
Schedule = Callable[[np.random.Generator], list[tuple[float, float]]]


@dataclass
class Unit:
    """A patrol unit: where it starts, where it may go, when it is out."""

    unit_id: str
    kind: str
    base: tuple[float, float]
    pool: FloatArray
    """Candidate waypoints (longitude, latitude)."""
    schedule: Schedule
    stops: int
    """Waypoints per loop."""
    loops: list[tuple[FloatArray, FloatArray, FloatArray]] = field(default_factory=list)
    """(knot times, x, y) of the day loops, then of the night loops."""
    night_loops: int = 0


def _h(hours: float) -> float:
    return hours * 3600.0


def _shift(k: int) -> Schedule:
    return lambda rng: [(_h(8 * k), _h(8 * k + 8))]


def _rural_car(rng: np.random.Generator) -> list[tuple[float, float]]:
    out = []
    for p, (a, b), (d0, d1) in (
        (0.6, (8.5, 10.5), (40, 80)),
        (0.45, (14.5, 16.5), (40, 80)),
        (0.3, (19.5, 21.5), (30, 60)),
    ):
        if rng.random() < p:
            start = _h(rng.uniform(a, b))
            out.append((start, start + rng.uniform(d0, d1) * 60))
    return out


def _windows(
    *windows: tuple[float, float], p: float = 1.0, each: float = 1.0, jitter_min: float = 10.0
) -> Schedule:
    def schedule(rng: np.random.Generator) -> list[tuple[float, float]]:
        if rng.random() >= p:
            return []
        out = []
        for a, b in windows:
            if rng.random() < each:
                j = rng.uniform(-jitter_min, jitter_min) * 60
                out.append((_h(a) + j, _h(b) + j))
        return out

    return schedule


def _rounds(every_h: float, minutes: tuple[float, float], phase_h: float) -> Schedule:
    def schedule(rng: np.random.Generator) -> list[tuple[float, float]]:
        out = []
        t = _h(phase_h)
        while t < _h(24):
            out.append((t, t + rng.uniform(*minutes) * 60))
            t += _h(every_h)
        return out

    return schedule


def _near(
    points: FloatArray, lng: float, lat: float, radius_m: float, geo: Geography
) -> FloatArray:
    d = geo.frame.distance(points[:, 0], points[:, 1], lng, lat)
    return points[(d <= radius_m) & (d > 1.0)]


def _ring(
    geo: Geography,
    base: tuple[float, float],
    n: int,
    r: tuple[float, float],
    rng: np.random.Generator,
) -> FloatArray:
    ang = rng.uniform(0, 2 * np.pi, 4 * n)
    rad = rng.uniform(*r, 4 * n)
    lng = base[0] + rad * np.cos(ang) / geo.frame.kx
    lat = base[1] + rad * np.sin(ang) / geo.frame.ky
    ok = shapely.contains_xy(geo.safe, lng, lat)
    return np.column_stack([lng[ok], lat[ok]])[:n]


def plan_units(
    geo: Geography,
    communities: Communities,
    spots: list[HotSpot],
    multiplier: float,
    rng: np.random.Generator,
) -> list[Unit]:
    """The patrol units of the demo, sorted by unit_id.

    Parameters
    ----------
    geo, communities, spots
        Where units are based and go.
    multiplier
        Scale of the number of mass-prevention units (volunteers, red armbands, guards).
    rng
        Deterministic generator.

    Returns
    -------
    list of Unit
        Without loops yet (see :func:`build_loops`).
    """
    cf = communities.frame
    pts = communities.lnglat
    kind = cf["kind"].to_numpy()
    status = cf["status"].to_numpy()
    counters: dict[str, int] = {}
    units: list[Unit] = []

    def add(
        kind_: str,
        p: int,
        base: tuple[float, float],
        pool: FloatArray,
        schedule: Schedule,
        stops: int,
    ) -> None:
        code = geo.townships[p].code
        key = f"{_PREFIX[kind_]}-{code}"
        counters[key] = counters.get(key, 0) + 1
        units.append(Unit(f"{key}-{counters[key]:02d}", kind_, base, pool, schedule, stops))

    spot_pts = {s.key: np.array([[s.lng, s.lat]]) for s in spots}
    remote = geo.precinct_index(REMOTE_TOWNSHIP)
    seats = np.array([t.seat for t in geo.townships])
    for p, town in enumerate(geo.townships):
        mine = pts[(communities.precinct == p)]
        local_spots = [
            spot_pts[s.key] for s in spots if s.precinct_id == town.code and s.start is None
        ]
        pool = np.concatenate([mine, *local_spots, np.array([town.seat])])
        if town.urban:
            for k in (1, 2, 0):  # day, evening and night shifts
                add("police_car", p, town.seat, pool, _shift(k), 10)
            hubs = [town.seat] + [
                (s.lng, s.lat) for s in spots if s.precinct_id == town.code and s.start is None
            ]
            teams = (
                _windows((9.0, 11.5)),
                _windows((15.0, 17.5)),
                _windows((19.0, 21.5)),
                _windows((10.0, 12.0), (16.0, 18.0)),
            )
            for j, schedule in enumerate(teams):
                hub = hubs[j % len(hubs)]
                near = np.concatenate([_near(pool, *hub, 1200.0, geo), np.array([hub])])
                add("foot_patrol", p, hub, near, schedule, 6)
        elif p == remote:
            # The remote township is patrolled from its neighbour's seat (shared offices).
            d = geo.frame.distance(seats[:, 0], seats[:, 1], *town.seat)
            d[remote] = np.inf
            d[[i for i, t in enumerate(geo.townships) if t.urban]] = np.inf
            home = int(d.argmin())
            both = np.concatenate([pool, pts[communities.precinct == home]])
            add("police_car", p, geo.townships[home].seat, both, _rural_car, 6)
        else:
            add("police_car", p, town.seat, pool, _rural_car, 6)
    pop = np.bincount(geo.grid_precinct, weights=geo.grid_population, minlength=len(geo.townships))
    towns = [
        p for p in np.argsort(-pop, kind="stable") if not geo.townships[p].urban and p != remote
    ][:6]
    for p in sorted(towns):
        seat = geo.townships[p].seat
        near = np.concatenate([_near(pts, seat[0], seat[1], 1500.0, geo), np.array([seat])])
        add("foot_patrol", p, seat, near, _windows((9.5, 11.5), (16.0, 17.5)), 5)

    def pick(mask: np.ndarray, n: int) -> IntArray:
        idx = np.flatnonzero(mask)
        return np.sort(rng.choice(idx, size=min(n, len(idx)), replace=False))

    volunteers = cf["volunteers"].to_numpy()
    for i in pick(
        (status != "not_started") & (kind != "unit") & (volunteers >= 10), round(40 * multiplier)
    ):
        base = (float(pts[i, 0]), float(pts[i, 1]))
        pool = np.concatenate(
            [_ring(geo, base, 3, (100.0, 400.0), rng), _near(pts, *base, 800.0, geo)]
        )
        evening = rng.random() < 0.5
        window = (19.0, 20.5) if evening else (8.5, 10.0)
        add(
            "volunteer_patrol",
            int(communities.precinct[i]),
            base,
            pool,
            _windows(window, p=0.72, jitter_min=15),
            4,
        )
    for i in pick((kind != "village") & (status == "certified"), round(40 * multiplier)):
        base = (float(pts[i, 0]), float(pts[i, 1]))
        pool = _ring(geo, base, 3, (60.0, 200.0), rng)
        add(
            "red_armband",
            int(communities.precinct[i]),
            base,
            pool,
            _windows((9.0, 11.0), (15.0, 17.0), p=0.7, each=0.6, jitter_min=15),
            3,
        )
    big = (kind == "unit") | (cf["households"].fillna(0).to_numpy() > 800)
    for i in pick(big, round(15 * multiplier)):
        base = (float(pts[i, 0]), float(pts[i, 1]))
        pool = _ring(geo, base, 4, (60.0, 150.0), rng)
        add(
            "security_guard",
            int(communities.precinct[i]),
            base,
            pool,
            _rounds(3.0, (15.0, 25.0), rng.uniform(0, 3)),
            4,
        )
    units.sort(key=lambda u: u.unit_id)
    return units


def _segments_ok(geo: Geography, path: FloatArray, night: tuple[float, float] | None) -> np.ndarray:
    """Which closing-loop segments of ``path`` keep inside the county (and off the night spot)."""
    a, b = path, np.roll(path, -1, axis=0)
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    ok = shapely.contains(geo.safe, lines) | (np.abs(a - b).sum(axis=1) == 0)
    if night is not None:
        ax, ay = geo.frame.to_xy(a[:, 0], a[:, 1])
        bx, by = geo.frame.to_xy(b[:, 0], b[:, 1])
        px, py = geo.frame.to_xy(np.array(night[0]), np.array(night[1]))
        dx, dy = bx - ax, by - ay
        length2 = np.maximum(dx * dx + dy * dy, 1e-9)
        s = np.clip(((px - ax) * dx + (py - ay) * dy) / length2, 0.0, 1.0)
        ok &= np.hypot(ax + s * dx - px, ay + s * dy - py) >= _NIGHT_CLEARANCE_M
    return np.asarray(ok)


def _loop(
    geo: Geography, unit: Unit, night: tuple[float, float] | None, rng: np.random.Generator
) -> FloatArray | None:
    """A closed tour from the base through a few waypoints; None if the base is off limits."""
    base = np.array([unit.base])
    if not _segments_ok(geo, base, night)[0]:
        return None
    pool = unit.pool
    if len(pool):
        pool = pool[rng.choice(len(pool), size=min(unit.stops, len(pool)), replace=False)]
    # Nearest-neighbour tour from the base.
    tour = [base[0]]
    rest = list(range(len(pool)))
    while rest:
        last = tour[-1]
        d = geo.frame.distance(pool[rest, 0], pool[rest, 1], last[0], last[1])
        tour.append(pool[rest.pop(int(d.argmin()))])
    path = np.array(tour)
    while len(path) > 1:
        ok = _segments_ok(geo, path, night)
        if ok.all():
            break
        j = int(np.flatnonzero(~ok)[0])
        drop = j + 1 if j + 1 < len(path) else j  # never drop the base (index 0)
        path = np.delete(path, drop, axis=0)
    return path


def _knots(
    geo: Geography, unit: Unit, path: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Time knots of one period of the loop: dwell at each waypoint, then travel to the next."""
    x, y = geo.frame.to_xy(path[:, 0], path[:, 1])
    closed_x, closed_y = np.append(x, x[0]), np.append(y, y[0])
    n = len(x)
    dwell = rng.uniform(*_DWELL_S[unit.kind], n)
    speed = rng.uniform(*_SPEED_KMH[unit.kind], n) / 3.6
    travel = np.maximum(np.hypot(np.diff(closed_x), np.diff(closed_y)) / speed, 1.0)
    t = np.zeros(2 * n + 1)
    t[1::2] = dwell
    t[2::2] = travel
    kt = np.cumsum(t)
    kx = np.empty(2 * n + 1)
    ky = np.empty(2 * n + 1)
    kx[0:-1:2], kx[1::2], kx[-1] = x, x, x[0]
    ky[0:-1:2], ky[1::2], ky[-1] = y, y, y[0]
    return kt, kx, ky


def build_loops(
    geo: Geography, units: list[Unit], spots: list[HotSpot], rng: np.random.Generator
) -> None:
    """Give every unit its day loops and, where possible, night loops avoiding the gap."""
    spot = night_gap_spot(spots)
    for unit in units:
        for night in (None, (spot.lng, spot.lat)):
            for _ in range(_LOOPS):
                path = _loop(geo, unit, night, rng)
                if path is None:
                    break
                unit.loops.append(_knots(geo, unit, path, rng))
                unit.night_loops += night is not None
