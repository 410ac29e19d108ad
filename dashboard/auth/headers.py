"""Security headers on every response: CSP, nosniff, referrer, framing, caching.

The Content-Security-Policy allows scripts, styles, fonts and connections from the app's
own origin only, and images from it plus the configured tile server. The only inline
scripts Dash writes — the renderer's bootstrap (``var renderer = new DashRenderer();``)
and any inline clientside callback — are allowed by their SHA-256 hashes, computed by
Dash (:meth:`dash.Dash.csp_hashes`) from what the app registered, never from a request.
The ``_dash-config`` block is JSON (``type="application/json"``), which a browser never
runs. Styles allow ``'unsafe-inline'``: the map's libraries (Leaflet, Plotly, the date
picker) write ``<style>`` elements at run time; a style cannot run code, and every
script stays locked to the app's origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from urllib.parse import urlsplit

from dash import Dash
from flask import Response, request

from dashboard.pages.login import STYLE_HASH

# Responses that are the same for everybody and may be cached by the browser.
SHARED_PREFIXES: Final = ("/_dash-component-suites/", "/assets/", "/_favicon.ico", "/tiles/")


def tile_source(tile_url: str) -> str:
    """The CSP source of a tile URL template: its origin, with ``{s}`` subdomains as ``*``.

    Empty for no tile server or a path on the app's own origin.
    """
    if not tile_url.startswith(("http://", "https://")):
        return ""
    parts = urlsplit(tile_url.replace("{s}", "a"))
    host = parts.netloc
    if "{s}" in tile_url.split("/")[2]:
        host = "*." + host.split(".", 1)[1] if "." in host else host
    return f"{parts.scheme}://{host}"


def content_security_policy(script_hashes: Sequence[str], tile_url: str = "") -> str:
    """The policy for the app's pages, given the hashes of its inline scripts."""
    tiles = tile_source(tile_url)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", *([tiles] if tiles else [])],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


LOGIN_POLICY: Final = (
    f"default-src 'none'; style-src {STYLE_HASH}; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
"""The sign-in and refusal pages need one hashed style block and a form, nothing else."""


class SecurityHeaders:
    """An ``after_request`` hook adding the headers (the CSP is computed on first use,
    once every callback of the app is registered)."""

    def __init__(self, app: Dash, tile_url: str) -> None:
        self.app = app
        self.tile_url = tile_url
        self._policy: str | None = None

    @property
    def policy(self) -> str:
        if self._policy is None:
            self._policy = content_security_policy(self.app.csp_hashes(), self.tile_url)
        return self._policy

    def __call__(self, response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", self.policy)
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h["X-Frame-Options"] = "DENY"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Cross-Origin-Resource-Policy"] = "same-origin"
        if not request.path.startswith(SHARED_PREFIXES):
            # Personalised: what a chief sees is not what a commander sees.
            response.vary.add("Cookie")
            h["Cache-Control"] = "no-store"
        return response
