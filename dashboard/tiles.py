"""The basemap: a tile server (``PNM_TILE_URL``) or a tile package the app serves itself.

A tile package is an MBTiles file of raster tiles (:mod:`geodata.tiles`), by default
``basemap.mbtiles`` in the data directory (``PNM_TILE_PACKAGE`` names another): the usual
offline package a bureau holds, from its PGIS or 天地图 export, or the one
``python -m geodata basemap`` renders of the area. The app serves it at
``/tiles/z/x/y.png`` (:data:`RULE`) to any signed-in user, like its scripts, so the map
needs nothing from outside. A tile server, when configured, wins.

The package's metadata states its datum (key ``datum``): tiles in GCJ-02 (or BD-09)
would lie hundreds of metres off the WGS84 overlays, so such a package is not used — one
line in the log and a notice on the map and the wall say why; a package that states no
datum is taken as WGS84, and the log says so. The package is opened again when its file
changes (a new export put in place), so a page rendered afterwards uses the new one.
"""

from __future__ import annotations

import hashlib
import html as html_text
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import dash_leaflet as dl
from dash import html
from flask import Flask, Response, request

from dashboard.i18n import t
from dashboard.settings import Settings
from geodata.tiles import FORMATS, TilePackage, TilePackageError, media_type, open_package

log = logging.getLogger(__name__)

PREFIX: Final = "/tiles/"
RULE: Final = PREFIX + "<int:z>/<int:x>/<int:y>.<any(png, jpg, webp):ext>"
"""The tile route; the extension is the package's format (the bytes decide the type)."""

MAX_AGE_S: Final = 24 * 3600
"""Browser caching of a tile; the URL names the package's version, so a new package is
fetched at once."""


@dataclass(frozen=True)
class Basemap:
    """What the map draws under the hexagons.

    Attributes
    ----------
    url : str
        Leaflet's URL template; empty for no tiles (the plain land of the area).
    attribution : str
        HTML of the attribution (a package's own text escaped).
    options : dict
        More ``TileLayer`` options (a package's native zooms and bounds).
    refused : str
        Why a tile package in place is not used (one line, for the log); empty if none.
    offset_datum : str
        The offset datum (``GCJ-02``, ``BD-09``) of a refused package, if that was why.
    """

    url: str = ""
    attribution: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    refused: str = ""
    offset_datum: str = ""

    @property
    def tiled(self) -> bool:
        return bool(self.url)

    def layer(self) -> dl.TileLayer:
        """The ``TileLayer`` of these tiles."""
        return dl.TileLayer(url=self.url, attribution=self.attribution or None, **self.options)


@lru_cache(maxsize=8)
def _opened(path: Path, stamp: tuple[int, int, int]) -> TilePackage | TilePackageError:
    """The package at ``path`` as of ``stamp`` (its file's inode, size, mtime), opened
    once per version of the file; the log says what became of it, once."""
    try:
        package = open_package(path)
    except TilePackageError as exc:
        log.error("basemap refused: %s", exc)
        return exc
    if package.datum_note:
        log.warning("basemap: %s", package.datum_note)
    log.info(
        "basemap: serving %s (zoom %d-%d) at %s", path, package.minzoom, package.maxzoom, PREFIX
    )
    return package


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def current_package(settings: Settings) -> tuple[TilePackage | TilePackageError | None, str]:
    """The tile package in place (None: no file; a TilePackageError: refused) and a short
    version of its file (empty without one)."""
    path = settings.tile_package_path
    stamp = _stamp(path)
    if stamp is None:
        return None, ""
    return _opened(path, stamp), hashlib.sha256(repr(stamp).encode()).hexdigest()[:12]


def basemap(settings: Settings) -> Basemap:
    """The basemap of the pages: the tile server, else the tile package, else none."""
    if settings.tile_url:
        return Basemap(url=settings.tile_url, attribution=settings.tile_attribution)
    package, version = current_package(settings)
    if package is None:
        return Basemap()
    if isinstance(package, TilePackageError):
        return Basemap(refused=str(package), offset_datum=package.offset_datum)
    options: dict[str, Any] = {
        "minNativeZoom": package.minzoom,
        "maxNativeZoom": package.maxzoom,
    }
    if package.bounds is not None:
        west, south, east, north = package.bounds
        options["bounds"] = [[south, west], [north, east]]
    attribution = settings.tile_attribution or html_text.escape(package.attribution)
    return Basemap(
        url=f"{PREFIX}{{z}}/{{x}}/{{y}}.{package.format}?v={version}",
        attribution=attribution,
        options=options,
    )


def notice(settings: Settings, lang: str) -> html.Div | None:
    """A notice on the map and the wall when the tile package in place is refused."""
    refused = basemap(settings)
    if not refused.refused:
        return None
    name = settings.tile_package_path.name
    text = (
        t("basemap_offset", lang, file=name, datum=refused.offset_datum)
        if refused.offset_datum
        else t("basemap_unusable", lang, file=name)
    )
    return html.Div(text, className="pnm-banner pnm-basemap-notice", role="status")


def install(server: Flask, settings: Settings) -> None:
    """Add the tile route to ``server`` (classified ``app`` by the request guard)."""

    def tile(z: int, x: int, y: int, ext: str) -> Response:
        package = None if settings.tile_url else current_package(settings)[0]
        usable = package if isinstance(package, TilePackage) else None
        try:
            data = usable.tile(z, x, y) if usable is not None else None
        except TilePackageError as exc:
            log.warning("basemap: %s", exc)
            data = None
        if usable is None or data is None:
            response = Response(status=404)
        else:
            response = Response(data, mimetype=media_type(data) or FORMATS[usable.format])
            response.set_etag(hashlib.sha256(data).hexdigest()[:20])
        # Tiles are the same for every user, but only for signed-in ones: private.
        response.headers["Cache-Control"] = f"private, max-age={MAX_AGE_S}"
        response.make_conditional(request)
        return response

    server.add_url_rule(RULE, "pnm_tile", tile, methods=["GET"])


__all__ = [
    "MAX_AGE_S",
    "PREFIX",
    "RULE",
    "Basemap",
    "basemap",
    "current_package",
    "install",
    "notice",
]
