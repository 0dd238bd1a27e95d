"""The same scenarios on SQLite and on PostgreSQL: rejections change nothing, retries are
idempotent, the import stops at the first bad line, concurrent writers never overspend."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from commands.handlers import CommandHandler
from commands.importer import import_file
from commands.models import parse_command
from ledger.application import Ledger
from ledger.composition import build_ledger
from ledger.errors import CommandIdReused, InvalidAmount, Overspend, UnknownLine
from ledger.settings import Settings
from projections.books import books_of
from tests.scenario import Scenario, cmd, setup_commands


@pytest.fixture
def scenario(ledger: Ledger) -> Scenario:
    return Scenario(ledger).given(
        *setup_commands(), cmd("allocate_budget", line="L1", amount="1000.00", initial=True)
    )


def test_rejections_leave_the_store_exactly_as_it_was(scenario: Scenario) -> None:
    before = scenario.stored()
    for command, error in [
        (cmd("disburse", line="L1", amount="1000.01", payee="X", economic_code="30227"), Overspend),
        (cmd("allocate_budget", line="NOPE", amount="1"), UnknownLine),
        (cmd("allocate_budget", line="L1", amount="-1"), InvalidAmount),
    ]:
        with pytest.raises(error):
            scenario.when(command)
    assert scenario.stored() == before


def test_retries_are_idempotent_across_connections(scenario: Scenario, database_url: str) -> None:
    command = cmd("transfer_to_enterprise", line="L1", amount="600", payee="特变电工股份有限公司")
    first = scenario.when(command)
    before = scenario.stored()
    other = build_ledger(Settings(database_url=database_url))  # another process, say
    try:
        again = CommandHandler(other).handle(parse_command(command))
        assert again.status == "already_applied" and again.events == first.events
        with pytest.raises(CommandIdReused):
            Scenario(other).when({**command, "amount": "601"})
    finally:
        other.close()
    assert scenario.stored() == before


def test_import_stops_at_the_first_bad_line_without_half_applying_it(
    ledger: Ledger, tmp_path: Path
) -> None:
    lines = [json.dumps(c, ensure_ascii=False) for c in setup_commands()]
    lines.append(json.dumps(cmd("allocate_budget", line="L1", amount="100")))
    lines.append(
        json.dumps(cmd("disburse", line="L1", amount="100.01", payee="X", economic_code="30227"))
    )
    lines.append(json.dumps(cmd("allocate_budget", line="L1", amount="5")))
    path = tmp_path / "postings.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    handler = CommandHandler(ledger)
    outcome = import_file(handler, path)
    assert not outcome.ok and outcome.failed_line == 8
    assert isinstance(outcome.error, Overspend)
    assert outcome.applied == 7
    position = ledger.position()

    again = import_file(handler, path)  # the same file again: nothing applied twice
    assert again.failed_line == 8 and again.applied == 0 and again.already_applied == 7
    assert ledger.position() == position


def test_concurrent_payments_never_overspend_a_line(scenario: Scenario, database_url: str) -> None:
    """Eight writers, each with its own connection, spend one line of 1000 yuan in 150-yuan
    payments: exactly six are accepted, the rest refused, nothing lost or doubled."""
    results: list[str] = []
    lock = threading.Lock()

    def clerk(n: int) -> None:
        own = build_ledger(Settings(database_url=database_url))
        try:
            for k in range(2):
                command = cmd(
                    "disburse",
                    line="L1",
                    amount="150",
                    payee=f"收款人{n}",
                    economic_code="30227",
                    command_id=f"c-{n}-{k}",
                )
                try:
                    Scenario(own).when(command)
                    outcome = "ok"
                except Overspend:
                    outcome = "refused"
                with lock:
                    results.append(outcome)
        finally:
            own.close()

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert results.count("ok") == 6 and results.count("refused") == 10
    books = books_of(scenario.ledger)
    line = next(ln for ln in books.lines.values() if ln.code == "L1")
    assert (line.totals.spent, line.totals.available) == (900_00, 100_00)
    assert sum(books.accounts.values()) == 0


def test_batched_import_has_the_same_outcome_as_line_by_line(
    ledger: Ledger, tmp_path: Path
) -> None:
    lines = [json.dumps(c, ensure_ascii=False) for c in setup_commands()]
    repeated = cmd("allocate_budget", line="L1", amount="100")
    lines += [json.dumps(repeated), json.dumps(repeated)]  # a retry inside the batch
    lines.append(
        json.dumps(cmd("disburse", line="L1", amount="100.01", payee="X", economic_code="30227"))
    )
    lines.append(json.dumps(cmd("allocate_budget", line="L1", amount="5")))
    path = tmp_path / "postings.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    outcome = import_file(CommandHandler(ledger), path, batch_size=4)
    assert (outcome.failed_line, outcome.applied, outcome.already_applied) == (9, 7, 1)
    assert isinstance(outcome.error, Overspend)
    books = books_of(ledger)
    line = next(ln for ln in books.lines.values() if ln.code == "L1")
    assert (line.totals.top_ups, line.totals.spent) == (100_00, 0)
    again = import_file(CommandHandler(ledger), path, batch_size=100)
    assert (again.failed_line, again.applied, again.already_applied) == (9, 0, 8)
