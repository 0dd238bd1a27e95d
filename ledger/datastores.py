"""Facts about a ledger's datastore (its recorder's, built by the composition root) that
storage mechanics beside the recorder need: how to open a connection of their own, and a
name for the database that holds no password."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore


def datastore_of(recorder: object) -> PostgresDatastore | SQLiteDatastore | None:
    """The datastore a recorder writes to (None for an in-memory recorder, SQLite's
    ``:memory:`` included: a connection of our own to it would open another, empty
    database)."""
    datastore = getattr(recorder, "datastore", None)
    if isinstance(datastore, SQLiteDatastore) and datastore.pool.is_sqlite_memory_mode:
        return None
    if isinstance(datastore, (PostgresDatastore, SQLiteDatastore)):
        return datastore
    return None


def connect_params(datastore: PostgresDatastore) -> dict[str, Any]:
    """The parameters of the datastore's pooled connections, for ``psycopg.connect`` (a
    connection apart from the pool, with psycopg's default rows)."""
    kwargs = datastore.pool.kwargs
    params: dict[str, Any] = dict(kwargs() if callable(kwargs) else kwargs or {})
    params.pop("row_factory", None)
    return params


def database_name(datastore: PostgresDatastore | SQLiteDatastore | None) -> str:
    """The database as a URL without a password: what a record kept outside the database
    (the verify checkpoint) is filed under."""
    if isinstance(datastore, PostgresDatastore):
        p = connect_params(datastore)
        return f"postgresql://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}?schema={datastore.schema}"
    if isinstance(datastore, SQLiteDatastore):
        return f"sqlite:///{Path(datastore.pool.db_name).resolve()}"
    return "memory://"
