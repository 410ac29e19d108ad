"""A CRS a file declares but that cannot be used is refused in one line naming it and
``--datum``, never taken as WGS84; with ``--datum`` the file is read as that datum."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import geopandas as gpd
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely

from geodata import store
from geodata.declared_crs import crs_label, unusable, usable_name
from geodata.importer import run_import

UNKNOWN_PRJ = (
    'PROJCS["Nowhere_Grid",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",'
    '6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],'
    'PROJECTION["No_Such_Projection"],UNIT["Meter",1.0]]'
)


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["A"], "time": ["2024-05-01 13:20"], "category": ["theft"]},
        geometry=[shapely.Point(107.73, 31.35)],
        crs="EPSG:4326",
    )


def geojson_with_crs_member(folder: Path) -> Path:
    collection = json.loads(_frame().to_json())
    collection["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::99999"}}
    path = folder / "crs.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def gpkg_with_unknown_srs(folder: Path) -> Path:
    path = folder / "srs.gpkg"
    _frame().to_file(path, driver="GPKG", layer="incidents")
    with sqlite3.connect(path) as con:
        con.execute("UPDATE gpkg_geometry_columns SET srs_id = 99999")
        con.execute("UPDATE gpkg_contents SET srs_id = 99999")
    return path


def shapefile_with_unknown_prj(folder: Path) -> Path:
    work = folder / "shp"
    work.mkdir()
    pyogrio.write_dataframe(_frame(), work / "layer.shp", encoding="UTF-8")
    (work / "layer.prj").write_text(UNKNOWN_PRJ, encoding="utf-8")
    target = folder / "layer.zip"
    with zipfile.ZipFile(target, "w") as zf:
        for part in sorted(work.iterdir()):
            zf.write(part, part.name)
    return target


def geoparquet_with_unknown_epsg(folder: Path) -> Path:
    path = folder / "epsg.parquet"
    _frame().to_parquet(path)
    table = pq.read_table(path)
    meta = dict(table.schema.metadata)
    geo = json.loads(meta[b"geo"])
    geo["columns"]["geometry"]["crs"] = {"id": {"authority": "EPSG", "code": 99999}}
    meta[b"geo"] = json.dumps(geo).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
    return path


CASES = [
    (geojson_with_crs_member, "urn:ogc:def:crs:EPSG::99999"),
    (gpkg_with_unknown_srs, "srs_id 99999"),
    (shapefile_with_unknown_prj, "Nowhere_Grid"),
    (geoparquet_with_unknown_epsg, "EPSG:99999"),
]


@pytest.mark.parametrize(("make", "named"), CASES, ids=[c[0].__name__ for c in CASES])
def test_an_unknown_crs_is_refused_in_one_line_naming_it_and_the_datum_option(
    tmp_path, square_store, capsys, make, named
):
    path = make(tmp_path)
    assert run_import("incidents", path, data_dir=square_store) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert named in lines[0] and "--datum" in lines[0] and "Traceback" not in err
    assert lines[0].startswith("导入失败 / import failed: 文件声明的坐标系无法识别")
    assert not store.has_table(square_store, "incidents")  # nothing stored as WGS84

    # Said with --datum, the coordinates are taken as that datum.
    assert run_import("incidents", path, data_dir=square_store, datum="wgs84") == 0
    stored = store.read_table(square_store, "incidents")
    assert stored[["lng", "lat"]].values.round(6).tolist() == [[107.73, 31.35]]


def test_a_known_crs_is_still_read_from_the_file(tmp_path):
    frame = _frame().to_crs("EPSG:4545")  # CGCS2000 Gauss–Krüger 3° zone 108 E
    path = tmp_path / "gk.gpkg"
    frame.to_file(path, driver="GPKG")
    from geodata.readers import read_file

    result = read_file(path)
    assert result.crs == "EPSG:4545" and result.crs_unknown is None


def test_labels_and_usability():
    assert usable_name("EPSG:4490") == "EPSG:4490"
    assert usable_name("urn:ogc:def:crs:OGC:1.3:CRS84") is not None
    assert usable_name("EPSG:99999") is None
    assert unusable(None) is None and unusable("EPSG:4326") is None
    assert unusable(UNKNOWN_PRJ) == "Nowhere_Grid"
    assert crs_label({"id": {"authority": "EPSG", "code": 99999}}) == "EPSG:99999"
    assert crs_label("x" * 200).endswith("…") and len(crs_label("x" * 200)) == 81
