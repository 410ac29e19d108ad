"""Sign-in, roles and jurisdiction scope, enforced on the server for every request.

Who may see what is decided here, never by what the browser chooses to show:

- :mod:`dashboard.auth.users` — the users file (werkzeug password hashes, wall tokens).
- :mod:`dashboard.auth.roles` — what each role (commander, chief, planner, wall) may use.
- :mod:`dashboard.auth.signin` — the sign-in and sign-out routes, sessions, rate limits,
  the trusted-proxy header and the wall's kiosk token.
- :mod:`dashboard.auth.guard` — a ``before_request`` check of every page, callback and
  download against the signed-in user; refusals are HTTP 403 and audited.
- :mod:`dashboard.auth.headers` — Content-Security-Policy and the other headers.

Pages and callbacks ask :func:`current_user` who is signed in; its ``scope`` (precinct ids,
or None for the whole area) is what they may show. :func:`install` wires everything into
an app (``create_app`` calls it last, once every callback is registered).
"""

from __future__ import annotations

from flask import g, has_request_context
from werkzeug.exceptions import Forbidden

from dashboard.auth.users import User

__all__ = ["DEMO_USER", "User", "current_scope", "current_user"]

DEMO_USER = User(name="demo", role="commander")
"""Who everybody is when sign-in is off (``PNM_AUTH=none``): the page says so."""


def current_user() -> User | None:
    """The user of the request being served; None outside a request or when nobody is
    signed in (pages and callbacks never run then: the guard refuses first)."""
    if not has_request_context():
        return None
    user = g.get("pnm_user")
    return user if isinstance(user, User) else None


def current_scope() -> frozenset[str] | None:
    """The precincts the current user may see (None: the whole area).

    Raises
    ------
    werkzeug.exceptions.Forbidden
        When nobody is signed in: no data is ever served unscoped by mistake.
    """
    user = current_user()
    if user is None:
        raise Forbidden("no signed-in user")
    return user.scope
