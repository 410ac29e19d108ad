"""The sign-in form's token, kept by the browser, not by the server.

The form must not be posted from another site (a "login CSRF" would sign a person in as
the attacker). The usual guard keeps a token in the session, but with sessions held on
the server that would store a session for every visitor of ``/login`` who never signs
in: a flood of GETs could fill the store (and, in the file store, push real sessions out).
Instead the form carries a token signed with the app's secret (itsdangerous, time-limited
to :data:`MAX_AGE_S`) over a random nonce, and the same nonce is kept in a cookie of its
own (``HttpOnly``, ``SameSite=Lax``, path ``/login``): a post is accepted only with a
good signature whose nonce matches the cookie — which another site can neither read nor
set.
"""

from __future__ import annotations

import secrets
from typing import Final

from flask import Request, Response
from itsdangerous import BadData, URLSafeTimedSerializer

COOKIE: Final = "pnm_login"
MAX_AGE_S: Final = 3600
SALT: Final = "pnm-login-form"


class FormTokens:
    """Makes and checks the tokens of one app (``secret``: the app's secret key)."""

    def __init__(self, secret: str, path: str) -> None:
        self.signer = URLSafeTimedSerializer(secret, salt=SALT)
        self.path = path

    def issue(self, request: Request) -> tuple[str, str]:
        """(token for the form, nonce for the cookie): the browser's nonce if it has
        one, else a new one."""
        nonce = request.cookies.get(COOKIE, "")
        if not (16 <= len(nonce) <= 64):
            nonce = secrets.token_urlsafe(24)
        return self.signer.dumps(nonce), nonce

    def remember(self, response: Response, nonce: str, *, secure: bool) -> None:
        """Keep ``nonce`` in the browser's cookie."""
        response.set_cookie(
            COOKIE, nonce, max_age=MAX_AGE_S, path=self.path, httponly=True,
            samesite="Lax", secure=secure,
        )  # fmt: skip

    def valid(self, request: Request) -> bool:
        """Whether the posted form's token is good and belongs to this browser."""
        try:
            nonce = self.signer.loads(request.form.get("csrf", ""), max_age=MAX_AGE_S)
        except BadData:
            return False
        cookie = request.cookies.get(COOKIE, "")
        return isinstance(nonce, str) and secrets.compare_digest(nonce, cookie)
