"""Sizes of the demo data set, and the fixed clock it is built against.

The demo's "now" is fixed, not the build time, so the same seed always gives the same
tables: incidents cover the two years and patrol fixes the days that end at :data:`NOW`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOW = np.datetime64("2026-11-25T23:59:59", "s")
"""The demo's "now", in China Standard Time (naive): the last second of the data."""

INCIDENT_DAYS = 730
"""Incidents cover the two years (730 days) ending at :data:`NOW`."""

COUNTY_SEAT = (107.73, 31.35)
"""The urban core of Xuanhan (县城), WGS84 longitude, latitude (approximate)."""

POPULATION_TOTAL = 1_180_000
"""Resident population of the county in the demo (the real figure is about 1.2-1.3 M)."""

URBAN_POPULATION = 300_000
"""Residents of the urban core (东乡街道 and 蒲江街道) in the demo."""


@dataclass(frozen=True)
class Scale:
    """How big a demo data set is.

    Geography (boundary, 37 precincts, population totals) is the same at every scale; the
    number of grids, communities, incidents and patrol fixes is what changes.
    """

    name: str
    urban_grids: int
    """Grids per urban precinct (东乡, 蒲江)."""
    rural_grids: tuple[int, int]
    """Range of grids per rural precinct (more where more people live)."""
    communities: float
    """Multiplier on the ~1,500 communities of the county scale."""
    incidents: int
    patrol_days: int
    patrol_units: float
    """Multiplier on the mass-prevention patrol units (volunteers, red armbands, guards)."""
    population_points: int
    """Size of the point cloud the population and incident locations are drawn from."""


SCALES: dict[str, Scale] = {
    "small": Scale("small", 6, (3, 5), 0.25, 3_000, 2, 0.3, 20_000),
    "county": Scale("county", 28, (10, 16), 1.0, 100_000, 90, 1.0, 80_000),
    "large": Scale("large", 28, (10, 16), 1.0, 200_000, 200, 1.0, 80_000),
}


def scale(name: str) -> Scale:
    """The scale called ``name``; ValueError naming the known scales otherwise."""
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; known: {', '.join(SCALES)}") from None
