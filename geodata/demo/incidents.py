"""Two years of synthetic incidents (警情) for the demo.

Background incidents follow where people live (the population cloud), with categories in
plausible shares (disputes and theft dominant, telecom fraud significant, weapons and
trafficking rare), each category with its own seasonality, Spring Festival peak, weekday
rhythm, trend and hour-of-day profile. On top come the hot spots of
:mod:`geodata.demo.hotspots` (one of them emerging in the last 90 days) and the planted
stream at the certified cluster of 南坝镇 that contradicts its title.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geodata.demo.area import RURAL, TOWN, URBAN, Geography
from geodata.demo.communities import Communities
from geodata.demo.hotspots import CLUSTER_SINCE, HotSpot
from geodata.demo.scale import INCIDENT_DAYS, NOW
from geodata.demo.space import FloatArray, IntArray, jitter_inside

FIRST_DAY = (NOW - np.timedelta64(INCIDENT_DAYS - 1, "D")).astype("datetime64[D]")
"""First day of the incidents: 2024-11-26."""

SPRING_FESTIVALS = (np.datetime64("2025-01-29", "D"), np.datetime64("2026-02-17", "D"))
"""Lunar New Year's days inside the two years."""

# Background shares of the categories (they sum to 1).
CATEGORY_SHARES: dict[str, float] = {
    "dispute": 0.30,
    "theft": 0.24,
    "other": 0.128,
    "telecom_fraud": 0.11,
    "assault": 0.08,
    "fraud": 0.06,
    "gambling": 0.025,
    "sextortion_loan": 0.017,
    "robbery": 0.015,
    "drugs": 0.015,
    "gang_crime": 0.008,
    "trafficking": 0.001,
    "weapons_terror": 0.001,
}

# Where each category happens: multipliers on population for urban core, towns, countryside.
_PLACE: dict[str, tuple[float, float, float]] = {
    "dispute": (1.0, 1.0, 1.1),
    "theft": (1.5, 1.2, 0.6),
    "other": (1.0, 1.0, 1.0),
    "telecom_fraud": (1.2, 1.0, 0.8),
    "assault": (1.3, 1.1, 0.7),
    "fraud": (1.3, 1.0, 0.7),
    "gambling": (0.7, 1.2, 1.2),
    "sextortion_loan": (1.3, 1.0, 0.6),
    "robbery": (1.6, 1.0, 0.4),
    "drugs": (1.4, 1.0, 0.6),
    "gang_crime": (0.6, 1.0, 1.4),
    "trafficking": (0.8, 1.0, 1.2),
    "weapons_terror": (0.8, 1.0, 1.2),
}
_SPREAD_M = {URBAN: 120.0, TOWN: 220.0, RURAL: 450.0}

_H = {
    "theft": [8, 7, 6, 5, 4, 3, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 7, 9, 10, 10, 9, 9, 9, 8],
    "dispute": [3, 2, 1, 1, 1, 1, 2, 3, 5, 6, 7, 7, 7, 6, 6, 6, 7, 8, 10, 11, 11, 9, 7, 5],
    "fraud": [1, 1, 1, 1, 1, 1, 1, 2, 5, 8, 9, 9, 7, 6, 8, 9, 9, 8, 6, 5, 4, 3, 2, 1],
    "telecom_fraud": [1, 1, 1, 1, 1, 1, 1, 2, 4, 7, 8, 8, 7, 6, 7, 8, 8, 7, 6, 6, 6, 5, 3, 2],
    "assault": [9, 8, 6, 3, 2, 1, 1, 1, 2, 2, 3, 3, 4, 4, 4, 4, 5, 6, 8, 10, 12, 13, 12, 11],
    "robbery": [8, 7, 6, 4, 3, 2, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 4, 5, 7, 8, 9, 9, 9],
    "gambling": [8, 7, 5, 3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 6, 6, 6, 7, 9, 10, 11, 10, 9],
    "drugs": [9, 8, 7, 5, 3, 2, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 4, 4, 5, 7, 9, 10, 11, 10],
    "gang_crime": [3, 2, 2, 1, 1, 1, 2, 4, 6, 7, 7, 7, 6, 6, 7, 7, 7, 8, 8, 8, 7, 6, 5, 4],
    "sextortion_loan": [5, 4, 3, 2, 1, 1, 1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 6, 7, 8, 9, 9, 8, 7],
    "trafficking": [2, 2, 2, 2, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 4, 3, 3, 2, 2],
    "weapons_terror": [3, 3, 2, 2, 2, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 3],
    "other": [3, 2, 2, 1, 1, 1, 2, 4, 7, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 7, 6, 5, 4, 3],
}

# Seasonal amplitude (peak in mid July), weekend lift, Spring Festival lift, two-year trend.
_SEASON = {
    "theft": 0.12,
    "assault": 0.3,
    "dispute": 0.15,
    "robbery": 0.1,
    "drugs": 0.1,
    "other": 0.12,
}
_WEEKEND = {"dispute": 1.12, "assault": 1.25, "gambling": 1.2, "drugs": 1.1, "telecom_fraud": 0.92}
_FESTIVAL = {"dispute": 1.6, "gambling": 1.8, "assault": 0.7, "theft": 0.4, "fraud": 0.3}
_TREND = {"telecom_fraud": 0.35, "sextortion_loan": 0.25, "theft": -0.08, "gambling": -0.1}

_SEVERITY = {
    "theft": (0.75, 0.22, 0.03),
    "robbery": (0.2, 0.5, 0.3),
    "fraud": (0.6, 0.3, 0.1),
    "telecom_fraud": (0.55, 0.35, 0.1),
    "gang_crime": (0.1, 0.4, 0.5),
    "sextortion_loan": (0.5, 0.4, 0.1),
    "trafficking": (0.0, 0.3, 0.7),
    "weapons_terror": (0.0, 0.3, 0.7),
    "gambling": (0.6, 0.35, 0.05),
    "drugs": (0.3, 0.5, 0.2),
    "dispute": (0.85, 0.13, 0.02),
    "assault": (0.5, 0.4, 0.1),
    "other": (0.9, 0.09, 0.01),
}
SOURCES = ("call_110", "patrol", "walk_in", "online", "referral")
_SOURCE = {
    "theft": (0.6, 0.05, 0.3, 0.05, 0.0),
    "robbery": (0.85, 0.05, 0.1, 0.0, 0.0),
    "fraud": (0.4, 0.0, 0.45, 0.15, 0.0),
    "telecom_fraud": (0.3, 0.0, 0.35, 0.3, 0.05),
    "gang_crime": (0.3, 0.1, 0.2, 0.05, 0.35),
    "sextortion_loan": (0.3, 0.0, 0.4, 0.3, 0.0),
    "trafficking": (0.3, 0.1, 0.1, 0.0, 0.5),
    "weapons_terror": (0.4, 0.3, 0.0, 0.0, 0.3),
    "gambling": (0.3, 0.45, 0.05, 0.05, 0.15),
    "drugs": (0.25, 0.5, 0.05, 0.0, 0.2),
    "dispute": (0.8, 0.05, 0.12, 0.0, 0.03),
    "assault": (0.85, 0.1, 0.05, 0.0, 0.0),
    "other": (0.75, 0.1, 0.1, 0.03, 0.02),
}

_CLUSTER_CATEGORIES = {
    "theft": 0.35,
    "dispute": 0.3,
    "fraud": 0.1,
    "telecom_fraud": 0.1,
    "assault": 0.1,
    "gambling": 0.05,
}


def _day_weights(category: str, days: np.ndarray) -> FloatArray:
    """Relative weight of each day for ``category`` (season, weekend, festival, trend)."""
    doy = (days - days.astype("datetime64[Y]")).astype(np.int64)
    w = 1.0 + _SEASON.get(category, 0.05) * np.cos(2 * np.pi * (doy - 196) / 365.25)
    weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    w = w * np.where(weekday >= 5, _WEEKEND.get(category, 1.0), 1.0)
    lift = _FESTIVAL.get(category, 0.0)
    for festival in SPRING_FESTIVALS:
        delta = (days - festival).astype(np.int64)
        if category == "theft":  # thefts peak in the weeks before the festival
            w = w * (1 + lift * np.exp(-(((delta + 10) / 8.0) ** 2)))
        else:
            w = w * (1 + lift * np.exp(-((delta / 6.0) ** 2)))
    t = np.linspace(0.0, 1.0, len(days))
    w = w * (1 + _TREND.get(category, 0.0) * t)
    return np.asarray(w / w.sum(), dtype=np.float64)


def _times(
    category: str,
    n: int,
    days: np.ndarray,
    day_w: FloatArray,
    hours: FloatArray,
    rng: np.random.Generator,
) -> np.ndarray:
    day = rng.choice(len(days), size=n, p=day_w)
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    sec = rng.integers(0, 3600, n)
    start = days[day].astype("datetime64[s]")
    return start + (hour * 3600 + sec).astype("timedelta64[s]")


def _attributes(categories: np.ndarray, rng: np.random.Generator) -> tuple[IntArray, np.ndarray]:
    severity = np.empty(len(categories), dtype=np.int64)
    source = np.empty(len(categories), dtype=object)
    for cat in np.unique(categories):
        rows = np.flatnonzero(categories == cat)
        severity[rows] = rng.choice([1, 2, 3], size=len(rows), p=_SEVERITY[cat])
        source[rows] = rng.choice(SOURCES, size=len(rows), p=_SOURCE[cat])
    return severity, source


def build_incidents(
    geo: Geography,
    communities: Communities,
    spots: list[HotSpot],
    total: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """About ``total`` incidents over the two years ending at the demo's "now".

    Parameters
    ----------
    geo, communities, spots
        Where incidents happen.
    total
        Target number of rows (background + hot spots + the planted cluster).
    rng
        Deterministic generator.

    Returns
    -------
    DataFrame
        Columns of the ``incidents`` schema, sorted by time.
    """
    all_days = np.arange(FIRST_DAY, NOW.astype("datetime64[D]") + 1)
    parts_xy: list[FloatArray] = []
    parts_t: list[np.ndarray] = []
    parts_c: list[np.ndarray] = []

    def add(xy: FloatArray, t: np.ndarray, cats: np.ndarray) -> None:
        parts_xy.append(xy)
        parts_t.append(t)
        parts_c.append(cats)

    # Hot spots.
    n_spots = 0
    for spot in spots:
        n = max(12, round(spot.share * total))
        n_spots += n
        first = FIRST_DAY if spot.start is None else spot.start.astype("datetime64[D]")
        days = all_days[all_days >= first]
        ramp = np.linspace(0.2, 1.0, len(days)) if spot.start is not None else np.ones(len(days))
        names = list(spot.categories)
        p = np.array([spot.categories[c] for c in names])
        cats = np.array(names, dtype=object)[rng.choice(len(names), size=n, p=p / p.sum())]
        day_w = _day_weights("other", days) * ramp  # the emerging spot grows week by week
        t = _times("other", n, days, day_w / day_w.sum(), spot.hours.astype(np.float64), rng)
        if spot.start is not None:
            t = np.maximum(t, spot.start)
        centre = np.tile([spot.lng, spot.lat], (n, 1))
        add(jitter_inside(geo.boundary, centre, spot.spread_m, geo.frame, rng), t, cats)

    # The certified cluster whose incidents contradict its title.
    cluster = communities.frame.set_index("community_id").loc[communities.cluster]
    n_cluster = max(round(0.008 * total), 12 * len(cluster))
    which = rng.integers(0, len(cluster), n_cluster)
    centre = cluster[["lng", "lat"]].to_numpy(dtype=np.float64)[which]
    names = list(_CLUSTER_CATEGORIES)
    p = np.array(list(_CLUSTER_CATEGORIES.values()))
    cats = np.array(names, dtype=object)[rng.choice(len(names), size=n_cluster, p=p / p.sum())]
    days = all_days[all_days >= CLUSTER_SINCE.astype("datetime64[D]")]
    t = np.empty(n_cluster, dtype="datetime64[s]")
    for cat in names:
        rows = np.flatnonzero(cats == cat)
        t[rows] = _times(
            cat,
            len(rows),
            days,
            np.full(len(days), 1 / len(days)),
            np.asarray(_H[cat], np.float64),
            rng,
        )
    add(jitter_inside(geo.boundary, centre, 50.0, geo.frame, rng), t, cats)

    # Background, by category, where people live.
    cloud = geo.cloud
    n_background = max(0, total - n_spots - n_cluster)
    names = list(CATEGORY_SHARES)
    counts = rng.multinomial(n_background, np.array([CATEGORY_SHARES[c] for c in names]))
    spread = np.vectorize(_SPREAD_M.__getitem__)(cloud.component).astype(np.float64)
    for cat, n in zip(names, counts, strict=True):
        if n == 0:
            continue
        place = np.asarray(_PLACE[cat], dtype=np.float64)[cloud.component]
        w = cloud.residents * place
        idx = rng.choice(len(w), size=int(n), p=w / w.sum())
        centre = np.column_stack([cloud.lng[idx], cloud.lat[idx]])
        xy = jitter_inside(geo.boundary, centre, spread[idx], geo.frame, rng)
        t = _times(
            cat, int(n), all_days, _day_weights(cat, all_days), np.asarray(_H[cat], np.float64), rng
        )
        add(xy, t, np.full(int(n), cat, dtype=object))

    xy = np.concatenate(parts_xy)
    time = np.concatenate(parts_t)
    cats = np.concatenate(parts_c)
    order = np.lexsort((xy[:, 1], xy[:, 0], time))
    xy, time, cats = xy[order], time[order], cats[order]
    severity, source = _attributes(cats, rng)
    day = time.astype("datetime64[D]")
    first_of_day = np.searchsorted(day, day, side="left")
    seq = np.arange(len(day)) - first_of_day + 1
    stamp = np.char.replace(day.astype(str), "-", "")
    ids = [f"JQ{d}{s:04d}" for d, s in zip(stamp.tolist(), seq.tolist(), strict=True)]
    return pd.DataFrame(
        {
            "incident_id": pd.array(ids, dtype="str"),
            "time": time.astype("datetime64[us]"),
            "lng": xy[:, 0],
            "lat": xy[:, 1],
            "category": pd.array(cats.astype(str), dtype="str"),
            "severity": severity,
            "source": pd.array(source.astype(str), dtype="str"),
        }
    )
