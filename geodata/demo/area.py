"""The demo's area: township seats, precincts, grids and where people live.

Real: the county boundary and the 37 township codes and names (:mod:`geodata.xuanhan`).
Synthetic: everything else here. The real township seats are not available offline, so the
seats are placed deterministically — two urban precincts (东乡街道, 蒲江街道) side by side in
the urban core around the county seat, 35 rural seats spread over the rest of the county by
Lloyd relaxation — and precincts are the Voronoi cells of the seats, clipped to the county.
Grids are Voronoi cells inside each precinct, smaller where more people live.

People are a weighted point cloud: the urban core, a town around every rural seat, and a
thin rural scatter thinning out into the mountains away from the core. Grid populations
are sums over that cloud, and incidents and communities are drawn from it too, so all of
them agree on where people are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from geodata.demo.names import officer_name
from geodata.demo.scale import COUNTY_SEAT, POPULATION_TOTAL, URBAN_POPULATION, Scale
from geodata.demo.space import (
    Area,
    FloatArray,
    Frame,
    IntArray,
    jitter_inside,
    lloyd,
    point_in_cells,
    sample_in,
    voronoi_cells,
)
from geodata.xuanhan import boundary, townships

URBAN_CODES = ("511722001", "511722002")
"""东乡街道 and 蒲江街道: the two street offices sharing the urban core."""

PUGUANG = "511722103"
"""普光镇, next to the Puguang gas field."""

GAS_FIELD = (107.81, 31.55)
"""Where the demo puts the gas field and its mining town (synthetic, north of the core)."""

TUJIA_CODES = ("511722222", "511722223", "511722224", "511722225")
"""The four Tujia ethnic townships (土家族乡), on the eastern border in reality too."""

SAFE_MARGIN_M = 30.0
"""Distance kept from the county border by waypoints and routes, so that GPS noise (at
most 15 m) never carries a fix outside the county."""

# Point-cloud components.
URBAN, TOWN, RURAL = 0, 1, 2


@dataclass(frozen=True)
class Township:
    """A township with its (synthetic) seat and police station name."""

    code: str
    name: str
    seat: tuple[float, float]
    urban: bool

    @property
    def station(self) -> str:
        """Police-station name: the township name without its 街道/镇/乡 suffix + 派出所."""
        return f"{short_name(self.name)}派出所"


def short_name(name: str) -> str:
    """A township name without its administrative suffix (东乡街道 -> 东乡)."""
    for suffix in ("街道", "土家族乡", "镇", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class Cloud:
    """Where people live: weighted points (weights are residents)."""

    lng: FloatArray
    lat: FloatArray
    residents: FloatArray
    component: IntArray
    """URBAN, TOWN or RURAL."""
    precinct: IntArray
    """Index into :attr:`Geography.townships`."""
    grid: IntArray
    """Index into :attr:`Geography.grid_ids`."""


@dataclass(frozen=True)
class Geography:
    """Everything spatial the other demo modules build on."""

    frame: Frame
    boundary: MultiPolygon
    safe: Area
    """The county shrunk by :data:`SAFE_MARGIN_M`."""
    core: Area
    townships: list[Township]
    precincts: list[Area]
    grid_ids: list[str]
    grid_names: list[str]
    grid_precinct: IntArray
    grids: list[Area]
    grid_population: IntArray
    grid_households: IntArray
    grid_workers: IntArray
    grid_officer: list[str]
    cloud: Cloud

    def precinct_index(self, code: str) -> int:
        """Index of the township/precinct with ``code``."""
        return next(i for i, t in enumerate(self.townships) if t.code == code)


def _offset(frame: Frame, base: tuple[float, float], east_m: float, north_m: float) -> Point:
    return Point(base[0] + east_m / frame.kx, base[1] + north_m / frame.ky)


def _core(frame: Frame, county: MultiPolygon) -> tuple[Area, Area, Area]:
    """The urban core (an irregular disc of ~3 km radius) and its two halves."""
    theta = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    r = 3000.0 * (1 + 0.12 * np.sin(2 * theta + 0.5) + 0.08 * np.cos(3 * theta + 1.1))
    cx, cy = frame.to_xy(np.array([COUNTY_SEAT[0]]), np.array([COUNTY_SEAT[1]]))
    ring = Polygon(np.column_stack([cx[0] + r * np.cos(theta), cy[0] + r * np.sin(theta)]))
    core = shapely.intersection(frame.geom_to_lnglat(ring), county)
    # The core is split along a line running NNE-SSW through the county seat (the course
    # of the river in the demo): 东乡 on the west bank, 蒲江 on the east bank.
    angle = np.radians(65.0)
    dx, dy = np.cos(angle), np.sin(angle)
    nx, ny = dy, -dx  # normal pointing east-south-east
    big = 20_000.0
    p0 = (cx[0] - dx * big, cy[0] - dy * big)
    p1 = (cx[0] + dx * big, cy[0] + dy * big)
    east = Polygon(
        [p0, p1, (p1[0] + nx * big, p1[1] + ny * big), (p0[0] + nx * big, p0[1] + ny * big)]
    )
    east_ll = frame.geom_to_lnglat(east)
    return core, shapely.difference(core, east_ll), shapely.intersection(core, east_ll)


def _rural_weight(frame: Frame, lng: FloatArray, lat: FloatArray) -> FloatArray:
    """Relative rural density: highest near the core, thinning into the mountains."""
    d = frame.distance(lng, lat, COUNTY_SEAT[0], COUNTY_SEAT[1])
    return np.asarray(0.25 + np.exp(-d / 25_000.0), dtype=np.float64)


def _seats(
    frame: Frame, county: MultiPolygon, core: Area, rng: np.random.Generator
) -> list[Township]:
    """Seats of the 37 townships: two in the core, 35 spread by Lloyd relaxation.

    Which township gets which rural seat is synthetic but follows the real layout where it
    is known: 普光镇 by the gas field, the four Tujia townships on the eastern border, the
    other 乡 in the remote mountains, the 镇 nearer the county seat.
    """
    names = townships()
    rural_area = shapely.difference(
        county, frame.geom_to_lnglat(frame.geom_to_xy(core).buffer(2500))
    )
    candidates = sample_in(rural_area, 12_000, rng)
    weights = 1.0 + 2.0 * _rural_weight(frame, candidates[:, 0], candidates[:, 1])
    rural_codes = [c for c, _ in names if c not in URBAN_CODES]
    seats = lloyd(candidates, weights, len(rural_codes), frame, rng)
    free = list(range(len(seats)))
    chosen: dict[str, int] = {}

    def take(code: str, index: int) -> None:
        chosen[code] = index
        free.remove(index)

    gx, gy = GAS_FIELD
    take(PUGUANG, min(free, key=lambda i: frame.distance(seats[i, 0], seats[i, 1], gx, gy)))
    for code in TUJIA_CODES:
        take(code, max(free, key=lambda i: (seats[i, 0], i)))
    d_core = frame.distance(seats[:, 0], seats[:, 1], COUNTY_SEAT[0], COUNTY_SEAT[1])
    rest = [c for c in rural_codes if c not in chosen]
    name_of = dict(names)
    xiang = [c for c in rest if name_of[c].endswith("乡")]
    towns = [c for c in rest if c not in xiang]
    for code in xiang:  # the remaining 乡 take the seats farthest from the core
        take(code, max(free, key=lambda i: (d_core[i], i)))
    for code in towns:  # 镇 in code order, nearest first
        take(code, min(free, key=lambda i: (d_core[i], i)))
    out = []
    east_seat = _offset(frame, COUNTY_SEAT, 1000.0, -300.0)
    west_seat = _offset(frame, COUNTY_SEAT, -900.0, 200.0)
    for code, name in names:
        if code == URBAN_CODES[0]:
            seat = (west_seat.x, west_seat.y)
        elif code == URBAN_CODES[1]:
            seat = (east_seat.x, east_seat.y)
        else:
            seat = (float(seats[chosen[code], 0]), float(seats[chosen[code], 1]))
        out.append(Township(code, name, seat, code in URBAN_CODES))
    return out


def _cloud(
    frame: Frame,
    county: MultiPolygon,
    core: Area,
    towns: list[Township],
    size: int,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
    n_urban, n_town = size // 4, size // 4
    n_rural = size - n_urban - n_town
    cx, cy = COUNTY_SEAT
    # Urban core: dense in the centre, filling the whole core.
    centre = np.tile([cx, cy], (n_urban, 1))
    urban = jitter_inside(core, centre, 1400.0, frame, rng, tries=30)
    urban_w = np.full(n_urban, URBAN_POPULATION / n_urban)
    # Towns: a few thousand to ~30,000 residents around each rural seat.
    rural_towns = [t for t in towns if not t.urban]
    sizes = np.clip(rng.lognormal(np.log(9_000), 0.45, len(rural_towns)), 3_000, 22_000)
    sizes[[t.code for t in rural_towns].index(PUGUANG)] = 30_000
    per_town = n_town // len(rural_towns)
    seat_xy = np.repeat(np.array([t.seat for t in rural_towns]), per_town, axis=0)
    town = jitter_inside(county, seat_xy, 550.0, frame, rng)
    town_w = np.repeat(sizes / per_town, per_town)
    # Villages and scattered farmsteads over the rest of the county.
    rural_area = shapely.difference(county, core)
    rural = sample_in(rural_area, n_rural, rng)
    rw = _rural_weight(frame, rural[:, 0], rural[:, 1]) * rng.lognormal(0.0, 0.5, n_rural)
    rural_total = POPULATION_TOTAL - URBAN_POPULATION - float(sizes.sum())
    rural_w = rw / rw.sum() * rural_total
    pts = np.concatenate([urban, town, rural])
    w = np.concatenate([urban_w, town_w, rural_w])
    comp = np.concatenate(
        [np.full(len(urban), URBAN), np.full(len(town), TOWN), np.full(n_rural, RURAL)]
    ).astype(np.int64)
    return pts[:, 0], pts[:, 1], w, comp


def _grid_seeds(
    frame: Frame,
    precinct: Area,
    k: int,
    cloud_pts: FloatArray,
    cloud_w: FloatArray,
    rng: np.random.Generator,
) -> FloatArray:
    uniform = sample_in(precinct, 1500, rng)
    cand = np.concatenate([uniform, cloud_pts])
    w = np.concatenate([np.full(len(uniform), 1.0 / len(uniform)), cloud_w / cloud_w.sum()])
    seeds = lloyd(cand, w, k, frame, rng, iterations=15)
    _, first = np.unique(seeds, axis=0, return_index=True)
    if len(first) < k:  # two centres snapped to one candidate: replace the duplicates
        keep = seeds[np.sort(first)]
        extra = uniform[rng.choice(len(uniform), k - len(keep), replace=False)]
        seeds = np.concatenate([keep, extra])
    return seeds


def build_geography(scale: Scale, rng: np.random.Generator) -> Geography:
    """Seats, precincts, grids and the population cloud for one seed and scale.

    Parameters
    ----------
    scale
        How many grids and how large a population cloud.
    rng
        The generator everything is drawn from (deterministic for a seed).

    Returns
    -------
    Geography
        Precincts in township-code order; grids numbered outward from each seat.
    """
    county = boundary()
    frame = Frame(107.96, 31.46)
    safe = frame.geom_to_lnglat(frame.geom_to_xy(county).buffer(-SAFE_MARGIN_M))
    core, west, east = _core(frame, county)
    towns = _seats(frame, county, core, rng)
    rural_idx = [i for i, t in enumerate(towns) if not t.urban]
    rural_seats = np.array([towns[i].seat for i in rural_idx])
    rural_cells = voronoi_cells(shapely.difference(county, core), rural_seats, frame)
    precincts: list[Area] = [Polygon()] * len(towns)
    for i, cell in zip(rural_idx, rural_cells, strict=True):
        precincts[i] = cell
    precincts[0], precincts[1] = west, east

    lng, lat, residents, comp = _cloud(frame, county, core, towns, scale.population_points, rng)
    cloud_precinct = point_in_cells(lng, lat, precincts)
    pop_by_precinct = np.bincount(cloud_precinct, weights=residents, minlength=len(towns))
    lo, hi = scale.rural_grids
    rank = pop_by_precinct.argsort().argsort() / (len(towns) - 1)

    grid_ids: list[str] = []
    grid_names: list[str] = []
    grid_precinct: list[int] = []
    grids: list[Area] = []
    for p, (town, area) in enumerate(zip(towns, precincts, strict=True)):
        k = scale.urban_grids if town.urban else round(lo + (hi - lo) * rank[p])
        mine = cloud_precinct == p
        seeds = _grid_seeds(
            frame, area, k, np.column_stack([lng[mine], lat[mine]]), residents[mine], rng
        )
        cells = voronoi_cells(area, seeds, frame)
        d = frame.distance(seeds[:, 0], seeds[:, 1], town.seat[0], town.seat[1])
        for j, c in enumerate(np.argsort(d, kind="stable"), start=1):
            grid_ids.append(f"{town.code}-G{j:02d}")
            grid_names.append(f"{town.name}第{j}网格")
            grid_precinct.append(p)
            grids.append(cells[c])
    gp = np.array(grid_precinct, dtype=np.int64)
    cloud_grid = point_in_cells(lng, lat, grids)
    population = np.rint(np.bincount(cloud_grid, weights=residents, minlength=len(grids)))
    population = np.maximum(population, rng.integers(40, 160, len(grids))).astype(np.int64)
    households = np.rint(population / 2.8 * rng.uniform(0.95, 1.05, len(grids))).astype(np.int64)
    urban_grid = np.array([towns[p].urban for p in gp])
    workers = np.where(
        urban_grid,
        np.clip(np.rint(households / 350), 2, 6),
        np.clip(np.rint(households / 600), 1, 3),
    ).astype(np.int64)
    officers: list[str] = []
    n_officer = 0
    for p, town in enumerate(towns):
        idx = np.flatnonzero(gp == p)
        per = 2 if town.urban else 3
        names = []
        for _ in range(-(-len(idx) // per)):
            names.append(officer_name(n_officer))
            n_officer += 1
        officers.extend(names[j // per] for j in range(len(idx)))
    cloud = Cloud(lng, lat, residents, comp, cloud_precinct, cloud_grid)
    return Geography(
        frame=frame,
        boundary=county,
        safe=safe,
        core=core,
        townships=towns,
        precincts=precincts,
        grid_ids=grid_ids,
        grid_names=grid_names,
        grid_precinct=gp,
        grids=grids,
        grid_population=population,
        grid_households=households,
        grid_workers=workers,
        grid_officer=officers,
        cloud=cloud,
    )
