"""The books, materialized: documents in the ledger's own database, kept up to date from
the event log with exactly-once tracking.

A read model is a table of JSON documents (``kind``, ``key`` → ``doc``: units, projects,
years, lines, accounts, adjustments) plus its position in the log, in
``readmodel_position``; the table readers use is named in ``readmodel_live``. A catch-up
applies the events after the position and writes the changed documents and the new
position in one transaction, advancing the position only if nobody else did meanwhile — so
killed at any moment, or run twice at once, every event is applied exactly once.
``rebuild`` builds a new table beside the live one and switches readers over when it has
caught up; ``differences`` compares a read model with a fresh fold of the events.
"""

from __future__ import annotations

import heapq
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict
from datetime import date
from typing import Any
from uuid import UUID

import orjson
import psycopg
import structlog
from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresDatastore
from psycopg import sql

from ledger.aggregates import ClassificationCatalogue, FiscalYear, Project, Unit, YearStatus
from ledger.application import Ledger
from ledger.classifications import FundSource, Nature
from ledger.errors import InvalidInput
from ledger.line_totals import LineTotals
from ledger.planner_statistics import StatisticsKeeper
from ledger.side_tables import SideTables
from projections.books import (
    TRACKED_TOPICS,
    AdjustmentView,
    Books,
    LineView,
    ProjectView,
    UnitView,
    YearView,
    books_of,
    fold,
)

log = structlog.get_logger("fundflow.projections")
NAME = "books"
#: Prefix of the document tables of the current layout (kind, key, doc, unit).
LAYOUT = "rm5"
#: Events applied per transaction when the read model follows the log.
BATCH = 1000
#: … and when it is rebuilt: a document touched many times is written once per batch.
REBUILD_BATCH = 20000
#: Rows per executemany call.
WRITE_CHUNK = 500
#: A unit's documents are kept as a checkpoint once this many of its events have been
#: applied since its last one: the books of a unit at a past log position are folded from
#: the checkpoint before it, not from the unit's first event.
CHECKPOINT_EVERY = 1000
Doc = dict[str, Any]


# --- documents ------------------------------------------------------------------------


def doc_for(books: Books, kind: str, key: str) -> Doc | None:
    """The document of one thing in the books (None when it is gone)."""
    if kind == "unit":
        unit = books.units.get(key)
        if unit is None:
            return None
        return {**asdict(unit), "latest_date": unit.latest_date and unit.latest_date.isoformat()}
    if kind == "project":
        unit_code, code = key.split("/", 1)
        project = books.projects.get((unit_code, code))
        return None if project is None else asdict(project)
    if kind == "year":
        unit_code, year = key.rsplit("/", 1)
        view = books.years.get((unit_code, int(year)))
        if view is None:
            return None
        doc = asdict(view)
        doc["status"] = view.status.value
        doc["adjustment_until"] = view.adjustment_until and view.adjustment_until.isoformat()
        return doc
    if kind == "line":
        line = books.lines.get(UUID(key))
        if line is None:
            return None
        totals = line.totals.as_dict()
        return {
            "id": key,
            "unit_code": line.unit_code,
            "year": line.year,
            "code": line.code,
            "title": line.title,
            "nature": line.nature.value,
            "function_code": line.function_code,
            "fund_source": line.fund_source.value,
            "project_code": line.project_code,
            "opened_at": line.opened_at,
            "totals": totals,
            "three_public": line.three_public,
            "procurement": [[c, s, a] for (c, s), a in line.procurement.items()],
            "parties": [[k, p, e, a] for (k, p, e), a in line.parties.items()],
        }
    if kind == "catalogue":
        names = books.catalogues.get(key)
        return None if names is None else {"names": names}
    if kind == "account":
        balance = books.accounts.get(key)
        return None if balance is None else {"balance": balance}
    if kind == "kinds":
        return dict(books.kinds)
    if kind == "adjustment":
        found = next((a for a in books.adjustments if str(a.position) == key), None)
        if found is None:
            return None
        doc = asdict(found)
        doc["business_date"] = found.business_date.isoformat()
        return doc
    raise ValueError(f"unknown document kind {kind!r}")


def unit_of(books: Books, kind: str, key: str, doc: Doc) -> str:
    """The unit a document belongs to; "" for the shared ones (the finance bureau's and
    the carryover transit accounts). Every document but an account's names its unit."""
    if kind == "unit":
        return key
    if kind in ("catalogue", "kinds"):
        return ""  # shared: a catalogue serves every unit; the totals by kind are ledger-wide
    if kind != "account":
        return str(doc["unit_code"])
    if key.startswith("line:"):
        line = books.lines.get(UUID(key.split(":")[1]))
        return line.unit_code if line else ""
    return ""


def all_docs(books: Books) -> dict[tuple[str, str], Doc]:
    """Every document of the books."""
    keys = (
        [("unit", k) for k in books.units]
        + [("project", f"{u}/{c}") for u, c in books.projects]
        + [("year", f"{u}/{y}") for u, y in books.years]
        + [("line", str(i)) for i in books.lines]
        + [("account", a) for a in books.accounts]
        + [("adjustment", str(a.position)) for a in books.adjustments]
        + [("catalogue", k) for k in books.catalogues]
        + [("kinds", "ledger")]
    )
    return {key: doc for key in keys if (doc := doc_for(books, *key)) is not None}


def unit_docs(books: Books, code: str) -> dict[tuple[str, str], Doc]:
    """The documents of one unit (its own: not the shared accounts), as a checkpoint."""
    years = [y for u, y in books.years if u == code]
    lines = [ln for y in years for ln in books.lines_of(code, y)]
    keys = (
        [("unit", code)]
        + [("project", f"{u}/{c}") for u, c in books.projects if u == code]
        + [("year", f"{code}/{y}") for y in years]
        + [("line", line.key) for line in lines]
        + [("adjustment", str(a.position)) for a in books.adjustments if a.unit_code == code]
    )
    return {key: doc for key in keys if (doc := doc_for(books, *key)) is not None}


def books_from_docs(docs: Iterator[tuple[str, str, Doc]], position: int) -> Books:
    """Books rebuilt from documents, as they stood at ``position``."""
    books = Books(position=position)
    lines: list[tuple[int, LineView]] = []
    for kind, key, doc in docs:
        if kind == "unit":
            latest = doc.get("latest_date")
            books.units[key] = UnitView(
                **{**doc, "latest_date": latest and date.fromisoformat(latest)}
            )
        elif kind == "project":
            books.projects[(doc["unit_code"], doc["code"])] = ProjectView(**doc)
        elif kind == "year":
            view = YearView(
                **{
                    **doc,
                    "status": YearStatus(doc["status"]),
                    "adjustment_until": doc["adjustment_until"]
                    and date.fromisoformat(doc["adjustment_until"]),
                }
            )
            books.years[(view.unit_code, view.year)] = view
            books._year_keys[FiscalYear.id_for(view.unit_code, view.year)] = (
                view.unit_code,
                view.year,
            )
        elif kind == "line":
            line = LineView(
                id=UUID(doc["id"]),
                unit_code=doc["unit_code"],
                year=doc["year"],
                code=doc["code"],
                title=doc["title"],
                nature=Nature(doc["nature"]),
                function_code=doc["function_code"],
                fund_source=FundSource(doc["fund_source"]),
                project_code=doc["project_code"],
                opened_at=doc["opened_at"],
                totals=LineTotals(**doc["totals"]),
                three_public=dict(doc["three_public"]),
                procurement={(c, s): a for c, s, a in doc["procurement"]},
                parties={(k, p, e): a for k, p, e, a in doc["parties"]},
            )
            lines.append((line.opened_at, line))
        elif kind == "catalogue":
            books.add_catalogue(*_catalogue_key(key), dict(doc["names"]))
        elif kind == "account":
            books.accounts[key] = doc["balance"]
        elif kind == "kinds":
            books.kinds = dict(doc)
        elif kind == "adjustment":
            books.adjustments.append(
                AdjustmentView(**{**doc, "business_date": date.fromisoformat(doc["business_date"])})
            )
    # Lines in the order they were opened, as a fold would have them.
    for _, line in sorted(lines, key=lambda pair: pair[0]):
        books.add_line(line)
    books.adjustments.sort(key=lambda a: a.position)
    return books


# --- the store --------------------------------------------------------------------------


class ReadModelStore:
    """Read-model tables in the ledger's database (SQLite file or PostgreSQL schema)."""

    def __init__(self, tables: SideTables, name: str = NAME) -> None:
        """The read model ``name`` beside a ledger, in the ledger's own database (the
        composition root hands over its side tables)."""
        self.name = name
        self.tables = tables
        self.postgres = tables.postgres
        self.schema = tables.schema
        datastore = tables.datastore
        self.statistics = (
            StatisticsKeeper(datastore) if isinstance(datastore, PostgresDatastore) else None
        )
        """Keeps the planner's statistics of the read model's tables current as they fill."""
        self.since_checkpoint: dict[str, int] = {}
        """Events applied per unit since its last checkpoint (by this process)."""
        self.pending_checkpoints: list[tuple[str, int, str, str]] = []
        """Checkpoints (unit, position, documents, latest business date) taken while the
        batch was applied, each at the event that made it due: written with its documents."""
        self.pending_index: list[tuple[str, str, str, int]] = []
        """Rows of the trail index (unit, field, value, position) of the batch being
        applied: written with its documents."""
        self._create_registry()

    # connections

    def transaction(self) -> AbstractContextManager[Any]:
        """A cursor in one transaction of the ledger's database."""
        return self.tables.transaction()

    def _q(self, text: str, **tables: str) -> Any:
        """A statement with table names filled in, in the driver's parameter style."""
        return self.tables.q(text, **tables)

    def _create_registry(self) -> None:
        with self.tables.ddl_transaction() as c:
            c.execute(
                self._q(
                    "CREATE TABLE IF NOT EXISTS {t} (name TEXT PRIMARY KEY, "
                    "table_name TEXT NOT NULL)",
                    t="readmodel_live",
                )
            )
            c.execute(
                self._q(
                    "CREATE TABLE IF NOT EXISTS {t} (table_name TEXT PRIMARY KEY, "
                    "position BIGINT NOT NULL)",
                    t="readmodel_position",
                )
            )
            c.execute(
                self._q("SELECT table_name FROM {t} WHERE name = %s", t="readmodel_live"),
                (self.name,),
            )
            row = c.fetchone()
            if row is None:
                self._create_table(c, f"{LAYOUT}_{self.name}_1")
                c.execute(
                    self._q("INSERT INTO {t} VALUES (%s, %s)", t="readmodel_live"),
                    (self.name, f"{LAYOUT}_{self.name}_1"),
                )
                return
        if not str(row[0]).startswith(f"{LAYOUT}_"):
            # A read model of an older layout: readers move to a new one, built from the
            # events on the next catch-up (reports add what it lacks meanwhile).
            table = self.new_table()
            old = self.switch(table)
            if old != table:  # not if another worker starting too made and switched to it
                self.drop(old)

    def _create_table(self, c: Any, table: str) -> None:
        c.execute(
            self._q(
                "CREATE TABLE IF NOT EXISTS {t} (kind TEXT NOT NULL, key TEXT NOT "
                "NULL, doc TEXT NOT NULL, unit TEXT NOT NULL, PRIMARY KEY (kind, key))",
                t=table,
            )
        )
        c.execute(
            self._q(
                "CREATE TABLE IF NOT EXISTS {t} (unit TEXT NOT NULL, position BIGINT NOT NULL, "
                "docs TEXT NOT NULL, latest_date TEXT NOT NULL, PRIMARY KEY (unit, position))",
                t=f"{table}_cp",
            )
        )
        c.execute(
            self._q(
                "CREATE TABLE IF NOT EXISTS {t} (unit TEXT NOT NULL, field TEXT NOT NULL, "
                "value TEXT NOT NULL, position BIGINT NOT NULL, "
                "PRIMARY KEY (unit, field, value, position))",
                t=f"{table}_ix",
            )
        )
        index = f"{table}_unit"
        if self.postgres:
            c.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {i} ON {t} (unit)").format(
                    i=sql.Identifier(index), t=sql.Identifier(self.schema, table)
                )
            )
        else:
            c.execute(f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" (unit)')
        c.execute(
            self._q(
                "INSERT INTO {t} VALUES (%s, 0) ON CONFLICT DO NOTHING", t="readmodel_position"
            ),
            (table,),
        )

    def live_table(self) -> str:
        with self.transaction() as c:
            return self._live(c)

    def _live(self, c: Any) -> str:
        """The live table, read in the caller's transaction (each of the readers below is
        one transaction: one connection from the pool, not one per question)."""
        c.execute(
            self._q("SELECT table_name FROM {t} WHERE name = %s", t="readmodel_live"),
            (self.name,),
        )
        return str(c.fetchone()[0])

    def position(self, table: str | None = None) -> int:
        with self.transaction() as c:
            table = table or self._live(c)
            c.execute(
                self._q("SELECT position FROM {t} WHERE table_name = %s", t="readmodel_position"),
                (table,),
            )
            row = c.fetchone()
            return int(row[0]) if row else 0

    def load(self, table: str | None = None, *, unit: str | None = None) -> Books:
        """The books as the read model holds them (with their position), in one snapshot;
        with ``unit`` (a code), only that unit's documents and the shared ones: what its
        reports need, at a cost that does not grow with the other units."""
        with self.transaction() as c:
            table = table or self._live(c)
            c.execute(
                self._q("SELECT position FROM {t} WHERE table_name = %s", t="readmodel_position"),
                (table,),
            )
            position = int(c.fetchone()[0])
            if unit is None:
                c.execute(self._q("SELECT kind, key, doc FROM {t}", t=table))
            else:
                c.execute(
                    self._q("SELECT kind, key, doc FROM {t} WHERE unit IN (%s, '')", t=table),
                    (unit,),
                )
            rows = c.fetchall()
        books = books_from_docs(((k, key, orjson.loads(d)) for k, key, d in rows), position)
        books.scope = unit
        return books

    def unit_code(self, code_or_name: str) -> str | None:
        """The code of a unit named by its code or its full name (None if unknown): a code
        is looked up by its key; only a name reads every unit's document."""
        with self.transaction() as c:
            table = self._live(c)
            c.execute(
                self._q("SELECT key FROM {t} WHERE kind = 'unit' AND key = %s", t=table),
                (code_or_name,),
            )
            if c.fetchone() is not None:  # a code is a code, whatever other units are named
                return code_or_name
            c.execute(self._q("SELECT key, doc FROM {t} WHERE kind = 'unit'", t=table))
            units = {str(key): orjson.loads(doc)["name"] for key, doc in c.fetchall()}
        return next((code for code, name in units.items() if name == code_or_name), None)

    def write(self, table: str, books: Books, expected: int) -> bool:
        """Write the documents ``books`` touched and advance the position from ``expected``
        to ``books.position`` — both, or neither if someone else moved the position."""
        with self.transaction() as c:
            if self.postgres:
                # The documents are made between statements: a big batch (a rebuild's) may
                # take longer than the pool's idle-in-transaction limit (5 s), which would
                # end the connection and fail the same batch on every retry.
                c.execute("SET LOCAL idle_in_transaction_session_timeout = '10min'")
            c.execute(
                self._q(
                    "UPDATE {t} SET position = %s WHERE table_name = %s AND position = %s",
                    t="readmodel_position",
                ),
                (books.position, table, expected),
            )
            if c.rowcount != 1:
                raise _Moved
            upserts, deletes = [], []
            for kind, key in sorted(books.touched):
                doc = doc_for(books, kind, key)
                if doc is None:
                    deletes.append((kind, key))
                else:
                    text = orjson.dumps(
                        doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
                    ).decode()
                    upserts.append((kind, key, text, unit_of(books, kind, key, doc)))
            # Set-based: one statement per kind of change, sent in chunks.
            delete = self._q("DELETE FROM {t} WHERE kind = %s AND key = %s", t=table)
            upsert = self._q(
                "INSERT INTO {t} VALUES (%s, %s, %s, %s) ON CONFLICT (kind, key) "
                "DO UPDATE SET doc = excluded.doc, unit = excluded.unit",
                t=table,
            )
            for statement, rows in ((delete, deletes), (upsert, upserts)):
                for i in range(0, len(rows), WRITE_CHUNK):
                    c.executemany(statement, rows[i : i + WRITE_CHUNK])
            self._insert_index(c, table)
            checkpoints = self.pending_checkpoints
            c.executemany(
                self._q(
                    "INSERT INTO {t} VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    t=f"{table}_cp",
                ),
                checkpoints,
            )
        if self.statistics is not None:  # committed: keep the planner's statistics current
            written = len(upserts) + len(deletes) + len(checkpoints) + len(self.pending_index)
            self.statistics.wrote(written, [table, f"{table}_cp", f"{table}_ix"])
        self.pending_checkpoints = []
        self.pending_index.clear()
        books.touched.clear()
        return True

    def _insert_index(self, c: Any, table: str) -> None:
        """The pending trail-index rows (a rebuild writes one or two per payment): on
        PostgreSQL by COPY (an ``INSERT … unnest`` spent most of its time dumping the
        arrays), on SQLite executemany. Each row is written once: the batch's rows are
        distinct (one event, one row per field), and a batch is written only by the worker
        that moves the position past it (``write``), in the same transaction."""
        rows = self.pending_index
        if not rows:
            return
        if not self.postgres:
            c.executemany(
                self._q(
                    "INSERT INTO {t} VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    t=f"{table}_ix",
                ),
                rows,
            )
            return
        with c.copy(
            self._q("COPY {t} (unit, field, value, position) FROM STDIN", t=f"{table}_ix")
        ) as copy:
            for row in dict.fromkeys(rows):
                copy.write_row(row)

    def indexed(self, unit: str, field: str, value: str) -> tuple[list[int], int]:
        """Log positions of the unit's line entries whose ``field`` (``payee`` or
        ``document_no``) is ``value``, as far as the live read model has applied the log —
        and that position (the events after it are not indexed yet)."""
        with self.transaction() as c:
            table = self._live(c)
            c.execute(
                self._q("SELECT position FROM {t} WHERE table_name = %s", t="readmodel_position"),
                (table,),
            )
            upto = int(c.fetchone()[0])
            c.execute(
                self._q(
                    "SELECT position FROM {t} WHERE unit = %s AND field = %s AND value = %s "
                    "AND position <= %s ORDER BY position",
                    t=f"{table}_ix",
                ),
                (unit, field, value, upto),
            )
            return [int(r[0]) for r in c.fetchall()], upto

    def checkpoint(self, unit: str, position: int, *, dated_by: date | None = None) -> Books | None:
        """The unit's books at its last checkpoint at or before ``position`` (None if there
        is none), in the live table; with ``dated_by``, the last one whose events are all
        dated on or before that day (a report as of that day leaves none of them out)."""
        latest = "9999-12-31" if dated_by is None else dated_by.isoformat()
        with self.transaction() as c:
            table = self._live(c)
            c.execute(
                self._q(
                    "SELECT position, docs FROM {t} WHERE unit = %s AND position <= %s "
                    "AND latest_date <= %s ORDER BY position DESC LIMIT 1",
                    t=f"{table}_cp",
                ),
                (unit, position, latest),
            )
            row = c.fetchone()
        if row is None:
            return None
        docs = orjson.loads(row[1])
        books = books_from_docs(((k, key, doc) for k, key, doc in docs), int(row[0]))
        books.scope = unit
        return books

    def switch(self, table: str) -> str:
        """Point readers at ``table``; returns the table they used before."""
        with self.transaction() as c:
            c.execute(
                self._q("SELECT table_name FROM {t} WHERE name = %s", t="readmodel_live"),
                (self.name,),
            )
            old = str(c.fetchone()[0])
            c.execute(
                self._q("UPDATE {t} SET table_name = %s WHERE name = %s", t="readmodel_live"),
                (table, self.name),
            )
        return old

    def new_table(self) -> str:
        number = int(self.live_table().rsplit("_", 1)[1]) + 1
        table = f"{LAYOUT}_{self.name}_{number}"
        with self.transaction() as c:
            c.execute(self._q("DROP TABLE IF EXISTS {t}", t=table))
            c.execute(self._q("DROP TABLE IF EXISTS {t}", t=f"{table}_cp"))
            c.execute(self._q("DROP TABLE IF EXISTS {t}", t=f"{table}_ix"))
            c.execute(
                self._q("DELETE FROM {t} WHERE table_name = %s", t="readmodel_position"), (table,)
            )
            self.since_checkpoint.clear()
            self.pending_checkpoints = []
            self.pending_index.clear()
            self._create_table(c, table)
        return table

    def drop(self, table: str) -> None:
        with self.transaction() as c:
            c.execute(self._q("DROP TABLE IF EXISTS {t}", t=table))
            c.execute(self._q("DROP TABLE IF EXISTS {t}", t=f"{table}_cp"))
            c.execute(self._q("DROP TABLE IF EXISTS {t}", t=f"{table}_ix"))
            c.execute(
                self._q("DELETE FROM {t} WHERE table_name = %s", t="readmodel_position"), (table,)
            )


class _Moved(Exception):
    """Another worker advanced the position first."""


# --- keeping it up to date --------------------------------------------------------------


def _index(books: Books, event: Any, position: int, rows: list[tuple[str, str, str, int]]) -> None:
    """The trail index's rows of one event: a line entry by its payee and its document
    number (what the audit trail selects by, besides a line or a project)."""
    line = books.lines.get(event.originator_id)
    document_no = getattr(event, "document_no", None)
    if line is None or document_no is None or not hasattr(event, "posted_by"):
        return
    rows.append((line.unit_code, "document_no", document_no, position))
    payee = getattr(event, "payee", None)
    if payee:
        rows.append((line.unit_code, "payee", payee, position))


def _checkpoint(books: Books, unit: str, position: int) -> tuple[str, int, str, str]:
    """A checkpoint row of ``unit`` as the books stand at ``position``: its documents and
    its latest business date ("" for none)."""
    view = books.units.get(unit)
    latest = view.latest_date.isoformat() if view and view.latest_date else ""
    return unit, position, _checkpoint_text(unit_docs(books, unit)), latest


def _checkpoint_text(docs: dict[tuple[str, str], Doc]) -> str:
    rows = [[kind, key, doc] for (kind, key), doc in sorted(docs.items())]
    return orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS).decode()


def catch_up(
    ledger: Ledger,
    store: ReadModelStore,
    *,
    table: str | None = None,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Apply every event after the read model's position; returns how many were applied."""
    table = table or store.live_table()
    books = store.load(table)
    target = ledger.position()
    applied = 0
    while books.position < target:
        expected = books.position
        upto = min(expected + batch, target)
        counts = store.since_checkpoint
        # What an attempt that failed (a dropped connection, a lost commit reply) left
        # pending is not this batch's: its rows may be stored already, by a worker that
        # moved the position meanwhile.
        store.pending_index.clear()
        store.pending_checkpoints = []
        for position, event in ledger.read_events(
            start=expected + 1, stop=upto, topics=TRACKED_TOPICS
        ):
            books.apply(event, position)
            unit = books.unit_of(event)
            if unit is not None:
                counts[unit] = counts.get(unit, 0) + 1
                if counts[unit] >= CHECKPOINT_EVERY:  # due: kept as of this very event
                    store.pending_checkpoints.append(_checkpoint(books, unit, position))
                    counts[unit] = 0
            _index(books, event, position, store.pending_index)
        books.position = upto
        try:
            store.write(table, books, expected)
        except _Moved:  # another worker got there first: start from what it wrote
            store.pending_index.clear()
            store.pending_checkpoints = []
            books = store.load(table)
            continue
        applied += upto - expected
        if progress is not None:
            progress(books.position, target)
    return applied


def current_books(ledger: Ledger, store: ReadModelStore, *, unit: str | None = None) -> Books:
    """The books now: the read model, plus any events it has not applied yet (read-only);
    with ``unit``, only that unit's books (see :meth:`ReadModelStore.load`)."""
    books = store.load(unit=unit)
    last = ledger.position()
    for position, event in ledger.read_events(
        start=books.position + 1, stop=last, topics=TRACKED_TOPICS
    ):
        books.apply(event, position)
    books.position = max(books.position, last)
    return books


def rebuild(
    ledger: Ledger, store: ReadModelStore, *, progress: Callable[[int, int], None] | None = None
) -> str:
    """Build the read model again beside the live one, then switch readers to it."""
    table = store.new_table()
    catch_up(ledger, store, table=table, progress=progress, batch=REBUILD_BATCH)
    catch_up(ledger, store, table=table)  # what was posted meanwhile
    old = store.switch(table)
    store.drop(old)
    return table


def differences(ledger: Ledger, store: ReadModelStore) -> list[str]:
    """Every document where the read model differs from a fresh fold of the events up to
    the read model's position."""
    held = store.load()
    fresh = books_of(ledger, as_of_position=held.position) if held.position else Books()
    ours, theirs = all_docs(held), all_docs(fresh)
    found = []
    for key in sorted(set(ours) | set(theirs)):
        if ours.get(key) != theirs.get(key):
            found.append(
                f"{key[0]} {key[1]}: read model {ours.get(key)} vs events {theirs.get(key)}"
            )
    if held.lines and list(held.lines) != list(fresh.lines):
        found.append("the order of lines differs")
    return found


def follow(
    ledger: Ledger,
    store: ReadModelStore,
    *,
    interval: float = 0.5,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Keep the live read model up to date until ``stop()`` says so. A database that stops
    answering is waited for: the worker resumes from its last committed position."""
    failures = 0
    while not stop():
        try:
            applied = catch_up(ledger, store)
        except (PersistenceError, psycopg.Error, sqlite3.Error) as error:
            failures += 1
            log.warning("projection_retry", error=type(error).__name__, failures=failures)
            time.sleep(min(5.0, 0.1 * 2 ** min(failures, 6)))
            continue
        failures = 0
        if applied == 0:
            time.sleep(interval)


def books_for_reports(
    ledger: Ledger,
    read_models: ReadModelStore | None,
    *,
    as_of_position: int | None = None,
    as_of_date: date | None = None,
    unit: str | None = None,
    units: Sequence[str] | None = None,
) -> Books:
    """The books a report reads: the read model (with whatever it has not applied yet) for
    the present, a replay of the log for a point in time or an in-memory ledger. With
    ``unit`` (code or name) the read model gives only that unit's books — enough for its
    own reports, not for the ledger-wide double-entry check. With ``units`` (codes: a
    department's members) the books of a past moment are the fold of those units' own
    events, not of the whole log — enough for the department's report.

    A point in time is a business date or a log position, not both (which would be two
    different questions); position 0 is the empty log, before anything was posted."""
    if as_of_position is not None and as_of_date is not None:
        raise InvalidInput(
            "name either a business date (as of) or a log position (as of position), not both"
        )
    if as_of_position is not None and as_of_position < 0:
        raise InvalidInput(f"log position {as_of_position} is before the log begins")
    point_in_time = as_of_position is not None or as_of_date is not None
    store = read_models
    if units is not None and point_in_time and store is not None:
        members = members_books_at(
            ledger, store, units, as_of_position=as_of_position, as_of_date=as_of_date
        )
        if members is not None:
            return members
    code = None if store is None or unit is None else store.unit_code(unit)
    if store is None or (point_in_time and code is None):
        return books_of(ledger, as_of_position=as_of_position, as_of_date=as_of_date)
    if unit is not None and code is None:
        return current_books(ledger, store)  # not in the read model (yet): read it all
    if point_in_time and code is not None:
        return unit_books_at(
            ledger, store, code, as_of_position=as_of_position, as_of_date=as_of_date
        )
    return current_books(ledger, store, unit=code)


def unit_aggregates(books: Books, code: str) -> list[UUID]:
    """Ids of everything of the unit the books know: the unit, its years, projects and
    lines — whose events are the unit's whole history."""
    ids = [Unit.id_for(code)]
    ids += [FiscalYear.id_for(u, y) for u, y in books.years if u == code]
    ids += [Project.id_for(u, c) for u, c in books.projects if u == code]
    ids += [line.id for line in books.lines.values() if line.unit_code == code]
    return ids


def catalogue_aggregates(books: Books) -> list[UUID]:
    """Ids of the catalogues the books know: they serve every unit, so they are in no
    unit's aggregates and no unit's checkpoint, and a unit's past is read with them."""
    return [ClassificationCatalogue.id_for(*_catalogue_key(k)) for k in books.catalogues]


def _as_past(books: Books, stop: int) -> Books:
    """Mark books folded from some units' own events as the books of log position
    ``stop``, a past moment. The totals by account kind are ledger-wide (``check``'s
    double-entry rows, on the present books): such books do not hold them."""
    books.kinds = {}
    books.point_in_time = True
    books.position = stop
    return books


def members_books_at(
    ledger: Ledger,
    store: ReadModelStore,
    units: Sequence[str],
    *,
    as_of_position: int | None = None,
    as_of_date: date | None = None,
) -> Books | None:
    """The books of several units (a department's members, by code) at a log position or a
    business date: the fold of those units' own events and the catalogues', read through
    the primary key — the units' reports, and the department's over them, come out as from
    ``books_of`` (a test holds them equal). None if the read model does not know one of
    them yet (the caller folds the log)."""
    known = [store.unit_code(code) for code in units]
    codes = [code for code in known if code is not None]
    if len(codes) < len(known):
        return None
    presents = {code: current_books(ledger, store, unit=code) for code in codes}
    last = min((p.position for p in presents.values()), default=ledger.position())
    stop = last if as_of_position is None else min(as_of_position, last)
    ids = [i for code, present in presents.items() for i in unit_aggregates(present, code)]
    catalogues = catalogue_aggregates(next(iter(presents.values()))) if presents else []
    books = fold(ledger.read_events_of([*ids, *catalogues], stop=stop), as_of_date=as_of_date)
    return _as_past(books, stop)


def _catalogue_key(key: str) -> tuple[str, int]:
    """``function/2023`` → (``function``, 2023): a catalogue's key in the books."""
    kind, year = key.rsplit("/", 1)
    return kind, int(year)


def unit_books_at(
    ledger: Ledger,
    store: ReadModelStore,
    code: str,
    *,
    as_of_position: int | None = None,
    as_of_date: date | None = None,
) -> Books:
    """One unit's books at a log position or a business date: the fold of that unit's own
    events (read through the primary key: which aggregates are the unit's comes from the
    read model), not of the whole log — the unit's reports come out as from
    ``books_of`` (a property test holds them equal)."""
    present = current_books(ledger, store, unit=code)
    stop = present.position if as_of_position is None else min(as_of_position, present.position)
    ids = unit_aggregates(present, code)
    # From the unit's last checkpoint before the position — for a business date, the last
    # one all of whose events are dated on or before it: dates need not follow the log, but
    # such a checkpoint holds exactly what the date's fold keeps of the log up to it.
    start = store.checkpoint(code, stop, dated_by=as_of_date)
    # A checkpoint (the unit's own documents) holds no catalogue: their events are read
    # from the first, beside the unit's.
    catalogues = catalogue_aggregates(present)
    if start is None:
        events = ledger.read_events_of([*ids, *catalogues], stop=stop)
        books = fold(events, as_of_date=as_of_date, scope=code)
    else:
        events = heapq.merge(
            ledger.read_events_of(catalogues, stop=stop),
            ledger.read_events_of(ids, start=start.position + 1, stop=stop),
            key=lambda pair: pair[0],
        )
        books = fold(events, as_of_date=as_of_date, books=start)
    return _as_past(books, stop)
