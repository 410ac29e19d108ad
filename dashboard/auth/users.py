"""The users file: who may sign in, with which role and which precincts.

One file (TOML or JSON, chosen by its suffix) holds every account::

    [users.zhang]
    role = "chief"
    precincts = ["511722001"]
    password = "scrypt:32768:8:1$..."      # werkzeug hash, never the password

    [users.lobby]
    role = "wall"
    token = "sha256$..."                   # a kiosk's token, hashed

Passwords are stored as werkzeug hashes (scrypt, salted). A wall token is 32 random bytes
from :mod:`secrets`: with that much entropy a plain SHA-256 cannot be guessed back, and it
can be looked up without trying every salted hash. ``python -m dashboard users`` manages
the file; the app only reads it (again whenever it changes on disk).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.auth.roles import ROLES, SCOPED_ROLES

NAME = re.compile(r"^[\w.@-]{1,64}$")
TOKEN_PREFIX: Final = "sha256$"  # noqa: S105 (a hash prefix, not a secret)
TOKEN_BYTES: Final = 32
MIN_PASSWORD_CHARS: Final = 10
# A hash of a random password, checked when a name is unknown so that a wrong name and a
# wrong password take the same time.
_DUMMY_HASH: Final = generate_password_hash(secrets.token_hex(16))


class UsersError(ValueError):
    """The users file is unreadable or holds an invalid account (the message says which)."""


@dataclass(frozen=True)
class User:
    """An account.

    Attributes
    ----------
    name : str
        Sign-in name (letters, digits, ``_.@-``; Chinese letters allowed).
    role : str
        One of :data:`dashboard.auth.roles.ROLES`.
    precincts : frozenset of str
        The precinct ids of a chief's (or a planner's) jurisdiction; empty for a
        commander, and for a planner of the whole county.
    password : str
        A werkzeug password hash, or "" (proxy sign-in, or a wall kiosk).
    token : str
        ``sha256$<hex>`` of a wall kiosk's token, or "".
    """

    name: str
    role: str
    precincts: frozenset[str] = field(default_factory=frozenset)
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)

    @property
    def scope(self) -> frozenset[str] | None:
        """The precincts this user may see; None for the whole area.

        A chief always has a scope: a chief without precincts sees nothing, never the
        county (the file refuses such a chief, this is the second line).
        """
        if self.role == "chief" or (self.role in SCOPED_ROLES and self.precincts):
            return self.precincts
        return None

    @property
    def fingerprint(self) -> str:
        """Changes when the role, the precincts or the credentials change: a session
        signed in under an older fingerprint ends."""
        text = json.dumps([self.role, sorted(self.precincts), self.password, self.token])
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def check_password(self, password: str) -> bool:
        """Whether ``password`` is this user's (False when the user has none)."""
        if not self.password:
            check_password_hash(_DUMMY_HASH, password)
            return False
        return check_password_hash(self.password, password)


def check_unknown_password(password: str) -> bool:
    """Spend the time of a password check for a name that does not exist; False."""
    check_password_hash(_DUMMY_HASH, password)
    return False


def hash_token(token: str) -> str:
    """The stored form of a wall token."""
    return TOKEN_PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh wall token (URL-safe text)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def _validate(name: str, raw: Mapping[str, Any], where: str) -> User:
    if not NAME.match(name):
        raise UsersError(f"{where}: bad user name {name!r} (letters, digits, _ . @ -; ≤64)")
    role = raw.get("role")
    if role not in ROLES:
        raise UsersError(f"{where}: user {name!r} has role {role!r}; roles: {', '.join(ROLES)}")
    precincts = raw.get("precincts", [])
    if not isinstance(precincts, list) or not all(
        isinstance(p, str) and p.strip() for p in precincts
    ):
        raise UsersError(f"{where}: user {name!r}: precincts must be a list of ids")
    if role == "chief" and not precincts:
        raise UsersError(f"{where}: chief {name!r} has no precincts")
    if role not in SCOPED_ROLES and precincts:
        raise UsersError(f"{where}: a {role} has no precincts ({name!r})")
    password, token = raw.get("password", ""), raw.get("token", "")
    if not isinstance(password, str) or not isinstance(token, str):
        raise UsersError(f"{where}: user {name!r}: password and token must be text")
    if role == "wall" and password:
        raise UsersError(f"{where}: wall {name!r} signs in with a token, not a password")
    if role != "wall" and token:
        raise UsersError(f"{where}: only a wall kiosk has a token ({name!r})")
    if token and not re.fullmatch(r"sha256\$[0-9a-f]{64}", token):
        raise UsersError(f"{where}: user {name!r}: token is not a sha256$ hash")
    if password and "$" not in password:
        raise UsersError(f"{where}: user {name!r}: password is not a werkzeug hash")
    unknown = sorted(set(raw) - {"role", "precincts", "password", "token"})
    if unknown:
        raise UsersError(f"{where}: user {name!r}: unknown key(s) {', '.join(unknown)}")
    return User(name, role, frozenset(p.strip() for p in precincts), password, token)


def parse_users(raw: Mapping[str, Any], where: str = "users file") -> dict[str, User]:
    """The accounts of a parsed users file (``{"users": {name: {...}}}``)."""
    unknown = sorted(set(raw) - {"users"})
    if unknown:
        raise UsersError(f"{where}: unknown key(s) {', '.join(unknown)}; expected [users.NAME]")
    table = raw.get("users", {})
    if not isinstance(table, Mapping):
        raise UsersError(f"{where}: 'users' must be a table of accounts")
    out = {}
    for name, entry in table.items():
        if not isinstance(entry, Mapping):
            raise UsersError(f"{where}: user {name!r} must be a table")
        out[name] = _validate(str(name), entry, where)
    return out


def read_users(path: Path) -> dict[str, User]:
    """Read a users file (``.json`` as JSON, anything else as TOML); {} if it is missing."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsersError(f"cannot read the users file {path}: {exc.strerror or exc}") from None
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsersError(
            f"{path} is not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}"
        ) from None
    if not isinstance(raw, Mapping):
        raise UsersError(f"{path}: expected a table of users")
    return parse_users(raw, str(path))


def _toml_string(text: str) -> str:
    # JSON's escapes (\" \\ \n \uXXXX) are all valid in a TOML basic string.
    return json.dumps(text, ensure_ascii=False)


def _as_toml(users: Iterable[User]) -> str:
    lines = ["# Dashboard accounts: python -m dashboard users add|list|remove", ""]
    for u in sorted(users, key=lambda u: u.name):
        lines.append(f"[users.{_toml_string(u.name)}]")
        lines.append(f"role = {_toml_string(u.role)}")
        if u.precincts:
            lines.append(f"precincts = [{', '.join(_toml_string(p) for p in sorted(u.precincts))}]")
        if u.password:
            lines.append(f"password = {_toml_string(u.password)}")
        if u.token:
            lines.append(f"token = {_toml_string(u.token)}")
        lines.append("")
    return "\n".join(lines)


def _as_json(users: Iterable[User]) -> str:
    table: dict[str, dict[str, Any]] = {}
    for u in sorted(users, key=lambda u: u.name):
        entry: dict[str, Any] = {"role": u.role}
        if u.precincts:
            entry["precincts"] = sorted(u.precincts)
        if u.password:
            entry["password"] = u.password
        if u.token:
            entry["token"] = u.token
        table[u.name] = entry
    return json.dumps({"users": table}, ensure_ascii=False, indent=2) + "\n"


def write_users(path: Path, users: Iterable[User]) -> None:
    """Write the users file atomically, readable by its owner only (it holds hashes)."""
    users = list(users)
    text = _as_json(users) if path.suffix.lower() == ".json" else _as_toml(users)
    parse_users(
        json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text), str(path)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".users-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def make_user(
    name: str,
    role: str,
    *,
    precincts: Iterable[str] = (),
    password: str | None = None,
    token: str | None = None,
) -> User:
    """A new account, validated, with the password or token hashed.

    Raises
    ------
    UsersError
        For a bad name, role or precinct list, or a password shorter than
        :data:`MIN_PASSWORD_CHARS`.
    """
    if password is not None and len(password) < MIN_PASSWORD_CHARS:
        raise UsersError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    raw: dict[str, Any] = {"role": role, "precincts": list(precincts)}
    if password is not None:
        raw["password"] = generate_password_hash(password)
    if token is not None:
        raw["token"] = hash_token(token)
    return _validate(name, raw, "users add")


class UserDirectory:
    """The accounts of a users file, re-read whenever the file changes on disk.

    A removed account, or a changed role, password or precinct list, takes effect at the
    next request of every worker — no restart, and no old session survives it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._users: dict[str, User] = {}

    def _refresh(self) -> None:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = (0, -1)
        if stamp != self._stamp:
            self._users = read_users(self.path)
            self._stamp = stamp

    def get(self, name: str) -> User | None:
        """The account called ``name``, or None."""
        self._refresh()
        return self._users.get(name)

    def by_token(self, token: str) -> User | None:
        """The wall account whose token is ``token``, or None (constant-time compare)."""
        self._refresh()
        digest = hash_token(token)
        found = None
        for user in self._users.values():
            if user.token and hmac.compare_digest(user.token, digest):
                found = user
        return found

    def all(self) -> list[User]:
        """Every account, by name."""
        self._refresh()
        return sorted(self._users.values(), key=lambda u: u.name)
