"""Tamper evidence: a hash chain over the event log, written with the events.

Every stored event gets ``hash = SHA-256(previous hash | notification id | originator id |
version | topic | state bytes)`` in a table beside the events (``<app>_event_hashes`` on
PostgreSQL, ``event_hashes`` in the SQLite file), inserted in the same transaction as the
event and while the log is locked for writing, so the chain follows commit order.
``verify`` recomputes the chain and names the first event where it breaks: an event whose
bytes were changed, an event deleted (its hash remains), an event inserted behind the
ledger's back (no hash), or an event and its hash both removed (the next link breaks).
Removing the newest events together with their hashes cannot be seen from inside the
database: keep the last hash somewhere else (a backup, a published digest) to cover that.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

GENESIS = "0" * 64
#: A stored event as the replay reads it: notification id, originator id, version,
#: topic, state bytes.
Row = tuple[int, UUID, int, str, bytes]
PAGE = 1000


def link(
    previous: str, notification_id: int, originator_id: Any, version: int, topic: str, state: bytes
) -> str:
    """The hash of one event, chained to the hash of the event before it."""
    head = f"{previous}|{notification_id}|{UUID(str(originator_id))}|{version}|{topic}|"
    return hashlib.sha256(head.encode() + bytes(state)).hexdigest()


@contextmanager
def no_collector_pause() -> Iterator[None]:
    """Keep Python's cyclic garbage collector out of a transaction that holds the log's
    write lock: a full collection in a large process can pause for seconds, which stalls
    every other writer and trips PostgreSQL's idle-in-transaction timeout (the connection
    is then cut and the save fails)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _chain(
    previous: str, ids: Sequence[int], events: Sequence[StoredEvent]
) -> list[tuple[int, str]]:
    rows = []
    for notification_id, event in zip(ids, events, strict=True):
        previous = link(
            previous,
            notification_id,
            event.originator_id,
            event.originator_version,
            event.topic,
            event.state,
        )
        rows.append((notification_id, previous))
    return rows


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    """SQLite application recorder that writes the hash chain with the events."""

    hashes_table = "event_hashes"

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.hashes_table} "
            "(notification_id INTEGER PRIMARY KEY, hash TEXT NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids:
            c.execute(f"SELECT hash FROM {self.hashes_table} ORDER BY notification_id DESC LIMIT 1")
            row = c.fetchone()
            previous = row[0] if row else GENESIS
            c.executemany(
                f"INSERT INTO {self.hashes_table} VALUES (?, ?)",
                _chain(previous, ids, stored_events),
            )
        return ids

    def select_rows(self, start: int, stop: int, topics: Sequence[str] = ()) -> list[Row]:
        """The log's rows (id, originator id, version, topic, state) with notification ids
        from ``start`` to ``stop``, only of ``topics`` if given: the replay's read path."""
        where = f" AND topic IN ({','.join('?' * len(topics))})" if topics else ""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM "
                f"{self.events_table_name} WHERE rowid >= ? AND rowid <= ?{where} "
                "ORDER BY rowid",
                (start, stop, *topics),
            )
            return [(r[0], UUID(r[1]), r[2], r[3], r[4]) for r in c.fetchall()]

    def known_ids(self, ids: Sequence[UUID]) -> set[UUID]:
        """Which of ``ids`` have events stored (one query for a batch of look-ups)."""
        found: set[UUID] = set()
        for i in range(0, len(ids), 500):
            chunk = [u.hex for u in ids[i : i + 500]]
            with self.datastore.transaction(commit=False) as c:
                c.execute(
                    f"SELECT DISTINCT originator_id FROM {self.events_table_name} "
                    f"WHERE originator_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                found.update(UUID(r[0]) for r in c.fetchall())
        return found

    def select_hashes(self, start: int, limit: int) -> list[tuple[int, str]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT notification_id, hash FROM {self.hashes_table} "
                "WHERE notification_id >= ? ORDER BY notification_id LIMIT ?",
                (start, limit),
            )
            return [(int(r[0]), str(r[1])) for r in c.fetchall()]


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    """PostgreSQL application recorder that writes the hash chain with the events."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hashes_table = f"{self.events_table_name}_hashes"
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} "
                "(notification_id bigint PRIMARY KEY, hash text NOT NULL)"
            ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.hashes_table))
        )

    def _table(self) -> Any:
        return SQL("{schema}.{table}").format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.hashes_table)
        )

    def _events(self) -> Any:
        return SQL("{schema}.{table}").format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
        )

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Store events and their hashes in one transaction, under the library's table lock
        (so notification ids follow commit order), in a fixed number of statements with
        binary parameters
        whatever the number of events: one ``INSERT … SELECT FROM unnest`` for the events
        and one for the hashes, without pipeline mode. (The library's executemany in
        pipeline mode stalls for good on saves of more than about a thousand events.)"""
        if not stored_events:
            return []
        id_type = "uuid" if self.datastore.originator_id_type == "uuid" else "text"
        insert = SQL(
            "INSERT INTO {events} (originator_id, originator_version, topic, state) "
            "SELECT o, v, t, s FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], "
            "%b::bytea[]) WITH ORDINALITY AS u(o, v, t, s, n) ORDER BY n "
            "RETURNING notification_id, originator_id, originator_version"
        ).format(events=self._events(), id_type=SQL(id_type))
        with (
            no_collector_pause(),
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            self._lock_table(curs)
            self._notify_channel(curs)
            curs.execute(
                insert,
                (
                    [e.originator_id for e in stored_events],
                    [e.originator_version for e in stored_events],
                    [e.topic for e in stored_events],
                    [e.state for e in stored_events],
                ),
            )
            assigned = {
                (str(r["originator_id"]), r["originator_version"]): r["notification_id"]
                for r in curs.fetchall()
            }
            ids = [assigned[(str(e.originator_id), e.originator_version)] for e in stored_events]
            curs.execute(
                SQL("SELECT hash FROM {t} ORDER BY notification_id DESC LIMIT 1").format(
                    t=self._table()
                )
            )
            row = curs.fetchone()
            chain = _chain(row["hash"] if row else GENESIS, ids, stored_events)
            curs.execute(
                SQL("INSERT INTO {t} SELECT * FROM unnest(%b::bigint[], %b::text[])").format(
                    t=self._table()
                ),
                ([i for i, _ in chain], [h for _, h in chain]),
            )
        return ids

    def select_rows(self, start: int, stop: int, topics: Sequence[str] = ()) -> list[Row]:
        """The log's rows (id, originator id, version, topic, state) with notification ids
        from ``start`` to ``stop``, only of ``topics`` if given: tuples in binary format
        (no per-row dictionaries), for the replay's read path. The caller asks for short
        id ranges: the query reads only that range of the notification-id index, whatever
        the planner believes of a freshly loaded table (with ``LIMIT`` and stale
        statistics it chose to read and sort the whole table for every page)."""
        where = SQL(" AND topic = ANY(%s)") if topics else SQL("")
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute(
                SQL(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM {events} WHERE notification_id >= %s AND notification_id "
                    "<= %s{where} ORDER BY notification_id"
                ).format(events=self._events(), where=where),
                (start, stop, *([list(topics)] if topics else [])),
                prepare=True,
            )
            return curs.fetchall()

    def known_ids(self, ids: Sequence[UUID]) -> set[UUID]:
        """Which of ``ids`` have events stored (one query for a batch of look-ups). Asks
        for each id's first event by the full primary key, so the index serves it even
        when the table's statistics are stale (a ``= ANY`` on the id alone made the
        planner scan all ten million rows of a freshly loaded log, per batch)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT u.id FROM unnest(%s::uuid[]) AS u(id) WHERE EXISTS (SELECT 1 "
                    "FROM {events} e WHERE e.originator_id = u.id AND "
                    "e.originator_version = 1)"
                ).format(events=self._events()),
                (list(ids),),
            )
            return {UUID(str(r["id"])) for r in curs.fetchall()}

    def select_hashes(self, start: int, limit: int) -> list[tuple[int, str]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT notification_id, hash FROM {t} WHERE notification_id >= %s "
                    "ORDER BY notification_id LIMIT %s"
                ).format(t=self._table()),
                (start, limit),
            )
            return [(int(r["notification_id"]), str(r["hash"])) for r in curs.fetchall()]


@dataclass(frozen=True)
class Verification:
    events: int
    ok: bool
    broken_at: int | None = None
    problem: str = ""


def _hashes(recorder: Any) -> Iterator[tuple[int, str]]:
    start = 1
    while page := recorder.select_hashes(start, PAGE):
        yield from page
        start = page[-1][0] + 1


def _events(recorder: ApplicationRecorder) -> Iterator[Any]:
    start = 1
    while page := recorder.select_notifications(start, PAGE):
        yield from page
        start = page[-1].id + 1


def verify(recorder: ApplicationRecorder) -> Verification:
    """Recompute the chain over the whole log; name the first event where it breaks."""
    if not hasattr(recorder, "select_hashes"):
        raise TypeError("this store keeps no hash chain (in-memory ledgers have none)")
    previous = GENESIS
    count = 0
    hashes = _hashes(recorder)
    events = _events(recorder)
    hash_row = next(hashes, None)
    event = next(events, None)
    while hash_row is not None or event is not None:
        if hash_row is not None and (event is None or hash_row[0] < event.id):
            return Verification(
                count,
                False,
                hash_row[0],
                f"event {hash_row[0]} was deleted: its hash is still in the chain",
            )
        if event is None:  # pragma: no cover - only hashes left is handled just above
            break
        if hash_row is None or event.id < hash_row[0]:
            return Verification(
                count,
                False,
                event.id,
                f"event {event.id} has no hash: it was not written by the ledger",
            )
        expected = link(
            previous,
            event.id,
            event.originator_id,
            event.originator_version,
            event.topic,
            event.state,
        )
        if expected != hash_row[1]:
            return Verification(
                count,
                False,
                event.id,
                f"the chain breaks at event {event.id}: it was altered, or an "
                "event before it was removed together with its hash",
            )
        previous = hash_row[1]
        count += 1
        hash_row = next(hashes, None)
        event = next(events, None)
    return Verification(count, True)
