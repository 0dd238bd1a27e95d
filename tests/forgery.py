"""The hostile insider of the tamper tests: someone who can write to the database (SQLite
file or PostgreSQL schema) but cannot read the chain key. Rewrites stored events, appends
forged ones, and recomputes the whole hash chain with a link function of their choosing."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import psycopg

from ledger.chain_key import ChainKey
from ledger.hash_chain import GENESIS, keyed_link, link
from tests.conftest import POSTGRES_URL

Row = tuple[int, UUID, int, str, bytes]
LinkMaker = Callable[[str, Row], str]


def plain_sha256(previous: str, row: Row) -> str:
    """The unkeyed chain, as anyone can recompute it."""
    return link(previous, *row)


def with_key(key: ChainKey) -> LinkMaker:
    """The keyed chain, with a key of the forger's choosing."""
    return lambda previous, row: keyed_link(key, previous, *row)


class Forger:
    def __init__(self, database_url: str) -> None:
        self.sqlite = database_url.startswith("sqlite:///")
        if self.sqlite:
            self.path = database_url.removeprefix("sqlite:///")
            self.events, self.hashes = "stored_events", "event_hashes"
        else:
            schema = parse_qs(urlsplit(database_url).query)["schema"][0]
            self.events = f'"{schema}".fundflow_events'
            self.hashes = f'"{schema}".fundflow_events_hashes'

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        if self.sqlite:
            conn = sqlite3.connect(self.path)
            try:
                with conn:
                    yield conn.cursor()
            finally:
                conn.close()
        else:
            with psycopg.connect(POSTGRES_URL) as pg, pg.transaction(), pg.cursor() as cursor:
                yield cursor

    def _sql(self, statement: str) -> str:
        statement = statement.replace("{events}", self.events).replace("{hashes}", self.hashes)
        if self.sqlite:
            return statement.replace("%s", "?").replace("notification_id", "rowid", 1)
        return statement

    def rows(self) -> list[Row]:
        with self._cursor() as c:
            c.execute(
                self._sql(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM {events} ORDER BY 1"
                )
            )
            return [(r[0], UUID(str(r[1])), r[2], r[3], bytes(r[4])) for r in c.fetchall()]

    def links(self) -> list[tuple[int, str]]:
        with self._cursor() as c:
            c.execute(self._sql("SELECT notification_id, hash FROM {hashes} ORDER BY 1"))
            return [(int(r[0]), str(r[1])) for r in c.fetchall()]

    def set_state(self, position: int, state: bytes) -> None:
        with self._cursor() as c:
            c.execute(
                self._sql("UPDATE {events} SET state = %s WHERE notification_id = %s"),
                (state, position),
            )

    def append(self, originator_id: UUID, version: int, topic: str, state: bytes) -> int:
        oid: object = originator_id.hex if self.sqlite else originator_id
        with self._cursor() as c:
            if self.sqlite:
                c.execute(
                    self._sql(
                        "INSERT INTO {events} (originator_id, originator_version, topic, state) "
                        "VALUES (%s, %s, %s, %s)"
                    ),
                    (oid, version, topic, state),
                )
                return int(c.lastrowid)
            c.execute(
                self._sql(
                    "INSERT INTO {events} (originator_id, originator_version, topic, state) "
                    "VALUES (%s, %s, %s, %s) RETURNING notification_id"
                ),
                (oid, version, topic, state),
            )
            return int(c.fetchone()[0])

    def rechain(self, make: LinkMaker, *, start: int = 1) -> None:
        """Recompute every link from the event at ``start`` on (the links before it kept)."""
        kept = [(p, h) for p, h in self.links() if p < start]
        previous = kept[-1][1] if kept else GENESIS
        links = list(kept)
        for row in self.rows():
            if row[0] >= start:
                previous = make(previous, row)
                links.append((row[0], previous))
        with self._cursor() as c:
            c.execute(self._sql("DELETE FROM {hashes}"))
            c.executemany(self._sql("INSERT INTO {hashes} VALUES (%s, %s)"), links)

    # --- the forgeries of issue 11 §6 -------------------------------------------------

    def rewrite_payee(self, new_payee: str) -> int:
        """Change the payee of a payment in the middle of the log; its position."""
        payments = [r for r in self.rows() if r[3].endswith("BudgetLine.Disbursed")]
        position, *_, state = payments[len(payments) // 2]
        event = json.loads(state)
        event["payee"] = new_payee
        self.set_state(position, _encode(event))
        return position

    def forge_payment(self, line_id: UUID, amount: int) -> int:
        """Append a payment of ``amount`` fen to a line, behind the ledger's back."""
        rows = self.rows()
        mine = [r for r in rows if r[1] == line_id]
        template = next(r for r in reversed(rows) if r[3].endswith("BudgetLine.Disbursed"))
        event = json.loads(template[4])
        event.update(
            amount=amount,
            payee="影子公司",
            document_no="伪-0001",
            memo="forged",
            command_id="forged-0001",
        )
        return self.append(line_id, mine[-1][2] + 1, template[3], _encode(event))


def _encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
