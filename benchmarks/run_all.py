"""Every benchmark of issue 9, side by side with the peers, in one command.

Installs nothing: first ``.venv/bin/pip install -r benchmarks/requirements.txt`` (h3pandas,
folium), then::

    .venv/bin/python -m benchmarks.run_all [--quick] [--data DIR] [--large DIR]

and the table is written to ``benchmarks/RESULTS.md`` (and printed). ``--data`` is the
``county`` demo with cubes (default ``data/demo``); ``--large`` the ``large`` one (default
``/tmp/large``; skipped with ``--quick`` or when missing — build it with
``python -m geodata demo --scale large --out /tmp/large && python -m geodata cubes --data
/tmp/large``). Figures are medians of several repetitions, interleaved so that a noisy
machine disturbs all contenders alike; ratios are the comparable part.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import importlib.util
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks import peers
from geodata.cubes.tables import COARSE_RES

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "RESULTS.md"
RES_INGEST = 11  # the cubes' base resolution
# Every resolution the cubes hold exact cells at (geodata.cubes.COARSE_RES and the base).
RES_HELD = (*COARSE_RES, RES_INGEST)
PEER_PACKAGES = ("h3pandas", "folium", "mapclassify")


def _check_peers() -> None:
    missing = [p for p in PEER_PACKAGES if importlib.util.find_spec(p) is None]
    if missing:
        sys.exit(
            f"missing peer packages {missing}: run\n"
            f"  .venv/bin/pip install -r benchmarks/requirements.txt"
        )


def machine() -> str:
    """Cores, memory, CPU model and Python of this machine, in one line."""
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        mem = f"{mem_kb / 2**20:.0f} GiB"
    except OSError:
        mem = "?"
    return (
        f"{os.cpu_count()} cores ({model}), {mem} RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def _seconds(job: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    job()
    return time.perf_counter() - t0


# --- 1. ingest -------------------------------------------------------------------------


def ingest(data_dir: Path, repeat: int) -> dict[str, Any]:
    """Cube build vs h3pandas vs polars-h3 + group-by, on a copy of ``data_dir``'s tables."""
    from geodata.cubes import build_cubes
    from geodata.store import table_path

    with tempfile.TemporaryDirectory(prefix="pnm-bench-") as tmp:
        work = Path(tmp)
        for item in data_dir.iterdir():  # the raw tables, not the cubes
            if item.is_file():
                (work / item.name).symlink_to(item.resolve())
        cols = ["lng", "lat"]
        fixes = pl.read_parquet(table_path(work, "patrol_fixes"), columns=cols)
        incidents = pl.read_parquet(table_path(work, "incidents"), columns=cols)
        points = pl.concat([fixes, incidents]).with_columns(pl.col(cols).cast(pl.Float64))
        gdf = peers.points_frame(points["lng"].to_numpy(), points["lat"].to_numpy())
        peers.floor_count(points.head(1000), RES_HELD)  # load the plugin
        peers.h3pandas_count(gdf.head(1000), RES_HELD)
        t: dict[str, list[float]] = {"build": [], "h3pandas": [], "floor": []}
        for _ in range(repeat):
            t["floor"].append(_seconds(lambda: peers.floor_count(points, RES_HELD)))
            t["h3pandas"].append(_seconds(lambda: peers.h3pandas_count(gdf, RES_HELD)))
            t["build"].append(_seconds(lambda: build_cubes(work, base_res=RES_INGEST)))
    med = {k: statistics.median(v) for k, v in t.items()}
    n = points.height
    return {
        "data": str(data_dir),
        "points": n,
        "fixes": fixes.height,
        "incidents": incidents.height,
        "repeat": repeat,
        **{f"{k}_s": v for k, v in med.items()},
        **{f"{k}_mpts": n / v / 1e6 for k, v in med.items()},
        "vs_h3pandas": med["h3pandas"] / med["build"],
        "vs_floor": med["floor"] / med["build"],
    }


# --- 2 and 4. payload and server time --------------------------------------------------


def server(data_dir: Path, cold_repeat: int, warm_repeat: int) -> dict[str, Any]:
    """Bytes per layer view (gzip) vs GeoJSON, and server time cold/warm p50/p95."""
    from flask import Flask

    from benchmarks import map_view
    from dashboard.cache import LayerCache
    from dashboard.datasource import ReloadingSource
    from dashboard.settings import load_settings
    from dashboard.views import LAYERS
    from geodata.snapshot import Snapshot

    settings = load_settings({}, data_dir=str(data_dir))
    source = ReloadingSource(Snapshot(data_dir)).view(None)
    source.snapshot.zones(9)
    views = {"street": map_view.SEAT_VIEW, "county": source.bounds}
    payload: list[dict[str, Any]] = []
    timing: list[dict[str, Any]] = []
    for layer in LAYERS:
        for name, bounds in views.items():
            cold: list[float] = []
            data: Any = None
            for _ in range(cold_repeat):
                cache = LayerCache(Flask("bench"), settings)
                sec, data = map_view._update(source, cache, layer, bounds)
                cold.append(sec)
            warm = [map_view._update(source, cache, layer, bounds)[0] for _ in range(warm_repeat)]
            timing.append({"layer": layer, "view": name, **_p(cold, "cold"), **_p(warm, "warm")})
            if layer == "reach" or (layer == "heat" and name == "street"):
                body = json.dumps(data, separators=(",", ":")).encode()
                geo = map_view._geojson(data)
                payload.append(
                    {
                        "layer": layer,
                        "view": name,
                        "cells": len(data["cells"]),
                        "app_gz": len(gzip.compress(body)),
                        "app_raw": len(body),
                        "geo_gz": len(gzip.compress(geo)),
                        "geo_raw": len(geo),
                    }
                )
    return {"payload": payload, "timing": timing}


def _p(values: list[float], name: str) -> dict[str, float]:
    qs = sorted(values)
    p95 = qs[min(len(qs) - 1, round(0.95 * (len(qs) - 1)))]
    return {f"{name}_p50": statistics.median(qs), f"{name}_p95": p95, f"{name}_n": len(qs)}


# --- 3. time to a drawn map --------------------------------------------------------------


def browser(data_dir: Path, repeat: int) -> dict[str, Any]:
    """This app vs explore() (folium) vs deck.gl, all res-9 cells of the county."""
    from flask import Flask
    from selenium.webdriver.support.ui import WebDriverWait
    from werkzeug.serving import make_server

    from benchmarks import map_view
    from dashboard.app import create_app
    from dashboard.cache import LayerCache
    from dashboard.datasource import ReloadingSource
    from dashboard.settings import load_settings
    from geodata.snapshot import Snapshot

    # No background warm-up: it would take the CPU the pages are timed on (each page is
    # loaded several times; the first loads warm the cache the medians are read from).
    settings = load_settings({}, data_dir=str(data_dir), auth="none", warm=False)
    source = ReloadingSource(Snapshot(data_dir)).view(None)
    _, data = map_view._update(source, LayerCache(Flask("b"), settings), "reach", source.bounds)
    cells, values = list(data["cells"]), [float(v) for v in data["v"]]
    (s, w), (n, e) = source.bounds
    center, zoom = ((s + n) / 2, (w + e) / 2), 9.5
    vs = sorted(values)
    q = [vs[int(len(vs) * f)] for f in (0.2, 0.4, 0.6, 0.8)] + [vs[-1]]
    eq = [vs[0] + (vs[-1] - vs[0]) * f for f in (0.2, 0.4, 0.6, 0.8, 1.0)]
    peers.ensure_deck()
    files = {
        "cells.json": json.dumps({"cells": cells, "v": values}),
        "deck.html": peers.deck_page(center, zoom, (q, eq)),
        "folium.html": peers.folium_page(cells, values),
    }
    app = create_app(settings)
    srv = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    driver = peers.chromium()
    out: dict[str, list[dict[str, float]]] = {"app": [], "folium": [], "deck": []}
    try:
        with peers.static_site(files) as base:
            for _ in range(repeat):
                out["app"].append(_app_page(driver, srv.server_port, WebDriverWait))
                out["deck"].append(peers.time_page(driver, f"{base}/deck.html"))
                out["folium"].append(peers.time_page(driver, f"{base}/folium.html"))
    finally:
        driver.quit()
        srv.shutdown()
    med = {
        k: {m: statistics.median(r[m] for r in runs) for m in runs[0]} for k, runs in out.items()
    }
    # The phases of the app's first draw from one run (the median one), so that they add up.
    mid = sorted(out["app"], key=lambda r: r["drawn_ms"])[len(out["app"]) // 2]
    med["app"].update({m: mid[m] for m in ("built_ms", "h3js_ms", "leaflet_ms")})
    return {"cells": len(cells), "repeat": repeat, **med}


def _app_page(driver: Any, port: int, wait: Any) -> dict[str, float]:
    driver.get("about:blank")
    driver.get(f"http://127.0.0.1:{port}/?layer=reach&res=9&lang=en")
    drawn = (
        "const s = window.pnm && window.pnm.status.hexes;"
        "return s && s.expected > 0 && s.drawn === s.expected && s.drawnAt ? "
        "{drawnAt: s.drawnAt, n: s.expected, builtAt: s.builtAt, buildMs: s.buildMs} : null;"
    )
    first = wait(driver, 180, poll_frequency=0.05).until(lambda d: d.execute_script(drawn))
    t0 = driver.execute_script(
        "const t = performance.now();"
        "window.dash_clientside.set_props('scheme', {value: 'quantiles'}); return t;"
    )
    restyled = (
        "const s = window.pnm.status.hexes;"
        f"return s.drawn === s.expected && s.drawnAt > {t0} ? s.drawnAt : null;"
    )
    try:
        done = wait(driver, 60, poll_frequency=0.05).until(lambda d: d.execute_script(restyled))
        restyle = float(done) - float(t0)
    except Exception:
        restyle = float("nan")
    return {
        "drawn_ms": float(first["drawnAt"]),
        "restyle_ms": restyle,
        "n": float(first["n"]),
        # Where the first draw goes: until the payload is in and turned into polygons
        # (page, Dash, server, h3-js), of which h3-js alone; then Leaflet's layers + paint.
        "built_ms": float(first["builtAt"]),
        "h3js_ms": float(first["buildMs"]),
        "leaflet_ms": float(first["drawnAt"]) - float(first["builtAt"]),
    }


# --- 5. memory ----------------------------------------------------------------------------

_CHILD = """
import sys, time
from pathlib import Path
from flask import Flask
from benchmarks import map_view
from dashboard.app import create_app
from dashboard.cache import LayerCache
from dashboard.settings import load_settings
from dashboard.views import LAYERS
data, warm = Path(sys.argv[1]), sys.argv[2] == "warm"
settings = load_settings({}, data_dir=str(data), auth="none", warm=warm)
app = create_app(settings)
if warm:  # the warm-up thread's views, every preset at res 7-10 (what a worker holds)
    warmer = app.server.extensions["pnm_warmer"]
    deadline = time.monotonic() + 900
    while warmer.report.state != "done" and time.monotonic() < deadline:
        time.sleep(1)
    print("views", warmer.report.done)
else:  # every map layer once, for the whole county at res 9
    source = app.server.extensions["pnm_live"].view(None)  # the app's own snapshot
    for layer in LAYERS:
        map_view._update(source, LayerCache(Flask("m"), settings), layer, source.bounds)
for line in Path("/proc/self/status").read_text().splitlines():
    if line.startswith(("VmHWM", "VmRSS", "RssAnon", "RssFile")):
        print(line)
"""

MEMORY_CASES = {
    "layers": "every map layer computed once for the whole county at res 9 (warm-up off)",
    "warm": "the warm-up's views computed (every layer, every preset window, res 7-10), "
    "its in-process cache holding them",
}


def memory(data_dir: Path) -> dict[str, Any]:
    """Peak and final RSS of a dashboard process on the data, for each of
    :data:`MEMORY_CASES`: in all, and its private (anonymous) and file-backed parts (the
    memory-mapped cube copies and the libraries, which the workers share)."""
    from geodata.store import table_path

    fixes = table_path(data_dir, "patrol_fixes")
    out: dict[str, Any] = {
        "data": str(data_dir),
        "fixes": pl.scan_parquet(fixes).select(pl.len()).collect().item(),
        "disk_mb": fixes.stat().st_size / 2**20,
        "cases": [],
    }
    for case in MEMORY_CASES:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(data_dir), case],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        kb = {
            line.split(":")[0]: int(line.split()[1])
            for line in proc.stdout.splitlines()
            if line.startswith(("Vm", "Rss"))
        }
        out["cases"].append(
            {
                "case": case,
                "peak_mb": kb["VmHWM"] / 1024,
                "rss_mb": kb["VmRSS"] / 1024,
                "anon_mb": kb["RssAnon"] / 1024,
                "file_mb": kb["RssFile"] / 1024,
            }
        )
    out["peak_mb"] = out["cases"][0]["peak_mb"]
    out["ratio"] = out["peak_mb"] * 2**20 / fixes.stat().st_size
    return out


# --- the table ----------------------------------------------------------------------------


def _goal(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(r: dict[str, Any]) -> str:
    """The Markdown of RESULTS.md."""
    lines = [
        "# Benchmark results",
        "",
        f"Run {r['date']} with `python -m benchmarks.run_all{' --quick' if r['quick'] else ''}` "
        f"on {r['machine']}. Medians of several repetitions (n given); ratios are the part "
        "that carries over to another machine. The machine is shared and noisy"
        + (
            f": load average {r['load_start']:.1f} at the start, {r['load_end']:.1f} at the end."
            if "load_end" in r
            else "."
        ),
        "",
        "## 1. Ingest: points to H3 cell counts at res 6–11 (the resolutions the cubes hold)",
        "",
        "| data | points | cube build s (M pts/s) | h3pandas s (M pts/s) | polars-h3 + group-by s "
        "(M pts/s) | build vs h3pandas (goal ≥3×) | build vs floor (goal ≥0.5×) | n |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i in r["ingest"]:
        lines.append(
            f"| {i['data']} | {i['points']:,} | {i['build_s']:.2f} ({i['build_mpts']:.2f}) "
            f"| {i['h3pandas_s']:.2f} ({i['h3pandas_mpts']:.2f}) "
            f"| {i['floor_s']:.2f} ({i['floor_mpts']:.2f}) "
            f"| {i['vs_h3pandas']:.2f}× {_goal(i['vs_h3pandas'] >= 3)} "
            f"| {i['vs_floor']:.2f}× {_goal(i['vs_floor'] >= 0.5)} | {i['repeat']} |"
        )
    lines += [
        "",
        "The cube build also buckets by hour and kind, computes dwell and visits and writes "
        "the incident and patrol cubes and the visits table to disk; h3pandas and the floor "
        "only count points per cell in memory (h3pandas from a GeoDataFrame already built, "
        "the floor from a polars frame of lng/lat already read), each indexing every point "
        "at each of the six resolutions, since H3 is not nested; the build indexes at res 11 "
        "and again only the points of res-11 cells that straddle a coarser edge "
        "(`geodata.hexes.coarser_cells`).",
        "",
        "## 2. Layer payload at res 9 (one layer update, gzip)",
        "",
        "| layer | view | cells | this app kB (raw) | GeoJSON kB (raw) | ratio (goal ≤0.1×) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for p in r["server"]["payload"]:
        ratio = p["app_gz"] / p["geo_gz"]
        lines.append(
            f"| {p['layer']} | {p['view']} | {p['cells']:,} | {p['app_gz'] / 1e3:.1f} "
            f"({p['app_raw'] / 1e3:.0f}) | {p['geo_gz'] / 1e3:.1f} ({p['geo_raw'] / 1e3:.0f}) "
            f"| {ratio:.3f}× {_goal(ratio <= 0.1)} |"
        )
    b = r.get("browser")
    if b:
        d = b["deck"]["drawn_ms"]
        lines += [
            "",
            f"## 3. Time to a drawn map: {b['cells']:,} res-9 cells, headless Chromium",
            "",
            f"From navigation start to the hex layer on screen; restyle = a new classification "
            f"to the next frame drawn. Medians of {b['repeat']}. Chromium has no GPU here: "
            "deck.gl draws through SwiftShader (software WebGL). Restyle in deck.gl: "
            "new class breaks through `updateTriggers`; in folium, which has no "
            "reclassification, `setStyle` on its GeoJSON layer; in this app, another scheme "
            "chosen (the reach layer's classes are fixed, so the same work as new breaks: "
            "a new hideout, every hexagon repainted).",
            "",
            "| page | hexagons | drawn ms | vs deck.gl | restyle ms |",
            "|---|---:|---:|---:|---:|",
        ]
        names = {
            "app": "this app (`/?layer=reach&res=9`, dash-leaflet + one canvas layer)",
            "deck": "deck.gl 9 `H3HexagonLayer` from cell ids",
            "folium": "`GeoDataFrame.explore()` (folium, SVG)",
        }
        for k in ("app", "deck", "folium"):
            m = b[k]
            lines.append(
                f"| {names[k]} | {m['n']:,.0f} | {m['drawn_ms']:,.0f} | "
                f"{m['drawn_ms'] / d:.2f}× | {m['restyle_ms']:,.0f} |"
            )
        a = b["app"]
        lines += [
            "",
            f"Goals: this app ≤1.0× deck.gl — {_goal(a['drawn_ms'] <= d)}; restyle ≤100 ms — "
            f"{_goal(a['restyle_ms'] <= 100)}.",
            "",
            f"Where this app's first draw goes (the median run): the payload is in the browser "
            f"{a['built_ms']:,.0f} ms after navigation (page, Dash start-up, the layer "
            f"callback); then h3-js builds the {a['n']:,.0f} hexagons ({a['h3js_ms']:,.0f} ms), "
            "the layer's styles arrive and one canvas paints them all "
            f"(pnm.hexLayer): {a['leaflet_ms']:,.0f} ms from payload to screen. The restyle "
            "is a clientside pick among the styles the server sent for every scheme, then a "
            "repaint of the kept geometry.",
        ]
    lines += [
        "",
        "## 4. Server time of one layer update (data + style callbacks), res 9",
        "",
        "| layer | view | cold p50 ms | cold p95 ms | warm p50 ms | warm p95 ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for t in r["server"]["timing"]:
        lines.append(
            f"| {t['layer']} | {t['view']} | {t['cold_p50'] * 1e3:,.0f} | "
            f"{t['cold_p95'] * 1e3:,.0f} | {t['warm_p50'] * 1e3:,.1f} | "
            f"{t['warm_p95'] * 1e3:,.1f} |"
        )
    if r["server"]["timing"]:
        t0 = r["server"]["timing"][0]
        lines.append(
            f"\nCold: a new cache per request (n={t0['cold_n']}); warm: the same request again "
            f"(n={t0['warm_n']})."
        )
    if r.get("memory"):
        m = r["memory"]
        lines += [
            "",
            "## 5. Memory",
            "",
            f"A dashboard process on {m['data']} ({m['fixes']:,} patrol fixes, "
            f"{m['disk_mb']:.0f} MB on disk). Private: anonymous memory, this worker's own; "
            "shared: file-backed pages (the memory-mapped cube copies, "
            "`geodata.cubes.mapped`, and the libraries), one copy for all the workers of "
            "a machine.",
            "",
            "| process | peak RSS MB (goal ≤1,024) | RSS after MB | of it private | shared |",
            "|---|---:|---:|---:|---:|",
        ]
        for c in m.get("cases", []):
            lines.append(
                f"| {MEMORY_CASES.get(c['case'], c['case'])} | {c['peak_mb']:,.0f} | "
                f"{c['rss_mb']:,.0f} | {c['anon_mb']:,.0f} | {c['file_mb']:,.0f} |"
            )
    if r.get("notes"):
        lines += ["", "## What misses its goal", ""] + [f"- {n}" for n in r["notes"]]
    return "\n".join(lines) + "\n"


def profile_app(data_dir: Path) -> list[tuple[str, float]]:
    """Chromium's CPU profile of this app's first draw of ``?layer=reach&res=9``.

    Returns the top JavaScript functions by self time (ms) from navigation to drawn.
    """
    from selenium.webdriver.support.ui import WebDriverWait
    from werkzeug.serving import make_server

    from dashboard.app import create_app
    from dashboard.settings import load_settings

    app = create_app(load_settings({}, data_dir=str(data_dir), auth="none"))
    srv = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    driver = peers.chromium()
    try:
        driver.execute_cdp_cmd("Profiler.enable", {})
        driver.execute_cdp_cmd("Profiler.setSamplingInterval", {"interval": 1000})
        driver.execute_cdp_cmd("Profiler.start", {})
        _app_page(driver, srv.server_port, WebDriverWait)
        prof = driver.execute_cdp_cmd("Profiler.stop", {})["profile"]
    finally:
        driver.quit()
        srv.shutdown()
    return _top_functions(prof)


def _top_functions(prof: dict[str, Any], n: int = 12) -> list[tuple[str, float]]:
    nodes = {node["id"]: node for node in prof["nodes"]}
    deltas = prof.get("timeDeltas", [])
    self_ms: dict[str, float] = {}
    for sample, delta in zip(prof.get("samples", []), [*deltas[1:], 0], strict=False):
        frame = nodes[sample]["callFrame"]
        url = frame.get("url", "").rsplit("/", 1)[-1].split("?")[0]
        name = f"{frame.get('functionName') or '(anonymous)'} ({url}:{frame.get('lineNumber', 0)})"
        self_ms[name] = self_ms.get(name, 0.0) + delta / 1000
    return sorted(self_ms.items(), key=lambda kv: -kv[1])[:n]


def notes(r: dict[str, Any]) -> list[str]:
    """One line per figure that misses its goal, with the main cost measured."""
    out: list[str] = []
    for i in r["ingest"]:
        if i["vs_h3pandas"] < 3 or i["vs_floor"] < 0.5:
            floor_vs = i["h3pandas_s"] / i["floor_s"]
            why = (
                f"The floor itself is only {floor_vs:.2f}× h3pandas here, so ≥3× h3pandas "
                "would need a build faster than bare polars-h3 indexing plus a group-by."
                if floor_vs < 3
                else f"The floor is {floor_vs:.2f}× h3pandas; the build reaches "
                f"{i['vs_floor']:.2f}× of it because it does more than count (hour buckets "
                "by kind, dwell, visits, three files written)."
            )
            out.append(
                f"Ingest ({i['data']}): the cube build is {i['vs_h3pandas']:.2f}× h3pandas "
                f"(goal ≥3×) and {i['vs_floor']:.2f}× the floor (goal ≥0.5×). {why} Main "
                "cost of the build (cProfile, county demo, exact cells at res 6–11, "
                "2026-12-08, 14.6 s under the profiler): H3 indexing of the fixes 59 % "
                "(res 11 by polars-h3 `latlng_to_cell`, 19 %; the coarser cells, "
                "`geodata.hexes.coarser_cells`, 40 %, most of it re-indexing the points of "
                "res-11 cells that straddle a res-9 or res-10 edge: 35 % and 86 % of the "
                "fixes); the patrol table 19 % (splitting stays by their coarser cells, "
                "`segments.lineage_ids`, 15 %); reading the fixes 8 %; writing 3 %. Next "
                "step: res 10 and 9 from a res-12 index (fewer straddling cells), or fewer "
                "resolutions indexed (res 6 is for exports only)."
            )
    slow = [
        f"{t['layer']} {t['cold_p50'] * 1000:,.0f} ms"
        for t in r["server"]["timing"]
        if t["view"] == "county" and t["cold_p50"] > 0.3
    ]
    if slow:
        out.append(
            "Cold layers at res 9 for the county above 300 ms: " + ", ".join(slow) + ". "
            "Each is computed once for the whole area and then served warm to every scope "
            "(under 10 ms). The patrol layers merge a unit's stays per exact cell over the "
            "window's visits (`layers.patrol_coverage.intervals.visits_near`, ~60 ms), sum "
            "the cube's window (~50 ms), find the longest gaps (~20 ms) and join the parts "
            "over the area's cells. The gap layer computes every input layer itself (patrol "
            "coverage, dose, Gi*, emerging trend, change, band counts, reach, communities, "
            "population: 40-350 ms each) and then the score (~100 ms); next step: take its "
            "inputs from the registry's results of those layers, computed once and shared, "
            "so that it costs the score alone."
        )
    m = r.get("memory")
    for c in (m or {}).get("cases", []):
        if c["peak_mb"] > 1024:
            out.append(
                f"Memory ({MEMORY_CASES.get(c['case'], c['case'])}): peak {c['peak_mb']:,.0f} "
                "MB (goal ≤1 GB). The peak is a layer's working memory, not what is held: "
                "the patrol layer at res 10 joins its parts over the area's 310,000 cells "
                "(31 columns, then pandas) and merges the window's visits, +300-500 MB for "
                "a moment, which the allocator keeps for the next layer; held after: "
                f"{c['rss_mb']:,.0f} MB, {c['anon_mb']:,.0f} MB of it private."
            )
    for p in r["server"]["payload"]:
        if p["app_gz"] > 0.1 * p["geo_gz"]:
            out.append(f"Payload ({p['layer']}, {p['view']}): above 0.1× GeoJSON.")
    b = r.get("browser")
    if b:
        a, d = b["app"], b["deck"]["drawn_ms"]
        if a["drawn_ms"] > d:
            top = ", ".join(f"`{name}` {ms:,.0f} ms" for name, ms in r.get("profile", [])[:5])
            out.append(
                f"Time to a drawn map: this app {a['drawn_ms']:,.0f} ms, "
                f"{a['drawn_ms'] / d:.1f}× deck.gl's {d:,.0f} ms (goal ≤1.0×). The payload "
                f"is in the browser at {a['built_ms']:,.0f} ms (the page, Dash's start-up and "
                f"callback chain); h3-js, the style and the paint take {a['leaflet_ms']:,.0f} "
                f"ms more (h3-js {a['h3js_ms']:,.0f} ms of it). "
                + (f"Chromium's CPU profile, top self time: {top}." if top else "")
            )
        if not a["restyle_ms"] <= 100:
            out.append(
                f"Restyle: {a['restyle_ms']:,.0f} ms (goal ≤100 ms; deck.gl "
                f"{b['deck']['restyle_ms']:,.0f} ms). No server round trip: the time is Dash's "
                "clientside update and Chromium's software rasterisation of "
                f"{a['n']:,.0f} canvas polygons (deck.gl recolours a GPU buffer)."
            )
    return out


README = ROOT / "README.md"
_START, _END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"


def update_readme(results: str, readme: Path = README) -> bool:
    """Put ``results`` (RESULTS.md's text, headings one level down) between the README's
    benchmark markers; False when the markers are missing."""
    text = readme.read_text(encoding="utf-8")
    if _START not in text or _END not in text:
        return False
    body = "\n".join(
        ("#" + line if line.startswith("#") else line)
        for line in results.splitlines()
        if not line.startswith("# ")
    )
    head, rest = text.split(_START, 1)
    _, tail = rest.split(_END, 1)
    readme.write_text(f"{head}{_START}\n{body.strip()}\n{_END}{tail}", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    """Run every comparison and write benchmarks/RESULTS.md."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_all", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="county only, fewer repetitions")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "demo")
    parser.add_argument("--large", type=Path, default=Path("/tmp/large"))
    parser.add_argument("--skip", nargs="*", default=[], help="ingest server browser memory")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--readme", action="store_true", help="also copy the table into README.md")
    parser.add_argument("--render", action="store_true", help="only re-render RESULTS.json")
    parser.add_argument("--profile", action="store_true", help="only profile the app page")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log in the output
    if args.render:  # RESULTS.md again from RESULTS.json, e.g. after a change of wording
        saved = json.loads(args.out.with_suffix(".json").read_text())
        saved["notes"] = notes(saved)
        text = render(saved)
        args.out.write_text(text, encoding="utf-8")
        if args.readme and not update_readme(text):
            print("README.md has no benchmark markers: not updated", file=sys.stderr)
        print(text)
        return 0
    if args.profile:
        for name, ms in profile_app(args.data):
            print(f"{ms:9.1f} ms  {name}")
        return 0
    _check_peers()
    if shutil.which("npm") is None and not (peers.VENDOR.exists()):
        print("npm not found: the deck.gl page cannot be built", file=sys.stderr)
    large = args.large if (not args.quick and (args.large / "cubes").exists()) else None
    rep = 1 if args.quick else 3
    r: dict[str, Any] = {
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "quick": args.quick,
        "load_start": os.getloadavg()[0],
        "ingest": [],
        "notes": [],
    }
    if "ingest" not in args.skip:
        for d in [args.data] + ([large] if large else []):
            print(f"ingest {d} ...", flush=True)
            r["ingest"].append(ingest(d, rep))
    print("server ...", flush=True)
    r["server"] = (
        server(args.data, 1 if args.quick else 3, 5 if args.quick else 20)
        if "server" not in args.skip
        else {"payload": [], "timing": []}
    )
    if "browser" not in args.skip:
        print("browser ...", flush=True)
        r["browser"] = browser(args.data, rep)
        if r["browser"]["app"]["drawn_ms"] > r["browser"]["deck"]["drawn_ms"]:
            print("profile ...", flush=True)
            r["profile"] = profile_app(args.data)
    if "memory" not in args.skip:
        print("memory ...", flush=True)
        r["memory"] = memory(large or args.data)
    r["load_end"] = os.getloadavg()[0]
    r["notes"] = notes(r)
    text = render(r)
    args.out.write_text(text, encoding="utf-8")
    (args.out.with_suffix(".json")).write_text(json.dumps(r, indent=1, default=str))
    if args.readme and not update_readme(text):
        print(f"README.md has no {_START} ... {_END} markers: not updated", file=sys.stderr)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
