"""How the map page fits a phone, a laptop and a 4K screen: the drawer and the folds.

Below 900 px the sidebar is a drawer (closed; a button over the map opens it, a choice or
a tap on the dimmed map closes it) and the side panel a bottom sheet; on a laptop the
ranked gap list starts folded to its title. The sizes are CSS (``assets/pnm.css``, the
media queries at its end); the state lives in classes that clientside callbacks
(``assets/layout.js``) flip, so nothing goes to the server. Each fold's state is the class
of an element no server callback writes: the drawer's on the page body, the gap list's
on its body, the panel's on its body.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, html

from dashboard import ids
from dashboard.i18n import t

BODY = "pnm-body"
"""The class of the page body (sidebar + map) with the drawer closed."""
FOLDABLE = "pnm-foldable"
FOLD_ON_SMALL = "pnm-foldable pnm-fold-small"
"""The class of a fold that starts folded on a laptop or a phone, open on a large screen."""


def drawer_open_button(*, lang: str) -> html.Button:
    """The button over the map that opens the sidebar (shown below 900 px only)."""
    return html.Button(
        t("drawer_open", lang),
        id=ids.DRAWER_OPEN,
        n_clicks=0,
        className="pnm-button pnm-drawer-open",
        title=t("drawer_open_title", lang),
    )


def drawer_close_button(*, lang: str) -> html.Button:
    """The drawer's own close button, at the sidebar's top (shown below 900 px only)."""
    return html.Button(
        "×",
        id=ids.DRAWER_CLOSE,
        n_clicks=0,
        className="pnm-drawer-close",
        title=t("drawer_close", lang),
    )


def drawer_backdrop() -> html.Div:
    """The dimmed map beside the open drawer; a tap on it closes the drawer."""
    return html.Div(id=ids.DRAWER_BACKDROP, n_clicks=0, className="pnm-backdrop")


def fold_button(target: str, *, title: str, children: Any = None) -> html.Button:
    """A button that folds or unfolds a box; its chevron is drawn by CSS from the state."""
    return html.Button(
        children, id=target, n_clicks=0, className="pnm-fold", title=title, type="button"
    )


# Single choices in the drawer close it (the map is what the user wants to see next);
# the multi-select filters and the dates keep it open for the next pick.
CLOSING_CHOICES = (
    (ids.LAYER, "value"),
    (ids.WINDOW, "value"),
    (ids.PLAY_STEP, "value"),
    (ids.PLAY_BUTTON, "n_clicks"),
    (ids.BAND, "value"),
    (ids.FDR, "value"),
    (ids.RESOLUTION, "value"),
    (ids.SCHEME, "value"),
)


def register_fold_callbacks(app: Dash) -> None:
    """The clientside callbacks of the drawer, the gap list's fold and the panel's fold."""
    app.clientside_callback(
        ClientsideFunction(namespace="pnm_layout", function_name="drawer"),
        Output(ids.MAP_BODY, "className"),
        Input(ids.DRAWER_OPEN, "n_clicks"),
        Input(ids.DRAWER_CLOSE, "n_clicks"),
        Input(ids.DRAWER_BACKDROP, "n_clicks"),
        *[Input(target, prop) for target, prop in CLOSING_CHOICES],
        State(ids.MAP_BODY, "className"),
        prevent_initial_call=True,
    )
    for body, button, back in (
        # On a phone, a chosen entry folds the list away: the cell's sheet comes up.
        (
            ids.GAP_LIST_BODY,
            ids.GAP_LIST_FOLD,
            Input({"type": ids.GAP_ENTRY, "index": ALL}, "n_clicks"),
        ),
        (ids.PANEL_BODY, ids.PANEL_FOLD, Input(ids.SELECTED, "data")),  # a new cell unfolds it
    ):
        app.clientside_callback(
            ClientsideFunction(namespace="pnm_layout", function_name="fold"),
            Output(body, "className"),
            Input(button, "n_clicks"),
            back,
            State(body, "className"),
            prevent_initial_call=True,
        )


__all__ = [
    "BODY",
    "CLOSING_CHOICES",
    "FOLDABLE",
    "FOLD_ON_SMALL",
    "drawer_backdrop",
    "drawer_close_button",
    "drawer_open_button",
    "fold_button",
    "register_fold_callbacks",
]
