"""Requests from another site: no state change and no download on a user's behalf.

A page on any other site can make a signed-in user's browser navigate to
``/export/download?...`` (a top-level GET carries the ``SameSite=Lax`` cookie) or post a
form to ``/logout``. Browsers say where a request comes from: ``Sec-Fetch-Site``
(Fetch Metadata, sent by every current browser) and, on a POST, ``Origin``. A request
that changes something (any method but GET, HEAD and OPTIONS) or downloads an export is
refused (HTTP 403, nothing done, nothing audited) when

- ``Sec-Fetch-Site`` is ``cross-site`` or ``same-site`` (another port or host of the
  same site is another application), or
- there is no ``Sec-Fetch-Site`` and ``Origin`` names another host (or ``null``).

``Sec-Fetch-Site: none`` (an address typed or bookmarked) and ``same-origin`` pass, and
so does a request with neither header: a script or ``curl`` with the user's own session;
a browser always sends one of them on a cross-site request. This is the same rule as
Go's ``net/http.CrossOriginProtection``; it needs no token in Dash's callback requests,
which Flask-WTF's ``CSRFProtect`` would (the renderer sends none), so it is a few lines
here rather than a library.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from flask import Request

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
ALLOWED_SITES: Final = frozenset({"same-origin", "none"})


def cross_site_reason(request: Request, *, download: bool = False) -> str | None:
    """Why ``request`` is refused as coming from another site; None when it may go on.

    Parameters
    ----------
    request : flask.Request
    download : bool
        Whether the route sends an export (checked whatever its method).
    """
    if request.method in SAFE_METHODS and not download:
        return None
    site = request.headers.get("Sec-Fetch-Site", "").strip().lower()
    if site:
        return None if site in ALLOWED_SITES else f"Sec-Fetch-Site: {site[:20]}"
    origin = request.headers.get("Origin", "").strip()
    if not origin:
        return None
    # The host only: behind a proxy that ends TLS the app may see http:// for https://.
    if origin == "null" or urlsplit(origin).netloc.lower() != request.host.lower():
        return f"Origin: {origin[:80]}"
    return None
