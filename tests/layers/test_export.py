"""Export assembly (layers.export) and the batch command line (python -m layers export).

Runs on the small demo data set with its cubes. Known answers come from outside the code
under test: the raw incidents table, ``h3.cell_to_boundary``, ``pyproject.toml``, the
dashboard's own colour constants, and GDAL reading the files back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import h3
import pandas as pd
import pyogrio
import pytest

from geodata.audit import audit_path
from geodata.export_inputs import ExportInputs, load_export_inputs
from geodata.writers import CRS_CHOICES, FORMATS
from layers.__main__ import main
from layers.export import LAYERS, build_export, cell_zones, export_window
from layers.export.styles import GREENS, REACH_COLOURS

ROOT = Path(__file__).resolve().parents[2]
RES = 8
WINDOW = ("2026-10-01", "2026-11-01")


@pytest.fixture(scope="module")
def inputs(demo_with_cubes: Path) -> ExportInputs:
    return load_export_inputs(
        demo_with_cubes, cubes=["incidents", "patrol", "visits"], snapshot=True
    )


@pytest.fixture(scope="module")
def data_copy(demo_with_cubes: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo with cubes, so the audit log written here stays here."""
    out = tmp_path_factory.mktemp("export-cli") / "data"
    shutil.copytree(demo_with_cubes, out)
    return out


def _window(inputs: ExportInputs) -> tuple[pd.Timestamp, pd.Timestamp]:
    return export_window(inputs, *WINDOW)


# --- assembly ------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", list(LAYERS))
def test_every_layer_assembles_cells_values_classes_and_metadata(
    inputs: ExportInputs, layer: str
) -> None:
    bundle = build_export(inputs, layer=layer, res=RES, since=WINDOW[0], until=WINDOW[1])
    frame = bundle.frame
    assert bundle.features > 0
    assert list(frame.columns[:4]) == ["h3_cell", "h3_res", "precinct_id", "grid_id"]
    assert list(frame.columns[-3:]) == ["class", "class_zh", "class_en"]
    assert [f.name for f in bundle.fields] == list(frame.columns)
    assert all(h3.is_valid_cell(c) and h3.get_resolution(c) == RES for c in frame["h3_cell"])
    assert frame["h3_cell"].is_unique
    styled = {c.value for c in bundle.style.classes}
    assert set(frame["class"].tolist()) <= styled
    assert (frame["class_zh"].str.len() > 0).all() and (frame["class_en"].str.len() > 0).all()
    meta = bundle.metadata
    version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert meta["software"]["version"] == version
    assert meta["layer"] == layer and meta["h3_resolution"] == RES
    assert meta["synthetic"] is True
    assert meta["features"] == bundle.features
    assert meta["created_at"].endswith("+08:00")
    if layer != "response_reach":
        assert meta["time_window"]["since"] == "2026-10-01T00:00:00"
        assert meta["time_window"]["until"] == "2026-11-01T00:00:00"
    json.dumps(meta)  # plain JSON


def test_hexagons_are_the_cells_boundaries(inputs: ExportInputs) -> None:
    bundle = build_export(inputs, layer="incidents", res=RES, since=WINDOW[0], until=WINDOW[1])
    for cell, geom in zip(bundle.frame["h3_cell"][:50], bundle.geometry[:50], strict=True):
        expected = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
        assert list(geom.exterior.coords)[:-1] == expected


def test_incident_counts_add_up_to_the_raw_incidents_in_the_window(
    inputs: ExportInputs, demo_with_cubes: Path
) -> None:
    raw = pd.read_parquet(demo_with_cubes / "incidents.parquet", columns=["time", "category"])
    since, until = _window(inputs)
    in_window = raw[(raw["time"] >= since) & (raw["time"] < until)]
    bundle = build_export(inputs, layer="incidents", res=RES, since=WINDOW[0], until=WINDOW[1])
    assert int(bundle.frame["count"].sum()) == len(in_window)
    thefts = build_export(
        inputs, layer="incidents", res=RES, since=WINDOW[0], until=WINDOW[1], categories=["theft"]
    )
    assert int(thefts.frame["count"].sum()) == int((in_window["category"] == "theft").sum())


def test_a_precinct_export_is_the_county_rows_of_that_precinct(inputs: ExportInputs) -> None:
    county = build_export(inputs, layer="hotspots", res=RES, since=WINDOW[0], until=WINDOW[1])
    precinct = str(county.frame["precinct_id"].dropna().iloc[0])
    part = build_export(
        inputs, layer="hotspots", res=RES, since=WINDOW[0], until=WINDOW[1], precincts=[precinct]
    )
    assert (part.frame["precinct_id"] == precinct).all()
    expected = county.frame[county.frame["precinct_id"] == precinct].reset_index(drop=True)
    pd.testing.assert_frame_equal(part.frame, expected)
    assert part.metadata["area"]["precincts"] == [precinct]


def test_the_county_is_every_cell_of_the_grids(inputs: ExportInputs) -> None:
    zones = cell_zones(inputs, res=RES)
    reach = build_export(inputs, layer="response_reach", res=RES)
    assert reach.frame["h3_cell"].tolist() == [format(int(c), "x") for c in zones["cell"]]
    assert zones["grid_id"].notna().all()


def test_unknown_names_are_refused_with_the_known_ones(inputs: ExportInputs) -> None:
    with pytest.raises(ValueError, match="unknown layer 'heat'; choose one of incidents"):
        build_export(inputs, layer="heat", res=RES)
    with pytest.raises(ValueError, match="unknown precinct id"):
        build_export(inputs, layer="incidents", res=RES, precincts=["nowhere"])
    with pytest.raises(ValueError, match="resolution must be one of"):
        build_export(inputs, layer="incidents", res=12)
    with pytest.raises(ValueError, match="unknown incident categories"):
        build_export(inputs, layer="incidents", res=RES, categories=["jaywalking"])


def test_styles_use_the_maps_colours() -> None:
    from layers.registry.frame import GREENS as MAP_GREENS
    from layers.registry.protection import REACH_COLOURS as MAP_REACH
    from layers.registry.protection import SHARE_CATEGORIES

    assert REACH_COLOURS == MAP_REACH
    assert tuple(MAP_GREENS) == GREENS
    assert [c.colour for c in SHARE_CATEGORIES[:5]] == list(GREENS)
    assert SHARE_CATEGORIES[5].colour == "#7b3294"  # title at risk


def test_hotspot_style_matches_the_map(inputs: ExportInputs) -> None:
    from layers.registry.incidents import HOTSPOT_COLOURS

    bundle = build_export(inputs, layer="hotspots", res=RES, since=WINDOW[0], until=WINDOW[1])
    by_code = {
        code: bundle.style.classes[int(k)].colour
        for code, k in zip(bundle.frame["class_code"], bundle.frame["class"], strict=True)
    }
    for code, colour in by_code.items():
        if code != "not_significant":
            assert colour == HOTSPOT_COLOURS[code]


def test_safe_community_classes_follow_the_map(inputs: ExportInputs) -> None:
    bundle = build_export(inputs, layer="safe_community", res=RES, since=WINDOW[0], until=WINDOW[1])
    frame = bundle.frame
    assert (frame.loc[frame["at_risk"] > 0, "class"] == 5).all()
    no_hh = frame["certified_share"].isna() & (frame["at_risk"] == 0)
    assert (frame.loc[no_hh, "class"] == 6).all()
    full = (frame["certified_share"] > 0.75) & (frame["at_risk"] == 0)
    assert (frame.loc[full, "class"] == 4).all()


# --- the command line ----------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_every_layer_format_and_crs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "layers", "export", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    for name in [*LAYERS, *FORMATS, *CRS_CHOICES]:
        assert name in done.stdout


def test_cli_exports_and_logs_each_export_once(
    data_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = audit_path(data_copy)
    before = log.read_bytes() if log.exists() else b""
    out = tmp_path / "reach.zip"
    code, printed, err = _run(
        capsys,
        "export",
        "--layer", "response_reach",
        "--res", str(RES),
        "--format", "shp",
        "--crs", "EPSG:4545",
        "--out", str(out),
        "--data", str(data_copy),
        "--user", "规划员",
    )  # fmt: skip
    assert code == 0, err
    frame = pyogrio.read_dataframe(f"/vsizip/{out}")
    assert f"exported {len(frame):,} features" in printed
    assert (
        frame["class_zh"]
        .isin(["1分钟内（自救）", "1–3分钟（互救）", "3–5分钟（专业救）", "超过5分钟"])
        .all()
    )
    with zipfile.ZipFile(out) as zf:
        meta = json.loads(zf.read("response_reach.metadata.json"))
    assert meta["crs"]["key"] == "EPSG:4545" and meta["field_names"]["nearest_unit"] == "near_unit"

    middle = log.read_bytes()
    assert middle.startswith(before)
    event = json.loads(middle[len(before) :].decode())
    assert event["user"] == "规划员" and event["action"] == "export"
    assert event["layers"] == ["response_reach"] and event["features"] == len(frame)
    assert event["format"] == "shp" and event["crs"] == "EPSG:4545"
    assert event["out"] == str(out.resolve())

    code, _, err = _run(
        capsys,
        "export",
        "--layer", "incidents",
        "--layer", "safe_community",
        "--res", str(RES),
        "--format", "gpkg",
        "--crs", "GCJ-02",
        "--out", str(tmp_path / "two.gpkg"),
        "--data", str(data_copy),
        "--since", WINDOW[0],
        "--until", WINDOW[1],
    )  # fmt: skip
    assert code == 0, err
    after = log.read_bytes()
    assert after.startswith(middle)  # earlier lines untouched
    lines = after[len(middle) :].decode().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["layers"] == ["incidents", "safe_community"]
    listed = subprocess.run(
        ["ogrinfo", "-ro", "-so", str(tmp_path / "two.gpkg")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "incidents" in listed and "safe_community" in listed


def test_cli_exports_the_gap_layer_named_after_the_precinct_with_the_maps_filters(
    data_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    code, printed, err = _run(
        capsys,
        "export",
        "--layer", "gaps",
        "--res", str(RES),
        "--format", "shp",
        "--crs", "EPSG:4490",
        "--out", str(folder),
        "--precinct", "511722001",
        "--kind", "police_car",
        "--data", str(data_copy),
        "--since", WINDOW[0],
        "--until", WINDOW[1],
        "--user", "规划员",
    )  # fmt: skip
    assert code == 0, err
    (out,) = folder.iterdir()
    assert str(out) in printed
    precincts = pd.read_parquet(data_copy / "precincts.parquet")
    name = precincts.set_index("precinct_id").loc["511722001", "name"]
    assert out.name == f"{name}-511722001-gaps-res{RES}-20261001-20261031-EPSG4490.zip"
    frame = pyogrio.read_dataframe(f"/vsizip/{out}/gaps.shp")
    assert len(frame) and (frame["precinct"] == "511722001").all()
    assert {"gap", "gap_class", "risk", "protect", "p_patrol", "reason_zh"} <= set(frame.columns)
    with zipfile.ZipFile(out) as zf:
        meta = json.loads(zf.read("gaps.metadata.json"))
    assert meta["parameters"]["unit_kinds"] == ["police_car"]
    event = json.loads(audit_path(data_copy).read_text("utf-8").splitlines()[-1])
    assert event["layers"] == ["gaps"] and event["features"] == len(frame)
    assert str(out.resolve()) == event["out"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layer", "heat"], "unknown layer 'heat'"),
        (["--format", "kml"], "unknown format 'kml'"),
        (["--crs", "EPSG:9999"], "unknown CRS 'EPSG:9999'"),
        (["--precinct", "nowhere"], "unknown precinct id(s) nowhere"),
        (["--format", "geojson", "--crs", "EPSG:4545"], "GeoJSON is WGS84"),
        (["--since", "2020-01-01", "--until", "2020-01-02"], "no features"),
        (["--since", "2026-11-02", "--until", "2026-11-01"], "must end after it starts"),
    ],
)
def test_cli_mistakes_are_one_line_and_logged_nowhere(
    data_copy: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    log = audit_path(data_copy)
    before = log.read_bytes() if log.exists() else b""
    base = {
        "--layer": "incidents",
        "--res": str(RES),
        "--format": "gpkg",
        "--crs": "EPSG:4326",
        "--out": str(tmp_path / "x.gpkg"),
        "--data": str(data_copy),
    }
    given = dict(zip(args[::2], args[1::2], strict=True))
    argv = ["export"]
    for key, value in {**base, **given}.items():
        argv += [key, value]
    code, _out, err = _run(capsys, *argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert (log.read_bytes() if log.exists() else b"") == before
    assert not (tmp_path / "x.gpkg").exists()


def test_cli_unwritable_path_is_one_line(
    data_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = _run(
        capsys,
        "export",
        "--layer", "incidents",
        "--res", str(RES),
        "--format", "csv",
        "--crs", "EPSG:4326",
        "--out", str(blocker / "x.csv"),
        "--data", str(data_copy),
    )  # fmt: skip
    assert code == 2 and "cannot write" in err and len(err.strip().splitlines()) == 1


def test_cli_missing_data_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(
        capsys,
        "export",
        "--layer", "incidents",
        "--res", "8",
        "--format", "csv",
        "--crs", "EPSG:4326",
        "--out", str(tmp_path / "x.csv"),
        "--data", str(tmp_path / "nothing"),
    )  # fmt: skip
    assert code == 2 and "no data directory" in err
