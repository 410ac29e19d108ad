"""Cheap checks before costly reads: a header's columns and a layer's features are counted
against their caps before the rows are read; every failure is one line, exit 2."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geodata import store
from geodata.importer import run_import
from geodata.limits import ImportLimits
from geodata.readers import ReadError, read_file

ROOT = Path(__file__).resolve().parents[2]
HEAD = "警情编号,发生时间,经度,纬度,警情类别\n"
GOOD = "A,2024-05-01 13:20,107.73,31.35,盗窃\n"


# Linux keeps a process's peak memory across exec, so a direct child of this (large)
# pytest process would report pytest's; the import runs as a grandchild of a tiny launcher.
LAUNCHER = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:])\n"
    "_pid, status, usage = os.wait4(p.pid, 0)\n"
    "sys.stderr.write(f'PEAK_KB {usage.ru_maxrss}\\n')\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def run_cli(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str, float, int]:
    """Exit code, stderr, seconds and peak memory (MiB) of ``python -m geodata import``."""
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            LAUNCHER,
            sys.executable,
            "-m",
            "geodata",
            "import",
            *map(str, args),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    seconds = time.monotonic() - started
    lines = done.stderr.splitlines()
    peak = [ln for ln in lines if ln.startswith("PEAK_KB ")]
    assert len(peak) == 1, done.stderr
    err = "\n".join(ln for ln in lines if not ln.startswith("PEAK_KB "))
    return done.returncode, err, seconds, int(peak[0].split()[1]) // 1024


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("导入失败 / import failed:"), lines[0]
    return lines[0]


def test_a_codec_that_is_not_a_text_encoding_is_one_line(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(HEAD + GOOD, encoding="utf-8")
    code, err, _s, _mb = run_cli(
        "incidents", path, "--data", tmp_path / "d", "--encoding", "zlib_codec"
    )
    assert code == 2 and "unknown encoding: zlib_codec" in one_line(err)


def test_a_million_columns_are_refused_in_under_5_s_and_500_mb(tmp_path):
    path = tmp_path / "wide.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEAD.rstrip("\n") + "," + ",".join(f"c{i}" for i in range(1_000_000)) + "\n")
        fh.write(GOOD.rstrip("\n") + "," * 1_000_000 + "\n")
    code, err, seconds, mib = run_cli("incidents", path, "--data", tmp_path / "d")
    assert code == 2 and "too many columns" in one_line(err) and "limit 2,000" in err
    assert seconds < 5 and mib < 500, (seconds, mib)


def _point_gpkg(path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"id": ["A"], "time": ["2024-05-01 13:20"], "category": ["theft"]},
        geometry=[shapely.Point(107.73, 31.35)],
        crs="EPSG:4326",
    )
    frame.to_file(path, driver="GPKG", layer="base")


def _add_view(path: Path, name: str, select: str) -> None:
    with sqlite3.connect(path) as con:
        con.execute(f"CREATE VIEW {name} AS {select}")
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
            "VALUES (?, 'features', ?, 4326)",
            (name, name),
        )
        con.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'POINT', 4326, 0, 0)", (name,)
        )


ROWS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000000)"


def test_a_recursive_view_of_two_billion_rows_is_refused_in_under_5_s_and_500_mb(tmp_path):
    path = tmp_path / "views.gpkg"
    _point_gpkg(path)
    # The probe's view: the recursive rows joined with a table (SQLite cannot count it fast).
    _add_view(
        path,
        "boom",
        f"{ROWS} SELECT n.i AS fid, b.geom AS geom, b.id || n.i AS id, b.time AS time, "  # noqa: S608
        "b.category AS category FROM n, base b",
    )
    code, err, seconds, mib = run_cli(
        "incidents", path, "--layer", "boom", "--data", tmp_path / "d"
    )
    assert code == 2 and "cannot be counted within 3 s" in one_line(err)
    assert seconds < 5 and mib < 500, (seconds, mib)


def test_a_layer_over_the_feature_cap_is_refused_before_it_is_read(tmp_path, square_store):
    path = tmp_path / "views.gpkg"
    _point_gpkg(path)
    # A view SQLite counts quickly: refused by its count, not by the clock.
    _add_view(
        path,
        "many",
        f"{ROWS} SELECT n.i AS fid, (SELECT geom FROM base) AS geom, 'x' || n.i AS id, "  # noqa: S608
        "'2024-05-01 13:20' AS time, 'theft' AS category FROM n",
    )
    started = time.monotonic()
    with pytest.raises(ReadError, match="too many features"):
        read_file(path, layer="many", max_features=10_000)
    assert time.monotonic() - started < 5

    geojson = tmp_path / "three.geojson"
    points = [shapely.Point(107.73, 31.35 + i / 1000) for i in range(3)]
    gpd.GeoDataFrame({"id": ["A", "B", "C"]}, geometry=points, crs="EPSG:4326").to_file(geojson)
    with pytest.raises(ReadError, match="too many features"):
        read_file(geojson, max_features=2)
    assert len(read_file(geojson, max_features=3).frame) == 3


def test_the_caps_are_settings(tmp_path, square_store, capsys, monkeypatch):
    path = tmp_path / "in.csv"
    path.write_text(HEAD + GOOD, encoding="utf-8")
    monkeypatch.setenv("PNM_IMPORT_MAX_COLUMNS", "4")
    assert run_import("incidents", path, data_dir=square_store) == 2
    assert "PNM_IMPORT_MAX_COLUMNS" in one_line(capsys.readouterr().err)
    monkeypatch.delenv("PNM_IMPORT_MAX_COLUMNS")
    assert run_import("incidents", path, data_dir=square_store) == 0
    assert ImportLimits().max_columns == 2000 and ImportLimits().max_features == 5_000_000


def test_an_unexpected_error_is_still_one_line(tmp_path, square_store, capsys, monkeypatch):
    import geodata.importer as importer

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a library's surprise")

    monkeypatch.setattr(importer, "read_file", broken)
    path = tmp_path / "in.csv"
    path.write_text(HEAD + GOOD, encoding="utf-8")
    assert run_import("incidents", path, data_dir=square_store) == 2
    line = one_line(capsys.readouterr().err)
    assert "unexpected error (KeyError)" in line and "surprise" in line
    assert not store.has_table(square_store, "incidents")
    assert json.dumps(line)  # printable
