"""PostgreSQL + PostGIS as the store: the bureau's own tables, same schemas, same cubes.

``python -m geodata migrate --dsn DSN`` creates the tables (:mod:`.migrations`);
``python -m geodata import KIND FILE --dsn DSN`` validates a file as for the file store
and writes its good rows here (:mod:`.tables`); ``python -m geodata cubes --dsn DSN``
builds the hex cubes from here (:mod:`.source`), into the data directory as always.
Without a DSN nothing changes: the data directory is the store.
"""

from __future__ import annotations

from geodata.postgis.connection import (
    DEFAULT_SCHEMA,
    DSN_ENV,
    SCHEMA_ENV,
    PgError,
    connect,
    default_dsn,
    default_schema,
    redacted,
)
from geodata.postgis.migrations import LATEST, applied_version, migrate
from geodata.postgis.source import PgSource
from geodata.postgis.tables import (
    log_import,
    read_table_pg,
    stored_keys,
    table_rows,
    write_table_pg,
)

__all__ = [
    "DEFAULT_SCHEMA",
    "DSN_ENV",
    "LATEST",
    "SCHEMA_ENV",
    "PgError",
    "PgSource",
    "applied_version",
    "connect",
    "default_dsn",
    "default_schema",
    "log_import",
    "migrate",
    "read_table_pg",
    "redacted",
    "stored_keys",
    "table_rows",
    "write_table_pg",
]
