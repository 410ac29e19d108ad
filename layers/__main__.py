"""Command line of layers: ``python -m layers export ...`` — batch exports for planners.

It is the edge where files are touched: :func:`geodata.export_inputs.load_export_inputs`
reads the data directory, :func:`layers.export.build_export` assembles the layer with
the map's functions, :func:`geodata.writers.write_export` writes it, and
:func:`geodata.audit.record` logs who exported what. A user's mistake ends in one line
and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from geodata.audit import AuditError, record
from geodata.export_inputs import ExportInputs, load_export_inputs
from geodata.schema import UNIT_KINDS
from geodata.store import StoreError, default_data_dir
from geodata.writers import (
    CRS_CHOICES,
    FORMATS,
    ExportError,
    check_combination,
    export_crs,
    export_format,
    write_export,
)
from layers.classify import SCHEMES
from layers.export import (
    DEFAULT_WINDOW_DAYS,
    LAYERS,
    RESOLUTIONS,
    build_export,
    export_window,
    layer_spec,
)
from layers.export.naming import AreaName, export_name
from layers.export.styles import HEAT_SCHEME
from layers.registry import LAYERS as MAP_LAYERS
from layers.time_window import BANDS

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (and a pointer to --help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _epilog() -> str:
    layers = "\n".join(
        f"  {name:<16}{spec.title.zh} / {spec.title.en}" for name, spec in LAYERS.items()
    )
    formats = "\n".join(f"  {f.key:<16}{f.en} ({f.suffix})" for f in FORMATS.values())
    crss = "\n".join(f"  {c.key:<16}{c.en}" for c in CRS_CHOICES.values())
    return (
        f"layers:\n{layers}\n\nformats:\n{formats}\n\ncoordinate systems (--crs):\n{crss}\n\n"
        "Every export writes a QGIS style (<name>.qml) and its metadata (GeoPackage metadata "
        "tables, else <name>.metadata.json; inside the zip for a Shapefile), and is logged in "
        "<data>/audit/audit.log.\n"
        "example:\n  python -m layers export --layer hotspots --res 9 --format gpkg "
        "--crs EPSG:4545 --out hotspots.gpkg --precinct 511722001"
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m layers",
        description="Prevention-network map layers: export them for planners' GIS.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    exp = sub.add_parser(
        "export",
        help="write a layer to a GIS file",
        description="Export map layers per H3 cell, with the map's classes and colours.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    exp.add_argument(
        "--layer",
        action="append",
        required=True,
        metavar="NAME",
        help=f"layer to export ({', '.join(LAYERS)}); repeat for several tables in one gpkg",
    )
    exp.add_argument(
        "--res",
        type=int,
        required=True,
        metavar="N",
        help=f"H3 resolution ({RESOLUTIONS[0]}-{RESOLUTIONS[-1]}; 9 = hexagons of ~0.1 km²)",
    )
    exp.add_argument("--format", required=True, metavar="FMT", help=f"one of {', '.join(FORMATS)}")
    exp.add_argument("--crs", required=True, metavar="CRS", help=f"one of {', '.join(CRS_CHOICES)}")
    exp.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="FILE",
        help="file to write; an existing folder: a file in it named after the area, layers, "
        "resolution, window and CRS (e.g. 东乡派出所-511722001-gaps-res9-20261101-20261130-"
        "EPSG4490.gpkg)",
    )
    exp.add_argument(
        "--precinct",
        action="append",
        default=[],
        metavar="ID",
        help="keep cells in this precinct (repeatable); default: the whole county",
    )
    exp.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="ID",
        help="keep cells in this grid (repeatable)",
    )
    exp.add_argument(
        "--since",
        metavar="DATE",
        help=f"start of the window (inclusive); default: {DEFAULT_WINDOW_DAYS} days before --until",
    )
    exp.add_argument(
        "--until",
        metavar="DATE",
        help="end of the window (exclusive: --until 2026-12-01 ends at midnight before it); "
        "default: the day after the data's last day",
    )
    exp.add_argument(
        "--category",
        action="append",
        default=None,
        metavar="CODE",
        help="incident category code (repeatable; the layers the map filters by category); "
        "default: all",
    )
    exp.add_argument(
        "--kind",
        action="append",
        default=None,
        metavar="CODE",
        help=f"patrol unit kind (repeatable; {', '.join(UNIT_KINDS)}); default: all",
    )
    exp.add_argument(
        "--band",
        choices=["all", *BANDS],
        default="all",
        help="time of day of incidents and patrols, as the map's filter (default all)",
    )
    exp.add_argument(
        "--fdr",
        action="store_true",
        help="hot spots with the Benjamini-Hochberg false discovery rate correction",
    )
    exp.add_argument(
        "--scheme",
        choices=SCHEMES,
        default=HEAT_SCHEME,
        help=f"classification of incident counts, as on the map (default {HEAT_SCHEME})",
    )
    exp.add_argument("--lang", choices=["zh", "en"], default="zh", help="labels of the style")
    exp.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="data directory (default: $PNM_DATA_DIR or ./data/demo)",
    )
    exp.add_argument(
        "--user",
        default=None,
        metavar="NAME",
        help="who exports, for the audit log (default: login)",
    )
    return parser


def _user(given: str | None) -> str:
    if given and given.strip():
        return given.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def area_name(inputs: ExportInputs, precincts: list[str], grids: list[str]) -> AreaName:
    """The names and codes of the chosen precincts (or grids, or the county) for the file
    name."""
    kind, ids = ("precincts", precincts) if precincts else ("grids", grids)
    if ids:
        table = inputs.table(kind)
        id_col = f"{kind[:-1]}_id"
        known: dict[str, str] = {}
        if table is not None and "name" in table.columns:
            known = dict(zip(table[id_col].astype(str), table["name"].astype(str), strict=True))
        chosen = sorted(set(ids))
        return AreaName(tuple(known.get(i, "") for i in chosen), tuple(chosen))
    area = inputs.area_polygon()
    name = str(area["name"].iloc[0]) if area is not None and "name" in area and len(area) else ""
    code = str((inputs.manifest.get("area") or {}).get("code") or "")
    return AreaName((name,), (code,) if code else ())


def export(args: argparse.Namespace) -> int:
    """Run ``export``; return the exit code."""
    names = list(dict.fromkeys(args.layer))
    specs = [layer_spec(name) for name in names]
    fmt = export_format(args.format)
    crs = export_crs(args.crs)
    check_combination(fmt, crs, len(specs))
    data_dir = args.data or default_data_dir()
    tables = sorted({"area", "precincts", "grids", *(t for s in specs for t in s.tables)})
    cubes = sorted({c for s in specs for c in s.cubes} | {"incidents"})
    inputs = load_export_inputs(
        data_dir, tables=tables, cubes=["incidents"], snapshot=any(s.snapshot for s in specs)
    )
    since, until = export_window(inputs, args.since, args.until)
    large = [c for c in cubes if c != "incidents"]
    if large:  # the patrol cubes are big: read only the window
        more = load_export_inputs(
            data_dir,
            tables=(),
            cubes=large,
            since=since.to_pydatetime(),
            until=until.to_pydatetime(),
        )
        inputs = replace(inputs, cubes={**inputs.cubes, **more.cubes})
    bundles = [
        build_export(
            inputs,
            layer=name,
            res=args.res,
            since=since,
            until=until,
            precincts=args.precinct,
            grids=args.grid,
            categories=args.category if "cats" in MAP_LAYERS[spec.map_layer].filters else None,
            scheme=args.scheme,
            band=args.band if "band" in MAP_LAYERS[spec.map_layer].filters else None,
            unit_kinds=args.kind if "kinds" in MAP_LAYERS[spec.map_layer].filters else None,
            fdr=args.fdr and "fdr" in MAP_LAYERS[spec.map_layer].filters,
        )
        for name, spec in zip(names, specs, strict=True)
    ]
    empty = [b.layer for b in bundles if b.features == 0]
    if empty:
        raise ExportError(
            f"no features to export for {', '.join(empty)} in the chosen area and window"
        )
    out = args.out
    if out.is_dir():
        area = area_name(inputs, args.precinct, args.grid)
        out = out / export_name(
            area, names, res=args.res, since=since, until=until, crs=crs.key, suffix=fmt.suffix
        )
    written = write_export(bundles, out, fmt=fmt, crs=crs, lang=args.lang)
    first = bundles[0].metadata
    try:
        record(
            data_dir,
            user=_user(args.user),
            action="export",
            layers=list(written.layers),
            res=args.res,
            format=written.format,
            crs=written.crs,
            features=written.features,
            bytes=written.bytes,
            out=str(written.path.resolve()),
            files=[str(f.resolve()) for f in written.files],
            precincts=sorted(set(args.precinct)),
            grids=sorted(set(args.grid)),
            categories=args.category or "all",
            time_window=first.get("time_window"),
            synthetic=first.get("synthetic"),
        )
    except AuditError:
        # An export that cannot be logged must not stay behind.
        for f in written.files:
            f.unlink(missing_ok=True)
        raise
    per_layer = ", ".join(f"{b.layer} {b.features:,}" for b in bundles)
    print(
        f"已导出 / exported {written.features:,} features ({per_layer}), "
        f"{_size(written.bytes)}, {written.format}, {written.crs} -> {written.path}"
    )
    for extra in written.files[1:]:
        print(f"  + {extra.name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _parser().parse_args(argv)
    try:
        return export(args)
    except (ValueError, StoreError, OSError) as exc:
        print(f"导出失败 / export failed: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
