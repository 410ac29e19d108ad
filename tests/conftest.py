"""Shared fixtures: one small demo data set, built once per test session."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.views.warm import Warmer
from geodata.demo import build_demo

DEMO_SEED = 7


@pytest.fixture(autouse=True, scope="session")
def _no_background_warm_up() -> Iterator[None]:
    """Apps built by the tests (browser tests included) do not start the warm-up thread:
    a background pass would write cache entries while a test counts or compares them, and
    take the CPU a browser test is timing. The warm-up has tests of its own
    (tests/dashboard/test_warm.py), which run it on purpose."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Warmer, "start", lambda self: None)
        yield


@pytest.fixture(scope="session")
def demo_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data directory of the small demo data set (seed 7). Treat it as read-only."""
    return build_demo(tmp_path_factory.mktemp("demo_small"), seed=DEMO_SEED, scale="small")


class SmallDisk:
    """A 1 MiB tmpfs mounted for one test: a file system that really fills up."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def fill(self, leave: int = 0) -> None:
        """Fill the disk up to ``leave`` bytes free (0: full)."""
        import os

        with self.filler.open("ab") as fh:
            try:
                while True:
                    free = os.statvfs(self.path).f_bavail * os.statvfs(self.path).f_frsize
                    if free <= leave:
                        break
                    fh.write(b"\0" * min(free - leave, 4096))
                    fh.flush()
            except OSError:  # ENOSPC: full
                pass

    def free(self) -> None:
        """Give the space back."""
        self.filler.unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 1 MiB tmpfs (the tests run as root, as CI does); unmounted afterwards."""
    where = tmp_path / "small-disk"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(where)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the full-disk test: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(where)
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
