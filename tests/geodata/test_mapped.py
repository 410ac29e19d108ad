"""geodata.cubes.mapped: a Parquet table served from a memory-mapped Arrow copy."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from geodata.cubes.mapped import MAPPED_DIR, copy_path, mapped


def _source(tmp_path: Path, n: int = 50_000, seed: int = 0) -> tuple[Path, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    frame = pl.DataFrame(
        {
            "cell": rng.integers(0, 2**63, n, dtype=np.uint64),
            "unit_id": pl.Series(rng.choice(["u1", "u2", "u3"], n), dtype=pl.Enum(["u1", "u2", "u3"])),
            "unit_kind": rng.choice(["foot_patrol", "police_car"], n).tolist(),
            "dwell_s": rng.random(n).astype(np.float32),
        }
    )  # fmt: skip
    path = tmp_path / "patrol.parquet"
    frame.write_parquet(path)
    return path, frame


class Reads:
    """``read()`` of a Parquet file, counting its calls."""

    def __init__(self, path: Path) -> None:
        self.path, self.calls = path, 0

    def __call__(self) -> pl.DataFrame:
        self.calls += 1
        return pl.read_parquet(self.path)


def _mapped_files() -> set[str]:
    return {line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines()
            if line.endswith(".arrow")}  # fmt: skip


def test_the_frame_is_the_tables_and_is_mapped_from_its_copy_read_once(tmp_path: Path) -> None:
    path, want = _source(tmp_path)
    read = Reads(path)
    first = mapped(path, read)
    again = mapped(path, read)
    assert read.calls == 1  # the second is mapped, not read
    assert first.equals(want) and again.equals(want)
    assert first.schema == want.schema  # the Enum and the float32 kept
    copy = copy_path(path)
    assert copy.parent.name == MAPPED_DIR and copy.exists()
    assert str(copy) in _mapped_files()  # the columns live in the file, not in the heap


def test_a_rebuilt_table_gets_a_new_copy_and_the_old_one_goes(tmp_path: Path) -> None:
    path, _ = _source(tmp_path)
    mapped(path, Reads(path))
    old = copy_path(path)
    _, rebuilt = _source(tmp_path, seed=1)  # same name, new content
    got = mapped(path, Reads(path))
    assert got.equals(rebuilt)
    assert copy_path(path) != old and not old.exists()
    assert [p.name for p in (tmp_path / MAPPED_DIR).iterdir()] == [copy_path(path).name]


def test_a_key_names_what_was_read(tmp_path: Path) -> None:
    path, want = _source(tmp_path)
    few = mapped(path, lambda: pl.read_parquet(path).head(10), key="head")
    assert few.equals(want.head(10))
    assert mapped(path, Reads(path), key="all").equals(want)


def test_a_damaged_copy_is_written_again(tmp_path: Path) -> None:
    path, want = _source(tmp_path)
    mapped(path, Reads(path))
    copy = copy_path(path)
    copy.write_bytes(copy.read_bytes()[: copy.stat().st_size // 2])
    read = Reads(path)
    assert mapped(path, read).equals(want)
    assert read.calls == 1


def test_a_copy_that_cannot_be_written_serves_the_table_from_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """As in a read-only data directory or on a full disk: an OSError on writing."""
    path, want = _source(tmp_path)
    (tmp_path / MAPPED_DIR).write_text("a file where the directory would be")
    with caplog.at_level(logging.WARNING):
        got = mapped(path, Reads(path))
    assert got.equals(want)
    assert "held in memory" in caplog.text
