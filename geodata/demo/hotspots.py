"""Persistent and emerging incident hot spots of the demo, and the planted gaps.

Hot spots give the incident layers something true to find: a market street, the bus
station, a night-life block, a mining town by the gas field (砂霸/矿霸), and one "emerging"
hot spot that only starts in the last 90 days. Planted gaps are places made under-protected
on purpose, so that the gap layers have a known answer; the manifest lists both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from geodata.demo.area import GAS_FIELD, PUGUANG, URBAN_CODES, Geography
from geodata.demo.scale import COUNTY_SEAT, NOW

NIGHT_HOURS = (20, 6)
"""The night window (20:00-06:00) in which the night-life block gets no patrol at all."""

NIGHT_GAP_RADIUS_M = 500.0
"""No patrol fix comes within this distance of the night-life block at night."""

EMERGING_DAYS = 90
"""The emerging hot spot starts this many days before the demo's "now"."""

REMOTE_TOWNSHIP = "511722223"
"""漆树土家族乡: a remote township left without any response unit of its own."""

CLUSTER_TOWNSHIP = "511722107"
"""南坝镇: where certified compounds have incidents their title contradicts."""

CLUSTER_SINCE = np.datetime64("2025-04-01T00:00:00", "s")
"""The contradicting incidents at the certified cluster start on this day."""

# Hour-of-day profiles (relative weights for 00..23 h).
_H_MARKET = np.array(
    [1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 11, 8, 7, 7, 8, 10, 11, 10, 7, 4, 2, 1, 1]
)
_H_STATION = np.array(
    [1, 1, 1, 1, 2, 5, 9, 11, 11, 10, 9, 9, 9, 9, 9, 10, 11, 11, 10, 8, 6, 4, 2, 1]
)
_H_NIGHT = np.array([14, 12, 9, 5, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 5, 9, 13, 15, 15])
_H_MINING = np.array([3, 2, 2, 1, 1, 2, 4, 6, 7, 7, 6, 6, 6, 6, 6, 7, 8, 9, 10, 10, 9, 7, 5, 4])
_H_EVENING = np.array([3, 2, 1, 1, 1, 1, 2, 4, 6, 7, 7, 7, 7, 7, 7, 7, 8, 9, 10, 10, 9, 8, 6, 4])


@dataclass(frozen=True)
class HotSpot:
    """A place where incidents concentrate, with its own categories and hours."""

    key: str
    name_zh: str
    name_en: str
    lng: float
    lat: float
    spread_m: float
    """Standard deviation of incident positions around the centre."""
    precinct_id: str
    share: float
    """Fraction of all incidents that happen here."""
    categories: dict[str, float]
    hours: np.ndarray = field(repr=False)
    start: np.datetime64 | None = None
    """First moment of the hot spot (None: the whole two years)."""

    def manifest(self) -> dict[str, object]:
        """The hot spot as the manifest lists it."""
        return {
            "key": self.key,
            "name": {"zh": self.name_zh, "en": self.name_en},
            "lng": round(self.lng, 6),
            "lat": round(self.lat, 6),
            "radius_m": round(2 * self.spread_m),
            "precinct_id": self.precinct_id,
            "categories": sorted(self.categories, key=lambda c: -self.categories[c]),
            "emerging": self.start is not None,
            "since": None if self.start is None else str(self.start).replace("T", " "),
        }


def _at(
    geo: Geography, base: tuple[float, float], east_m: float, north_m: float
) -> tuple[float, float]:
    lng = base[0] + east_m / geo.frame.kx
    lat = base[1] + north_m / geo.frame.ky
    return float(lng), float(lat)


def _mining_town(geo: Geography) -> tuple[float, float]:
    """The gas-field mining town: GAS_FIELD if it lies in 普光's precinct, else near the seat."""
    p = geo.precinct_index(PUGUANG)
    precinct = geo.precincts[p]
    for east, north in ((0.0, 0.0), (1500.0, 1500.0), (-1500.0, 1500.0), (1500.0, -1500.0)):
        base = GAS_FIELD if (east, north) == (0.0, 0.0) else geo.townships[p].seat
        lng, lat = _at(geo, base, east, north)
        point = shapely.Point(lng, lat)
        if precinct.contains(point) and geo.safe.contains(point.buffer(0.01)):
            return lng, lat
    return geo.townships[p].seat


def hot_spots(geo: Geography) -> list[HotSpot]:
    """The demo's hot spots; the night-life block is also the night-patrol gap."""
    dongxiang, pujiang = URBAN_CODES
    mining = _mining_town(geo)
    return [
        HotSpot(
            "market_street", "东乡老街农贸市场", "Old-town market street",
            *_at(geo, COUNTY_SEAT, -600.0, 700.0), 90.0, dongxiang, 0.03,
            {"theft": 0.55, "dispute": 0.25, "fraud": 0.12, "robbery": 0.03, "assault": 0.05},
            _H_MARKET,
        ),
        HotSpot(
            "bus_station", "县汽车客运站", "County bus station",
            *_at(geo, COUNTY_SEAT, 1500.0, -900.0), 110.0, pujiang, 0.03,
            {"theft": 0.45, "fraud": 0.15, "dispute": 0.2, "robbery": 0.05, "assault": 0.08,
             "trafficking": 0.02, "other": 0.05},
            _H_STATION,
        ),
        HotSpot(
            "night_life", "蒲江滨河夜宵街区", "Riverside night-life block",
            *_at(geo, COUNTY_SEAT, 2000.0, 600.0), 100.0, pujiang, 0.03,
            {"assault": 0.35, "dispute": 0.25, "theft": 0.15, "drugs": 0.1, "gambling": 0.07,
             "robbery": 0.05, "weapons_terror": 0.01, "other": 0.02},
            _H_NIGHT,
        ),
        HotSpot(
            "mining_town", "普光气田矿区集镇", "Gas-field mining town",
            *mining, 300.0, PUGUANG, 0.015,
            {"gang_crime": 0.35, "assault": 0.2, "dispute": 0.25, "gambling": 0.12,
             "weapons_terror": 0.03, "theft": 0.05},
            _H_MINING,
        ),
        HotSpot(
            "emerging_new_district", "东城新区安置小区", "New resettlement district",
            *_at(geo, COUNTY_SEAT, -1200.0, 1900.0), 120.0, dongxiang, 0.008,
            {"telecom_fraud": 0.4, "theft": 0.3, "sextortion_loan": 0.15, "dispute": 0.15},
            _H_EVENING,
            start=NOW - np.timedelta64(EMERGING_DAYS * 86400 - 1, "s"),
        ),
    ]  # fmt: skip


def night_gap_spot(spots: list[HotSpot]) -> HotSpot:
    """The hot spot no unit patrols at night."""
    return next(s for s in spots if s.key == "night_life")
