"""Command line of geodata: ``python -m geodata {import,demo,cubes,basemap,migrate} ...``.

Each subcommand lives in its own module; this file only parses arguments, so a user's
mistake ends in a one-line message and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from geodata.schema import DATASETS
from geodata.store import StoreError, cubes_dir, default_data_dir

DSN_ENV = "PNM_DSN"  # as geodata.postgis.DSN_ENV, without importing psycopg for the file store


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m geodata",
        description="Prevention-network map data: import, demo data set, hex cubes, PostGIS.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def data_dir(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument(
            "--data",
            type=Path,
            default=None,
            help="data directory (default: $PNM_DATA_DIR or ./data/demo)",
        )

    def database(cmd: argparse.ArgumentParser, what: str) -> None:
        cmd.add_argument(
            "--dsn",
            default=None,
            help=f"PostgreSQL/PostGIS connection string or URI {what} "
            "(default: $PNM_DSN; unset means the data directory)",
        )
        cmd.add_argument(
            "--schema",
            default=None,
            help="PostgreSQL schema of the tables (default: $PNM_DB_SCHEMA or pnm)",
        )

    imp = sub.add_parser("import", help="validate a file and store its good rows")
    imp.add_argument("kind", choices=sorted(DATASETS), help="which data set the file holds")
    imp.add_argument(
        "file", type=Path, help="CSV, .xlsx, GeoJSON, GeoPackage, zipped Shapefile or GeoParquet"
    )
    imp.add_argument(
        "--datum",
        default=None,
        help="datum of the coordinates: wgs84, cgcs2000, gcj02, bd09 or any CRS pyproj knows "
        "(e.g. EPSG:4545); default: the file's own CRS, else wgs84",
    )
    imp.add_argument(
        "--columns",
        type=Path,
        default=None,
        help="JSON or CSV mapping of file headers to schema columns",
    )
    data_dir(imp)
    imp.add_argument(
        "--replace", action="store_true", help="replace the stored table instead of appending to it"
    )
    imp.add_argument(
        "--layer", default=None, help="GeoPackage layer, Excel sheet or Shapefile inside a zip"
    )
    imp.add_argument(
        "--encoding", default=None, help="text encoding of a CSV or DBF (default: detected)"
    )
    imp.add_argument(
        "--tz",
        default=None,
        help="time zone of the times that do not say theirs: UTC, +08:00, Asia/Shanghai... "
        "(default: China Standard Time); times with a zone are always converted",
    )
    imp.add_argument(
        "--values",
        type=Path,
        default=None,
        help='JSON mapping of the file\'s values to codes, per column: {"category": {"其他": '
        '"other"}}; the summary of an import with unknown values writes a suggested one',
    )
    imp.add_argument(
        "--unknown",
        default=None,
        metavar="CODE",
        help="file the rows whose value is no code under CODE (e.g. other) instead of "
        "rejecting them",
    )
    imp.add_argument(
        "--unit-kind",
        default=None,
        help="the kind of every row of a patrol_fixes or response_units file without a kind "
        "column (e.g. police_car, red_armband)",
    )
    database(imp, "to store the good rows in (the rejects still go to --data)")

    demo = sub.add_parser("demo", help="build the synthetic Xuanhan demo data set")
    demo.add_argument(
        "--out",
        type=Path,
        default=None,
        help="data directory to write (default: $PNM_DATA_DIR or ./data/demo)",
    )
    demo.add_argument(
        "--seed", type=int, default=511722, help="random seed (the same seed gives the same data)"
    )
    demo.add_argument("--scale", choices=["small", "county", "large"], default="county")

    cubes = sub.add_parser("cubes", help="index incidents and patrol fixes into H3 hex cubes")
    data_dir(cubes)
    database(cubes, "to read incidents and fixes from (the cubes still go to --data)")
    cubes.add_argument(
        "--incremental",
        action="store_true",
        help="recompute only the days changed since the last partitioned build",
    )
    cubes.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="build on a Dask cluster: tcp://HOST:8786 of a scheduler, or 'local'",
    )
    cubes.add_argument(
        "--window-days",
        type=int,
        default=None,
        help="days per partition of a --dask build (default: 7)",
    )

    basemap = sub.add_parser(
        "basemap",
        help="render the area's land, precincts and names to basemap.mbtiles in the data dir",
    )
    data_dir(basemap)

    check = sub.add_parser(
        "check", help="what the data directory holds and what each map layer still needs"
    )
    data_dir(check)

    migrate = sub.add_parser("migrate", help="create or update the PostGIS tables")
    database(migrate, "of the database")
    return parser


def _basemap(data_dir: Path) -> Path:
    """The demo's basemap (township names) in a demo's directory, else the area's own."""
    from geodata.store import read_manifest
    from geodata.tiles.area_basemap import build_area_basemap

    if read_manifest(data_dir).get("generator") == "geodata.demo":
        from geodata.demo.build import build_basemap

        return build_basemap(data_dir)
    return build_area_basemap(data_dir)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _parser().parse_args(argv)
    dsn = getattr(args, "dsn", None) or os.environ.get(DSN_ENV) or None
    if args.command == "import":
        from geodata.importer import run_import

        code = run_import(
            args.kind,
            args.file,
            data_dir=args.data or default_data_dir(),
            datum=args.datum,
            columns=args.columns,
            replace=args.replace,
            layer=args.layer,
            encoding=args.encoding,
            dsn=dsn,
            db_schema=args.schema,
            tz=args.tz,
            unit_kind=args.unit_kind,
            values=args.values,
            unknown=args.unknown,
        )
        if code == 0 and dsn is None:
            print(_layers_line(args.data or default_data_dir()))
        return code
    try:
        if args.command == "demo":
            from geodata.demo import build_demo

            out = args.out or default_data_dir()
            build_demo(out, seed=args.seed, scale=args.scale, progress=True)
            print(f"演示数据已生成 / demo data written: {out}")
            return 0
        if args.command == "basemap":
            print(f"底图已生成 / basemap written: {_basemap(args.data or default_data_dir())}")
            return 0
        if args.command == "migrate":
            return _migrate(dsn, args.schema)
        if args.command == "check":
            return _check(args.data or default_data_dir())
        _cubes(args, dsn)
        return 0
    except (StoreError, OSError, ValueError, RuntimeError) as exc:
        print(f"失败 / failed: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


def _layer_needs() -> dict[str, tuple[tuple[str, str], tuple[str, ...]]]:
    """What each map layer reads (the registry's; the entry point joins the floors)."""
    from layers.registry import LAYERS, ZONES

    return {
        name: ((spec.label.zh, spec.label.en), (*ZONES, *spec.reads))
        for name, spec in LAYERS.items()
    }


def _layers_line(data_dir: Path) -> str:
    from geodata.check import inventory, layers_line

    return layers_line(inventory(data_dir, describe=False), _layer_needs())


def _check(data_dir: Path) -> int:
    """Print the page of :mod:`geodata.check`: 0 when the dashboard can open the
    directory, 1 when it lacks an area, incidents or their cube, 2 when it is no directory."""
    from geodata.check import inventory, render, servable

    if not data_dir.is_dir():
        print(f"失败 / failed: no data directory at {data_dir}", file=sys.stderr)
        return 2
    inv = inventory(data_dir)
    print(render(inv, _layer_needs()))
    return 0 if servable(inv) else 1


def _migrate(dsn: str | None, schema: str | None) -> int:
    from geodata.postgis import migrate

    if not dsn:
        print(
            f"失败 / failed: no database: give --dsn or set {DSN_ENV}",
            file=sys.stderr,
        )
        return 2
    applied = migrate(dsn, schema=schema)
    done = ", ".join(map(str, applied)) if applied else "none (up to date)"
    print(f"数据库已迁移 / database migrated: versions applied {done}")
    return 0


def _cubes(args: argparse.Namespace, dsn: str | None) -> None:
    from geodata.cubes import build_cubes
    from geodata.cubes.sources import source_for

    data = args.data or default_data_dir()
    source = source_for(data, dsn=dsn, schema=args.schema)
    if args.dask:
        from geodata.cubes.dask_build import DEFAULT_WINDOW_DAYS, build_cubes_dask, dask_client

        with dask_client(args.dask) as client:
            meta = build_cubes_dask(
                data,
                client,
                source=source,
                incremental=args.incremental,
                window_days=args.window_days or DEFAULT_WINDOW_DAYS,
                progress=True,
            )
    elif args.incremental:
        from geodata.cubes.refresh import refresh_cubes

        meta = refresh_cubes(data, source=source, window_days=args.window_days, progress=True)
    else:
        meta = build_cubes(data, source=source, progress=True)
    print(f"六边形数据立方已生成 / hex cubes written: {cubes_dir(data)} ({meta['seconds']} s)")


if __name__ == "__main__":
    sys.exit(main())
