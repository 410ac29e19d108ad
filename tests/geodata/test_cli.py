"""The geodata command line: a user's mistake ends in one clear line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from geodata.__main__ import main
from geodata.store import cubes_dir


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geodata", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_cubes_on_an_empty_directory_is_a_clear_error(tmp_path: Path) -> None:
    done = _run("cubes", "--data", str(tmp_path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "neither incidents nor patrol fixes" in done.stderr


def test_unknown_kind_is_refused_by_the_parser(tmp_path: Path) -> None:
    done = _run("import", "crimes", str(tmp_path / "x.csv"), "--data", str(tmp_path))
    assert done.returncode == 2
    assert "invalid choice: 'crimes'" in done.stderr


def test_demo_drops_cubes_of_an_earlier_data_set(tmp_path: Path) -> None:
    stale = cubes_dir(tmp_path)
    stale.mkdir(parents=True)
    (stale / "meta.json").write_text("{}", encoding="utf-8")
    assert main(["demo", "--scale", "small", "--seed", "3", "--out", str(tmp_path)]) == 0
    assert not stale.exists()
    assert (tmp_path / "manifest.json").exists()
