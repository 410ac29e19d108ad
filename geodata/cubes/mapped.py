"""Cube tables memory-mapped from an Arrow IPC copy, shared by every worker of a machine.

A dashboard worker holds the patrol cube and the visits of the last weeks (≈350 MB for
the county demo). Read from Parquet, each worker decodes its own copy into private
memory. An *uncompressed* Arrow IPC file has the byte layout of the columns in memory, so
mapping it (pyarrow's ``memory_map``, then ``polars.from_arrow`` without a copy) gives
the same frame backed by the page cache: the workers share one copy, and the kernel can
drop the pages of columns a layer never reads (the res-6…8 cells at res 9).

Parquet stays the data of record (the builds, the incremental refresh, Dask, PostGIS and
the exports read it). The IPC copy is derived from it on first use and named after the
Parquet file's identity (size, mtime, inode, ctime) and what was read (``key``: a time
filter), so a rebuilt cube never maps a stale copy; it is written to a temporary name and
renamed, so a reader never maps half a file. Where it cannot be written (a read-only data
directory, a full disk) the frame is served from memory as before, with one warning.

Written by hand in a line's worth of pyarrow because polars 2 dropped ``read_ipc``'s
``memory_map`` and no library keeps such a derived copy.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow as pa

from geodata.store import file_identity

log = logging.getLogger(__name__)

MAPPED_DIR = ".mapped"
"""Under the cubes directory: the IPC copies (derived, safe to delete at any time)."""


def copy_path(source: Path, key: str = "") -> Path:
    """Where the IPC copy of ``source`` read with ``key`` lives."""
    digest = hashlib.blake2b(f"{file_identity(source)}|{key}".encode(), digest_size=8).hexdigest()
    return source.parent / MAPPED_DIR / f"{source.stem}-{digest}.arrow"


def map_ipc(path: Path) -> pl.DataFrame:
    """The frame of an uncompressed Arrow IPC file, its columns backed by the file."""
    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    frame = pl.from_arrow(table, rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    return frame


def mapped(source: Path, read: Callable[[], pl.DataFrame], key: str = "") -> pl.DataFrame:
    """``read()`` (a frame read from the Parquet file ``source``), memory-mapped from its
    IPC copy: the copy is mapped when it exists, otherwise written first."""
    target = copy_path(source, key)
    if target.exists():
        try:
            return map_ipc(target)
        except (OSError, pa.ArrowInvalid) as exc:  # damaged: written again below
            log.warning("the mapped copy %s cannot be read (%s); writing it again", target, exc)
    frame = read()
    try:
        _write(frame, target)
    except OSError as exc:
        log.warning("cannot keep a mapped copy of %s (%s): held in memory", source, exc)
        return frame
    return map_ipc(target)


def _write(frame: pl.DataFrame, target: Path) -> None:
    target.parent.mkdir(exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        frame.write_ipc(tmp, compression="uncompressed")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    for old in target.parent.glob(f"{target.stem.rsplit('-', 1)[0]}-*.arrow"):
        if old != target:  # copies of earlier versions (a worker still mapping one keeps it)
            old.unlink(missing_ok=True)


__all__ = ["MAPPED_DIR", "copy_path", "map_ipc", "mapped"]
