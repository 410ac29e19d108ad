"""Layer benchmark: each analytic layer's build time from the cubes, against a bare group-by.

For one data directory (default ``data/demo``; build the ``county`` demo with
``python -m geodata demo --scale county --out DIR && python -m geodata cubes --data DIR``),
one resolution (default 9) and the last ``--days`` days of the data (default 30), prints
per layer:

* the wall time of the layer function, from the cubes and tables already in memory
  (reading Parquet is timed once, apart);
* the wall time of a **bare pandas group-by over the same cube rows**: the rows of the
  window (each window the layer reads: three for 环比/同比, twelve weeks for emerging hot
  spots) selected by a boolean mask, their exact cells at the resolution taken
  (:func:`geodata.cubes.cells_at`, the cube's ``cell_<res>`` column) and summed with
  ``DataFrame.groupby`` — the least any layer must do to read those rows;
* their ratio (layer / bare): how many bare group-bys each layer costs.

Steps that read no cube rows have no bare figure: the area's cells (a polygon fill of the
grids), residents per cell and response reach (cells and units). Grid statistics and the
gap score sum the per-cell frames the other layers made: their floor is a group-by of
those frames' rows by grid and by precinct. The full gap layer
(:func:`layers.coverage_gaps.gap_layer`, every input layer and the score) is compared with
the sum of the bare group-bys of all the cube rows it reads. Medians of ``--repeat`` runs,
layers and floors interleaved so that a noisy machine disturbs both alike::

    .venv/bin/python -m benchmarks.layers --data /tmp/county --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.cubes import cells_at, load_cube
from geodata.store import read_table
from layers.change import earlier_windows, period_change
from layers.coverage_gaps import (
    HOT_CLASSES,
    band_counts,
    cell_layers,
    coverage_gaps,
    emerging_bins,
    gap_layer,
    gaps_of,
)
from layers.emerging import emerging_hotspots
from layers.grid_stats import grid_statistics_of
from layers.grids import zone_cells
from layers.hotspots import gi_star
from layers.incident_heat import incident_counts, incident_heat, last_days
from layers.patrol_coverage import koper_dose, patrol_coverage
from layers.population import cell_population
from layers.response_reach import reach
from layers.safe_community import cell_status, community_status, grid_status


@dataclass(frozen=True)
class Inputs:
    """Everything the layers read, loaded once."""

    incidents: pd.DataFrame
    patrol: pd.DataFrame
    visits: pd.DataFrame
    communities: pd.DataFrame
    units: pd.DataFrame
    grids: pd.DataFrame
    precincts: pd.DataFrame
    res: int
    since: pd.Timestamp
    until: pd.Timestamp


def load(data_dir: Path, *, res: int, days: int) -> tuple[Inputs, float]:
    """Read the cubes and tables; return them and the seconds it took."""
    t0 = time.perf_counter()
    incidents = load_cube(data_dir, "incidents")
    patrol = load_cube(data_dir, "patrol")
    since, until = last_days(patrol, days=days)
    # Visits from a day before the window: enough for merges and Koper protection.
    visits = load_cube(data_dir, "visits", start=(since - pd.Timedelta(days=1)).to_pydatetime())
    inputs = Inputs(
        incidents=incidents,
        patrol=patrol,
        visits=visits,
        communities=read_table(data_dir, "communities"),
        units=read_table(data_dir, "response_units"),
        grids=read_table(data_dir, "grids"),
        precincts=read_table(data_dir, "precincts"),
        res=res,
        since=since,
        until=until,
    )
    return inputs, time.perf_counter() - t0


def bare_groupby(
    frame: pd.DataFrame,
    time_col: str,
    windows: list[tuple[pd.Timestamp, pd.Timestamp]],
    value_col: str | None,
    res: int,
) -> int:
    """The floor: mask each window's rows, take their res cells, group-by sum. Returns rows
    read."""
    exact = [c for c in (f"cell_{res}",) if c in frame.columns]
    rows = 0
    for start, end in windows:
        mask = (frame[time_col] >= start) & (frame[time_col] < end)
        part = frame.loc[
            mask, ["cell", *exact] if value_col is None else ["cell", *exact, value_col]
        ]
        parent = cells_at(part, res)
        if value_col is None:
            pd.Series(1, index=parent).groupby(level=0).sum()
        else:
            part.assign(cell=parent).groupby("cell")[value_col].sum()
        rows += len(part)
    return rows


@dataclass(frozen=True)
class Case:
    """One row of the table: a layer and its floor (None: no cube rows to group)."""

    name: str
    layer: Callable[[], object]
    floor: Callable[[], int] | None


def cases(inp: Inputs) -> list[Case]:
    """The layers, each with the bare group-by of the cube rows it reads."""
    res, since, until = inp.res, inp.since, inp.until
    zones = zone_cells(inp.grids, res=res, id_col="grid_id", keep=("precinct_id",))
    area = zones["cell"].to_numpy(dtype=np.uint64)
    population = cell_population(inp.grids, res=res, cells=area, communities=inp.communities)
    layers = cell_layers(
        inp.incidents,
        inp.patrol,
        inp.visits,
        inp.communities,
        inp.units,
        inp.grids,
        res=res,
        since=since,
        until=until,
    )
    gaps = gaps_of(layers)
    window = [(since, until)]
    weeks = emerging_bins(since, until)
    three = list(earlier_windows(since, until).values())
    hot = layers.hotspots.loc[layers.hotspots["class"].isin(HOT_CLASSES), "cell"].to_numpy()

    def inc(ws: list[tuple[pd.Timestamp, pd.Timestamp]]) -> Callable[[], int]:
        return lambda: bare_groupby(inp.incidents, "hour", ws, "count", res)

    def patrol_floor() -> int:
        return bare_groupby(inp.patrol, "hour", window, "dwell_s", res)

    def visits_floor() -> int:
        return bare_groupby(inp.visits, "entered", window, None, res)

    def zones_floor() -> int:
        frame = layers.change[["cell", "count"]].merge(zones, on="cell")
        frame.groupby("grid_id")["count"].sum()
        frame.groupby("precinct_id")["count"].sum()
        return len(frame)

    def emerging() -> object:
        parts = []
        for i, (b0, b1) in enumerate(weeks):
            counts = incident_counts(inp.incidents, res=res, since=b0, until=b1)
            parts.append(counts[np.isin(counts["cell"].to_numpy(), area)].assign(bin=i))
        values = pd.concat(parts, ignore_index=True)
        return emerging_hotspots(values, area_cells=area, bins=list(range(len(weeks))))

    def safe_community() -> object:
        statuses = community_status(inp.communities, inp.incidents, start=since, end=until)
        cell_status(statuses, res=res, cells=area)
        return grid_status(statuses, inp.grids)

    def gap_score() -> object:
        return coverage_gaps(
            layers.cells,
            heat=layers.heat,
            hotspots=layers.hotspots,
            coverage=layers.coverage,
            reach=layers.reach,
            incident_days=layers.incident_days,
            emerging=layers.emerging,
            change=layers.change,
            band_counts=layers.band_counts,
            communities=layers.communities,
            dose=layers.dose,
            zones=layers.zones,
        )

    def everything() -> int:
        return inc(window + weeks + three)() + patrol_floor() + visits_floor()

    return [
        Case(
            "area cells (grids → cells)",
            lambda: zone_cells(inp.grids, res=res, id_col="grid_id", keep=("precinct_id",)),
            None,
        ),
        Case(
            "population per cell",
            lambda: cell_population(inp.grids, res=res, cells=area, communities=inp.communities),
            None,
        ),
        Case(
            "incident heat",
            lambda: incident_heat(
                inp.incidents, res=res, since=since, until=until, population=population, cells=area
            ),
            inc(window),
        ),
        Case(
            "hot spots (Gi*)",
            lambda: gi_star(
                incident_counts(inp.incidents, res=res, since=since, until=until), area_cells=area
            ),
            inc(window),
        ),
        Case("emerging hot spots", emerging, inc(weeks)),
        Case(
            "change (环比/同比)",
            lambda: period_change(inp.incidents, res=res, since=since, until=until, cells=area),
            inc(three),
        ),
        Case(
            "patrol coverage",
            lambda: patrol_coverage(
                inp.patrol, inp.visits, res=res, since=since, until=until, cells=area
            ),
            patrol_floor,
        ),
        Case(
            "Koper dose",
            lambda: koper_dose(inp.visits, hot, res=res, since=since, until=until),
            visits_floor,
        ),
        Case("safe community", safe_community, inc(window)),
        Case(
            "incidents by time-of-day band",
            lambda: band_counts(inp.incidents, res=res, since=since, until=until, cells=area),
            inc(window),
        ),
        Case("response reach", lambda: reach(area, inp.units), None),
        Case(
            "grid statistics",
            lambda: grid_statistics_of(layers, grids=inp.grids, precincts=inp.precincts, gaps=gaps),
            zones_floor,
        ),
        Case("gap score (from the layers)", gap_score, zones_floor),
        Case(
            "gap layer (all from the cubes)",
            lambda: gap_layer(
                inp.incidents,
                inp.patrol,
                inp.visits,
                inp.communities,
                inp.units,
                inp.grids,
                res=res,
                since=since,
                until=until,
            ),
            everything,
        ),
    ]


def _seconds(job: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    job()
    return time.perf_counter() - t0


@dataclass(frozen=True)
class Result:
    """Median seconds of a layer and of its floor (None: no cube rows to group)."""

    name: str
    rows: int | None
    layer_s: float
    floor_s: float | None

    @property
    def ratio(self) -> float | None:
        return None if self.floor_s is None else self.layer_s / self.floor_s


def run(inp: Inputs, *, repeat: int) -> list[Result]:
    """Median layer and floor seconds of each case over ``repeat`` interleaved runs."""
    out = []
    for case in cases(inp):
        layer_t: list[float] = []
        floor_t: list[float] = []
        rows = 0
        for _ in range(repeat):
            layer_t.append(_seconds(case.layer))
            if case.floor is not None:
                t0 = time.perf_counter()
                rows = case.floor()
                floor_t.append(time.perf_counter() - t0)
        out.append(
            Result(
                name=case.name,
                rows=rows if case.floor is not None else None,
                layer_s=statistics.median(layer_t),
                floor_s=statistics.median(floor_t) if floor_t else None,
            )
        )
    return out


def _cell(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, load the data, print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.layers", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("data/demo"), help="data directory")
    parser.add_argument("--res", type=int, default=9)
    parser.add_argument("--days", type=int, default=30, help="window: the data's last days")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    inp, load_s = load(args.data, res=args.res, days=args.days)
    t0 = time.perf_counter()
    rows = run(inp, repeat=args.repeat)
    total = time.perf_counter() - t0
    print(
        f"layer benchmark — {args.data}, H3 res {args.res}, window {inp.since:%Y-%m-%d} .. "
        f"{inp.until:%Y-%m-%d} ({args.days} days), median of {args.repeat}"
    )
    print(
        f"  cube rows: {len(inp.incidents):,} incidents, {len(inp.patrol):,} patrol, "
        f"{len(inp.visits):,} visits (from a day before the window); "
        f"reading them took {load_s:.1f} s (not in the table)"
    )
    print(f"  pandas {pd.__version__}, numpy {np.__version__}, {sys.platform}")
    print(
        f"  {'layer':32s} {'rows read':>10s} {'layer ms':>10s} {'group-by ms':>12s} {'ratio':>7s}"
    )
    for r in rows:
        print(
            f"  {r.name:32s} {_cell(r.rows, ','):>10s} {r.layer_s * 1000:10.1f} "
            f"{_cell(None if r.floor_s is None else r.floor_s * 1000, '.1f'):>12s} "
            f"{_cell(r.ratio, '.1f'):>7s}"
        )
    print(
        f"  whole run {total:.0f} s; load average at the end {os.getloadavg()[0]:.2f} "
        f"on {os.cpu_count()} cores"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
