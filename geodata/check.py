"""What a data directory holds and what each layer still needs: ``python -m geodata check``.

One page, before or after a first import: each table with its rows, time range, the datums
its files were imported from and the points outside the area; the cubes, and whether they
are older than the tables they were built from; then each map layer, ready or with what
it lacks (a table to import, the cubes to build). The layers' needs are the registry's
(:attr:`layers.registry.LayerSpec.reads`), given by the caller, so this module reads files
only and knows nothing of the layers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl
import shapely

from geodata import store
from geodata.cubes.sources import FileSource
from geodata.schema import DATASETS, dataset
from geodata.validate import load_area

# The tables a data directory may hold, in the order a bureau imports them.
ORDER: Final = ("area", "precincts", "grids", "incidents", "patrol_fixes", "communities",
                "response_units", "population")  # fmt: skip
# What a cube is built from.
CUBE_SOURCES: Final[dict[str, str]] = {
    "cube:incidents": "incidents",
    "cube:patrol": "patrol_fixes",
    "cube:visits": "patrol_fixes",
}
_CUBE_FILES: Final[dict[str, str]] = {
    "cube:incidents": "incidents.parquet",
    "cube:patrol": "patrol.parquet",
    "cube:visits": "visits.parquet",
}
# The cells of the grids, a cache the dashboard fills itself when the build left none.
DERIVED: Final = frozenset({"cube:cells"})
OPTIONAL: Final = frozenset({"precincts", "grids"})
"""Read by every layer, but a layer draws without them (its precinct columns empty)."""


@dataclass
class TableState:
    """One table of the data directory."""

    kind: str
    rows: int = 0
    present: bool = False
    time_range: tuple[str, str] | None = None
    outside: int | None = None  # points outside the area (None: not checked)
    datums: tuple[str, ...] = ()  # of the files imported into it (the manifest's log)


@dataclass
class Inventory:
    """What :func:`inventory` found."""

    data_dir: Path
    synthetic: bool | None
    tables: dict[str, TableState] = field(default_factory=dict)
    cubes: dict[str, bool] = field(default_factory=dict)
    cubes_built: str | None = None
    stale: tuple[str, ...] = ()  # tables changed since the cubes were built

    def has(self, read: str) -> bool:
        """Whether what a layer ``read``\\ s is there (a cube: built, and from a table)."""
        if read in _CUBE_FILES:  # built, and from rows (the build writes empty cubes too)
            return self.cubes.get(read, False) and self.has(CUBE_SOURCES[read])
        state = self.tables.get(read)
        return state is not None and state.present and state.rows > 0


def inventory(data_dir: Path | str, *, describe: bool = True) -> Inventory:
    """Read what ``data_dir`` holds (tables, cubes, the manifest's import log); without
    ``describe`` only which tables and cubes exist and their rows (no time ranges, no
    points tested against the area: instant, for an import's summary)."""
    data_dir = Path(data_dir)
    manifest = store.read_manifest(data_dir) if (data_dir / store.MANIFEST).exists() else {}
    out = Inventory(data_dir, manifest.get("synthetic"))
    imports = manifest.get("imports", [])
    area = (
        load_area(data_dir, buffer_m=0) if describe and store.has_table(data_dir, "area") else None
    )
    for kind in ORDER:
        state = TableState(kind, present=store.has_table(data_dir, kind))
        state.datums = tuple(dict.fromkeys(str(e.get("datum")) for e in imports
                                           if e.get("kind") == kind and e.get("rows_stored")))  # fmt: skip
        if state.present and describe:
            _describe(data_dir, state, area.geometry if area is not None else None)
        elif state.present:
            path = store.table_path(data_dir, kind)
            state.rows = int(pl.scan_parquet(path).select(pl.len()).collect().item())
        out.tables[kind] = state
    cubes = store.cubes_dir(data_dir)
    out.cubes = {name: (cubes / file).exists() for name, file in _CUBE_FILES.items()}
    meta_path = cubes / "meta.json"
    if meta_path.exists():
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
        out.cubes_built = meta.get("built_at")
        out.stale = tuple(_stale(data_dir, meta.get("sources", {})))
    return out


def _describe(data_dir: Path, state: TableState, area: shapely.Geometry | None) -> None:
    schema = dataset(state.kind)
    lf = pl.scan_parquet(store.table_path(data_dir, state.kind))
    names = lf.collect_schema().names()
    state.rows = int(lf.select(pl.len()).collect().item())
    times = [c.name for c in schema.columns if c.dtype == "datetime" and c.name in names]
    if times and state.rows:
        low, high = (
            lf.select(pl.col(times[0]).min().alias("low"), pl.col(times[0]).max().alias("high"))
            .collect()
            .row(0)
        )
        if low is not None:
            state.time_range = (f"{low:%Y-%m-%d %H:%M}", f"{high:%Y-%m-%d %H:%M}")
    if area is not None and schema.geometry == "point" and {"lng", "lat"} <= set(names):
        points = lf.select("lng", "lat").collect()
        inside = shapely.contains_xy(area, points["lng"].to_numpy(), points["lat"].to_numpy())
        state.outside = int((~inside).sum())


def _stale(data_dir: Path, sources: Mapping[str, Any]) -> list[str]:
    """Tables whose file differs from the one the cubes were built from (as the
    incremental build's ledger compares them: name, size, modification time)."""
    files = FileSource(data_dir)
    out = []
    for kind, seen in sources.items():
        if not isinstance(seen, dict) or "size" not in seen:
            continue
        try:
            now = files.fingerprint(kind)
        except OSError:
            out.append(kind)
            continue
        if {k: seen.get(k) for k in now} != now:
            out.append(kind)
    return out


def layer_needs(inv: Inventory, reads: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """What a layer reading ``reads`` lacks: (required, optional) — each a table to import
    or ``cubes`` to build."""
    required: list[str] = []
    optional: list[str] = []
    for read in reads:
        if read in DERIVED or inv.has(read):
            continue
        source = CUBE_SOURCES.get(read, read)
        need = "cubes" if read in _CUBE_FILES and inv.has(source) else source
        (optional if read in OPTIONAL else required).append(need)
    return list(dict.fromkeys(required)), list(dict.fromkeys(optional))


def render(inv: Inventory, layers: Mapping[str, tuple[tuple[str, str], tuple[str, ...]]]) -> str:
    """The page: ``layers`` maps a layer id to ((label zh, label en), its reads)."""
    kind_note = {True: "演示数据（合成）/ synthetic demo data", False: "真实数据 / real data"}
    lines = [
        f"数据目录 / data directory: {inv.data_dir}"
        + (f" — {kind_note[inv.synthetic]}" if inv.synthetic is not None else ""),
        "",
        "表 / tables (stored in WGS84, EPSG:4326; times in China Standard Time)",
    ]
    for kind, t in inv.tables.items():
        label = DATASETS[kind].label
        if not t.present:
            lines.append(f"  {kind:<15} {'缺 / missing':>15}  {label.zh} / {label.en}")
            continue
        parts = [f"{label.zh} / {label.en}"]
        if t.time_range:
            parts.append(f"{t.time_range[0]} – {t.time_range[1]}")
        if t.datums:
            parts.append("导入坐标系 / imported from " + ", ".join(t.datums))
        if t.outside is not None:
            parts.append(f"辖区外 / outside the area: {t.outside:,}")
        lines.append(f"  {kind:<15} {t.rows:>10,} 行 rows  " + "; ".join(parts))
    built = sum(inv.cubes.values())
    lines += ["", "立方 / cubes"]
    if not built:
        lines.append("  未生成 / not built: python -m geodata cubes --data DIR")
    else:
        have = ", ".join(n.split(":")[1] for n, ok in inv.cubes.items() if ok)
        lines.append(f"  {have}" + (f"; built {inv.cubes_built}" if inv.cubes_built else ""))
        if inv.stale:
            lines.append(
                f"  过期 / out of date: {', '.join(inv.stale)} changed since they were built; "
                "run python -m geodata cubes --data DIR"
            )
    lines += ["", "图层 / layers"]
    for layer, ((zh, en), reads) in layers.items():
        required, optional = layer_needs(inv, reads)
        status = ("✗ 缺 / needs " + ", ".join(required)) if required else "✓ 可用 / ready"
        if optional:
            status += (
                "（无 / without " + ", ".join(optional) + ": 辖区列为空 / no precinct or grid)"
            )
        lines.append(f"  {layer:<10} {zh} / {en}: {status}")
    return "\n".join(lines)


def layers_line(
    inv: Inventory, layers: Mapping[str, tuple[tuple[str, str], tuple[str, ...]]]
) -> str:
    """One line for an import's summary: the layers the data now allow, and what the
    others still need."""
    ready, waiting = [], []
    for (zh, _), reads in layers.values():
        required, _optional = layer_needs(inv, reads)
        if required:
            waiting.append(f"{zh} ({', '.join(required)})")
        else:
            ready.append(zh)
    line = "  图层 / layers: 可用 / ready: " + ("、".join(ready) or "-")
    if waiting:
        line += "；尚缺 / still need: " + "、".join(waiting)
    return line


def servable(inv: Inventory) -> bool:
    """Whether the dashboard can open the directory at all (an area, incidents, cubes)."""
    return inv.has("area") and inv.has("incidents") and inv.has("cube:incidents")


__all__ = [
    "Inventory",
    "TableState",
    "inventory",
    "layer_needs",
    "layers_line",
    "render",
    "servable",
]
