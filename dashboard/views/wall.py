"""The wall screen's data (指挥中心大屏): headline figures, the top gaps and four map views.

Kept apart from the map's views on purpose. Everyone in a command centre sees the wall,
so this module returns only what the wall shows, built from whitelisted fields: H3 cells
at :data:`WALL_RES` with numbers, counts and shares, and the names of precincts and grids
(public places). Never names of people (the grids' community officers), incident ids,
addresses or free text: it reads the cubes, not the raw incidents, and copies no text
column of any table except those place names and the reason lines the gap layer writes
from numbers.

Everything is computed once per data version and scope (:func:`wall_data`, about a second
for the county demo) with :func:`layers.coverage_gaps.cell_layers`, whose per-cell layers
feed all four views and most figures. Windows end at the newest hour of the data
(:func:`data_end`), so an old data set shows its own last day — and the wall says how old
it is (the stale banner).

- **Today** (今日) runs from midnight of the newest data's day to its newest hour;
  日环比 compares the same hours a day earlier, 同比 a year earlier. **This week** (本周)
  runs from Monday 00:00; 周环比 compares with the same hours a week earlier.
- **Risk** (incident heat, hot spots, gaps, safe communities): the last 30 days.
- **Protection** (patrol coverage, Koper dose): the last 7 days.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
import threading
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dashboard.cache import LayerCache, cache_key
from dashboard.datasource import DataSource
from dashboard.views.base import NO_DATA_COLOUR, Category, LayerResult, payload, style
from dashboard.views.protection import SHARE_CATEGORIES
from geodata.cubes.build import META_FILE
from geodata.schema import Label
from geodata.store import MANIFEST, cubes_dir
from layers.change import total_change
from layers.coverage_gaps import GAP_CLASSES, cell_layers, gaps_of, top_gaps
from layers.coverage_gaps.inputs import HOT_CLASSES
from layers.patrol_coverage import CoverageStandard, koper_summary
from layers.safe_community import cell_status

log = logging.getLogger(__name__)

WALL_RES = 8
"""H3 resolution of the wall's map: ≈0.74 km² hexagons, a county in ~6,000 of them."""
RISK_DAYS = 30
PATROL_DAYS = 7
TOP_GAPS = 6
"""Gaps sent to the wall; it shows as many whole entries as fit its screen."""

# Gap classes 1 (minor) to 4 (critical): yellow to dark red, bright on the dark wall.
GAP_COLOURS = ("#fde68a", "#fb923c", "#ef4444", "#b91c1c")
# Incident heat on a dark background: dark-to-bright reds, so more reads brighter.
HEAT_COLOURS = ("#7f1d1d", "#b91c1c", "#ef4444", "#fb923c", "#fde047")
# Patrol dwell: blues, mid to pale, so more patrol reads brighter on the dark wall.
PATROL_COLOURS = ("#2563eb", "#3b82f6", "#60a5fa", "#93c5fd", "#e0f2fe")
# Safe communities on the dark wall: more certified households read brighter green;
# none certified is a dim stone, a title at risk bright violet, households unknown slate.
COMMUNITY_COLOURS = ("#57534e", "#166534", "#15803d", "#22c55e", "#86efac", "#e879f9", "#475569")

VIEW_TITLES: dict[str, Label] = {
    "gaps": Label("防控缺口", "Protection gaps"),
    "heat": Label("警情热力与热点", "Incident heat and hot spots"),
    "patrol": Label("夜间巡逻覆盖", "Patrol coverage at night"),
    "community": Label("平安创建", "Safe communities"),
}
VIEW_WINDOWS: dict[str, Label] = {
    "gaps": Label(
        f"近{RISK_DAYS}天警情 · 近{PATROL_DAYS}天巡逻",
        f"incidents {RISK_DAYS} days · patrols {PATROL_DAYS} days",
    ),
    "heat": Label(f"近{RISK_DAYS}天", f"last {RISK_DAYS} days"),
    "patrol": Label(f"近{PATROL_DAYS}天 · 22–06 时", f"last {PATROL_DAYS} nights · 22–06 h"),
    "community": Label(f"近{RISK_DAYS}天警情核验", f"titles checked against {RISK_DAYS} days"),
}
HOTSPOT_MARK = Label("热点（Gi* 95% 以上置信）", "Hot spot (Gi*, 95 %+ confidence)")


@dataclass(frozen=True)
class Change:
    """One comparison of an incident count: the earlier count and the % change.

    ``state`` is that of :data:`layers.change.COMPARISON_STATES` (``ok``, ``new``,
    ``none``, ``no_data``); ``pct`` is None unless it is ``ok``.
    """

    earlier: int | None
    pct: float | None
    state: str
    significant: bool


@dataclass(frozen=True)
class Count:
    """Incidents in a window with its 环比 (``mom``) and 同比 (``yoy``)."""

    count: int
    since: pd.Timestamp
    until: pd.Timestamp
    mom: Change
    yoy: Change


@dataclass(frozen=True)
class Figures:
    """The headline figures, as numbers (the page formats them in its language)."""

    today: Count
    week: Count
    hotspots: int  # hot-spot hexagons (Gi* 95 %+)
    hotspots_covered: int  # of them meeting the patrol standard
    koper_hours: int  # hot-spot hours in the patrol window
    koper_dosed: int  # of them dosed
    gap_cells: int
    gap_classes: dict[int, int]  # gap class (2..4) -> hexagons
    communities: int
    certified: int
    at_risk: int


@dataclass(frozen=True)
class GapLine:
    """One entry of the top-gaps list: a rank, a place and why."""

    rank: int
    cell: str
    klass: int
    grid: str
    precinct: str
    reason: Label


@dataclass
class WallData:
    """Everything the wall shows for one data version and scope."""

    version: str
    built_at: dt.datetime | None
    until: pd.Timestamp
    figures: Figures
    gaps: list[GapLine]
    views: dict[str, LayerResult]
    marks: dict[str, np.ndarray] = field(default_factory=dict)


# --------------------------------------------------------------------------- versions


def data_stamp(data_dir: Path) -> str:
    """A short fingerprint of the data directory's manifest and cubes: it changes when
    data are imported or the cubes rebuilt (size and mtime of each file)."""
    parts = []
    cubes = cubes_dir(data_dir)
    for path in (
        data_dir / MANIFEST,
        cubes / META_FILE,
        *(cubes / f"{n}.parquet" for n in ("incidents", "patrol", "visits")),
    ):
        try:
            st = path.stat()
            parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{path.name}:-")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def built_at(data_dir: Path) -> dt.datetime | None:
    """When the cubes were built (aware), from their ``meta.json``; else the incident
    cube's modification time; None when neither can be read."""
    meta = cubes_dir(data_dir) / META_FILE
    try:
        import json

        stamp = json.loads(meta.read_text(encoding="utf-8")).get("built_at")
        if stamp:
            when = dt.datetime.fromisoformat(str(stamp))
            return when if when.tzinfo else when.astimezone()
    except (OSError, ValueError):
        pass
    try:
        mtime = (cubes_dir(data_dir) / "incidents.parquet").stat().st_mtime
    except OSError:
        return None
    return dt.datetime.fromtimestamp(mtime, tz=dt.UTC)


def data_end(cube: pd.DataFrame) -> pd.Timestamp:
    """The end of the newest hour in a cube: where every wall window ends."""
    return pd.Timestamp(cube["hour"].max()) + pd.Timedelta(hours=1)


# --------------------------------------------------------------------------- figures


def _change(row: pd.Series, which: str) -> Change:
    earlier = row[f"count_{which}"]
    pct = row[f"change_{which}_pct"]
    significant = row[f"significant_{which}"]
    return Change(
        earlier=None if pd.isna(earlier) else int(earlier),
        pct=None if pd.isna(pct) else float(pct),
        state=str(row[f"state_{which}"]),
        significant=bool(significant) if not pd.isna(significant) else False,
    )


def incident_count(
    cube: pd.DataFrame,
    since: pd.Timestamp,
    until: pd.Timestamp,
    *,
    mom: pd.DateOffset,
    cells: np.ndarray | None = None,
) -> Count:
    """Incidents in ``[since, until)`` with 环比 (shifted back by ``mom``) and 同比."""
    row = total_change(cube, since=since, until=until, cells=cells, mom_offset=mom).iloc[0]
    return Count(
        count=int(row["count"]),
        since=since,
        until=until,
        mom=_change(row, "mom"),
        yoy=_change(row, "yoy"),
    )


def today_and_week(
    cube: pd.DataFrame, end: pd.Timestamp, cells: np.ndarray | None = None
) -> tuple[Count, Count]:
    """今日 (from midnight, 日环比) and 本周 (from Monday, 周环比), both to ``end``."""
    day = (end - pd.Timedelta(hours=1)).normalize()
    monday = day - pd.Timedelta(days=day.dayofweek)
    today = incident_count(cube, day, end, mom=pd.DateOffset(days=1), cells=cells)
    week = incident_count(cube, monday, end, mom=pd.DateOffset(weeks=1), cells=cells)
    return today, week


# --------------------------------------------------------------------------- views


def _gap_view(gaps: pd.DataFrame) -> LayerResult:
    shown = gaps[gaps["class"].to_numpy() >= 1]
    return LayerResult(
        layer="gaps",
        res=WALL_RES,
        cells=shown["cell"].to_numpy(dtype=np.uint64),
        # Category index 0..3 for classes 1..4 (class 0, no gap, is not drawn).
        values=shown["class"].to_numpy(dtype=np.float64) - 1,
        title=VIEW_TITLES["gaps"],
        unit=Label("风险高而防护弱", "high risk, thin protection"),
        categories=tuple(
            Category(str(k), GAP_CLASSES[k], colour)
            for k, colour in zip(range(1, 5), GAP_COLOURS, strict=True)
        ),
    )


def _heat_view(heat: pd.DataFrame) -> LayerResult:
    shown = heat[heat["count"].to_numpy() > 0]
    return LayerResult(
        layer="heat",
        res=WALL_RES,
        cells=shown["cell"].to_numpy(dtype=np.uint64),
        values=shown["count"].to_numpy(dtype=np.float64),
        title=Label("警情数", "Incidents"),
        unit=Label("起 / 六边形", "per hexagon"),
        colours=HEAT_COLOURS,
        integer=True,
    )


def _patrol_view(coverage: pd.DataFrame, days: float) -> LayerResult:
    per_night = coverage["dwell_min_night"].to_numpy(dtype=np.float64) / days
    keep = per_night > 0
    return LayerResult(
        layer="patrol",
        res=WALL_RES,
        cells=coverage["cell"].to_numpy(dtype=np.uint64)[keep],
        values=per_night[keep],
        title=Label("夜间巡逻驻留", "Patrol dwell at night"),
        unit=Label("分钟 / 夜", "minutes per night"),
        colours=PATROL_COLOURS,
    )


def _community_view(statuses: pd.DataFrame | None) -> LayerResult:
    cells = np.zeros(0, dtype=np.uint64)
    codes = np.zeros(0, dtype=np.float64)
    if statuses is not None and len(statuses):
        frame = cell_status(statuses, res=WALL_RES)
        klass = frame["class"].to_numpy(dtype=np.float64, na_value=np.nan)
        # The map's coding (dashboard.views.protection.community): share classes 0..4,
        # 5 for a title at risk, 6 for households unknown.
        codes = np.where(np.isnan(klass), 6.0, klass)
        codes = np.where(frame["at_risk"].to_numpy() > 0, 5.0, codes)
        cells = frame["cell"].to_numpy(dtype=np.uint64)
    return LayerResult(
        layer="community",
        res=WALL_RES,
        cells=cells,
        values=codes,
        title=Label("平安创建", "Safe-community status"),
        unit=Label("按已创建户占比", "by certified households"),
        categories=tuple(
            Category(c.code, c.label, colour)
            for c, colour in zip(SHARE_CATEGORIES, COMMUNITY_COLOURS, strict=True)
        ),
    )


# --------------------------------------------------------------------------- the data


def _names(frame: pd.DataFrame, key: str) -> dict[str, str]:
    if frame.empty or key not in frame.columns or "name" not in frame.columns:
        return {}
    return dict(zip(frame[key].astype(str), frame["name"].astype(str), strict=True))


def _gap_lines(gaps: pd.DataFrame, grids: pd.DataFrame, precincts: pd.DataFrame) -> list[GapLine]:
    grid_names = _names(grids, "grid_id")
    precinct_names = _names(precincts, "precinct_id")
    top = top_gaps(gaps, n=TOP_GAPS)
    grid_ids = top["grid_id"] if "grid_id" in top else pd.Series([None] * len(top))
    precinct_ids = top["precinct_id"] if "precinct_id" in top else pd.Series([None] * len(top))
    lines = []
    for i in range(len(top)):
        grid_id, precinct_id = grid_ids.iloc[i], precinct_ids.iloc[i]
        lines.append(
            GapLine(
                rank=int(top["rank"].iloc[i]),
                cell=format(int(top["cell"].iloc[i]), "x"),
                klass=int(top["class"].iloc[i]),
                grid=grid_names.get(str(grid_id), "") if pd.notna(grid_id) else "",
                precinct=precinct_names.get(str(precinct_id), "") if pd.notna(precinct_id) else "",
                reason=Label(str(top["reason_zh"].iloc[i]), str(top["reason_en"].iloc[i])),
            )
        )
    return lines


def wall_data(source: Any, *, version: str = "") -> WallData:
    """Compute what the wall shows from a data source.

    Parameters
    ----------
    source : DataSource or ScopedSource
        The data: the whole area, or a scope's precincts (every table already cut to
        them, see :meth:`dashboard.datasource.DataSource.for_scope`).
    version : str
        The data version it was computed from (:func:`data_stamp`), kept with it.

    Returns
    -------
    WallData
    """
    cube = source.incident_cube
    end = data_end(cube)
    since, patrol_since = end - pd.Timedelta(days=RISK_DAYS), end - pd.Timedelta(days=PATROL_DAYS)
    layers = cell_layers(
        cube,
        source.patrol_cube,
        source.visits_for(patrol_since, end),
        source.communities,
        source.response_units,
        source.grids,
        res=WALL_RES,
        since=since,
        until=end,
        patrol_since=patrol_since,
    )
    gaps = gaps_of(layers)
    today, week = today_and_week(cube, end)
    hot = layers.hotspots.loc[layers.hotspots["class"].isin(HOT_CLASSES), "cell"].to_numpy()
    coverage = layers.coverage[np.isin(layers.coverage["cell"].to_numpy(), hot)]
    dose = koper_summary(layers.dose).iloc[0]
    statuses = layers.statuses
    is_gap = gaps["is_gap"].to_numpy(dtype=bool)
    classes = gaps.loc[is_gap, "class"].value_counts()
    figures = Figures(
        today=today,
        week=week,
        hotspots=int(hot.size),
        hotspots_covered=int(CoverageStandard().met(coverage).sum()),
        koper_hours=int(dose["hours"]),
        koper_dosed=int(dose["dosed_hours"]),
        gap_cells=int(is_gap.sum()),
        gap_classes={int(k): int(v) for k, v in classes.items()},
        communities=0 if statuses is None else len(statuses),
        certified=0 if statuses is None else int((statuses["status"] == "certified").sum()),
        at_risk=0 if statuses is None else int(statuses["at_risk"].sum()),
    )
    heat = _heat_view(layers.heat)
    views = {
        "gaps": _gap_view(gaps),
        "heat": heat,
        "patrol": _patrol_view(layers.coverage, float(PATROL_DAYS)),
        "community": _community_view(statuses),
    }
    return WallData(
        version=version,
        built_at=built_at(source.data_dir),
        until=end,
        figures=figures,
        gaps=_gap_lines(gaps, source.grids, source.precincts),
        views=views,
        marks={"heat": np.isin(heat.cells, hot)},
    )


# --------------------------------------------------------------------------- browser side

# Dark-theme hexagon style, read by window.pnm.hexStyle from the hideout.
HEX_LOOK = {"stroke": "#0b1120", "weight": 0.5, "fillOpacity": 0.88}
# Night patrol dwell in fixed classes a watch commander reads at a glance: under 5 minutes
# a night is a pass-through, 15 one Koper stop, 30 two, an hour a steady presence.
FIXED_BREAKS: dict[str, tuple[float, ...]] = {"patrol": (5.0, 15.0, 30.0, 60.0)}
OPEN_END = 1e9  # upper bound of the last, open class (window.pnm.classOf needs one)


def _fixed_style(
    result: LayerResult, breaks: tuple[float, ...], lang: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Hideout and legend of fixed classes (upper bounds ``breaks``, the last open)."""
    colours = list(result.colours[: len(breaks) + 1])
    labels = [f"≤ {breaks[0]:g}"]
    labels += [f"{lo:g}–{hi:g}" for lo, hi in itertools.pairwise(breaks)]
    labels.append(f"> {breaks[-1]:g}")
    entries = [
        {"colour": c, "label": label, "lower": None, "upper": None}
        for c, label in zip(colours, labels, strict=True)
    ]
    hideout = {"colours": colours, "breaks": [*breaks, OPEN_END], "nodata": NO_DATA_COLOUR}
    legend = {"title": result.title.text(lang), "unit": result.unit.text(lang), "entries": entries}
    return hideout, legend


def view_payload(data: WallData, view: str, lang: str) -> dict[str, Any]:
    """One view for the browser: its cells and values (``cells``, ``v`` and, for hot
    spots, ``h``), the ``hideout`` that colours them and the legend description."""
    result = data.views[view]
    if view in FIXED_BREAKS:
        hideout, legend = _fixed_style(result, FIXED_BREAKS[view], lang)
    else:
        hideout, legend = style(result, scheme="natural_breaks", lang=lang)
    cells = payload(result, None)
    if view in data.marks:
        cells["h"] = [1 if m else 0 for m in data.marks[view]]
    return {
        "title": VIEW_TITLES[view].text(lang),
        "window": VIEW_WINDOWS[view].text(lang),
        "data": cells,
        "hideout": {**hideout, **HEX_LOOK},
        "legend": legend,
        "categorical": result.categorical,
    }


# --------------------------------------------------------------------------- the feed


class WallFeed:
    """The wall's data, kept current and computed off the request thread.

    Each call of :meth:`data` checks the data directory's fingerprint; when the data or
    the cubes changed, the source is reopened. A new version is computed once, in one
    background thread, and cached (flask-caching, keyed by version and scope); a request
    waits for it at most ``wait_s`` and otherwise returns None, so a slow computation
    never holds up a refresh — the page keeps its last picture and asks again.

    Parameters
    ----------
    source : DataSource
        The app's data source, just opened (its version is the current one).
    cache : LayerCache
        Where computed wall data are kept.
    """

    def __init__(self, source: DataSource, cache: LayerCache) -> None:
        self._source = source
        self._stamp = data_stamp(source.data_dir)
        self._cache = cache
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pnm-wall")
        self._jobs: dict[str, Future[WallData]] = {}

    def current(self) -> tuple[DataSource, str]:
        """The data source and its version, reopened if the data changed on disk."""
        stamp = data_stamp(self._source.data_dir)
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._source = DataSource(self._source.data_dir)
                    self._stamp = stamp
                except Exception:  # a rebuild in progress: keep the last good data
                    log.warning("wall: data directory changed but cannot be opened yet")
            return self._source, self._stamp

    def data(
        self, scope: Collection[str] | None = None, *, wait_s: float = 10.0
    ) -> WallData | None:
        """The wall data for ``scope`` (precinct ids; None for the whole area) at the
        current version; None if not ready within ``wait_s`` seconds or if computing it
        failed (logged; the next call tries again)."""
        base, stamp = self.current()
        source = base.for_scope(None if scope is None else frozenset(scope))
        name = cache_key("wall", version=stamp, scope=source.scope_key)
        found = self._get(name)
        if found is not None:
            return found
        with self._lock:
            job = self._jobs.get(name)
            if job is None:
                # Jobs of earlier versions nobody waits for any more are dropped.
                self._jobs = {k: j for k, j in self._jobs.items() if not j.done()}
                job = self._jobs[name] = self._pool.submit(wall_data, source, version=stamp)
        try:
            result = job.result(timeout=wait_s)
        except FutureTimeout:
            return None
        except Exception:
            log.exception("wall: computing the wall data failed")
            return None
        finally:
            if job.done():
                with self._lock:
                    if self._jobs.get(name) is job:
                        del self._jobs[name]
        self._set(name, result)
        return result

    def _get(self, name: str) -> WallData | None:
        try:
            found = self._cache.cache.get(name)
        except Exception as exc:  # a cache backend that fails: compute, uncached
            log.warning("wall: cache unreachable: %s", exc)
            return None
        return found if isinstance(found, WallData) else None

    def _set(self, name: str, value: WallData) -> None:
        try:
            self._cache.cache.set(name, value)
        except Exception as exc:
            log.warning("wall: cache unreachable, result not kept: %s", exc)


__all__ = [
    "PATROL_DAYS",
    "RISK_DAYS",
    "TOP_GAPS",
    "VIEW_TITLES",
    "WALL_RES",
    "Change",
    "Count",
    "Figures",
    "GapLine",
    "WallData",
    "WallFeed",
    "built_at",
    "data_end",
    "data_stamp",
    "incident_count",
    "today_and_week",
    "view_payload",
    "wall_data",
]
