"""The wall screen's panels: headline figures, the top-gaps list, legends, footer text.

Pure functions from :class:`~dashboard.views.wall.WallData` to Dash components in one
language; the page replaces these children whole on every new data version (never
appends), so the browser's DOM stays the same size all day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from dash import html

from dashboard.components.legend import legend_view
from dashboard.i18n import t
from dashboard.views.wall import (
    HOTSPOT_MARK,
    Change,
    Count,
    Figures,
    GapLine,
    WallData,
    figure_link,
)

CST = dt.timezone(dt.timedelta(hours=8), "CST")
"""China Standard Time: the data's naive timestamps are in it, and so is every time shown."""

FLAT_PCT = 0.5
"""Changes that round to 0 % read "no change"."""


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.0f}" if whole else ""


def change_text(change: Change, lang: str) -> tuple[str, str]:
    """The text of a 同比/环比 comparison and its tone (``up``, ``down``, ``flat``, ``na``),
    ``-strong`` appended when the exact test finds the change significant."""
    if change.state == "new":
        return t("wall_change_new", lang), "up-strong" if change.significant else "up"
    if change.state == "none":
        return t("wall_change_none", lang), "flat"
    if change.state != "ok" or change.pct is None:
        return t("wall_change_no_data", lang), "na"
    if abs(change.pct) < FLAT_PCT:
        return t("wall_change_flat", lang), "flat"
    arrow, tone = ("▲", "up") if change.pct > 0 else ("▼", "down")
    strong = "-strong" if change.significant else ""
    return f"{arrow} {abs(change.pct):.0f}%", tone + strong


def _change_line(label: str, change: Change, lang: str) -> html.Div:
    text, tone = change_text(change, lang)
    return html.Div(
        [
            html.Span(label, className="pnm-wall-change-label"),
            html.Span(text, className=f"pnm-wall-change pnm-wall-{tone}"),
        ],
        className="pnm-wall-line",
    )


FIGURE_OF: dict[str, str] = {
    "today": "today",
    "week": "week",
    "coverage": "hotspots",
    "koper": "koper",
    "gaps": "gaps",
    "certified": "communities",
}
"""The wall figure (:data:`dashboard.views.wall.FIGURE_LINKS`) each panel shows."""


def _figure(
    key: str, label: str, value: str, unit: str, lines: list[Any], lang: str = "zh"
) -> html.Div:
    # The label opens the map view whose summary line shows the same number.
    link = html.A(label, href=figure_link(FIGURE_OF[key], lang), className="pnm-wall-figure-link")
    return html.Div(
        [
            html.Div(link, className="pnm-wall-figure-label"),
            html.Div(
                [
                    html.Span(value, className="pnm-wall-figure-value"),
                    html.Span(unit, className="pnm-wall-figure-unit") if unit else None,
                ],
                className="pnm-wall-figure-main",
            ),
            html.Div(lines, className="pnm-wall-figure-lines"),
        ],
        className=f"pnm-wall-figure pnm-wall-figure-{key}",
        id=f"wall-figure-{key}",
    )


def _count(key: str, count: Count, lang: str, *, week: bool) -> html.Div:
    last = (count.until - pd.Timedelta(days=1)).strftime("%m-%d")
    if week:
        note = t("wall_week_since", lang, date=count.since.strftime("%m-%d"), until=last)
        mom = t("wall_week_on_week", lang)
    else:
        note = t("wall_today_since", lang, date=count.since.strftime("%m-%d"))
        mom = t("wall_day_on_day", lang)
    return _figure(
        key,
        t("wall_week" if week else "wall_today", lang),
        f"{count.count:,}",
        t("wall_count_unit", lang),
        [
            _change_line(mom, count.mom, lang),
            _change_line(t("wall_year_on_year", lang), count.yoy, lang),
            html.Div(note, className="pnm-wall-line pnm-wall-note"),
        ],
        lang,
    )


def _share(key: str, label: str, part: int, whole: int, line: str, lang: str) -> html.Div:
    pct = _pct(part, whole)
    return _figure(
        key,
        label,
        pct or t("wall_none", lang),
        "%" if pct else "",
        [html.Div(line, className="pnm-wall-line pnm-wall-note")],
        lang,
    )


def figures_view(f: Figures, lang: str) -> list[html.Div]:
    """The six headline figures, in reading order."""
    return [
        _count("today", f.today, lang, week=False),
        _count("week", f.week, lang, week=True),
        _share(
            "coverage",
            t("wall_coverage", lang),
            f.hotspots_covered,
            f.hotspots,
            t("wall_coverage_line", lang, covered=f.hotspots_covered, cells=f.hotspots),
            lang,
        ),
        _share(
            "koper",
            t("wall_koper", lang),
            f.koper_dosed,
            f.koper_hours,
            t("wall_koper_line", lang, dosed=f"{f.koper_dosed:,}", hours=f"{f.koper_hours:,}"),
            lang,
        ),
        _figure(
            "gaps",
            t("wall_gaps_figure", lang),
            f"{f.gap_cells:,}",
            t("wall_gaps_unit", lang),
            [
                html.Div(
                    t(
                        "wall_gaps_line",
                        lang,
                        c4=f.gap_classes.get(4, 0),
                        c3=f.gap_classes.get(3, 0),
                        c2=f.gap_classes.get(2, 0),
                    ),
                    className="pnm-wall-line pnm-wall-note",
                )
            ],
            lang,
        ),
        _share(
            "certified",
            t("wall_certified", lang),
            f.certified,
            f.communities,
            t(
                "wall_certified_line",
                lang,
                certified=f"{f.certified:,}",
                communities=f"{f.communities:,}",
                at_risk=f.at_risk,
            ),
            lang,
        ),
    ]


def place_text(gap: GapLine, lang: str) -> str:
    """Where a gap is: its grid and precinct (public place names), else its cell."""
    if gap.grid and gap.precinct:
        return f"{gap.grid}（{gap.precinct}）" if lang == "zh" else f"{gap.grid} ({gap.precinct})"
    return gap.grid or gap.precinct or gap.cell


def gaps_view(gaps: list[GapLine], lang: str) -> list[Any]:
    """The top-gaps list: title, then one entry per gap (rank, place, reason line); the
    screen shows as many whole entries as fit (assets/wall.css)."""
    title = html.H2(t("wall_top_gaps", lang), className="pnm-wall-gaps-title")
    if not gaps:
        return [title, html.P(t("wall_no_gaps", lang), className="pnm-wall-gaps-empty")]
    items = [
        html.Li(
            [
                html.Span(str(g.rank), className=f"pnm-wall-rank pnm-wall-gap-{g.klass}"),
                html.Div(
                    [
                        html.Div(place_text(g, lang), className="pnm-wall-gap-place"),
                        html.Div(g.reason.text(lang), className="pnm-wall-gap-reason"),
                    ],
                    className="pnm-wall-gap-text",
                ),
            ],
            className="pnm-wall-gap",
        )
        for g in gaps
    ]
    return [title, html.Ol(items, className="pnm-wall-gap-list")]


def legends_view(payloads: dict[str, dict[str, Any]], lang: str) -> list[html.Div]:
    """One legend per view; the page shows the one of the view on screen (CSS)."""
    boxes = []
    for view, p in payloads.items():
        children = legend_view(p["legend"], lang=lang, ordered=not p["categorical"])
        if "h" in p["data"]:
            children.append(
                html.Div(
                    [
                        html.Span(className="pnm-swatch pnm-wall-hot-swatch"),
                        html.Span(HOTSPOT_MARK.text(lang), className="pnm-legend-label"),
                    ],
                    className="pnm-legend-row pnm-wall-hot-row",
                )
            )
        boxes.append(html.Div(children, className=f"pnm-wall-legend pnm-wall-legend-{view}"))
    return boxes


def cst(when: dt.datetime | pd.Timestamp) -> str:
    """A moment as ``MM-DD HH:MM`` in China Standard Time (naive values are CST)."""
    moment = pd.Timestamp(when)
    if moment.tzinfo is not None:
        moment = moment.tz_convert(CST).tz_localize(None)
    return moment.strftime("%m-%d %H:%M")


def age_text(seconds: float, lang: str) -> str:
    """How old, in whole minutes, hours or days."""
    minutes = max(int(seconds // 60), 0)
    if minutes < 120:
        return t("wall_minutes", lang, n=minutes)
    if minutes < 48 * 60:
        return t("wall_hours", lang, n=minutes // 60)
    return t("wall_days", lang, n=minutes // (24 * 60))


def footer_text(data: WallData, now: dt.datetime, lang: str) -> str:
    """Where the data end, when they were built, when the wall last refreshed."""
    built = cst(data.built_at) if data.built_at else t("wall_none", lang)
    return t("wall_footer", lang, until=cst(data.until), built=built, now=cst(now)[-5:])


__all__ = [
    "CST",
    "age_text",
    "change_text",
    "cst",
    "figures_view",
    "footer_text",
    "gaps_view",
    "legends_view",
    "place_text",
]
