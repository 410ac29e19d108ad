"""The map page at ``/``: boundaries, incident heat on H3 hexagons, filters and legend.

The outlines travel once, inside the layout. The hex layer travels as cell ids with
values and classes (a ``dcc.Store``); ``window.pnm.buildHexes`` turns them into polygons in
the browser and ``window.pnm.hexStyle`` colours them from the layer's ``hideout``.
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
import pandas as pd
from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html
from dash_extensions.javascript import Namespace

from dashboard import ids
from dashboard.cache import LayerCache
from dashboard.components.header import header
from dashboard.components.legend import legend_view, outline_legend
from dashboard.datasource import WINDOW_DAYS, DataSource
from dashboard.heat_view import (
    DEFAULT_RES,
    EDGE_LENGTH,
    RESOLUTIONS,
    incident_heat_view,
    resolve_res,
)
from dashboard.i18n import category_options, note_text, t
from dashboard.settings import Settings

PATH = "/"
AUTO = "auto"

pnm = Namespace("pnm")

EMPTY = {"type": "FeatureCollection", "features": []}

# Line styles of the outline layers, matching .pnm-line-* in assets/pnm.css.
AREA_STYLE = {"color": "#1f2937", "weight": 2.5, "fill": False}
PRECINCT_STYLE = {"color": "#374151", "weight": 1.4, "fill": False}
GRID_STYLE = {"color": "#6b7280", "weight": 0.6, "opacity": 0.8, "fill": False}
LAND_STYLE = {"fill": True, "fillColor": "#ffffff", "fillOpacity": 1.0}


def _resolution_options(lang: str) -> list[dict[str, Any]]:
    options: list[dict[str, Any]] = [
        {"value": AUTO, "label": t("resolution_auto", lang, res=DEFAULT_RES)}
    ]
    options += [
        {"value": res, "label": t("resolution_option", lang, res=res, edge=EDGE_LENGTH[res])}
        for res in RESOLUTIONS
    ]
    return options


def _base_layers(settings: Settings, source: DataSource) -> list[Any]:
    """Basemap, hexagons, outlines, bottom to top; the area's shape is sent once."""
    outlines = source.outlines
    area = dl.GeoJSON(
        id=ids.AREA_OUTLINE,
        data=outlines["area"],
        style=AREA_STYLE if settings.tile_url else {**AREA_STYLE, **LAND_STYLE},
        interactive=False,
    )
    if settings.tile_url:
        base: list[Any] = [
            dl.TileLayer(url=settings.tile_url, attribution=settings.tile_attribution or None)
        ]
        top = [area]
    else:
        # Offline vector basemap: the area as white land on the page's light background,
        # its outline drawn with it (precinct outlines on top repeat the border anyway).
        base = [dl.Pane(area, name=ids.PANE_LAND)]
        top = []
    hexes = dl.GeoJSON(
        id=ids.HEX_LAYER,
        data=EMPTY,
        style=pnm("hexStyle"),
        onEachFeature=pnm("onEachHex"),
        hideout={"colours": []},
    )
    grids = dl.GeoJSON(
        id=ids.GRID_OUTLINE, data=outlines["grids"], style=GRID_STYLE, interactive=False
    )
    precincts = dl.GeoJSON(
        id=ids.PRECINCT_OUTLINE, data=outlines["precincts"], style=PRECINCT_STYLE, interactive=False
    )
    return [
        *base,
        dl.Pane(hexes, name=ids.PANE_HEXES),
        dl.Pane([grids, precincts, *top], name=ids.PANE_OUTLINES),
    ]


def _centre(bounds: list[list[float]]) -> list[float]:
    (south, west), (north, east) = bounds
    return [(south + north) / 2, (west + east) / 2]


def layout(
    *, source: DataSource, settings: Settings, lang: str, pathname: str, search: str | None
) -> html.Div:
    """The map page in ``lang``."""
    since, until = source.window
    last_day = until - pd.Timedelta(days=1)  # the window is half-open
    sidebar = html.Aside(
        [
            html.Section(
                [
                    html.H2(t("window", lang)),
                    html.P(
                        [
                            html.Span(t("window_days", lang, days=WINDOW_DAYS)),
                            html.Br(),
                            html.Span(
                                t(
                                    "window_range",
                                    lang,
                                    since=since.strftime("%Y-%m-%d"),
                                    until=last_day.strftime("%Y-%m-%d"),
                                ),
                                className="pnm-nowrap",
                            ),
                        ],
                        className="pnm-window",
                    ),
                ]
            ),
            html.Section(
                [
                    html.Label(t("categories", lang), htmlFor=ids.CATEGORY_FILTER),
                    dcc.Dropdown(
                        id=ids.CATEGORY_FILTER,
                        options=category_options(lang),
                        value=[],
                        multi=True,
                        placeholder=t("all_categories", lang),
                        searchable=False,
                    ),
                ]
            ),
            html.Section(
                [
                    html.Label(t("resolution", lang), htmlFor=ids.RESOLUTION),
                    dcc.Dropdown(
                        id=ids.RESOLUTION,
                        options=_resolution_options(lang),
                        value=AUTO,
                        clearable=False,
                        searchable=False,
                    ),
                ]
            ),
            html.P(id=ids.SUMMARY, className="pnm-summary"),
        ],
        className="pnm-sidebar",
    )
    map_view = dl.MapContainer(
        _base_layers(settings, source),
        id=ids.MAP,
        bounds=source.bounds,
        # dash-leaflet 1.1.3 tracks the viewport against `center` and fails without one;
        # with no `zoom` it still opens on `bounds`.
        center=_centre(source.bounds),
        preferCanvas=True,
        attributionControl=bool(settings.tile_url),
        zoomSnap=0.25,
        className="pnm-map",
    )
    legend_box = html.Div(
        [html.Div(id=ids.LEGEND, className="pnm-legend-heat"), outline_legend(lang=lang)],
        className="pnm-legend",
        title=t("legend", lang),
    )
    return html.Div(
        [
            dcc.Store(id=ids.LANG, data=lang),
            dcc.Store(id=ids.HEX_DATA),
            header(
                lang=lang,
                area_name=source.area_name,
                synthetic=source.synthetic,
                note=note_text(source.manifest.get("note"), lang),
                pathname=pathname,
                search=search,
            ),
            html.Div(
                [sidebar, html.Main([map_view, legend_box], className="pnm-main")],
                className="pnm-body",
            ),
        ],
        className="pnm-page",
        lang="zh-CN" if lang == "zh" else "en",
    )


def update_heat(
    source: DataSource,
    layer_cache: LayerCache,
    *,
    categories: list[str] | None,
    resolution: object,
    lang: str,
) -> tuple[dict[str, Any], dict[str, Any], list[Any], str]:
    """What the hex-layer callback returns: payload, hideout, legend children, summary."""
    res = resolve_res(resolution)
    wanted = sorted(categories or [])
    params = {"version": source.version, "res": res, "categories": wanted, "lang": lang}
    view = layer_cache.get_or_compute(
        "incident_heat",
        params,
        lambda: incident_heat_view(source, res=res, categories=wanted, lang=lang),
    )
    summary = (
        t("heat_summary", lang, cells=f"{view['cells']:,}", total=f"{view['total']:,}")
        if view["cells"]
        else t("heat_empty", lang)
    )
    return view["payload"], view["hideout"], legend_view(view["legend"], lang=lang), summary


def register_callbacks(app: Dash, source: DataSource, layer_cache: LayerCache) -> None:
    """Wire the map page's callbacks into ``app``."""

    @app.callback(
        Output(ids.HEX_DATA, "data"),
        Output(ids.HEX_LAYER, "hideout"),
        Output(ids.LEGEND, "children"),
        Output(ids.SUMMARY, "children"),
        Input(ids.CATEGORY_FILTER, "value"),
        Input(ids.RESOLUTION, "value"),
        State(ids.LANG, "data"),
    )
    def _heat(
        categories: list[str] | None, resolution: object, lang: str
    ) -> tuple[dict[str, Any], dict[str, Any], list[Any], str]:
        return update_heat(
            source, layer_cache, categories=categories, resolution=resolution, lang=lang
        )

    app.clientside_callback(
        ClientsideFunction(namespace="pnm", function_name="buildHexes"),
        Output(ids.HEX_LAYER, "data"),
        Input(ids.HEX_DATA, "data"),
    )
