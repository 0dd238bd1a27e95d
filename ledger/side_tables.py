"""Tables of our own beside the event log, in the ledger's own database (the read models,
the auditors' rate-limit buckets): transactions on the ledger's datastore and statements
with their table names filled in, for PostgreSQL and SQLite alike.

PostgreSQL transactions borrow connections from the ledger's pool; SQLite ones open the
file and take its write lock at once (``BEGIN IMMEDIATE``), so that a read-then-write is
never refused half way by another writer.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import IntegrityError, OperationalError, PersistenceError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg import sql
from psycopg.rows import tuple_row


class SideTables:
    """Our tables in the datastore a ledger's recorder writes to (built once, by the
    composition root)."""

    def __init__(self, datastore: PostgresDatastore | SQLiteDatastore) -> None:
        self.datastore = datastore
        self.postgres = isinstance(datastore, PostgresDatastore)
        self.schema = datastore.schema if isinstance(datastore, PostgresDatastore) else "public"

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor in one transaction: committed when the block ends, rolled back if it
        raises. Rows are tuples on both stores."""
        if isinstance(self.datastore, PostgresDatastore):
            with self.datastore.get_connection() as conn, conn.transaction():
                yield conn.cursor(row_factory=tuple_row)
            return
        # SQLite's errors as the library's, as the pool's connections give PostgreSQL's
        # (and as the ledger's own SQLite errors come): the adapters answer them alike
        try:
            with _sqlite_transaction(self.datastore.pool.db_name) as cursor:
                yield cursor
        except sqlite3.OperationalError as error:
            raise OperationalError(str(error)) from error
        except sqlite3.IntegrityError as error:
            raise IntegrityError(str(error)) from error
        except sqlite3.Error as error:
            raise PersistenceError(str(error)) from error

    @contextmanager
    def ddl_transaction(self) -> Iterator[Any]:
        """A transaction that changes the catalogue (creates tables): on PostgreSQL it
        first takes a transaction lock of the ledger's schema, so that processes starting
        together (``serve --workers``) create a table once instead of colliding on it."""
        with self.transaction() as c:
            if self.postgres:
                c.execute("SELECT pg_advisory_xact_lock(%s)", (_ddl_key(self.schema),))
            yield c

    def q(self, text: str, **tables: str) -> Any:
        """A statement with table names filled in (``{t}`` for ``t="name"``), in the
        driver's parameter style (write ``%s``)."""
        if self.postgres:
            return sql.SQL(text).format(
                **{k: sql.Identifier(self.schema, v) for k, v in tables.items()}
            )
        return text.format(**{k: f'"{v}"' for k, v in tables.items()}).replace("%s", "?")


@contextmanager
def _sqlite_transaction(db_name: str) -> Iterator[Any]:
    """A cursor on the SQLite file in one transaction that holds the write lock."""
    lite = sqlite3.connect(db_name, timeout=30, isolation_level=None)
    try:
        lite.execute("BEGIN IMMEDIATE")
    except BaseException:
        lite.close()
        raise
    try:
        yield lite.cursor()
        lite.execute("COMMIT")
    except BaseException:
        lite.execute("ROLLBACK")
        raise
    finally:
        lite.close()


def _ddl_key(schema: str) -> int:
    digest = hashlib.sha256(f"{schema}/side-tables-ddl".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
