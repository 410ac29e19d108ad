"""Datum maths: published known answers, exact round trips, and the CRS plumbing."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import CRS, Geod, Transformer

from geodata import datum
from geodata.datum import (
    DatumError,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    is_known_datum,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")
CENTIMETRE = 0.01
MILLIMETRE = 0.001
XUANHAN = (107.73, 31.35)  # county seat, WGS84 lng/lat


def metres(lng1, lat1, lng2, lat2) -> np.ndarray:
    """Geodesic distance on WGS84, so tolerances are in metres, not degrees."""
    return np.asarray(GEOD.inv(lng1, lat1, lng2, lat2)[2])


# --- known answers from published sources -------------------------------------------------

# googollee/eviltransform, python/test.py (also go/transform_test.go, javascript/test.js):
# (wgsLat, wgsLng, gcjLat, gcjLng), printed at full float precision by the reference code.
EVILTRANSFORM_WGS_GCJ = [
    pytest.param(31.1774276, 121.5272106, 31.17530398364597, 121.531541859215, id="shanghai"),
    pytest.param(22.543847, 113.912316, 22.540796131694766, 113.9171764808363, id="shenzhen"),
    pytest.param(39.911954, 116.377817, 39.91334545536069, 116.38404722455657, id="beijing"),
]


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_matches_eviltransform(wgs_lat, wgs_lng, gcj_lat, gcj_lng):
    lng, lat = wgs84_to_gcj02(wgs_lng, wgs_lat)
    # Same published formula, so agreement to float noise (1e-9° is 0.1 mm).
    assert lng == pytest.approx(gcj_lng, abs=1e-9)
    assert lat == pytest.approx(gcj_lat, abs=1e-9)


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_recovers_eviltransform_origin(wgs_lat, wgs_lng, gcj_lat, gcj_lng):
    lng, lat = gcj02_to_wgs84(gcj_lng, gcj_lat)
    assert metres(lng, lat, wgs_lng, wgs_lat) < CENTIMETRE


def test_coordtransform_readme_forward_examples():
    # wandergis/coordtransform README, "result" block for the input (116.404, 39.915).
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-9
    )
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-9
    )


def test_aliyun_documented_gcj02_to_bd09():
    # Alibaba Cloud address purification, TransferCoord API example (help.aliyun.com,
    # "coordinate-system-conversion"): GCJ02 120.026268,30.279164 -> BD09 120.032768,30.285238,
    # published to 6 decimals, hence a tolerance of half a unit in the last place.
    lng, lat = gcj02_to_bd09(120.026268, 30.279164)
    assert lng == pytest.approx(120.032768, abs=5e-7)
    assert lat == pytest.approx(30.285238, abs=5e-7)


@pytest.mark.parametrize(
    ("forward", "published_inverse", "original"),
    [
        # coordtransform README: gcj02towgs84(116.404, 39.915), the one-step inverse.
        pytest.param(
            wgs84_to_gcj02,
            (116.39775550083061, 39.91359571849836),
            (116.404, 39.915),
            id="coordtransform-gcj02towgs84",
        ),
        # coordtransform README: bd09togcj02(116.404, 39.915), Baidu's one-step inverse.
        pytest.param(
            gcj02_to_bd09,
            (116.39762729119315, 39.90865673957631),
            (116.404, 39.915),
            id="coordtransform-bd09togcj02",
        ),
        # Aliyun TransferCoord example: its WGS84 for GCJ02 120.026268,30.279164.
        pytest.param(
            wgs84_to_gcj02,
            (120.021519, 30.281543),
            (120.026268, 30.279164),
            id="aliyun-gcj02-to-wgs84",
        ),
    ],
)
def test_published_one_step_inverses_miss_the_centimetre(forward, published_inverse, original):
    """Widely published inverses do not map back onto their input; ours do."""
    lng, lat = forward(*published_inverse)
    assert metres(lng, lat, *original) > CENTIMETRE
    inverse = gcj02_to_wgs84 if forward is wgs84_to_gcj02 else bd09_to_gcj02
    lng, lat = forward(*inverse(*original))
    assert metres(lng, lat, *original) < CENTIMETRE


def test_naive_one_step_inverse_is_metres_off_somewhere_in_china():
    """The iteration matters: the usual ``gcj - offset(gcj)`` misses by metres."""
    lng, lat = (a.ravel() for a in np.meshgrid(np.arange(73.0, 135.1, 2.0), np.arange(18.0, 53.1)))
    gcj_lng, gcj_lat = wgs84_to_gcj02(lng, lat)
    shifted_lng, shifted_lat = wgs84_to_gcj02(gcj_lng, gcj_lat)
    naive_lng = gcj_lng - (shifted_lng - gcj_lng)
    naive_lat = gcj_lat - (shifted_lat - gcj_lat)
    assert metres(naive_lng, naive_lat, lng, lat).max() > 1.0
    exact_lng, exact_lat = gcj02_to_wgs84(gcj_lng, gcj_lat)
    assert metres(exact_lng, exact_lat, lng, lat).max() < CENTIMETRE


def test_xuanhan_gcj02_shift_is_hundreds_of_metres():
    # DOMAIN.md: a point in the wrong datum lands 300–700 m off.
    lng, lat = wgs84_to_gcj02(*XUANHAN)
    assert 300.0 < metres(lng, lat, *XUANHAN) < 700.0


# --- round trips ---------------------------------------------------------------------------

china_points = st.lists(
    st.tuples(
        st.floats(min_value=73.0, max_value=135.0), st.floats(min_value=18.0, max_value=53.0)
    ),
    min_size=1,
    max_size=20,
)


@given(china_points)
def test_wgs84_gcj02_round_trip(points):
    lng, lat = np.array(points).T
    back_lng, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lng, lat))
    assert metres(back_lng, back_lat, lng, lat).max() < CENTIMETRE


@given(china_points)
def test_gcj02_bd09_round_trip(points):
    lng, lat = np.array(points).T
    back_lng, back_lat = bd09_to_gcj02(*gcj02_to_bd09(lng, lat))
    assert metres(back_lng, back_lat, lng, lat).max() < CENTIMETRE


@given(china_points)
def test_wgs84_bd09_round_trip(points):
    lng, lat = np.array(points).T
    back_lng, back_lat = bd09_to_wgs84(*wgs84_to_bd09(lng, lat))
    assert metres(back_lng, back_lat, lng, lat).max() < CENTIMETRE


@given(china_points)
def test_gcj02_inverse_then_forward_reproduces_input(points):
    """The other way round: every GCJ-02 point has a WGS84 preimage we find."""
    lng, lat = np.array(points).T
    again_lng, again_lat = wgs84_to_gcj02(*gcj02_to_wgs84(lng, lat))
    assert metres(again_lng, again_lat, lng, lat).max() < CENTIMETRE


# --- outside China -------------------------------------------------------------------------

OUTSIDE_CHINA = [
    pytest.param(139.6917, 35.6895, id="tokyo"),
    pytest.param(-0.1276, 51.5072, id="london"),
    pytest.param(151.2093, -33.8688, id="sydney"),
    pytest.param(72.003, 30.0, id="just-west-of-box"),
    pytest.param(100.0, 55.83, id="just-north-of-box"),
]


@pytest.mark.parametrize(("lng", "lat"), OUTSIDE_CHINA)
def test_outside_china_gcj02_equals_wgs84(lng, lat):
    """The published rule: outside lng 72.004..137.8347, lat 0.8293..55.8271, no offset."""
    assert wgs84_to_gcj02(lng, lat) == (lng, lat)
    assert gcj02_to_wgs84(lng, lat) == (lng, lat)


def test_just_inside_the_box_is_offset():
    lng, lat = wgs84_to_gcj02(72.005, 30.0)
    assert metres(lng, lat, 72.005, 30.0) > 100.0


# --- to_wgs84 / from_wgs84 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "forward"),
    [
        ("wgs84", None),
        ("WGS84", None),
        ("gcj02", wgs84_to_gcj02),
        ("GCJ02", wgs84_to_gcj02),
        ("bd09", wgs84_to_bd09),
        ("BD09", wgs84_to_bd09),
    ],
)
def test_to_wgs84_by_name(name, forward):
    x, y = XUANHAN if forward is None else forward(*XUANHAN)
    lng, lat = to_wgs84(x, y, name)
    assert metres(lng, lat, *XUANHAN) < CENTIMETRE
    assert metres(*from_wgs84(*XUANHAN, name), x, y) < CENTIMETRE


@pytest.mark.parametrize("name", ["cgcs2000", "CGCS2000", "EPSG:4490"])
def test_cgcs2000_is_within_centimetres_of_wgs84(name):
    lng, lat = to_wgs84(*XUANHAN, name)
    assert metres(lng, lat, *XUANHAN) < 0.05
    assert metres(*from_wgs84(*XUANHAN, name), *XUANHAN) < 0.05


@pytest.mark.parametrize(
    ("crs", "false_easting"), [("EPSG:4545", 500_000), ("EPSG:4524", 36_500_000)]
)
def test_gauss_kruger_to_wgs84_near_xuanhan(crs, false_easting):
    easting, northing = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(*XUANHAN)
    lng, lat = to_wgs84(easting, northing, crs)
    assert metres(lng, lat, *XUANHAN) < MILLIMETRE
    # Xuanhan lies ~26 km west of the 108°E central meridian.
    assert false_easting - 30_000 < easting < false_easting - 20_000
    assert str(int(easting)).startswith("36") == (crs == "EPSG:4524")


def _cgcs2000_meridian_arc(lat_deg: float) -> float:
    """Meridian arc length from the equator, integrated numerically (independent of PROJ)."""
    a, f = 6378137.0, 1 / 298.257222101  # CGCS2000 ellipsoid
    e2 = f * (2 - f)
    phi = np.linspace(0.0, np.radians(lat_deg), 200_001)
    return float(np.trapezoid(a * (1 - e2) / (1 - e2 * np.sin(phi) ** 2) ** 1.5, phi))


@pytest.mark.parametrize(
    ("crs", "false_easting"), [("EPSG:4545", 500_000), ("EPSG:4524", 36_500_000)]
)
def test_gauss_kruger_central_meridian_known_answer(crs, false_easting):
    """On 108°E the easting is the false easting and the northing the meridian arc (k0=1)."""
    northing = _cgcs2000_meridian_arc(31.35)
    lng, lat = to_wgs84(false_easting, northing, crs)
    assert metres(lng, lat, 108.0, 31.35) < MILLIMETRE
    east, north = from_wgs84(108.0, 31.35, crs)
    assert east == pytest.approx(false_easting, abs=MILLIMETRE)
    assert north == pytest.approx(northing, abs=MILLIMETRE)


def test_to_wgs84_accepts_esri_codes_and_crs_objects():
    # ESRI:102025 is Asia North Albers Equal Area Conic.
    x, y = Transformer.from_crs("EPSG:4326", "ESRI:102025", always_xy=True).transform(*XUANHAN)
    assert metres(*to_wgs84(x, y, "ESRI:102025"), *XUANHAN) < MILLIMETRE
    assert metres(*to_wgs84(x, y, CRS("ESRI:102025")), *XUANHAN) < MILLIMETRE


# --- errors, shapes, NaN ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["wgs-85", "EPSG:999999", "", "EPSG:5773"])
def test_unknown_datum_raises_naming_it(bad):
    with pytest.raises(DatumError, match=re.escape(repr(bad))) as info:
        to_wgs84(107.0, 31.0, bad)
    assert isinstance(info.value, ValueError)
    with pytest.raises(DatumError):
        from_wgs84(107.0, 31.0, bad)
    assert not is_known_datum(bad)


@pytest.mark.parametrize(
    "good", ["wgs84", "CGCS2000", "gcj02", "BD09", "EPSG:4545", "epsg:4524", "ESRI:102025"]
)
def test_is_known_datum(good):
    assert is_known_datum(good)


ALL_PAIRS = [
    wgs84_to_gcj02,
    gcj02_to_wgs84,
    gcj02_to_bd09,
    bd09_to_gcj02,
    wgs84_to_bd09,
    bd09_to_wgs84,
    lambda x, y: to_wgs84(x, y, "cgcs2000"),
    lambda x, y: from_wgs84(x, y, "EPSG:4545"),
]


@pytest.mark.parametrize("func", ALL_PAIRS)
def test_vectorised_shapes_and_dtype(func):
    lng = np.linspace(105.0, 110.0, 7)
    lat = np.linspace(29.0, 33.0, 7)
    x, y = func(lng, lat)
    assert x.shape == y.shape == (7,)
    assert x.dtype == y.dtype == np.float64
    x2, y2 = func(lng.reshape(7, 1), lat[:3])  # broadcasts like numpy
    assert x2.shape == y2.shape == (7, 3)
    xs, ys = func(float(lng[2]), float(lat[2]))
    assert xs.shape == ()
    assert (float(xs), float(ys)) == (x[2], y[2])
    xl, _ = func(list(lng), list(lat))
    np.testing.assert_array_equal(xl, x)


@pytest.mark.parametrize("func", ALL_PAIRS)
def test_nan_propagates(func):
    lng = np.array([107.7, np.nan, 107.8, 107.9])
    lat = np.array([31.3, 31.4, np.nan, 31.5])
    x, y = func(lng, lat)
    np.testing.assert_array_equal(np.isnan(x), [False, True, True, False])
    np.testing.assert_array_equal(np.isnan(y), [False, True, True, False])


def test_transformers_are_cached():
    datum._transformer.cache_clear()
    to_wgs84(500_000.0, 3_470_000.0, "EPSG:4545")
    to_wgs84(500_000.0, 3_470_000.0, "EPSG:4545")
    info = datum._transformer.cache_info()
    assert (info.misses, info.hits) == (1, 1)
