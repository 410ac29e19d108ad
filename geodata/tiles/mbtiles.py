"""MBTiles raster tile packages: read one tile, read and check the metadata, write a package.

An MBTiles file (spec 1.3) is SQLite: a ``metadata`` table of ``name, value`` rows and a
``tiles`` table (or view) of ``zoom_level, tile_column, tile_row, tile_data``. Rows count
from the south (TMS), so the ``y`` of a web map's ``z/x/y`` (counted from the north) is
``2**z - 1 - y`` in the table.

The spec has no key for the datum, and offline packages from Chinese providers (AMap,
Tencent; some 天地图 and PGIS exports) are drawn in GCJ-02, hundreds of metres off WGS84
overlays. So the package states it in the metadata key ``datum`` (:data:`DATUM_KEY`):
``WGS84`` (also ``CGCS2000``, ``EPSG:4326``, ``EPSG:3857``, ``EPSG:4490``: the same to
well under a pixel) or ``GCJ-02`` (or ``BD-09``). A package in GCJ-02 or BD-09, or in a
datum named otherwise, is refused; one that names none is taken as WGS84, and
:attr:`TilePackage.datum_note` says so.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Final

DATUM_KEY: Final = "datum"
"""The metadata key stating the datum of the tiles (not in the MBTiles spec)."""

WGS84_NAMES: Final = frozenset({"wgs84", "epsg:4326", "epsg:3857", "cgcs2000", "epsg:4490"})
SHIFTED_NAMES: Final = {"gcj02": "GCJ-02", "bd09": "BD-09"}
"""Offset datums (canonical key -> name): tiles in them are refused."""

FORMATS: Final = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
}
"""Raster formats an MBTiles ``format`` may name, with their media types."""

_MAGIC: Final = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


class TilePackageError(ValueError):
    """A tile package that cannot be served; the message is one line saying why.

    ``offset_datum`` names the offset datum (``GCJ-02``, ``BD-09``) when that is why.
    """

    def __init__(self, message: str, *, offset_datum: str = "") -> None:
        super().__init__(message)
        self.offset_datum = offset_datum


def datum_key(text: str) -> str:
    """``"GCJ-02"`` -> ``"gcj02"``, ``"EPSG:4326"`` -> ``"epsg:4326"``."""
    return text.strip().lower().replace("-", "").replace("_", "").replace(" ", "")


def media_type(data: bytes) -> str | None:
    """The media type of a tile from its first bytes (PNG, JPEG, WebP), else None."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def tms_row(z: int, y: int) -> int:
    """The MBTiles ``tile_row`` (counted from the south) of web-map row ``y`` at zoom ``z``."""
    return (1 << z) - 1 - y


@dataclass(frozen=True)
class TilePackage:
    """An MBTiles file checked for serving.

    Attributes
    ----------
    path : Path
    format : str
        ``png``, ``jpg`` or ``webp`` (the metadata's ``format``).
    minzoom, maxzoom : int
        The zooms the package holds (metadata, else read from the tiles).
    bounds : tuple of float or None
        ``(west, south, east, north)`` in degrees, if the metadata says.
    attribution : str
        The metadata's ``attribution`` (text from a file: escape it before showing).
    name : str
    datum_note : str
        Empty when the package states a WGS84-compatible datum; otherwise the one line
        saying that WGS84 is assumed.
    """

    path: Path
    format: str
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float] | None
    attribution: str
    name: str
    datum_note: str

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The bytes of tile ``z/x/y`` (web-map rows, from the north), None if absent.

        Raises
        ------
        TilePackageError
            When the file cannot be read (damaged, or gone since it was opened).
        """
        if not (0 <= z <= 30 and 0 <= x < (1 << z) and 0 <= y < (1 << z)):
            return None
        try:
            with closing(_connect(self.path)) as db:
                row = db.execute(
                    "SELECT tile_data FROM tiles"
                    " WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                    (z, x, tms_row(z, y)),
                ).fetchone()
        except sqlite3.Error as exc:
            raise TilePackageError(
                f"{self.path.name}: tile {z}/{x}/{y} unreadable ({exc})"
            ) from None
        return bytes(row[0]) if row is not None and row[0] is not None else None


def _connect(path: Path) -> sqlite3.Connection:
    # Read-only: the app never changes the package, and a missing file stays missing.
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)


def _bounds(text: str, path: Path) -> tuple[float, float, float, float] | None:
    if not text.strip():
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise TilePackageError(
            f"{path.name}: metadata bounds {text[:60]!r} is not west,south,east,north"
        ) from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise TilePackageError(f"{path.name}: metadata bounds {text[:60]!r} out of range")
    return west, south, east, north


def _datum_note(metadata: Mapping[str, str], path: Path) -> str:
    stated = metadata.get(DATUM_KEY, "").strip()
    if not stated:
        return (
            f"{path.name}: its metadata states no datum (key {DATUM_KEY!r}); "
            "assuming WGS84 — tiles in GCJ-02 would lie hundreds of metres off the overlay"
        )
    key = datum_key(stated)
    if key in SHIFTED_NAMES:
        raise TilePackageError(
            f"{path.name}: tiles in {SHIFTED_NAMES[key]} are not used — the map's data are "
            f"WGS84 and would lie hundreds of metres off them; use a WGS84 tile package",
            offset_datum=SHIFTED_NAMES[key],
        )
    if key not in WGS84_NAMES:
        raise TilePackageError(
            f"{path.name}: unknown datum {stated[:40]!r} in metadata {DATUM_KEY!r}; "
            "use WGS84 or GCJ-02"
        )
    return ""


def open_package(path: Path) -> TilePackage:
    """Open and check the MBTiles file at ``path``.

    Raises
    ------
    TilePackageError
        When the file is not an MBTiles package of raster tiles, or its tiles are in an
        offset datum (GCJ-02, BD-09) or an unknown one.
    """
    try:
        with closing(_connect(path)) as db:
            metadata = {str(k): str(v) for k, v in db.execute("SELECT name, value FROM metadata")}
            zooms = db.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
    except sqlite3.Error as exc:
        raise TilePackageError(f"{path.name}: not an MBTiles package ({exc})") from None
    fmt = metadata.get("format", "png").strip().lower()
    if fmt not in FORMATS:
        raise TilePackageError(
            f"{path.name}: tile format {fmt[:20]!r} is not a raster image (png, jpg, webp)"
        )
    if zooms is None or zooms[0] is None:
        raise TilePackageError(f"{path.name}: the package holds no tiles")

    def zoom(key: str, found: int) -> int:
        try:
            return int(metadata[key]) if metadata.get(key, "").strip() else found
        except ValueError:
            raise TilePackageError(f"{path.name}: metadata {key} is not a zoom level") from None

    return TilePackage(
        path=path,
        format="jpg" if fmt == "jpeg" else fmt,
        minzoom=zoom("minzoom", int(zooms[0])),
        maxzoom=zoom("maxzoom", int(zooms[1])),
        bounds=_bounds(metadata.get("bounds", ""), path),
        attribution=metadata.get("attribution", "").strip(),
        name=metadata.get("name", "").strip(),
        datum_note=_datum_note(metadata, path),
    )


def write_package(
    path: Path, tiles: Iterable[tuple[int, int, int, bytes]], metadata: Mapping[str, str]
) -> int:
    """Write an MBTiles file of ``(z, x, y, data)`` tiles (web-map rows) atomically.

    Parameters
    ----------
    path : Path
        The file to (re)place; written beside it first, then renamed.
    tiles : iterable of (int, int, int, bytes)
    metadata : mapping of str to str
        ``name``, ``format``, ``bounds``, ``minzoom``, ``maxzoom``, ``attribution``,
        :data:`DATUM_KEY`, …

    Returns
    -------
    int
        The number of tiles written.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    images: dict[str, bytes] = {}

    def placed() -> Iterator[tuple[int, int, int, str]]:
        for z, x, y, data in tiles:
            key = hashlib.sha256(data).hexdigest()[:32]
            images.setdefault(key, data)
            yield z, x, tms_row(z, y), key

    with closing(sqlite3.connect(tmp)) as db:
        # The spec's deduplicated layout: each distinct image once (a basemap has many
        # tiles of plain land or plain ground), ``tiles`` a view joining them.
        db.executescript(
            "CREATE TABLE metadata (name TEXT, value TEXT);"
            "CREATE TABLE map (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
            " tile_id TEXT);"
            "CREATE TABLE images (tile_id TEXT PRIMARY KEY, tile_data BLOB);"
        )
        db.executemany("INSERT INTO metadata VALUES (?, ?)", sorted(metadata.items()))
        count = db.executemany("INSERT INTO map VALUES (?, ?, ?, ?)", placed()).rowcount
        db.executemany("INSERT INTO images VALUES (?, ?)", images.items())
        db.executescript(
            "CREATE UNIQUE INDEX map_index ON map (zoom_level, tile_column, tile_row);"
            "CREATE VIEW tiles AS SELECT map.zoom_level AS zoom_level,"
            " map.tile_column AS tile_column, map.tile_row AS tile_row,"
            " images.tile_data AS tile_data FROM map JOIN images ON images.tile_id = map.tile_id;"
        )
        db.commit()
    tmp.replace(path)
    return count
