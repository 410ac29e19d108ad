"""The ranked gap list beside the map: the largest gaps of the window, each with its reason.

Every entry is a button whose id carries the cell (``{"type": GAP_ENTRY, "index": <H3
id>}``); a click flies the map there and selects the cell. Names and reason lines are
data: they travel as plain strings (React renders them as text nodes), never as markup.
"""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard import ids
from dashboard.components.folds import FOLD_ON_SMALL, fold_button
from dashboard.i18n import t
from dashboard.views.gaps import GAP_COLOURS, TOP_N

HIDDEN = "pnm-gaps pnm-gaps-hidden"
SHOWN = "pnm-gaps"


def gap_list_box(*, lang: str) -> html.Section:
    """The (hidden) box of the list: a heading that folds it and a body the callback fills."""
    return html.Section(
        [
            html.H2(
                fold_button(
                    ids.GAP_LIST_FOLD,
                    title=t("gap_list_fold", lang),
                    children=t("gap_list_title", lang),
                ),
                className="pnm-gaps-title",
            ),
            # Folded to its title on a laptop or a phone until opened (components.folds).
            html.Div(id=ids.GAP_LIST_BODY, className=FOLD_ON_SMALL),
        ],
        id=ids.GAP_LIST,
        className=HIDDEN,
    )


def _place(entry: dict[str, Any], lang: str) -> str:
    grid, precinct = entry.get("grid") or "", entry.get("precinct") or ""
    if grid and precinct:
        return t("gap_list_place", lang, grid=grid, precinct=precinct)
    return grid or precinct or entry["cell"]


def gap_entry(entry: dict[str, Any], *, lang: str, selected: bool = False) -> html.Li:
    """One entry: rank, class (swatch and label), grid and precinct, and the reason line."""
    reason = entry["reason_zh" if lang == "zh" else "reason_en"]
    label = entry["label_zh" if lang == "zh" else "label_en"]
    return html.Li(
        html.Button(
            [
                html.Span(str(entry["rank"]), className="pnm-gap-rank"),
                html.Span(
                    className="pnm-swatch",
                    style={"backgroundColor": GAP_COLOURS.get(int(entry["class"]), "#ffffff")},
                ),
                html.Span(label, className="pnm-gap-class"),
                html.Span(_place(entry, lang), className="pnm-gap-place"),
                html.Div(reason, className="pnm-gap-reason"),
            ],
            id={"type": ids.GAP_ENTRY, "index": entry["cell"]},
            n_clicks=0,
            className="pnm-gap-entry pnm-gap-selected" if selected else "pnm-gap-entry",
            title=reason,
        )
    )


def gap_list_view(entries: list[dict[str, Any]], *, lang: str, selected: str = "") -> list[Any]:
    """The list's body: a note on what is ranked, then the entries (or an "empty" line).

    Parameters
    ----------
    entries : list of dict
        :func:`dashboard.views.gaps.gap_list`.
    lang : str
        ``zh`` or ``en``.
    selected : str
        The selected cell (its entry is marked).
    """
    if not entries:
        return [html.P(t("gap_list_empty", lang), className="pnm-note")]
    return [
        # Ranked at the resolution the map draws the gap layer at: the list's #1 is the
        # largest gap of the hexagons on screen (and of the wall at the same resolution).
        html.P(
            t("gap_list_note", lang, n=TOP_N, res=entries[0].get("res", "")), className="pnm-note"
        ),
        html.Ol(
            [gap_entry(e, lang=lang, selected=e["cell"] == selected) for e in entries],
            className="pnm-gap-items",
        ),
    ]


__all__ = ["HIDDEN", "SHOWN", "gap_entry", "gap_list_box", "gap_list_view"]
