"""Readers: one test per format and per encoding, Chinese text surviving each; hostile files."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.readers import ReadError, detect_format, read_file
from tests.geodata.conftest import zipped_shapefile

NAMES = ["东乡街道", "南坝镇"]
CSV_TEXT = "编号,名称,经度,纬度\n1,东乡街道,107.73,31.35\n2,南坝镇,107.80,31.40\n"


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"名称": NAMES, "类别": ["盗窃", "诈骗"]},
        geometry=shapely.points([107.73, 107.80], [31.35, 31.40]),
        crs="EPSG:4326",
    )


# -- CSV and its encodings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("utf-16", "utf-16")],
)
def test_csv_encodings_keep_chinese(write_text, encoding, detected):
    path = write_text("towns.csv", CSV_TEXT, encoding)
    result = read_file(path)
    assert result.format == "csv"
    assert result.encoding == detected
    assert list(result.frame.columns) == ["编号", "名称", "经度", "纬度"]
    assert result.frame["名称"].tolist() == NAMES
    assert result.frame.index.tolist() == [2, 3]  # header is row 1
    assert result.crs is None


def test_csv_encoding_override(write_text):
    path = write_text("towns.csv", CSV_TEXT, "gbk")
    assert read_file(path, encoding="gbk").frame["名称"].tolist() == NAMES
    with pytest.raises(ReadError, match="cannot decode"):
        read_file(path, encoding="utf-8")


def test_csv_gbk_after_first_megabyte_is_still_detected(tmp_path):
    # ASCII for more than the sniffed megabyte, then GBK: the strict UTF-8 parse must fail
    # and the reader fall back to GB18030 rather than return mojibake.
    filler = "".join(f"{i},x\n" for i in range(200_000)).encode("ascii")
    path = tmp_path / "late.csv"
    path.write_bytes(b"a,b\n" + filler + "9,盗窃\n".encode("gbk"))
    result = read_file(path)
    assert result.encoding == "gb18030"
    assert result.frame["b"].iloc[-1] == "盗窃"


def test_csv_neither_utf8_nor_gbk(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n1,\x80\xff\n")
    with pytest.raises(ReadError, match="neither UTF-8 nor GBK"):
        read_file(path)


def test_csv_blank_rows_keep_numbering_and_cells_stay_text(write_text):
    path = write_text("gaps.csv", 'a,b\n007,"x\ny"\n\n , \n3,4\n')
    frame = read_file(path).frame
    # Row 2 spans two lines but is one row; rows 3 and 4 are blank and dropped.
    assert frame.index.tolist() == [2, 5]
    assert frame["a"].tolist() == ["007", "3"]  # leading zeros survive: cells are text
    assert frame["b"].tolist() == ["x\ny", "4"]


@pytest.mark.parametrize("sep", ["\t", ";"])
def test_csv_other_delimiters(write_text, sep):
    path = write_text("t.csv", CSV_TEXT.replace(",", sep))
    assert read_file(path).frame["名称"].tolist() == NAMES


def test_empty_and_header_only(write_text):
    with pytest.raises(ReadError, match="empty"):
        read_file(write_text("empty.csv", ""))
    with pytest.raises(ReadError, match="no data rows"):
        read_file(write_text("header.csv", "编号,名称\n"))


# -- Excel -----------------------------------------------------------------------------


def test_xlsx_keeps_types_chinese_and_row_numbers(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "警情"
    ws.append(["警情编号", "发生时间", "类别"])
    ws.append(["A1", dt.datetime(2024, 5, 1, 13, 20), "盗窃"])
    ws.append([None, None, None])
    ws.append(["A2", 45413.5, "诈骗"])
    other = wb.create_sheet("其他")
    other.append(["x"])
    other.append([1])
    path = tmp_path / "incidents.xlsx"
    wb.save(path)

    result = read_file(path)
    assert (result.format, result.layer) == ("xlsx", "警情")
    frame = result.frame
    assert frame.index.tolist() == [2, 4]
    assert frame["类别"].tolist() == ["盗窃", "诈骗"]
    assert frame.loc[2, "发生时间"] == dt.datetime(2024, 5, 1, 13, 20)
    assert frame.loc[4, "发生时间"] == 45413.5  # a serial number stays a number here
    assert read_file(path, layer="其他").frame["x"].tolist() == [1]
    with pytest.raises(ReadError, match=r"no sheet 'nope'.*警情, 其他"):
        read_file(path, layer="nope")


def test_xlsx_renamed_csv_is_read_by_content(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["名称"])
    wb.active.append(["东乡街道"])
    path = tmp_path / "really-a-workbook.csv"
    wb.save(path)
    assert detect_format(path) == "xlsx"
    assert read_file(path).frame["名称"].tolist() == ["东乡街道"]


def test_old_xls_and_binary_garbage_are_refused(tmp_path):
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(ReadError, match=r"\.xlsx"):
        read_file(xls)
    png = tmp_path / "photo.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(ReadError, match="unrecognised file format"):
        read_file(png)


# -- GeoJSON, GeoPackage, GeoParquet -------------------------------------------------------


def test_geojson(tmp_path):
    path = tmp_path / "p.geojson"
    _points().to_file(path)
    result = read_file(path)
    assert (result.format, result.crs) == ("geojson", "EPSG:4326")
    assert result.frame["名称"].tolist() == NAMES
    assert result.frame.index.tolist() == [1, 2]  # features count from 1
    assert result.frame.geometry.x.tolist() == [107.73, 107.80]


@pytest.mark.parametrize(("encoding", "detected"), [("utf-8-sig", "utf-8"), ("gbk", "gb18030")])
def test_geojson_with_bom_or_in_gbk(tmp_path, encoding, detected):
    # RFC 7946 says UTF-8, but Chinese tools also write a BOM, or GBK.
    path = tmp_path / "p.geojson"
    path.write_bytes(_points().to_json(ensure_ascii=False).encode(encoding))
    result = read_file(path)
    assert result.encoding == detected
    assert result.frame["名称"].tolist() == NAMES


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"type": "FeatureCollection", "features": [', "corrupt"),
        ('{"type": "Point", "coordinates": ' + "[" * 5000 + "]" * 5000 + "}", "corrupt"),
        ('{"type": "FeatureCollection", "features": []}', "no data rows"),
    ],
    ids=["truncated", "deeply-nested", "no-features"],
)
def test_bad_geojson(write_text, text, message):
    with pytest.raises(ReadError, match=message):
        read_file(write_text("bad.geojson", text))


def test_geopackage_layers(tmp_path):
    path = tmp_path / "two.gpkg"
    _points().to_crs("EPSG:4490").to_file(path, layer="派出所")
    _points().to_file(path, layer="other")
    with pytest.raises(ReadError, match=r"several layers.*派出所, other"):
        read_file(path)
    result = read_file(path, layer="派出所")
    assert (result.format, result.layer, result.crs) == ("gpkg", "派出所", "EPSG:4490")
    assert result.frame["名称"].tolist() == NAMES
    with pytest.raises(ReadError, match="no layer 'x'"):
        read_file(path, layer="x")


def test_corrupt_geopackage(tmp_path):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"SQLite format 3\x00" + b"\x01" * 200)
    with pytest.raises(ReadError, match="corrupt"):
        read_file(path)


def test_geoparquet(tmp_path):
    path = tmp_path / "p.parquet"
    _points().to_crs("EPSG:4545").to_parquet(path)
    result = read_file(path)
    assert (result.format, result.crs) == ("geoparquet", "EPSG:4545")
    assert result.frame["类别"].tolist() == ["盗窃", "诈骗"]
    assert result.frame.index.tolist() == [1, 2]


# -- Zipped Shapefile, its encodings, and hostile zips ---------------------------------------


@pytest.mark.parametrize(
    ("encoding", "keep_cpg", "detected"),
    [
        ("GBK", True, "gb18030"),
        ("GBK", False, "gb18030"),
        ("UTF-8", True, "utf-8"),
        ("UTF-8", False, "utf-8"),
    ],
    ids=["gbk-cpg", "gbk-no-cpg", "utf8-cpg", "utf8-no-cpg"],
)
def test_zipped_shapefile_encodings(tmp_path, encoding, keep_cpg, detected):
    path = zipped_shapefile(
        tmp_path, _points(), encoding=encoding, keep_cpg=keep_cpg, arcname_prefix="数据/"
    )
    with zipfile.ZipFile(path) as zf:
        assert any(n.endswith(".cpg") for n in zf.namelist()) == keep_cpg
    result = read_file(path)
    assert (result.format, result.encoding, result.crs) == ("shapefile", detected, "EPSG:4326")
    assert list(result.frame.columns[:2]) == ["名称", "类别"]  # field names too
    assert result.frame["名称"].tolist() == NAMES
    assert result.frame["类别"].tolist() == ["盗窃", "诈骗"]


def test_cpg_is_honoured_over_sniffing(tmp_path):
    # With a .cpg the reader does not guess: a GBK .cpg on a GBK DBF reads right even for
    # text whose bytes happen to be valid UTF-8 ("浣犲ソ" is "你好" in UTF-8 read as GBK).
    frame = gpd.GeoDataFrame(
        {"名称": ["浣犲ソ"]}, geometry=[shapely.Point(107.7, 31.3)], crs="EPSG:4326"
    )
    path = zipped_shapefile(tmp_path, frame, encoding="GBK", keep_cpg=True)
    assert read_file(path).frame["名称"].tolist() == ["浣犲ソ"]


def test_zip_with_several_shapefiles_needs_a_layer(tmp_path):
    a = zipped_shapefile(tmp_path, _points(), name="a")
    b = zipped_shapefile(tmp_path, _points().iloc[:1], name="b")
    both = tmp_path / "both.zip"
    with zipfile.ZipFile(both, "w") as out:
        for src in (a, b):
            with zipfile.ZipFile(src) as zf:
                for info in zf.infolist():
                    out.writestr(info.filename, zf.read(info))
    with pytest.raises(ReadError, match=r"several shapefiles.*a, b"):
        read_file(both)
    assert len(read_file(both, layer="b").frame) == 1


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_without_shp_lists_members(tmp_path):
    path = _zip(tmp_path / "x.zip", {"readme.txt": b"hi", "data.csv": b"a\n1\n"})
    with pytest.raises(ReadError, match=r"no \.shp file.*readme\.txt"):
        read_file(path)


def test_shapefile_missing_dbf(tmp_path):
    path = zipped_shapefile(tmp_path, _points())
    stripped = tmp_path / "nodbf.zip"
    with zipfile.ZipFile(path) as zf, zipfile.ZipFile(stripped, "w") as out:
        for info in zf.infolist():
            if not info.filename.endswith(".dbf"):
                out.writestr(info.filename, zf.read(info))
    with pytest.raises(ReadError, match=r"lacks \.dbf"):
        read_file(stripped)


@pytest.mark.parametrize("name", ["../evil.shp", "/etc/evil.shp", "a/../../evil.shp", "C:/x.shp"])
def test_zip_slip_is_refused(tmp_path, name):
    path = _zip(tmp_path / "slip.zip", {name: b"x", "ok.shp": b"x"})
    with pytest.raises(ReadError, match="escapes the folder"):
        read_file(path)
    assert not (tmp_path.parent / "evil.shp").exists()


def test_zip_symlink_member_is_refused(tmp_path):
    path = tmp_path / "link.zip"
    info = zipfile.ZipInfo("layer.shp")
    info.external_attr = 0o120777 << 16  # a symbolic link
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(ReadError, match="escapes the folder"):
        read_file(path)


@pytest.mark.parametrize(
    ("small", "big"),
    [(("layer.shp", "layer.shx"), "layer.dbf"), (("xl/workbook.xml",), "xl/worksheets/s1.xml")],
    ids=["shapefile", "xlsx"],
)
def test_zip_bomb_is_refused(tmp_path, small, big):
    # 64 MiB of zeros deflate to about 64 KiB: a ratio near 1000:1.
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in small:
            zf.writestr(name, b"x")
        with zf.open(big, "w") as member:
            block = b"\x00" * 1024**2
            for _ in range(64):
                member.write(block)
    with pytest.raises(ReadError, match="zip bomb"):
        read_file(path)


def test_size_caps(write_text, tmp_path):
    path = write_text("t.csv", CSV_TEXT)
    with pytest.raises(ReadError, match="too big"):
        read_file(path, max_bytes=10)
    shp = zipped_shapefile(tmp_path, _points())
    with pytest.raises(ReadError, match="would unpack"):
        read_file(shp, max_bytes=shp.stat().st_size + 1)


def test_missing_file_and_unknown_encoding(tmp_path):
    with pytest.raises(ReadError, match="no such file"):
        read_file(tmp_path / "nope.csv")
    path = tmp_path / "t.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    with pytest.raises(ReadError, match="unknown encoding"):
        read_file(path, encoding="klingon")


def test_nan_and_inf_survive_reading_for_validation(tmp_path):
    # GeoPackage keeps an infinite coordinate; the reader passes it on for validation to reject.
    frame = gpd.GeoDataFrame(
        {"名称": ["x"]}, geometry=[shapely.Point(np.inf, 31.0)], crs="EPSG:4326"
    )
    path = tmp_path / "inf.gpkg"
    frame.to_file(path)
    assert not np.isfinite(read_file(path).frame.geometry.x.iloc[0])


def test_messages_are_one_line_chinese_then_english(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ReadError) as info:
        read_file(path)
    text = str(info.value)
    assert "\n" not in text
    zh, en = text.split(" / ", 1)
    assert "空" in zh and "empty" in en


@pytest.mark.parametrize(
    "text",
    ["a,b,c\n1,2,3,4\n5,6,7\n", "a,b,c\n5,6,7\n1,2,3,4\n"],
    ids=["first-row", "later-row"],
)
def test_csv_row_with_more_cells_than_the_header_is_an_error(write_text, text):
    # pandas would silently drop the extra cell of the first row; nothing may be lost.
    with pytest.raises(ReadError, match="malformed CSV"):
        read_file(write_text("ragged.csv", text))


def test_zip_with_damaged_member_data(tmp_path):
    path = zipped_shapefile(tmp_path, _points())
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("layer.dbf")
    # Overwrite the middle of the member's compressed bytes: its CRC can no longer match.
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start, start + info.compress_size // 2):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    with pytest.raises(ReadError, match="corrupt zip"):
        read_file(path)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=300).map(lambda t: t.encode("utf-8")),
        st.lists(st.text(alphabet=",\n\"'\r\t;|a1经度", max_size=20), max_size=20).map(
            lambda cells: ",".join(cells).encode("gb18030")
        ),
    )
)
def test_fuzz_any_bytes_are_read_or_fail_clearly(tmp_path, data):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    message = ""
    try:
        result = read_file(path)
    except ReadError as exc:  # the only exception a file may cause
        message = str(exc)
        result = None
    if result is None:
        assert message and "\n" not in message
    else:
        assert len(result.frame) > 0
        assert result.frame.index.is_unique


def test_headers_equal_after_stripping_stay_apart(write_text):
    frame = read_file(write_text("dup.csv", "a,a ,a.1\n1,2,3\n")).frame
    assert list(frame.columns) == ["a", "a.1", "a.1.1"]
    assert frame.loc[2].tolist() == ["1", "2", "3"]
