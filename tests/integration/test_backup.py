"""The backup drill, on SQLite and PostgreSQL: build a history, back it up, restore it into
a fresh database, verify the hash chain, rebuild the read models, and get byte-identical
reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from commands.cli import seed_path
from commands.closing import close_year
from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.application import Ledger
from ledger.closing.policy import load_policy
from ledger.composition import Services, build_ledger, read_models_of
from ledger.roles import Actor, Role
from ledger.settings import Settings
from projections.balances import balances_report
from projections.execution import execution_report
from projections.final_accounts import final_accounts
from projections.read_model import books_for_reports, catch_up
from tests.conftest import POSTGRES_URL
from tests.integration.test_three_years import UNIT, history_2023
from tests.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
FUNDFLOW = str(Path(sys.executable).parent / "fundflow")


def reports(ledger: Ledger, url: str) -> bytes:
    books = books_for_reports(ledger, read_models_of(ledger))
    everything = [
        final_accounts(books, UNIT, 2022),
        final_accounts(books, UNIT, 2023),
        execution_report(books, UNIT, 2023),
        balances_report(books, UNIT, 2023),
    ]
    return json.dumps(everything, ensure_ascii=False, sort_keys=True).encode()


@pytest.fixture
def restore_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty place to restore into, of the same kind."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    schema = database_url.split("schema=")[1]
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(
    script: str, url: str, *args: str, ok: bool = True, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
    env.update(FUNDFLOW_DATABASE_URL=url, FUNDFLOW=FUNDFLOW, **extra)
    done = subprocess.run(
        ["bash", str(ROOT / "deploy" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_backup_restore_drill(
    ledger: Ledger, database_url: str, restore_url: str, tmp_path: Path
) -> None:
    assert import_file(CommandHandler(ledger), seed_path()).ok
    close_year(
        Services.of(ledger), UNIT, 2022, policy=load_policy(), actor=Actor("closer", Role.CLOSER)
    )
    Scenario(ledger).given(*history_2023())
    catch_up(ledger, read_models_of(ledger))
    before = reports(ledger, database_url)

    dump = tmp_path / "backup" / "fundflow.dump"
    backed_up = run("backup", database_url, str(dump))
    assert dump.stat().st_size > 0
    head = (tmp_path / "backup" / "fundflow.dump.head").read_text().strip()
    assert head.startswith(f"{ledger.position()}:") and f"head: {head}" in backed_up.stdout
    restored = run("restore", restore_url, str(dump))
    assert "the chain holds" in restored.stdout
    assert "1 expected head(s) match the log" in restored.stdout
    assert "equals a fresh fold" in restored.stdout

    copy = build_ledger(Settings(database_url=restore_url))
    try:
        assert copy.position() == ledger.position()
        assert reports(copy, restore_url) == before
    finally:
        copy.close()


def test_a_restore_that_differs_from_the_filed_head_fails(
    ledger: Ledger, database_url: str, restore_url: str, tmp_path: Path
) -> None:
    assert import_file(CommandHandler(ledger), seed_path()).ok
    dump = tmp_path / "fundflow.dump"
    run("backup", database_url, str(dump))
    filed = dump.with_name("fundflow.dump.head").read_text().strip()
    position = filed.split(":")[0]
    restored = run(
        "restore", restore_url, str(dump), ok=False, EXPECT_HEAD=f"{position}:{'0' * 64}"
    )
    assert restored.returncode == 1
    assert f"TAMPERED: the expected head {position}:{'0' * 64} differs" in restored.stdout


def test_a_sqlite_restore_refuses_to_overwrite(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
    target = tmp_path / "existing.sqlite3"
    target.write_bytes(b"x")
    backup_file = tmp_path / "b.sqlite3"
    backup_file.write_bytes(b"not a database")
    done = subprocess.run(
        [FUNDFLOW, "restore", str(backup_file), "--database-url", f"sqlite:///{target}"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "exists already" in done.stderr
