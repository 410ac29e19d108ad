"""The export page at ``/export``: a planner chooses layers, resolution, area, window,
filters, coordinate system and format, sees the exact number of features and the size of
the file, and downloads it (``/export/download``, :mod:`dashboard.downloads`).

Opened from the map's "export this view" link, the page is pre-filled from the map's
query string (:func:`dashboard.views.export.request_from_query`). What the user may
choose — the precincts and grids offered, "my jurisdiction" instead of the county — comes
from their scope, and the server checks it again on every preview and download.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import parse_qsl

import pandas as pd
from dash import Dash, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import ids, pagestate
from dashboard.cache import LayerCache
from dashboard.components.export_choices import (
    WGS84,
    area_options,
    crs_options,
    format_options,
    human_size,
    option,
    place_options,
    res_options,
    section,
)
from dashboard.components.header import header, lang_href
from dashboard.datasource import ReloadingSource, View
from dashboard.downloads import DOWNLOAD_PATH, Viewer, register_download_route, signed_in
from dashboard.i18n import category_options, kind_options, note_text, t
from dashboard.settings import Settings
from dashboard.views.export import (
    BAND_LAYERS,
    CATEGORY_LAYERS,
    FDR_LAYERS,
    KIND_LAYERS,
    ExportProblem,
    ExportRequest,
    request_from_query,
)
from dashboard.views.export_files import ExportService
from dashboard.viewstate import SCHEMES
from layers.export import LAYERS, RESOLUTIONS
from layers.time_window import BANDS, PRESETS

PATH = "/export"
HIDDEN = {"display": "none"}
SHOWN: dict[str, str] = {}
BUTTON = "pnm-button pnm-export-download"


FDR_ON: Final = "on"  # the value of the FDR checklist's one option, as on the map


def _picker(
    target: str,
    box: str,
    options: list[dict[str, Any]],
    chosen: Sequence[str],
    placeholder: str,
    *,
    shown: bool,
) -> html.Div:
    """A multi-select of places (precincts or grids) in a box shown only for its area
    choice; of ``chosen`` only what ``options`` offers (the user's scope) is kept."""
    offered = {o["value"] for o in options}
    return html.Div(
        dcc.Dropdown(
            id=target,
            options=options,
            value=[c for c in chosen if c in offered],
            multi=True,
            placeholder=placeholder,
        ),
        id=box,
        style=SHOWN if shown else HIDDEN,
    )


def _titles(names: frozenset[str], lang: str) -> str:
    """The titles of the exports ``names``, in the list's order."""
    sep = ", " if lang == "en" else "、"
    return sep.join(spec.title.text(lang) for name, spec in LAYERS.items() if name in names)


def layout(
    *,
    source: View,
    settings: Settings,
    lang: str,
    pathname: str,
    search: str | None,
    viewer: Viewer | None = None,
) -> html.Div:
    """The export page in ``lang``, pre-filled from the URL's query (the map's or its own).

    ``viewer`` defaults to the signed-in user; it decides the area choices offered.
    """
    who = viewer or signed_in()
    request = request_from_query(search, last_day=source.last_day, default_lang=lang)
    query = dict(parse_qsl((search or "").lstrip("?")))
    p_opts, g_opts = place_options(source, who, lang)
    span = request.span(source.last_day)
    last = source.last_day.strftime("%Y-%m-%d")
    back = "/" if "layers" in query or not query else "/?" + (search or "").lstrip("?")
    intro = [
        html.H2(t("export_title", lang)),
        html.P(t("export_intro", lang), className="pnm-export-intro"),
        html.A(t("export_back", lang), href=back, className="pnm-export-back"),
    ]
    choices = [
        section(
            t("export_layers", lang),
            ids.EXPORT_LAYERS,
            dcc.Checklist(
                id=ids.EXPORT_LAYERS,
                options=[
                    {
                        "value": name,
                        "label": option(spec.title.text(lang), spec.description.text(lang)),
                    }
                    for name, spec in LAYERS.items()
                ],
                value=list(request.layers),
                className="pnm-radio pnm-export-list",
            ),
        ),
        section(
            t("resolution", lang),
            ids.EXPORT_RES,
            dcc.Dropdown(
                id=ids.EXPORT_RES,
                options=res_options(list(request.layers), lang),
                value=request.res,
                clearable=False,
                searchable=False,
            ),
            html.P(id=ids.EXPORT_RES_NOTE, className="pnm-note"),
        ),
        section(
            t("export_area", lang),
            ids.EXPORT_AREA,
            dcc.RadioItems(
                id=ids.EXPORT_AREA,
                options=area_options(request, who, lang),
                value=request.area,
                className="pnm-radio pnm-export-list",
            ),
            _picker(
                ids.EXPORT_PRECINCTS,
                ids.EXPORT_PRECINCTS_BOX,
                p_opts,
                request.precincts,
                t("export_pick_precincts", lang),
                shown=request.area == "precincts",
            ),
            _picker(
                ids.EXPORT_GRIDS,
                ids.EXPORT_GRIDS_BOX,
                g_opts,
                request.grids,
                t("export_pick_grids", lang),
                shown=request.area == "grids",
            ),
            html.P(t("export_area_rule", lang), className="pnm-note"),
        ),
        section(
            t("window", lang),
            ids.EXPORT_WINDOW,
            dcc.RadioItems(
                id=ids.EXPORT_WINDOW,
                options=[{"value": p, "label": t(f"window_{p}", lang)} for p in PRESETS],
                value=request.window,
                className="pnm-radio pnm-inline",
            ),
            dcc.DatePickerRange(
                id=ids.EXPORT_DATES,
                start_date=request.since or f"{span[0]:%Y-%m-%d}",
                end_date=request.until or f"{span[1] - pd.Timedelta(days=1):%Y-%m-%d}",
                max_date_allowed=last,
                display_format="YYYY-MM-DD",
                start_date_placeholder_text=t("date_start", lang),
                end_date_placeholder_text=t("date_end", lang),
                disabled=request.window != "custom",
                className="pnm-dates",
            ),
            html.P(id=ids.EXPORT_WINDOW_TEXT, className="pnm-window"),
            html.P(t("window_note", lang), className="pnm-note"),
            html.P(t("export_window_note", lang), className="pnm-note"),
        ),
        section(
            t("categories", lang),
            ids.EXPORT_CATS,
            dcc.Dropdown(
                id=ids.EXPORT_CATS,
                options=category_options(lang),
                value=list(request.cats),
                multi=True,
                placeholder=t("all_categories", lang),
                searchable=False,
            ),
            html.P(
                t("export_cats_note", lang, layers=_titles(CATEGORY_LAYERS, lang)),
                className="pnm-note",
            ),
        ),
        section(
            t("band", lang),
            ids.EXPORT_BAND,
            dcc.RadioItems(
                id=ids.EXPORT_BAND,
                options=[{"value": b, "label": t(f"band_{b}", lang)} for b in ("all", *BANDS)],
                value=request.band,
                className="pnm-radio pnm-inline",
            ),
            html.P(
                t("export_band_note", lang, layers=_titles(BAND_LAYERS, lang)), className="pnm-note"
            ),
        ),
        section(
            t("unit_kinds", lang),
            ids.EXPORT_KINDS,
            dcc.Dropdown(
                id=ids.EXPORT_KINDS,
                options=kind_options(lang),
                value=list(request.kinds),
                multi=True,
                placeholder=t("all_kinds", lang),
                searchable=False,
            ),
            html.P(
                t("export_kinds_note", lang, layers=_titles(KIND_LAYERS, lang)),
                className="pnm-note",
            ),
        ),
        section(
            t("fdr_title", lang),
            ids.EXPORT_FDR,
            dcc.Checklist(
                id=ids.EXPORT_FDR,
                options=[{"value": FDR_ON, "label": t("fdr_label", lang)}],
                value=[FDR_ON] if request.fdr else [],
                className="pnm-check",
            ),
            html.P(
                t("export_fdr_note", lang, layers=_titles(FDR_LAYERS, lang)), className="pnm-note"
            ),
        ),
        section(
            t("scheme", lang),
            ids.EXPORT_SCHEME,
            dcc.Dropdown(
                id=ids.EXPORT_SCHEME,
                options=[{"value": s, "label": t(f"scheme_{s}", lang)} for s in SCHEMES],
                value=request.scheme,
                clearable=False,
                searchable=False,
            ),
        ),
        section(
            t("export_crs", lang),
            ids.EXPORT_CRS,
            dcc.RadioItems(
                id=ids.EXPORT_CRS,
                options=crs_options(lang),
                value=request.crs,
                className="pnm-radio pnm-export-list",
            ),
        ),
        section(
            t("export_format", lang),
            ids.EXPORT_FORMAT,
            dcc.RadioItems(
                id=ids.EXPORT_FORMAT,
                options=format_options(request.crs, lang),
                value=request.fmt,
                className="pnm-radio pnm-export-list",
            ),
        ),
    ]
    form = html.Div(
        [*intro, html.Div(choices, className="pnm-export-choices")],
        className="pnm-export-form",
    )
    side = html.Aside(
        [
            html.H2(t("export_preview", lang)),
            dcc.Loading(html.Div(id=ids.EXPORT_SUMMARY, className="pnm-export-summary")),
            html.A(t("export_download", lang), id=ids.EXPORT_DOWNLOAD, className=BUTTON),
            html.P(t("export_logged", lang), className="pnm-note"),
        ],
        className="pnm-export-side",
    )
    return html.Div(
        [
            dcc.Store(id=ids.EXPORT_LANG, data=lang),
            dcc.Store(id=ids.EXPORT_VIEW, data=list(request.bbox) if request.bbox else None),
            header(
                lang=lang,
                area_name=source.area_name,
                synthetic=source.synthetic,
                note=note_text(source.manifest.get("note"), lang),
                pathname=pathname,
                search=search,
            ),
            html.Div([form, side], className="pnm-export-body"),
        ],
        className="pnm-page pnm-export",
        lang="zh-CN" if lang == "zh" else "en",
    )


# --------------------------------------------------------------------------- callbacks
# Each reads its inputs, asks dashboard.views.export*, serialises.


def request_from_controls(
    *,
    layers: list[str] | None,
    res: int | None,
    area: str | None,
    precincts: list[str] | None,
    grids: list[str] | None,
    bbox: list[float] | None,
    preset: str | None,
    start_date: str | None,
    end_date: str | None,
    cats: list[str] | None,
    scheme: str | None,
    crs: str | None,
    fmt: str | None,
    lang: str,
    kinds: list[str] | None = None,
    band: str | None = None,
    fdr: list[str] | None = None,
) -> ExportRequest:
    """The request the page's controls describe (checked later, by the preview)."""
    custom = preset == "custom"
    box = tuple(float(v) for v in bbox) if bbox and len(bbox) == 4 else None
    return ExportRequest(
        layers=tuple(n for n in LAYERS if n in (layers or ())),
        res=int(res) if res is not None else RESOLUTIONS[0],
        area=area or "county",
        precincts=tuple(sorted(precincts or ())) if area == "precincts" else (),
        grids=tuple(sorted(grids or ())) if area == "grids" else (),
        bbox=box if area == "view" else None,  # type: ignore[arg-type]
        window=preset or "30d",
        since=(start_date or "")[:10] if custom else "",
        until=(end_date or "")[:10] if custom else "",
        cats=tuple(sorted(cats or ())),
        kinds=tuple(sorted(kinds or ())),
        band=band or "all",
        fdr=FDR_ON in (fdr or ()),
        scheme=scheme or "natural_breaks",
        crs=crs or WGS84,
        fmt=fmt or "gpkg",
        lang=lang,
    )


def update_preview(
    service: ExportService, request: ExportRequest, viewer: Viewer
) -> tuple[list[Any], str | None, str, str | None]:
    """The preview (features per layer, size, file) and the download link; for a request
    that gives no file, the reason and no link.

    Returns
    -------
    tuple
        Summary children, the link's ``href`` (None: disabled), its class, and the
        name the file is saved under.
    """
    lang = request.lang
    try:
        preview = service.preview(request, viewer.scope)
    except ExportProblem as problem:
        alert = html.P(problem.text(lang), className="pnm-export-problem", role="alert")
        return [alert], None, f"{BUTTON} pnm-disabled", None
    rows = [
        html.Li(t("export_layer_count", lang, layer=LAYERS[name].title.text(lang), n=f"{n:,}"))
        for name, n in preview.features.items()
    ]
    size_key = "export_size_exact" if preview.exact else "export_size_estimate"
    file_key = "export_file_shp" if request.fmt == "shp" else "export_file_zip"
    summary = [
        html.P(
            t("export_features", lang, total=f"{preview.total:,}"), className="pnm-export-count"
        ),
        html.Ul(rows, className="pnm-list"),
        html.P(t(size_key, lang, size=human_size(preview.bytes)), className="pnm-export-size"),
        html.P(t(file_key, lang, name=preview.file_name), className="pnm-note pnm-export-file"),
    ]
    return summary, DOWNLOAD_PATH + request.to_query(), BUTTON, preview.file_name


def register_callbacks(app: Dash, service: ExportService) -> None:
    """Wire the export page's callbacks into ``app``."""

    @app.callback(
        Output(ids.EXPORT_RES, "options"),
        Output(ids.EXPORT_RES, "value"),
        Output(ids.EXPORT_RES_NOTE, "children"),
        Input(ids.EXPORT_LAYERS, "value"),
        State(ids.EXPORT_RES, "value"),
        State(ids.EXPORT_LANG, "data"),
    )
    def _res(layers: list[str], res: int, lang: str) -> tuple[Any, ...]:
        options = res_options(layers, lang)
        allowed = [o["value"] for o in options if not o["disabled"]] or [options[-1]["value"]]
        finest = allowed[-1]
        chosen = min(max(int(res or finest), allowed[0]), finest)
        return options, chosen, t("export_res_note", lang, res=finest)

    @app.callback(
        Output(ids.EXPORT_PRECINCTS_BOX, "style"),
        Output(ids.EXPORT_GRIDS_BOX, "style"),
        Input(ids.EXPORT_AREA, "value"),
    )
    def _area(area: str) -> tuple[Any, Any]:
        return (SHOWN if area == "precincts" else HIDDEN), (SHOWN if area == "grids" else HIDDEN)

    @app.callback(
        Output(ids.EXPORT_DATES, "disabled"),
        Output(ids.EXPORT_WINDOW_TEXT, "children"),
        Input(ids.EXPORT_WINDOW, "value"),
        Input(ids.EXPORT_DATES, "start_date"),
        Input(ids.EXPORT_DATES, "end_date"),
        State(ids.EXPORT_LANG, "data"),
    )
    def _window(preset: str, start: str, end: str, lang: str) -> tuple[bool, str]:
        w = pagestate.window(service.source.last_day, preset=preset, start_date=start, end_date=end)
        return preset != "custom", pagestate.window_text(w, lang)

    @app.callback(
        Output(ids.EXPORT_FORMAT, "options"),
        Input(ids.EXPORT_CRS, "value"),
        State(ids.EXPORT_LANG, "data"),
    )
    def _formats(crs: str, lang: str) -> list[dict[str, Any]]:
        return format_options(crs, lang)

    @app.callback(
        Output(ids.EXPORT_SUMMARY, "children"),
        Output(ids.EXPORT_DOWNLOAD, "href"),
        Output(ids.EXPORT_DOWNLOAD, "className"),
        Output(ids.EXPORT_DOWNLOAD, "download"),
        Output(ids.LANG_ZH, "href"),
        Output(ids.LANG_EN, "href"),
        Input(ids.EXPORT_LAYERS, "value"),
        Input(ids.EXPORT_RES, "value"),
        Input(ids.EXPORT_AREA, "value"),
        Input(ids.EXPORT_PRECINCTS, "value"),
        Input(ids.EXPORT_GRIDS, "value"),
        Input(ids.EXPORT_WINDOW, "value"),
        Input(ids.EXPORT_DATES, "start_date"),
        Input(ids.EXPORT_DATES, "end_date"),
        Input(ids.EXPORT_CATS, "value"),
        Input(ids.EXPORT_SCHEME, "value"),
        Input(ids.EXPORT_CRS, "value"),
        Input(ids.EXPORT_FORMAT, "value"),
        Input(ids.EXPORT_KINDS, "value"),
        Input(ids.EXPORT_BAND, "value"),
        Input(ids.EXPORT_FDR, "value"),
        State(ids.EXPORT_VIEW, "data"),
        State(ids.EXPORT_LANG, "data"),
    )
    def _preview(*args: Any) -> tuple[Any, ...]:
        names = ("layers", "res", "area", "precincts", "grids", "preset", "start_date",
                 "end_date", "cats", "scheme", "crs", "fmt", "kinds", "band", "fdr", "bbox",
                 "lang")  # fmt: skip
        if args[0] is None:
            raise PreventUpdate
        request = request_from_controls(**dict(zip(names, args, strict=True)))
        summary, href, css, name = update_preview(service, request, signed_in())
        query = request.to_query()
        return (summary, href, css, name,
                lang_href(PATH, query, "zh"), lang_href(PATH, query, "en"))  # fmt: skip


def register(app: Dash, source: ReloadingSource, layers: LayerCache | None = None) -> ExportService:
    """Add the export page's callbacks and its download route to ``app``; ``layers`` is
    the map's layer cache (see :class:`~dashboard.views.export_files.ExportService`)."""
    service = ExportService(source, layers)
    register_callbacks(app, service)
    register_download_route(app.server, service)
    return service
