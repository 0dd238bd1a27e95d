"""Exclusive locks for jobs that must not run twice at once (the year-end close).

PostgreSQL: a session-level advisory lock, released when the connection ends — also
when the process is killed. SQLite: ``flock`` on a file beside the database, released
by the kernel when the process dies. In memory: a process-wide lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from ledger.settings import persistence_env

_MEMORY_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


class LockHeld(Exception):
    """Another process holds the lock."""


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def exclusive(database_url: str, name: str) -> Iterator[None]:
    """Hold the lock ``name`` for the ledger at ``database_url``, or raise LockHeld."""
    scheme = urlsplit(database_url).scheme.lower()
    if scheme in ("postgresql", "postgres"):
        env = persistence_env(database_url)
        conn = psycopg.connect(
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            dbname=env["POSTGRES_DBNAME"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            autocommit=True,
            connect_timeout=10,
        )
        # Advisory locks are database-wide: the ledger's schema is part of the key, so two
        # ledgers in one database (two schemas) never block each other's jobs.
        key = _key(f"{env.get('POSTGRES_SCHEMA', 'public')}/{name}")
        with conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if not row or not row[0]:
                raise LockHeld(name)
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    elif scheme == "sqlite":
        db = Path(persistence_env(database_url)["SQLITE_DBNAME"])
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
    else:
        with _GUARD:
            lock = _MEMORY_LOCKS.setdefault(name, threading.Lock())
        if not lock.acquire(blocking=False):
            raise LockHeld(name)
        try:
            yield
        finally:
            lock.release()
