"""The gap score of each cell: risk against protection, each a weighted mean of parts in [0, 1].

The rules are in the package docstring (:mod:`layers.coverage_gaps`); this module applies
them to per-cell frames the caller has already computed, so the map, the wall screen, the
exports and the grid table all share one computation of each layer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from types import MappingProxyType
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.hexes import cells_res
from geodata.schema import Label
from layers.grids import area_to_cells
from layers.hotspots import Z_CRITICAL, z_to_class
from layers.patrol_coverage.bands import DEFAULT_BANDS, band_of_hour, check_bands

FloatArray = npt.NDArray[np.float64]

RISK_PARTS: Final[tuple[str, ...]] = ("intensity", "hotspot", "trend")
PROTECTION_PARTS: Final[tuple[str, ...]] = ("patrol", "reach", "certified", "volunteers")


@dataclass(frozen=True)
class GapWeights:
    """Weights of the parts of risk and of protection.

    ``risk = intensity × confidence`` with ``confidence`` the weighted mean of 1 (weight
    ``intensity``), the hot-spot part (``hotspot``) and the trend part (``trend``);
    ``protection`` is the weighted mean of its four parts. Only ratios within a side
    matter; a weight of 0 removes a part. Defaults:

    - **intensity 0.5, hotspot 0.3, trend 0.2.** Incidents are the base of risk — a cell
      without any has none — and half of the confidence in them comes from their being
      there at all. A significant Gi* cluster (the neighbourhood confirms it is no
      chance) adds up to 0.3, a growing pattern up to 0.2: the trend is the
      forward-looking nudge (prevention at the source acts before incidents cluster),
      but it rests on smaller counts and is noisier.
    - **patrol 0.4, reach 0.3, certified 0.15, volunteers 0.15.** Patrol presence at the
      hours incidents happen is the protection a bureau changes week by week; the 1-3-5
      reach of response units is the next most direct; certified safe communities and
      their volunteers (群防群治) are standing protection, together as much as the reach.
    """

    intensity: float = 0.5
    hotspot: float = 0.3
    trend: float = 0.2
    patrol: float = 0.4
    reach: float = 0.3
    certified: float = 0.15
    volunteers: float = 0.15

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"gap weight {f.name} must be a finite number >= 0, got {value!r}")
        if sum(getattr(self, p) for p in RISK_PARTS) <= 0:
            raise ValueError("at least one risk weight (intensity, hotspot, trend) must be > 0")


DEFAULT_WEIGHTS: Final[GapWeights] = GapWeights()

SCALE_RES: Final[int] = 9
"""Resolution of the per-cell figures of :class:`GapScales`; a cell of resolution ``r``
holds ``7 ** (9 - r)`` res-9 cells, and its figures are that many times larger."""


@dataclass(frozen=True)
class GapScales:
    """How raw numbers become parts in [0, 1] (defaults explained per attribute).

    Fixed scales rather than the area's own maximum or quantiles, so that a cell's
    score does not change with the scope a chief looks at, and the gap count of this
    month can be compared with last month's.

    Attributes
    ----------
    incidents_full : float
        Incidents per 30 days in a res-9 cell (≈0.1 km², a block) at which intensity is
        full: 30, one a day. Intensity is ``log(1 + x) / log(1 + full)`` clipped to 1,
        so 1 incident gives 0.20, 3 give 0.40, 10 give 0.70: a log scale keeps a busy
        block far above a quiet one without letting one extreme cell flatten the rest.
    patrol_min_per_day : float
        Dwell minutes per day at which a res-9 cell counts as fully patrolled, for the
        whole day; a time-of-day band needs its share of it (10 minutes for the 8-hour
        night). 30 is the default coverage standard
        (:class:`layers.patrol_coverage.CoverageStandard`): two Koper stops of 15 minutes
        a day.
    reach_limit_min : float
        Minutes to the nearest response unit at which the reach part falls to 0; it is 1
        at 0 minutes and linear between. 10 is twice the 5-minute professional response
        of the 1-3-5 standard, so a cell just meeting the standard is half protected by
        reach and one twice as far has no reach protection.
    volunteers_per_1000 : float
        Registered volunteers (群防) of the cell's communities per 1,000 residents at which
        the volunteer part is full. 20 (2 % of residents) is a planning target, set so that
        the demo's median compound (≈25 volunteers, ≈1,000 residents) is fully staffed;
        set the bureau's own target.
    band_prior : float
        Pseudo-incidents spread over the time-of-day bands by their length before a cell's
        own incidents weigh the bands; 2 keeps a cell with one incident from being judged
        on one band alone, and a cell without incidents is judged on the whole day.
    """

    incidents_full: float = 30.0
    patrol_min_per_day: float = 30.0
    reach_limit_min: float = 10.0
    volunteers_per_1000: float = 20.0
    band_prior: float = 2.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"gap scale {f.name} must be a finite number > 0, got {value!r}")


DEFAULT_SCALES: Final[GapScales] = GapScales()

GAP_BREAKS: Final[tuple[float, ...]] = (0.1, 0.2, 0.35, 0.5)
"""Lower bounds of gap classes 1..4 on the score (class 0 below 0.1). Fixed, not
quantiles: a window or a precinct with few gaps should show few, not always a fifth."""

GAP_CLASSES: Final[Mapping[int, Label]] = MappingProxyType(
    {
        0: Label("无缺口", "No gap"),
        1: Label("轻微", "Minor"),
        2: Label("一般缺口", "Moderate gap"),
        3: Label("较大缺口", "Serious gap"),
        4: Label("严重缺口", "Critical gap"),
    }
)

_LABELS_ZH: Final[tuple[str, ...]] = tuple(label.zh for label in GAP_CLASSES.values())
_LABELS_EN: Final[tuple[str, ...]] = tuple(label.en for label in GAP_CLASSES.values())

DEFAULT_GAP_CLASS: Final[int] = 2
"""Cells of this class or above are gaps (``is_gap``); below it they count as covered."""

STATES: Final[Mapping[str, Label]] = MappingProxyType(
    {"gap": Label("防控缺口", "Gap"), "covered": Label("已覆盖", "Covered")}
)

EMERGING_TREND: Final[Mapping[str, float]] = MappingProxyType(
    {
        "new_hot": 1.0,
        "intensifying_hot": 1.0,
        "consecutive_hot": 1.0,
        "persistent_hot": 0.5,
        "sporadic_hot": 0.5,
        "oscillating_hot": 0.5,
        "diminishing_hot": 0.25,
        "historical_hot": 0.25,
    }
)
"""Trend part of an emerging hot-spot pattern (:mod:`layers.emerging`); others are 0.
Growing hot spots score highest, stable ones half, fading ones a quarter."""

CHANGE_TREND: Final[Mapping[str, float]] = MappingProxyType(
    {"strong_increase": 1.0, "increase": 0.25}
)
"""Trend part of a 环比 class (:mod:`layers.change`): a significant rise scores 1, a rise
that small counts cannot tell from chance only 0.25; others are 0."""

Z_FULL: Final[float] = Z_CRITICAL[0][0]
"""Gi* z at which the hot-spot part is full: 2.576, the 99 % hot-spot bound."""

COLUMNS: Final[tuple[str, ...]] = (
    "cell",
    "gap",
    "class",
    "label_zh",
    "label_en",
    "is_gap",
    "state",
    "rank",
    "risk",
    "protection",
    *(f"risk_{p}" for p in RISK_PARTS),
    *(f"protection_{p}" for p in PROTECTION_PARTS),
    "count",
    "rate_per_1000",
    "gi_z",
    "hotspot_class",
    "trend_source",
    "trend_class",
    "change_mom_pct",
    "dwell_min_per_day",
    "peak_band",
    "peak_share",
    "peak_dwell_min_per_day",
    "koper_dose",
    "minutes",
    "nearest_unit",
    "population",
    "households",
    "certified_share",
    "at_risk",
    "volunteers",
)
"""Columns of :func:`coverage_gaps`, in order (zone columns follow when zones are given)."""


def _cell_index(frame: pd.DataFrame, what: str, res: int) -> pd.Index:
    if "cell" not in frame.columns:
        raise KeyError(f"{what} has no 'cell' column; columns: {list(frame.columns)}")
    cells = frame["cell"].to_numpy(dtype=np.uint64)
    if cells.size and np.any(cells_res(cells) != res):
        found = sorted({int(r) for r in np.unique(cells_res(cells))})
        raise ValueError(f"{what} has cells at resolution(s) {found}, the area is at {res}")
    index = pd.Index(cells, dtype=np.uint64)
    if index.has_duplicates:
        raise ValueError(f"{what} lists a cell twice; pass one row per cell")
    return index


def _aligned(
    frame: pd.DataFrame | None,
    cells: pd.Index,
    col: str,
    *,
    what: str,
    res: int,
    fill: float,
) -> FloatArray:
    """``frame[col]`` as float64 for each area cell; ``fill`` where missing or NA."""
    if frame is None:
        return np.full(cells.size, fill)
    if col not in frame.columns:
        raise KeyError(f"{what} has no column {col!r}; columns: {list(frame.columns)}")
    index = _cell_index(frame, what, res)
    values = pd.to_numeric(frame[col]).astype("Float64").to_numpy(np.float64, na_value=np.nan)
    out = pd.Series(values, index=index).reindex(cells).to_numpy(dtype=np.float64)
    return np.where(np.isnan(out), fill, out)


def _aligned_text(
    frame: pd.DataFrame | None, cells: pd.Index, col: str, *, what: str, res: int
) -> npt.NDArray[np.object_]:
    if frame is None:
        return np.full(cells.size, None, dtype=object)
    if col not in frame.columns:
        raise KeyError(f"{what} has no column {col!r}; columns: {list(frame.columns)}")
    index = _cell_index(frame, what, res)
    out = pd.Series(frame[col].astype("str").array, index=index).reindex(cells)
    values = out.to_numpy(dtype=object)
    values[out.isna().to_numpy()] = None
    return values


def _optional(frame: pd.DataFrame, cells: pd.Index, col: str, *, what: str, res: int) -> FloatArray:
    if col not in frame.columns:
        return np.full(cells.size, np.nan)
    return _aligned(frame, cells, col, what=what, res=res, fill=np.nan)


def intensity(
    counts: npt.ArrayLike, *, days: float, res: int, full: float = GapScales.incidents_full
) -> FloatArray:
    """The intensity part: ``log(1 + x) / log(1 + full')`` clipped to [0, 1].

    ``x`` is the count per 30 days (``counts * 30 / days``) and ``full'`` is ``full``
    scaled from res 9 to ``res`` by area (:data:`SCALE_RES`). NaN and negatives give 0.
    """
    if not days > 0:
        raise ValueError(f"the incident window must be longer than 0 days, got {days}")
    x = np.asarray(counts, dtype=np.float64) * 30.0 / days
    x = np.where(np.isfinite(x) & (x > 0), x, 0.0)
    top = full * 7.0 ** (SCALE_RES - res)
    return np.asarray(np.minimum(1.0, np.log1p(x) / np.log1p(top)), dtype=np.float64)


def weighted_mean(parts: Mapping[str, FloatArray], weights: Mapping[str, float]) -> FloatArray:
    """Σ wᵢ·partᵢ / Σ wᵢ over the parts present; 0 when no present part has a weight."""
    total = sum(weights[name] for name in parts)
    if not parts or total <= 0:
        size = next(iter(parts.values())).size if parts else 0
        return np.zeros(size, dtype=np.float64)
    acc = sum(weights[name] * values for name, values in parts.items())
    return np.asarray(acc, dtype=np.float64) / total


def gap_class(
    score: npt.ArrayLike, breaks: tuple[float, ...] = GAP_BREAKS
) -> npt.NDArray[np.int64]:
    """The class 0..len(breaks) of each gap score: the number of breaks it reaches."""
    return np.searchsorted(np.asarray(breaks), np.asarray(score, np.float64), side="right").astype(
        np.int64
    )


def _trend(
    emerging: pd.DataFrame | None,
    change: pd.DataFrame | None,
    cells: pd.Index,
    res: int,
) -> tuple[FloatArray, npt.NDArray[np.object_], npt.NDArray[np.object_], FloatArray]:
    """Trend part (the larger of the emerging and the 环比 scores), its source and class."""
    n = cells.size
    pattern = _aligned_text(emerging, cells, "class", what="emerging", res=res)
    e_score = pd.Series(pattern).map(EMERGING_TREND).fillna(0.0).to_numpy(dtype=np.float64)
    mom = _aligned_text(change, cells, "class_mom", what="change", res=res)
    c_score = pd.Series(mom).map(CHANGE_TREND).fillna(0.0).to_numpy(dtype=np.float64)
    pct = (
        _aligned(change, cells, "change_mom_pct", what="change", res=res, fill=np.nan)
        if change is not None
        else np.full(n, np.nan)
    )
    score = np.maximum(e_score, c_score)
    from_change = (c_score > e_score) & (c_score > 0)
    some = score > 0
    source = np.full(n, None, dtype=object)
    source[some] = "emerging"
    source[from_change] = "change_mom"
    klass = np.full(n, None, dtype=object)
    klass[some] = pattern[some]
    klass[from_change] = mom[from_change]
    return score, source, klass, pct


class _Patrol(NamedTuple):
    part: FloatArray
    days: float
    per_day: FloatArray
    peak_band: npt.NDArray[np.object_]
    peak_share: FloatArray
    peak_dwell: FloatArray


def _patrol(
    coverage: pd.DataFrame,
    band_counts: pd.DataFrame | None,
    cells: pd.Index,
    res: int,
    bands: dict[str, tuple[int, int]],
    scales: GapScales,
) -> _Patrol:
    """Band-matched patrol part: dwell per day in each band against the band's standard,
    weighted by the share of the cell's incidents in that band."""
    dwell = _aligned(coverage, cells, "dwell_min", what="coverage", res=res, fill=0.0)
    per_day = _aligned(coverage, cells, "dwell_min_per_day", what="coverage", res=res, fill=0.0)
    seen = per_day > 0
    days = float(np.median(dwell[seen] / per_day[seen])) if seen.any() else float("nan")
    owner = band_of_hour(bands)
    names = list(bands)
    hours = np.array([owner.count(b) for b in names], dtype=np.float64)
    length = hours / 24.0
    band_dwell = np.column_stack(
        [
            _aligned(coverage, cells, f"dwell_min_{b}", what="coverage", res=res, fill=0.0)
            for b in names
        ]
    )
    band_per_day = band_dwell / days if seen.any() else np.zeros_like(band_dwell)
    standard = scales.patrol_min_per_day * 7.0 ** (SCALE_RES - res) * length
    met = np.minimum(1.0, band_per_day / standard)
    if band_counts is None:
        counts = np.zeros((cells.size, len(names)))
    else:
        counts = np.column_stack(
            [
                _aligned(band_counts, cells, f"incidents_{b}", what="band_counts", res=res, fill=0)
                for b in names
            ]
        )
    prior = scales.band_prior
    share = (counts + prior * length) / (counts.sum(axis=1, keepdims=True) + prior)
    peak = np.argmax(share, axis=1)
    rows = np.arange(cells.size)
    return _Patrol(
        part=(share * met).sum(axis=1),
        days=days,
        per_day=per_day,
        peak_band=np.asarray(names, dtype=object)[peak],
        peak_share=share[rows, peak],
        peak_dwell=band_per_day[rows, peak],
    )


def coverage_gaps(
    cells: npt.ArrayLike,
    *,
    heat: pd.DataFrame,
    hotspots: pd.DataFrame,
    coverage: pd.DataFrame,
    reach: pd.DataFrame,
    incident_days: float,
    emerging: pd.DataFrame | None = None,
    change: pd.DataFrame | None = None,
    band_counts: pd.DataFrame | None = None,
    communities: pd.DataFrame | None = None,
    dose: pd.DataFrame | None = None,
    zones: pd.DataFrame | None = None,
    weights: GapWeights = DEFAULT_WEIGHTS,
    scales: GapScales = DEFAULT_SCALES,
    bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS,
    min_class: int = DEFAULT_GAP_CLASS,
) -> pd.DataFrame:
    """The gap score of every cell of an area: risk × (1 − protection), with its parts.

    Every input is a per-cell frame the caller computed once for the same cells, window
    and resolution (:func:`layers.coverage_gaps.cell_layers` computes them all); a cell
    of the area missing from a frame has nothing there (no incidents, no dwell, no unit).

    Parameters
    ----------
    cells : array_like of uint64
        The area's cells, one resolution. Rows of the frames outside it are ignored.
    heat : DataFrame
        :func:`layers.incident_heat.incident_heat`: ``cell``, ``count``; ``rate_per_1000``
        and ``population`` are reported when present (population is needed for the
        volunteer part).
    hotspots : DataFrame
        :func:`layers.hotspots.gi_star`: ``cell``, ``gi_z``.
    coverage : DataFrame
        :func:`layers.patrol_coverage.patrol_coverage` with the same ``bands``:
        ``dwell_min``, ``dwell_min_per_day`` and ``dwell_min_<band>``.
    reach : DataFrame
        :func:`layers.response_reach.reach`: ``minutes`` (NaN: no unit), ``nearest_unit``.
    incident_days : float
        Length in days of the window of ``heat`` (counts are read per 30 days).
    emerging : DataFrame, optional
        :func:`layers.emerging.emerging_hotspots` (``class``), for the trend part.
    change : DataFrame, optional
        :func:`layers.change.period_change` (``class_mom``, ``change_mom_pct``), for the
        trend part. Without ``emerging`` and ``change`` the trend part is left out.
    band_counts : DataFrame, optional
        :func:`layers.coverage_gaps.band_counts` (``incidents_<band>``): which hours the
        patrol part weighs. Without it, bands weigh by their length.
    communities : DataFrame, optional
        :func:`layers.coverage_gaps.community_cells` (``households``,
        ``certified_households``, ``at_risk``, ``volunteers``). Without it the certified
        and volunteer parts are left out.
    dose : DataFrame, optional
        :func:`layers.patrol_coverage.koper_dose` (``value``): reported, not scored (it
        exists only for hot-spot cells, so it cannot rank all cells alike).
    zones : DataFrame, optional
        ``cell`` and zone columns (e.g. ``grid_id``, ``precinct_id``) copied onto the rows.
    weights : GapWeights
        Weights of the parts; see :class:`GapWeights` for the defaults and why.
    scales : GapScales
        How raw numbers become parts; see :class:`GapScales`.
    bands : mapping of str to (int, int)
        The time-of-day bands of ``coverage`` and ``band_counts``.
    min_class : int
        Cells of this class (1..4) or above are gaps; default 2 (a moderate gap).

    Returns
    -------
    DataFrame
        One row per area cell, sorted by cell, columns :data:`COLUMNS` (then the zone
        columns): ``gap`` (0..1), ``class`` (0..4, :data:`GAP_CLASSES`), ``is_gap``
        (``class >= min_class``), ``state`` (``"gap"`` or ``"covered"``), ``rank``
        (1 = largest gap; ties by cell), ``risk`` and ``protection`` (0..1) with their
        parts ``risk_*`` and ``protection_*`` (0..1; NaN for a part left out), and the
        numbers behind them. ``attrs`` holds ``weights``, ``scales``, ``parts`` (those
        used), ``breaks``, ``min_class``, ``incident_days`` and ``patrol_days``.

    Notes
    -----
    Parts, each in [0, 1] (figures per res-9 cell, scaled by area at other resolutions):

    - ``risk_intensity``: :func:`intensity` of the count — ``log(1 + x) / log(1 + 30)``
      with ``x`` the incidents per 30 days, clipped to 1;
    - ``risk_hotspot``: Gi* z clipped to [0, 2.576] over 2.576 (a 99 % hot spot is 1);
    - ``risk_trend``: the larger of :data:`EMERGING_TREND` and :data:`CHANGE_TREND`;
    - ``risk = intensity × (w_i + w_h·hotspot + w_t·trend) / (w_i + w_h + w_t)``;
    - ``protection_patrol``: Σ over bands of (share of the cell's incidents in the band,
      smoothed by ``scales.band_prior``) × min(1, dwell per day in the band / the band's
      share of ``scales.patrol_min_per_day``) — patrol when incidents happen;
    - ``protection_reach``: 1 − minutes / ``scales.reach_limit_min``, clipped (0 with no
      unit);
    - ``protection_certified``: households of certified communities whose title is not
      at risk over all households of the cell's communities (0 without communities);
    - ``protection_volunteers``: min(1, volunteers / (``scales.volunteers_per_1000`` per
      1,000 residents)); 1 with volunteers but no known residents, 0 without volunteers;
    - ``protection``: the weighted mean of the protection parts;
    - ``gap = risk × (1 − protection)``.
    """
    area = area_to_cells(cells)
    res = int(cells_res(area[:1])[0]) if area.size else SCALE_RES
    index = pd.Index(area, dtype=np.uint64)
    spec = check_bands(bands)
    if not 1 <= min_class <= max(GAP_CLASSES):
        raise ValueError(f"min_class must be 1..{max(GAP_CLASSES)}, got {min_class}")
    n = area.size

    count = _aligned(heat, index, "count", what="heat", res=res, fill=0.0)
    rate = _optional(heat, index, "rate_per_1000", what="heat", res=res)
    population = _optional(heat, index, "population", what="heat", res=res)
    gi_z = _aligned(hotspots, index, "gi_z", what="hotspots", res=res, fill=0.0)
    trend, trend_source, trend_class, change_pct = _trend(emerging, change, index, res)
    base = intensity(count, days=incident_days, res=res, full=scales.incidents_full)
    qualifiers: dict[str, FloatArray] = {
        "intensity": np.ones(n),
        "hotspot": np.clip(gi_z, 0.0, Z_FULL) / Z_FULL,
    }
    if emerging is not None or change is not None:
        qualifiers["trend"] = trend

    patrol = _patrol(coverage, band_counts, index, res, spec, scales)
    minutes = _aligned(reach, index, "minutes", what="reach", res=res, fill=np.nan)
    reach_part = np.where(
        np.isnan(minutes), 0.0, np.clip(1.0 - minutes / scales.reach_limit_min, 0.0, 1.0)
    )
    protection_parts: dict[str, FloatArray] = {
        "patrol": patrol.part,
        "reach": reach_part,
    }
    households = np.full(n, np.nan)
    certified_share = np.full(n, np.nan)
    at_risk = np.zeros(n)
    volunteers = np.full(n, np.nan)
    if communities is not None:

        def col(name: str) -> FloatArray:
            return _aligned(communities, index, name, what="communities", res=res, fill=0.0)

        households, good, at_risk, volunteers = (
            col(c) for c in ("households", "certified_households", "at_risk", "volunteers")
        )
        certified_share = np.divide(good, households, out=np.full(n, np.nan), where=households > 0)
        need = scales.volunteers_per_1000 * population / 1000.0
        known = np.isfinite(need) & (need > 0)
        protection_parts["certified"] = np.nan_to_num(certified_share, nan=0.0)
        protection_parts["volunteers"] = np.where(
            known,
            np.minimum(1.0, np.divide(volunteers, need, out=np.zeros(n), where=known)),
            (volunteers > 0).astype(np.float64),
        )

    w = asdict(weights)
    risk = base * weighted_mean(qualifiers, w)
    protection = weighted_mean(protection_parts, w)
    gap = risk * (1.0 - protection)
    klass = gap_class(gap)
    is_gap = klass >= min_class
    order = np.lexsort((area, -gap))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)
    risk_parts = {"intensity": base, **{k: v for k, v in qualifiers.items() if k != "intensity"}}

    out = pd.DataFrame(
        {
            "cell": area,
            "gap": gap,
            "class": klass,
            "label_zh": pd.array(np.asarray(_LABELS_ZH, dtype=object)[klass], dtype="str"),
            "label_en": pd.array(np.asarray(_LABELS_EN, dtype=object)[klass], dtype="str"),
            "is_gap": is_gap,
            "state": pd.array(np.where(is_gap, "gap", "covered"), dtype="str"),
            "rank": rank,
            "risk": risk,
            "protection": protection,
            **{f"risk_{p}": risk_parts.get(p, np.full(n, np.nan)) for p in RISK_PARTS},
            **{
                f"protection_{p}": protection_parts.get(p, np.full(n, np.nan))
                for p in PROTECTION_PARTS
            },
            "count": count.astype(np.int64),
            "rate_per_1000": rate,
            "gi_z": gi_z,
            "hotspot_class": pd.array(z_to_class(gi_z), dtype="str"),
            "trend_source": pd.array(trend_source, dtype="str"),
            "trend_class": pd.array(trend_class, dtype="str"),
            "change_mom_pct": change_pct,
            "dwell_min_per_day": patrol.per_day,
            "peak_band": pd.array(patrol.peak_band, dtype="str"),
            "peak_share": patrol.peak_share,
            "peak_dwell_min_per_day": patrol.peak_dwell,
            "koper_dose": _aligned(dose, index, "value", what="dose", res=res, fill=np.nan),
            "minutes": minutes,
            "nearest_unit": pd.array(
                _aligned_text(reach, index, "nearest_unit", what="reach", res=res), dtype="str"
            ),
            "population": population,
            "households": households,
            "certified_share": certified_share,
            "at_risk": at_risk.astype(np.int64),
            "volunteers": volunteers,
        },
        columns=list(COLUMNS),
    )
    if zones is not None:
        zone_index = _cell_index(zones, "zones", res)
        for name in [c for c in zones.columns if c != "cell"]:
            values = pd.Series(zones[name].to_numpy(dtype=object), index=zone_index)
            out[name] = pd.array(values.reindex(index).to_numpy(dtype=object), dtype="str")
    patrol_days = patrol.days
    out.attrs.update(
        {
            "weights": w,
            "scales": asdict(scales),
            "parts": [*risk_parts, *protection_parts],
            "breaks": list(GAP_BREAKS),
            "min_class": int(min_class),
            "incident_days": float(incident_days),
            "patrol_days": None if math.isnan(patrol_days) else patrol_days,
        }
    )
    return out


__all__ = [
    "CHANGE_TREND",
    "COLUMNS",
    "DEFAULT_GAP_CLASS",
    "DEFAULT_SCALES",
    "DEFAULT_WEIGHTS",
    "EMERGING_TREND",
    "GAP_BREAKS",
    "GAP_CLASSES",
    "PROTECTION_PARTS",
    "RISK_PARTS",
    "SCALE_RES",
    "STATES",
    "Z_FULL",
    "GapScales",
    "GapWeights",
    "coverage_gaps",
    "gap_class",
    "intensity",
    "weighted_mean",
]
