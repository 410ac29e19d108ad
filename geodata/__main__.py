"""Command line of geodata: ``python -m geodata {import,demo,cubes} ...``.

Each subcommand lives in its own module; this file only parses arguments, so a user's
mistake ends in a one-line message and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geodata.schema import DATASETS
from geodata.store import StoreError, cubes_dir, default_data_dir


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m geodata",
        description="Prevention-network map data: import, demo data set, hex cubes.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

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
    imp.add_argument(
        "--data",
        type=Path,
        default=None,
        help="data directory (default: $PNM_DATA_DIR or ./data/demo)",
    )
    imp.add_argument(
        "--replace", action="store_true", help="replace the stored table instead of appending to it"
    )
    imp.add_argument(
        "--layer", default=None, help="GeoPackage layer, Excel sheet or Shapefile inside a zip"
    )
    imp.add_argument(
        "--encoding", default=None, help="text encoding of a CSV or DBF (default: detected)"
    )

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
    cubes.add_argument(
        "--data",
        type=Path,
        default=None,
        help="data directory (default: $PNM_DATA_DIR or ./data/demo)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "import":
        from geodata.importer import run_import

        return run_import(
            args.kind,
            args.file,
            data_dir=args.data or default_data_dir(),
            datum=args.datum,
            columns=args.columns,
            replace=args.replace,
            layer=args.layer,
            encoding=args.encoding,
        )
    try:
        if args.command == "demo":
            from geodata.demo import build_demo

            out = args.out or default_data_dir()
            build_demo(out, seed=args.seed, scale=args.scale, progress=True)
            print(f"演示数据已生成 / demo data written: {out}")
            return 0
        from geodata.cubes import build_cubes

        data = args.data or default_data_dir()
        build_cubes(data, progress=True)
        print(f"六边形数据立方已生成 / hex cubes written: {cubes_dir(data)}")
        return 0
    except (StoreError, OSError, ValueError) as exc:
        print(f"失败 / failed: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
