"""The client's address and scheme behind a reverse proxy, believed only from the proxy.

werkzeug's ``ProxyFix`` takes ``X-Forwarded-For``, ``-Proto`` and ``-Host`` from any
caller, so an app reached directly would let a client name its own address (and slip
past the per-address sign-in limit, or write another address into the audit log). Here
``ProxyFix`` (one hop) is applied only to connections from ``PNM_TRUSTED_PROXIES``; every
other request keeps its own peer address and scheme. A few lines around the library,
because it has no notion of which peers to trust.

Behind a trusted proxy, ``request.remote_addr`` is the client, ``request.is_secure`` says
whether the client used HTTPS (the session cookie is then ``Secure``), and
:func:`peer_address` still gives the proxy's own address (what ``PNM_AUTH=proxy``
checks before believing its user header).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from flask import Request
from werkzeug.middleware.proxy_fix import ProxyFix

ORIGINAL: str = "werkzeug.proxy_fix.orig"
"""Where ``ProxyFix`` keeps the values it replaced (the peer's address among them)."""


class TrustedProxies:
    """WSGI middleware: ``ProxyFix`` for requests from ``networks``, nothing otherwise."""

    def __init__(self, app: Any, networks: Iterable[str]) -> None:
        self.app = app
        self.networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1)

    def trusted(self, address: str) -> bool:
        try:
            peer = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(peer in net for net in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.networks and self.trusted(environ.get("REMOTE_ADDR", "")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


def peer_address(request: Request) -> str:
    """The address of the machine that connected (the proxy, behind a trusted one)."""
    original = request.environ.get(ORIGINAL) or {}
    return str(original.get("REMOTE_ADDR") or request.remote_addr or "")
