"""The export page's choices: options of every control, each explained for a planner.

Layers with their descriptions, resolutions with their edge length (finer than the map
draws a layer: disabled), the area (county or "my jurisdiction", precincts, grids, the map
view), coordinate systems and formats in plain words (GeoJSON disabled outside WGS84).
"""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard import pagestate
from dashboard.datasource import View
from dashboard.downloads import Viewer
from dashboard.i18n import t
from dashboard.views.export import AREAS, ExportRequest, format_title, max_res, min_res
from geodata.writers import CRS_CHOICES, FORMATS
from layers.export import LAYERS, RESOLUTIONS

WGS84 = "EPSG:4326"


def human_size(n: int) -> str:
    """Bytes for people: ``"812 B"``, ``"3.4 KB"``, ``"15.0 MB"``."""
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def option(title: str, note: str) -> html.Span:
    return html.Span(
        [html.Span(title, className="pnm-export-option"), html.Span(note, className="pnm-note")],
        className="pnm-export-choice",
    )


def section(label: str, target: str, *children: Any) -> html.Section:
    return html.Section([html.Label(label, htmlFor=target), *children])


def res_options(layers: list[str] | None, lang: str) -> list[dict[str, Any]]:
    """Resolutions with their edge length; those finer or coarser than the chosen layers
    allow are disabled."""
    finest = min((max_res(n) for n in layers or () if n in LAYERS), default=RESOLUTIONS[-1])
    coarsest = max((min_res(n) for n in layers or () if n in LAYERS), default=RESOLUTIONS[0])
    return [
        {
            "value": r,
            "label": t("resolution_option", lang, res=r, edge=pagestate.EDGE_LENGTH[r]),
            "disabled": r > finest or r < coarsest,
        }
        for r in RESOLUTIONS
    ]


def format_options(crs: str | None, lang: str) -> list[dict[str, Any]]:
    """The formats, each explained; GeoJSON disabled for a CRS other than WGS84."""
    return [
        {
            "value": key,
            "label": option(format_title(key, lang), t(f"fmt_{key}", lang)),
            "disabled": key == "geojson" and (crs or WGS84) != WGS84,
        }
        for key in FORMATS
    ]


def crs_options(lang: str) -> list[dict[str, Any]]:
    """The coordinate systems, each explained in plain words."""
    return [
        {"value": key, "label": option(f"{c.en if lang == 'en' else c.zh} · {key}",
                                        t(f"crs_{key}", lang))}
        for key, c in CRS_CHOICES.items()
    ]  # fmt: skip


def area_options(request: ExportRequest, viewer: Viewer, lang: str) -> list[dict[str, Any]]:
    """County (or the user's jurisdiction), precincts, grids and, when known, the map view."""
    county = (
        t("export_area_county", lang)
        if viewer.scope is None
        else t("export_area_scope", lang, n=len(viewer.scope))
    )
    labels = {
        "county": county,
        "precincts": t("export_area_precincts", lang),
        "grids": t("export_area_grids", lang),
    }
    options: list[dict[str, Any]] = [{"value": a, "label": labels[a]} for a in AREAS[:3]]
    if request.bbox is not None:
        south, west, north, east = (f"{v:.3f}" for v in request.bbox)
        text = t("export_view_text", lang, south=south, west=west, north=north, east=east)
        options.append({"value": "view", "label": option(t("export_area_view", lang), text)})
    return options


def place_options(source: View, viewer: Viewer, lang: str) -> tuple[list[Any], list[Any]]:
    """The precincts and grids the user may choose, labelled with their names and ids."""
    paren = "{}（{}）" if lang == "zh" else "{} ({})"
    precincts, grids = source.precincts, source.grids
    names: dict[str, str] = {}
    p_opts: list[dict[str, str]] = []
    if len(precincts):
        for pid, name in sorted(zip(precincts["precinct_id"].astype(str), precincts["name"].astype(str), strict=True)):  # fmt: skip
            names[pid] = name
            if viewer.scope is None or pid in viewer.scope:
                p_opts.append({"value": pid, "label": paren.format(name, pid)})
    g_opts: list[dict[str, str]] = []
    if len(grids):
        rows = zip(grids["grid_id"].astype(str), grids["name"].astype(str),
                   grids["precinct_id"].astype(str), strict=True)  # fmt: skip
        for gid, name, pid in sorted(rows):
            if viewer.scope is None or pid in viewer.scope:
                label = paren.format(f"{name} · {names.get(pid, pid)}", gid)
                g_opts.append({"value": gid, "label": label})
    return p_opts, g_opts
