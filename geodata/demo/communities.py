"""Communities of the safe-community programme (平安小区/村社/单位) for the demo.

Compounds (小区) stand where the urban core and the towns are dense, villages (村社) spread
over the countryside, work units (单位) sit in the core and the towns (and at the gas
field near 普光). The status mix is fixed (45 % certified, 30 % in progress, 25 % not
started), with certification likelier in the core. A cluster of certified compounds in
南坝镇 is planted whose incidents (see :mod:`geodata.demo.incidents`) contradict its title.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geodata.demo.area import PUGUANG, RURAL, Geography, short_name
from geodata.demo.hotspots import CLUSTER_TOWNSHIP
from geodata.demo.names import compound_names, unit_names, village_names
from geodata.demo.space import FloatArray, IntArray, jitter_inside, point_in_cells

STATUS_SHARES = (("certified", 0.45), ("in_progress", 0.30), ("not_started", 0.25))
CLUSTER_SIZE = 7
"""Certified compounds in the contradicted cluster."""

_FIRST_CERTIFICATION = np.datetime64("2019-03-01", "D")
_LAST_CERTIFICATION = np.datetime64("2026-09-30", "D")
_CLUSTER_CERTIFIED = (np.datetime64("2024-10-01", "D"), np.datetime64("2025-03-20", "D"))


@dataclass(frozen=True)
class Communities:
    """The communities table and what other demo modules need to know about it."""

    frame: pd.DataFrame
    precinct: IntArray
    """Index into :attr:`Geography.townships` of each row."""
    urban: np.ndarray
    """Whether each row lies in the urban core."""
    cluster: list[str]
    """community_id of the planted contradicted cluster."""

    @property
    def lnglat(self) -> FloatArray:
        """``(n, 2)`` array of longitude, latitude."""
        return self.frame[["lng", "lat"]].to_numpy(dtype=np.float64)


def _spread(
    cand: FloatArray,
    weight: FloatArray,
    n: int,
    min_m: float,
    geo: Geography,
    rng: np.random.Generator,
) -> FloatArray:
    """Up to ``n`` candidates drawn by weight, at least ``min_m`` apart (greedy)."""
    if len(cand) == 0 or n == 0:
        return np.empty((0, 2))
    order = rng.choice(len(cand), size=len(cand), replace=False, p=weight / weight.sum())
    chosen: list[int] = []
    for i in order:
        if chosen:
            d = geo.frame.distance(cand[chosen, 0], cand[chosen, 1], cand[i, 0], cand[i, 1])
            if d.min() < min_m:
                continue
        chosen.append(int(i))
        if len(chosen) == n:
            break
    return cand[chosen]


def build_communities(geo: Geography, multiplier: float, rng: np.random.Generator) -> Communities:
    """Place, name and describe ~1,500 × ``multiplier`` communities.

    Parameters
    ----------
    geo
        The demo geography.
    multiplier
        Scale of the counts (1.0 for the county scale).
    rng
        Deterministic generator.

    Returns
    -------
    Communities
        Rows ordered by precinct, then compounds, units, villages.
    """
    cloud = geo.cloud
    in_safe = shapely.contains_xy(geo.safe, cloud.lng, cloud.lat)
    rows: list[dict[str, object]] = []
    precinct_of: list[int] = []
    town_pop = np.bincount(
        cloud.precinct[cloud.component != RURAL],
        weights=cloud.residents[cloud.component != RURAL],
        minlength=len(geo.townships),
    )
    for p, town in enumerate(geo.townships):
        dense = in_safe & (cloud.precinct == p) & (cloud.component != RURAL)
        sparse = in_safe & (cloud.precinct == p) & (cloud.component == RURAL)
        if town.urban:
            n_comp, n_unit, n_vil = 120, 55, 0
        else:
            n_comp = round(2 + town_pop[p] / 1500)
            n_unit = round(3 + town_pop[p] / 3000)
            n_vil = round(12 + 10 * rng.random())
        n_comp, n_unit, n_vil = (
            max(1, round(k * multiplier)) if k else 0 for k in (n_comp, n_unit, n_vil)
        )
        if town.code == CLUSTER_TOWNSHIP:  # the planted cluster needs its compounds
            n_comp = max(n_comp, CLUSTER_SIZE + 2)
        cand = np.column_stack([cloud.lng[dense], cloud.lat[dense]])
        w = cloud.residents[dense]
        pick = rng.choice(len(cand), size=n_comp + n_unit, replace=True, p=w / w.sum())
        dense_pts = jitter_inside(geo.safe, cand[pick], 40.0, geo.frame, rng)
        sv = np.column_stack([cloud.lng[sparse], cloud.lat[sparse]])
        vil_pts = _spread(sv, cloud.residents[sparse], n_vil, 900.0, geo, rng)
        label = None if town.urban else short_name(town.name)
        names = (
            compound_names(n_comp, label, rng)
            + unit_names(n_unit, label, rng, gas_field=4 if town.code == PUGUANG else 0)
            + village_names(len(vil_pts), rng)
        )
        kinds = ["compound"] * n_comp + ["unit"] * n_unit + ["village"] * len(vil_pts)
        pts = np.concatenate([dense_pts, vil_pts])
        for j, (kind_, name, (lng, lat)) in enumerate(zip(kinds, names, pts, strict=True), start=1):
            rows.append(
                {
                    "community_id": f"{town.code}-C{j:03d}",
                    "name": name,
                    "kind": kind_,
                    "lng": lng,
                    "lat": lat,
                }
            )
            precinct_of.append(p)
    frame = pd.DataFrame(rows)
    precinct = np.array(precinct_of, dtype=np.int64)
    n = len(frame)
    kind = frame["kind"].to_numpy()
    urban = np.array([geo.townships[p].urban for p in precinct])
    frame["grid_id"] = np.array(geo.grid_ids, dtype=object)[
        point_in_cells(frame["lng"].to_numpy(), frame["lat"].to_numpy(), geo.grids)
    ]

    # Planted: the compounds nearest to 南坝镇's seat are certified and stay so.
    cp = geo.precinct_index(CLUSTER_TOWNSHIP)
    seat = geo.townships[cp].seat
    cand = np.flatnonzero((precinct == cp) & (kind == "compound"))
    d = geo.frame.distance(frame["lng"].to_numpy()[cand], frame["lat"].to_numpy()[cand], *seat)
    cluster_rows = cand[np.argsort(d, kind="stable")[:CLUSTER_SIZE]]

    # Status: exact shares, certification likelier in the core and for compounds.
    bias = np.select([kind == "compound", kind == "unit"], [0.5, 0.2], 0.0) + 0.6 * urban
    score = bias + rng.normal(0.0, 0.7, n)
    score[cluster_rows] = np.inf
    order = np.argsort(-score, kind="stable")
    status = np.empty(n, dtype=object)
    start = 0
    for name, share in STATUS_SHARES:
        stop = n if name == STATUS_SHARES[-1][0] else start + round(share * n)
        status[order[start:stop]] = name
        start = stop
    frame["status"] = status
    certified = status == "certified"
    span = int((_LAST_CERTIFICATION - _FIRST_CERTIFICATION).astype(int))
    days = _FIRST_CERTIFICATION + rng.integers(0, span + 1, n).astype("timedelta64[D]")
    lo, hi = _CLUSTER_CERTIFIED
    days[cluster_rows] = lo + rng.integers(
        0, int((hi - lo).astype(int)) + 1, len(cluster_rows)
    ).astype("timedelta64[D]")
    frame["certified_on"] = pd.Series(days.astype("datetime64[us]")).where(certified)

    hh = np.select(
        [(kind == "compound") & urban, kind == "compound", kind == "village"],
        [
            np.clip(rng.lognormal(np.log(600), 0.5, n), 120, 2500),
            np.clip(rng.lognormal(np.log(250), 0.5, n), 60, 900),
            np.clip(rng.lognormal(np.log(480), 0.35, n), 200, 1100),
        ],
        0.0,
    )
    hh[cluster_rows] = rng.integers(150, 320, len(cluster_rows))
    frame["households"] = pd.array(np.rint(hh).astype(np.int64), dtype="Int64")
    frame.loc[kind == "unit", "households"] = pd.NA
    lift = np.where(certified, 1.5, 1.0)
    cameras = np.select(
        [kind == "compound", kind == "village"],
        [hh / 30 * rng.uniform(0.6, 1.4, n), rng.uniform(3, 20, n)],
        rng.uniform(8, 50, n),
    )
    guards = np.select(
        [kind == "compound", kind == "village"],
        [2 + hh / 250 * rng.uniform(0.5, 1.5, n), rng.integers(0, 4, n)],
        rng.uniform(2, 18, n),
    )
    volunteers = np.select(
        [kind == "compound", kind == "village"],
        [rng.uniform(5, 35, n), rng.uniform(10, 55, n)],
        rng.uniform(2, 12, n),
    )
    frame["cameras"] = np.rint(cameras * lift).astype(np.int64)
    frame["guards"] = np.rint(guards).astype(np.int64)
    frame["volunteers"] = np.rint(volunteers * lift).astype(np.int64)
    cluster = frame["community_id"].to_numpy()[cluster_rows].tolist()
    return Communities(frame, precinct, urban, sorted(cluster))
