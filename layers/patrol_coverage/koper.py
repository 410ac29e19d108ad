"""The Koper dose: short, repeated patrol stops at hot spots, measured hour by hour.

Koper (1995, *Justice Quarterly* 12(4), "Just enough police presence") found in the
Minneapolis Hot Spots Patrol data that disorder stayed away from a hot spot longest
after a police stop of about 10–15 minutes; shorter stops bought little residual
deterrence, and longer ones bought no more per minute spent (the "Koper curve"). The
practice drawn from it: stop at each hot spot for 10–15 minutes, at unpredictable times,
and come back within about two hours.

The rule, exactly (all settings configurable):

1. **Stops.** The visits of the units asked for are merged at ``res``
   (:func:`geodata.cubes.visits_at`). A stop lasts from ``entered`` to ``left`` (the last
   fix plus the dwell the build credits to it, capped by unit kind). A silence inside a
   visit is at most 10 minutes (:data:`geodata.cubes.BREAK_S`), so time nobody saw can
   never make a stop long enough on its own.
2. **Doses.** A stop in a hot-spot cell lasting at least ``min_dwell_min`` is a dose.
   Longer stops still count as one dose (a unit that stayed 40 minutes certainly dwelt
   10–15), but only ``max_dwell_min`` of it is *credited* (``dose_min``); the rest is
   ``excess_min`` — Koper's diminishing returns, time a planner could spend at the next
   hot spot. Shorter stops are ``short_visits``: presence, but no dose.
3. **Protection.** A dose protects its cell from its arrival until ``max_revisit_h``
   after it left: ``[entered, left + max_revisit_h)``. Doses before the window count
   too (a stop at 21:30 protects 22:00–23:42 of the night band).
4. **Dosed hours.** An hour of the window (with a ``band``, an hour of that band) is
   *dosed* when it lies entirely inside the protection of the cell — at every moment of
   it, some unit was there for a dose, or had been no more than ``max_revisit_h`` ago.
   Revisits no more than ``max_revisit_h`` apart (from leaving to the next arrival)
   therefore dose every hour between them; a longer absence leaves the hours it covers
   undosed.
5. **Dose share** of a cell = dosed hours / hours of the window (in the band); overall
   (:func:`koper_summary`) = dosed hours of all hot-spot cells / their hours.

Example: a unit stops 12 minutes every 90 minutes from 10:00 to 16:00 — every hour of
10:00–16:00 is dosed (share 1). Every 3 hours (10:00, 13:00): protection 10:00–12:12 and
13:00–15:12, so the hours 10, 11, 13 and 14 are dosed and 12 and 15 are not (4 of 6).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl

from geodata.cubes.patrol import BREAK_S
from layers.patrol_coverage.bands import (
    DEFAULT_BANDS,
    US_PER_HOUR,
    US_PER_MIN,
    check_bands,
    hour_mask,
    window,
    window_hours,
)
from layers.patrol_coverage.coverage import classes, unit_kinds_of
from layers.patrol_coverage.intervals import as_cells, union, visits_near

SHARE_BINS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
"""Upper bounds of the classes of a share (dose share, coverage share): class 0 is none
at all, 1 up to a quarter, 2 up to half, 3 up to three quarters, 4 above."""


def koper_dose(
    visits: pd.DataFrame | pl.DataFrame,
    hotspot_cells: npt.ArrayLike,
    *,
    res: int,
    since: pd.Timestamp | str,
    until: pd.Timestamp | str,
    min_dwell_min: float = 10.0,
    max_dwell_min: float = 15.0,
    max_revisit_h: float = 2.0,
    unit_kinds: Iterable[str] | None = None,
    bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS,
    band: str | None = None,
    class_bins: Sequence[float] = SHARE_BINS,
    max_gap_s: float = BREAK_S,
) -> pd.DataFrame:
    """The Koper dose of each hot-spot cell over a window (the rule: module docstring).

    Parameters
    ----------
    visits : pandas.DataFrame or polars.DataFrame
        The visits table, holding every stay that ends after
        ``since - max_revisit_h - min_dwell_min - 10 min`` and starts before ``until``
        (earlier doses protect the first hours). Not modified.
    hotspot_cells : array_like of uint64
        The hot-spot cells at ``res`` (e.g. the ``hot_95`` and ``hot_99`` cells of
        :func:`layers.hotspots.gi_star`); each gets a row.
    res : int
        H3 resolution of the cells.
    since, until : pandas.Timestamp or str
        The window, whole hours of naive China Standard Time.
    min_dwell_min : float
        Shortest stop (minutes) that is a dose; Koper's 10 minutes.
    max_dwell_min : float
        Most minutes of one stop credited as dose; Koper's 15 minutes.
    max_revisit_h : float
        How long (hours) a dose protects after the unit left; Koper's about two hours.
    unit_kinds : iterable of str, optional
        Unit kinds whose stops count; None for all (volunteers' stops deter too).
    bands, band
        Count only the hours of this time-of-day band (None: every hour); see
        :data:`layers.patrol_coverage.DEFAULT_BANDS`.
    class_bins : sequence of float
        Upper bounds of the classes of ``value``, see :data:`SHARE_BINS`.
    max_gap_s : float
        Longest silence inside one visit, as in the build.

    Returns
    -------
    pandas.DataFrame
        One row per hot-spot cell, sorted by ``cell``: ``cell``, ``value`` (the dose
        share, 0..1), ``class``, ``hours`` (hours of the window in the band),
        ``dosed_hours``, ``doses`` and ``short_visits`` (stops starting in the window and
        the band), ``dose_min`` (credited minutes of those doses), ``excess_min``
        (their minutes beyond ``max_dwell_min``) and ``last_dose`` (arrival of the latest,
        NaT without one).
    """
    if not 0 < min_dwell_min <= max_dwell_min:
        raise ValueError(
            f"need 0 < min_dwell_min <= max_dwell_min, got {min_dwell_min}, {max_dwell_min}"
        )
    if not max_revisit_h > 0:
        raise ValueError(f"max_revisit_h must be positive, got {max_revisit_h}")
    w = window(since, until)
    mask = hour_mask(check_bands(bands), band)
    hours = window_hours(w, mask)
    if hours.size == 0:
        raise ValueError(f"the window {since} .. {until} holds no hour of the band {band!r}")
    hot = pl.Series("cell", as_cells(hotspot_cells, res, "hotspot_cells"), dtype=pl.UInt64)
    kinds = unit_kinds_of(unit_kinds)
    revisit_us = round(max_revisit_h * US_PER_HOUR)
    min_us, max_us = round(min_dwell_min * US_PER_MIN), round(max_dwell_min * US_PER_MIN)

    v = visits_near(
        visits,
        res=res,
        kinds=kinds,
        start_us=w.start,
        end_us=w.end,
        margin_s=max_revisit_h * 3600 + min_dwell_min * 60 + max_gap_s,
        max_gap_s=max_gap_s,
    ).join(pl.DataFrame({"cell": hot}), on="cell", how="semi")
    stay = pl.col("left") - pl.col("entered")
    v = v.with_columns(stay.alias("stay"), (stay >= min_us).alias("dose"))
    in_band = ((pl.col("entered") // US_PER_HOUR) % 24).replace_strict(
        dict(enumerate(mask.tolist())), return_dtype=pl.Boolean
    )
    dose = pl.col("dose")
    stops = (
        v.filter((pl.col("entered") >= w.start) & (pl.col("entered") < w.end) & in_band)
        .group_by("cell")
        .agg(
            dose.sum().cast(pl.Int64).alias("doses"),
            (~dose).sum().cast(pl.Int64).alias("short_visits"),
            pl.col("stay").filter(dose).clip(upper_bound=max_us).sum().alias("_credited"),
            (pl.col("stay").filter(dose) - max_us).clip(lower_bound=0).sum().alias("_excess"),
            pl.col("entered").filter(dose).max().alias("last_dose"),
        )
    )

    protected = union(
        v.filter(dose).select("cell", start="entered", end=pl.col("left") + revisit_us)
    )
    # Whole hours inside a protected interval [s, e): from s rounded up to e rounded down.
    first = ((pl.col("start") + US_PER_HOUR - 1) // US_PER_HOUR) * US_PER_HOUR
    stop = (pl.col("end") // US_PER_HOUR) * US_PER_HOUR
    counted = pl.Series("hour", hours, dtype=pl.Int64)
    dosed = (
        protected.filter(stop > first)
        .select("cell", pl.int_ranges(first, stop, US_PER_HOUR).alias("hour"))
        .explode("hour")
        .join(pl.DataFrame({"hour": counted}), on="hour", how="semi")
        .group_by("cell")
        .agg(pl.len().cast(pl.Int64).alias("dosed_hours"))
    )

    frame = (
        pl.DataFrame({"cell": hot})
        .join(stops, on="cell", how="left")
        .join(dosed, on="cell", how="left")
        .with_columns(
            pl.col("doses", "short_visits", "dosed_hours").fill_null(0),
            pl.lit(hours.size, dtype=pl.Int64).alias("hours"),
            (pl.col("_credited").fill_null(0) / US_PER_MIN).alias("dose_min"),
            (pl.col("_excess").fill_null(0) / US_PER_MIN).alias("excess_min"),
            pl.col("last_dose").cast(pl.Datetime("us")),
        )
        .with_columns((pl.col("dosed_hours") / pl.col("hours")).alias("value"))
    )
    value = frame["value"].to_numpy()
    frame = frame.with_columns(pl.Series("class", classes(value, class_bins)))
    out = frame.select(
        "cell",
        "value",
        "class",
        "hours",
        "dosed_hours",
        "doses",
        "short_visits",
        "dose_min",
        "excess_min",
        "last_dose",
    ).to_pandas()
    out["cell"] = out["cell"].astype(np.uint64)
    return out


__all__ = ["SHARE_BINS", "koper_dose"]
