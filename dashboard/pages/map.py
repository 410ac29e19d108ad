"""The map page at ``/``: layers on H3 hexagons, filters, playback, legend, search, side panel.

The outlines travel once, inside the layout. A layer travels as cell ids with values (a
``dcc.Store``), only for the cells in view at the resolution the zoom asks for;
``window.pnm.buildHexes`` hands them to ``window.pnm.hexLayer``, which builds the hexagons
in the browser, paints them on one canvas and colours them from the layer's ``hideout``, so
a new classification or highlight repaints without resending cells. The whole view lives in the URL (:mod:`dashboard.viewstate`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

import dash_leaflet as dl
import h3
from dash import (
    ALL,
    ClientsideFunction,
    Dash,
    Input,
    Output,
    State,
    ctx,
    dcc,
    html,
    no_update,
)
from dash.exceptions import PreventUpdate
from dash_extensions.javascript import Namespace

from dashboard import ids, pagestate, tiles
from dashboard.cache import LayerCache
from dashboard.components import folds
from dashboard.components.gap_list import HIDDEN as GAP_LIST_HIDDEN
from dashboard.components.gap_list import SHOWN as GAP_LIST_SHOWN
from dashboard.components.gap_list import gap_list_box, gap_list_view
from dashboard.components.header import header, lang_href
from dashboard.components.layer_detail import gap_section, zone_coverage_section
from dashboard.components.legend import legend_view, outline_legend
from dashboard.components.panel import panel, panel_view
from dashboard.datasource import Resolver, View
from dashboard.i18n import category_options, kind_options, note_text, t
from dashboard.settings import Settings
from dashboard.views import LAYERS, LayerParams, layer_result, spec_of
from dashboard.views import gaps as gap_views
from dashboard.views import places as place_search
from dashboard.views.base import style, summary_text
from dashboard.views.detail import cell_detail, zones_of
from dashboard.views.export import export_href
from dashboard.views.labels import label_data
from dashboard.views.protection import patrol_zones, zone_coverage
from dashboard.viewstate import PLAY_STEPS, RESOLUTIONS, SCHEMES, ViewState, from_query
from geodata.hexes import cell_to_str, lnglat_to_cells
from layers.time_window import BANDS, PRESETS

PATH = "/"
AUTO = "auto"
# Drill-down: a click below this zoom flies to the precinct, below the next to the grid.
DRILL_PRECINCT_BELOW = 11
DRILL_GRID_BELOW = 13
PLAY_INTERVAL_MS = 1500

pnm = Namespace("pnm")

EMPTY = {"type": "FeatureCollection", "features": []}

# Line styles of the outline layers, matching .pnm-line-* in assets/pnm.css.
AREA_STYLE = {"color": "#1f2937", "weight": 2.5, "fill": False}
PRECINCT_STYLE = {"color": "#374151", "weight": 1.4, "fill": False}
GRID_STYLE = {"color": "#6b7280", "weight": 0.6, "opacity": 0.8, "fill": False}
LAND_STYLE = {"fill": True, "fillColor": "#ffffff", "fillOpacity": 1.0}
# The searched place: a blue outline, distinct from the dark dashed selected cell.
PLACE_STYLE = {"color": "#1d4ed8", "weight": 3.5, "fill": True, "fillOpacity": 0.06}


def _base_layers(settings: Settings, source: View, state: ViewState) -> list[Any]:
    """Basemap, hexagons, outlines and the selection, bottom to top; shapes sent once."""
    outlines = source.outlines
    basemap = tiles.basemap(settings)
    area = dl.GeoJSON(
        id=ids.AREA_OUTLINE,
        data=outlines["area"],
        style=AREA_STYLE if basemap.tiled else {**AREA_STYLE, **LAND_STYLE},
        interactive=False,
    )
    if basemap.tiled:
        base: list[Any] = [basemap.layer()]
        top = [area]
    else:
        # Offline vector basemap: the area as white land on the page's light background.
        base = [dl.Pane(area, name=ids.PANE_LAND)]
        top = []
    hexes = dl.GeoJSON(
        id=ids.HEX_LAYER,
        data=EMPTY,
        pointToLayer=pnm("hexLayer"),
        hideout={"colours": [], "breaks": None, "selected": state.cell},
        interactive=False,  # clicks go to the map, which drills down and selects
    )
    grids = dl.GeoJSON(
        id=ids.GRID_OUTLINE, data=outlines["grids"], style=GRID_STYLE, interactive=False
    )
    precincts = dl.GeoJSON(
        id=ids.PRECINCT_OUTLINE, data=outlines["precincts"], style=PRECINCT_STYLE, interactive=False
    )
    selection = dl.GeoJSON(
        id=ids.SELECTION_LAYER,
        data=EMPTY,
        style={"color": "#111827", "weight": 3, "fill": False, "dashArray": "4 3"},
        interactive=False,
    )
    return [
        *base,
        dl.Pane(hexes, name=ids.PANE_HEXES),
        dl.Pane([grids, precincts, *top], name=ids.PANE_OUTLINES),
        dl.Pane(selection, name=ids.PANE_SELECTION),
        dl.Pane(_name_layers(source), name=ids.PANE_LABELS),
    ]


def _name_layers(source: View) -> list[Any]:
    """The searched place's outline and the names of the scope's precincts, townships
    and grids (sent once, with the outlines)."""
    place = dl.GeoJSON(
        id=ids.PLACE_LAYER,
        data=EMPTY,
        style=PLACE_STYLE,
        pointToLayer=pnm("placePoint"),
        interactive=False,
    )
    labels = dl.GeoJSON(
        id=ids.LABEL_LAYER,
        data=label_data(source),
        pointToLayer=pnm("labelLayer"),
        interactive=False,
    )
    return [place, labels]


def _centre(bounds: list[list[float]]) -> list[float]:
    (south, west), (north, east) = bounds
    return [(south + north) / 2, (west + east) / 2]


def _section(label: str, control: Any, target: str, *extra: Any) -> html.Section:
    return html.Section([html.Label(label, htmlFor=target), control, *extra])


def _dropdown(label: str, target: str, *extra: Any, **options: Any) -> html.Section:
    """A labelled section holding a dropdown ``target`` (no typing into it: the lists are
    short), then ``extra``."""
    return _section(label, dcc.Dropdown(id=target, searchable=False, **options), target, *extra)


def _controls(source: View, state: ViewState, lang: str) -> list[Any]:
    """The sidebar's controls, set from ``state``."""
    w = pagestate.window(
        source.last_day,
        preset=state.window,
        start_date=state.since,
        end_date=state.until,
        step=state.step,
        frame=state.frame,
    )
    whole = pagestate.window(
        source.last_day, preset=state.window, start_date=state.since, end_date=state.until
    )
    last = source.last_day.strftime("%Y-%m-%d")
    return [
        _section(
            t("layer", lang),
            dcc.RadioItems(
                id=ids.LAYER,
                options=[{"value": k, "label": s.label.text(lang)} for k, s in LAYERS.items()],
                value=state.layer if state.layer in LAYERS else "heat",
                className="pnm-radio",
            ),
            ids.LAYER,
        ),
        _section(
            t("window", lang),
            dcc.RadioItems(
                id=ids.WINDOW,
                options=[{"value": p, "label": t(f"window_{p}", lang)} for p in PRESETS],
                value=state.window,
                className="pnm-radio pnm-inline",
            ),
            ids.WINDOW,
            dcc.DatePickerRange(
                id=ids.DATES,
                start_date=state.since or whole.since.strftime("%Y-%m-%d"),
                end_date=state.until or (whole.until.normalize().strftime("%Y-%m-%d")),
                max_date_allowed=last,
                display_format="YYYY-MM-DD",
                start_date_placeholder_text=t("date_start", lang),
                end_date_placeholder_text=t("date_end", lang),
                disabled=state.window != "custom",
                className="pnm-dates",
            ),
            html.P(pagestate.window_text(w, lang), id=ids.WINDOW_TEXT, className="pnm-window"),
            html.P(t("window_note", lang), className="pnm-note"),
        ),
        _section(
            t("playback", lang),
            dcc.RadioItems(
                id=ids.PLAY_STEP,
                options=[{"value": s, "label": t(f"play_{s}", lang)} for s in PLAY_STEPS],
                value=state.step,
                className="pnm-radio pnm-inline",
            ),
            ids.PLAY_STEP,
            html.Div(
                [
                    html.Button(t("play", lang), id=ids.PLAY_BUTTON, className="pnm-button"),
                    html.Div(
                        dcc.Slider(
                            id=ids.PLAY_SLIDER,
                            min=0,
                            max=max(w.frames - 1, 0),
                            step=1,
                            value=max(w.frame, 0),
                            marks=None,
                            updatemode="mouseup",
                        ),
                        className="pnm-slider",
                    ),
                ],
                className="pnm-play",
            ),
            dcc.Interval(id=ids.PLAY_TIMER, interval=PLAY_INTERVAL_MS, disabled=True),
        ),
        _dropdown(
            t("categories", lang),
            ids.CATEGORY_FILTER,
            options=category_options(lang),
            value=list(state.cats),
            multi=True,
            placeholder=t("all_categories", lang),
        ),
        _dropdown(
            t("unit_kinds", lang),
            ids.KIND_FILTER,
            options=kind_options(lang),
            value=list(state.kinds),
            multi=True,
            placeholder=t("all_kinds", lang),
        ),
        _dropdown(
            t("band", lang),
            ids.BAND,
            options=[{"value": b, "label": t(f"band_{b}", lang)} for b in ("all", *BANDS)],
            value=state.band,
            clearable=False,
        ),
        _section(
            t("fdr_title", lang),
            dcc.Checklist(
                id=ids.FDR,
                options=[{"value": FDR_ON, "label": t("fdr_label", lang)}],
                value=[FDR_ON] if state.fdr else [],
                className="pnm-check",
            ),
            ids.FDR,
            html.P(t("fdr_note", lang), className="pnm-note"),
        ),
        _dropdown(
            t("resolution", lang),
            ids.RESOLUTION,
            html.P(id=ids.RES_TEXT, className="pnm-note"),
            options=[
                {"value": AUTO, "label": t("resolution_follow", lang)},
                *[
                    {
                        "value": str(r),
                        "label": t("resolution_option", lang, res=r, edge=pagestate.EDGE_LENGTH[r]),
                    }
                    for r in RESOLUTIONS
                ],
            ],
            value=state.res,
            clearable=False,
        ),
        _dropdown(
            t("scheme", lang),
            ids.SCHEME,
            options=[{"value": s, "label": t(f"scheme_{s}", lang)} for s in SCHEMES],
            value=state.scheme,
            clearable=False,
        ),
        html.P(id=ids.SUMMARY, className="pnm-summary"),
    ]


def layout(
    *, source: View, settings: Settings, lang: str, pathname: str, search: str | None
) -> html.Div:
    """The map page in ``lang``, opened on the view the URL's query describes."""
    state = from_query(search, default_lang=lang)
    if state.cell and not source.contains_cell(state.cell):
        state = replace(state, cell="")  # a shared link's cell outside the user's scope
    export_link = html.A(
        t("export_link", lang),
        id=ids.EXPORT_LINK,
        href=export_href(search, None),
        className="pnm-button pnm-export-link",
    )
    sidebar = html.Aside(
        [folds.drawer_close_button(lang=lang), *_controls(source, state, lang), export_link],
        id=ids.SIDEBAR,
        className="pnm-sidebar",
    )
    view: dict[str, Any] = (
        {"center": [state.lat, state.lng], "zoom": state.zoom}
        if state.lat is not None and state.zoom is not None
        # dash-leaflet 1.1.3 tracks the viewport against `center` and fails without one;
        # with no `zoom` it still opens on `bounds`.
        else {"bounds": source.bounds, "center": _centre(source.bounds)}
    )

    map_view = dl.MapContainer(
        _base_layers(settings, source, state),
        id=ids.MAP,
        preferCanvas=True,
        attributionControl=tiles.basemap(settings).tiled,
        zoomSnap=0.25,
        minZoom=7,
        maxZoom=18,
        className="pnm-map",
        **view,
    )
    legend_box = html.Div(
        [html.Div(id=ids.LEGEND, className="pnm-legend-heat"), outline_legend(lang=lang)],
        className="pnm-legend",
        title=t("legend", lang),
    )
    search_box = html.Div(
        dcc.Dropdown(
            id=ids.SEARCH,
            options=[],
            placeholder=t("search", lang),
            searchable=True,
            clearable=True,
            search_order="original",  # the server's ranking
        ),
        className="pnm-search",
        title=t("drill_hint", lang),
    )
    side_panel = panel(lang=lang)
    return html.Div(
        [
            dcc.Store(id=ids.LANG, data=lang),
            dcc.Store(id=ids.HEX_DATA),
            dcc.Store(id=ids.LAYER_KEY),
            dcc.Store(id=ids.STYLES),
            dcc.Store(id=ids.AREA_BOUNDS, data=source.bounds),
            dcc.Store(id=ids.SELECTED, data=state.cell),
            header(
                lang=lang,
                area_name=source.area_name,
                synthetic=source.synthetic,
                note=note_text(source.manifest.get("note"), lang),
                pathname=pathname,
                search=search,
            ),
            html.Div(
                [
                    sidebar,
                    html.Main(
                        [
                            map_view,
                            folds.drawer_open_button(lang=lang),
                            search_box,
                            legend_box,
                            gap_list_box(lang=lang),
                            side_panel,
                            html.P(t("drill_hint", lang), className="pnm-hint"),
                        ],
                        className="pnm-main",
                    ),
                    folds.drawer_backdrop(),
                ],
                id=ids.MAP_BODY,
                className=folds.BODY,
            ),
        ],
        className="pnm-page pnm-map-page",
        lang="zh-CN" if lang == "zh" else "en",
    )


# --------------------------------------------------------------------------- callbacks
# Each callback reads its inputs, calls pagestate/views, serialises: no pandas here.


def update_layer(
    source: View,
    layer_cache: LayerCache,
    *,
    layer: str | None,
    preset: str | None,
    start_date: str | None,
    end_date: str | None,
    cats: list[str] | None,
    kinds: list[str] | None,
    band: str | None,
    resolution: object,
    step: str | None,
    frame: int | None,
    bounds: Any,
    zoom: float | None,
    center: Any = None,
    fdr: Any = None,
    lang: str,
) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    """The hex payload (cells in view), the layer key, the resolution and window texts."""
    from dashboard.views import layer_payload

    w = pagestate.window(
        source.last_day,
        preset=preset,
        start_date=start_date,
        end_date=end_date,
        step=step,
        frame=frame,
    )
    res, automatic = pagestate.resolution(resolution, zoom)
    params = pagestate.layer_params(
        layer=layer, w=w, res=res, cats=cats, kinds=kinds, band=band, fdr=fdr_on(fdr)
    )
    data = layer_payload(source, layer_cache, params, pagestate.view_bounds(bounds, zoom, center))
    # The scope rides in the key only for the guard to check it is the user's own.
    key = {**params.key(), "scope": source.scope_key, "window": list(w.iso)}
    data["key"] = key_token(key)
    return (
        data,
        key,
        pagestate.res_text(params.res, automatic, lang),
        pagestate.window_text(w, lang),
    )


FDR_ON = "on"
"""The FDR checklist's one value (no word of English in the Chinese page)."""


def fdr_on(value: Any) -> bool:
    """Whether the FDR checklist's value (a list; anything else from a forged request is
    "off") asks for the correction."""
    return isinstance(value, list) and FDR_ON in value


def _params(key: dict[str, Any], cell: str | None = None) -> Any:
    """The layer parameters of a layer key; with ``cell``, at that cell's resolution (a
    cell selected before a drill-down keeps explaining its own colour)."""
    fields = {k: v for k, v in key.items() if k not in ("window", "scope")}
    fields["cats"], fields["kinds"] = tuple(fields["cats"]), tuple(fields["kinds"])
    if cell and h3.is_valid_cell(cell):
        fields["res"] = spec_of(fields["layer"]).clamp(h3.get_resolution(cell))
    return LayerParams(**fields)


def key_token(key: dict[str, Any]) -> str:
    """A short digest of a layer key, carried by the payload and by its styles so the
    browser can tell that a hideout belongs to the cells it colours."""
    text = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def update_styles(
    source: View,
    layer_cache: LayerCache,
    *,
    key: dict[str, Any] | None,
    lang: str,
) -> dict[str, Any]:
    """The layer's hideout and legend for every classification scheme, and its summary.

    All schemes travel at once (a few breaks each), so that choosing another scheme is a
    clientside repaint (``window.pnm.pickStyle``) with no server round trip.
    """
    if not key:
        raise PreventUpdate
    params = _params(key)
    whole = layer_result(source.snapshot, layer_cache, params)
    result = source.cut(whole)
    token = key_token(key)
    schemes: dict[str, Any] = {}
    for scheme in SCHEMES if not result.categorical else SCHEMES[:1]:
        hideout, description = style(result, scheme=scheme, lang=lang, basis=whole)
        hideout["key"] = token
        legend = legend_view(description, lang=lang, ordered=not result.categorical)
        schemes[scheme] = {"hideout": hideout, "legend": legend}
    return {
        "key": token,
        "categorical": result.categorical,
        "schemes": schemes,
        "summary": summary_text(result, lang),
    }


def select_cell(
    source: View,
    *,
    click: dict[str, Any] | None,
    zoom: float | None,
    key: dict[str, Any] | None,
) -> tuple[str, Any]:
    """The cell under a map click (at the layer's resolution) and the drill-down viewport."""
    if not click or not key:
        raise PreventUpdate
    lat, lng = float(click["latlng"]["lat"]), float(click["latlng"]["lng"])
    if not source.contains_point(lng, lat):
        raise PreventUpdate  # a click outside the user's jurisdiction selects nothing
    value = int(lnglat_to_cells([lng], [lat], int(key["res"]))[0])
    cell = cell_to_str(value)
    zones = zones_of(source, value)
    level = (
        "precinct"
        if (zoom or 0) < DRILL_PRECINCT_BELOW
        else "grid"
        if (zoom or 0) < DRILL_GRID_BELOW
        else None
    )
    zone = zones.get(level) if level else None
    viewport = {"bounds": zone["bounds"], "transition": "flyToBounds"} if zone else no_update
    return cell, viewport


def update_gap_list(
    source: View,
    layer_cache: LayerCache,
    *,
    key: dict[str, Any] | None,
    selected: str | None,
    lang: str,
) -> tuple[list[Any], str]:
    """The ranked gap list (shown with the gap layer only) for the layer key's window,
    categories and unit kinds, and the class that shows or hides its box."""
    if not key or key.get("layer") != "gaps":
        return [], GAP_LIST_HIDDEN
    entries = gap_views.gap_list(source, layer_cache, gap_views.list_params(key))
    return gap_list_view(entries, lang=lang, selected=selected or ""), GAP_LIST_SHOWN


def select_gap_entry(
    source: View, layer_cache: LayerCache, *, key: dict[str, Any] | None, cell: str
) -> tuple[str, dict[str, Any]]:
    """The cell of a clicked list entry and the viewport flying to it; only a cell of the
    current list (of the user's scope) is accepted."""
    if not key or not cell:
        raise PreventUpdate
    entries = gap_views.gap_list(source, layer_cache, gap_views.list_params(key))
    found = gap_views.entry_target(entries, cell)
    if found is None:
        raise PreventUpdate
    return found


def layer_sections(
    source: View,
    layer_cache: LayerCache,
    *,
    key: dict[str, Any],
    cell: str,
    zones: dict[str, Any],
    lang: str,
) -> list[Any]:
    """The side panel's sections of the layer on the map: why a cell is a gap (gap
    layer), the coverage % of its grid and precinct (patrol layer); none for others."""
    if key.get("layer") == "gaps":
        detail = gap_views.gap_detail(source, layer_cache, _params(key, cell), cell, lang=lang)
        return gap_section(detail, lang=lang)
    if key.get("layer") == "patrol":
        shares = patrol_zones(source.snapshot, layer_cache, _params(key))
        return zone_coverage_section(zone_coverage(shares, zones), lang=lang)
    return []


def with_sections(body: list[Any], sections: list[Any]) -> list[Any]:
    """The panel's children with a layer's sections after the numbers behind the colour
    (before the trend heading and chart)."""
    at = next((i for i, c in enumerate(body) if getattr(c, "id", None) == ids.TREND), 0)
    at = at - 1 if at > 0 else len(body)
    return [*body[:at], *sections, *body[at:]]


def crumb_viewport(source: View, index: list[Place], target: str) -> dict[str, Any]:
    """The viewport of a drill-down crumb: the county, a precinct or a grid."""
    if target == "county":
        return {"bounds": source.bounds, "transition": "flyToBounds"}
    place = place_search.find(index, target)
    if place is None:
        raise PreventUpdate
    return place_search.viewport_of(place)


Place = place_search.Place


def view_query(
    *,
    lang: str,
    layer: str | None,
    preset: str | None,
    start_date: str | None,
    end_date: str | None,
    cats: list[str] | None,
    kinds: list[str] | None,
    band: str | None,
    resolution: object,
    scheme: str | None,
    step: str | None,
    frame: int | None,
    center: Any,
    zoom: float | None,
    cell: str | None,
    fdr: Any = None,
) -> str:
    """The URL query of the current view (see :class:`dashboard.viewstate.ViewState`)."""
    lat = lng = None
    if center and zoom is not None:
        lat, lng = (center["lat"], center["lng"]) if isinstance(center, dict) else center
    custom = preset == "custom"
    state = ViewState(
        layer=layer or "heat",
        window=preset or "30d",
        since=(start_date or "")[:10] if custom else "",
        until=(end_date or "")[:10] if custom else "",
        cats=tuple(sorted(cats or ())),
        kinds=tuple(sorted(kinds or ())),
        band=band or "all",
        fdr=fdr_on(fdr),
        res=str(resolution or AUTO),
        scheme=scheme or "natural_breaks",
        step=step or "off",
        frame=int(frame or 0) if step in ("day", "week") else 0,
        lat=round(float(lat), 5) if lat is not None else None,
        lng=round(float(lng), 5) if lng is not None else None,
        zoom=float(zoom) if zoom is not None and lat is not None else None,
        cell=cell or "",
        lang=lang,
    )
    return state.to_query()


def register_callbacks(app: Dash, views: Resolver, layer_cache: LayerCache) -> None:
    """Wire the map page's callbacks into ``app``; each resolves the request's view once
    (``views()``: the data in service and the user's scope) and passes it down."""
    indexes: dict[tuple[str, str], list[Place]] = {}  # a chief finds only their places
    folds.register_fold_callbacks(app)  # drawer and folds: clientside, no round trip

    @app.callback(
        Output(ids.EXPORT_LINK, "href"),
        Input(ids.URL, "search"),
        Input(ids.MAP, "bounds"),
    )
    def _export_link(search: str | None, bounds: Any) -> str:
        return export_href(search, bounds)

    def places(view: View) -> list[Place]:
        key = (view.version, view.scope_key)
        if key not in indexes:
            if len(indexes) >= 64:
                indexes.pop(next(iter(indexes)))
            indexes[key] = place_search.build_index(view)
        return indexes[key]

    controls = [
        Input(ids.LAYER, "value"),
        Input(ids.WINDOW, "value"),
        Input(ids.DATES, "start_date"),
        Input(ids.DATES, "end_date"),
        Input(ids.CATEGORY_FILTER, "value"),
        Input(ids.KIND_FILTER, "value"),
        Input(ids.BAND, "value"),
        Input(ids.RESOLUTION, "value"),
    ]

    @app.callback(
        Output(ids.HEX_DATA, "data"),
        Output(ids.LAYER_KEY, "data"),
        Output(ids.RES_TEXT, "children"),
        Output(ids.WINDOW_TEXT, "children"),
        *controls,
        Input(ids.PLAY_STEP, "value"),
        Input(ids.PLAY_SLIDER, "value"),
        Input(ids.MAP, "bounds"),
        Input(ids.MAP, "zoom"),
        Input(ids.FDR, "value"),
        State(ids.MAP, "center"),
        State(ids.LAYER_KEY, "data"),
        State(ids.LANG, "data"),
    )
    def _layer(*args: Any) -> tuple[Any, ...]:
        (layer, preset, start, end, cats, kinds, band, res, step, frame, bounds, zoom) = args[:12]
        fdr, center, old_key, lang = args[12:]
        data, key, res_text, window_text = update_layer(
            views(), layer_cache, layer=layer, preset=preset, start_date=start, end_date=end,
            cats=cats, kinds=kinds, band=band, resolution=res, step=step, frame=frame,
            bounds=bounds, zoom=zoom, center=center, fdr=fdr, lang=lang,
        )  # fmt: skip
        # Panning keeps the layer: its style, legend and summary need no update.
        return data, (no_update if key == old_key else key), res_text, window_text

    @app.callback(
        Output(ids.STYLES, "data"),
        Input(ids.LAYER_KEY, "data"),
        State(ids.LANG, "data"),
    )
    def _styles(key: Any, lang: str) -> dict[str, Any]:
        return update_styles(views(), layer_cache, key=key, lang=lang)

    app.clientside_callback(
        ClientsideFunction(namespace="pnm", function_name="fitBesideGapList"),
        Output(ids.MAP, "viewport", allow_duplicate=True),
        Input(ids.GAP_LIST, "className"),
        State(ids.AREA_BOUNDS, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="pnm", function_name="pickStyle"),
        Output(ids.HEX_LAYER, "hideout"),
        Output(ids.LEGEND, "children"),
        Output(ids.SUMMARY, "children"),
        Input(ids.STYLES, "data"),
        Input(ids.SCHEME, "value"),
        Input(ids.SELECTED, "data"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="pnm", function_name="buildHexes"),
        Output(ids.HEX_LAYER, "data"),
        Input(ids.HEX_DATA, "data"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="pnm", function_name="cellOutline"),
        Output(ids.SELECTION_LAYER, "data"),
        Input(ids.SELECTED, "data"),
    )

    @app.callback(
        Output(ids.DATES, "disabled"),
        Input(ids.WINDOW, "value"),
    )
    def _dates(preset: str) -> bool:
        return preset != "custom"

    @app.callback(
        Output(ids.PLAY_SLIDER, "max"),
        Output(ids.PLAY_SLIDER, "value"),
        Output(ids.PLAY_TIMER, "disabled"),
        Output(ids.PLAY_BUTTON, "children"),
        Input(ids.PLAY_TIMER, "n_intervals"),
        Input(ids.PLAY_BUTTON, "n_clicks"),
        Input(ids.PLAY_STEP, "value"),
        Input(ids.WINDOW, "value"),
        Input(ids.DATES, "start_date"),
        Input(ids.DATES, "end_date"),
        State(ids.PLAY_SLIDER, "value"),
        State(ids.PLAY_TIMER, "disabled"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )
    def _playback(_n: Any, _c: Any, step: str, preset: str, start: str, end: str,
                  value: int, stopped: bool, lang: str) -> tuple[Any, ...]:  # fmt: skip
        w = pagestate.window(views().last_day, preset=preset, start_date=start, end_date=end,
                             step=step, frame=value)  # fmt: skip
        trigger = ctx.triggered_id
        if w.frames == 0:
            return 0, 0, True, t("play", lang)
        if trigger == ids.PLAY_TIMER:
            value, stop = pagestate.playback_step(w.frames, value)
            return w.frames - 1, value, stop, t("play" if stop else "pause", lang)
        if trigger == ids.PLAY_BUTTON:
            start_over = stopped and (value or 0) >= w.frames - 1
            playing = stopped  # a click toggles
            return (
                w.frames - 1,
                0 if start_over else no_update,
                not playing,
                t("pause" if playing else "play", lang),
            )
        return w.frames - 1, min(value or 0, w.frames - 1), True, t("play", lang)

    @app.callback(
        Output(ids.SELECTED, "data"),
        Output(ids.MAP, "viewport", allow_duplicate=True),
        Input(ids.MAP, "clickData"),
        Input(ids.PANEL_CLOSE, "n_clicks"),
        State(ids.MAP, "zoom"),
        State(ids.LAYER_KEY, "data"),
        prevent_initial_call=True,
    )
    def _select(click: Any, _close: Any, zoom: float, key: Any) -> tuple[Any, Any]:
        if ctx.triggered_id == ids.PANEL_CLOSE:
            # The button also "changes" when the panel renders it: only a click closes.
            if not _close:
                raise PreventUpdate
            return "", no_update
        return select_cell(views(), click=click, zoom=zoom, key=key)

    @app.callback(
        Output(ids.PANEL_BODY, "children"),
        Output(ids.PANEL, "className"),
        Input(ids.SELECTED, "data"),
        Input(ids.LAYER_KEY, "data"),
        State(ids.LANG, "data"),
    )
    def _panel(cell: str, key: Any, lang: str) -> tuple[Any, str]:
        if not cell or not key:
            return [], "pnm-panel pnm-panel-closed"
        since, until = key["window"]
        view = views()
        detail = cell_detail(
            view, layer_cache, _params(key, cell), cell, window=(since, until), lang=lang
        )
        sections = layer_sections(
            view, layer_cache, key=key, cell=cell, zones=detail["zones"], lang=lang
        )
        body = with_sections(panel_view(detail, lang=lang), sections)
        return body, "pnm-panel pnm-panel-open"

    @app.callback(
        Output(ids.GAP_LIST_BODY, "children"),
        Output(ids.GAP_LIST, "className"),
        Input(ids.LAYER_KEY, "data"),
        Input(ids.SELECTED, "data"),
        State(ids.LANG, "data"),
    )
    def _gap_list(key: Any, selected: str, lang: str) -> tuple[Any, str]:
        return update_gap_list(views(), layer_cache, key=key, selected=selected, lang=lang)

    @app.callback(
        Output(ids.SELECTED, "data", allow_duplicate=True),
        Output(ids.MAP, "viewport", allow_duplicate=True),
        Input({"type": ids.GAP_ENTRY, "index": ALL}, "n_clicks"),
        State(ids.LAYER_KEY, "data"),
        prevent_initial_call=True,
    )
    def _gap_entry(clicks: list[Any], key: Any) -> tuple[str, Any]:
        # A re-drawn list "triggers" with n_clicks 0: only a real click selects.
        if not ctx.triggered_id or not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        return select_gap_entry(views(), layer_cache, key=key, cell=ctx.triggered_id["index"])

    @app.callback(
        Output(ids.MAP, "viewport", allow_duplicate=True),
        Input({"type": ids.CRUMB, "index": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def _crumb(clicks: list[Any]) -> Any:
        if not ctx.triggered_id or not any(clicks):
            raise PreventUpdate
        view = views()
        return crumb_viewport(view, places(view), ctx.triggered_id["index"])

    @app.callback(
        Output(ids.SEARCH, "options"),
        Input(ids.SEARCH, "search_value"),
        State(ids.SEARCH, "value"),
        State(ids.SEARCH, "options"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )
    def _search(text: str, value: str, options: list[Any], lang: str) -> list[Any]:
        if not text:
            raise PreventUpdate
        found = place_search.search(places(views()), text, lang=lang)
        listed = {o["value"] for o in found}  # an option's search words change per text
        kept = [o for o in options or [] if o["value"] == value and o["value"] not in listed]
        return kept + found

    @app.callback(
        Output(ids.MAP, "viewport", allow_duplicate=True),
        Output(ids.PLACE_LAYER, "data"),
        Input(ids.SEARCH, "value"),
        prevent_initial_call=True,
    )
    def _fly(value: str) -> tuple[Any, Any]:
        view = views()
        place = place_search.find(places(view), value)
        if place is None and value:
            raise PreventUpdate  # not a place of the user's scope
        viewport = place_search.viewport_of(place) if place else no_update
        return viewport, place_search.outline_of(place, view.outlines)

    @app.callback(
        Output(ids.URL, "search"),
        Output(ids.LANG_ZH, "href"),
        Output(ids.LANG_EN, "href"),
        *controls,
        Input(ids.SCHEME, "value"),
        Input(ids.PLAY_STEP, "value"),
        Input(ids.PLAY_SLIDER, "value"),
        Input(ids.MAP, "center"),
        Input(ids.MAP, "zoom"),
        Input(ids.SELECTED, "data"),
        Input(ids.FDR, "value"),
        State(ids.LANG, "data"),
        State(ids.URL, "search"),
    )
    def _url(*args: Any) -> tuple[Any, ...]:
        names = ("layer", "preset", "start_date", "end_date", "cats", "kinds", "band",
                 "resolution", "scheme", "step", "frame", "center", "zoom", "cell", "fdr",
                 "lang")  # fmt: skip
        query = view_query(**dict(zip(names, args[:16], strict=True)))
        hrefs = (lang_href(PATH, query, "zh"), lang_href(PATH, query, "en"))
        return (no_update if query == args[16] else query), *hrefs
