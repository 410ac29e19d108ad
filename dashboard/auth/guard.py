"""The request guard: every page, callback and download is checked before it runs.

Every route of the Flask server has a kind (:data:`ROUTE_KINDS`): ``public`` (sign-in,
sign-out, the favicon), ``app`` (Dash's scripts, layout and dependencies: any signed-in
user), ``page`` (a page path: the role must be allowed that page), ``callback``
(``/_dash-update-component``: inspected by :func:`dashboard.auth.checks.inspect_callback`)
and ``download`` (export files: a role that may export; the export view checks the area
against the scope again). A route with no kind is refused to everyone, so a route added
later stays closed until it is classified here — a test enumerates ``server.url_map``.

A refusal is HTTP 403 (400 for a malformed callback request) with no data, and an audit
event ``refused`` with the user, the path and the reason. Somebody not signed in is sent
to ``/login`` (pages) or gets HTTP 401 (everything else).
"""

from __future__ import annotations

import logging
from typing import Any, Final
from urllib.parse import urlencode

from dash import Dash
from flask import Response, g, jsonify, redirect, request

from dashboard import tiles
from dashboard.auth.checks import Asker, Refusal, inspect_callback, inspect_download
from dashboard.auth.headers import LOGIN_POLICY, SecurityHeaders
from dashboard.auth.origin import cross_site_reason
from dashboard.auth.proxies import TrustedProxies
from dashboard.auth.roles import feature_allowed, page_allowed
from dashboard.auth.signin import Authenticator, install_signin
from dashboard.auth.users import User
from dashboard.datasource import Resolver
from dashboard.i18n import lang_of, t
from dashboard.pages import login as login_page
from dashboard.settings import Settings
from geodata.audit import AuditError
from layers.registry import LAYERS

log = logging.getLogger(__name__)

CALLBACK_RULE: Final = "/_dash-update-component"
MAX_REQUEST_BYTES: Final = 8 * 1024**2
"""Largest request body accepted (a callback request is a few kB)."""

ROUTE_KINDS: Final[dict[str, str]] = {
    login_page.PATH: "public",
    login_page.LOGOUT_PATH: "public",
    "/_favicon.ico": "public",
    "/healthz": "public",  # dashboard.health: no personal data
    tiles.RULE: "app",  # the basemap: the same for every signed-in user, like the scripts
    CALLBACK_RULE: "callback",
    "/_dash-layout": "app",
    "/_dash-dependencies": "app",
    "/_reload-hash": "app",
    "/assets/<path:filename>": "app",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": "app",
    "/static/<path:filename>": "app",
    "/": "page",
    "/<path:path>": "page",
}
"""The kind of every route rule of the app (see the module docstring)."""

DOWNLOAD_PREFIXES: Final = ("/download", "/export/download", "/_export")
"""Rules starting with one of these are export downloads."""


def route_kind(rule: str | None) -> str | None:
    """The kind of a route rule; None for a rule nobody classified (refused)."""
    if rule is None:
        return None
    if rule in ROUTE_KINDS:
        return ROUTE_KINDS[rule]
    if rule.startswith(DOWNLOAD_PREFIXES):
        return "download"
    return None


class Guard:
    """The ``before_request`` hook of the app (see the module docstring)."""

    def __init__(self, app: Dash, auth: Authenticator, views: Resolver) -> None:
        self.app = app
        self.auth = auth
        self.views = views
        self.layers = frozenset(LAYERS)

    def __call__(self) -> Any:
        rule = request.url_rule.rule if request.url_rule is not None else None
        if rule is None:
            return None  # Flask answers 404 (or 405): nothing is served
        kind = route_kind(rule)
        cross_site = cross_site_reason(request, download=kind == "download")
        if cross_site is not None:
            return self._cross_site(cross_site)
        user = self.auth.identify()
        g.pnm_user = user
        if kind == "public":
            return None
        if user is None:
            return self._anonymous(kind)
        try:
            if kind == "app":
                return None
            if kind == "page":
                if not page_allowed(user.role, request.path):
                    raise Refusal(f"page {request.path[:80]!r} not allowed for a {user.role}")
                return None
            if kind == "callback":
                body = request.get_json(silent=True)
                # The request's view (data in service, the user's scope), resolved here
                # once: the callback that runs next sees the very same one.
                who = Asker(user, self.views(), self.layers)
                g.pnm_feature = inspect_callback(body, self.app.callback_map, who)
                return None
            if kind == "download":
                if not feature_allowed(user.role, "download"):
                    raise Refusal(f"downloads not allowed for a {user.role}")
                who = Asker(user, self.views(), self.layers)
                inspect_download(request.args, who)
                return None
            raise Refusal(f"route {rule!r} has no access rule")
        except Refusal as refusal:
            return self.refuse(user, refusal, kind)

    def _cross_site(self, reason: str) -> Response:
        """A state change or download asked by another site: refused before anything
        runs, the session untouched, not audited (another site could fill the log)."""
        log.warning("cross-site request refused: %s %s (%s)", request.method, request.path, reason)
        lang = lang_of(request.args.get("lang"), self.auth.settings.language)
        other = "en" if lang == "zh" else "zh"
        text = f"{t('cross_site_refused', lang)}\n{t('cross_site_refused', other)}\n"
        return Response(text, status=403, mimetype="text/plain")

    def _anonymous(self, kind: str | None) -> Any:
        lang = lang_of(request.args.get("lang"), self.auth.settings.language)
        if g.get("pnm_bad_token"):
            page = login_page.message_page(
                lang=lang, title=t("refused_title", lang), text=t("wall_token_bad", lang),
                area_name=self.auth.area_name,
            )  # fmt: skip
            response = Response(page, status=403, mimetype="text/html")
            response.headers["Content-Security-Policy"] = LOGIN_POLICY
            return response
        if kind == "page" and request.method in ("GET", "HEAD"):
            if self.auth.settings.auth == "proxy":
                return self.auth.login()
            target = request.full_path.rstrip("?")
            return redirect(f"{login_page.PATH}?{urlencode({'next': target, 'lang': lang})}")
        return jsonify(error="not signed in"), 401

    def refuse(self, user: User, refusal: Refusal, kind: str | None) -> Any:
        """Answer a refusal (403/400, no data) and write it to the audit log."""
        try:
            self.auth.audit(
                user.name, "refused", role=user.role, path=request.path, method=request.method,
                reason=refusal.reason, address=request.remote_addr,
            )  # fmt: skip
        except AuditError as exc:
            log.error("refusal not logged: %s (%s)", refusal.reason, exc)
        if kind == "page":
            lang = lang_of(request.args.get("lang"), self.auth.settings.language)
            page = login_page.message_page(
                lang=lang, title=t("refused_title", lang), text=t("refused_text", lang),
                area_name=self.auth.area_name,
            )  # fmt: skip
            response = Response(page, status=refusal.status, mimetype="text/html")
            response.headers["Content-Security-Policy"] = LOGIN_POLICY
            return response
        return jsonify(error="refused"), refusal.status


def install(app: Dash, settings: Settings, views: Resolver) -> Authenticator:
    """Wire sign-in, the guard and the security headers into ``app``.

    Call it when the app is built (``create_app`` does); the guard reads the callbacks
    and routes at request time, so callbacks registered afterwards are guarded too.

    Raises
    ------
    dashboard.settings.SettingsError
        Without a secret key or a users file where the mode needs them.
    """
    server = app.server
    # The client's address and scheme, from X-Forwarded-* of trusted proxies only.
    server.wsgi_app = TrustedProxies(server.wsgi_app, settings.trusted_proxies)
    auth = install_signin(server, settings, area_name=views.live.current.area_name)
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    server.before_request(Guard(app, auth, views))
    headers = SecurityHeaders(app, settings.tile_url)

    def _login_policy(response: Response) -> Response:
        if request.path in (login_page.PATH, login_page.LOGOUT_PATH):
            response.headers.setdefault("Content-Security-Policy", LOGIN_POLICY)
        return response

    # after_request hooks run in reverse order of registration: the login page's policy
    # is set first, and the general headers keep it.
    server.after_request(headers)
    server.after_request(_login_policy)
    server.extensions["pnm_auth"] = auth
    return auth
