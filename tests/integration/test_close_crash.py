"""Crash and rerun of the year-end close on PostgreSQL: the ``fundflow close-year`` process
is killed with SIGKILL at chosen steps, and at random moments, then run again. It always
completes exactly once: no carryover doubled, none lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from commands.cli import seed_path
from commands.closing import close_year
from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.aggregates import CommandRecord, YearStatus
from ledger.closing.policy import load_policy
from ledger.composition import Services, build_ledger, locks_of
from ledger.errors import CloseBlocked
from ledger.roles import Actor, Role
from ledger.settings import Settings
from projections.books import books_of
from projections.checks import check_year
from tests.conftest import postgres_schema_url
from tests.integration.test_three_years import UNIT, history_2023
from tests.scenario import Scenario

pytestmark = pytest.mark.postgres
FUNDFLOW = str(Path(sys.executable).parent / "fundflow")
CLOSE_2023 = ["close-year", "--unit", UNIT, "--year", "2023", "--role", "closer"]
#: The close of 2023: start, four lines (P21 carries 180万, the rest lapse), finish.
STEPS = 6


@pytest.fixture
def before_close() -> Iterator[str]:
    """A PostgreSQL ledger holding 2022 (closed) and 2023 (open, with balances)."""
    for url in postgres_schema_url():
        ledger = build_ledger(Settings(database_url=url))
        try:
            assert import_file(CommandHandler(ledger), seed_path()).ok
            close_year(
                Services.of(ledger),
                UNIT,
                2022,
                policy=load_policy(),
                actor=Actor("closer", Role.CLOSER),
            )
            Scenario(ledger).given(*history_2023())
        finally:
            ledger.close()
        yield url


def run_close(url: str, kill_after: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
    env["FUNDFLOW_DATABASE_URL"] = url
    if kill_after is not None:
        env["FUNDFLOW_FAULT_KILL_AFTER_STEPS"] = str(kill_after)
    return subprocess.run(
        [FUNDFLOW, *CLOSE_2023], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def assert_closed_exactly_once(url: str) -> None:
    ledger = build_ledger(Settings(database_url=url))
    try:
        books = books_of(ledger)
        assert books.years[(UNIT, 2023)].status is YearStatus.CLOSED
        lines23 = {ln.code: ln.totals for ln in books.lines_of(UNIT, 2023)}
        lines24 = {ln.code: ln.totals for ln in books.lines_of(UNIT, 2024)}
        assert lines23["XM-P21-2150805"].carried_out == 180_0000_00
        assert {code: t.carried_in for code, t in lines24.items()} == {
            "XM-P21-2150805": 180_0000_00
        }
        assert sum(t.lapsed for t in lines23.values()) == 35_2000_00
        assert all(t.available == 0 for t in lines23.values())
        assert [c for c in check_year(books, UNIT, 2023) if not c.ok] == []
        assert [c for c in check_year(books, UNIT, 2024) if not c.ok] == []
        records = [
            e
            for _, e in ledger.read_events()
            if isinstance(e, CommandRecord.Recorded)
            and (e.namespace, e.scope) == ("system", UNIT)
            and e.command_id.startswith("close/2023/")
        ]
        assert len(records) == STEPS  # each step recorded once
        assert books.balances_by_account_kind()["transit"] == 0
    finally:
        ledger.close()


@pytest.mark.parametrize("kill_after", [1, 2, 4, STEPS - 1, STEPS])
def test_killed_at_a_step_then_rerun_closes_exactly_once(
    before_close: str, kill_after: int
) -> None:
    killed = run_close(before_close, kill_after)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    done = run_close(before_close)
    assert done.returncode == 0, done.stderr
    assert "closed (resumed)" in done.stdout or "already closed" in done.stdout
    again = run_close(before_close)
    assert "already closed" in again.stdout
    assert_closed_exactly_once(before_close)


def test_killed_at_random_moments_then_rerun_closes_exactly_once(before_close: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
    env["FUNDFLOW_DATABASE_URL"] = before_close
    rng = random.Random(20221231)
    for _attempt in range(8):
        process = subprocess.Popen(
            [FUNDFLOW, *CLOSE_2023],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(rng.uniform(0.3, 1.2))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        if process.returncode == 0:
            break
    done = run_close(before_close)
    assert done.returncode == 0, done.stderr
    assert_closed_exactly_once(before_close)


def test_a_second_close_while_one_runs_is_refused(before_close: str) -> None:
    ledger = build_ledger(Settings(database_url=before_close))
    try:
        with (
            locks_of(ledger).exclusive(f"close/{UNIT}/2023"),
            pytest.raises(CloseBlocked, match="already running"),
        ):
            close_year(
                Services.of(ledger),
                UNIT,
                2023,
                policy=load_policy(),
                actor=Actor("closer", Role.CLOSER),
            )
        assert books_of(ledger).years[(UNIT, 2023)].status is YearStatus.OPEN
    finally:
        ledger.close()
