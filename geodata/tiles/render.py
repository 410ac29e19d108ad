"""Render a light raster basemap of an area — land, divisions, names — to web-map tiles.

For a demo or a bureau without a tile package: the area's land on a grey ground, the
boundaries of its divisions (townships) as thin lines, a band inside the area's edge and
the divisions' names, drawn with Pillow at twice the size and reduced (antialiasing),
in Web Mercator tiles of 256 px (``z/x/y``, rows from the north). Geometry is WGS84
longitude/latitude; the tiles are therefore WGS84 tiles.

Names need a CJK font; :func:`cjk_font` looks in the usual Debian places (Noto CJK from
``fonts-noto-cjk``, WenQuanYi) and without one the tiles carry no names.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import shapely
from PIL import Image, ImageDraw, ImageFont
from shapely.geometry.base import BaseGeometry

TILE: Final = 256
SCALE: Final = 2
"""Drawn at this many times the tile size, then reduced: antialiased lines and text."""

# The ground matches the map page's background outside the area (--pnm-sea in pnm.css),
# so the edge of the tile package does not show.
GROUND: Final = (229, 233, 238)
LAND: Final = (250, 249, 245)
EDGE_BAND: Final = (232, 226, 210)
DIVISION_LINE: Final = (184, 176, 160)
NAME_FILL: Final = (92, 84, 70)
HALO: Final = (250, 249, 245)

FONT_CANDIDATES: Final = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc", "Noto Sans CJK SC"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", ""),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", ""),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", ""),
)
"""CJK fonts to try, with the face to pick inside a collection (empty: the first)."""


@dataclass(frozen=True)
class Label:
    """A name drawn at ``(lng, lat)`` from ``min_zoom``; ``rank``: lower is placed first
    where two would overlap."""

    text: str
    lng: float
    lat: float
    min_zoom: int
    max_zoom: int = 30
    size: int = 12
    rank: float = 0.0


def tile_x(lng: Any, z: int) -> Any:
    """Web-map tile column (fractional) of longitude ``lng`` at zoom ``z``."""
    return (np.asarray(lng, dtype=np.float64) + 180.0) / 360.0 * (1 << z)


def tile_y(lat: Any, z: int) -> Any:
    """Web-map tile row (fractional, from the north) of latitude ``lat`` at zoom ``z``."""
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    return (1.0 - np.arcsinh(np.tan(phi)) / math.pi) / 2.0 * (1 << z)


def tile_range(bounds: tuple[float, float, float, float], z: int) -> tuple[range, range]:
    """Columns and rows of the tiles at zoom ``z`` touching ``(west, south, east, north)``."""
    west, south, east, north = bounds
    last = (1 << z) - 1
    x0, x1 = int(tile_x(west, z)), min(int(tile_x(east, z)), last)
    y0, y1 = int(tile_y(north, z)), min(int(tile_y(south, z)), last)
    return range(max(x0, 0), x1 + 1), range(max(y0, 0), y1 + 1)


@lru_cache(maxsize=8)
def _font_file(path: str, face: str) -> int | None:
    """The index of ``face`` in the font file (0 for any face), None if unusable."""
    if not Path(path).exists():
        return None
    for index in range(10):
        try:
            font = ImageFont.truetype(path, 12, index=index)
        except OSError:
            return None
        if not face or font.getname()[0] == face:
            return index
    return None


def cjk_font() -> tuple[str, int] | None:
    """``(path, face index)`` of an installed font with Chinese glyphs, None without one."""
    for path, face in FONT_CANDIDATES:
        index = _font_file(path, face)
        if index is not None:
            return path, index
    return None


@lru_cache(maxsize=32)
def _font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


def _to_pixels(geom: BaseGeometry, z: int) -> BaseGeometry:
    """``geom`` (lng/lat) in drawn pixels of zoom ``z`` (tile size × SCALE)."""
    size = TILE * SCALE

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([tile_x(xy[:, 0], z) * size, tile_y(xy[:, 1], z) * size])

    return shapely.transform(geom, project)


def _rings(geom: BaseGeometry) -> Iterator[tuple[list[tuple[float, float]], bool]]:
    """``(coordinates, is_hole)`` of every ring of the polygons in ``geom``."""
    for part in shapely.get_parts(geom):
        if part.geom_type != "Polygon" or part.is_empty:
            continue
        yield list(part.exterior.coords), False
        for hole in part.interiors:
            yield list(hole.coords), True


def _lines(geom: BaseGeometry) -> Iterator[list[tuple[float, float]]]:
    for part in shapely.get_parts(geom):
        if part.geom_type == "LineString" and not part.is_empty:
            yield list(part.coords)
        elif part.geom_type == "Polygon":
            yield from (ring for ring, _ in _rings(part))


@dataclass(frozen=True)
class _Placed:
    text: str
    x: float
    y: float
    size: int
    box: tuple[float, float, float, float]


def _place(labels: Sequence[Label], z: int, font: tuple[str, int] | None) -> list[_Placed]:
    """The labels shown at zoom ``z``, in drawn pixels, none overlapping another."""
    if font is None:
        return []
    size = TILE * SCALE
    placed: list[_Placed] = []
    for label in sorted(labels, key=lambda a: (a.rank, a.text)):
        if not label.min_zoom <= z <= label.max_zoom:
            continue
        x = float(tile_x(label.lng, z)) * size
        y = float(tile_y(label.lat, z)) * size
        face = _font(font[0], font[1], label.size * SCALE)
        left, top, right, bottom = face.getbbox(label.text, anchor="mm")
        pad = 4 * SCALE
        box = (x + left - pad, y + top - pad, x + right + pad, y + bottom + pad)
        if any(
            box[0] < p.box[2] and p.box[0] < box[2] and box[1] < p.box[3] and p.box[1] < box[3]
            for p in placed
        ):
            continue
        placed.append(_Placed(label.text, x, y, label.size, box))
    return placed


@lru_cache(maxsize=1)
def _palette() -> Image.Image:
    """One palette for every tile: the style's colours and 7 steps between each pair.

    Antialiasing only blends two of them, so nothing is lost, and a fill keeps its exact
    colour across tiles (a palette chosen per tile shifts it a little, and the tile
    edges show).
    """
    colours = [GROUND, LAND, EDGE_BAND, DIVISION_LINE, NAME_FILL, HALO]
    steps = np.linspace(0.0, 1.0, 9)[1:-1]
    mixed = list(dict.fromkeys(colours))
    for i, a in enumerate(colours):
        for b in colours[i + 1 :]:
            if a != b:
                mixed += [
                    tuple(round(ca + (cb - ca) * f) for ca, cb in zip(a, b, strict=True))
                    for f in steps
                ]
    flat = [c for colour in list(dict.fromkeys(mixed))[:256] for c in colour]
    image = Image.new("P", (1, 1))
    image.putpalette(flat)
    return image


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # Palette PNGs: a third the size of RGB ones.
    image.quantize(palette=_palette(), dither=Image.Dither.NONE).save(buffer, "PNG")
    return buffer.getvalue()


def render_tiles(
    *,
    area: BaseGeometry,
    divisions: Sequence[BaseGeometry],
    labels: Sequence[Label],
    zooms: Sequence[int],
    bounds: tuple[float, float, float, float],
    font: tuple[str, int] | None,
) -> Iterator[tuple[int, int, int, bytes]]:
    """Draw the basemap's tiles.

    Parameters
    ----------
    area : shapely geometry
        The area's land (lng/lat).
    divisions : sequence of shapely geometry
        Its divisions (townships); their boundaries are drawn as lines.
    labels : sequence of Label
        Names, placed per zoom in ``rank`` order, skipping any that would overlap.
    zooms : sequence of int
    bounds : tuple of float
        ``(west, south, east, north)``: every tile touching it is drawn.
    font : tuple or None
        ``(path, face index)`` of a CJK font (:func:`cjk_font`); None draws no names.

    Yields
    ------
    tuple
        ``(z, x, y, png bytes)``, rows from the north.
    """
    size = TILE * SCALE
    blank = _png(Image.new("RGB", (TILE, TILE), GROUND))
    lines = shapely.union_all([shapely.boundary(d) for d in divisions])
    for z in zooms:
        # Half a drawn pixel of simplification: invisible, and far fewer vertices to draw.
        land = shapely.simplify(_to_pixels(area, z), 0.5)
        edge = shapely.simplify(_to_pixels(shapely.boundary(area), z), 0.5)
        division_lines = shapely.simplify(_to_pixels(lines, z), 0.5)
        shapely.prepare(land)
        band = (3 if z <= 9 else 6 if z <= 11 else 9) * SCALE
        line_width = max(1, round((0.6 if z <= 10 else 1.0) * SCALE))
        placed = _place(labels, z, font)
        columns, rows = tile_range(bounds, z)
        for x in columns:
            for y in rows:
                left, top = x * size, y * size
                margin = band + 2
                box = shapely.box(
                    left - margin, top - margin, left + size + margin, top + size + margin
                )
                names = [
                    p
                    for p in placed
                    if p.box[0] < left + size and left < p.box[2]
                    and p.box[1] < top + size and top < p.box[3]
                ]  # fmt: skip
                if not land.intersects(box) and not names:
                    yield z, x, y, blank
                    continue

                def shifted(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
                    return [(cx - left, cy - top) for cx, cy in coords]  # noqa: B023

                clip = (left - margin, top - margin, left + size + margin, top + size + margin)
                # The land, with the band inside its edge, pasted through the land's mask:
                # the band never spills onto the ground outside.
                mask = Image.new("L", (size, size), 0)
                mask_draw = ImageDraw.Draw(mask)
                for ring, hole in _rings(shapely.clip_by_rect(land, *clip)):
                    mask_draw.polygon(shifted(ring), fill=0 if hole else 255)
                ground = Image.new("RGB", (size, size), LAND)
                ground_draw = ImageDraw.Draw(ground)
                for line in _lines(shapely.clip_by_rect(edge, *clip)):
                    ground_draw.line(shifted(line), fill=EDGE_BAND, width=2 * band, joint="curve")
                image = Image.new("RGB", (size, size), GROUND)
                image.paste(ground, mask=mask)
                draw = ImageDraw.Draw(image)
                for line in _lines(shapely.clip_by_rect(division_lines, *clip)):
                    draw.line(shifted(line), fill=DIVISION_LINE, width=line_width, joint="curve")
                if font is not None:
                    for p in names:
                        draw.text(
                            (p.x - left, p.y - top),
                            p.text,
                            font=_font(font[0], font[1], p.size * SCALE),
                            anchor="mm",
                            fill=NAME_FILL,
                            stroke_width=2 * SCALE,
                            stroke_fill=HALO,
                        )
                yield z, x, y, _png(image.reduce(SCALE))


__all__ = ["Label", "cjk_font", "render_tiles", "tile_range", "tile_x", "tile_y"]
