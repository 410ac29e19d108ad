"""The command-centre wall screen at ``/wall``: dark, legible across a room, hands-free.

It rotates through its views (gap layer, incident heat with hot spots, patrol coverage at
night, safe-community status) on a clientside timer, and refreshes its data on a second
timer; two ``dcc.Interval`` components in all, replaced with the page, so timers never
pile up. Each refresh asks the server (:func:`refresh`) for the data version it shows:
an unchanged version costs a few hundred bytes; a new one replaces the figures, the gap
list, the legends and every view's cells whole. A refresh that fails — the server
restarting, the data being rebuilt — changes nothing on screen; the banner says the
picture is stale and the next tick tries again (``window.pnm.wall.health``).

``/wall?views=gaps,heat&period=30&refresh=60&stale=30&lang=en`` overrides the configured
views, seconds per view, seconds between refreshes and the stale limit in minutes, so
several screens can show different rotations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import ids
from dashboard.auth import current_scope
from dashboard.cache import LayerCache
from dashboard.components.wall_map import wall_map
from dashboard.components.wall_panels import (
    age_text,
    cst,
    figures_view,
    footer_text,
    gaps_view,
    legends_view,
)
from dashboard.datasource import ReloadingSource, View
from dashboard.i18n import t
from dashboard.settings import WALL_VIEWS, Settings
from dashboard.views.labels import WALL_ZOOMS, label_data
from dashboard.views.wall import (
    VIEW_TITLES,
    VIEW_WINDOWS,
    WallFeed,
    view_payload,
)
from dashboard.views.wall.config import BadWallInput, checked_config, checked_status

PATH = "/wall"
MIN_SECONDS = 2.0
MAX_WAIT_S = 30.0
"""Longest a refresh waits for new data to be computed; it never waits more than
:data:`WAIT_SHARE` of the refresh period, so an answer lands before the next tick."""
WAIT_SHARE = 0.6
ROOT = Path(__file__).resolve().parents[2]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WallOptions:
    """One wall's rotation: its views in order, and its periods."""

    views: tuple[str, ...]
    period_s: float
    refresh_s: float
    stale_minutes: float


def _number(query: dict[str, list[str]], name: str, default: float, least: float) -> float:
    try:
        value = float(query[name][0])
    except (KeyError, IndexError, ValueError):
        return default
    return value if value >= least and value == value else default  # NaN fails both


def wall_options(settings: Settings, search: str | None) -> WallOptions:
    """The configured rotation, with the URL's overrides (unknown views and values below
    the minimum are ignored, so a typo in a wall's URL still shows a working wall)."""
    query = parse_qs((search or "").lstrip("?"))
    views = settings.wall_views
    if query.get("views"):
        asked = tuple(v.strip() for v in query["views"][0].split(",") if v.strip())
        known = tuple(v for v in asked if v in WALL_VIEWS)
        views = known or views
    return WallOptions(
        views=views,
        period_s=_number(query, "period", settings.wall_period_s, MIN_SECONDS),
        refresh_s=_number(query, "refresh", settings.wall_refresh_s, MIN_SECONDS),
        stale_minutes=_number(query, "stale", settings.wall_stale_minutes, 1e-3),
    )


@lru_cache(maxsize=1)
def app_version() -> str:
    """A fingerprint of the code and assets this process serves: a wall whose server
    comes back with other code reloads itself (see ``window.pnm.wall.health``)."""
    parts = []
    for folder, pattern in (("dashboard", "*.py"), ("layers", "*.py"), ("assets", "*.*")):
        for path in sorted((ROOT / folder).rglob(pattern)):
            st = path.stat()
            parts.append(f"{path.relative_to(ROOT)}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def layout(
    *,
    source: View,
    settings: Settings,
    lang: str,
    search: str | None,
) -> html.Div:
    """The wall in ``lang``, of the area ``source`` holds (a scoped source's precincts)."""
    opts = wall_options(settings, search)
    bounds = source.bounds
    first = opts.views[0]
    titles = {v: VIEW_TITLES[v].text(lang) for v in opts.views}
    windows = {v: VIEW_WINDOWS[v].text(lang) for v in opts.views}
    config = {
        "views": list(opts.views),
        "refresh_s": opts.refresh_s,
        "stale_s": opts.stale_minutes * 60.0,
        "lang": lang,
        "app": app_version(),
        "bounds": bounds,
        "titles": titles,
        "windows": windows,
        "offline": t("wall_offline", lang),
        "ids": {"views": ids.WALL_VIEWS},
    }
    outlines = {k: source.outlines[k] for k in ("area", "precincts")}
    header = html.Header(
        [
            html.H1(
                [
                    html.Span(source.area_name, className="pnm-wall-area"),
                    html.Span(t("wall_title", lang)),
                ],
                className="pnm-wall-name",
            ),
            html.Div(
                t("synthetic_banner", lang) if source.synthetic else "",
                className="pnm-wall-synthetic" if source.synthetic else "pnm-wall-hidden",
            ),
            html.Div(
                [
                    html.Span(titles[first], id=ids.WALL_TITLE),
                    html.Span(windows[first], id=ids.WALL_WINDOW),
                ],
                className="pnm-wall-view",
            ),
            html.Span("", id=ids.WALL_STEP, className="pnm-wall-step"),
        ],
        className="pnm-wall-header",
    )
    return html.Div(
        [
            dcc.Store(id=ids.WALL_CONFIG, data=config),
            dcc.Store(id=ids.WALL_STATUS, data={"seq": 0, "shown": "", "lang": lang}),
            dcc.Store(id=ids.WALL_VIEWS),
            dcc.Interval(id=ids.WALL_ROTATE, interval=int(opts.period_s * 1000)),
            dcc.Interval(id=ids.WALL_REFRESH, interval=int(opts.refresh_s * 1000)),
            html.Div(
                [
                    header,
                    html.Div(id=ids.WALL_BANNER, className="pnm-wall-banner pnm-wall-banner-off"),
                    html.Main(
                        [
                            html.Section(
                                [
                                    wall_map(
                                        outlines=outlines,
                                        bounds=bounds,
                                        settings=settings,
                                        labels=label_data(source, WALL_ZOOMS, short_below=0),
                                    ),
                                    html.Div(id=ids.WALL_LEGENDS, className="pnm-wall-legends"),
                                ],
                                className="pnm-wall-stage",
                            ),
                            html.Aside(
                                [
                                    html.Div(
                                        html.P(
                                            t("wall_loading", lang), className="pnm-wall-loading"
                                        ),
                                        id=ids.WALL_FIGURES,
                                        className="pnm-wall-figures",
                                    ),
                                    html.Div(id=ids.WALL_GAPS, className="pnm-wall-gaps"),
                                ],
                                className="pnm-wall-side",
                            ),
                        ],
                        className="pnm-wall-body",
                    ),
                    html.Footer(id=ids.WALL_FOOTER, className="pnm-wall-footer"),
                ],
                className="pnm-wall-screen",
            ),
        ],
        id=ids.WALL_ROOT,
        className=f"pnm-wall pnm-wall-view-{first}",
        lang="zh-CN" if lang == "zh" else "en",
    )


# --------------------------------------------------------------------------- callbacks


def status_of(
    version: str,
    built: dt.datetime | None,
    *,
    seq: int,
    config: dict[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    """The status a refresh answers with: the tick it answers, the data version shown
    and when it was built, its age and whether it is stale (with the banner's text), the
    server's time and the app version."""
    lang = config.get("lang", "zh")
    status: dict[str, Any] = {
        "seq": seq,
        "lang": lang,
        "time": cst(now)[-5:],
        "app": app_version(),
        "shown": version,
    }
    if built is not None:
        age = (now - built).total_seconds()
        status["built"] = built.isoformat()
        status["age_s"] = age
        status["stale"] = age > float(config.get("stale_s", 3600.0))
        status["stale_text"] = t("wall_stale", lang, age=age_text(age, lang), built=cst(built))
    return status


def refresh(
    feed: WallFeed,
    *,
    n: int | None,
    config: dict[str, Any],
    shown: dict[str, Any] | None,
    scope: Collection[str] | None = None,
    now: dt.datetime | None = None,
) -> tuple[Any, ...]:
    """One refresh of the wall: status, figures, gap list, legends, views, footer.

    Everything but the status is ``no_update`` when the page already shows this data
    version, or when the data are not ready in time (the page keeps its picture).
    """
    now = now or dt.datetime.now(dt.UTC)
    lang = config.get("lang", "zh")
    wait = min(WAIT_SHARE * float(config.get("refresh_s", 60.0)), MAX_WAIT_S)
    data = feed.data(scope, wait_s=wait)
    seq = int(n or 0)
    keep = (no_update,) * 5
    if data is None:
        # No new data in time (or computing failed): the picture stays, and its age
        # keeps counting from when the data it shows were built.
        old = shown or {}
        built = dt.datetime.fromisoformat(old["built"]) if old.get("built") else None
        status = status_of(old.get("shown", ""), built, seq=seq, config=config, now=now)
        return status, *keep
    status = status_of(data.version, data.built_at, seq=seq, config=config, now=now)
    footer = footer_text(data, now, lang)
    if shown and shown.get("shown") == data.version and shown.get("lang") == lang:
        return status, no_update, no_update, no_update, no_update, footer
    views = {
        v: view_payload(data.views[v], v, lang, data.marks.get(v), basis=data.bases.get(v))
        for v in dict.fromkeys(config.get("views", []))
    }
    return (
        status,
        figures_view(data.figures, lang),
        gaps_view(data.gaps, lang),
        legends_view(views, lang),
        views,
        footer,
    )


def register_callbacks(app: Dash, source: ReloadingSource, layer_cache: LayerCache) -> WallFeed:
    """Wire the wall's callbacks into ``app``; returns its data feed."""
    feed = WallFeed(source, layer_cache)

    @app.callback(
        Output(ids.WALL_STATUS, "data"),
        Output(ids.WALL_FIGURES, "children"),
        Output(ids.WALL_GAPS, "children"),
        Output(ids.WALL_LEGENDS, "children"),
        Output(ids.WALL_VIEWS, "data"),
        Output(ids.WALL_FOOTER, "children"),
        Input(ids.WALL_REFRESH, "n_intervals"),
        State(ids.WALL_CONFIG, "data"),
        State(ids.WALL_STATUS, "data"),
    )
    def _refresh(n: object, config: object, shown: object) -> tuple[Any, ...]:
        try:  # the stores come back from the browser: anything may be in them
            checked, last = checked_config(config or {}), checked_status(shown)
        except BadWallInput as exc:
            log.warning("wall refresh refused: %s", exc)
            raise PreventUpdate from None
        tick = n if isinstance(n, int) and not isinstance(n, bool) else 0
        # The signed-in user's scope (the whole area for a commander or a wall kiosk).
        return refresh(feed, n=tick, config=checked, shown=last, scope=current_scope())

    app.clientside_callback(
        ClientsideFunction(namespace="pnm_wall", function_name="rotate"),
        Output(ids.WALL_ROOT, "className"),
        Output(ids.WALL_TITLE, "children"),
        Output(ids.WALL_WINDOW, "children"),
        Output(ids.WALL_STEP, "children"),
        Output(ids.WALL_HEXES, "data"),
        Output(ids.WALL_HEXES, "hideout"),
        Output(ids.WALL_MAP, "viewport"),
        Output(ids.WALL_MAP, "invalidateSize"),
        Input(ids.WALL_ROTATE, "n_intervals"),
        Input(ids.WALL_VIEWS, "data"),
        State(ids.WALL_CONFIG, "data"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="pnm_wall", function_name="health"),
        Output(ids.WALL_BANNER, "children"),
        Output(ids.WALL_BANNER, "className"),
        Input(ids.WALL_REFRESH, "n_intervals"),
        Input(ids.WALL_STATUS, "data"),
        State(ids.WALL_CONFIG, "data"),
    )
    return feed


__all__ = [
    "PATH",
    "WallOptions",
    "app_version",
    "layout",
    "refresh",
    "register_callbacks",
    "status_of",
    "wall_options",
]
