"""PostGIS as the store, against the real PostgreSQL: migrations, writes and filtered
reads, imports, and cubes from PostGIS equal to cubes from the files.

Each test session works in a schema of its own (``pnm_test_<random>``), dropped at the
end, so runs never collide. ``PNM_TEST_DSN`` names the database (default: the local
``test`` database that ``scripts/setup.sh test`` prepares).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import polars as pl
import psycopg
import pytest
import shapely
from psycopg import sql

from geodata import store
from geodata.__main__ import main
from geodata.cubes import build_cubes, load_meta
from geodata.cubes.dask_build import build_cubes_dask, dask_client
from geodata.cubes.refresh import refresh_cubes
from geodata.postgis import PgError, PgSource, migrate, read_table_pg, write_table_pg
from geodata.schema import DATASETS
from tests.geodata.conftest import SQUARE
from tests.geodata.partition_data import (
    CUT,
    assert_same_cubes,
    copy_store,
    fixes_frame,
    hard_fixes,
    incidents_frame,
)

pytestmark = pytest.mark.db

DSN = os.environ.get("PNM_TEST_DSN", "host=127.0.0.1 dbname=test")


@pytest.fixture(scope="session")
def schemas() -> Iterator[list[str]]:
    """Names handed out this session; all dropped at its end."""
    made: list[str] = []
    yield made
    with psycopg.connect(DSN, autocommit=True) as conn:
        for name in made:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def schema(schemas: list[str]) -> str:
    """A fresh, migrated schema."""
    name = f"pnm_test_{secrets.token_hex(4)}"
    schemas.append(name)
    assert migrate(DSN, schema=name) == [1]
    return name


@pytest.fixture(scope="module")
def demo_schema(schemas: list[str], demo_small: Path) -> str:
    """A schema holding every table of the small demo data set, in file order."""
    name = f"pnm_test_{secrets.token_hex(4)}"
    schemas.append(name)
    migrate(DSN, schema=name)
    for kind in DATASETS:
        if store.has_table(demo_small, kind):
            write_table_pg(DSN, kind, store.read_table(demo_small, kind), schema=name)
    return name


def query(text: str | sql.Composed, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(DSN) as conn:
        return [tuple(r) for r in conn.execute(text, params).fetchall()]  # type: ignore[arg-type]


def select(what: str, schema: str, table: str, order: str = "") -> sql.Composed:
    """``SELECT what FROM schema.table [ORDER BY order]`` with quoted names."""
    tail = sql.SQL(" ORDER BY {}").format(sql.Identifier(order)) if order else sql.SQL("")
    return sql.SQL("SELECT {} FROM {}{}").format(sql.SQL(what), sql.Identifier(schema, table), tail)


# --------------------------------------------------------------------------- migrations


def test_migrations_are_repeatable(schema: str) -> None:
    assert migrate(DSN, schema=schema) == []
    assert query(select("version", schema, "schema_version")) == [(1,)]


def test_tables_have_the_schema_types_geometries_and_indexes(schema: str) -> None:
    geoms = dict(
        (table, (kind, srid))
        for table, kind, srid in query(
            "SELECT f_table_name, type, srid FROM geometry_columns WHERE f_table_schema = %s",
            schema,
        )
    )
    assert geoms == {
        "area": ("MULTIPOLYGON", 4326),
        "precincts": ("MULTIPOLYGON", 4326),
        "grids": ("MULTIPOLYGON", 4326),
        "communities": ("POINT", 4326),
        "incidents": ("POINT", 4326),
        "patrol_fixes": ("POINT", 4326),
        "response_units": ("POINT", 4326),
    }
    types = dict(
        query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'incidents'",
            schema,
        )
    )
    assert types == {
        "fid": "bigint",
        "incident_id": "text",
        "time": "timestamp without time zone",
        "lng": "double precision",
        "lat": "double precision",
        "category": "text",
        "severity": "bigint",
        "source": "text",
        "geom": "USER-DEFINED",
    }
    indexes = {
        (table, name.split("_")[-1], method)
        for table, name, method in query(
            "SELECT t.relname, i.relname, am.amname FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_am am ON am.oid = i.relam JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = %s",
            schema,
        )
    }
    for table in geoms:
        assert (table, "gist", "gist") in indexes
    assert ("incidents", "time", "btree") in indexes
    assert ("patrol_fixes", "time", "btree") in indexes
    assert ("incidents", "key", "btree") in indexes  # UNIQUE (incident_id)


def test_points_get_their_geometry_from_lng_lat(schema: str) -> None:
    incidents = incidents_frame().head(2).to_pandas()
    write_table_pg(DSN, "incidents", incidents, schema=schema)
    got = query(select("ST_X(geom), ST_Y(geom)", schema, "incidents", "fid"))
    assert got == list(zip(incidents["lng"], incidents["lat"], strict=True))


# --------------------------------------------------------------------------- writes, reads


def test_tables_come_back_as_stored(demo_schema: str, demo_small: Path) -> None:
    for kind in ("incidents", "patrol_fixes", "communities", "response_units"):
        want = store.read_table(demo_small, kind)
        got = read_table_pg(DSN, kind, schema=demo_schema)
        pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False)
        assert got["lng"].dtype == "float64"
    grids = read_table_pg(DSN, "grids", schema=demo_schema)
    want = store.read_table(demo_small, "grids")
    assert isinstance(grids, gpd.GeoDataFrame) and grids.crs.to_epsg() == 4326
    assert (grids.geom_type == "MultiPolygon").all()
    assert shapely.equals(grids.geometry.values, want.geometry.values).all()
    assert grids["population"].dtype == "Int64"


def test_time_and_extent_filters(demo_schema: str, demo_small: Path) -> None:
    since, until = dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1)
    box = (107.5, 31.3, 107.8, 31.6)
    got = read_table_pg(
        DSN,
        "incidents",
        since=since,
        until=until,
        bbox=box,
        columns=["incident_id"],
        schema=demo_schema,
    )
    inc = store.read_table(demo_small, "incidents")
    want = inc[
        (inc["time"] >= since)
        & (inc["time"] < until)
        & inc["lng"].between(box[0], box[2])
        & inc["lat"].between(box[1], box[3])
    ]
    assert 0 < len(got) < len(inc)
    assert got["incident_id"].tolist() == want["incident_id"].tolist()
    precincts = read_table_pg(
        DSN, "precincts", bbox=(107.6, 31.2, 107.65, 31.25), schema=demo_schema
    )
    everything = store.read_table(demo_small, "precincts")
    touching = everything[everything.intersects(shapely.box(107.6, 31.2, 107.65, 31.25).envelope)]
    assert set(touching["precinct_id"]) <= set(precincts["precinct_id"])
    assert len(precincts) < len(everything)


def test_a_refused_write_changes_nothing(schema: str) -> None:
    incidents = incidents_frame().to_pandas()
    write_table_pg(DSN, "incidents", incidents.head(3), schema=schema)
    with pytest.raises(PgError, match="incident_id"):
        write_table_pg(DSN, "incidents", incidents.head(5), schema=schema)  # 3 ids again
    assert len(read_table_pg(DSN, "incidents", schema=schema)) == 3


def test_reading_before_migrating_says_what_to_do() -> None:
    with pytest.raises(PgError, match="geodata migrate"):
        read_table_pg(DSN, "incidents", schema=f"pnm_test_{secrets.token_hex(4)}")


# --------------------------------------------------------------------------- cubes


def test_cubes_from_postgis_equal_cubes_from_files(
    demo_schema: str, demo_small: Path, tmp_path: Path
) -> None:
    files = copy_store(demo_small, tmp_path / "files")
    build_cubes(files)
    from_pg = tmp_path / "pg"
    meta = build_cubes(from_pg, source=PgSource(DSN, demo_schema))
    assert meta["sources"]["patrol_fixes"]["table"] == f"{demo_schema}.patrol_fixes"
    assert_same_cubes(from_pg, files)


def test_incremental_refresh_from_postgis(schema: str, tmp_path: Path) -> None:
    fixes, incidents = fixes_frame(hard_fixes()), incidents_frame()
    source = PgSource(DSN, schema)
    write_table_pg(
        DSN, "patrol_fixes", fixes.filter(pl.col("time") < CUT).to_pandas(), schema=schema
    )
    write_table_pg(
        DSN, "incidents", incidents.filter(pl.col("time") < CUT).to_pandas(), schema=schema
    )
    data = tmp_path / "cubes-from-pg"
    assert refresh_cubes(data, source=source)["partitions"]["mode"] == "full"
    write_table_pg(
        DSN, "patrol_fixes", fixes.filter(pl.col("time") >= CUT).to_pandas(), schema=schema
    )
    write_table_pg(
        DSN, "incidents", incidents.filter(pl.col("time") >= CUT).to_pandas(), schema=schema
    )
    meta = refresh_cubes(data, source=source)
    assert meta["partitions"]["recomputed_days"] == {"incidents": 3, "patrol_fixes": 4}
    assert meta["partitions"]["digest"] == "postgres-hash_record_extended"
    once = tmp_path / "one-pass"
    build_cubes(once, source=source)
    assert_same_cubes(data, once)


# --------------------------------------------------------------------------- command line


def test_import_into_postgis(
    schema: str, tmp_path: Path, write_text, capsys: pytest.CaptureFixture[str]
) -> None:
    area = gpd.GeoDataFrame(
        {"code": ["999999"], "name": ["测试区"]}, geometry=[SQUARE], crs="EPSG:4326"
    )
    area_file = tmp_path / "area.geojson"
    area.to_file(area_file, driver="GeoJSON")
    local = tmp_path / "local"
    common = ["--dsn", DSN, "--schema", schema, "--data", str(local)]
    assert main(["import", "area", str(area_file), *common]) == 0
    csv = write_text(
        "jq.csv",
        "警情编号,发生时间,经度,纬度,警情类别\n"
        "A1,2025-03-01 10:00:00,107.7,31.3,盗窃\n"
        "A2,2025-03-01 11:00:00,107.8,31.4,诈骗\n"
        "A3,2025-03-01 12:00:00,108.5,31.4,盗窃\n",  # outside the square
    )
    assert main(["import", "incidents", str(csv), *common]) == 0
    out = capsys.readouterr().out
    assert f"{schema}.incidents" in out
    stored = read_table_pg(DSN, "incidents", schema=schema)
    assert stored["incident_id"].tolist() == ["A1", "A2"]
    assert stored["category"].tolist() == ["theft", "fraud"]
    rejects = list((local / "rejects").glob("incidents-*.csv"))
    assert len(rejects) == 1 and "A3" in rejects[0].read_text(encoding="utf-8-sig")
    assert not store.has_table(local, "incidents")  # the file store is not written
    # The same file again: every row is refused (ids stored, or outside): exit 1.
    assert main(["import", "incidents", str(csv), *common]) == 1
    entries = [r[0] for r in query(select("entry", schema, "import_log", "id"))]
    assert [(e["kind"], e["rows_stored"]) for e in entries] == [  # type: ignore[index]
        ("area", 1),
        ("incidents", 2),
        ("incidents", 0),
    ]
    assert json.dumps(entries[2]).count("duplicate_id") == 1


def test_migrate_command(
    schemas: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"pnm_test_{secrets.token_hex(4)}"
    schemas.append(name)
    assert main(["migrate", "--dsn", DSN, "--schema", name]) == 0
    assert "versions applied 1" in capsys.readouterr().out
    monkeypatch.setenv("PNM_DSN", DSN)
    monkeypatch.setenv("PNM_DB_SCHEMA", name)
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["migrate", "--schema", "Bad-Name"]) == 2
    assert "schema name" in capsys.readouterr().err
    monkeypatch.delenv("PNM_DSN")
    assert main(["migrate"]) == 2
    assert "PNM_DSN" in capsys.readouterr().err
    assert main(["migrate", "--dsn", "host=127.0.0.1 port=1 dbname=nowhere password=secret"]) == 2
    err = capsys.readouterr().err
    assert "cannot connect" in err and "secret" not in err and len(err.splitlines()) == 1


def test_cubes_command_reads_postgis_when_pnm_dsn_is_set(
    demo_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PNM_DSN", DSN)
    monkeypatch.setenv("PNM_DB_SCHEMA", demo_schema)
    data = tmp_path / "cubes"
    assert main(["cubes", "--data", str(data)]) == 0
    assert load_meta(data)["sources"]["incidents"]["table"] == f"{demo_schema}.incidents"
    assert main(["cubes", "--data", str(data), "--incremental"]) == 0
    assert load_meta(data)["partitions"]["source"] == "postgis"


def test_dask_tasks_read_their_days_from_postgis(
    demo_schema: str, demo_small: Path, tmp_path: Path
) -> None:
    files = copy_store(demo_small, tmp_path / "files")
    build_cubes(files)
    data = tmp_path / "dask-from-pg"
    with dask_client("local", workers=2, processes=False) as client:
        meta = build_cubes_dask(data, client, source=PgSource(DSN, demo_schema), window_days=7)
    assert meta["partitions"]["source"] == "postgis"
    assert_same_cubes(data, files)
