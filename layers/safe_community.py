"""Safe-community status (平安小区/村社/单位 创建): status, certified households, zero-incident
communities, and certified titles the incident data contradicts.

Three frames: per community (:func:`community_status`), per H3 cell (:func:`cell_status`)
and per grid (:func:`grid_status`); the cell and grid frames summarise the community
frame, so the rules below are applied once.

Which incidents belong to a community
--------------------------------------
Incidents come from the incident cube (``cell`` at the base resolution 11, ``hour``,
``category``, ``count``), not from raw points: the cube is what the dashboard reads. An
incident belongs to a community when the incident and the community's point lie in the
same cell at ``match_res`` (default 9: a hexagon of ≈0.1 km², edge ≈174 m — the size of
a compound or a village centre): the cube's exact res-``match_res`` cell of the incident
(``cell_<res>``) and the community's point indexed at ``match_res`` directly, never a
parent of a finer cell (H3 is not nested). Consequences to keep in mind: communities that
share a match cell share its incidents (``cell_communities`` says how many share it), and
an incident just across the hexagon's edge is not counted; a finer ``match_res`` (10)
suits dense towns, a coarser one (8) spread-out villages.

When a title is at risk
-----------------------
A *certified* community is "title at risk" when the data contradicts the title:

- its incident rate in the window exceeds ``cap`` incidents per 100 households per
  ``per_days`` days (default 3 per 100 households per 30 days — in the demo county about
  three times the average rate; "exceeds" is strictly more than the cap), or
- any incident in the window falls in a veto category (一票否决). Default veto
  categories: ``weapons_terror`` (涉枪涉爆涉恐), ``gang_crime`` (涉黑涉恶) and
  ``trafficking`` (拐卖及跨境犯罪) — the serious crimes that safe-community creation rules
  commonly treat as disqualifying whatever the count. Configurable.

A community with no (or zero) households has no rate; only a veto can put it at risk,
and its reason line says the rate is unknown.

The window is the whole window given, also for a community certified inside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.cubes.tables import cells_at, lineage
from geodata.hexes import cells_res, cells_to_parent, lnglat_to_cells
from geodata.schema import COMMUNITY_STATUSES, INCIDENT_CATEGORIES, Label
from layers.arrays import unique_sorted
from layers.grids import points_to_zones

BASE_RES = 11
"""Resolution of the incident cube's cells (geodata.cubes.BASE_RES), assumed when the cube
given has no rows in the window."""

DEFAULT_MATCH_RES = 9
DEFAULT_CAP = 3.0
"""Incidents per 100 households per ``per_days`` days above which a title is at risk."""
DEFAULT_PER_DAYS = 30.0
DEFAULT_VETO_CATEGORIES: tuple[str, ...] = ("gang_crime", "trafficking", "weapons_terror")

STATUSES: tuple[str, ...] = ("certified", "in_progress", "not_started")

COMMUNITY_CLASSES: Mapping[int, Label] = MappingProxyType(
    {
        0: Label("已创建", "Certified"),
        1: Label("已创建·称号存疑", "Certified, title at risk"),
        2: Label("创建中", "In progress"),
        3: Label("未启动", "Not started"),
    }
)
"""Qualitative classes of the community frame's ``class`` column."""

SHARE_BINS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
"""Class upper bounds for the certified-household share of a cell or grid (class 0 = none)."""


def _num(x: float) -> str:
    """A short number for a sentence: 3.0 -> "3", 3.5 -> "3.5", 4.6667 -> "4.67".

    Two decimals, so that a rate just above the cap does not read as equal to it.
    """
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _window(
    start: pd.Timestamp | str, end: pd.Timestamp | str
) -> tuple[pd.Timestamp, pd.Timestamp, float]:
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    days = (t1 - t0) / pd.Timedelta(days=1)
    if not days > 0:
        raise ValueError(f"the window must end after it starts: {t0} .. {t1}")
    return t0, t1, float(days)


def _incident_cells(
    incidents: pd.DataFrame, t0: pd.Timestamp, t1: pd.Timestamp
) -> tuple[pd.DataFrame, int]:
    missing = [c for c in ("cell", "hour", "category", "count") if c not in incidents.columns]
    if missing:
        raise KeyError(f"the incident cube lacks column(s) {missing}")
    hours = pd.to_datetime(incidents["hour"])
    rows = incidents[((hours >= t0) & (hours < t1)).to_numpy()]
    cells = rows["cell"].to_numpy(dtype=np.uint64)
    if cells.size == 0:
        res = BASE_RES
    else:
        resolutions = np.unique(cells_res(cells))
        if resolutions.size != 1:
            raise ValueError(f"incident cube cells mix resolutions {resolutions.tolist()}")
        res = int(resolutions[0])
    frame = pd.DataFrame(
        {
            "cell": cells,
            **{c: rows[c].to_numpy(dtype=np.uint64) for c in lineage(rows.columns)},
            "category": rows["category"].astype(str).to_numpy(),
            "count": rows["count"].to_numpy(dtype=np.int64),
        }
    )
    return frame, res


def _reason(
    *,
    status: str,
    at_risk: bool,
    incidents: int,
    rate: float | None,
    veto_n: int,
    veto_cats: Sequence[str],
    over_cap: bool,
    days: float,
    per_days: float,
    cap: float,
) -> tuple[str, str]:
    d = _num(days)
    if days == per_days:
        unit_zh, unit_en = "每百户", "per 100 households"
    else:
        unit_zh, unit_en = (
            f"每百户每{_num(per_days)}天",
            f"per 100 households per {_num(per_days)} days",
        )
    n_en = f"{incidents} incident{'' if incidents == 1 else 's'}"
    zh: list[str] = []
    en: list[str] = []
    if veto_n:
        cats_zh = "、".join(
            INCIDENT_CATEGORIES[c].zh if c in INCIDENT_CATEGORIES else c for c in veto_cats
        )
        cats_en = ", ".join(
            INCIDENT_CATEGORIES[c].en if c in INCIDENT_CATEGORIES else c for c in veto_cats
        )
        zh.append(f"近{d}天发生一票否决类警情{veto_n}起（{cats_zh}）")
        en.append(
            f"{veto_n} incident{'' if veto_n == 1 else 's'} in a veto category in {d} days ({cats_en})"
        )
    if incidents == 0:
        zh.append(f"近{d}天零发案")
        en.append(f"no incidents in {d} days")
    elif rate is None:
        zh.append(f"无户数数据，无法计算发案率；近{d}天警情{incidents}起")
        en.append(f"no households on record, no rate; {n_en} in {d} days")
    elif status == "certified":
        if over_cap:
            zh.append(
                f"近{d}天警情{incidents}起（{unit_zh}{_num(rate)}起），超过上限（{unit_zh}{_num(cap)}起）"
            )
            en.append(
                f"{n_en} in {d} days ({_num(rate)} {unit_en}), above the cap of {_num(cap)} {unit_en}"
            )
        else:
            zh.append(
                f"近{d}天警情{incidents}起（{unit_zh}{_num(rate)}起），未超过上限（{unit_zh}{_num(cap)}起）"
            )
            en.append(
                f"{n_en} in {d} days ({_num(rate)} {unit_en}), within the cap of {_num(cap)} {unit_en}"
            )
    else:
        zh.append(f"近{d}天警情{incidents}起（{unit_zh}{_num(rate)}起）")
        en.append(f"{n_en} in {d} days ({_num(rate)} {unit_en})")
    if at_risk:
        head = Label("称号存疑", "Title at risk")
    else:
        head = COMMUNITY_STATUSES.get(status, Label(status, status))
    return f"{head.zh}：" + "；".join(zh), f"{head.en}: " + "; ".join(en)


def community_status(
    communities: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    start: pd.Timestamp | str,
    end: pd.Timestamp | str,
    match_res: int = DEFAULT_MATCH_RES,
    cap: float = DEFAULT_CAP,
    per_days: float = DEFAULT_PER_DAYS,
    veto: Iterable[str] = DEFAULT_VETO_CATEGORIES,
) -> pd.DataFrame:
    """Each community's incidents in a window, whether it is zero-incident, and whether
    its certified title is at risk — with the reason in zh-CN and en.

    Parameters
    ----------
    communities : DataFrame
        ``geodata.schema.COMMUNITIES``: ``community_id``, ``status``, ``lng``, ``lat``
        (WGS84); ``name``, ``kind``, ``grid_id``, ``households`` are used when present.
    incidents : DataFrame
        Incident cube rows: ``cell`` (uint64, one resolution, ≥ ``match_res``), ``hour``,
        ``category``, ``count``. Rows outside the window are ignored.
    start, end : Timestamp or str, keyword-only
        The window, ``start <= hour < end`` (local time, as in the cube).
    match_res : int, keyword-only
        Resolution at which an incident and a community are "in the same place" (see the
        module docstring). Default 9.
    cap : float, keyword-only
        Incidents per 100 households per ``per_days`` days above which a certified title
        is at risk. Default 3.
    per_days : float, keyword-only
        The period of the rate. Default 30.
    veto : iterable of str, keyword-only
        Incident categories of which a single one puts a certified title at risk.

    Returns
    -------
    DataFrame
        One row per community, sorted by ``community_id``: ``community_id``, ``name``,
        ``kind``, ``status``, ``grid_id``, ``lng``, ``lat``, ``households``, ``base_cell``
        (the community's cell at the cube's resolution), ``match_cell``,
        ``cell_communities`` (communities sharing the match cell), ``incidents``,
        ``veto_incidents``, ``veto_categories`` (comma-separated codes, "" if none),
        ``rate`` (per 100 households per ``per_days`` days; NA without households),
        ``rate_state`` ("ok" or "no_households"), ``over_cap``, ``zero_incident``,
        ``at_risk``, ``reason_zh``, ``reason_en``, ``class`` (see
        :data:`COMMUNITY_CLASSES`).
    """
    required = ("community_id", "status", "lng", "lat")
    missing = [c for c in required if c not in communities.columns]
    if missing:
        raise KeyError(f"communities lack column(s) {missing}")
    statuses = communities["status"].astype(str)
    unknown = sorted(set(statuses) - set(STATUSES))
    if unknown:
        raise ValueError(f"unknown community status(es) {unknown}; known: {list(STATUSES)}")
    if cap < 0 or per_days <= 0:
        raise ValueError("cap must be >= 0 and per_days > 0")
    t0, t1, days = _window(start, end)
    veto_set = frozenset(str(v) for v in veto)
    cube, cube_res = _incident_cells(incidents, t0, t1)
    if not 0 <= match_res <= cube_res:
        raise ValueError(
            f"match_res must be 0..{cube_res} (the cube's resolution), got {match_res}"
        )

    com = communities.sort_values("community_id", kind="stable").reset_index(drop=True)
    lng = com["lng"].to_numpy(dtype=np.float64)
    lat = com["lat"].to_numpy(dtype=np.float64)
    base = lnglat_to_cells(lng, lat, cube_res)
    if np.any(base == 0):
        bad = com.loc[base == 0, "community_id"].astype(str).tolist()
        raise ValueError(f"communities without valid coordinates: {bad}")
    match = lnglat_to_cells(lng, lat, match_res)

    cube = cube.assign(match_cell=cells_at(cube, match_res))
    totals = cube.groupby("match_cell")["count"].sum()
    vetoed = cube[cube["category"].isin(veto_set)]
    veto_totals = vetoed.groupby("match_cell")["count"].sum()
    veto_cats = (
        vetoed[vetoed["count"] > 0]
        .groupby("match_cell")["category"]
        .agg(lambda s: ",".join(sorted(set(s))))
    )

    match_index = pd.Index(match, dtype=np.uint64)
    n_inc = totals.reindex(match_index).fillna(0).to_numpy(dtype=np.int64)
    n_veto = veto_totals.reindex(match_index).fillna(0).to_numpy(dtype=np.int64)
    cats = [
        tuple(c.split(",")) if isinstance(c, str) else ()
        for c in veto_cats.reindex(match_index).tolist()
    ]
    sharing = pd.Series(match).map(pd.Series(match).value_counts()).to_numpy(dtype=np.int64)

    if "households" in com.columns:
        households = pd.to_numeric(com["households"]).astype("Float64").round().astype("Int64")
    else:
        households = pd.Series(pd.array([pd.NA] * len(com), dtype="Int64"))
    has_hh = (households.fillna(0) > 0).to_numpy(dtype=bool)
    hh = households.fillna(0).to_numpy(dtype=np.float64)
    rate_values = np.divide(
        n_inc * 100.0 * per_days / days, hh, out=np.zeros(len(com)), where=has_hh
    )
    rate = pd.array(rate_values, dtype="Float64")
    rate[~has_hh] = pd.NA
    over_cap = has_hh & (rate_values > cap)
    status_arr = com["status"].astype(str).to_numpy()
    certified = status_arr == "certified"
    at_risk = certified & (over_cap | (n_veto > 0))

    reasons = [
        _reason(
            status=str(s),
            at_risk=bool(risk),
            incidents=int(n),
            rate=float(r) if h else None,
            veto_n=int(v),
            veto_cats=cs,
            over_cap=bool(o),
            days=days,
            per_days=float(per_days),
            cap=float(cap),
        )
        for s, risk, n, r, h, v, cs, o in zip(
            status_arr,
            at_risk,
            n_inc,
            rate_values,
            has_hh,
            n_veto,
            cats,
            over_cap,
            strict=True,
        )
    ]
    klass = np.select(
        [certified & ~at_risk, at_risk, status_arr == "in_progress"], [0, 1, 2], default=3
    ).astype(np.int64)

    def _col(name: str) -> npt.ArrayLike:
        if name in com.columns:
            return com[name].to_numpy()
        return np.full(len(com), None, dtype=object)

    return pd.DataFrame(
        {
            "community_id": com["community_id"].astype(str).to_numpy(),
            "name": _col("name"),
            "kind": _col("kind"),
            "status": status_arr,
            "grid_id": _col("grid_id"),
            "lng": lng,
            "lat": lat,
            "households": households.array,
            "base_cell": base,
            "match_cell": match,
            "cell_communities": sharing,
            "incidents": n_inc,
            "veto_incidents": n_veto,
            "veto_categories": [",".join(c) for c in cats],
            "rate": rate,
            "rate_state": np.where(has_hh, "ok", "no_households"),
            "over_cap": over_cap,
            "zero_incident": n_inc == 0,
            "at_risk": at_risk,
            "reason_zh": [r[0] for r in reasons],
            "reason_en": [r[1] for r in reasons],
            "class": klass,
        }
    )


_SUMMARY_COLUMNS: tuple[str, ...] = (
    "communities",
    "certified",
    "in_progress",
    "not_started",
    "households",
    "certified_households",
    "certified_share",
    "zero_incident",
    "at_risk",
    "state",
    "class",
)


def _summarise(frame: pd.DataFrame, keys: npt.ArrayLike, index: pd.Index) -> pd.DataFrame:
    """Sum a community frame by ``keys`` onto ``index`` (rows with a key not in it drop)."""
    status = frame["status"].astype(str).to_numpy()
    hh = pd.to_numeric(frame["households"]).astype("Float64").fillna(0).to_numpy(dtype=np.float64)
    parts = pd.DataFrame(
        {
            "key": keys,
            "communities": 1,
            "certified": status == "certified",
            "in_progress": status == "in_progress",
            "not_started": status == "not_started",
            "households": hh,
            "certified_households": np.where(status == "certified", hh, 0.0),
            "zero_incident": frame["zero_incident"].to_numpy(dtype=bool),
            "at_risk": frame["at_risk"].to_numpy(dtype=bool),
        }
    )
    parts = parts[pd.notna(parts["key"])]
    sums = parts.groupby("key", sort=True).sum().reindex(index)
    out = pd.DataFrame(index=index)
    for col in (
        "communities",
        "certified",
        "in_progress",
        "not_started",
        "zero_incident",
        "at_risk",
    ):
        out[col] = sums[col].fillna(0).to_numpy(dtype=np.int64)
    for col in ("households", "certified_households"):
        out[col] = sums[col].fillna(0).round().to_numpy(dtype=np.int64)
    has_comm = out["communities"].to_numpy() > 0
    has_hh = out["households"].to_numpy() > 0
    share = np.divide(
        out["certified_households"].to_numpy(dtype=np.float64),
        out["households"].to_numpy(dtype=np.float64),
        out=np.zeros(len(out)),
        where=has_hh,
    )
    share_arr = pd.array(share, dtype="Float64")
    share_arr[~has_hh] = pd.NA
    out["certified_share"] = share_arr
    out["state"] = np.where(has_hh, "ok", np.where(has_comm, "no_households", "no_communities"))
    bins = np.asarray(SHARE_BINS)
    klass = pd.array(
        np.minimum(np.searchsorted(bins, share, side="left"), bins.size - 1), dtype="Int64"
    )
    klass[~has_hh] = pd.NA
    out["class"] = klass
    return out[list(_SUMMARY_COLUMNS)]


def community_points_at(communities: pd.DataFrame, res: int) -> npt.NDArray[np.uint64]:
    """The res-``res`` cell of each community: its point indexed at ``res`` (H3 is not
    nested, so not the parent of its finer ``base_cell``). Rows without coordinates (a
    status table made without them) fall back to that parent."""
    base = communities["base_cell"].to_numpy(dtype=np.uint64)
    if base.size == 0:
        return base
    if {"lng", "lat"} <= set(communities.columns):
        lng = pd.to_numeric(communities["lng"]).to_numpy(dtype=np.float64)
        lat = pd.to_numeric(communities["lat"]).to_numpy(dtype=np.float64)
        exact = lnglat_to_cells(lng, lat, res)
        return np.where(exact != 0, exact, cells_to_parent(base, res))
    return cells_to_parent(base, res)


def cell_status(
    communities: pd.DataFrame, *, res: int, cells: npt.ArrayLike | None = None
) -> pd.DataFrame:
    """Safe-community numbers per H3 cell at resolution ``res``.

    Parameters
    ----------
    communities : DataFrame
        The output of :func:`community_status`.
    res : int, keyword-only
        Resolution of the cells, no finer than the communities' ``base_cell``.
    cells : array_like of uint64, keyword-only, optional
        The cells to report (e.g. a chief's area); each gets a row, also without
        communities. By default, the cells that hold at least one community.

    Returns
    -------
    DataFrame
        Sorted by ``cell``: ``cell``, ``communities``, ``certified``, ``in_progress``,
        ``not_started``, ``households``, ``certified_households``, ``certified_share``
        (certified households over all households of the cell's communities; NA without
        households), ``zero_incident``, ``at_risk``, ``state`` ("ok", "no_households",
        "no_communities") and ``class`` (by :data:`SHARE_BINS`; NA when the share is).
    """
    keys = community_points_at(communities, res)
    if cells is None:
        index = pd.Index(unique_sorted(keys), dtype=np.uint64)
    else:
        index = pd.Index(unique_sorted(cells, np.uint64), dtype=np.uint64)
        if index.size and np.any(cells_res(index.to_numpy()) != res):
            raise ValueError(f"cells must all be at resolution {res}")
    out = _summarise(communities, keys, index)
    out.insert(0, "cell", index.to_numpy())
    return out.reset_index(drop=True)


def grid_status(
    communities: pd.DataFrame, grids: pd.DataFrame, *, id_col: str = "grid_id"
) -> pd.DataFrame:
    """Safe-community numbers per grid (or per precinct, with precincts as ``grids``).

    A community belongs to the grid named in its ``grid_id``; one without a grid id is
    placed by its point when ``grids`` is a GeoDataFrame. Communities of grids not in
    ``grids`` are left out: ``grids`` is the scope.

    Parameters
    ----------
    communities : DataFrame
        The output of :func:`community_status`.
    grids : DataFrame
        The grids, with ``id_col``; every one gets a row.
    id_col : str, keyword-only
        ``"grid_id"`` by default. For precincts, pass the precincts with
        ``id_col="precinct_id"`` (communities are then placed by their points unless the
        community frame carries a ``precinct_id`` column).

    Returns
    -------
    DataFrame
        Sorted by ``id_col``, with the columns of :func:`cell_status` after ``id_col``.
    """
    if id_col not in grids.columns:
        raise KeyError(f"grids have no column {id_col!r}")
    if id_col in communities.columns:
        given = communities[id_col].to_numpy(dtype=object)
    else:
        given = np.full(len(communities), None, dtype=object)
    keys = np.array([None if pd.isna(v) else str(v) for v in given], dtype=object)
    unplaced = np.array([k is None for k in keys], dtype=bool)
    if unplaced.any() and isinstance(grids, gpd.GeoDataFrame):
        placed = points_to_zones(
            communities["lng"].to_numpy(dtype=np.float64)[unplaced],
            communities["lat"].to_numpy(dtype=np.float64)[unplaced],
            grids,
            id_col=id_col,
        )
        keys[unplaced] = [None if pd.isna(v) else str(v) for v in placed.to_numpy(dtype=object)]
    ids = pd.Index(sorted(set(grids[id_col].astype(str))), name=id_col)
    out = _summarise(communities, keys, ids)
    out = out.reset_index()
    out[id_col] = out[id_col].astype(str)
    return out
