"""Export writers: every format read back with GDAL (pyogrio and Debian's ``ogrinfo``).

A tiny hand-built bundle of seven res-9 hexagons in Xuanhan is written in every format
and CRS; what comes back must hold the same features, the CRS asked for, the same values
and hexagons whose vertices lie within 1 cm of ``h3.cell_to_boundary`` once converted
back to WGS84 with pyproj (for GCJ-02: of ``from_wgs84(..., "gcj02")`` of them).
GeoParquet is read with geopandas/pyarrow: neither GDAL here has the Arrow driver.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pyproj
import pytest
import shapely

from geodata.datum import from_wgs84
from geodata.writers import (
    CRS_CHOICES,
    FORMATS,
    ExportBundle,
    ExportError,
    FieldInfo,
    Style,
    StyleClass,
    base_name,
    export_crs,
    write_export,
)
from geodata.writers.csvfile import neutralise
from geodata.writers.shapefile import short_names

GEOD = pyproj.Geod(ellps="WGS84")
CENTRE = h3.latlng_to_cell(31.35, 107.73, 9)  # in Xuanhan's county seat
CELLS = sorted(h3.grid_disk(CENTRE, 1))
TOLERANCE_M = 0.01
NAMES = ["东乡街道", '=HYPERLINK("http://x")', "+86 电话", "-减号", "@SUM(A1)", "普通", "红袖标"]
VALUES = [1.5, -2.25, 0.0, -0.001, float("nan"), 1e6, -7.0]
COUNTS = [3, 0, 1, 2, 5, 8, 13]
CLASSES = [0, 1, 2, -1, 0, 1, 2]
LABELS_ZH = {0: "低", 1: "中", 2: "高（热点）", -1: "无数据"}
LABELS_EN = {0: "low", 1: "middle", 2: "high (hot spot)", -1: "no data"}
ALL_CRS = list(CRS_CHOICES)
FILE_FORMATS = [f for f in FORMATS if f != "geojson"]


def _bundle(layer: str = "test_layer") -> ExportBundle:
    frame = pd.DataFrame(
        {
            "h3_cell": pd.array(CELLS, dtype="str"),
            "h3_res": np.full(len(CELLS), 9, dtype=np.int64),
            "name": pd.array(NAMES, dtype="str"),
            "value": VALUES,
            "count": np.asarray(COUNTS, dtype=np.int64),
            "certified_share": [0.5, 0.25, 1.0, 0.0, 0.75, 0.1, 0.9],
            "class": np.asarray(CLASSES, dtype=np.int64),
            "class_zh": pd.array([LABELS_ZH[c] for c in CLASSES], dtype="str"),
            "class_en": pd.array([LABELS_EN[c] for c in CLASSES], dtype="str"),
        }
    )
    fields = (
        FieldInfo("h3_cell", "H3 index", "H3编号", "H3 cell"),
        FieldInfo("h3_res", "resolution", "分辨率", "Resolution"),
        FieldInfo("name", "", "名称", "Name"),
        FieldInfo("value", "z-score", "z值", "z-score"),
        FieldInfo("count", "incidents", "警情数（起）", "Incidents"),
        FieldInfo("certified_share", "share", "已创建占比", "Certified share", short="cert_share"),
        FieldInfo("class", "class", "分类", "Class"),
        FieldInfo("class_zh", "label", "分类", "Class (zh)"),
        FieldInfo("class_en", "label", "分类", "Class (en)"),
    )
    style = Style(
        field="class",
        title_zh="测试图层",
        title_en="Test layer",
        unit="z",
        classes=(
            StyleClass(0, "#ffeda0", LABELS_ZH[0], LABELS_EN[0]),
            StyleClass(1, "#feb24c", LABELS_ZH[1], LABELS_EN[1]),
            StyleClass(2, "#f03b20", LABELS_ZH[2], LABELS_EN[2]),
            StyleClass(-1, "#bdbdbd", LABELS_ZH[-1], LABELS_EN[-1]),
        ),
    )
    geometry = np.array(
        [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in CELLS],
        dtype=object,
    )
    metadata = {
        "layer": layer,
        "description": {"zh": "测试", "en": "test"},
        "created_at": "2026-11-26T10:00:00+08:00",
        "synthetic": True,
    }
    return ExportBundle(layer, frame, geometry, fields, metadata, style)


# --- reading back --------------------------------------------------------------------------


def _expected_vertices(cell: str, crs_key: str) -> np.ndarray:
    """The cell's vertices as (lng, lat), in GCJ-02 for a GCJ-02 export, else WGS84."""
    lat_lng = np.asarray(h3.cell_to_boundary(cell), dtype=np.float64)
    lng, lat = lat_lng[:, 1], lat_lng[:, 0]
    if crs_key == "GCJ-02":
        lng, lat = from_wgs84(lng, lat, "gcj02")
    return np.column_stack([lng, lat])


def _to_lnglat(xy: np.ndarray, file_crs: pyproj.CRS, crs_key: str) -> np.ndarray:
    """Vertices read from a file, as longitude/latitude of the file's own datum."""
    if crs_key == "GCJ-02":  # degrees already, labelled GCJ-02: nothing to convert
        return xy
    to_wgs = pyproj.Transformer.from_crs(file_crs, "EPSG:4326", always_xy=True)
    x, y = to_wgs.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def assert_hexagons(
    geoms: list[shapely.Geometry], cells: list[str], file_crs: pyproj.CRS, crs_key: str
) -> None:
    """Each geometry's vertices lie within 1 cm of its cell's boundary (any start/winding)."""
    assert len(geoms) == len(cells)
    for geom, cell in zip(geoms, cells, strict=True):
        assert geom.geom_type == "Polygon"
        ring = np.asarray(geom.exterior.coords)[:-1]
        got = _to_lnglat(ring, file_crs, crs_key)
        want = _expected_vertices(cell, crs_key)
        assert len(got) == len(want), cell
        for lng, lat in want:
            _, _, dist = GEOD.inv(
                np.full(len(got), lng), np.full(len(got), lat), got[:, 0], got[:, 1]
            )
            assert np.min(dist) < TOLERANCE_M, f"{cell}: vertex off by {np.min(dist):.4f} m"


def _same_crs(file_crs: pyproj.CRS, crs_key: str) -> bool:
    if crs_key == "GCJ-02":
        return "GCJ-02" in file_crs.name
    code = int(crs_key.split(":")[1])
    return file_crs.equals(pyproj.CRS.from_epsg(code), ignore_axis_order=True) or (
        file_crs.to_epsg(min_confidence=70) == code
    )


def _gdal_path(path: Path, fmt: str) -> str:
    return f"/vsizip/{path}" if fmt == "shp" else str(path)


def _ogrinfo(*args: str) -> str:
    done = subprocess.run(["ogrinfo", "-ro", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _ogrinfo_srs(text: str) -> pyproj.CRS:
    match = re.search(
        r"Layer SRS WKT:\n(.*?)\n(?:Data axis|Geometry Column|FID Column|\w+: )", text, re.S
    )
    assert match, text[:2000]
    return pyproj.CRS.from_wkt(match.group(1))


def _ogrinfo_features(text: str) -> tuple[list[dict[str, str]], list[shapely.Geometry]]:
    """Features of ``ogrinfo -al`` output: attribute text and geometry per feature."""
    rows: list[dict[str, str]] = []
    geoms: list[shapely.Geometry] = []
    for block in re.split(r"\nOGRFeature\([^)]*\):\d+\n", text)[1:]:
        row: dict[str, str] = {}
        for line in block.splitlines():
            field = re.match(r"  (\S+) \(\w+\) = (.*)$", line)
            if field:
                row[field.group(1)] = field.group(2)
            elif line.startswith("  POLYGON"):
                geoms.append(shapely.from_wkt(line.strip()))
        rows.append(row)
    return rows, geoms


def _in_cell_order(frame: gpd.GeoDataFrame, column: str) -> gpd.GeoDataFrame:
    """Rows in the order of CELLS (FlatGeobuf's spatial index reorders features)."""
    order = {c: i for i, c in enumerate(CELLS)}
    keys = frame[column].astype(str).map(order)
    return frame.iloc[np.argsort(keys.to_numpy(), kind="stable")].reset_index(drop=True)


def _read(path: Path, fmt: str) -> tuple[gpd.GeoDataFrame, pyproj.CRS]:
    cell = short_names(list(_bundle().frame.columns))["h3_cell"]
    if fmt == "parquet":
        frame = gpd.read_parquet(path)
        return _in_cell_order(frame, cell), pyproj.CRS(frame.crs)
    layer = "test_layer" if fmt == "gpkg" else None
    info = pyogrio.read_info(_gdal_path(path, fmt), layer=layer)
    frame = _in_cell_order(pyogrio.read_dataframe(_gdal_path(path, fmt), layer=layer), cell)
    crs = info["crs"]
    if fmt == "csv":  # the CSV states its CRS in the sidecar only
        sidecar = json.loads(path.with_name(base_name(path) + ".metadata.json").read_text("utf-8"))
        crs = sidecar["crs"]["wkt"]
    return frame, pyproj.CRS(crs)


def _qml_root(text: str) -> ET.Element:
    """The root of a QML document this project wrote (the doctype line dropped)."""
    doctype, body = text.split("\n", 1)
    assert doctype == "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
    return ET.fromstring(body)  # noqa: S314 - our own file, not untrusted input


def _text_column(frame: pd.DataFrame, name: str) -> list[str]:
    return [str(v) for v in frame[name].tolist()]


# --- the matrix ----------------------------------------------------------------------------


@pytest.mark.parametrize("crs_key", ALL_CRS)
@pytest.mark.parametrize("fmt", FILE_FORMATS)
def test_every_format_and_crs_reads_back_with_pyogrio(
    tmp_path: Path, fmt: str, crs_key: str
) -> None:
    out = tmp_path / f"layer{FORMATS[fmt].suffix}"
    written = write_export([_bundle()], out, fmt=fmt, crs=crs_key)
    assert written.features == len(CELLS)
    assert written.bytes == sum(f.stat().st_size for f in written.files)
    frame, file_crs = _read(out, fmt)
    assert len(frame) == len(CELLS)
    assert _same_crs(file_crs, crs_key), file_crs.name
    names = short_names(list(_bundle().frame.columns)) if fmt == "shp" else {}
    col = lambda n: names.get(n, n)  # noqa: E731
    assert _text_column(frame, col("h3_cell")) == CELLS
    assert frame[col("count")].astype(int).tolist() == COUNTS
    assert frame[col("class")].astype(int).tolist() == CLASSES
    assert _text_column(frame, col("class_zh")) == [LABELS_ZH[c] for c in CLASSES]
    value = frame[col("value")].astype(float).to_numpy()
    np.testing.assert_allclose(
        value[~np.isnan(VALUES)], np.asarray(VALUES)[~np.isnan(VALUES)], rtol=1e-12
    )
    assert np.isnan(value[4])
    assert_hexagons(list(frame.geometry), CELLS, file_crs, crs_key)


@pytest.mark.parametrize("crs_key", ALL_CRS)
@pytest.mark.parametrize("fmt", [f for f in FILE_FORMATS if f != "parquet"])
def test_every_format_and_crs_reads_back_with_ogrinfo(
    tmp_path: Path, fmt: str, crs_key: str
) -> None:
    out = tmp_path / f"layer{FORMATS[fmt].suffix}"
    write_export([_bundle()], out, fmt=fmt, crs=crs_key)
    path = _gdal_path(out, fmt)
    which = [path, "test_layer"] if fmt == "gpkg" else ["-al", path]  # not layer_styles
    summary = _ogrinfo("-so", *which)
    assert re.search(rf"Feature Count: {len(CELLS)}\b", summary)
    if fmt == "csv":
        crs = pyproj.CRS.from_wkt(
            json.loads(out.with_name("layer.metadata.json").read_text("utf-8"))["crs"]["wkt"]
        )
    else:
        crs = _ogrinfo_srs(summary)
    assert _same_crs(crs, crs_key), crs.name
    rows, geoms = _ogrinfo_features(_ogrinfo("-q", *which))
    assert len(rows) == len(CELLS)
    names = short_names(list(_bundle().frame.columns)) if fmt == "shp" else {}
    order = np.argsort([CELLS.index(r[names.get("h3_cell", "h3_cell")]) for r in rows])
    rows, geoms = [rows[i] for i in order], [geoms[i] for i in order]
    assert [r[names.get("h3_cell", "h3_cell")] for r in rows] == CELLS
    assert [int(r[names.get("count", "count")]) for r in rows] == COUNTS
    assert [r[names.get("class_zh", "class_zh")] for r in rows] == [LABELS_ZH[c] for c in CLASSES]
    assert_hexagons(geoms, CELLS, crs, crs_key)


def test_geojson_is_wgs84_and_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "layer.geojson"
    write_export([_bundle()], out, fmt="geojson", crs="EPSG:4326")
    data = json.loads(out.read_text("utf-8"))
    assert "crs" not in data  # RFC 7946: no crs member, WGS84 implied
    frame = pyogrio.read_dataframe(out)
    assert frame["h3_cell"].tolist() == CELLS
    assert frame["class_zh"].tolist() == [LABELS_ZH[c] for c in CLASSES]
    assert_hexagons(list(frame.geometry), CELLS, pyproj.CRS.from_epsg(4326), "EPSG:4326")
    rows, geoms = _ogrinfo_features(_ogrinfo("-al", "-q", str(out)))
    assert [int(r["count"]) for r in rows] == COUNTS
    assert_hexagons(geoms, CELLS, pyproj.CRS.from_epsg(4326), "EPSG:4326")
    sidecar = json.loads((tmp_path / "layer.metadata.json").read_text("utf-8"))
    assert sidecar["crs"]["key"] == "EPSG:4326"


@pytest.mark.parametrize("crs_key", [c for c in ALL_CRS if c != "EPSG:4326"])
def test_geojson_refuses_any_other_crs_and_writes_nothing(tmp_path: Path, crs_key: str) -> None:
    with pytest.raises(ExportError, match="RFC 7946"):
        write_export([_bundle()], tmp_path / "layer.geojson", fmt="geojson", crs=crs_key)
    assert list(tmp_path.iterdir()) == []


# --- GeoPackage: style and metadata --------------------------------------------------------


def test_geopackage_holds_style_and_metadata_tables(tmp_path: Path) -> None:
    out = tmp_path / "planning.gpkg"
    written = write_export([_bundle("first"), _bundle("second")], out, fmt="gpkg", crs="EPSG:4545")
    assert written.layers == ("first", "second")
    layers = {str(name) for name, _ in pyogrio.list_layers(out)}
    assert {"first", "second"} <= layers
    with closing(sqlite3.connect(out)) as db:
        styles = db.execute(
            "SELECT f_table_name, f_geometry_column, styleName, styleQML, useAsDefault "
            "FROM layer_styles ORDER BY f_table_name"
        ).fetchall()
        meta = db.execute(
            "SELECT r.table_name, r.reference_scope, m.mime_type, m.metadata FROM "
            "gpkg_metadata_reference r JOIN gpkg_metadata m ON m.id = r.md_file_id "
            "ORDER BY r.table_name"
        ).fetchall()
        extensions = {
            row[0]
            for row in db.execute(
                "SELECT table_name FROM gpkg_extensions WHERE extension_name = 'gpkg_metadata'"
            )
        }
        geometry_column = db.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = 'first'"
        ).fetchone()[0]
    assert [s[0] for s in styles] == ["first", "second"]
    assert all(s[1] == geometry_column and s[4] == 1 for s in styles)
    qml = _qml_root(styles[0][3])
    renderer = qml.find("renderer-v2")
    assert renderer is not None and renderer.get("attr") == "class"
    assert renderer.get("type") == "categorizedSymbol"
    cats = renderer.findall("categories/category")
    assert [(c.get("value"), c.get("label")) for c in cats] == [
        ("0", "低"),
        ("1", "中"),
        ("2", "高（热点）"),
        ("-1", "无数据"),
    ]
    colours = [
        o.get("value")
        for o in renderer.findall("symbols/symbol/layer/Option/Option")
        if o.get("name") == "color"
    ]
    assert colours == ["255,237,160,255", "254,178,76,255", "240,59,32,255", "189,189,189,255"]
    assert [m[0] for m in meta] == ["first", "second"]
    assert all(m[1] == "table" and m[2] == "application/json" for m in meta)
    first = json.loads(meta[0][3])
    assert first["layer"] == "first" and first["crs"]["key"] == "EPSG:4545"
    assert first["created_at"] == "2026-11-26T10:00:00+08:00"
    assert first["fields"][4] == {
        "name": "count",
        "unit": "incidents",
        "zh": "警情数（起）",
        "en": "Incidents",
        "description": "",
    }
    assert extensions == {"gpkg_metadata", "gpkg_metadata_reference"}
    # GDAL reads the metadata row as the layer's metadata item, in both GDALs.
    assert "GPKG_METADATA_ITEM_1" in _ogrinfo("-so", str(out), "first")
    assert [f.name for f in written.files] == [
        "planning.gpkg",
        "planning.first.qml",
        "planning.second.qml",
    ]
    assert not (tmp_path / "planning.metadata.json").exists()


# --- Shapefile -----------------------------------------------------------------------------


def test_short_names_fit_dbase_and_stay_unique() -> None:
    names = [
        "certified_share",
        "certified_households",
        "nearest_unit",
        "a_very_long_name_one",
        "a_very_long_name_two",
        "A_VERY_LONG_NAME_THREE",
        "count",
    ]
    given = {"certified_share": "cert_share", "nearest_unit": "count"}  # a clash, on purpose
    short = short_names(names, given)
    assert short["certified_share"] == "cert_share"  # the layer's name
    assert short["certified_households"] == "cert_hh"  # word by word
    assert short["nearest_unit"] == "count"  # the layer's, first come
    assert short["count"] == "count_2"  # then made unique
    assert short["a_very_long_name_one"] == "a_very_lon"
    assert short["a_very_long_name_two"] == "a_very_l_2"
    assert short["A_VERY_LONG_NAME_THREE"] == "A_VERY_L_3"
    assert all(len(s) <= 10 for s in short.values())
    assert len({s.lower() for s in short.values()}) == len(names)
    assert short_names(names, given) == short  # deterministic


def test_shapefile_zip_keeps_chinese_text_and_documents_field_names(tmp_path: Path) -> None:
    out = tmp_path / "layer.zip"
    write_export([_bundle()], out, fmt="shp", crs="EPSG:4490")
    with zipfile.ZipFile(out) as zf:
        members = set(zf.namelist())
        assert {
            "test_layer.shp",
            "test_layer.shx",
            "test_layer.dbf",
            "test_layer.prj",
            "test_layer.cpg",
            "test_layer.qml",
            "test_layer.metadata.json",
            "README.txt",
        } <= members
        assert zf.read("test_layer.cpg").decode().strip() == "UTF-8"
        meta = json.loads(zf.read("test_layer.metadata.json"))
        readme = zf.read("README.txt").decode("utf-8")
        qml = _qml_root(zf.read("test_layer.qml").decode())
    # README: field -> full name -> unit -> zh -> en, one line per field
    assert "cert_share\tcertified_share\tshare\t已创建占比\tCertified share" in readme
    rows = {r["name"]: r for r in meta["fields"]}
    assert rows["certified_share"]["shapefile_field"] == "cert_share"
    assert meta["field_names"]["certified_share"] == "cert_share"
    assert qml.find("renderer-v2").get("attr") == "class"  # type: ignore[union-attr]
    aliases = {a.get("field"): a.get("name") for a in qml.findall("aliases/alias")}
    assert aliases["cert_share"] == "已创建占比 (share)"
    frame = pyogrio.read_dataframe(f"/vsizip/{out}")
    assert frame["name"].tolist() == NAMES
    assert frame["class_zh"].tolist() == [LABELS_ZH[c] for c in CLASSES]
    assert "东乡街道" in _ogrinfo("-al", "-q", f"/vsizip/{out}")


# --- CSV -----------------------------------------------------------------------------------


def test_neutralise_prefixes_only_formula_starts() -> None:
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("+86") == "'+86"
    assert neutralise("-x") == "'-x"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\t=1") == "'\t=1"
    assert neutralise("东乡 = 1") == "东乡 = 1"
    assert neutralise("") == ""


def test_csv_neutralises_text_but_keeps_negative_numbers(tmp_path: Path) -> None:
    out = tmp_path / "layer.csv"
    write_export([_bundle()], out, fmt="csv", crs="EPSG:4326")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    import csv

    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [r["name"] for r in rows] == [
        "东乡街道",
        '\'=HYPERLINK("http://x")',
        "'+86 电话",
        "'-减号",
        "'@SUM(A1)",
        "普通",
        "红袖标",
    ]
    assert [r["value"] for r in rows] == ["1.5", "-2.25", "0.0", "-0.001", "", "1000000.0", "-7.0"]
    assert rows[0]["h3_cell"] == CELLS[0]
    lat, lng = h3.cell_to_latlng(CELLS[0])
    assert abs(float(rows[0]["lon"]) - lng) < 1e-9 and abs(float(rows[0]["lat"]) - lat) < 1e-9
    assert list(rows[0])[-1] == "WKT"
    assert out.with_suffix(".csvt").read_text("utf-8").startswith('"String","Real","Real"')
    # GDAL reads the numbers as numbers (negative ones too), thanks to the .csvt.
    frame = pyogrio.read_dataframe(out)
    assert frame["value"].dtype.kind == "f" and frame["value"].tolist()[1] == -2.25


def test_csv_centre_columns_are_metres_in_a_projected_crs(tmp_path: Path) -> None:
    out = tmp_path / "layer.csv"
    write_export([_bundle()], out, fmt="csv", crs="EPSG:4524")
    import csv

    row = next(csv.DictReader(out.read_text("utf-8-sig").splitlines()))
    lat, lng = h3.cell_to_latlng(CELLS[0])
    x, y = pyproj.Transformer.from_crs(4326, 4524, always_xy=True).transform(lng, lat)
    assert abs(float(row["x"]) - x) < 0.001 and abs(float(row["y"]) - y) < 0.001
    assert 36_400_000 < float(row["x"]) < 36_600_000  # zone 36 prefix in the easting


# --- GCJ-02 and other metadata -------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["fgb", "parquet", "shp", "csv"])
def test_gcj02_export_is_shifted_and_says_so(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"layer{FORMATS[fmt].suffix}"
    write_export([_bundle()], out, fmt=fmt, crs="gcj02")
    if fmt == "shp":
        with zipfile.ZipFile(out) as zf:
            meta = json.loads(zf.read("test_layer.metadata.json"))
            assert "GCJ-02" in zf.read("test_layer.prj").decode()
    else:
        meta = json.loads((tmp_path / "layer.metadata.json").read_text("utf-8"))
    assert meta["crs"]["key"] == "GCJ-02" and meta["crs"]["epsg"] is None
    assert "GCJ-02" in meta["crs"]["note"]
    frame, file_crs = _read(out, fmt)
    assert "GCJ-02" in file_crs.name
    assert_hexagons(list(frame.geometry), CELLS, file_crs, "GCJ-02")
    # Really shifted: the GCJ-02 offset in Sichuan is hundreds of metres.
    first = np.asarray(frame.geometry.iloc[0].exterior.coords)[0]
    lat, lng = h3.cell_to_boundary(CELLS[0])[0]
    wgs_distance = min(
        GEOD.inv(lng, lat, x, y)[2] for x, y in np.asarray(frame.geometry.iloc[0].exterior.coords)
    )
    assert wgs_distance > 100, first


def test_geoparquet_carries_geo_and_export_metadata(tmp_path: Path) -> None:
    out = tmp_path / "layer.parquet"
    write_export([_bundle()], out, fmt="parquet", crs="EPSG:3857")
    schema_meta = pq.read_schema(out).metadata
    geo = json.loads(schema_meta[b"geo"])
    assert geo["columns"]["geometry"]["encoding"] == "WKB"
    assert pyproj.CRS.from_json_dict(geo["columns"]["geometry"]["crs"]).to_epsg() == 3857
    ours = json.loads(schema_meta[b"pnm:export"])
    assert ours["layer"] == "test_layer" and ours["crs"]["key"] == "EPSG:3857"


def test_flatgeobuf_header_holds_metadata(tmp_path: Path) -> None:
    out = tmp_path / "layer.fgb"
    write_export([_bundle()], out, fmt="fgb", crs="EPSG:4326")
    meta = pyogrio.read_info(out)["layer_metadata"]
    assert meta["TITLE"] == "测试图层"
    assert json.loads(meta["pnm_export"])["crs"]["key"] == "EPSG:4326"


@pytest.mark.parametrize("fmt", FILE_FORMATS)
def test_every_format_has_a_qml_beside_or_inside(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"planning{FORMATS[fmt].suffix}"
    written = write_export([_bundle()], out, fmt=fmt, crs="EPSG:4326", lang="en")
    if fmt == "shp":
        with zipfile.ZipFile(out) as zf:
            text = zf.read("test_layer.qml").decode()
    else:
        text = (tmp_path / "planning.qml").read_text("utf-8")
        assert tmp_path / "planning.qml" in written.files
    assert text.startswith("<!DOCTYPE qgis")
    root = _qml_root(text)
    labels = [c.get("label") for c in root.findall("renderer-v2/categories/category")]
    assert labels == ["low", "middle", "high (hot spot)", "no data"]


# --- refusals ------------------------------------------------------------------------------


def test_unknown_format_and_crs_are_refused_by_name() -> None:
    with pytest.raises(ExportError, match="unknown format 'kml'; choose one of gpkg"):
        write_export([_bundle()], "x.kml", fmt="kml", crs="EPSG:4326")
    with pytest.raises(ExportError, match="unknown CRS 'EPSG:2000'"):
        write_export([_bundle()], "x.gpkg", fmt="gpkg", crs="EPSG:2000")


def test_crs_aliases() -> None:
    assert export_crs("4545").key == "EPSG:4545"
    assert export_crs("cgcs2000").key == "EPSG:4490"
    assert export_crs("GCJ-02").key == "GCJ-02"
    assert export_crs("epsg:3857").key == "EPSG:3857"


def test_one_layer_formats_refuse_two_layers(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="one layer per file"):
        write_export([_bundle("a"), _bundle("b")], tmp_path / "x.fgb", fmt="fgb", crs="4326")


def test_an_empty_layer_is_refused(tmp_path: Path) -> None:
    b = _bundle()
    empty = ExportBundle(b.layer, b.frame.iloc[:0], b.geometry[:0], b.fields, b.metadata, b.style)
    with pytest.raises(ExportError, match="no features"):
        write_export([empty], tmp_path / "x.gpkg", fmt="gpkg", crs="4326")
    assert list(tmp_path.iterdir()) == []


def test_a_path_under_a_file_is_said_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    with pytest.raises(ExportError, match="cannot write"):
        write_export([_bundle()], blocker / "x.gpkg", fmt="gpkg", crs="4326")
