"""Versions of a data directory: a fingerprint that changes when data are imported or the
cubes rebuilt (:func:`data_stamp`), and when the cubes were built (:func:`built_at`) —
what the wall's stale-data banner compares with the clock."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from geodata.cubes.build import META_FILE
from geodata.store import MANIFEST, cubes_dir, file_identity


def data_stamp(data_dir: Path) -> str:
    """A short fingerprint of the data directory's manifest and cubes: it changes when
    data are imported, the cubes rebuilt or a file restored from a backup (size, mtime,
    inode and change time of each file, :func:`geodata.snapshot.file_identity`)."""
    cubes = cubes_dir(data_dir)
    parts = [
        f"{path.name}:{file_identity(path) or '-'}"
        for path in (
            data_dir / MANIFEST,
            cubes / META_FILE,
            *(cubes / f"{n}.parquet" for n in ("incidents", "patrol", "visits")),
        )
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def built_at(data_dir: Path) -> dt.datetime | None:
    """When the cubes were built (aware), from their ``meta.json``; else the incident
    cube's modification time; None when neither can be read."""
    meta = cubes_dir(data_dir) / META_FILE
    try:
        stamp = json.loads(meta.read_text(encoding="utf-8")).get("built_at")
        if stamp:
            when = dt.datetime.fromisoformat(str(stamp))
            return when if when.tzinfo else when.astimezone()
    except (OSError, ValueError):
        pass
    try:
        mtime = (cubes_dir(data_dir) / "incidents.parquet").stat().st_mtime
    except OSError:
        return None
    return dt.datetime.fromtimestamp(mtime, tz=dt.UTC)


__all__ = ["built_at", "data_stamp"]
