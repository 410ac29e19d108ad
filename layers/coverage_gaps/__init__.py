"""The gap layer: where risk is high and protection is thin (预防为主、源头预防).

Each H3 cell of an area gets a **gap score** in [0, 1], a class, and the parts that
explain it; :func:`top_gaps` ranks the largest gaps with a one-line reason in zh-CN and
English ("热点（99%置信），近30天警情42起，近30天夜间无巡逻驻留，距最近处置单元7分钟").

The score
---------
``gap = risk × (1 − protection)``: high only where both are bad. A quiet cell is no gap
however thin its protection (risk 0), and a busy cell patrolled at the right hours, near
a response unit, inside certified communities is no gap however busy. A difference
``risk − protection`` would instead call a quiet, unprotected mountainside as bad as a
protected market is good; the product also keeps the score in [0, 1] without clipping.

``risk = intensity × confidence``: incidents are its base (a cell without any has no
risk), and the confidence — the weighted mean of 1, the hot-spot part and the trend part —
says how much to trust and fear them. ``protection`` is the weighted mean of its parts.
Every part is normalised to [0, 1] (weights: :class:`GapWeights`; scales, per res-9 cell
and scaled by area at other resolutions: :class:`GapScales`):

===================== ====================================================================
risk part             what it is
===================== ====================================================================
intensity             ``log(1 + x) / log(1 + 30)`` of the incidents per 30 days, clipped
hotspot               Gi* z clipped to [0, 2.576], over 2.576 (a 99 % hot spot is 1)
trend                 emerging hot-spot pattern (new/intensifying 1, persistent 0.5,
                      diminishing 0.25) or 环比 (significant rise 1, rise 0.25), the larger
===================== ====================================================================

===================== ====================================================================
protection part       what it is
===================== ====================================================================
patrol                dwell per day in each time-of-day band against the band's share of
                      30 min/day, weighted by when the cell's incidents happen — so a
                      night-life street patrolled all day but never at night is unprotected
reach                 1 − minutes to the nearest response unit / 10 (1-3-5: 5 min is half)
certified             share of households in certified communities whose title holds
volunteers            volunteers of the cell's communities per 20 per 1,000 residents
===================== ====================================================================

Why intensity is a count on a fixed log scale, not a rate or a rank: incidents are where
they happen — busy places with few residents (a market, the bus station, a night-life
street) hold the most, and a rate on a 0.1 km² hexagon divides by a spread-out estimate
of residents, so one incident among twenty residents of a hamlet would outrank the market
street. The rate is reported beside the score (``rate_per_1000``) and compared where its
denominator is real, per grid (:mod:`layers.grid_stats`). A percentile rank among cells
was tried and dropped: in a sparse county it lifts every cell with two or three incidents
near the top, level with a block of sixty. And a fixed scale, unlike the area's own
maximum, keeps a cell's score the same in a chief's precinct and in the county, and this
month's gap count comparable with last month's.

Why intensity multiplies rather than joins the mean: with a plain weighted mean, Gi* and
trend — which on sparse data call two neighbouring incidents a "99 % consecutive hot
spot" — would give a two-incident cell nearly the risk of a sixty-incident one.

Classes (:data:`GAP_CLASSES`) are fixed bands of the score (:data:`GAP_BREAKS`): 0 none,
1 minor, 2 moderate, 3 serious, 4 critical. A cell is a gap (``is_gap``, ``state ==
"gap"``) from class 2 up, otherwise covered: every cell is one or the other, never both.

Modules: :mod:`.score` (the score), :mod:`.reasons` (reason lines and the ranking),
:mod:`.inputs` (computing every input layer once from the cubes: :func:`gap_layer`).
"""

from __future__ import annotations

from layers.coverage_gaps.inputs import (
    HOT_CLASSES,
    CellLayers,
    band_counts,
    cell_layers,
    community_cells,
    emerging_bins,
    gap_layer,
    gaps_of,
)
from layers.coverage_gaps.reasons import reason, reasons, top_gaps
from layers.coverage_gaps.score import (
    CHANGE_TREND,
    COLUMNS,
    DEFAULT_GAP_CLASS,
    DEFAULT_SCALES,
    DEFAULT_WEIGHTS,
    EMERGING_TREND,
    GAP_BREAKS,
    GAP_CLASSES,
    PROTECTION_PARTS,
    RISK_PARTS,
    STATES,
    GapScales,
    GapWeights,
    coverage_gaps,
    gap_class,
    intensity,
)

__all__ = [
    "CHANGE_TREND",
    "COLUMNS",
    "DEFAULT_GAP_CLASS",
    "DEFAULT_SCALES",
    "DEFAULT_WEIGHTS",
    "EMERGING_TREND",
    "GAP_BREAKS",
    "GAP_CLASSES",
    "HOT_CLASSES",
    "PROTECTION_PARTS",
    "RISK_PARTS",
    "STATES",
    "CellLayers",
    "GapScales",
    "GapWeights",
    "band_counts",
    "cell_layers",
    "community_cells",
    "coverage_gaps",
    "emerging_bins",
    "gap_class",
    "gap_layer",
    "gaps_of",
    "intensity",
    "reason",
    "reasons",
    "top_gaps",
]
