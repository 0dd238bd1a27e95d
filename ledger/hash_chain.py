"""Tamper evidence: a hash chain over the event log, written with the events.

Every stored event gets a link in a table beside the events (``<app>_event_hashes`` on
PostgreSQL, ``event_hashes`` in the SQLite file), inserted in the same transaction as the
event and while the log is locked for writing, so the chain follows commit order:

* keyed (a chain key is configured, :mod:`ledger.chain_key`): the link is
  ``<key id>:HMAC-SHA-256(key, key id | previous link | notification id | originator id |
  version | topic | state bytes)``. Without the key nobody can recompute it, so whoever
  rewrites an event in the database cannot make the chain hold again;
* unkeyed (no key configured, and every link before it unkeyed): the link is the bare
  ``SHA-256(previous link | notification id | …)``. It detects accidental damage only:
  anyone who can write to the database can recompute it after a forgery.

Once the log has a keyed link, a process without the key is refused every write
(:class:`ledger.chain_key.ChainKeyRequired`): an unkeyed link after keyed ones would be
indistinguishable from a forgery, and ``verify`` reports it as one.

``verify`` recomputes the chain and names the first event where it breaks: an event whose
bytes were changed, an event deleted (its hash remains), an event inserted behind the
ledger's back (no hash), or an event and its hash both removed (the next link breaks).
Removing the newest events together with their hashes, or (unkeyed) recomputing the whole
chain, cannot be seen from inside the database: anchors kept outside it (``Head``, the
head printed by ``audit verify`` and ``backup``, and the seal of every year-end close)
cover that, checked by ``check_anchors``.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import hmac
import re
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

from ledger.chain_key import ChainKey, ChainKeyRequired, Keyring
from ledger.planner_statistics import StatisticsKeeper

GENESIS = "0" * 64
#: A stored event as the replay reads it: notification id, originator id, version,
#: topic, state bytes.
Row = tuple[int, UUID, int, str, bytes]
PAGE = 1000


def link(
    previous: str, notification_id: int, originator_id: Any, version: int, topic: str, state: bytes
) -> str:
    """The unkeyed link of one event (plain SHA-256), chained to the link before it."""
    head = f"{previous}|{notification_id}|{UUID(str(originator_id))}|{version}|{topic}|"
    return hashlib.sha256(head.encode() + bytes(state)).hexdigest()


def keyed_link(
    key: ChainKey,
    previous: str,
    notification_id: int,
    originator_id: Any,
    version: int,
    topic: str,
    state: bytes,
) -> str:
    """The keyed link of one event: ``<key id>:<HMAC-SHA-256>``, chained to the link before
    it (the key id is part of what is authenticated)."""
    head = f"{key.id}|{previous}|{notification_id}|{UUID(str(originator_id))}|{version}|{topic}|"
    return f"{key.id}:{hmac.digest(key.secret, head.encode() + bytes(state), 'sha256').hex()}"


def key_id_of(stored: str) -> str | None:
    """The id of the key that made a stored link; None for an unkeyed (bare hex) link."""
    key_id, sep, _ = stored.rpartition(":")
    return key_id if sep else None


_LINK = re.compile(r"^(?:[A-Za-z0-9_.-]{1,40}:)?[0-9a-f]{64}$")


@dataclass(frozen=True)
class Head:
    """A point of the chain: the log position and the link stored there, written
    ``POSITION:HASH`` (an anchor to keep outside the database)."""

    position: int
    hash: str

    def __str__(self) -> str:
        return f"{self.position}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        position, sep, stored = text.strip().partition(":")
        if not sep or not position.isascii() or not position.isdigit() or not _LINK.match(stored):
            raise ValueError(
                f"{text!r} is not a chain head: expected POSITION:HASH as printed by "
                "`fundflow audit verify` (e.g. 1234:k2024:<64 hex> or 1234:<64 hex>)"
            )
        return cls(int(position), stored)


GENESIS_HEAD = Head(0, GENESIS)


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
    previous: str, ids: Sequence[int], events: Sequence[StoredEvent], key: ChainKey | None
) -> list[tuple[int, str]]:
    make = link if key is None else functools.partial(keyed_link, key)
    rows = []
    for notification_id, event in zip(ids, events, strict=True):
        previous = make(
            previous,
            notification_id,
            event.originator_id,
            event.originator_version,
            event.topic,
            event.state,
        )
        rows.append((notification_id, previous))
    return rows


class ChainWriter:
    """What both recorders share: the keyring they make links with. The composition root
    hands it over (``ledger.composition.build_ledger``); nothing here reads a file."""

    keyring: Keyring | None = None
    refuse_writes: str | None = None
    """Set by the composition root when this process's key does not make the log's last
    link (:func:`key_mismatch`): every write is refused with this reason."""

    def chain_links(
        self, previous: str | None, ids: Sequence[int], events: Sequence[StoredEvent]
    ) -> list[tuple[int, str]]:
        """The links of ``events``, chained to the log's last link ``previous``."""
        if self.refuse_writes is not None:
            raise ChainKeyRequired(self.refuse_writes)
        previous = previous or GENESIS
        if self.keyring is None:
            made_by = key_id_of(previous)
            if made_by is not None:
                raise ChainKeyRequired(
                    f"the log's hash chain is keyed (key {made_by!r}) and this process has "
                    "no chain key: set FUNDFLOW_CHAIN_KEY_FILE to the key file; nothing "
                    "was written"
                )
            return _chain(previous, ids, events, None)
        return _chain(previous, ids, events, self.keyring.current)


class ChainedSQLiteRecorder(ChainWriter, SQLiteApplicationRecorder):
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
            c.executemany(
                f"INSERT INTO {self.hashes_table} VALUES (?, ?)",
                self.chain_links(row[0] if row else None, ids, stored_events),
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

    def select_rows_at(self, positions: Sequence[int]) -> list[Row]:
        """The rows (as ``select_rows``) at these notification ids, in log order."""
        rows: list[Row] = []
        for i in range(0, len(positions), 500):
            chunk = list(positions[i : i + 500])
            with self.datastore.transaction(commit=False) as c:
                c.execute(
                    f"SELECT rowid, originator_id, originator_version, topic, state FROM "
                    f"{self.events_table_name} WHERE rowid IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                rows += [(r[0], UUID(r[1]), r[2], r[3], r[4]) for r in c.fetchall()]
        rows.sort(key=lambda r: int(r[0]))
        return rows

    def select_rows_of(self, ids: Sequence[UUID], stop: int, start: int = 1) -> list[Row]:
        """The rows (as ``select_rows``) of the aggregates ``ids`` with notification ids
        from ``start`` to ``stop``, in log order: one unit's history read through the
        primary key, at a cost that does not grow with the rest of the log."""
        rows: list[Row] = []
        for i in range(0, len(ids), 500):
            chunk = [u.hex for u in ids[i : i + 500]]
            with self.datastore.transaction(commit=False) as c:
                c.execute(
                    f"SELECT rowid, originator_id, originator_version, topic, state FROM "
                    f"{self.events_table_name} WHERE originator_id IN "
                    # unary +: the rows come by the id's index, not by a scan of the range
                    f"({','.join('?' * len(chunk))}) AND +rowid >= ? AND +rowid <= ?",
                    (*chunk, start, stop),
                )
                rows += [(r[0], UUID(r[1]), r[2], r[3], r[4]) for r in c.fetchall()]
        rows.sort(key=lambda r: int(r[0]))
        return rows

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

    def select_head(self) -> tuple[int, str] | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT notification_id, hash FROM {self.hashes_table} "
                "ORDER BY notification_id DESC LIMIT 1"
            )
            row = c.fetchone()
            return (int(row[0]), str(row[1])) if row else None


class ChainedPostgresRecorder(ChainWriter, PostgresApplicationRecorder):
    """PostgreSQL application recorder that writes the hash chain with the events."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hashes_table = f"{self.events_table_name}_hashes"
        self.statistics = StatisticsKeeper(self.datastore)
        """Keeps the planner's statistics of the log current as this process fills it."""
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
            chain = self.chain_links(row["hash"] if row else None, ids, stored_events)
            curs.execute(
                SQL("INSERT INTO {t} SELECT * FROM unnest(%b::bigint[], %b::text[])").format(
                    t=self._table()
                ),
                ([i for i, _ in chain], [h for _, h in chain]),
            )
        # committed: now, outside the table lock
        self.statistics.wrote(len(stored_events), [self.events_table_name, self.hashes_table])
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

    def select_rows_at(self, positions: Sequence[int]) -> list[Row]:
        """The rows (as ``select_rows``) at these notification ids, in log order (one
        look-up of the notification-id index each)."""
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute(
                SQL(
                    "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, "
                    "e.state FROM unnest(%s::bigint[]) AS p(id) CROSS JOIN LATERAL (SELECT * "
                    "FROM {events} x WHERE x.notification_id = p.id) AS e "
                    "ORDER BY e.notification_id"
                ).format(events=self._events()),
                (list(positions),),
            )
            return curs.fetchall()

    def select_rows_of(self, ids: Sequence[UUID], stop: int, start: int = 1) -> list[Row]:
        """The rows (as ``select_rows``) of the aggregates ``ids`` with notification ids
        from ``start`` to ``stop``, in log order: one unit's history read through the
        primary key (one index range per aggregate, whatever the table's statistics say),
        at a cost that does not grow with the rest of the log. (``OFFSET 0`` keeps the
        planner from pushing the notification-id range into the per-aggregate scan: it
        did, and-ing the primary key with a scan of the log's whole range, per aggregate.)"""
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute(
                SQL(
                    "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, "
                    "e.state FROM unnest(%s::uuid[]) AS u(id) CROSS JOIN LATERAL (SELECT * "
                    "FROM {events} x WHERE x.originator_id = u.id AND x.originator_version "
                    ">= 1 OFFSET 0) AS e WHERE e.notification_id BETWEEN %s AND %s "
                    "ORDER BY e.notification_id"
                ).format(events=self._events()),
                (list(ids), start, stop),
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

    def select_head(self) -> tuple[int, str] | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT notification_id, hash FROM {t} ORDER BY notification_id DESC LIMIT 1"
                ).format(t=self._table())
            )
            row = curs.fetchone()
            return (int(row["notification_id"]), str(row["hash"])) if row else None


@dataclass(frozen=True)
class Verification:
    events: int
    """Events whose links were recomputed and found equal."""
    ok: bool
    broken_at: int | None = None
    problem: str = ""
    head: Head | None = None
    """The last verified link (the head to file as an anchor), when the chain holds."""
    unkeyed: int = 0
    """Links made without a key (plain SHA-256): they detect accidental damage only."""
    key_ids: tuple[str, ...] = ()
    """The keys that made the keyed links, in the order they first appear."""
    unverifiable: bool = False
    """The chain is keyed and no key was given: nothing could be said about it."""

    @property
    def keyed(self) -> bool:
        return bool(self.key_ids)


@dataclass(frozen=True)
class Checkpoint:
    """Where a successful ``verify`` ended — its head, the keys and unkeyed links it met,
    and how many events it verified in all: the next run may go on from there instead of
    from the first event (kept outside the database, like any anchor)."""

    head: Head
    key_ids: tuple[str, ...] = ()
    unkeyed: int = 0
    events: int = 0

    @classmethod
    def of(cls, verification: Verification) -> Checkpoint:
        return cls(
            verification.head or GENESIS_HEAD,
            verification.key_ids,
            verification.unkeyed,
            verification.events,
        )


def _hashes(recorder: Any, start: int = 1) -> Iterator[tuple[int, str]]:
    while page := recorder.select_hashes(start, PAGE):
        yield from page
        start = page[-1][0] + 1


def _events(recorder: ApplicationRecorder, start: int = 1) -> Iterator[Any]:
    while page := recorder.select_notifications(start, PAGE):
        yield from page
        start = page[-1].id + 1


def _chained(recorder: ApplicationRecorder) -> ChainWriter:
    if not isinstance(recorder, ChainWriter) or not hasattr(recorder, "select_hashes"):
        raise TypeError("this store keeps no hash chain (in-memory ledgers have none)")
    return recorder


def verify(recorder: ApplicationRecorder, since: Checkpoint | None = None) -> Verification:
    """Recompute the chain over the whole log with the recorder's keyring; name the first
    event where it breaks. ``since`` (a checkpoint of an earlier successful run) goes on
    from there: the link stored at its head must still be the one verified then, and only
    the events after it are recomputed — what the earlier run verified is taken as it was
    (``audit verify --full`` verifies everything again).

    Unkeyed links are accepted only before the first keyed one (a log written before a key
    was set up); an unkeyed link after a keyed one, a link naming a key the keyring does
    not hold, or — with a keyring — a log none of whose links is keyed, is a forgery as
    far as anyone can tell. Without a keyring a keyed chain cannot be verified at all."""
    keyring = _chained(recorder).keyring
    since = since or Checkpoint(GENESIS_HEAD)
    previous, last = since.head.hash, since.head.position
    count, unkeyed = since.events, since.unkeyed
    key_ids: list[str] = list(since.key_ids)
    hashes = _hashes(recorder, last + 1)
    events = _events(recorder, last + 1)
    hash_row = next(hashes, None)
    event = next(events, None)

    def broken(at: int | None, problem: str, *, unverifiable: bool = False) -> Verification:
        return Verification(
            count,
            False,
            at,
            problem,
            unkeyed=unkeyed,
            key_ids=tuple(key_ids),
            unverifiable=unverifiable,
        )

    found = stored_link(recorder, last)
    if found is None or not hmac.compare_digest(found, previous):
        return broken(
            last,
            f"the link of event {last} is not the one verified last time ({since.head}): "
            f"the log up to event {last} was rewritten or cut",
        )
    while hash_row is not None or event is not None:
        if hash_row is not None and (event is None or hash_row[0] < event.id):
            return broken(
                hash_row[0], f"event {hash_row[0]} was deleted: its hash is still in the chain"
            )
        if event is None:  # pragma: no cover - only hashes left is handled just above
            break
        if hash_row is None or event.id < hash_row[0]:
            return broken(
                event.id, f"event {event.id} has no hash: it was not written by the ledger"
            )
        stored = hash_row[1]
        key_id = key_id_of(stored)
        if key_id is None:
            if key_ids:
                return broken(
                    event.id,
                    f"the link of event {event.id} was made without the chain key, after keyed "
                    "links: the chain was recomputed by someone who does not hold the key",
                )
            expected = link(
                previous,
                event.id,
                event.originator_id,
                event.originator_version,
                event.topic,
                event.state,
            )
            unkeyed += 1
        else:
            if keyring is None:
                return broken(
                    event.id,
                    f"the chain is keyed from event {event.id} on (key {key_id!r}): verifying "
                    "it needs the key file; set FUNDFLOW_CHAIN_KEY_FILE",
                    unverifiable=True,
                )
            key = keyring.get(key_id)
            if key is None:
                return broken(
                    event.id,
                    f"the link of event {event.id} names key {key_id!r}, which the key file "
                    f"does not hold (it holds {', '.join(keyring.ids)}): the link was forged, "
                    "or that key was removed from the key file",
                )
            if key_id not in key_ids:
                key_ids.append(key_id)
            expected = keyed_link(
                key,
                previous,
                event.id,
                event.originator_id,
                event.originator_version,
                event.topic,
                event.state,
            )
        if not hmac.compare_digest(expected, stored):
            return broken(
                event.id,
                f"the chain breaks at event {event.id}: it was altered, or an "
                "event before it was removed together with its hash",
            )
        previous = stored
        count += 1
        last = event.id
        hash_row = next(hashes, None)
        event = next(events, None)
    if keyring is not None and count and not key_ids:
        return broken(
            None,
            "a chain key is set, but no link in the log is keyed: the chain was recomputed "
            "without the key, or nothing has been written since the key was set up (the "
            "next posting keys the chain from there on)",
        )
    head = Head(last, previous) if count else GENESIS_HEAD
    return Verification(count, True, head=head, unkeyed=unkeyed, key_ids=tuple(key_ids))


def chain_head(recorder: ApplicationRecorder) -> Head | None:
    """The log's last link as stored (``0:<genesis>`` for an empty log), without
    verifying anything; None for a store that keeps no chain (in memory)."""
    if not isinstance(recorder, ChainWriter) or not hasattr(recorder, "select_head"):
        return None
    row = recorder.select_head()
    return Head(*row) if row else GENESIS_HEAD


def stored_link(recorder: ApplicationRecorder, position: int) -> str | None:
    """The link stored for the event at ``position`` (the genesis for 0), or None."""
    if position == 0:
        return GENESIS
    rows = _chained(recorder).select_hashes(position, 1)  # type: ignore[attr-defined]
    return rows[0][1] if rows and rows[0][0] == position else None


@dataclass(frozen=True)
class Anchor:
    """A head kept outside the database, and where it came from (for the message)."""

    head: Head
    source: str


def check_anchors(recorder: ApplicationRecorder, anchors: Sequence[Anchor]) -> list[str]:
    """What differs between the log and each anchor (empty: every anchor holds). Call it
    after ``verify`` succeeded: then each stored link is the recomputed one, and the link
    at an anchor's position equals the anchor only if the whole log up to it is the same."""
    problems = []
    last = chain_head(recorder)
    end = last.position if last else 0
    for anchor in anchors:
        position = anchor.head.position
        found = stored_link(recorder, position)
        if found is None and position > end:
            problems.append(
                f"{anchor.source} {anchor.head} is beyond the end of the log (event {end}): "
                "events were removed from the end of the log"
            )
        elif found is None:
            problems.append(
                f"{anchor.source} {anchor.head} names event {position}, which is not in the log"
            )
        elif not hmac.compare_digest(found, anchor.head.hash):
            problems.append(
                f"{anchor.source} {anchor.head} differs from the log, whose link at event "
                f"{position} is {found}: the log up to event {position} was rewritten"
            )
    return problems


def key_mismatch(recorder: Any) -> str | None:
    """Why this process must not write, if its key under the id the log's last link names
    does not make that link: another key under the same id (or a forged last link) — links
    appended with it would never verify again. None when writing is fine. One check when a
    process starts (three small queries); reading, and so ``audit verify``, stays open."""
    keyring: Keyring | None = getattr(recorder, "keyring", None)
    if keyring is None:
        return None
    head = recorder.select_head()
    if head is None:
        return None
    position, stored = head
    key_id = key_id_of(stored)
    key = None if key_id is None else keyring.get(key_id)
    if key is None:
        return None  # unkeyed or an old key's link: verify judges those
    before = [p for p in recorder.select_hashes(max(1, position - 1000), 2000) if p[0] < position]
    previous = before[-1][1] if before else GENESIS
    rows = recorder.select_rows(position, position)
    if not rows:
        return None  # a link without its event: verify names it
    _, originator_id, version, topic, state = rows[0]
    if keyed_link(key, previous, position, originator_id, version, topic, bytes(state)) != stored:
        return (
            f"the key {key_id!r} of the chain key file does not make the log's last link: "
            "another key under the same id, or the log was altered (run fundflow audit "
            "verify). Use the key file the log was written with; nothing was written"
        )
    return None
