"""A cube build whose source fails half way leaves the last build whole.

The incidents are read in a thread while the fixes are read and their cubes made; when
the incidents read fails after that (PostgreSQL stopped, a file gone), no cube of the
new build may replace one of the last: a reader would otherwise meet new patrol cubes
beside old incidents. tests/production/test_db_faults.py stops a real PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from geodata.cubes import build_cubes
from geodata.cubes.sources import FileSource
from geodata.store import cubes_dir
from tests.geodata.partition_data import (
    D0,
    C,
    every,
    fixes_frame,
    hard_fixes,
    incidents_frame,
    write_store,
)


@dataclasses.dataclass(frozen=True)
class IncidentsFailAfterFixes(FileSource):
    """The files, except that reading the incidents fails once the patrol cubes of the
    build were made (the fixes were read and indexed)."""

    fixes_read: threading.Event = dataclasses.field(default_factory=threading.Event)

    def read_fixes(self, *args: Any, **kwargs: Any) -> Any:
        out = super().read_fixes(*args, **kwargs)
        self.fixes_read.set()
        return out

    def read_incidents(self, *args: Any, **kwargs: Any) -> pl.DataFrame:
        assert self.fixes_read.wait(30)
        raise RuntimeError("reading pnm.incidents failed: the server went away")


def _snapshot(data: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in cubes_dir(data).iterdir()}


def test_a_source_failing_half_way_leaves_the_last_build_whole(tmp_path: Path) -> None:
    data = write_store(tmp_path / "data", fixes_frame(hard_fixes()), incidents_frame())
    build_cubes(data)
    before = _snapshot(data)
    # New fixes: the patrol and visits cubes of the next build differ from these.
    extra = every("extra1", "foot_patrol", D0 + dt.timedelta(days=4, hours=9),
                  D0 + dt.timedelta(days=4, hours=10), 20, C)  # fmt: skip
    write_store(data, pl.concat([fixes_frame(hard_fixes()), fixes_frame(extra)]), None)
    with pytest.raises(RuntimeError, match="server went away"):
        build_cubes(data, source=IncidentsFailAfterFixes(data))
    assert _snapshot(data) == before  # nothing replaced, no temporary file left
    build_cubes(data)  # the same build from the files succeeds and replaces every cube
    after = _snapshot(data)
    assert after.keys() == before.keys()
    assert after["patrol.parquet"][0] != before["patrol.parquet"][0]
