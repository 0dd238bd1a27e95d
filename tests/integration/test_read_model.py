"""Materialized read models on SQLite and PostgreSQL: exactly-once tracking, rebuild,
check — and the projection worker killed with SIGKILL again and again while clerks post."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.cli import seed_path
from commands.handlers import CommandHandler
from commands.importer import import_file
from commands.models import parse_command
from ledger.application import Ledger
from ledger.composition import Services, build_ledger, read_models_of
from ledger.errors import Overspend
from ledger.money import yuan_str
from ledger.settings import Settings
from projections.audit_trail import unit_trail
from projections.books import books_of
from projections.final_accounts import final_accounts
from projections.read_model import (
    LAYOUT,
    ReadModelStore,
    all_docs,
    books_for_reports,
    catch_up,
    current_books,
    differences,
    rebuild,
)
from scripts.generate import generate
from tests.scenario import Scenario, cmd, setup_commands

FUNDFLOW = str(Path(sys.executable).parent / "fundflow")


def test_the_read_model_holds_the_books(ledger: Ledger, database_url: str) -> None:
    assert import_file(CommandHandler(ledger), seed_path()).ok
    store = read_models_of(ledger)
    assert catch_up(ledger, store, batch=97) == ledger.position()
    assert store.position() == ledger.position()
    assert differences(ledger, store) == []
    held = store.load()
    assert all_docs(held) == all_docs(books_of(ledger))
    assert final_accounts(held, "CJ-SWGXJ", 2022) == final_accounts(
        books_of(ledger), "CJ-SWGXJ", 2022
    )
    assert catch_up(ledger, store) == 0  # nothing twice

    Scenario(ledger).given(*setup_commands(), cmd("allocate_budget", line="L1", amount="5"))
    assert current_books(ledger, store) == books_of(ledger)  # the tail, read-only
    assert store.position() < ledger.position()

    before = store.live_table()
    after = rebuild(ledger, store)
    assert after != before and store.live_table() == after
    assert store.position() == ledger.position() and differences(ledger, store) == []


def test_one_units_reports_read_only_its_documents(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text("\n".join(generate(3, 5, 40, 2023, 2, years=2)) + "\n", encoding="utf-8")
    handler = CommandHandler(ledger)
    assert import_file(handler, history, batch_size=500, close_steps=True).ok
    store = read_models_of(ledger)
    catch_up(ledger, store)
    # more postings after the read model's position: the tail of one unit is added
    for unit in ("U00000", "U00001"):
        handler.handle(
            parse_command(
                cmd(
                    "allocate_budget",
                    unit=unit,
                    year=2024,
                    line=f"JB-{unit}-RY",
                    amount="7",
                    business_date="2024-05-01",
                )
            )
        )
    whole = books_of(ledger)
    for unit in ("U00000", "U00001", "U00002", "合成单位00001"):
        scoped = books_for_reports(ledger, read_models_of(ledger), unit=unit)
        assert final_accounts(scoped, unit, 2024) == final_accounts(whole, unit, 2024)
        assert final_accounts(scoped, unit, 2023) == final_accounts(whole, unit, 2023)
        assert len(scoped.units) == 1 and len(scoped.lines) < len(whole.lines)


def test_a_read_model_of_the_older_layout_is_replaced(ledger: Ledger) -> None:
    store = read_models_of(ledger)
    old = "rm_books_1"
    with store.transaction() as c:
        c.execute(store._q("CREATE TABLE {t} (kind TEXT, key TEXT, doc TEXT)", t=old))
        c.execute(store._q("UPDATE {t} SET table_name = %s", t="readmodel_live"), (old,))
    again = read_models_of(ledger)
    assert again.live_table().startswith(f"{LAYOUT}_") and again.position() == 0


def test_workers_starting_together_on_an_older_layout_keep_a_live_read_model(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve --workers N` after an upgrade: each worker's store moves readers off the older
    layout. A second worker that made the same new table (it saw the older one live too)
    and switched to it first made the first worker's switch return that very table — which
    it then dropped as "the old one", leaving readers pointed at no table at all."""
    Scenario(ledger).given(*setup_commands(), cmd("allocate_budget", line="L1", amount="5"))
    store = read_models_of(ledger)
    assert store is not None
    with store.transaction() as c:
        c.execute(store._q("CREATE TABLE {t} (kind TEXT, key TEXT, doc TEXT)", t="rm_books_1"))
        c.execute(store._q("UPDATE {t} SET table_name = %s", t="readmodel_live"), ("rm_books_1",))
    switch = ReadModelStore.switch
    second_worker = True

    def interleaved(self: ReadModelStore, table: str) -> str:
        nonlocal second_worker
        if second_worker:  # the other worker starts, and moves readers first
            second_worker = False
            read_models_of(ledger)
        return switch(self, table)

    monkeypatch.setattr(ReadModelStore, "switch", interleaved)
    first = read_models_of(ledger)
    assert first is not None and first.live_table().startswith(f"{LAYOUT}_")
    catch_up(ledger, first)
    assert differences(ledger, first) == []


def test_two_workers_at_once_apply_each_event_once(ledger: Ledger, database_url: str) -> None:
    assert import_file(CommandHandler(ledger), seed_path()).ok
    store = read_models_of(ledger)
    errors: list[BaseException] = []

    def worker() -> None:
        own = build_ledger(Settings(database_url=database_url))
        try:
            catch_up(own, read_models_of(own), batch=50)
        except BaseException as error:
            errors.append(error)
        finally:
            own.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert store.position() == ledger.position()
    assert differences(ledger, store) == []


def test_what_a_failed_attempt_left_pending_is_not_written_again(
    ledger: Ledger, database_url: str
) -> None:
    """A worker whose batch failed (a dropped connection, a lost commit reply) while
    another worker stored that batch goes on from the stored position: the trail-index
    rows and checkpoints it had gathered are not written a second time (on PostgreSQL the
    index is written by COPY, which would refuse them for ever)."""
    scenario = Scenario(ledger).given(
        *setup_commands(), cmd("allocate_budget", line="L1", amount="900")
    )
    for n in range(3):
        scenario.given(cmd("transfer_to_enterprise", line="L1", amount="1", payee=f"某公司{n}"))
    worker, other = read_models_of(ledger), read_models_of(ledger)
    catch_up(ledger, other)  # the other worker stored the batch …
    table = other.live_table()
    with other.transaction() as c:
        c.execute(other._q("SELECT unit, field, value, position FROM {t}", t=f"{table}_ix"))
        stored = [tuple(row) for row in c.fetchall()]
    assert stored
    # … while this one's attempt at it failed, leaving its rows pending
    worker.pending_index.extend(stored)
    worker.pending_checkpoints.append(("U1", 1, "[]", ""))
    scenario.given(cmd("transfer_to_enterprise", line="L1", amount="1", payee="某公司9"))
    assert catch_up(ledger, worker) == 2  # the payment and its command's line event
    assert worker.position() == ledger.position()
    assert differences(ledger, worker) == []
    assert worker.indexed("U1", "payee", "某公司9")[0]


def test_a_drift_is_named(ledger: Ledger, database_url: str) -> None:
    Scenario(ledger).given(*setup_commands(), cmd("allocate_budget", line="L1", amount="5"))
    store = read_models_of(ledger)
    catch_up(ledger, store)
    table = store.live_table()
    with store.transaction() as c:
        c.execute(store._q("DELETE FROM {t} WHERE kind = 'unit'", t=table))
    found = differences(ledger, store)
    assert len(found) == 1 and found[0].startswith("unit U1: read model None")


def test_the_worker_killed_again_and_again_applies_every_event_once(
    ledger: Ledger, database_url: str
) -> None:
    Scenario(ledger).given(*setup_commands(), cmd("allocate_budget", line="L1", amount="100000000"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
    env["FUNDFLOW_DATABASE_URL"] = database_url
    read_models_of(ledger)  # tables exist before the first worker starts
    stop = threading.Event()
    posted: list[int] = []

    def clerk() -> None:
        own = build_ledger(Settings(database_url=database_url))
        scenario = Scenario(own)
        n = 0
        while not stop.is_set():
            n += 1
            scenario.when(
                cmd(
                    "disburse",
                    line="L1",
                    amount=yuan_str(n * 100),
                    payee="X",
                    economic_code="30227",
                )
            )
            posted.append(n)
        own.close()

    poster = threading.Thread(target=clerk)
    poster.start()
    rng = random.Random(7)
    watcher = read_models_of(ledger)
    try:
        for _ in range(6):
            before = watcher.position()
            worker = subprocess.Popen(
                [FUNDFLOW, "project", "--follow", "--interval", "0.05"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            # once it is working (a process starts slowly on a loaded machine: a bounded
            # wait, not a threshold), kill it at a random moment of its work
            deadline = time.monotonic() + 60
            while watcher.position() == before and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0, 0.3))
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
    finally:
        stop.set()
        poster.join(timeout=60)
    assert len(posted) > 10
    store = read_models_of(ledger)
    assert store.position() > 0  # the killed workers made progress
    done = subprocess.run(
        [FUNDFLOW, "project"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert store.position() == ledger.position()
    assert differences(ledger, store) == []
    held = next(ln for ln in store.load().lines.values() if ln.code == "L1")
    assert held.totals.spent == sum(n * 100 for n in posted)  # n yuan each, in fen
    check = subprocess.run(
        [FUNDFLOW, "projections", "check"], env=env, capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0 and "equals a fresh fold" in check.stdout


operations = st.lists(
    st.tuples(
        st.sampled_from(["allocate", "disburse", "claw_back"]),
        st.integers(min_value=1, max_value=100_000),
        st.integers(min_value=1, max_value=7),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=15, deadline=None)
@given(operations)
def test_rebuilt_read_models_equal_incrementally_maintained_ones(
    ops: list[tuple[str, int, int]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/ledger.sqlite3"
        ledger = build_ledger(Settings(database_url=url))
        store = read_models_of(ledger)
        scenario = Scenario(ledger).given(*setup_commands())
        for kind, fen, batch in ops:
            command = {
                "allocate": cmd("allocate_budget", line="L1", amount=yuan_str(fen)),
                "disburse": cmd(
                    "disburse", line="L1", amount=yuan_str(fen), payee="X", economic_code="30227"
                ),
                "claw_back": cmd("claw_back", line="L1", amount=yuan_str(fen)),
            }[kind]
            with contextlib.suppress(Overspend):
                scenario.when(command)
            catch_up(ledger, store, batch=batch)  # incremental, in small batches
        incremental = all_docs(store.load())
        rebuild(ledger, store)
        assert all_docs(store.load()) == incremental == all_docs(books_of(ledger))
        ledger.close()


def test_reports_borrow_the_ledgers_connections(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read-model store is built once beside the ledger and takes its connections from
    the ledger's pool: a report, a trail or a point-in-time view opens none of its own (it
    opened four to six per report when the store connected per transaction)."""
    Scenario(ledger).given(*setup_commands(), cmd("allocate_budget", line="L1", amount="5"))
    services = Services.of(ledger)
    catch_up(ledger, services.read_models)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a connection of its own was opened")

    monkeypatch.setattr(psycopg, "connect", refuse)
    for _ in range(3):
        books = books_for_reports(ledger, services.read_models, unit="U1")
        assert final_accounts(books, "U1", 2022)
        assert books_for_reports(ledger, services.read_models, unit="U1", as_of_position=3)
        assert unit_trail(ledger, services.read_models, unit="U1", year=2022, line="L1")


def test_a_sqlite_ledger_in_memory_is_read_as_one_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sqlite:///:memory:`` is a database only the ledger's own connection sees: a
    connection of the side tables opened another, empty one, so every report, trail and
    close failed with "no such table", each auditor query failed in the rate limit, and the
    close's lock was a file named ``:memory:…`` in the working directory. It is read as an
    in-memory ledger is: reports fold its events, buckets and locks are the process's."""
    from fastapi.testclient import TestClient

    from commands.api import create_app
    from commands.closing import close_year
    from ledger.closing.policy import load_policy
    from ledger.roles import Actor, Role
    from tests.integration.test_api import issue

    monkeypatch.chdir(tmp_path)
    settings = Settings(database_url="sqlite:///:memory:")
    ledger = build_ledger(settings)
    try:
        Scenario(ledger).given(*setup_commands(), cmd("allocate_budget", line="L1", amount="5"))
        services = Services.of(ledger)
        books = books_for_reports(ledger, services.read_models, unit="U1", as_of_position=10)
        assert final_accounts(books, "U1", 2022) == final_accounts(
            books_of(ledger, as_of_position=10), "U1", 2022
        )
        assert unit_trail(ledger, services.read_models, unit="U1", year=2022, line="L1")
        auditor = {"Authorization": f"Bearer {issue(ledger, 'auditor-1', Role.AUDITOR)}"}
        with TestClient(create_app(settings, ledger=ledger)) as client:
            assert client.get("/v1/units/U1/years/2022/check", headers=auditor).status_code == 200
        close_year(services, "U1", 2022, policy=load_policy(), actor=Actor("closer", Role.CLOSER))
        assert list(tmp_path.iterdir()) == []
    finally:
        ledger.close()
