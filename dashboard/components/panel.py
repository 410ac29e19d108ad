"""The side panel beside the map: why a hexagon has its colour, its trend, where it lies
(drill-down crumbs) and what is nearby. Every name is data and is shown as text."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard import ids
from dashboard.components.folds import FOLDABLE, fold_button
from dashboard.i18n import t

TREND_COLOUR = "#b91c1c"


def trend_figure(trend: dict[str, list[Any]], lang: str) -> dict[str, Any]:
    """A small plotly bar chart of weekly counts (a plain figure dict)."""
    return {
        "data": [
            {
                "type": "bar",
                "x": trend["weeks"],
                "y": trend["values"],
                "marker": {"color": TREND_COLOUR},
                "hovertemplate": "%{x}: %{y}<extra></extra>",
            }
        ],
        "layout": {
            "height": 150,
            "margin": {"l": 32, "r": 8, "t": 6, "b": 28},
            "font": {"size": 12},
            "xaxis": {"type": "date", "tickformat": "%Y-%m"},
            "yaxis": {"title": {"text": ""}, "rangemode": "tozero", "tickformat": "d"},
            "bargap": 0.1,
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def _crumbs(detail: dict[str, Any], lang: str) -> html.Nav:
    parts: list[Any] = [
        html.Button(
            t("county", lang), id={"type": ids.CRUMB, "index": "county"}, className="pnm-crumb"
        )
    ]
    for level in ("precinct", "grid"):
        zone = detail["zones"].get(level)
        if zone:
            parts += [
                html.Span("›", className="pnm-crumb-sep"),
                html.Button(
                    zone["name"],
                    id={"type": ids.CRUMB, "index": f"{level}:{zone['id']}"},
                    className="pnm-crumb",
                    title=zone["name"],
                ),
            ]
    parts += [
        html.Span("›", className="pnm-crumb-sep"),
        html.Span(t("panel_res", lang, res=detail["res"])),
    ]
    return html.Nav(parts, className="pnm-crumbs", title=t("drill", lang))


def panel(*, lang: str) -> html.Aside:
    """The (closed) side panel: close and fold buttons that always exist, and a body to fill."""
    return html.Aside(
        [
            html.Button(
                "×", id=ids.PANEL_CLOSE, className="pnm-panel-close", title=t("panel_close", lang)
            ),
            fold_button(ids.PANEL_FOLD, title=t("panel_fold", lang)),
            html.Div(id=ids.PANEL_BODY, className=FOLDABLE),
        ],
        id=ids.PANEL,
        className="pnm-panel pnm-panel-closed",
    )


def panel_view(detail: dict[str, Any] | None, *, lang: str) -> list[Any]:
    """The panel's children for a cell's detail (see :func:`dashboard.views.detail.cell_detail`)."""
    if not detail:
        return []
    why: list[Any] = []
    if detail.get("category"):
        why.append(html.P(detail["category"], className="pnm-panel-category"))
    if detail["rows"]:
        why.append(
            html.Table(
                html.Tbody(
                    [html.Tr([html.Th(label), html.Td(value)]) for label, value in detail["rows"]]
                ),
                className="pnm-why",
            )
        )
    else:
        why.append(html.P(detail["empty"], className="pnm-panel-empty"))
    communities = [
        html.Li(
            [
                html.Span(c["name"], className="pnm-name"),
                html.Span(f" · {c['status']} · {t('distance', lang, m=c['distance_m'])}"),
                html.Div(c["reason"], className="pnm-reason")
                if c["at_risk"] and c["reason"]
                else None,
            ],
            className="pnm-at-risk" if c["at_risk"] else "",
        )
        for c in detail["communities"]
    ] or [html.Li(t("panel_none", lang))]
    units = [
        html.Li(
            [
                html.Span(u["name"], className="pnm-name"),
                html.Span(f" · {u['kind']} · {t('distance', lang, m=u['distance_m'])}"),
            ]
        )
        for u in detail["units"]
    ] or [html.Li(t("panel_none", lang))]
    return [
        html.H2(t("panel_title", lang, cell=detail["cell"]), className="pnm-panel-title"),
        _crumbs(detail, lang),
        html.H3(f"{t('panel_why', lang)} · {detail['layer']}"),
        *why,
        html.H3(t("panel_trend", lang)),
        dcc.Graph(
            id=ids.TREND,
            figure=trend_figure(detail["trend"], lang),
            config={"displayModeBar": False, "responsive": True},
            className="pnm-trend",
        ),
        html.H3(t("panel_communities", lang)),
        html.Ul(communities, className="pnm-list"),
        html.H3(t("panel_units", lang)),
        html.Ul(units, className="pnm-list"),
    ]
