"""Tamper evidence on SQLite and PostgreSQL: edit a stored event's bytes directly in the
database, or delete one, and ``verify`` names it."""

from __future__ import annotations

import sqlite3
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from commands.cli import seed_path
from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.application import Ledger
from ledger.hash_chain import verify
from tests.conftest import POSTGRES_URL


@pytest.fixture
def seeded(ledger: Ledger) -> Ledger:
    assert import_file(CommandHandler(ledger), seed_path()).ok
    return ledger


def execute(database_url: str, statement: str, params: tuple[object, ...]) -> None:
    """Run SQL directly against the store, behind the ledger's back."""
    if database_url.startswith("sqlite:///"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        with conn:
            conn.execute(statement.replace("%s", "?").replace("{events}", "stored_events"), params)
        conn.close()
    else:
        schema = parse_qs(urlsplit(database_url).query)["schema"][0]
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(
                statement.replace("{events}", f'"{schema}".fundflow_events').replace(
                    "rowid", "notification_id"
                ),
                params,
            )


def test_an_intact_log_verifies(seeded: Ledger) -> None:
    result = verify(seeded.recorder)
    assert result.ok and result.events == seeded.position() > 600


def test_an_edited_event_is_named(seeded: Ledger, database_url: str) -> None:
    target = 300
    notification = seeded.recorder.select_notifications(target, 1)[0]
    forged = notification.state.replace(b'"_data_":"20', b'"_data_":"19', 1)
    assert forged != notification.state
    execute(database_url, "UPDATE {events} SET state = %s WHERE rowid = %s", (forged, target))
    result = verify(seeded.recorder)
    assert not result.ok and result.broken_at == target
    assert f"breaks at event {target}" in result.problem


def test_a_deleted_event_is_named(seeded: Ledger, database_url: str) -> None:
    execute(database_url, "DELETE FROM {events} WHERE rowid = %s", (123,))
    result = verify(seeded.recorder)
    assert not result.ok and result.broken_at == 123
    assert result.problem == "event 123 was deleted: its hash is still in the chain"
