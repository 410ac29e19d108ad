"""The Dash app factory, and ``server`` for gunicorn (``gunicorn dashboard.app:server``).

Nothing is built at import time: :func:`create_app` does all the wiring, and the module
attribute ``server`` builds the app on first access (module ``__getattr__``), so importing
this module in a test or a tool never opens the data directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import dash
from dash import Dash, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import health as health_route
from dashboard import ids, tiles
from dashboard.auth import current_scope, current_user
from dashboard.auth.bar import auth_bar
from dashboard.auth.guard import install as install_auth
from dashboard.cache import LayerCache
from dashboard.datasource import ReloadingSource, Resolver, View
from dashboard.i18n import lang_of, t
from dashboard.pages import export as export_page
from dashboard.pages import map as map_page
from dashboard.pages import wall as wall_page
from dashboard.settings import Settings, load_settings
from dashboard.views.warm import Warmer
from geodata.snapshot import Snapshot

ASSETS = Path(__file__).resolve().parent.parent / "assets"
VENDOR = "vendor"
# Vendored libraries, loaded before the component libraries and assets/pnm.js, in order.
VENDOR_SCRIPTS = ("vendor/h3-js.umd.js",)


def _not_found(lang: str) -> html.Div:
    return html.Div(html.H1("404"), className="pnm-page pnm-not-found", lang=lang)


def render_page(
    source: View, settings: Settings, pathname: str | None, search: str | None
) -> tuple[Any, dict[str, str]]:
    """The page for a URL, and the document's language and title.

    ``?lang=en`` (or ``zh``) picks the language; without it the configured default.
    """
    query = parse_qs((search or "").lstrip("?"))
    lang = lang_of(query.get("lang", [""])[0], settings.language)
    document = {
        "lang": lang,
        "title": t("page_title", lang, area=source.area_name),
        "path": pathname or "/",
    }
    if (pathname or "/") == export_page.PATH:
        page = export_page.layout(
            source=source, settings=settings, lang=lang, pathname=export_page.PATH, search=search
        )
        return page, document
    if (pathname or "/") == wall_page.PATH:
        page = wall_page.layout(source=source, settings=settings, lang=lang, search=search)
        return page, document
    if (pathname or "/") != map_page.PATH:
        return _not_found(lang), document
    page = map_page.layout(
        source=source, settings=settings, lang=lang, pathname=pathname or "/", search=search
    )
    return page, document


def needs_render(
    settings: Settings, pathname: str | None, search: str | None, shown: dict[str, str] | None
) -> bool:
    """Whether a URL change needs a new page: a new path or a new language does; the
    map's own view state (written to the query as the view changes) does not."""
    if not shown:
        return True
    query = parse_qs((search or "").lstrip("?"))
    lang = lang_of(query.get("lang", [""])[0], settings.language)
    return shown.get("path") != (pathname or "/") or shown.get("lang") != lang


def create_app(settings: Settings | None = None) -> Dash:
    """Build the dashboard: pages, callbacks, cache, assets — everything, from ``settings``.

    Parameters
    ----------
    settings : Settings, optional
        Default: :func:`dashboard.settings.load_settings` (environment and ``PNM_CONFIG``).

    Returns
    -------
    dash.Dash
        The app; its Flask server is ``app.server``.

    Raises
    ------
    dashboard.datasource.DataDirError
        If the data directory is missing or has no cubes (the message says how to build it).
    """
    cfg = settings or load_settings()
    source = Snapshot(cfg.data_dir)
    # The data in service, reopened when the cubes are rebuilt (no restart needed).
    live = ReloadingSource(source)
    # What pages and callbacks see: the data in service and the signed-in user's scope,
    # resolved once per request (the guard resolves it first).
    views = Resolver(live, current_scope)
    app = Dash(
        __name__,
        assets_folder=str(ASSETS),
        # vendor/ is listed explicitly below: Dash would load it after assets/pnm.js.
        assets_path_ignore=[VENDOR],
        serve_locally=True,
        external_scripts=[],
        external_stylesheets=[],
        title=t("page_title", cfg.language, area=source.area_name),
        update_title="",  # keep the title while callbacks run
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.config.external_scripts.extend(app.get_asset_url(path) for path in VENDOR_SCRIPTS)
    app.server.extensions["pnm_live"] = live  # the data in service, for tools and tests
    layer_cache = LayerCache(app.server, cfg)
    app.layout = html.Div(
        [dcc.Location(id=ids.URL, refresh=False), dcc.Store(id=ids.DOCUMENT), html.Div(id=ids.PAGE)]
    )

    @app.callback(
        Output(ids.PAGE, "children"),
        Output(ids.DOCUMENT, "data"),
        Input(ids.URL, "pathname"),
        Input(ids.URL, "search"),
        State(ids.DOCUMENT, "data"),
    )
    def _route(
        pathname: str | None, search: str | None, shown: dict[str, str] | None
    ) -> tuple[Any, dict[str, str]]:
        if not needs_render(cfg, pathname, search, shown):
            raise PreventUpdate
        page, document = render_page(views(), cfg, pathname, search)
        bar = auth_bar(current_user(), mode=cfg.auth, lang=document["lang"])
        banner = health_route.data_banner(live, document["lang"])
        parts = [p for p in (bar, banner) if p is not None]
        if document["path"] in (map_page.PATH, wall_page.PATH):
            # After the page: the notice floats over the map (position: fixed).
            refused = tiles.notice(cfg, document["lang"])
            if refused is not None:
                return [*parts, page, refused], document
        return ([*parts, page] if parts else page), document

    app.clientside_callback(
        dash.ClientsideFunction(namespace="pnm", function_name="setDocument"),
        Output(ids.DOCUMENT, "id"),
        Input(ids.DOCUMENT, "data"),
    )
    map_page.register_callbacks(app, views, layer_cache)
    wall_page.register_callbacks(app, live, layer_cache)  # the data the map serves
    export_page.register(app, live, layer_cache)  # exports of the data in service
    warmer = Warmer(live, layer_cache, switch_wait_s=cfg.switch_wait_s)
    app.server.extensions["pnm_warmer"] = warmer  # its progress, for tools and tests
    health_route.install(app.server, live, layer_cache, warmer if cfg.warm else None)
    tiles.install(app.server, cfg)
    tiles.basemap(cfg)  # opens the tile package now: the log says at start what it serves
    install_auth(app, cfg, views)  # last: sign-in, the guard of every route, headers
    if cfg.warm:
        # In the background: computes the most asked views of the data now in service
        # (and of every later version), sharing them through the cache; never blocks.
        warmer.start()
    return app


_app: Dash | None = None


def __getattr__(name: str) -> Any:
    """Build the app on first access of ``server`` (for gunicorn), not at import time."""
    global _app
    if name == "server":
        if _app is None:
            _app = create_app()
        return _app.server
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
