"""A stateful model test: hypothesis drives the real application (SQLite, and PostgreSQL)
with random sequences of every command — allocations, top-ups, reductions, transfers,
disbursements, clawbacks, reversals, retries of earlier command ids, the year-end close,
postings into the closed year, corrections into it by a closer in its adjustment period
(which move its carryover or lapse), reopening — next to a deliberately simple model
(dicts of fen), and checks after every step: balances equal the model's; money is
conserved; no line is negative; a rejected command changed nothing; the read model equals
a fresh fold; the hash chain verifies; every identity of both years holds."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from commands.closing import close_year
from commands.handlers import CommandHandler
from commands.models import parse_command
from ledger.aggregates import BudgetLine
from ledger.closing.policy import load_policy
from ledger.composition import Services, build_ledger, read_models_of
from ledger.errors import (
    LedgerError,
    NatureMismatch,
    NotReversible,
    Overspend,
    UnknownLine,
    YearClosed,
    YearNotOpen,
)
from ledger.hash_chain import verify
from ledger.money import yuan_str
from ledger.roles import Actor, Role
from ledger.settings import Settings
from projections.books import books_of
from projections.checks import check_year
from projections.read_model import catch_up, differences
from tests.conftest import POSTGRES_URL
from tests.scenario import UNIT, cmd, setup_commands

ECONOMIC = {"L1": "30227", "B1": "30101", "G1": "30201"}
ADMIN = Actor("admin", Role.ADMIN)
CLOSER = Actor("closer", Role.CLOSER)
#: A day in the adjustment period of the closed 2022.
IN_PERIOD = date(2023, 1, 15)


@dataclass
class Entry:
    year: int
    line: str
    command_id: str
    kind: str
    amount: int
    reversed: bool = False


class LedgerMachine(RuleBasedStateMachine):
    database_url: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.url = self.make_database()
        self.ledger = build_ledger(Settings(database_url=self.url))
        self.store = read_models_of(self.ledger)
        handler = CommandHandler(self.ledger, actor=ADMIN)
        for command in setup_commands():
            handler.handle(parse_command(command))
        self.available: dict[tuple[int, str], int] = {(2022, code): 0 for code in ECONOMIC}
        self.open_years = {2022}
        self.closed = False
        self.settled: dict[str, int] = dict.fromkeys(ECONOMIC, 0)
        """What 2022's close settled per line: carried over (L1) or lapsed (B1, G1)."""
        self.entries: list[Entry] = []
        self.applied: list[dict[str, Any]] = []

    def make_database(self) -> str:
        self.folder = tempfile.TemporaryDirectory()
        return f"sqlite:///{self.folder.name}/ledger.sqlite3"

    def teardown(self) -> None:
        self.ledger.close()
        self.folder.cleanup()

    # --- driving ------------------------------------------------------------------

    def submit(
        self,
        command: dict[str, Any],
        expected: type[LedgerError] | None,
        actor: Actor = ADMIN,
        today: date | None = None,
    ) -> bool:
        position = self.ledger.position()
        handler = CommandHandler(self.ledger, actor=actor)
        if today is not None:
            handler.today = lambda: today
        try:
            handler.handle(parse_command(command))
        except LedgerError as error:
            assert type(error) is expected, (command, error, expected)
            assert self.ledger.position() == position, "a rejected command wrote something"
            return False
        assert expected is None, (command, expected)
        self.applied.append(command)
        return True

    def expectation(self, year: int, line: str) -> type[LedgerError] | None:
        if year not in self.open_years and not (year == 2022 and self.closed):
            return YearNotOpen
        if year == 2022 and self.closed:
            return YearClosed
        if (year, line) not in self.available:
            return UnknownLine
        return None

    @rule(
        kind=st.sampled_from(["allocate", "reduce", "claw_back", "transfer", "disburse"]),
        year=st.sampled_from([2022, 2023]),
        line=st.sampled_from(sorted(ECONOMIC)),
        fen=st.integers(min_value=1, max_value=300_000),
        initial=st.booleans(),
    )
    def post(self, kind: str, year: int, line: str, fen: int, initial: bool) -> None:
        fields = {
            "year": year,
            "line": line,
            "amount": yuan_str(fen),
            "business_date": f"{year}-06-01",
        }
        command = {
            "allocate": lambda: cmd("allocate_budget", initial=initial, **fields),
            "reduce": lambda: cmd("reduce_budget", **fields),
            "claw_back": lambda: cmd("claw_back", **fields),
            "transfer": lambda: cmd("transfer_to_enterprise", payee="企业", **fields),
            "disburse": lambda: cmd(
                "disburse", payee="收款人", economic_code=ECONOMIC[line], **fields
            ),
        }[kind]()
        expected = self.expectation(year, line)
        if expected is None and kind == "transfer" and line != "L1":
            expected = NatureMismatch
        if expected is None and kind != "allocate" and fen > self.available[(year, line)]:
            expected = Overspend
        if self.submit(command, expected):
            sign = 1 if kind == "allocate" else -1
            self.available[(year, line)] += sign * fen
            self.entries.append(Entry(year, line, command["command_id"], kind, fen))

    @precondition(lambda self: bool(self.entries))
    @rule(pick=st.integers(min_value=0))
    def reverse(self, pick: int) -> None:
        entry = self.entries[pick % len(self.entries)]
        command = cmd(
            "reverse_entry",
            year=entry.year,
            line=entry.line,
            reverses_command_id=entry.command_id,
            reason="冲销",
            business_date=f"{entry.year}-07-01",
        )
        expected = self.expectation(entry.year, entry.line)
        if expected is None and entry.reversed:
            expected = NotReversible
        if (
            expected is None
            and entry.kind == "allocate"
            and entry.amount > self.available[(entry.year, entry.line)]
        ):
            expected = Overspend
        if self.submit(command, expected):
            sign = -1 if entry.kind == "allocate" else 1
            self.available[(entry.year, entry.line)] += sign * entry.amount
            entry.reversed = True

    @precondition(lambda self: bool(self.applied))
    @rule(pick=st.integers(min_value=0))
    def retry(self, pick: int) -> None:
        command = self.applied[pick % len(self.applied)]
        position = self.ledger.position()
        result = CommandHandler(self.ledger, actor=ADMIN).handle(parse_command(command))
        assert result.status == "already_applied"
        assert self.ledger.position() == position

    @rule()
    def close_2022(self) -> None:
        report = close_year(
            Services.of(self.ledger), UNIT, 2022, policy=load_policy(), actor=CLOSER
        )
        if self.closed:
            assert report.already_closed
            return
        carried = self.available[(2022, "L1")]  # P1 has no final year: it continues
        for code in ECONOMIC:
            self.settled[code] += self.available[(2022, code)]
            self.available[(2022, code)] = 0
        if carried:
            self.available[(2023, "L1")] = self.available.get((2023, "L1"), 0) + carried
        self.closed = True
        self.open_years.add(2023)

    # --- corrections into the closed 2022 --------------------------------------------

    def correction_refused(self, line: str, takes: int) -> type[LedgerError] | None:
        """Money a correction takes comes back from 2022's close: from what lapsed, or from
        what was carried over (and 2023's line must still have it)."""
        if takes > self.settled[line]:
            return Overspend
        if line == "L1" and takes > self.available.get((2023, "L1"), 0):
            return Overspend
        return None

    def move_close(self, line: str, amount: int) -> None:
        """A correction moved ``amount`` (negative: took it back) into 2022's close."""
        self.settled[line] += amount
        if line == "L1":
            self.available[(2023, "L1")] = self.available.get((2023, "L1"), 0) + amount
            self.open_years.add(2023)

    @precondition(lambda self: self.closed)
    @rule(
        kind=st.sampled_from(["allocate", "reduce", "claw_back", "transfer", "disburse"]),
        line=st.sampled_from(sorted(ECONOMIC)),
        fen=st.integers(min_value=1, max_value=300_000),
    )
    def correct(self, kind: str, line: str, fen: int) -> None:
        fields = {
            "year": 2022,
            "line": line,
            "amount": yuan_str(fen),
            "business_date": "2022-12-31",
            "adjustment_reason": "审计调整",
        }
        command = {
            "allocate": lambda: cmd("allocate_budget", **fields),
            "reduce": lambda: cmd("reduce_budget", **fields),
            "claw_back": lambda: cmd("claw_back", **fields),
            "transfer": lambda: cmd("transfer_to_enterprise", payee="企业", **fields),
            "disburse": lambda: cmd(
                "disburse", payee="收款人", economic_code=ECONOMIC[line], **fields
            ),
        }[kind]()
        takes = 0 if kind == "allocate" else fen
        expected: type[LedgerError] | None = NatureMismatch
        if kind != "transfer" or line == "L1":
            expected = self.correction_refused(line, takes)
        if self.submit(command, expected, actor=CLOSER, today=IN_PERIOD):
            self.move_close(line, fen if kind == "allocate" else -fen)
            self.entries.append(Entry(2022, line, command["command_id"], kind, fen))

    @precondition(lambda self: self.closed and any(e.year == 2022 for e in self.entries))
    @rule(pick=st.integers(min_value=0))
    def correct_by_reversal(self, pick: int) -> None:
        ours = [e for e in self.entries if e.year == 2022]
        entry = ours[pick % len(ours)]
        command = cmd(
            "reverse_entry",
            year=2022,
            line=entry.line,
            reverses_command_id=entry.command_id,
            reason="冲销",
            business_date="2022-12-31",
            adjustment_reason="审计冲销",
        )
        takes = entry.amount if entry.kind == "allocate" else 0
        expected = NotReversible if entry.reversed else self.correction_refused(entry.line, takes)
        if self.submit(command, expected, actor=CLOSER, today=IN_PERIOD):
            self.move_close(entry.line, -entry.amount if entry.kind == "allocate" else entry.amount)
            entry.reversed = True

    @rule()
    def reopen_2022(self) -> None:
        command = cmd("reopen_fiscal_year", unit=UNIT, year=2022, reason="补记")
        if self.submit(command, None if self.closed else YearClosed):
            self.closed = False

    # --- checks after every step ---------------------------------------------------------

    @invariant()
    def books_agree_with_the_model_and_conserve_money(self) -> None:
        books = books_of(self.ledger)
        for (year, code), expected in self.available.items():
            line = books.lines[BudgetLine.id_for(UNIT, year, code)]
            assert line.totals.available == expected >= 0, (year, code)
        kinds = books.balances_by_account_kind()
        assert sum(books.accounts.values()) == 0 and kinds["transit"] == 0
        assert -kinds["issued"] == kinds["paid"] + kinds["returned"] + kinds["available"]

    @invariant()
    def every_identity_holds(self) -> None:
        books = books_of(self.ledger)
        for year in (2022, 2023):
            if (UNIT, year) in books.years:
                failed = [c for c in check_year(books, UNIT, year) if not c.ok]
                assert failed == [], (year, failed)

    @invariant()
    def read_model_and_hash_chain_hold(self) -> None:
        catch_up(self.ledger, self.store)
        assert differences(self.ledger, self.store) == []
        assert verify(self.ledger.recorder).ok


class PostgresLedgerMachine(LedgerMachine):
    def make_database(self) -> str:
        self.schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.schema}"')
        return f"{POSTGRES_URL}?schema={self.schema}"

    def teardown(self) -> None:
        self.ledger.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


TestLedgerOnSQLite = LedgerMachine.TestCase
TestLedgerOnSQLite.settings = settings(
    settings(),
    stateful_step_count=30,
    deadline=None,
    max_examples=settings().max_examples // 5,
)
TestLedgerOnPostgres = PostgresLedgerMachine.TestCase
TestLedgerOnPostgres.settings = settings(
    settings(),
    stateful_step_count=25,
    deadline=None,
    max_examples=max(5, settings().max_examples // 12),
)
