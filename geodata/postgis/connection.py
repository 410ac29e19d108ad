"""Connecting to the bureau's PostgreSQL: the DSN, the schema name, one-line errors.

The DSN comes from ``--dsn`` or the ``PNM_DSN`` environment variable (a libpq connection
string or URI, e.g. ``postgresql://pnm@db.example/pnm`` or ``host=127.0.0.1 dbname=pnm``);
the tables live in one PostgreSQL schema, ``pnm`` unless ``--schema`` or
``PNM_DB_SCHEMA`` names another, so they never mix with the bureau's own tables.
"""

from __future__ import annotations

import os
import re
from typing import Final

import psycopg
from psycopg import conninfo

DSN_ENV: Final = "PNM_DSN"
SCHEMA_ENV: Final = "PNM_DB_SCHEMA"
DEFAULT_SCHEMA: Final = "pnm"
APPLICATION_NAME: Final = "pnm-geodata"

# Lower-case identifiers that need no quoting, within PostgreSQL's 63-byte limit.
_SCHEMA_NAME: Final = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PgError(RuntimeError):
    """PostgreSQL cannot be reached, is not migrated, or refused a statement."""


def default_dsn() -> str | None:
    """The DSN of ``PNM_DSN``, or None when it is unset or empty (the file store)."""
    return os.environ.get(DSN_ENV) or None


def default_schema() -> str:
    """The schema of ``PNM_DB_SCHEMA``, else ``pnm``."""
    return os.environ.get(SCHEMA_ENV) or DEFAULT_SCHEMA


def check_schema_name(name: str) -> str:
    """Return ``name`` if it is a plain lower-case identifier; ValueError otherwise."""
    if not _SCHEMA_NAME.match(name):
        raise ValueError(
            f"schema name {name!r} must be lower-case letters, digits and _ "
            "(starting with a letter or _), at most 63 characters"
        )
    return name


def redacted(dsn: str) -> str:
    """The DSN without its password, for messages and metadata."""
    try:
        params = conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparseable DSN>"
    params.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in sorted(params.items()))


def connect(dsn: str) -> psycopg.Connection[tuple[object, ...]]:
    """Open a connection (not autocommit: a ``with`` block is one transaction).

    Raises
    ------
    PgError
        With one line naming the server (never the password) and libpq's reason.
    """
    try:
        return psycopg.connect(dsn, application_name=APPLICATION_NAME, connect_timeout=10)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        raise PgError(
            f"无法连接 PostgreSQL / cannot connect to PostgreSQL ({redacted(dsn)}): {reason}"
        ) from exc
