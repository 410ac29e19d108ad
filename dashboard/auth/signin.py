"""Who is asking: sessions, the sign-in form, the trusted proxy header, the wall token.

Three modes (``PNM_AUTH``):

- ``users``: a name and password from the users file, checked at ``/login``; the
  session is held on the server (:mod:`dashboard.auth.sessions`: Redis or the data
  directory), the cookie carries only its random id (``HttpOnly``, ``SameSite=Lax``,
  ``Secure`` when configured), and it ends after ``PNM_SESSION_HOURS`` counted from the
  sign-in (not from the last request), at sign-out (``POST /logout``: a ``GET`` only
  shows the sign-out button), or when the account changes.
- ``proxy``: an intranet single sign-on in front of the app names the user in a header
  (``PNM_PROXY_HEADER``), believed only on connections from ``PNM_PROXY_ADDRESSES``;
  the user must exist in the users file, which gives the role and precincts.
- ``none``: nobody signs in, everybody is :data:`dashboard.auth.DEMO_USER`; the page
  says so in a banner. For the demo only.

A wall kiosk opens ``/wall?token=...`` in any mode; the token names a ``wall`` account.

Failed sign-ins are slowed per (user name, address) and per address
(:mod:`dashboard.auth.lockout`), never per name alone, so nobody can lock another person
out; with ``PNM_CACHE=redis`` the counts are shared by every worker, else each worker
keeps its own (with N workers an attacker then gets up to N times the tries). Every sign-in,
failed sign-in, lockout and sign-out is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from flask import Flask, Response, g, redirect, request, session

from dashboard.auth import DEMO_USER
from dashboard.auth.form_token import FormTokens
from dashboard.auth.lockout import Lock, RedisCounts, Throttle
from dashboard.auth.proxies import peer_address
from dashboard.auth.sessions import install_sessions, redis_client, renew_id
from dashboard.auth.users import User, UserDirectory, UsersError, check_unknown_password
from dashboard.i18n import lang_of, t
from dashboard.pages import login as login_page
from dashboard.settings import Settings, SettingsError
from geodata.audit import CHINA_TZ, AuditError, record

log = logging.getLogger(__name__)

MIN_SECRET_CHARS: Final = 32
SESSION_COOKIE: Final = "pnm_session"
MAX_NAME_CHARS: Final = 64
MAX_PASSWORD_CHARS: Final = 1024


def _now() -> float:
    """Seconds since the epoch (a function, so a test can move the clock)."""
    return time.time()


def resolve_secret(settings: Settings) -> str:
    """The session-signing key: ``PNM_SECRET_KEY``, else the file ``PNM_SECRET_KEY_FILE``;
    a random one only when sign-in is off.

    Raises
    ------
    SettingsError
        In ``users`` or ``proxy`` mode without a key, or with one shorter than
        :data:`MIN_SECRET_CHARS` characters.
    """
    key = settings.secret_key
    if not key and settings.secret_key_file is not None:
        try:
            key = settings.secret_key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(
                f"cannot read PNM_SECRET_KEY_FILE {settings.secret_key_file}: {exc.strerror or exc}"
            ) from None
    if not key:
        if settings.auth == "none":
            return secrets.token_hex(32)
        raise SettingsError(
            f"PNM_AUTH={settings.auth} needs a secret key that signs the session cookies, "
            "the same for every worker: set PNM_SECRET_KEY or PNM_SECRET_KEY_FILE "
            '(make one with: python -c "import secrets; print(secrets.token_hex(32))"), '
            "or set PNM_AUTH=none for a demo without sign-in"
        )
    if len(key) < MIN_SECRET_CHARS:
        raise SettingsError(f"the secret key must have at least {MIN_SECRET_CHARS} characters")
    return key


@dataclass
class Authenticator:
    """How this app knows who is asking (one per app; see :func:`install_signin`)."""

    settings: Settings
    users: UserDirectory | None
    area_name: str = ""
    limiter: Throttle = field(default_factory=Throttle)
    proxies: tuple[Any, ...] = ()
    secret: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        self.tokens = FormTokens(self.secret or secrets.token_hex(32), login_page.PATH)

    def audit(self, user: str, action: str, **params: Any) -> None:
        """Write one audit event (see :func:`geodata.audit.record`)."""
        record(self.settings.data_dir, user=user or "anonymous", action=action, **params)

    # ------------------------------------------------------------------ who is asking

    def identify(self) -> User | None:
        """The user of the current request, or None (sets up a session when a wall token
        or the proxy header signs someone in)."""
        if self.settings.auth == "none":
            return DEMO_USER
        user = self._session_user()
        token = request.args.get("token") if request.method == "GET" else None
        if token and request.path.rstrip("/") == "/wall":
            return self._token_user(token) or user
        if self.settings.auth == "proxy":
            # The proxy's header is the truth; a session stands alone only for a kiosk
            # signed in by its token.
            name = self._proxy_name()
            if name:
                return self._proxy_user(name)
            return user if user is not None and user.role == "wall" else None
        return user

    def _session_user(self) -> User | None:
        name = session.get("u")
        if not isinstance(name, str) or self.users is None:
            return None
        since = session.get("t")
        age = _now() - float(since) if isinstance(since, int | float) else None
        user = self.users.get(name)
        if age is None or not 0 <= age <= self.settings.session_hours * 3600:
            session.clear()
            return None
        if user is None or user.fingerprint != session.get("f"):
            session.clear()  # removed, or role, precincts or password changed
            return None
        return user

    def start_session(self, user: User) -> None:
        """Sign ``user`` in for this browser (a fresh session id: no fixation)."""
        renew_id(session)
        session.clear()
        session.permanent = True
        session.update(u=user.name, t=int(_now()), f=user.fingerprint)

    def _from_proxy(self) -> bool:
        try:
            remote = ipaddress.ip_address(peer_address(request))
        except ValueError:
            return False
        return any(remote in net for net in self.proxies)

    def _proxy_name(self) -> str:
        """The user the proxy names; "" for a request that did not come through it."""
        if not self._from_proxy():
            return ""
        return request.headers.get(self.settings.proxy_header, "").strip()

    def _proxy_user(self, name: str) -> User | None:
        user = self.users.get(name) if self.users is not None else None
        if user is None or user.role == "wall":
            session.clear()
            if g.get("pnm_proxy_unknown") != name:
                g.pnm_proxy_unknown = name
                self.audit(name[:MAX_NAME_CHARS], "sign_in_failed", method="proxy",
                           reason="unknown user", address=request.remote_addr)  # fmt: skip
            return None
        if session.get("u") != user.name or session.get("f") != user.fingerprint:
            self.start_session(user)
            self.audit(user.name, "sign_in", method="proxy", role=user.role,
                       address=request.remote_addr)  # fmt: skip
        return user

    def _token_user(self, token: str) -> User | None:
        address = request.remote_addr or "?"
        if self.users is None or self.limiter.locked(address) is not None:
            return None
        user = self.users.by_token(token[:256])
        if user is None or user.role != "wall":
            self.limiter.fail(address)
            self.audit("anonymous", "sign_in_failed", method="token", reason="bad token",
                       address=address)  # fmt: skip
            g.pnm_bad_token = True
            return None
        if session.get("u") != user.name or session.get("f") != user.fingerprint:
            self.start_session(user)
            self.audit(user.name, "sign_in", method="token", role=user.role, address=address)
        return user

    # ------------------------------------------------------------------ the routes

    def _lang(self) -> str:
        return lang_of(request.values.get("lang"), self.settings.language)

    def _form(self, lang: str, next_url: str, error: str = "", status: int = 200) -> Response:
        csrf, nonce = self.tokens.issue(request)
        html = login_page.login_page(
            lang=lang, next_url=next_url, csrf=csrf, area_name=self.area_name, error=error
        )
        response = Response(html, status=status, mimetype="text/html")
        secure = self.settings.cookie_secure or request.is_secure
        self.tokens.remember(response, nonce, secure=secure)
        return response

    def login(self) -> Response:
        """``/login``: the form (GET) and the check (POST)."""
        lang = self._lang()
        next_url = login_page.safe_next(request.values.get("next"))
        if self.settings.auth == "none":
            return redirect(next_url)  # type: ignore[return-value]
        if self.settings.auth == "proxy":
            page = login_page.message_page(
                lang=lang, title=t("login_title", lang), text=t("login_proxy", lang),
                area_name=self.area_name,
            )  # fmt: skip
            return Response(page, status=401, mimetype="text/html")
        if request.method == "GET":
            return self._form(lang, next_url)
        return self._check(lang, next_url)

    def _check(self, lang: str, next_url: str) -> Response:
        name = request.form.get("name", "").strip()[:MAX_NAME_CHARS]
        password = request.form.get("password", "")[:MAX_PASSWORD_CHARS]
        address = request.remote_addr or "?"
        if not self.tokens.valid(request):
            return self._form(lang, next_url, t("login_expired", lang), status=400)
        key = name.casefold()
        try:
            lock = self.limiter.locked(address, key)
            if lock is not None:
                self.audit(name, "sign_in_failed", method="password", reason="rate limited",
                           address=address)  # fmt: skip
                return self._locked(lang, next_url, lock)
            user = self.users.get(name) if self.users is not None and name else None
            ok = user.check_password(password) if user else check_unknown_password(password)
            if not ok or user is None:
                lock = self.limiter.fail(address, key)
                self.audit(name, "sign_in_failed", method="password",
                           reason="unknown user" if user is None else "wrong password",
                           address=address)  # fmt: skip
                text = t("login_failed", lang)
                if lock is not None:
                    until = _now() + lock.seconds
                    self.audit(name, "sign_in_locked", address=address, locks=lock.scope,
                               seconds=round(lock.seconds),
                               until=dt.datetime.fromtimestamp(until, CHINA_TZ))  # fmt: skip
                    text = f"{text} {self._lock_text(lang, lock)}"
                return self._form(lang, next_url, text, status=401)
            self.audit(user.name, "sign_in", method="password", role=user.role, address=address)
        except AuditError as exc:
            log.error("sign-in refused, audit log not writable: %s", exc)
            return self._form(lang, next_url, t("login_audit_down", lang), status=503)
        self.limiter.succeed(address, key)
        self.start_session(user)
        return redirect(next_url)  # type: ignore[return-value]

    def _lock_text(self, lang: str, lock: Lock) -> str:
        """When a lock ends, on the bureau's clock, and in how many minutes."""
        until = dt.datetime.fromtimestamp(_now() + lock.seconds, CHINA_TZ)
        minutes = max(1, round(lock.seconds / 60))
        return t(f"login_locked_{lock.scope}", lang, until=f"{until:%H:%M:%S}", minutes=minutes)

    def _locked(self, lang: str, next_url: str, lock: Lock) -> Response:
        response = self._form(lang, next_url, self._lock_text(lang, lock), status=429)
        response.headers["Retry-After"] = str(max(1, round(lock.seconds)))
        return response

    def logout(self) -> Response:
        """``POST /logout``: end the session (deleted from the store, and said so in the
        audit log). ``GET /logout`` signs nobody out: a link or an image on another page
        must not; it shows a page with the sign-out button."""
        user = g.get("pnm_user")
        if request.method != "POST":
            lang = self._lang()
            page = login_page.logout_page(
                lang=lang, signed_in=isinstance(user, User) and self.settings.auth != "none",
                area_name=self.area_name,
            )  # fmt: skip
            return Response(page, status=200, mimetype="text/html")
        if isinstance(user, User) and self.settings.auth != "none" and session.get("u"):
            try:
                self.audit(user.name, "sign_out", address=request.remote_addr)
            except AuditError as exc:
                log.error("sign-out not logged: %s", exc)
        session.clear()
        target = "/" if self.settings.auth == "none" else login_page.PATH
        return redirect(f"{target}?lang={self._lang()}")  # type: ignore[return-value]


def install_signin(server: Flask, settings: Settings, *, area_name: str = "") -> Authenticator:
    """Configure sessions on ``server``, add ``/login`` and ``/logout``, and return the
    :class:`Authenticator`.

    Raises
    ------
    SettingsError
        Without a secret key in ``users``/``proxy`` mode, or with a users file that is
        missing (those modes need it) or invalid.
    """
    server.secret_key = resolve_secret(settings)
    if settings.auth != "none":  # nobody signs in otherwise: nothing to keep
        install_sessions(server, settings)
    server.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.session_hours),
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    users: UserDirectory | None = None
    if settings.auth != "none":
        path: Path = settings.users_path
        if not path.exists():
            raise SettingsError(
                f"PNM_AUTH={settings.auth} needs a users file and there is none at {path}; "
                "create it with: python -m dashboard users add NAME --role commander "
                f"--users-file {path} (or set PNM_USERS_FILE)"
            )
        users = UserDirectory(path)
        try:
            users.all()
        except UsersError as exc:
            raise SettingsError(str(exc)) from None
    proxies = tuple(ipaddress.ip_network(a, strict=False) for a in settings.proxy_addresses)
    # With Redis, every worker shares the sign-in counts (else each keeps its own).
    shared = settings.cache == "redis" and settings.auth != "none"
    limiter = Throttle(counts=RedisCounts(redis_client(settings)) if shared else None)
    auth = Authenticator(
        settings, users, area_name=area_name, limiter=limiter, proxies=proxies,
        secret=str(server.secret_key),
    )  # fmt: skip
    server.add_url_rule(login_page.PATH, "pnm_login", auth.login, methods=["GET", "POST"])
    server.add_url_rule(login_page.LOGOUT_PATH, "pnm_logout", auth.logout, methods=["GET", "POST"])
    return auth
