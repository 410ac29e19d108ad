"""The embedded store: a data directory of GeoParquet and Parquet files.

Layout of a data directory::

    manifest.json            what the data is (synthetic or imported), when it was built
    area.parquet             the boundary of the whole area (GeoParquet, WGS84)
    precincts.parquet        ... one file per data set of geodata.schema
    incidents.parquet        point tables keep plain lng/lat columns (WGS84)
    patrol_fixes.parquet
    rejects/                 rows an import refused, with row number and reason
    cubes/                   hex cubes built by ``python -m geodata cubes``

Writes go to a temporary file first and are renamed into place, so a reader never sees
half a table and a failed write never damages what was stored.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geodata.schema import dataset

MANIFEST = "manifest.json"
CUBES_DIR = "cubes"
REJECTS_DIR = "rejects"
DATA_ENV = "PNM_DATA_DIR"


class StoreError(RuntimeError):
    """The data directory is missing something or holds something unreadable."""


def table_path(data_dir: Path | str, kind: str) -> Path:
    """Path of the Parquet file holding data set ``kind``."""
    dataset(kind)  # validates the name
    return Path(data_dir) / f"{kind}.parquet"


def has_table(data_dir: Path | str, kind: str) -> bool:
    """Whether the store holds data set ``kind``."""
    return table_path(data_dir, kind).exists()


def _atomic_target(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    # mkstemp creates 0600; give the file the mode an ordinary open() would (umask applies),
    # so a server running as another user of the same group can read the store.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return Path(tmp)


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` (GeoDataFrame as GeoParquet) to ``path`` atomically."""
    tmp = _atomic_target(path)
    try:
        frame.to_parquet(tmp, index=False, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_table(data_dir: Path | str, kind: str, frame: pd.DataFrame) -> Path:
    """Store ``frame`` as data set ``kind``, replacing what was there."""
    schema = dataset(kind)
    if schema.geometry == "polygon" and not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"{kind} needs a GeoDataFrame")
    if (
        isinstance(frame, gpd.GeoDataFrame)
        and frame.crs is not None
        and frame.crs.to_epsg() != 4326
    ):
        raise ValueError(f"{kind} must be stored in EPSG:4326, got {frame.crs}")
    path = table_path(data_dir, kind)
    write_frame(frame, path)
    return path


def read_table(data_dir: Path | str, kind: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read data set ``kind``: a GeoDataFrame for polygon tables, a DataFrame otherwise."""
    schema = dataset(kind)
    path = table_path(data_dir, kind)
    if not path.exists():
        raise StoreError(f"the data directory {Path(data_dir)} has no {kind} ({path.name})")
    if schema.geometry == "polygon":
        return gpd.read_parquet(path, columns=columns)
    return pd.read_parquet(path, columns=columns)


def read_manifest(data_dir: Path | str) -> dict[str, Any]:
    """The manifest of a data directory ({} when there is none)."""
    path = Path(data_dir) / MANIFEST
    if not path.exists():
        return {}
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


def write_manifest(data_dir: Path | str, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically."""
    path = Path(data_dir) / MANIFEST
    tmp = _atomic_target(path)
    try:
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def file_identity(path: Path) -> str:
    """Size, modification time, inode and change time of a file ("" when it does not
    exist): what tells one version of a file from another. A backup restored with
    ``cp -p`` (or ``shutil.copy2``) over the file keeps its size, mtime and inode, but
    not its change time, which only the kernel sets."""
    try:
        st = path.stat()
    except OSError:  # missing, or not ours to read: no version of it can be served
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}"


def cubes_dir(data_dir: Path | str) -> Path:
    """Folder of the hex cubes of a data directory."""
    return Path(data_dir) / CUBES_DIR


def rejects_dir(data_dir: Path | str) -> Path:
    """Folder of the rejected rows of imports."""
    return Path(data_dir) / REJECTS_DIR


def default_data_dir() -> Path:
    """The data directory named by ``PNM_DATA_DIR``, else ``./data/demo``."""
    return Path(os.environ.get(DATA_ENV) or Path.cwd() / "data" / "demo")
