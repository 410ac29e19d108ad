"""``python -m geodata check``: what a data directory holds and what each layer needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from geodata import store
from geodata.check import inventory, layer_needs, render, servable
from geodata.cubes import build_cubes
from geodata.importer import import_file
from layers.registry import LAYERS, ZONES

ROOT = Path(__file__).resolve().parents[2]


def _needs() -> dict[str, tuple[tuple[str, str], tuple[str, ...]]]:
    return {n: ((s.label.zh, s.label.en), (*ZONES, *s.reads)) for n, s in LAYERS.items()}


def _incidents(tmp_path: Path, data: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "警情编号,发生时间,经度,纬度,警情类别\n"
        "A,2024-05-01 13:20,107.73,31.35,盗窃\nB,2024-05-03 09:00,107.74,31.36,盗窃\n",
        encoding="utf-8",
    )
    assert import_file("incidents", path, data_dir=data).rows_stored == 2


def _cli(data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geodata", "check", "--data", str(data)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def test_an_area_alone_names_what_every_layer_needs(square_store: Path) -> None:
    inv = inventory(square_store)
    assert inv.tables["area"].rows == 1 and not inv.tables["incidents"].present
    assert not servable(inv)
    needs = _needs()
    assert layer_needs(inv, needs["heat"][1]) == (["incidents"], ["precincts", "grids"])
    assert layer_needs(inv, needs["reach"][1])[0] == ["response_units"]
    assert layer_needs(inv, needs["patrol"][1])[0] == ["patrol_fixes"]
    page = render(inv, needs)
    assert "incidents" in page and "缺 / missing" in page and "needs incidents" in page
    done = _cli(square_store)
    assert done.returncode == 1 and "needs incidents" in done.stdout


def test_incidents_without_cubes_need_the_cubes_then_are_ready(
    tmp_path: Path, square_store: Path
) -> None:
    _incidents(tmp_path, square_store)
    inv = inventory(square_store)
    assert inv.tables["incidents"].time_range == ("2024-05-01 13:20", "2024-05-03 09:00")
    assert inv.tables["incidents"].datums == ("wgs84",)  # from the manifest's import log
    assert layer_needs(inv, _needs()["heat"][1])[0] == ["cubes"]
    build_cubes(square_store)
    inv = inventory(square_store)
    assert servable(inv) and inv.stale == ()
    assert layer_needs(inv, _needs()["heat"][1])[0] == []
    assert layer_needs(inv, _needs()["gaps"][1])[0] == ["patrol_fixes", "communities",
                                                         "response_units", "population"]  # fmt: skip
    done = _cli(square_store)
    assert done.returncode == 0, done.stderr
    assert "heat" in done.stdout and "✓" in done.stdout


def test_points_outside_the_area_are_counted_and_changed_tables_make_the_cubes_stale(
    tmp_path: Path, square_store: Path
) -> None:
    _incidents(tmp_path, square_store)
    build_cubes(square_store)
    stored = store.read_table(square_store, "incidents")
    outside = stored.iloc[[0]].assign(incident_id="C", lng=108.2)  # east of the square
    store.write_table(square_store, "incidents", pd.concat([stored, outside], ignore_index=True))
    inv = inventory(square_store)
    assert inv.tables["incidents"].outside == 1
    assert inv.stale == ("incidents",)
    assert "out of date: incidents" in render(inv, _needs())


def test_no_directory_is_exit_2(tmp_path: Path) -> None:
    done = _cli(tmp_path / "nowhere")
    assert done.returncode == 2 and "no data directory" in done.stderr
