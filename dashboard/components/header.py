"""The page header: title, the synthetic-data banner and the language switch."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t


def lang_href(pathname: str, search: str | None, lang: str) -> str:
    """The current URL with ``lang`` set, every other query parameter kept."""
    params = [(k, v) for k, v in parse_qsl((search or "").lstrip("?")) if k != "lang"]
    params.append(("lang", lang))
    return f"{pathname or '/'}?{urlencode(params)}"


def header(
    *,
    lang: str,
    area_name: str,
    synthetic: bool,
    note: str,
    pathname: str,
    search: str | None,
) -> html.Header:
    """The header of a page in ``lang``; the banner appears only for synthetic data."""
    switch = html.Nav(
        [
            dcc.Link(
                "中文",
                id=ids.LANG_ZH,
                href=lang_href(pathname, search, "zh"),
                className="pnm-lang-active" if lang == "zh" else "",
                title="中文",
            ),
            html.Span("|", className="pnm-lang-sep"),
            dcc.Link(
                "EN",
                id=ids.LANG_EN,
                href=lang_href(pathname, search, "en"),
                className="pnm-lang-active" if lang == "en" else "",
                title="English",
            ),
        ],
        id=ids.LANG_SWITCH,
        className="pnm-lang",
        title=t("language", lang),
    )
    children: list[Any] = [
        html.H1(
            [
                html.Span(area_name, className="pnm-area") if area_name else None,
                html.Span(t("app_title", lang)),
            ],
            className="pnm-title",
        )
    ]
    if synthetic:
        children.append(
            html.Div(t("synthetic_banner", lang), id=ids.BANNER, className="pnm-banner", title=note)
        )
    children.append(switch)
    return html.Header(children, className="pnm-header")
