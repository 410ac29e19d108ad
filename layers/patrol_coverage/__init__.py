"""Patrol coverage and the Koper dose: who patrols where, when, and for how long.

Mass prevention (群防群治) means counting every patrol, not only police cars: police cars,
foot patrols, volunteer patrol teams, red armbands and security guards
(:data:`geodata.schema.UNIT_KINDS`), each kind in its own columns.

- :func:`patrol_coverage` — per H3 cell: fixes, visits, distinct units, dwell minutes,
  last visit, longest gap, split by unit kind and by time-of-day band.
- :func:`koper_dose` — per hot-spot cell: the share of its hours dosed by 10–15 minute
  stops with revisits at most 2 hours apart (the rule is in :mod:`.koper`).
- :func:`coverage_share` and :func:`koper_summary` — per grid and per precinct.

Inputs are the patrol cube and the visits table of :mod:`geodata.cubes` (pandas or
polars); outputs are new pandas frames sorted by cell or zone. The dwell is the cube's:
the build already credits each fix at most a cap per unit kind, so dense fixes do not
inflate it and sparse ones do not lose it; nothing here recounts it.

Windows are whole hours of naive China Standard Time, half-open ``[since, until)``.
Bands (:data:`DEFAULT_BANDS`: day 06–18, evening 18–22, night 22–06) must share out
the 24 hours; a fix, dwell or visit belongs to the band of the hour it falls (starts) in.
"""

from __future__ import annotations

from layers.patrol_coverage.bands import BAND_LABELS, DEFAULT_BANDS
from layers.patrol_coverage.coverage import (
    COVERAGE_CLASS_BINS,
    COVERAGE_CLASSES,
    patrol_coverage,
)
from layers.patrol_coverage.koper import SHARE_BINS, koper_dose
from layers.patrol_coverage.zones import CoverageStandard, coverage_share, koper_summary

__all__ = [
    "BAND_LABELS",
    "COVERAGE_CLASSES",
    "COVERAGE_CLASS_BINS",
    "DEFAULT_BANDS",
    "SHARE_BINS",
    "CoverageStandard",
    "coverage_share",
    "koper_dose",
    "koper_summary",
    "patrol_coverage",
]
