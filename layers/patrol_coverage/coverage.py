"""Patrol coverage per H3 cell: fixes, visits, units, dwell, last visit and longest gap."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl

from geodata.cubes.coarser import exact_cell, to_polars
from geodata.cubes.patrol import BREAK_S
from geodata.cubes.tables import lineage
from geodata.schema import UNIT_KINDS, Label
from layers.patrol_coverage.bands import (
    DEFAULT_BANDS,
    US_PER_HOUR,
    band_of_hour,
    check_bands,
    hour_mask,
    segments,
    window,
)
from layers.patrol_coverage.intervals import (
    as_cells,
    check_res,
    clip_to_segments,
    longest_gaps,
    visits_near,
)

COVERAGE_CLASS_BINS: tuple[float, ...] = (0.0, 5.0, 15.0, 30.0, 60.0)
"""Upper bounds (dwell minutes per day) of coverage classes 0..4; class 5 is above 60.
Class 0 is "no dwell at all". 30 min/day is the default coverage standard
(:class:`~layers.patrol_coverage.CoverageStandard`), so classes 4 and 5 meet it."""

COVERAGE_CLASSES: Mapping[int, Label] = MappingProxyType(
    {
        0: Label("无巡逻", "No patrol"),
        1: Label("每天不超过5分钟", "Up to 5 min a day"),
        2: Label("每天5–15分钟", "5–15 min a day"),
        3: Label("每天15–30分钟", "15–30 min a day"),
        4: Label("每天30–60分钟", "30–60 min a day"),
        5: Label("每天60分钟以上", "Over 60 min a day"),
    }
)
"""Labels of the ``class`` column of :func:`patrol_coverage`."""

_CUBE_COLUMNS = ("cell", "hour", "unit_kind", "fixes", "dwell_s")


def unit_kinds_of(unit_kinds: Iterable[str] | None) -> list[str]:
    """The unit kinds asked for, in the vocabulary's order (all when None)."""
    if unit_kinds is None:
        return list(UNIT_KINDS)
    wanted = set(unit_kinds)
    unknown = sorted(wanted - set(UNIT_KINDS))
    if unknown:
        raise ValueError(f"unknown unit kinds {unknown}; known: {', '.join(UNIT_KINDS)}")
    if not wanted:
        raise ValueError("unit_kinds is empty: name at least one kind, or pass None for all")
    return [k for k in UNIT_KINDS if k in wanted]


def classes(values: npt.ArrayLike, bins: Sequence[float]) -> npt.NDArray[np.int64]:
    """Class of each value: 0 for ``<= bins[0]``, ``i`` for ``bins[i-1] < v <= bins[i]``,
    ``len(bins)`` above the last bound."""
    upper = np.asarray(bins, dtype=np.float64)
    if upper.size == 0 or np.any(np.diff(upper) <= 0):
        raise ValueError(f"class bins must be a non-empty increasing sequence, got {bins}")
    return np.searchsorted(upper, np.asarray(values, dtype=np.float64), side="left").astype(
        np.int64
    )


def patrol_coverage(
    patrol_cube: pd.DataFrame | pl.DataFrame,
    visits: pd.DataFrame | pl.DataFrame,
    *,
    res: int,
    since: pd.Timestamp | str,
    until: pd.Timestamp | str,
    unit_kinds: Iterable[str] | None = None,
    bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS,
    band: str | None = None,
    cells: npt.ArrayLike | None = None,
    class_bins: Sequence[float] = COVERAGE_CLASS_BINS,
    max_gap_s: float = BREAK_S,
) -> pd.DataFrame:
    """Patrol coverage per H3 cell at resolution ``res`` over a time window.

    Fixes and dwell come from the patrol cube (they add up, so a coarser cell is the sum
    of its children; the dwell is the cube's, capped per fix by unit kind at build time).
    Visits, distinct units, the last visit and the longest gap come from the visits
    table merged at ``res`` (:func:`geodata.cubes.visits_at`), so they are exact: a unit
    walking through three children of a cell makes one visit to it, not three.

    The rules, exactly:

    * A **visit** counts when it starts (``entered``) inside the window — and, with a
      ``band``, in an hour of that band. ``last_visit`` is the start of the latest one.
    * A unit is **present** in a cell from ``entered`` to ``left`` of its visit (``left``
      is the last fix plus the dwell credited to it). ``units`` counts the distinct units
      present at some moment of the window (of the band's hours, with a ``band``),
      also those that arrived before the window started.
    * The **longest gap** is the longest stretch of the window during which no unit of
      the kinds asked for was present: from ``since`` to the first presence, between
      presences (of any unit: two units overlapping leave no gap), and from the last
      presence to ``until``. A cell never visited has a gap as long as the window. With
      a ``band``, each run of band hours (one night, 22:00–06:00) is measured on its own,
      so the gap is at most the band's length.
    * **Fixes** and **dwell** count the cube rows whose hour lies in the window (and in
      the band).

    Parameters
    ----------
    patrol_cube : pandas.DataFrame or polars.DataFrame
        The patrol cube (``cell``, ``hour``, ``unit_kind``, ``fixes``, ``dwell_s``) at a
        resolution no coarser than ``res``. Not modified.
    visits : pandas.DataFrame or polars.DataFrame
        The visits table of the same build, holding every stay that reaches into the
        window (reading it from 10 minutes before ``since`` is enough for stays shorter
        than that; the whole table is always right). Not modified.
    res : int
        H3 resolution of the result (6..11 in the dashboard).
    since, until : pandas.Timestamp or str
        The window ``since <= t < until``, whole hours of naive China Standard Time.
    unit_kinds : iterable of str, optional
        Codes of :data:`geodata.schema.UNIT_KINDS` to count; None counts all of them.
        Rows of other kinds are left out, so the per-kind columns add up to the totals.
    bands : mapping of str to (int, int)
        Time-of-day bands sharing out the 24 hours, see :data:`DEFAULT_BANDS`.
    band : str, optional
        Restrict the totals and the per-kind columns to this band; None is the whole day.
    cells : array_like of uint64, optional
        The area's cells at ``res``: the result has exactly these rows, with zeros where
        nothing patrolled. By default, every cell with a fix or a presence in the window.
    class_bins : sequence of float
        Upper bounds of the classes of ``value``, see :data:`COVERAGE_CLASS_BINS`.
    max_gap_s : float
        Longest silence inside one visit, as in the build (:data:`geodata.cubes.BREAK_S`).

    Returns
    -------
    pandas.DataFrame
        One row per cell, sorted by ``cell``:

        - ``cell`` (uint64 at ``res``), ``value`` (dwell minutes per day of the window:
          what the map colours) and ``class`` (by ``class_bins``, see
          :data:`COVERAGE_CLASSES`);
        - ``fixes``, ``visits``, ``units`` (int64), ``dwell_min``, ``dwell_min_per_day``
          (float64), ``last_visit`` (datetime64[us], NaT without a visit) and
          ``longest_gap_h`` (float64);
        - per unit kind ``k`` asked for, in the vocabulary's order: ``dwell_min_<k>``,
          ``visits_<k>``, ``units_<k>`` (in the band, when one is given);
        - per band ``b`` of ``bands``: ``dwell_min_<b>`` and ``visits_<b>`` — always all
          bands, whatever ``band`` is, so a click can say "120 min by day, none at night".

        Wide columns rather than a long frame: one row per cell is what the map draws,
        and the explaining numbers travel with it.
    """
    w = window(since, until)
    spec = check_bands(bands)
    mask = hour_mask(spec, band)
    kinds = unit_kinds_of(unit_kinds)
    owner = band_of_hour(spec)
    area = None if cells is None else as_cells(cells, res, "cells")

    cube = to_polars(patrol_cube)
    missing = [c for c in _CUBE_COLUMNS if c not in cube.columns]
    if missing:
        raise ValueError(f"the patrol cube lacks columns {missing}; has {cube.columns}")
    check_res(cube["cell"], res, "the patrol cube")
    by_cube = _cube_sums(cube, res, w.start, w.end, kinds, spec, owner, band)

    v = visits_near(
        visits,
        res=res,
        kinds=kinds,
        start_us=w.start,
        end_us=w.end,
        margin_s=max_gap_s,
        max_gap_s=max_gap_s,
    )
    if area is not None:
        v = v.join(pl.DataFrame({"cell": pl.Series(area, dtype=pl.UInt64)}), on="cell", how="semi")
    hour_of_entry = (pl.col("entered") // US_PER_HOUR) % 24
    v = v.with_columns(
        hour_of_entry.replace_strict(dict(enumerate(owner)), return_dtype=pl.String).alias("band"),
        hour_of_entry.replace_strict(dict(enumerate(mask.tolist())), return_dtype=pl.Boolean).alias(
            "in_band"
        ),
    )
    starts = v.filter((pl.col("entered") >= w.start) & (pl.col("entered") < w.end))
    counted = pl.col("in_band")
    by_visits = starts.group_by("cell").agg(
        counted.sum().cast(pl.Int64).alias("visits"),
        pl.col("entered").filter(counted).max().alias("last_visit"),
        *(
            (counted & (pl.col("unit_kind") == k)).sum().cast(pl.Int64).alias(f"visits_{k}")
            for k in kinds
        ),
        *((pl.col("band") == b).sum().cast(pl.Int64).alias(f"visits_{b}") for b in spec),
    )

    seg_start, seg_end = segments(w, mask)
    pieces = clip_to_segments(
        v.select("cell", "unit_id", "unit_kind", start="entered", end="left"), seg_start, seg_end
    )
    by_units = pieces.group_by("cell").agg(
        pl.col("unit_id").n_unique().cast(pl.Int64).alias("units"),
        *(
            pl.col("unit_id")
            .filter(pl.col("unit_kind") == k)
            .n_unique()
            .cast(pl.Int64)
            .alias(f"units_{k}")
            for k in kinds
        ),
    )
    gaps = longest_gaps(pieces, seg_start, seg_end)
    whole_gap = int((seg_end - seg_start).max()) if seg_start.size else 0

    if area is not None:
        frame = pl.DataFrame({"cell": pl.Series(area, dtype=pl.UInt64)})
    else:
        frame = (
            pl.concat([by_cube.select("cell"), by_visits.select("cell"), by_units.select("cell")])
            .unique()
            .sort("cell")
        )
    for part in (by_cube, by_visits, by_units, gaps):
        frame = frame.join(part, on="cell", how="left")
    return _finish(frame, kinds, list(spec), w.days, whole_gap, class_bins)


def _cube_sums(
    cube: pl.DataFrame,
    res: int,
    start_us: int,
    end_us: int,
    kinds: list[str],
    spec: dict[str, tuple[int, int]],
    owner: list[str],
    band: str | None,
) -> pl.DataFrame:
    hour_us = pl.col("hour").cast(pl.Datetime("us")).dt.epoch("us")
    exact = exact_cell(cube.columns, cube["cell"], res)
    rows = (
        cube.lazy()
        .select(*_CUBE_COLUMNS, *lineage(cube.columns))
        .with_columns(hour_us.alias("_h"))
        .filter(
            (pl.col("_h") >= start_us) & (pl.col("_h") < end_us),
            pl.col("unit_kind").is_in(kinds),
        )
        .with_columns(
            exact,
            ((pl.col("_h") // US_PER_HOUR) % 24)
            .replace_strict(dict(enumerate(owner)), return_dtype=pl.String)
            .alias("_band"),
            pl.col("dwell_s").cast(pl.Float64),
            pl.col("fixes").cast(pl.Int64),
        )
    )
    sel = pl.lit(True) if band is None else pl.col("_band") == band
    return (
        rows.group_by("cell")
        .agg(
            pl.col("fixes").filter(sel).sum().alias("fixes"),
            pl.col("dwell_s").filter(sel).sum().alias("dwell_s"),
            *(
                pl.col("dwell_s")
                .filter(sel & (pl.col("unit_kind") == k))
                .sum()
                .alias(f"dwell_s_{k}")
                for k in kinds
            ),
            *(
                pl.col("dwell_s").filter(pl.col("_band") == b).sum().alias(f"dwell_s_{b}")
                for b in spec
            ),
        )
        .collect()
    )


def _finish(
    frame: pl.DataFrame,
    kinds: list[str],
    band_names: list[str],
    days: float,
    whole_gap_us: int,
    class_bins: Sequence[float],
) -> pd.DataFrame:
    counts = ["fixes", "visits", "units"]
    counts += [f"{m}_{k}" for k in kinds for m in ("visits", "units")]
    counts += [f"visits_{b}" for b in band_names]
    dwell = ["dwell_s"] + [f"dwell_s_{k}" for k in kinds] + [f"dwell_s_{b}" for b in band_names]
    f = frame.with_columns(
        *(pl.col(c).fill_null(0).cast(pl.Int64) for c in counts),
        *(
            (pl.col(c).fill_null(0.0) / 60.0).alias(c.replace("dwell_s", "dwell_min"))
            for c in dwell
        ),
        (pl.col("gap_us").fill_null(whole_gap_us) / US_PER_HOUR).alias("longest_gap_h"),
        pl.col("last_visit").cast(pl.Datetime("us")),
    ).with_columns((pl.col("dwell_min") / days).alias("dwell_min_per_day"))
    value = f["dwell_min_per_day"].to_numpy()
    f = f.with_columns(pl.Series("value", value), pl.Series("class", classes(value, class_bins)))
    columns = [
        "cell",
        "value",
        "class",
        "fixes",
        "visits",
        "units",
        "dwell_min",
        "dwell_min_per_day",
        "last_visit",
        "longest_gap_h",
        *(f"{m}_{k}" for k in kinds for m in ("dwell_min", "visits", "units")),
        *(f"{m}_{b}" for b in band_names for m in ("dwell_min", "visits")),
    ]
    out = f.select(columns).sort("cell").to_pandas()
    out["cell"] = out["cell"].astype(np.uint64)
    return out


__all__ = ["COVERAGE_CLASSES", "COVERAGE_CLASS_BINS", "patrol_coverage", "unit_kinds_of"]
