"""Group commit (the service's one writer), on SQLite and PostgreSQL: many concurrent
submitters, each command with its own outcome, actor and idempotency."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from commands import group_commit
from commands.group_commit import GroupCommitter
from commands.handlers import CommandResult
from commands.models import parse_command
from ledger.aggregates import BudgetLine, CommandRecord
from ledger.application import Ledger
from ledger.errors import Forbidden, LedgerError, Overspend
from ledger.roles import Actor, Role
from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands

CLERK = Actor("会计", Role.CLERK)
AUDITOR = Actor("审计", Role.AUDITOR)


@pytest.fixture
def committer(ledger: Ledger) -> Any:
    Scenario(ledger).given(
        *setup_commands(), cmd("allocate_budget", line="L1", amount="100", initial=True)
    )
    writer = GroupCommitter(ledger, max_batch=16)
    yield writer
    writer.close()


def pay(n: int, amount: str = "1") -> dict[str, Any]:
    return cmd(
        "disburse",
        line="L1",
        amount=amount,
        payee="X",
        economic_code="30227",
        command_id=f"pay-{n}",
    )


def test_concurrent_submitters_each_get_their_own_outcome(
    committer: GroupCommitter, ledger: Ledger
) -> None:
    outcomes: dict[int, CommandResult | LedgerError] = {}

    def submit(n: int) -> None:
        actor = AUDITOR if n % 10 == 3 else CLERK  # auditors may not post
        try:
            outcomes[n] = committer.submit(parse_command(pay(n, "3")), actor)
        except LedgerError as error:
            outcomes[n] = error

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    applied = [n for n, o in outcomes.items() if isinstance(o, CommandResult)]
    refused = {n: o for n, o in outcomes.items() if isinstance(o, LedgerError)}
    assert all(isinstance(refused[n], Forbidden) for n in range(3, 60, 10))
    assert {type(e) for e in refused.values()} == {Forbidden, Overspend}
    # 100 yuan at 3 a payment: exactly 33 payments fit, whatever the interleaving
    assert len(applied) == 33
    line = ledger.find(BudgetLine, BudgetLine.id_for(UNIT, YEAR, "L1"))
    assert line is not None and line.totals.available == 100
    # each applied command was stored once with its record; no refused one left a trace
    for n, outcome in outcomes.items():
        stored = ledger.find(CommandRecord, CommandRecord.id_for("client", UNIT, f"pay-{n}"))
        assert (stored is not None) == isinstance(outcome, CommandResult)


def test_a_retry_through_the_writer_returns_the_original_result(
    committer: GroupCommitter,
) -> None:
    command = pay(1)
    first = committer.submit(parse_command(command), CLERK)
    again = committer.submit(parse_command(command), CLERK)
    assert (first.status, again.status) == ("applied", "already_applied")
    assert again.events == first.events


def test_a_request_that_waits_too_long_is_told_so_and_its_retry_applies_once(
    committer: GroupCommitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = committer.handler.handle_batch

    def handle_slowly(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)
        return slow(*args, **kwargs)

    monkeypatch.setattr(committer.handler, "handle_batch", handle_slowly)
    monkeypatch.setattr(group_commit, "WAIT_SECONDS", 0.05)
    command = pay(7)
    with pytest.raises(TimeoutError):  # the service answers 503: send it again
        committer.submit(parse_command(command), CLERK)
    monkeypatch.setattr(group_commit, "WAIT_SECONDS", 5.0)
    again = committer.submit(parse_command(command), CLERK)
    assert again.status == "already_applied"  # the first one was stored, once
