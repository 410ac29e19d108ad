"""Assembling an export: a layer's table, its area, hexagons, metadata and style."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

import h3
import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.export_inputs import PROJECT, ExportInputs
from geodata.hexes import cells_to_polygons, cells_to_str
from geodata.schema import UNIT_KINDS
from geodata.writers.bundle import ExportBundle, FieldInfo
from layers.classify import SCHEMES, Scheme
from layers.export.catalogue import LayerSpec, Request
from layers.export.derived import LAYERS
from layers.export.fields import dbf_name, round_frame
from layers.export.styles import HEAT_SCHEME
from layers.grids import area_cells, zone_cells
from layers.incident_heat import last_days
from layers.registry import LAYERS as MAP_LAYERS
from layers.time_window import BANDS

DEFAULT_WINDOW_DAYS: Final = 30
"""Without ``since``/``until``: the last 30 days of the data, as on the map."""
RESOLUTIONS: Final = (6, 7, 8, 9, 10, 11)
CHINA_TZ: Final = dt.timezone(dt.timedelta(hours=8), "CST")

COMMON_FIELDS: Final = (
    FieldInfo("h3_cell", "H3 index", "H3六边形编号", "H3 cell", "H3 index (hexadecimal string)"),
    FieldInfo("h3_res", "resolution", "H3分辨率", "H3 resolution", ""),
    FieldInfo("precinct_id", "id", "派出所编号", "Precinct ID", "precinct holding the cell centre"),
    FieldInfo("grid_id", "id", "网格编号", "Grid ID", "grid holding the cell centre"),
)
CLASS_FIELDS: Final = (
    FieldInfo("class", "class", "分类", "Class", "legend class (the map's colour); -1 = no data"),
    FieldInfo("class_zh", "label", "分类（中文）", "Class label (zh)", ""),
    FieldInfo("class_en", "label", "分类（英文）", "Class label (en)", ""),
)


UNIT_COLUMNS: Final = ("nearest_unit",)
"""Export columns naming a response unit (by id): private to the unit's precinct, as the
map's :attr:`layers.registry.frame.LayerResult.private` columns are."""


def layer_spec(layer: str) -> LayerSpec:
    """The exportable layer called ``layer``; ValueError naming the known ones otherwise."""
    try:
        return LAYERS[layer]
    except KeyError:
        raise ValueError(f"unknown layer {layer!r}; choose one of {', '.join(LAYERS)}") from None


def resolutions_of(layer: str) -> tuple[int, ...]:
    """The resolutions ``layer`` can be exported at: those its map layer is drawn at for a
    layer the registry computes, else every export resolution up to the map's finest."""
    spec = layer_spec(layer)
    drawn = MAP_LAYERS[spec.map_layer]
    low = drawn.min_res if spec.snapshot else RESOLUTIONS[0]
    return tuple(r for r in RESOLUTIONS if low <= r <= drawn.max_res)


def _with_short(fields: Iterable[FieldInfo]) -> tuple[FieldInfo, ...]:
    """``fields`` with the Shapefile name of :data:`layers.export.fields.COLUMNS`."""
    return tuple(f if f.short else replace(f, short=dbf_name(f.name)) for f in fields)


def export_window(
    inputs: ExportInputs,
    since: pd.Timestamp | str | dt.date | None,
    until: pd.Timestamp | str | dt.date | None,
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The half-open window ``since <= t < until``; missing ends default to the last
    :data:`DEFAULT_WINDOW_DAYS` days of the incidents cube (the data's clock)."""
    start = None if since is None else pd.Timestamp(since)
    end = None if until is None else pd.Timestamp(until)
    if start is None or end is None:
        cube = inputs.cube("incidents")
        if cube is None or cube.empty:
            raise ValueError("give --since and --until: there is no incidents cube to date from")
        _, d_until = last_days(cube, days=DEFAULT_WINDOW_DAYS)
        if end is None:
            end = d_until if start is None else max(d_until, start + pd.Timedelta(days=1))
        if start is None:
            start = end - pd.Timedelta(days=DEFAULT_WINDOW_DAYS)
    if not start < end:
        raise ValueError(f"the window must end after it starts: {start} .. {end}")
    return start, end


def cell_zones(inputs: ExportInputs, *, res: int) -> pd.DataFrame:
    """Every cell of the county at ``res`` with the precinct and grid holding its centre.

    The county is what the map calls it: every cell whose centre lies in a grid (or,
    without grids, in a precinct; without precincts, in the area boundary).

    Returns
    -------
    pandas.DataFrame
        ``cell`` (uint64, sorted), ``precinct_id`` and ``grid_id`` (str; missing where
        unknown).
    """
    if inputs.zones is not None:  # the map's own zones, decided at build time
        return inputs.zones(res).sort_values("cell", kind="stable").reset_index(drop=True)
    grids = inputs.table("grids")
    precincts = inputs.table("precincts")
    if grids is not None and not grids.empty:
        keep = ("precinct_id",) if "precinct_id" in grids.columns else ()
        out = zone_cells(grids, res=res, id_col="grid_id", keep=keep)
    elif precincts is not None and not precincts.empty:
        out = zone_cells(precincts, res=res, id_col="precinct_id")
    else:
        area = inputs.area_polygon()
        if area is None or area.empty:
            raise ValueError("the data directory has no area boundary")
        out = pd.DataFrame({"cell": area_cells(area.geometry.union_all(), res=res)})
    result = pd.DataFrame({"cell": out["cell"].to_numpy(dtype=np.uint64)})
    for id_col in ("precinct_id", "grid_id"):
        values = out[id_col].astype(str).to_numpy(dtype=object) if id_col in out else None
        result[id_col] = pd.array(
            values if values is not None else [None] * len(result), dtype="str"
        )
    return result.sort_values("cell", kind="stable").reset_index(drop=True)


def _check_ids(asked: Sequence[str], inputs: ExportInputs, kind: str, id_col: str) -> None:
    if not asked:
        return
    table = inputs.table(kind)
    known = set() if table is None else set(table[id_col].astype(str))
    unknown = sorted(set(asked) - known)
    if unknown:
        sample = ", ".join(sorted(known)[:5]) + (" ..." if len(known) > 5 else "")
        raise ValueError(
            f"unknown {kind[:-1]} id(s) {', '.join(unknown)}; known: {sample or 'none'}"
        )


def _labels(classes: npt.NDArray[np.int64], spec_style: Any) -> tuple[list[str], list[str]]:
    zh = {c.value: c.label_zh for c in spec_style.classes}
    en = {c.value: c.label_en for c in spec_style.classes}
    return [zh.get(int(c), "") for c in classes], [en.get(int(c), "") for c in classes]


def _band(band: str | None) -> str | None:
    if band in (None, "", "all"):
        return None
    if band not in BANDS:
        raise ValueError(f"unknown time-of-day band {band!r}; choose one of {', '.join(BANDS)}")
    return band


def _unit_kinds(kinds: Iterable[str] | None) -> tuple[str, ...] | None:
    chosen = tuple(sorted({str(k) for k in kinds})) if kinds is not None else ()
    unknown = [k for k in chosen if k not in UNIT_KINDS]
    if unknown:
        raise ValueError(f"unknown unit kinds: {', '.join(unknown)}")
    return chosen or None


def build_export(
    inputs: ExportInputs,
    *,
    layer: str,
    res: int,
    since: pd.Timestamp | str | dt.date | None = None,
    until: pd.Timestamp | str | dt.date | None = None,
    precincts: Iterable[str] = (),
    grids: Iterable[str] = (),
    categories: Iterable[str] | None = None,
    hotspot_k: int = 1,
    scheme: Scheme = HEAT_SCHEME,
    band: str | None = None,
    unit_kinds: Iterable[str] | None = None,
    fdr: bool = False,
    created_at: dt.datetime | None = None,
) -> ExportBundle:
    """Assemble one layer for export: rows per H3 cell, hexagons, metadata and style.

    The layer is computed for the whole county by the function the map uses, then the
    rows whose cell centre lies in the chosen precincts or grids are kept: a precinct's
    file holds exactly the county file's rows for that precinct (Gi* z-scores and class
    breaks included), so files and screens agree.

    Parameters
    ----------
    inputs : ExportInputs
        What :func:`geodata.export_inputs.load_export_inputs` read.
    layer : str
        A key of :data:`layers.export.LAYERS`.
    res : int
        H3 resolution, 6–11.
    since, until : Timestamp, str or date, optional
        The window, half-open (``since <= t < until``, China Standard Time). Missing ends:
        the last 30 days of the data.
    precincts, grids : iterable of str
        Keep the cells whose centre lies in these precincts or grids (their union);
        nothing given keeps the whole county.
    categories : iterable of str, optional
        Incident categories (incidents, hotspots); None keeps all.
    hotspot_k : int
        Gi* neighbourhood radius in grid steps.
    scheme : str
        Classification of the incident counts (the map's scheme; natural breaks).
    band : str, optional
        Time-of-day band of incidents and patrols (a key of
        :data:`layers.time_window.BANDS`), as the map's band filter; None: the whole day.
    unit_kinds : iterable of str, optional
        Patrol unit kinds (patrol coverage); None keeps all.
    fdr : bool
        Hot spots with the Benjamini–Hochberg false discovery rate correction.
    created_at : datetime, optional
        Time stamp of the export (default now, China Standard Time).

    Returns
    -------
    ExportBundle
        Columns ``h3_cell``, ``h3_res``, ``precinct_id``, ``grid_id``, the layer's values
        rounded by their kind (:data:`layers.export.fields.ROUNDING`), ``class``,
        ``class_zh``, ``class_en``; WGS84 hexagons; metadata; style; each field with its
        Shapefile name.

    Raises
    ------
    ValueError
        For an unknown layer, resolution, precinct, grid or category, a window that ends
        before it starts, or data the layer needs and the directory lacks.
    """
    spec = layer_spec(layer)
    if res not in RESOLUTIONS:
        raise ValueError(
            f"H3 resolution must be one of {', '.join(map(str, RESOLUTIONS))}, got {res}"
        )
    allowed = resolutions_of(layer)
    if spec.snapshot and res not in allowed:
        raise ValueError(
            f"layer {layer} is drawn at H3 resolutions {allowed[0]}-{allowed[-1]}, not {res}"
        )
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    start, end = export_window(inputs, since, until)
    chosen_precincts = sorted({str(p) for p in precincts})
    chosen_grids = sorted({str(g) for g in grids})
    _check_ids(chosen_precincts, inputs, "precincts", "precinct_id")
    _check_ids(chosen_grids, inputs, "grids", "grid_id")

    zones = cell_zones(inputs, res=res)
    request = Request(
        res=res,
        since=start,
        until=end,
        area_cells=zones["cell"].to_numpy(dtype=np.uint64),
        categories=tuple(categories) if categories is not None else None,
        hotspot_k=hotspot_k,
        scheme=scheme,
        band=_band(band),
        unit_kinds=_unit_kinds(unit_kinds),
        fdr=bool(fdr),
    )
    table = spec.compute(inputs, request)
    frame = table.frame.sort_values("cell", kind="stable").reset_index(drop=True)
    cells = frame["cell"].to_numpy(dtype=np.uint64)
    lookup = zones.set_index("cell")
    precinct = lookup["precinct_id"].reindex(cells).to_numpy(dtype=object)
    grid = lookup["grid_id"].reindex(cells).to_numpy(dtype=object)
    if chosen_precincts or chosen_grids:
        keep = (
            pd.Series(precinct).isin(chosen_precincts).to_numpy()
            | pd.Series(grid).isin(chosen_grids).to_numpy()
        )
        frame, cells = frame[keep].reset_index(drop=True), cells[keep]
        precinct, grid = precinct[keep], grid[keep]

    classes = frame["class"].to_numpy(dtype=np.int64)
    label_zh, label_en = _labels(classes, table.style)
    values = [f.name for f in table.fields]
    out = pd.DataFrame(
        {
            "h3_cell": pd.array(cells_to_str(cells), dtype="str"),
            "h3_res": np.full(cells.size, res, dtype=np.int64),
            "precinct_id": pd.array(precinct, dtype="str"),
            "grid_id": pd.array(grid, dtype="str"),
        }
    )
    for name in values:
        out[name] = (
            frame[name].to_numpy()
            if not isinstance(frame[name].dtype, pd.api.extensions.ExtensionDtype)
            else frame[name].array
        )
    out["class"] = classes
    out["class_zh"] = pd.array(label_zh, dtype="str")
    out["class_en"] = pd.array(label_en, dtype="str")
    out = round_frame(out)  # each value as what it means (layers.export.fields.ROUNDING)
    fields = _with_short((*COMMON_FIELDS, *table.fields, *CLASS_FIELDS))

    moment = created_at or dt.datetime.now(CHINA_TZ)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_TZ)
    metadata = _metadata(
        inputs,
        spec,
        table.parameters,
        res=res,
        window=(start, end) if table.windowed else None,
        precincts=chosen_precincts,
        grids=chosen_grids,
        created_at=moment,
        features=len(out),
    )
    return ExportBundle(
        layer=spec.name,
        frame=out,
        geometry=cells_to_polygons(cells),
        fields=fields,
        metadata=metadata,
        style=table.style,
    )


def _metadata(
    inputs: ExportInputs,
    spec: LayerSpec,
    parameters: dict[str, Any],
    *,
    res: int,
    window: tuple[pd.Timestamp, pd.Timestamp] | None,
    precincts: list[str],
    grids: list[str],
    created_at: dt.datetime,
    features: int,
) -> dict[str, Any]:
    manifest = inputs.manifest
    area = inputs.area_polygon()
    area_name = (
        str(area["name"].iloc[0]) if area is not None and "name" in area and len(area) else ""
    )
    return {
        "layer": spec.name,
        "title": {"zh": spec.title.zh, "en": spec.title.en},
        "description": {"zh": spec.description.zh, "en": spec.description.en},
        "h3_resolution": res,
        "parameters": parameters,
        "area": {
            "name": area_name,
            "code": (manifest.get("area") or {}).get("code"),
            "selection": "county" if not (precincts or grids) else "precincts/grids",
            "precincts": precincts,
            "grids": grids,
            "rule": "a cell belongs to the precinct or grid that holds its centre",
        },
        "time_window": None
        if window is None
        else {
            "since": window[0].isoformat(),
            "until": window[1].isoformat(),
            "rule": "half-open: since <= time < until",
            "timezone": "China Standard Time (UTC+8), naive",
        },
        "data_time_range": manifest.get("time_range") or inputs.cube_meta.get("time_range"),
        "created_at": created_at.isoformat(timespec="seconds"),
        "software": {"name": PROJECT, "version": inputs.software_version, "h3": h3.__version__},
        "synthetic": inputs.synthetic,
        "data_note": manifest.get("note"),
        "features": features,
        "geometry": (
            "H3 cell boundaries (h3 cellToBoundary) in WGS84, each vertex converted to the "
            "export CRS; edges are straight lines between the converted vertices"
        ),
    }


def hide_units(
    bundle: ExportBundle,
    unit_precincts: Mapping[str, str | None],
    scope: Collection[str],
    *,
    label: str,
) -> ExportBundle:
    """``bundle`` as a user of the precincts ``scope`` may read it: a unit of another
    precinct (or of none, or unknown) in a :data:`UNIT_COLUMNS` column is written
    ``label`` — the map's :data:`layers.registry.frame.OTHER_PRECINCT` in the file's
    language — so a chief's file names no unit the chief's map does not.

    The unit still counts (a neighbour's unit does reach the cell): only its name goes.
    """
    columns = [c for c in UNIT_COLUMNS if c in bundle.frame.columns]
    if not columns:
        return bundle
    allowed = set(scope)
    frame = bundle.frame.copy()
    for column in columns:
        values = frame[column].to_numpy(dtype=object)
        own = np.asarray(
            [pd.isna(v) or unit_precincts.get(str(v)) in allowed for v in values], dtype=bool
        )
        frame.loc[~own, column] = label
    metadata = {
        **dict(bundle.metadata),
        "private": {c: f"units of other precincts are written {label!r}" for c in columns},
    }
    return replace(bundle, frame=frame, metadata=metadata)
