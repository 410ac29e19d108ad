"""A corpus of hostile files, generated here, run through the importer.

Every file is small (a bomb is small until it is opened) and is either refused with a
one-line message (:class:`geodata.readers.ReadError` and the importer's other errors) or
read with every row rejected for a stated reason — never a crash, a hang or a traceback,
and never a change to what the store already held: the stored tables are hashed before
and after each import. The corpus covers zip bombs and lying zips, zip-slip and link
members, broken encodings, bad and enormous geometries, swapped and NaN/Inf coordinates,
spreadsheet formulas and HTML/JS in names (kept as text, defused in the rejects file),
huge and sparse files, deeply nested and malformed JSON, and files whose extension lies.

Hypothesis then fuzzes the GeoJSON reader with random JSON documents and the CSV path
of the importer with hostile cell text (the readers' own random-bytes test is in
tests/geodata/test_readers.py).
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata import store
from geodata.columns import ColumnError
from geodata.datum import DatumError
from geodata.importer import ImportFailed, import_file
from geodata.readers import ReadError, read_file
from tests.geodata.conftest import SQUARE, zipped_shapefile

ROOT = Path(__file__).resolve().parents[2]
HEAD = "警情编号,发生时间,经度,纬度,警情类别\n"
CLEAR_ERRORS = (ReadError, ColumnError, DatumError, ImportFailed, store.StoreError)
FORMULAS = ("=cmd|' /C calc'!A0", "+1+1", "@SUM(A1:A9)", "-2+3*cmd", '=HYPERLINK("http://x")')
HTML = (
    '<img src=x onerror="window.__xss=1">',
    "<script>alert(1)</script>",
    "\"'><svg/onload=alert(1)>",
)


@dataclass(frozen=True)
class Case:
    """One hostile file: how to write it, the data set it is imported into, and what
    must happen — ``error`` (refused, with ``expect`` in the message) or ``rejects``
    (read; no row stored; ``expect`` among the reasons)."""

    name: str
    kind: str
    write: Callable[[Path], Path]
    outcome: str
    expect: str = ""


def text(name: str, body: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(body.encode(encoding))
        return path

    return write


def raw(name: str, body: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(body)
        return path

    return write


def zipped(name: str, members: dict[str, bytes], *, mode: int = zipfile.ZIP_DEFLATED,
           links: tuple[str, ...] = ()) -> Callable[[Path], Path]:  # fmt: skip
    def write(folder: Path) -> Path:
        path = folder / name
        with zipfile.ZipFile(path, "w", mode) as zf:
            for member, data in members.items():
                zf.writestr(member, data)
            for link in links:
                info = zipfile.ZipInfo(link)
                info.external_attr = 0o120777 << 16  # a symbolic link
                zf.writestr(info, "/etc/passwd")
        return path

    return write


def bomb(name: str, small: tuple[str, ...], big: str, mib: int = 12) -> Callable[[Path], Path]:
    """A zip whose member ``big`` is ``mib`` MiB of zeros (about 1000:1)."""

    def write(folder: Path) -> Path:
        path = folder / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for member in small:
                zf.writestr(member, b"x")
            with zf.open(big, "w") as out:
                for _ in range(mib):
                    out.write(b"\x00" * 1024**2)
        return path

    return write


def lying_zip(name: str) -> Callable[[Path], Path]:
    """A shapefile zip whose directory says the DBF is 10 bytes; it inflates to 200 kB."""

    def write(folder: Path) -> Path:
        frame = gpd.GeoDataFrame(
            {"grid_id": ["g"], "name": ["n" * 200]}, geometry=[SQUARE], crs="EPSG:4326"
        )
        src = zipped_shapefile(folder / "lying-src", frame, encoding="UTF-8")
        path = folder / name
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info)
                if info.filename.endswith(".dbf"):
                    data = data + b" " * 200_000
                zout.writestr(info.filename, data)
        blob = bytearray(path.read_bytes())
        # Patch the DBF's uncompressed size (local header +22, central directory +24).
        start = 0
        while (i := blob.find(b"layer.dbf", start)) != -1:
            sig = blob.rfind(b"PK", 0, i)
            if blob[sig : sig + 4] == b"PK\x03\x04":
                struct.pack_into("<I", blob, sig + 22, 10)
            elif blob[sig : sig + 4] == b"PK\x01\x02":
                struct.pack_into("<I", blob, sig + 24, 10)
            start = i + 1
        path.write_bytes(bytes(blob))
        return path

    return write


def many_members(name: str, n: int = 10_050) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr("layer.shp", b"x")
            for i in range(n):
                zf.writestr(f"f{i}.txt", b"")
        return path

    return write


def sparse(name: str, size: int) -> Callable[[Path], Path]:
    """A file of ``size`` bytes that takes no disk space (a hole)."""

    def write(folder: Path) -> Path:
        path = folder / name
        with path.open("wb") as fh:
            fh.write(HEAD.encode())
            fh.truncate(size)
        return path

    return write


def feature_collection(features: list[dict[str, object]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features}, allow_nan=True)


def grid_feature(geometry: object, grid_id: str = "g9") -> dict[str, object]:
    return {
        "type": "Feature",
        "properties": {"grid_id": grid_id, "name": "网格", "precinct_id": "P1"},
        "geometry": geometry,
    }


def ring(points: list[tuple[float, float]]) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [[list(p) for p in points]]}


def community_row(
    name: str, lng: str = "107.7", lat: str = "31.3", status: str = "certified"
) -> str:
    """One CSV line of a community, its name quoted as CSV quotes it."""
    quoted = '"' + name.replace('"', '""') + '"'
    return f"c-{abs(hash(name)) % 10**8},{quoted},compound,{lng},{lat},{status}\n"


COMMUNITY_HEAD = "小区编号,小区名称,类型,经度,纬度,创建状态\n"
SHP_PARTS = {"layer.shp": b"x", "layer.shx": b"x", "layer.dbf": b"x"}


def shapefile(frame: gpd.GeoDataFrame, name: str, **kwargs: object) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        return zipped_shapefile(folder / name, frame, name=name.removesuffix(".zip"), **kwargs)  # type: ignore[arg-type]

    return write


def corpus() -> list[Case]:
    # fmt: off
    cases: list[Case] = []
    add = cases.append
    # -- zip bombs and lying zips ---------------------------------------------------------
    add(Case("bomb-dbf", "grids", bomb("bomb.zip", ("layer.shp", "layer.shx"), "layer.dbf"), "error", "zip bomb"))
    add(Case("bomb-shp", "grids", bomb("bomb2.zip", ("layer.dbf", "layer.shx"), "layer.shp"), "error", "zip bomb"))
    add(Case("bomb-xlsx", "incidents", bomb("bomb.xlsx", ("xl/workbook.xml",), "xl/worksheets/sheet1.xml"), "error", "zip bomb"))
    add(Case("bomb-renamed-csv", "incidents", bomb("bomb.csv", ("layer.shp", "layer.shx"), "layer.dbf"), "error", "zip bomb"))
    add(Case("lying-sizes", "grids", lying_zip("lying.zip"), "error", "zip"))
    add(Case("too-many-members", "grids", many_members("many.zip"), "error", "too many members"))
    add(Case("zip-in-zip", "grids", zipped("nested.zip", {"inner.zip": b"PK\x05\x06" + b"\x00" * 18}), "error", "no .shp"))
    add(Case("empty-zip", "grids", raw("empty.zip", b"PK\x05\x06" + b"\x00" * 18), "error", "no .shp"))
    add(Case("truncated-zip", "grids", raw("trunc.zip", b"PK\x03\x04" + b"\x00" * 40), "error", "corrupt zip"))
    add(Case("encrypted-flag", "grids", encrypted("enc.zip"), "error", "encrypted"))
    add(Case("shp-parts-missing", "grids", zipped("parts.zip", {"layer.shp": b"x"}), "error", "lacks"))
    add(Case("garbage-shapefile", "grids", zipped("garbage.zip", SHP_PARTS), "error", "corrupt"))
    add(Case("two-shapefiles", "grids", zipped("two.zip", {**SHP_PARTS, **{k.replace("layer", "other"): v for k, v in SHP_PARTS.items()}}), "error", "several"))
    # -- zip slip and links -----------------------------------------------------------------
    for i, member in enumerate(("../evil.shp", "/etc/evil.shp", "a/../../evil.shp", "C:/evil.shp",
                                "..\\evil.shp", "C:\\Windows\\evil.shp", "ok/../../../evil.dbf")):  # fmt: skip
        add(
            Case(
                f"zip-slip-{i}",
                "grids",
                zipped(f"slip{i}.zip", {member: b"x", **SHP_PARTS}),
                "error",
                "escapes the folder",
            )
        )
    add(Case("zip-symlink", "grids", zipped("link.zip", {"layer.shx": b"x", "layer.dbf": b"x"}, links=("layer.shp",)), "error", "escapes the folder"))
    add(Case("xlsx-slip", "incidents", zipped("slip.xlsx", {"xl/workbook.xml": b"x", "../../evil.xml": b"x"}), "error", "escapes the folder"))
    # -- broken encodings ---------------------------------------------------------------------
    add(Case("invalid-utf8-and-gbk", "incidents", raw("bad.csv", HEAD.encode() + b"A,2024-05-01,107.7,31.3,\xff\xfe\xfa\n"), "error", "cannot decode"))
    add(Case("lone-continuation-bytes", "incidents", raw("cont.csv", b"\x80\x81\x82,\x83\n\x84,\x85\n"), "error", "decode"))
    add(Case("nul-bytes", "incidents", raw("nul.csv", HEAD.encode() + b"A\x00,2024-05-01,107.7,31.3,x\n"), "error", "binary"))
    add(Case("utf16-without-bom", "incidents", raw("u16.csv", HEAD.encode("utf-16-le")), "error", "binary"))
    add(Case("bom-then-binary", "incidents", raw("bomb.csv", b"\xef\xbb\xbf\x00\x01\x02\x03"), "error", "binary"))
    add(Case("latin1-headers", "incidents", raw("latin.csv", "lát,lñg\n1,2\n".encode("latin-1")), "error", "missing"))
    add(Case("truncated-gbk", "incidents", raw("tgbk.csv", HEAD.encode("gbk") + "A,2024-05-01,107.7,31.3,盗".encode("gbk")[:-1]), "error", ""))
    add(Case("mixed-utf8-gbk", "incidents", raw("mixed.csv", HEAD.encode() + "A,2024-05-01,107.7,31.3,盗窃\n".encode("gbk")), "error", "missing"))
    add(Case("gbk-geojson-broken", "grids", raw("g.geojson", b'{"type":"FeatureCollection","features":[],"name":"\xff\xff"}'), "error", ""))
    # -- malformed and deeply nested JSON ------------------------------------------------------
    add(Case("deep-arrays", "grids", text("deep.geojson", '{"type":"FeatureCollection","features":' + "[" * 100000 + "]" * 100000 + "}"), "error", "corrupt"))
    add(Case("deep-objects", "grids", text("deep2.geojson", '{"a":' * 50000 + "1" + "}" * 50000), "error", ""))
    add(Case("deep-coordinates", "grids", text("deep3.geojson", feature_collection([grid_feature({"type": "Polygon", "coordinates": json.loads("[" * 500 + "]" * 500)})])), "either", ""))
    add(Case("truncated-json", "grids", text("trunc.geojson", '{"type":"FeatureCollection","features":[{"type":"Feat'), "error", "corrupt"))
    add(Case("json-list", "grids", text("list.geojson", "[1,2,3]"), "error", ""))
    add(Case("json-null", "grids", text("null.geojson", "{}"), "error", ""))
    add(Case("json-string", "grids", text("str.geojson", '{"type": "FeatureCollection", "features": "no"}'), "error", ""))
    add(Case("json-duplicate-keys", "grids", text("dup.geojson", '{"type":"FeatureCollection","features":[],"features":[1]}'), "error", ""))
    add(Case("json-huge-number", "grids", text("num.geojson", feature_collection([grid_feature(ring([(1e308, 31.3), (107.8, 31.3), (107.8, 31.4), (1e308, 31.3)]))])), "rejects", ""))
    add(Case("feature-without-geometry", "grids", text("nogeom.geojson", feature_collection([grid_feature(None)])), "either", ""))
    add(Case("geojson-comments", "grids", text("comment.geojson", '{/* hi */ "type": "FeatureCollection", "features": []}'), "error", ""))
    # -- bad and enormous geometries -------------------------------------------------------------
    bowtie = ring([(107.7, 31.3), (107.8, 31.4), (107.8, 31.3), (107.7, 31.4), (107.7, 31.3)])
    add(Case("bowtie", "grids", text("bowtie.geojson", feature_collection([grid_feature(bowtie)])), "rejects", "invalid_geometry"))
    add(Case("two-point-polygon", "grids", text("two.geojson", feature_collection([grid_feature(ring([(107.7, 31.3), (107.8, 31.4)]))])), "error", "missing"))
    add(Case("unclosed-ring", "grids", text("open.geojson", feature_collection([grid_feature(ring([(107.7, 31.3), (107.8, 31.3), (107.8, 31.4), (107.7, 31.4)]))])), "error", "missing"))
    add(Case("point-for-a-grid", "grids", text("pt.geojson", feature_collection([grid_feature({"type": "Point", "coordinates": [107.7, 31.3]})])), "rejects", ""))
    add(Case("line-for-a-grid", "grids", text("line.geojson", feature_collection([grid_feature({"type": "LineString", "coordinates": [[107.7, 31.3], [107.8, 31.4]]})])), "rejects", ""))
    add(Case("empty-polygon", "grids", text("emptyp.geojson", feature_collection([grid_feature({"type": "Polygon", "coordinates": []})])), "either", ""))
    add(Case("nan-vertex", "grids", text("nanv.geojson", feature_collection([grid_feature(ring([(107.7, 31.3), (math.nan, 31.3), (107.8, 31.4), (107.7, 31.3)]))])), "either", ""))
    add(Case("inf-vertex", "grids", text("infv.geojson", feature_collection([grid_feature(ring([(107.7, 31.3), (math.inf, 31.3), (107.8, 31.4), (107.7, 31.3)]))])), "either", ""))
    add(Case("far-away-grid", "grids", text("far.geojson", feature_collection([grid_feature(ring([(0, 0), (1, 0), (1, 1), (0, 0)]))])), "rejects", ""))
    add(Case("whole-world-grid", "grids", text("world.geojson", feature_collection([grid_feature(ring([(-180, -90), (180, -90), (180, 90), (-180, 90), (-180, -90)]))])), "rejects", "coords_outside_area"))
    spikes = [(107.7 + 0.1 * (i % 2), 31.3 + 0.1 * i / 60_000) for i in range(60_000)]
    add(Case("sixty-thousand-spikes", "grids", text("spikes.geojson", feature_collection([grid_feature(ring([*spikes, spikes[0]]))])), "rejects", ""))
    add(Case("unknown-geometry-type", "grids", text("curve.geojson", feature_collection([grid_feature({"type": "Circle", "coordinates": [107.7, 31.3]})])), "either", ""))
    add(Case("geometry-collection", "grids", text("gc.geojson", feature_collection([grid_feature({"type": "GeometryCollection", "geometries": [bowtie]})])), "rejects", ""))
    add(Case("nan-point-community", "communities", text("nanc.geojson", feature_collection([{"type": "Feature", "properties": {"community_id": "c1", "name": "x", "kind": "compound", "status": "certified"}, "geometry": {"type": "Point", "coordinates": [math.nan, 31.3]}}])), "rejects", "nan_or_inf_coords"))
    add(Case("bowtie-shapefile", "grids", shapefile(gpd.GeoDataFrame({"grid_id": ["g"], "name": ["n"], "辖区编号": ["P"]}, geometry=[shapely.from_geojson(json.dumps(bowtie))], crs="EPSG:4326"), "bowtie.zip", encoding="GBK"), "rejects", "invalid_geometry"))
    add(Case("swapped-shapefile", "grids", shapefile(gpd.GeoDataFrame({"grid_id": ["g"], "name": ["n"], "辖区编号": ["P"]}, geometry=[shapely.box(31.3, 107.7, 31.4, 107.8)], crs="EPSG:4326"), "swapped.zip", encoding="GBK"), "rejects", ""))
    # -- swapped, NaN and infinite coordinates ---------------------------------------------------
    for i, (lng, lat, reason) in enumerate([
        ("31.35", "107.73", "swapped_lat_lng"), ("31.3", "107.8", "swapped_lat_lng"),
        ("nan", "31.3", "nan_or_inf_coords"), ("NaN", "NaN", "nan_or_inf_coords"),
        ("inf", "31.3", "nan_or_inf_coords"), ("-inf", "31.3", "nan_or_inf_coords"),
        ("Infinity", "31.3", "nan_or_inf_coords"), ("1e400", "31.3", "nan_or_inf_coords"),
        ("107.7", "1e999", "nan_or_inf_coords"), ("0x1p6", "31.3", "non_numeric_coords"),
        ("1O7.7", "31.3", "non_numeric_coords"), ("", "", "missing_required"),
        ("-107.7", "-31.3", "coords_outside_area"), ("0", "0", "coords_outside_area"),
        ("181", "91", ""), ("1e-300", "1e-300", "coords_outside_area"),
        ("  ", "31.3", "missing_required"), ("107.7 31.3", "", ""),
    ]):  # fmt: skip
        body = HEAD + f"C{i},2024-05-01,{lng},{lat},盗窃\n"
        add(Case(f"coords-{i}", "incidents", text(f"coords{i}.csv", body), "rejects", reason))
    add(Case("comma-decimal", "incidents", text("comma.csv", HEAD + "CD,2024-05-01,107,7,31,3,盗窃\n"), "error", "more cells"))
    add(Case("gcj-datum-swapped", "incidents", text("gcj.csv", HEAD + "Z,2024-05-01,31.35,107.73,盗窃\n"), "rejects", "swapped_lat_lng"))
    # -- spreadsheet formulas and HTML/JS in names (rows rejected for another reason) -------------
    for i, evil in enumerate((*FORMULAS, *HTML)):
        add(
            Case(
                f"formula-category-{i}",
                "incidents",
                text(
                    f"fcat{i}.csv",
                    HEAD + f"F{i},2024-05-01,107.7,31.3,{json.dumps(evil, ensure_ascii=False)}\n",
                ),
                "rejects",
                "unknown_category",
            )
        )
        add(
            Case(
                f"evil-community-{i}",
                "communities",
                text(f"fcom{i}.csv", COMMUNITY_HEAD + community_row(evil, lng="nan")),
                "rejects",
                "nan_or_inf_coords",
            )
        )
    add(Case("formula-headers", "incidents", text("fhead.csv", "=1+1,@cmd,+x,-y\n1,2,3,4\n"), "error", "missing"))
    add(Case("html-headers", "incidents", text("hhead.csv", "<script>alert(1)</script>,<img src=x>\n1,2\n"), "error", "missing"))
    add(Case("formula-xlsx", "incidents", xlsx("formula.xlsx", [["警情编号", "发生时间", "经度", "纬度", "警情类别"], ["X", "2024-05-01", 107.7, 31.3, "=cmd|' /C calc'!A0"]]), "rejects", ""))
    # -- huge files, many columns, giant cells, blank rows ----------------------------------------
    add(Case("over-the-size-cap", "incidents", sparse("huge.csv", 2 * 1024 ** 3 + 1), "error", "too big"))
    add(Case("giant-cell", "incidents", text("giant.csv", HEAD + "G,2024-05-01,107.7,31.3," + "盗" * 1000000 + "\n"), "rejects", "unknown_category"))
    add(Case("ten-thousand-columns", "incidents", text("wide.csv", ",".join(f"c{i}" for i in range(10000)) + "\n" + ",".join("1" for _ in range(10000)) + "\n"), "error", "too many columns"))
    add(Case("only-blank-rows", "incidents", text("blank.csv", HEAD + ",,,,\n" * 50000), "error", "no data rows"))
    add(Case("one-line-no-newline", "incidents", text("oneline.csv", "x" * 3000000), "error", "no data rows"))
    add(Case("ragged-rows", "incidents", text("ragged.csv", HEAD + "A,2024-05-01,107.7,31.3,盗窃,extra,cells\n"), "error", "more cells"))
    add(Case("unbalanced-quotes", "incidents", text("quotes.csv", HEAD + 'A,"2024-05-01,107.7,31.3,盗窃\n'), "error", ""))
    add(Case("only-a-bom", "incidents", raw("bom.csv", b"\xef\xbb\xbf"), "error", ""))
    add(Case("empty-file", "incidents", raw("empty.csv", b""), "error", "empty"))
    add(Case("whitespace-only", "incidents", text("ws.csv", " \n\t\n  \n"), "error", ""))
    add(Case("header-only", "incidents", text("head.csv", HEAD), "error", "no data rows"))
    add(Case("cr-line-endings", "incidents", text("cr.csv", HEAD.replace("\n", "\r") + "A,2024-05-01,107.7,31.3,无此类别\r"), "either", ""))
    add(Case("control-characters", "incidents", text("ctl.csv", HEAD + "A\x1b[31m,2024-05-01\x07,107.7,31.3,盗窃\x08\n"), "rejects", "unparseable_time"))
    add(Case("bidi-override-name", "communities", text("bidi.csv", COMMUNITY_HEAD + community_row("\u202egpj.exe", lat="inf")), "rejects", "nan_or_inf_coords"))
    add(Case("impossible-dates", "incidents", text("dates.csv", HEAD + "A,9999-99-99,107.7,31.3,盗窃\nB,2024-02-30,107.7,31.3,盗窃\nC,昨天,107.7,31.3,盗窃\n"), "rejects", ""))
    add(Case("duplicate-of-stored-id", "incidents", text("dupid.csv", HEAD + "KEEP1,2024-05-02,107.71,31.31,盗窃\n"), "rejects", "duplicate_id"))
    # -- wrong extensions: the content decides ------------------------------------------------------
    add(Case("png-as-csv", "incidents", raw("img.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), "error", "binary"))
    add(Case("pdf-as-geojson", "grids", raw("doc.geojson", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), "error", ""))
    add(Case("elf-as-csv", "incidents", raw("prog.csv", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64), "error", "binary"))
    add(Case("gzip-as-csv", "incidents", raw("gz.csv", b"\x1f\x8b\x08\x00" + zlib.compress(HEAD.encode())), "error", ""))
    add(Case("old-xls-as-csv", "incidents", raw("old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64), "error", ".xls"))
    add(Case("sqlite-not-gpkg", "grids", sqlite_db("plain.gpkg"), "error", ""))
    add(Case("sqlite-as-csv", "incidents", sqlite_db("plain.csv"), "error", ""))
    add(Case("corrupt-parquet", "incidents", raw("bad.parquet", b"PAR1" + b"\x00" * 64 + b"PAR1"), "error", "corrupt Parquet"))
    add(Case("parquet-as-csv", "incidents", parquet_without_columns("data.csv"), "error", "missing"))
    add(Case("zip-as-geojson", "grids", zipped("notjson.geojson", {"readme.txt": b"hi"}), "error", "no .shp"))
    add(Case("csv-as-zip", "grids", text("data.zip", HEAD + "A,2024-05-01,107.7,31.3,盗窃\n"), "error", "missing"))
    add(Case("html-page-as-csv", "incidents", text("page.csv", "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n"), "error", "no data rows"))
    add(Case("xlsx-garbage", "incidents", zipped("junk.xlsx", {"xl/workbook.xml": b"<not xml", "[Content_Types].xml": b"x"}), "error", "Excel"))
    add(Case("geojson-named-shp", "grids", text("grids.shp", feature_collection([grid_feature(bowtie)])), "rejects", "invalid_geometry"))
    # fmt: on
    return cases


def encrypted(name: str) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = zipped(name, SHP_PARTS)(folder)
        blob = bytearray(path.read_bytes())
        for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            start = 0
            while (i := blob.find(sig, start)) != -1:
                blob[i + offset] |= 0x1  # the "encrypted" flag bit
                start = i + 4
        path.write_bytes(bytes(blob))
        return path

    return write


def xlsx(name: str, rows: list[list[object]]) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        import openpyxl

        wb = openpyxl.Workbook()
        for row in rows:
            wb.active.append(row)  # type: ignore[union-attr]
        path = folder / name
        wb.save(path)
        return path

    return write


def sqlite_db(name: str) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        import sqlite3

        path = folder / name
        with sqlite3.connect(path) as db:
            db.execute("create table t (x)")
            db.execute("insert into t values ('<script>')")
        return path

    return write


def parquet_without_columns(name: str) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        pd.DataFrame({"x": [1]}).to_parquet(path)
        return path

    return write


CASES = corpus()


def _fingerprint(data: Path, *, manifest: bool) -> dict[str, str]:
    """SHA-256 of every stored file (the manifest too when asked; rejects files and the
    audit log are expected to grow)."""
    out = {}
    for path in sorted(data.rglob("*")):
        rel = path.relative_to(data).as_posix()
        if path.is_dir() or rel.startswith(("rejects/", "audit/")):
            continue
        if rel == store.MANIFEST and not manifest:
            continue
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def stocked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with an area, a grid and two incidents already in it."""
    data = tmp_path_factory.mktemp("hostile") / "store"
    area = gpd.GeoDataFrame(
        {"code": ["999999"], "name": ["测试区"]}, geometry=[SQUARE], crs="EPSG:4326"
    )
    store.write_table(data, "area", area)
    src = data.parent / "seed.csv"
    src.write_text(
        HEAD + "KEEP1,2024-05-01,107.70,31.30,盗窃\nKEEP2,2024-05-01,107.71,31.31,诈骗\n",
        encoding="utf-8",
    )
    assert import_file("incidents", src, data_dir=data).rows_stored == 2
    grid = data.parent / "grid.geojson"
    grid.write_text(
        feature_collection(
            [
                grid_feature(
                    json.loads(shapely.to_geojson(shapely.box(107.7, 31.3, 107.8, 31.4))), "G1"
                )
            ]
        ),
        encoding="utf-8",
    )
    assert import_file("grids", grid, data_dir=data).rows_stored == 1
    return data


def test_the_corpus_is_large_and_named_uniquely() -> None:
    assert len(CASES) >= 100
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_file_is_refused_or_rejected_and_the_store_is_intact(
    case: Case, stocked: Path, tmp_path: Path
) -> None:
    path = case.write(tmp_path)
    tables, everything = _fingerprint(stocked, manifest=False), _fingerprint(stocked, manifest=True)
    try:
        report = import_file(case.kind, path, data_dir=stocked)
    except CLEAR_ERRORS as exc:
        message = str(exc)
        assert case.outcome in ("error", "either"), f"refused: {message}"
        assert message and "\n" not in message.strip() and "Traceback" not in message
        assert case.expect.lower() in message.lower(), message
        assert " / " in message  # Chinese, then English
        assert _fingerprint(stocked, manifest=True) == everything
    else:
        assert case.outcome in ("rejects", "either"), f"read: {report}"
        assert report.rows_stored == 0, "a hostile file stored rows"
        assert report.rows_rejected == report.rows_read > 0
        if case.expect:
            assert case.expect in report.rejected, dict(report.rejected)
        assert report.rejects_path is not None and report.rejects_path.exists()
        _check_rejects_file(report.rejects_path)
    assert _fingerprint(stocked, manifest=False) == tables
    assert not any(p.name.startswith("evil") for p in tmp_path.parent.rglob("evil*"))


def _check_rejects_file(path: Path) -> None:
    """The rejects file is UTF-8 with BOM, and no cell starts like a spreadsheet formula."""
    blob = path.read_bytes()
    assert blob.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    for column in frame.columns[3:]:
        for cell in frame[column]:
            assert not cell.startswith(("=", "+", "@")), (column, cell[:40])


def test_formulas_and_html_survive_as_text_in_the_rejects(stocked: Path, tmp_path: Path) -> None:
    body = COMMUNITY_HEAD + "".join(community_row(v, lng="nan") for v in (*FORMULAS, *HTML))
    src = tmp_path / "evil.csv"
    src.write_text(body, encoding="utf-8")
    report = import_file("communities", src, data_dir=stocked)
    assert report.rows_stored == 0 and report.rows_rejected == len(FORMULAS) + len(HTML)
    assert report.rejects_path is not None
    frame = pd.read_csv(report.rejects_path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    names = [c for c in frame.columns if "名称" in c or c == "name"]
    assert names, list(frame.columns)
    got = list(frame[names[0]])
    assert got[: len(FORMULAS)] == ["'" + f for f in FORMULAS]  # defused, otherwise verbatim
    assert got[len(FORMULAS) :] == list(HTML)  # HTML is data: kept as written


def test_the_command_line_says_one_line_for_hostile_files(stocked: Path, tmp_path: Path) -> None:
    chosen = {"bomb-dbf", "zip-slip-0", "deep-arrays", "png-as-csv", "over-the-size-cap"}
    for case in (c for c in CASES if c.name in chosen):
        path = case.write(tmp_path)
        result = subprocess.run(
            [sys.executable, "-m", "geodata", "import", case.kind, str(path), "--data", str(stocked)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 2, (case.name, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr


# --------------------------------------------------------------------------- fuzzing

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
COORD = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=107.55, max_value=107.95),
    st.floats(min_value=31.15, max_value=31.55),
)
GEOMETRY = st.one_of(
    st.fixed_dictionaries({"type": st.just("Point"), "coordinates": st.lists(COORD, min_size=0, max_size=3)}),
    st.fixed_dictionaries({"type": st.sampled_from(["Polygon", "LineString", "MultiPolygon", "Nope"]),
                           "coordinates": st.lists(st.lists(st.lists(COORD, max_size=3), max_size=6), max_size=2)}),
    JSON_VALUES,
)  # fmt: skip


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=st.one_of(
    JSON_VALUES,
    st.lists(st.fixed_dictionaries({"type": st.just("Feature"), "properties": JSON_VALUES, "geometry": GEOMETRY}), max_size=4)
    .map(lambda fs: {"type": "FeatureCollection", "features": fs}),
))  # fmt: skip
def test_fuzz_geojson_is_read_or_refused_clearly(tmp_path: Path, document: object) -> None:
    path = tmp_path / "fuzz.geojson"
    path.write_text(json.dumps(document, allow_nan=True), encoding="utf-8")
    message = ""
    try:
        result = read_file(path)
    except ReadError as exc:  # the only exception a file may cause
        message = str(exc)
        result = None
    if result is None:
        assert message and "\n" not in message
    else:
        assert len(result.frame) > 0 and result.frame.index.is_unique


def test_a_geojson_whose_attributes_make_no_table_is_refused_in_one_line(tmp_path: Path) -> None:
    """Found by the fuzz test above: pyogrio raised a bare ValueError for a field that is
    a list in one feature and missing in another."""
    document = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": None, "geometry": {"type": "Point", "coordinates": []}},
            {"type": "Feature", "properties": {"": [False, False]},
             "geometry": {"type": "Point", "coordinates": []}},
        ],
    }  # fmt: skip
    path = tmp_path / "lists.geojson"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ReadError) as caught:
        read_file(path)
    assert "\n" not in str(caught.value) and "lists.geojson" in str(caught.value)


HOSTILE_TEXT = st.one_of(
    st.sampled_from([*FORMULAS, *HTML, "", " ", "nan", "inf", "-0", "1e999", "\u202e", "\x00", "\r", "\n", '"', ",", "\ufeff"]),
    st.text(max_size=20),
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(HOSTILE_TEXT, HOSTILE_TEXT, st.one_of(HOSTILE_TEXT, COORD.map(str)),
                               st.one_of(HOSTILE_TEXT, COORD.map(str)), HOSTILE_TEXT), min_size=1, max_size=8))  # fmt: skip
def test_fuzz_csv_import_stores_or_rejects_every_row_and_defuses_formulas(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, ...]]
) -> None:
    data = tmp_path_factory.mktemp("fuzz") / "store"
    area = gpd.GeoDataFrame({"code": ["1"], "name": ["区"]}, geometry=[SQUARE], crs="EPSG:4326")
    store.write_table(data, "area", area)
    frame = pd.DataFrame(rows, columns=["警情编号", "发生时间", "经度", "纬度", "警情类别"])
    path = data.parent / "fuzz.csv"
    frame.to_csv(path, index=False, encoding="utf-8")
    message = ""
    try:
        report = import_file("incidents", path, data_dir=data)
    except CLEAR_ERRORS as exc:
        message = str(exc)
        report = None
    if report is None:
        assert message and "\n" not in message.strip()
        return
    assert report.rows_stored + report.rows_rejected == report.rows_read
    if report.rejects_path is not None:
        _check_rejects_file(report.rejects_path)


def test_a_grid_reaching_a_little_over_the_border_is_kept(tmp_path: Path) -> None:
    """The "mostly outside" rule refuses a whole-world grid, not a real border grid:
    one 70 % inside the area is stored, one 30 % inside is rejected."""
    data = tmp_path / "store"
    area = gpd.GeoDataFrame({"code": ["1"], "name": ["区"]}, geometry=[SQUARE], crs="EPSG:4326")
    store.write_table(data, "area", area)
    west, south, east, north = SQUARE.bounds
    width = east - west
    over = shapely.box(east - 0.7 * width, south, east + 0.3 * width, north)  # 70 % inside
    out = shapely.box(east - 0.3 * width, south, east + 0.7 * width, north)  # 30 % inside
    src = tmp_path / "grids.geojson"
    src.write_text(
        feature_collection(
            [
                grid_feature(json.loads(shapely.to_geojson(over)), "G-over"),
                grid_feature(json.loads(shapely.to_geojson(out)), "G-out"),
            ]
        ),
        encoding="utf-8",
    )
    report = import_file("grids", src, data_dir=data)
    assert report.rows_stored == 1 and dict(report.rejected) == {"coords_outside_area": 1}
    assert list(store.read_table(data, "grids")["grid_id"]) == ["G-over"]
