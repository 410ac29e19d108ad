"""Ingest benchmark: the hex-cube build against bare vectorised H3 indexing.

Prints, for the same points in one run, points per second for

* the full cube build (``geodata.cubes.build_cubes``: read Parquet, index to H3, hour
  buckets, dwell, visits, the incident and patrol cubes and the visits table, written
  to disk), and
* bare vectorised H3 indexing of the same coordinates, already in memory
  (``polars_h3.latlng_to_cell`` in one polars ``select``, at the base resolution and at
  every coarser one the cubes hold, since H3 is not nested) — the floor,

and their ratio (goal: build / bare >= 0.5). Medians of several repetitions; the two are
interleaved so that a noisy machine disturbs both alike.

Points come from a data directory (``--data DIR``, e.g. the ``county`` demo) or from a
synthetic random walk of ``--n`` patrol fixes (plus one incident per 50 fixes) generated
here, vectorised and seeded::

    .venv/bin/python -m benchmarks.ingest --n 5000000
    .venv/bin/python -m benchmarks.ingest --data data/demo
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import polars_h3 as plh3

from geodata.cubes import build_cubes
from geodata.cubes.tables import coarse_res
from geodata.store import table_path

# Nominal fix interval (s) and walking/driving speed (m/s) of the synthetic units.
_KINDS = {
    "police_car": (10.0, 8.0),
    "foot_patrol": (15.0, 1.3),
    "volunteer_patrol": (30.0, 1.1),
    "red_armband": (30.0, 0.8),
    "security_guard": (20.0, 0.7),
}
_BBOX = (107.35, 31.05, 108.10, 31.75)  # roughly Xuanhan county, lng/lat
_M_PER_DEG = 111_320.0


def synthetic_fixes(n: int, seed: int = 0) -> pl.DataFrame:
    """``n`` patrol fixes of random-walking units, sorted by (unit_id, time)."""
    rng = np.random.default_rng(seed)
    n_units = max(5, n // 12_500)
    kinds = np.array(list(_KINDS))
    unit_kind_code = rng.choice(len(kinds), size=n_units, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    unit = np.sort(rng.integers(0, n_units, size=n))
    kind = unit_kind_code[unit]
    first = np.r_[True, unit[1:] != unit[:-1]]

    interval = np.array([v[0] for v in _KINDS.values()])[kind]
    gap = interval * rng.uniform(0.7, 1.3, size=n)
    breaks = rng.random(n) < 0.002  # shift changes, dead batteries, tunnels
    gap[breaks] = rng.uniform(1_800, 8 * 3_600, size=int(breaks.sum()))
    gap[first] = rng.uniform(0, 90 * 86_400, size=int(first.sum()))  # each unit's start
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    csum = np.cumsum(gap)
    t_s = csum - csum[start] + gap[start]

    speed = np.array([v[1] for v in _KINDS.values()])[kind]
    heading = np.cumsum(rng.normal(0.0, 0.4, size=n))
    step = speed * np.minimum(gap, 2 * interval)
    lat0 = rng.uniform(_BBOX[1], _BBOX[3], size=n_units)[unit]
    lng0 = rng.uniform(_BBOX[0], _BBOX[2], size=n_units)[unit]
    dy = step * np.cos(heading) / _M_PER_DEG
    dx = step * np.sin(heading) / (_M_PER_DEG * np.cos(np.radians(lat0)))
    cy, cx = np.cumsum(dy), np.cumsum(dx)
    lat = lat0 + cy - cy[start]
    lng = lng0 + cx - cx[start]

    base = np.datetime64("2025-01-01T00:00:00", "us")
    times = base + (t_s * 1e6).astype("timedelta64[us]")
    ids = np.char.add("U", np.char.zfill(unit.astype(str), 6))
    return pl.DataFrame(
        {
            "unit_id": ids,
            "unit_kind": kinds[kind],
            "time": times,
            "lng": lng,
            "lat": lat,
        }
    )


def synthetic_incidents(n: int, seed: int = 1) -> pl.DataFrame:
    """``n`` incidents scattered over the box, two years, random categories."""
    rng = np.random.default_rng(seed)
    cats = np.array(["theft", "fraud", "dispute", "assault", "other"])
    base = np.datetime64("2024-01-01T00:00:00", "us")
    return pl.DataFrame(
        {
            "incident_id": [f"I{i:08d}" for i in range(n)],
            "time": base + rng.integers(0, 730 * 86_400, size=n).astype("timedelta64[s]"),
            "lng": rng.uniform(_BBOX[0], _BBOX[2], size=n),
            "lat": rng.uniform(_BBOX[1], _BBOX[3], size=n),
            "category": rng.choice(cats, size=n),
            "severity": rng.integers(1, 4, size=n),
            "source": "call_110",
        }
    )


def _timed(job: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads of this process) of ``job``."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    job()
    return time.perf_counter() - wall0, time.process_time() - cpu0


def _bare(points: pl.DataFrame, res: int) -> tuple[float, float]:
    """Index the points at ``res`` and at every coarser resolution the cubes hold exact
    cells at (H3 is not nested: each needs its own indexing)."""
    held = (*coarse_res(res), res)
    return _timed(
        lambda: points.select(plh3.latlng_to_cell("lat", "lng", r).alias(f"c{r}") for r in held)
    )


def _build(data_dir: Path, res: int) -> tuple[float, float]:
    return _timed(lambda: build_cubes(data_dir, base_res=res))


def run(data_dir: Path, *, repeat: int, res: int) -> dict[str, float]:
    """Time the build and the bare indexing ``repeat`` times each; return medians."""
    cols = ["lng", "lat"]
    fixes = pl.read_parquet(table_path(data_dir, "patrol_fixes"), columns=cols)
    incidents = pl.read_parquet(table_path(data_dir, "incidents"), columns=cols)
    points = pl.concat([fixes, incidents]).with_columns(pl.col(cols).cast(pl.Float64))
    n = points.height
    build_t, bare_t = [], []
    _bare(points.head(10_000), res)  # load the plugin before timing
    for _ in range(repeat):
        bare_t.append(_bare(points, res))
        build_t.append(_build(data_dir, res))
    build = statistics.median(t[0] for t in build_t)
    bare = statistics.median(t[0] for t in bare_t)
    build_cpu = statistics.median(t[1] for t in build_t)
    bare_cpu = statistics.median(t[1] for t in bare_t)
    return {
        "points": n,
        "fixes": fixes.height,
        "incidents": incidents.height,
        "build_s": build,
        "bare_s": bare,
        "build_cpu_s": build_cpu,
        "bare_cpu_s": bare_cpu,
        "build_pts_per_s": n / build,
        "bare_pts_per_s": n / bare,
        "ratio": bare / build,
        "cpu_ratio": bare_cpu / build_cpu,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, prepare the points, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description=__doc__)
    parser.add_argument("--data", type=Path, default=None, help="data directory to index")
    parser.add_argument("--n", type=int, default=5_000_000, help="synthetic fixes (no --data)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--res", type=int, default=11)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="pnm-ingest-") as tmp:
        if args.data is not None:
            data_dir = args.data
            source = f"data directory {data_dir}"
        else:
            data_dir = Path(tmp)
            t0 = time.perf_counter()
            synthetic_fixes(args.n, args.seed).write_parquet(table_path(data_dir, "patrol_fixes"))
            synthetic_incidents(max(1, args.n // 50), args.seed + 1).write_parquet(
                table_path(data_dir, "incidents")
            )
            source = f"synthetic random walk, seed {args.seed} ({time.perf_counter() - t0:.1f} s to make)"
        r = run(data_dir, repeat=args.repeat, res=args.res)

    print(f"ingest benchmark — {source}, H3 res {args.res}, median of {args.repeat}")
    print(f"  {now_text()}, polars {pl.__version__}, {sys.platform}")
    print(f"  points: {r['points']:,} ({r['fixes']:,} fixes + {r['incidents']:,} incidents)")
    print("                      wall s   M points/s   CPU s (all threads)")
    for label, key in (("cube build", "build"), ("bare H3 indexing", "bare")):
        print(
            f"  {label:18s}  {r[key + '_s']:7.2f}   {r[key + '_pts_per_s'] / 1e6:9.2f}"
            f"   {r[key + '_cpu_s']:7.2f}"
        )
    print(
        f"  ratio build / bare  {r['ratio']:7.2f}   (goal >= 0.5; by CPU time {r['cpu_ratio']:.2f})"
    )
    print(f"  load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0


def now_text() -> str:
    """The local date and time, for the printed header."""
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M")


if __name__ == "__main__":
    sys.exit(main())
