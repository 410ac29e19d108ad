"""The thin bar above every page: who is signed in and a sign-out button — or, with
sign-in off, a banner saying so."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.auth.users import User
from dashboard.i18n import t
from dashboard.pages.login import LOGOUT_PATH

BAR_ID = "auth-bar"
OFF_BANNER_ID = "auth-off-banner"


def auth_bar(user: User | None, *, mode: str, lang: str) -> html.Div | None:
    """The bar for ``user`` in ``lang``; None where nothing needs saying (a wall kiosk)."""
    if mode == "none":
        return html.Div(
            html.Span(t("auth_off_banner", lang), id=OFF_BANNER_ID, className="pnm-auth-off"),
            id=BAR_ID,
            className="pnm-auth-bar",
        )
    if user is None or user.role == "wall":
        return None
    who = html.Span(
        t("signed_in_as", lang, name=user.name, role=t(f"role_{user.role}", lang)),
        className="pnm-auth-user",
    )
    parts: list[Any] = [who]
    if mode == "users":
        # A form, not a link: sign-out is a POST (GET /logout signs nobody out).
        parts.append(
            html.Form(
                html.Button(t("sign_out", lang), type="submit", className="pnm-sign-out"),
                method="POST",
                action=f"{LOGOUT_PATH}?lang={lang}",
                className="pnm-sign-out-form",
            )
        )
    return html.Div(parts, id=BAR_ID, className="pnm-auth-bar")
