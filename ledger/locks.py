"""Exclusive locks for jobs that must not run twice at once (the year-end close).

PostgreSQL: a session-level advisory lock on a connection of its own, released when the
connection ends — also when the process is killed. SQLite: ``flock`` on a file beside the
database, released by the kernel when the process dies. In memory: a process-wide lock.

The composition root builds one :class:`JobLocks` per ledger (:func:`locks_for`, from the
ledger's own datastore); nothing here reads settings or a database URL.
"""

from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

import psycopg
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from ledger.datastores import connect_params

_MEMORY_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


class LockHeld(Exception):
    """Another process holds the lock."""


class JobLocks(Protocol):
    """The locks of one ledger's jobs."""

    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """Hold the lock ``name`` for this ledger, or raise :class:`LockHeld`."""
        ...


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresLocks:
    """Advisory locks of a ledger kept in PostgreSQL. Each is held on a connection of its
    own (made with the ledger pool's parameters, outside the pool), so a job holding a lock
    never takes a connection its own writes need, and a killed process releases it."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        conn = psycopg.connect(
            **connect_params(self.datastore), autocommit=True, connect_timeout=10
        )
        # Advisory locks are database-wide: the ledger's schema is part of the key, so two
        # ledgers in one database (two schemas) never block each other's jobs.
        key = _key(f"{self.datastore.schema}/{name}")
        with conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if not row or not row[0]:
                raise LockHeld(name)
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


class FileLocks:
    """``flock`` locks on files beside a SQLite ledger."""

    def __init__(self, database: Path) -> None:
        self.database = database

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        db = self.database
        path = db.with_name(f"{db.name}.{_key(name) & 0xFFFFFFFF:08x}.lock")
        with path.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LockHeld(name) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class ProcessLocks:
    """Locks of an in-memory ledger: its jobs run in this process only."""

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        with _GUARD:
            lock = _MEMORY_LOCKS.setdefault(name, threading.Lock())
        if not lock.acquire(blocking=False):
            raise LockHeld(name)
        try:
            yield
        finally:
            lock.release()


def locks_for(datastore: PostgresDatastore | SQLiteDatastore | None) -> JobLocks:
    """The job locks of the ledger kept in ``datastore`` (its recorder's; None in memory)."""
    if isinstance(datastore, PostgresDatastore):
        return PostgresLocks(datastore)
    if isinstance(datastore, SQLiteDatastore):
        return FileLocks(Path(datastore.pool.db_name))
    return ProcessLocks()
