"""Sections of the side panel that belong to one layer: why a hexagon is a gap (its reason
line and the parts of risk and protection), and the patrol coverage % of its grid and
precinct. Text only: reasons and names are shown as text, never as markup."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.i18n import t
from dashboard.views.protection import STANDARD


def _parts(rows: list[list[Any]], lang: str) -> html.Table:
    """Parts of a score, each 0..1 with a bar (None: left out of the score)."""
    body = []
    for label, value in rows:
        if value is None:
            cell: Any = html.Td(t("gap_part_left_out", lang), className="pnm-part-none")
        else:
            cell = html.Td(
                [
                    html.Span(
                        html.Span(className="pnm-bar-fill", style={"width": f"{value:.0%}"}),
                        className="pnm-bar",
                    ),
                    html.Span(f"{value:.2f}", className="pnm-part-value"),
                ]
            )
        body.append(html.Tr([html.Th(label), cell]))
    return html.Table(html.Tbody(body), className="pnm-why pnm-parts")


def gap_section(detail: dict[str, Any] | None, *, lang: str) -> list[Any]:
    """Why a cell is (or is not) a gap: class, reason line, score and its parts.

    ``detail`` is :func:`dashboard.views.gaps.gap_detail` in ``lang``; None gives nothing.
    """
    if not detail:
        return []
    swatch = html.Span(
        className="pnm-swatch", style={"backgroundColor": detail["colour"] or "#ffffff"}
    )
    return [
        html.H3(t("gap_why", lang)),
        html.P(
            [swatch, html.Span(f" {detail['label']} · {detail['state']}")],
            className="pnm-panel-category",
        ),
        html.P(detail["reason"] or t("gap_no_reason", lang), className="pnm-gap-why"),
        html.P(
            t(
                "gap_score",
                lang,
                gap=f"{detail['gap']:.2f}",
                rank=f"{detail['rank']:,}",
                cells=f"{detail['cells']:,}",
            ),
            className="pnm-note",
        ),
        html.H3(t("gap_risk_parts", lang)),
        _parts(detail["risk_parts"], lang),
        html.H3(t("gap_protection_parts", lang)),
        _parts(detail["protection_parts"], lang),
    ]


def zone_coverage_section(rows: list[dict[str, Any]], *, lang: str) -> list[Any]:
    """Patrol coverage % of the cell's grid and precinct (see
    :func:`dashboard.views.protection.zone_coverage`); nothing when neither is known."""
    if not rows:
        return []
    table = html.Table(
        html.Tbody(
            [
                html.Tr(
                    [
                        html.Th(row["name"]),
                        html.Td(
                            t(
                                "zone_coverage_value",
                                lang,
                                pct=f"{row['value'] * 100:.0f}",
                                covered=f"{row['covered']:,}",
                                cells=f"{row['cells']:,}",
                            )
                        ),
                    ]
                )
                for row in rows
            ]
        ),
        className="pnm-why",
    )
    note = t("zone_coverage_note", lang, standard=f"{STANDARD.dwell_min_per_day:g}")
    return [html.H3(t("zone_coverage", lang)), table, html.P(note, className="pnm-note")]


__all__ = ["gap_section", "zone_coverage_section"]
