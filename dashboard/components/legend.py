"""The legend of a classified layer, drawn from the description ``layers.classify.legend``."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.i18n import t


def legend_view(
    description: dict[str, Any] | None, *, lang: str, ordered: bool = True
) -> list[Any]:
    """The children of the legend box: title, one row per class, or an "empty" line.

    Parameters
    ----------
    description : dict or None
        ``{"title", "unit", "entries": [{"colour", "label", ...}]}``.
    lang : str
        Language of the fallback line.
    ordered : bool
        Whether the classes are ordered (shown highest on top, as on a thermometer);
        categories are listed in their own order.
    """
    if not description:
        return []
    title = [html.Span(description["title"], className="pnm-legend-title")]
    if description.get("unit"):
        title.append(
            html.Span(
                f"（{description['unit']}）" if lang == "zh" else f" ({description['unit']})",
                className="pnm-legend-unit",
            )
        )
    entries = description.get("entries") or []
    if not entries:
        return [html.Div(title), html.Div(t("legend_nodata", lang), className="pnm-legend-empty")]
    rows = [
        html.Li(
            [
                html.Span(className="pnm-swatch", style={"backgroundColor": entry["colour"]}),
                html.Span(entry["label"], className="pnm-legend-label"),
            ],
            className="pnm-legend-row",
        )
        for entry in (reversed(entries) if ordered else entries)
    ]
    return [html.Div(title), html.Ul(rows, className="pnm-legend-rows")]


def outline_legend(*, lang: str) -> html.Div:
    """The line symbols of the boundary layers (county, precincts, grids)."""
    rows = [
        html.Li(
            [html.Span(className=f"pnm-line pnm-line-{kind}"), html.Span(t(key, lang))],
            className="pnm-legend-row",
        )
        for kind, key in (
            ("area", "area_outline"),
            ("precinct", "precinct_outline"),
            ("grid", "grid_outline"),
        )
    ]
    return html.Div(
        [
            html.Div(t("outlines", lang), className="pnm-legend-title"),
            html.Ul(rows, className="pnm-legend-rows"),
        ],
        className="pnm-legend-outlines",
    )
