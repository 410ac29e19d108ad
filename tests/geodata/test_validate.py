"""Validation: each kind of bad row gets its reason and row number; good rows are typed."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geodata.columns import ColumnError, load_user_mapping, map_columns
from geodata.datum import gcj02_to_wgs84
from geodata.readers import read_file
from geodata.schema import INCIDENTS, PRECINCTS, dataset
from geodata.validate import REASONS, Area, Validation, Validator, validate
from tests.geodata.conftest import SQUARE

HEAD = "警情编号,发生时间,经度,纬度,警情类别\n"
GOOD = "G1,2024-05-01 13:20:00,107.73,31.35,盗窃\n"


@pytest.fixture
def run(tmp_path):
    """Validate CSV text as data set ``kind``; return the Validation."""

    def go(text: str, kind: str = "incidents", **kwargs) -> Validation:
        path = tmp_path / "in.csv"
        path.write_text(text, encoding="utf-8")
        frame = read_file(path).frame
        return validate(frame, map_columns(frame, dataset(kind)), **kwargs)

    return go


def _one_reject(result: Validation) -> pd.Series:
    assert len(result.rejects) == 1, result.rejects
    return result.rejects.iloc[0]


# -- one test per kind of bad row ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("B1,,107.73,31.35,盗窃", "missing_time"),
        ("B1,昨天下班后,107.73,31.35,盗窃", "unparseable_time"),
        ("B1,2024-13-45 10:00,107.73,31.35,盗窃", "unparseable_time"),
        ("B1,2024-05-01,107.73,31.35,外星人入侵", "unknown_category"),
        ("B1,2024-05-01,东经107度,31.35,盗窃", "non_numeric_coords"),
        ("B1,2024-05-01,NaN,31.35,盗窃", "nan_or_inf_coords"),
        ("B1,2024-05-01,107.73,inf,盗窃", "nan_or_inf_coords"),
        ("B1,2024-05-01,107.73,,盗窃", "missing_required"),
        (",2024-05-01,107.73,31.35,盗窃", "missing_required"),
        ("B1,2024-05-01,31.35,107.73,盗窃", "swapped_lat_lng"),
        ("B1,2024-05-01,200,95,盗窃", "out_of_range"),
        ("G1,2024-05-01,107.73,31.35,盗窃", "duplicate_id"),
    ],
)
def test_each_bad_row_is_rejected_with_its_reason_and_row(run, line, reason):
    result = run(HEAD + GOOD + line + "\n")
    rejected = _one_reject(result)
    assert rejected["row"] == 3  # header is row 1, the good row is row 2
    assert rejected["reason"] == reason
    assert reason in REASONS
    zh, en = rejected["detail"].split(" / ", 1)
    assert zh and en
    # the original values come along, under the file's own headers
    assert rejected["警情类别"] == line.split(",")[4]
    assert result.good["incident_id"].tolist() == ["G1"]


def test_inside_outside_and_swapped_with_an_area(run):
    area = Area.from_frame(gpd.GeoDataFrame(geometry=[SQUARE], crs="EPSG:4326"))
    text = (
        HEAD
        + "A,2024-05-01,107.75,31.35,盗窃\n"  # inside
        + "B,2024-05-01,107.905,31.35,盗窃\n"  # ~480 m east of the edge: inside the 1 km margin
        + "C,2024-05-01,107.95,31.35,盗窃\n"  # ~4.7 km east: outside
        + "D,2024-05-01,31.35,107.75,盗窃\n"  # A swapped
        + "E,2024-05-01,116.40,39.90,盗窃\n"  # Beijing
    )
    result = run(text, area=area)
    assert result.good["incident_id"].tolist() == ["A", "B"]
    reasons = dict(zip(result.rejects["row"], result.rejects["reason"], strict=True))
    assert reasons == {4: "coords_outside_area", 5: "swapped_lat_lng", 6: "coords_outside_area"}


def test_gcj02_coordinates_are_converted(run):
    x, y = 107.73, 31.35
    result = run(HEAD + f"A,2024-05-01,{x},{y},盗窃\n", datum="gcj02")
    lng, lat = gcj02_to_wgs84(x, y)
    assert result.good["lng"].iloc[0] == pytest.approx(float(lng), abs=1e-12)
    assert result.good["lat"].iloc[0] == pytest.approx(float(lat), abs=1e-12)
    # the GCJ-02 offset is hundreds of metres, so the conversion visibly happened
    assert abs(result.good["lng"].iloc[0] - x) > 0.001


def test_projected_gauss_kruger_coordinates(run):
    # EPSG:4545 (CGCS2000 3-degree Gauss-Krüger, central meridian 108°E, no zone prefix):
    # the central meridian maps to easting 500000 m, and latitude 31.35° on it to a
    # northing the inverse projection must bring back.
    from pyproj import Transformer

    e, n = Transformer.from_crs("EPSG:4490", "EPSG:4545", always_xy=True).transform(108.0, 31.35)
    assert e == pytest.approx(500000.0, abs=1e-3)
    result = run(HEAD + f"A,2024-05-01,{e},{n},盗窃\n", datum="EPSG:4545")
    assert result.good[["lng", "lat"]].iloc[0].tolist() == pytest.approx([108.0, 31.35], abs=1e-7)


# -- values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01 13:20:00", dt.datetime(2024, 5, 1, 13, 20)),
        ("2024/5/1 13:20", dt.datetime(2024, 5, 1, 13, 20)),
        ("2024-5-1", dt.datetime(2024, 5, 1)),
        ("2024.05.01 08:05", dt.datetime(2024, 5, 1, 8, 5)),
        ("2024年5月1日 13时20分", dt.datetime(2024, 5, 1, 13, 20)),
        ("2024年5月1日13时20分05秒", dt.datetime(2024, 5, 1, 13, 20, 5)),
        ("2024年05月01日", dt.datetime(2024, 5, 1)),
        ("2024年5月1日 下午1点30分", dt.datetime(2024, 5, 1, 13, 30)),
        ("2024年5月1日 上午9点", dt.datetime(2024, 5, 1, 9, 0)),
        ("20240501132000", dt.datetime(2024, 5, 1, 13, 20)),
        ("20240501", dt.datetime(2024, 5, 1)),
        ("2024-05-01T13:20:00", dt.datetime(2024, 5, 1, 13, 20)),
        # UTC and other offsets become China Standard Time (UTC+8)
        ("2024-05-01T05:20:00Z", dt.datetime(2024, 5, 1, 13, 20)),
        ("2024-05-01 06:20:00+09:00", dt.datetime(2024, 5, 1, 5, 20)),
        # Excel serial day numbers: 45292 is 2024-01-01, +121 days to 1 May, .5 = noon
        ("45413.5", dt.datetime(2024, 5, 1, 12, 0)),
    ],
)
def test_datetime_spellings(run, text, expected):
    result = run(HEAD + f"A,{text},107.73,31.35,盗窃\n")
    assert result.rejects.empty, result.rejects["detail"].tolist()
    assert result.good["time"].iloc[0] == pd.Timestamp(expected)
    assert str(result.good["time"].dtype) == "datetime64[us]"


def test_excel_cells_datetime_and_serial(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["警情编号", "发生时间", "经度", "纬度", "警情类别", "严重程度"])
    ws.append(["A1", dt.datetime(2024, 5, 1, 13, 20), 107.73, 31.35, "盗窃", 2])
    ws.append([1002, 45413.75, 107.74, 31.36, "Telecom and online fraud", "重大"])
    ws.append(["A3", 2024, 107.74, 31.36, "theft", 1])  # a bare year is not a date
    path = tmp_path / "x.xlsx"
    wb.save(path)
    frame = read_file(path).frame
    result = validate(frame, map_columns(frame, INCIDENTS))
    good = result.good
    assert good["incident_id"].tolist() == ["A1", "1002"]  # 1002.0 from Excel -> "1002"
    assert good["time"].tolist() == [pd.Timestamp(2024, 5, 1, 13, 20), pd.Timestamp(2024, 5, 1, 18)]
    assert good["category"].tolist() == ["theft", "telecom_fraud"]
    assert good["severity"].tolist() == [2, 3]
    assert _one_reject(result)[["row", "reason"]].tolist() == [4, "unparseable_time"]


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("盗窃", "theft"),
        ("theft", "theft"),
        ("Theft", "theft"),
        (" THEFT ", "theft"),
        ("电信网络诈骗", "telecom_fraud"),
    ],
)
def test_vocabulary_accepts_code_zh_and_en(run, spelling, code):
    result = run(HEAD + f"A,2024-05-01,107.73,31.35,{spelling}\n")
    assert result.good["category"].tolist() == [code]


def test_numbers_and_ranges(run):
    head = "警情编号,发生时间,经度,纬度,警情类别,严重程度\n"
    text = (
        head
        + "A,2024-05-01,107.73,31.35,盗窃,1\n"
        + "B,2024-05-01,107.73,31.35,盗窃,4\n"
        + "C,2024-05-01,107.73,31.35,盗窃,2.5\n"
        + "D,2024-05-01,107.73,31.35,盗窃,很严重\n"
        + "E,2024-05-01,107.73,31.35,盗窃,\n"
        + "F,2024-05-01,107.73,31.35,盗窃,较重\n"
    )
    result = run(text)
    assert result.good["incident_id"].tolist() == ["A", "E", "F"]
    assert result.good["severity"].tolist()[0] == 1
    assert result.good["severity"].isna().tolist() == [False, True, False]
    assert result.good["severity"].tolist()[2] == 2
    assert str(result.good["severity"].dtype) == "Int64"
    reasons = dict(zip(result.rejects["row"], result.rejects["reason"], strict=True))
    assert reasons == {3: "out_of_range", 4: "non_numeric_value", 5: "non_numeric_value"}


def test_good_frame_has_schema_columns_and_types(run):
    good = run(HEAD + GOOD).good
    assert list(good.columns) == [c.name for c in INCIDENTS.columns]
    assert good.dtypes.astype(str).to_dict() == {
        "incident_id": "str",
        "time": "datetime64[us]",
        "lng": "float64",
        "lat": "float64",
        "category": "str",
        "severity": "Int64",
        "source": "str",
    }
    assert good["source"].isna().all()


def test_duplicates_across_chunks_and_against_the_store(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(
        HEAD
        + GOOD
        + "G2,2024-05-01,107.73,31.35,盗窃\nG3,2024-05-01,107.73,31.35,盗窃\n"
        + "G1,2024-05-02,107.73,31.35,盗窃\n",
        encoding="utf-8",
    )
    frame = read_file(path).frame
    validator = Validator(map_columns(frame, INCIDENTS), existing_keys={"G3"})
    first = validator.validate(frame.iloc[:2])
    second = validator.validate(frame.iloc[2:])
    assert first.good["incident_id"].tolist() == ["G1", "G2"]
    assert second.good.empty
    assert second.rejects["reason"].tolist() == ["duplicate_id", "duplicate_id"]
    assert "already stored" in second.rejects["detail"].iloc[0]
    assert "repeats row 2" in second.rejects["detail"].iloc[1]


def test_a_rejected_first_occurrence_does_not_shadow_a_good_repeat(run):
    result = run(HEAD + "G1,,107.73,31.35,盗窃\n" + GOOD)
    assert result.good["incident_id"].tolist() == ["G1"]
    assert _one_reject(result)[["row", "reason"]].tolist() == [2, "missing_time"]


# -- points from a vector file ---------------------------------------------------------------


def test_points_come_from_the_geometry(tmp_path):
    frame = gpd.GeoDataFrame(
        {
            "警情编号": ["A", "B", "C", "D", "E"],
            "发生时间": ["2024-05-01"] * 5,
            "警情类别": ["盗窃"] * 5,
            # attribute columns that disagree with the geometry: the geometry wins
            "经度": [0.0] * 5,
            "纬度": [0.0] * 5,
        },
        geometry=[
            shapely.Point(107.73, 31.35),
            shapely.MultiPoint([(107.74, 31.36)]),
            shapely.box(107.7, 31.3, 107.8, 31.4),
            None,
            shapely.Point(np.inf, 31.35),
        ],
        crs="EPSG:4326",
    )
    path = tmp_path / "p.gpkg"
    frame.to_file(path)
    read = read_file(path)
    colmap = map_columns(read.frame, INCIDENTS)
    assert colmap.geometry_from_file and "lng" not in colmap.sources
    result = validate(read.frame, colmap)
    assert result.good[["lng", "lat"]].to_numpy().tolist() == [[107.73, 31.35], [107.74, 31.36]]
    reasons = dict(zip(result.rejects["row"], result.rejects["reason"], strict=True))
    assert reasons == {3: "invalid_geometry", 4: "missing_required", 5: "nan_or_inf_coords"}
    assert result.rejects["geometry"].iloc[0].startswith("POLYGON")


# -- polygons ---------------------------------------------------------------------------------


def test_polygon_rows(run):
    bowtie = "POLYGON ((107.7 31.3, 107.8 31.4, 107.8 31.3, 107.7 31.4, 107.7 31.3))"
    swapped = "POLYGON ((31.3 107.7, 31.3 107.8, 31.4 107.8, 31.4 107.7, 31.3 107.7))"
    text = (
        "派出所编号,派出所名称,wkt\n"
        + 'P1,东乡派出所,"POLYGON ((107.7 31.3, 107.8 31.3, 107.8 31.4, 107.7 31.4, 107.7 31.3))"\n'
        + f'P2,蝴蝶,"{bowtie}"\n'
        + "P3,不是几何,圆形\n"
        + "P4,点,POINT (107.7 31.3)\n"
        + "P5,空,\n"
        + 'P6,NaN,"POLYGON ((107.7 31.3, NaN 31.3, 107.8 31.4, 107.7 31.3))"\n'
        + f'P7,颠倒,"{swapped}"\n'
        + 'P8,远方,"POLYGON ((116.3 39.9, 116.4 39.9, 116.4 40.0, 116.3 39.9))"\n'
    )
    area = Area.from_frame(gpd.GeoDataFrame(geometry=[SQUARE], crs="EPSG:4326"))
    result = run(text, kind="precincts", area=area)
    assert isinstance(result.good, gpd.GeoDataFrame)
    assert result.good.crs == "EPSG:4326"
    assert result.good["precinct_id"].tolist() == ["P1"]
    assert result.good.geometry.iloc[0].equals(shapely.box(107.7, 31.3, 107.8, 31.4))
    reasons = dict(zip(result.rejects["row"], result.rejects["reason"], strict=True))
    assert reasons == {
        3: "invalid_geometry",
        4: "invalid_geometry",
        5: "invalid_geometry",
        6: "missing_required",
        7: "nan_or_inf_coords",
        8: "swapped_lat_lng",
        9: "coords_outside_area",
    }
    detail = result.rejects.set_index("row")["detail"]
    assert "Self-intersection" in detail[3] and "not repaired" in detail[3]


def test_polygons_are_converted_from_gcj02(run):
    text = 'code,name,wkt\n1,x,"POLYGON ((107.7 31.3, 107.8 31.3, 107.8 31.4, 107.7 31.3))"\n'
    good = run(text, kind="area", datum="gcj02").good
    xy = shapely.get_coordinates(good.geometry.iloc[0])
    lng, lat = gcj02_to_wgs84([107.7, 107.8, 107.8, 107.7], [31.3, 31.3, 31.4, 31.3])
    np.testing.assert_allclose(xy[:, 0], lng, atol=1e-12)
    np.testing.assert_allclose(xy[:, 1], lat, atol=1e-12)


# -- column mapping ---------------------------------------------------------------------------


def test_chinese_and_english_headers_map_with_blanks_and_case():
    frame = pd.DataFrame(columns=[" 接警编号 ", "报警时间", "LNG", "Ｌａｔ", "案件类别", "备注"])
    colmap = map_columns(frame, INCIDENTS)
    assert colmap.sources == {
        "incident_id": " 接警编号 ",
        "time": "报警时间",
        "lng": "LNG",
        "lat": "Ｌａｔ",
        "category": "案件类别",
    }
    assert colmap.unused == ("备注",)


def test_the_most_specific_alias_wins():
    # both 编号 and 警情编号 are aliases of incident_id; the label comes first
    frame = pd.DataFrame(columns=["编号", "警情编号", "时间", "经度", "纬度", "类别"])
    assert map_columns(frame, INCIDENTS).sources["incident_id"] == "警情编号"


def test_missing_columns_name_missing_and_found():
    frame = pd.DataFrame(columns=["编号", "地址", "经度"])
    with pytest.raises(ColumnError) as info:
        map_columns(frame, INCIDENTS)
    message = str(info.value)
    for word in ("time", "lat", "category", "编号, 地址, 经度"):
        assert word in message
    assert "incident_id" not in message.split("columns found")[0]


def test_polygons_need_a_geometry():
    frame = pd.DataFrame(columns=["派出所编号", "派出所名称"])
    with pytest.raises(ColumnError, match="geometry"):
        map_columns(frame, PRECINCTS)


def test_user_mapping_json_and_csv(tmp_path):
    frame = pd.DataFrame(columns=["单号", "日期时间", "X坐标", "Y坐标", "警情类别"])
    with pytest.raises(ColumnError):
        map_columns(frame, INCIDENTS)
    js = tmp_path / "map.json"
    js.write_text(
        '{"单号": "incident_id", "日期时间": "time", "X坐标": "经度", "Y坐标": "lat", "不在文件里": "x"}',
        encoding="utf-8",
    )
    sources = map_columns(frame, INCIDENTS, user_mapping=load_user_mapping(js)).sources
    assert (sources["incident_id"], sources["time"], sources["lng"], sources["lat"]) == (
        "单号",
        "日期时间",
        "X坐标",
        "Y坐标",
    )
    cs = tmp_path / "map.csv"
    cs.write_bytes(
        "文件列名,标准列名\n单号,incident_id\n日期时间,发生时间\nX坐标,lng\nY坐标,lat\n".encode(
            "gbk"
        )
    )
    assert load_user_mapping(cs) == {
        "单号": "incident_id",
        "日期时间": "发生时间",
        "X坐标": "lng",
        "Y坐标": "lat",
    }
    assert map_columns(frame, INCIDENTS, user_mapping=load_user_mapping(cs)).sources == sources


def test_user_mapping_errors(tmp_path):
    frame = pd.DataFrame(columns=["单号"])
    bad_target = tmp_path / "m.json"
    bad_target.write_text('{"单号": "no_such_column"}', encoding="utf-8")
    with pytest.raises(ColumnError, match="no_such_column"):
        map_columns(frame, INCIDENTS, user_mapping=load_user_mapping(bad_target))
    not_json = tmp_path / "n.json"
    not_json.write_text("{oops", encoding="utf-8")
    with pytest.raises(ColumnError, match="not valid JSON"):
        load_user_mapping(not_json)
    one_column = tmp_path / "one.csv"
    one_column.write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(ColumnError, match="two columns"):
        load_user_mapping(one_column)


def test_enormous_polygons_are_refused(run, monkeypatch):
    monkeypatch.setattr("geodata.validate.location.MAX_VERTICES", 4)
    text = (
        "code,name,wkt\n"
        '1,小,"POLYGON ((107.7 31.3, 107.8 31.3, 107.8 31.4, 107.7 31.3))"\n'
        '2,大,"POLYGON ((107.7 31.3, 107.8 31.3, 107.8 31.4, 107.75 31.45, 107.7 31.3))"\n'
    )
    result = run(text, kind="area")
    assert result.good["code"].tolist() == ["1"]
    rejected = _one_reject(result)
    assert (rejected["row"], rejected["reason"]) == (3, "invalid_geometry")
    assert "too many vertices" in rejected["detail"]


def test_missing_columns_message_is_bounded():
    frame = pd.DataFrame(columns=[f"c{i}" for i in range(5000)])
    with pytest.raises(ColumnError) as info:
        map_columns(frame, INCIDENTS)
    assert len(str(info.value)) < 2000
    assert "(+4960)" in str(info.value)


def test_population_rows_need_a_grid_or_a_place(run):
    text = "网格编号,经度,纬度,实有人口\nG1,,,120\n,107.73,31.35,80\n,,,50\nG2,107.73,,30\n"
    result = run(text, kind="population")
    assert result.good["residents"].tolist() == [120, 80]
    reasons = dict(zip(result.rejects["row"], result.rejects["reason"], strict=True))
    assert reasons == {4: "missing_required", 5: "missing_required"}
    assert "neither a grid id nor coordinates" in result.rejects["detail"].iloc[0]
    assert "only one coordinate" in result.rejects["detail"].iloc[1]


_CELL = st.text(alphabet='0123456789.-e,nainf年月日时分 :/盗窃theft"', max_size=14)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(_CELL, min_size=5, max_size=5), min_size=1, max_size=20))
def test_every_row_ends_up_in_exactly_one_place(tmp_path, rows):
    assume(any(c.replace('"', "").strip() for r in rows for c in r))  # else no data rows
    path = tmp_path / "fuzz.csv"
    body = "".join(",".join(f'"{c.replace(chr(34), "")}"' for c in r) + "\n" for r in rows)
    path.write_text(HEAD + body, encoding="utf-8")
    frame = read_file(path).frame
    result = validate(frame, map_columns(frame, INCIDENTS))
    assert len(result.good) + len(result.rejects) == len(frame)
    assert set(result.rejects["row"]) <= set(frame.index)
    assert set(result.rejects["reason"]) <= set(REASONS)
    assert result.good["lng"].between(-180, 180).all()
    assert result.good["time"].notna().all()
