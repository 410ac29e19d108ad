"""The sign-in page at ``/login``, and the plain pages that refuse access.

Plain HTML from Flask, not a Dash page: it must work before anyone is signed in (the
Dash scripts are only served to signed-in users), and it needs no script at all. Every
value placed in it is escaped; its one ``<style>`` block is allowed by the
Content-Security-Policy through its hash (:data:`STYLE_HASH`), nothing else inline is.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlencode

from markupsafe import escape

from dashboard.i18n import t

PATH = "/login"
LOGOUT_PATH = "/logout"

STYLE = """
body{margin:0;font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;
background:#f3f4f6;color:#1f2937}
header{background:#111827;color:#f9fafb;padding:12px 20px;display:flex;align-items:center;gap:16px}
header h1{margin:0;font-size:20px;font-weight:600}
header .area{color:#fbbf24;margin-right:10px}
header nav{margin-left:auto}
header nav a{color:#d1d5db;text-decoration:none;padding:2px 6px}
header nav a.on{color:#111827;background:#f9fafb;border-radius:3px;font-weight:600}
main{max-width:360px;margin:80px auto;background:#fff;padding:28px 32px;border-radius:6px;
box-shadow:0 1px 4px rgba(0,0,0,.12)}
main h2{margin:0 0 18px;font-size:20px}
label{display:block;margin:12px 0 4px;font-size:14px;color:#4b5563;font-weight:600}
input{width:100%;box-sizing:border-box;padding:8px 10px;font-size:16px;border:1px solid #d1d5db;
border-radius:4px}
button{margin-top:20px;width:100%;padding:10px;font-size:16px;background:#1d4ed8;color:#fff;
border:0;border-radius:4px;cursor:pointer}
.error{margin:0 0 8px;padding:8px 10px;background:#fee2e2;color:#991b1b;border-radius:4px}
a.home{display:inline-block;margin-top:12px;color:#1d4ed8}
""".strip()

STYLE_HASH = "'sha256-{}'".format(
    base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")
)
"""The CSP source that allows :data:`STYLE` (and no other inline style)."""


def safe_next(value: str | None) -> str:
    """A local path to go to after signing in; "/" for anything else (no open redirect)."""
    text = (value or "").strip()
    if (
        not text.startswith("/")
        or text.startswith("//")
        or "\\" in text
        or any(ord(c) < 32 for c in text)
        or text.startswith((PATH, LOGOUT_PATH))
    ):
        return "/"
    return text


def _document(lang: str, title: str, area_name: str, body: str, switch: dict[str, str]) -> str:
    links = " | ".join(
        '<a href="{}"{}>{}</a>'.format(
            escape(PATH + "?" + urlencode({**switch, "lang": code})),
            ' class="on"' if code == lang else "",
            label,
        )
        for code, label in (("zh", "中文"), ("en", "EN"))
    )
    area = f'<span class="area">{escape(area_name)}</span>' if area_name else ""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{area}{escape(t('app_title', lang))}</h1><nav>{links}</nav></header>"
        f"<main>{body}</main></body></html>"
    )


def login_page(*, lang: str, next_url: str, csrf: str, area_name: str = "", error: str = "") -> str:
    """The sign-in form in ``lang``; ``error`` (already in ``lang``) shown above it."""
    title = t("login_title", lang)
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        f"<h2>{escape(title)}</h2>{message}"
        f'<form method="post" action="{PATH}" autocomplete="on">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<input type="hidden" name="next" value="{escape(safe_next(next_url))}">'
        f'<input type="hidden" name="lang" value="{escape(lang)}">'
        f'<label for="name">{escape(t("login_name", lang))}</label>'
        '<input id="name" name="name" autocomplete="username" required maxlength="64" autofocus>'
        f'<label for="password">{escape(t("login_password", lang))}</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password"'
        ' required maxlength="1024">'
        f'<button type="submit">{escape(t("login_submit", lang))}</button></form>'
    )
    return _document(
        lang, f"{title} · {t('app_title', lang)}", area_name, body, {"next": safe_next(next_url)}
    )


def message_page(*, lang: str, title: str, text: str, area_name: str = "") -> str:
    """A page that only says something (access refused, sign in through the portal)."""
    body = (
        f"<h2>{escape(title)}</h2><p>{escape(text)}</p>"
        f'<a class="home" href="/">{escape(t("refused_home", lang))}</a>'
    )
    return _document(lang, f"{title} · {t('app_title', lang)}", area_name, body, {})


def logout_page(*, lang: str, signed_in: bool, area_name: str = "") -> str:
    """What ``GET /logout`` shows: a sign-out button (sign-out is a POST, so that a link
    or an image on another site cannot sign anybody out), or, signed out, a way back."""
    title = t("sign_out", lang)
    if not signed_in:
        body = (
            f"<h2>{escape(title)}</h2><p>{escape(t('signed_out', lang))}</p>"
            f'<a class="home" href="{PATH}?lang={escape(lang)}">{escape(t("login_title", lang))}</a>'
        )
    else:
        body = (
            f"<h2>{escape(title)}</h2><p>{escape(t('sign_out_ask', lang))}</p>"
            f'<form method="post" action="{LOGOUT_PATH}?lang={escape(lang)}">'
            f'<button type="submit">{escape(title)}</button></form>'
            f'<a class="home" href="/?lang={escape(lang)}">{escape(t("refused_home", lang))}</a>'
        )
    return _document(lang, f"{title} · {t('app_title', lang)}", area_name, body, {})
