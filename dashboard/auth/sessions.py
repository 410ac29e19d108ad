"""Server-side sessions: the cookie holds a random session id, the store holds the rest.

A signed client-side cookie cannot be taken back: a copy made before sign-out keeps
working until it expires. Here the cookie is only an id (Flask-Session, 32 random bytes);
what it stands for — who signed in, when, under which account fingerprint — lives in the
store, with the session's expiry (``PNM_SESSION_HOURS``) as its time to live:

- Redis (``PNM_REDIS_URL``) when ``PNM_CACHE=redis``, shared by every worker and host;
- else files in ``<data dir>/sessions/`` (cachelib's file cache, one file a session,
  written atomically, mode 0600), shared by the workers of one host.

Signing out deletes the stored session, so the id is worthless at once, in every worker.
A changed password, role or precinct list, or a removed account, ends every session of
that user at its next request (:meth:`dashboard.auth.signin.Authenticator.identify`
compares the account's fingerprint and deletes a session that no longer matches).

If the store cannot be read (Redis down), nobody is signed in: requests get the sign-in
page or HTTP 401, never a 500 and never somebody else's session.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any, Final

from cachelib.file import FileSystemCache
from flask import Flask, current_app, request
from flask.sessions import SessionMixin
from flask_session.cachelib import CacheLibSessionInterface
from flask_session.redis import RedisSessionInterface
from redis import Redis, RedisError

from dashboard.settings import Settings

log = logging.getLogger(__name__)

SESSIONS_DIR: Final = "sessions"
KEY_PREFIX: Final = "pnm-session:"
SID_BYTES: Final = 32
FILE_SESSIONS_KEPT: Final = 20_000
"""Above this many session files the file store drops expired ones first, then those
nearest their end (cachelib's threshold); far more than a bureau's staff."""
STORE_TIMEOUT_S: Final = 2.0


class _FailClosed:
    """Reading a session from an unreachable store gives no session (signed out), and
    a failed write is logged: the request goes on as an anonymous one. The cookie is
    ``Secure`` when configured so, or when the request itself came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def _retrieve_session_data(self, store_id: str) -> dict[str, Any] | None:
        try:
            return super()._retrieve_session_data(store_id)  # type: ignore[misc]
        except (RedisError, OSError) as exc:
            log.error("session store unreachable, request treated as signed out: %s", exc)
            return None

    def _upsert_session(self, session_lifetime: dt.timedelta, session: Any, store_id: str) -> None:
        try:
            super()._upsert_session(session_lifetime, session, store_id)  # type: ignore[misc]
        except (RedisError, OSError) as exc:
            log.error("session not stored: %s", exc)

    def _delete_session(self, store_id: str) -> None:
        try:
            super()._delete_session(store_id)  # type: ignore[misc]
        except (RedisError, OSError) as exc:
            log.error("session not deleted from the store: %s", exc)


class RedisSessions(_FailClosed, RedisSessionInterface):
    """Sessions in Redis, failing closed."""


class FileSessions(_FailClosed, CacheLibSessionInterface):
    """Sessions in files of the data directory, failing closed."""


def sessions_dir(data_dir: Path) -> Path:
    """Where the file store keeps the sessions of a data directory."""
    return Path(data_dir) / SESSIONS_DIR


def redis_client(settings: Settings) -> Redis:
    """A client of ``PNM_REDIS_URL`` that gives up within :data:`STORE_TIMEOUT_S`."""
    return Redis.from_url(
        settings.redis_url, socket_timeout=STORE_TIMEOUT_S, socket_connect_timeout=STORE_TIMEOUT_S
    )


def install_sessions(server: Flask, settings: Settings) -> str:
    """Make ``server`` keep its sessions in the store; the store's kind (``redis`` or
    ``files``)."""
    server.config["SESSION_SERIALIZATION_FORMAT"] = "json"
    interface: RedisSessionInterface | CacheLibSessionInterface
    if settings.cache == "redis":
        client = redis_client(settings)
        interface = RedisSessions(
            app=server, client=client, key_prefix=KEY_PREFIX, sid_length=SID_BYTES,
            serialization_format="json",
        )  # fmt: skip
        kind = "redis"
    else:
        store = FileSystemCache(
            str(sessions_dir(settings.data_dir)), threshold=FILE_SESSIONS_KEPT, mode=0o600
        )
        interface = FileSessions(
            app=server, client=store, key_prefix=KEY_PREFIX, sid_length=SID_BYTES
        )
        kind = "files"
    server.session_interface = interface
    return kind


def renew_id(session: SessionMixin) -> None:
    """Give ``session`` a new id and delete the stored old one (at sign-in: an id known
    before signing in — planted by somebody else — is never the signed-in one)."""
    regenerate = getattr(current_app.session_interface, "regenerate", None)
    if regenerate is not None:
        regenerate(session)
