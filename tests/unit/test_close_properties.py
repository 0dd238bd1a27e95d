"""A property over years: any sequence of postings, closes, corrections into closed years
(in their adjustment period), reopenings and re-closes of 2022–2024 keeps every year's
identities (``check_year``) — in particular a correction moves the close with it, so a
closed year stays empty and next year still opens with what it closed with.

After every step: every identity of every year holds; a refused command wrote nothing;
the books kept incrementally equal a replay of the log, and the line totals of the live
aggregates; money is conserved."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from commands.closing import close_year
from commands.handlers import CommandHandler
from commands.models import parse_command
from ledger.aggregates import BudgetLine, YearStatus
from ledger.closing.policy import ClosingPolicy
from ledger.composition import Services, build_ledger
from ledger.errors import LedgerError
from ledger.money import yuan_str
from ledger.roles import Actor, Role
from ledger.settings import Settings
from projections.books import books_of
from projections.checks import check_year
from projections.read_model import all_docs
from tests.scenario import UNIT, cmd

YEARS = (2022, 2023, 2024)
#: Lines of every year, 1,000 yuan each to start with: a continuing project (carries over),
#: a project that ends in 2023 (carries over from 2022, lapses after), and a basic line
#: (lapses).
LINES = {
    "GO": ("project", "P-GO", "30227"),
    "END": ("project", "P-END", "30227"),
    "B1": ("basic_public", None, "30201"),
}
ADMIN = Actor("admin", Role.ADMIN)
CLOSER = Actor("closer", Role.CLOSER)
#: Every close leaves a year open to corrections for a year and a day: a correction into
#: any closed year of the test is in its adjustment period on "today" (2025-01-01).
POLICY = ClosingPolicy(adjustment_period_days=366)
TODAY = date(2025, 1, 1)

amounts = st.integers(min_value=1, max_value=200_000)


class YearsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = build_ledger(Settings(database_url="memory://"))
        setup: list[dict[str, Any]] = [
            cmd("register_unit", code=UNIT, name="测试局"),
            cmd("register_project", unit=UNIT, code="P-GO", name="持续"),
            cmd("register_project", unit=UNIT, code="P-END", name="到期", final_year=2023),
        ]
        for year in YEARS:
            setup.append(cmd("open_fiscal_year", unit=UNIT, year=year))
            for code, (nature, project, _) in LINES.items():
                setup.append(
                    cmd(
                        "open_budget_line",
                        unit=UNIT,
                        year=year,
                        line=code,
                        title=code,
                        nature=nature,
                        function_code="2150805" if project else "2010301",
                        business_date=f"{year}-01-01",
                        **({"project": project} if project else {}),
                        # a line after the project's final year needs its reason
                        **(
                            {"beyond_final_year": "延期一年"}
                            if project == "P-END" and year > 2023
                            else {}
                        ),
                    )
                )
                setup.append(
                    cmd(
                        "allocate_budget",
                        unit=UNIT,
                        year=year,
                        line=code,
                        amount="1000",
                        initial=True,
                        business_date=f"{year}-01-01",
                        document_no="年初预算",
                    )
                )
        handler = CommandHandler(self.ledger, actor=ADMIN)
        for command in setup:
            handler.handle(parse_command(command))
        self.books = books_of(self.ledger)
        self.postings: list[tuple[int, str, str]] = []
        """(year, line, command id) of applied money postings (to reverse)."""

    def teardown(self) -> None:
        self.ledger.close()

    def status(self, year: int) -> YearStatus:
        return books_of(self.ledger).year(UNIT, year).status

    def submit(self, command: dict[str, Any], actor: Actor = CLOSER) -> bool:
        position = self.ledger.position()
        try:
            CommandHandler(self.ledger, actor=actor, today=lambda: TODAY).handle(
                parse_command(command)
            )
        except LedgerError:
            assert self.ledger.position() == position, "a refused command wrote something"
            return False
        return True

    def money(self, kind: str, year: int, line: str, fen: int) -> dict[str, Any]:
        fields: dict[str, Any] = {"year": year, "line": line, "amount": yuan_str(fen)}
        fields["business_date"] = f"{year}-12-31" if self.closed(year) else f"{year}-06-01"
        if self.closed(year):
            fields["adjustment_reason"] = "审计调整"
        if kind == "allocate":
            return cmd("allocate_budget", **fields)
        if kind == "reduce":
            return cmd("reduce_budget", **fields)
        if kind == "claw_back":
            return cmd("claw_back", **fields)
        if kind == "transfer":
            return cmd("transfer_to_enterprise", payee="企业", **fields)
        return cmd("disburse", payee="收款人", economic_code=LINES[line][2], **fields)

    def closed(self, year: int) -> bool:
        return self.status(year) is YearStatus.CLOSED

    # --- rules -----------------------------------------------------------------------

    @rule(year=st.sampled_from(YEARS), line=st.sampled_from(sorted(LINES)), fen=amounts)
    def allocate(self, year: int, line: str, fen: int) -> None:
        """An allocation; into a closed year it is a correction."""
        command = self.money("allocate", year, line, fen)
        if self.submit(command):
            self.postings.append((year, line, command["command_id"]))

    @rule(
        kind=st.sampled_from(["reduce", "claw_back", "transfer", "pay", "pay"]),
        year=st.sampled_from(YEARS),
        line=st.sampled_from(sorted(LINES)),
        fen=st.integers(min_value=1, max_value=50_000),
    )
    def spend(self, kind: str, year: int, line: str, fen: int) -> None:
        """A payment, reduction or clawback; into a closed year it is a correction."""
        command = self.money(kind, year, line, fen)
        if self.submit(command):
            self.postings.append((year, line, command["command_id"]))

    @precondition(lambda self: bool(self.postings))
    @rule(pick=st.integers(min_value=0))
    def reverse(self, pick: int) -> None:
        """A reversal; of a posting in a closed year it is a correction."""
        year, line, command_id = self.postings[pick % len(self.postings)]
        fields: dict[str, Any] = {"business_date": f"{year}-07-01"}
        if self.closed(year):
            fields = {"business_date": f"{year}-12-31", "adjustment_reason": "审计冲销"}
        self.submit(
            cmd(
                "reverse_entry",
                year=year,
                line=line,
                reverses_command_id=command_id,
                reason="冲销",
                **fields,
            )
        )

    @rule(year=st.sampled_from(YEARS))
    def close(self, year: int) -> None:
        """A close, or a re-close after a reopening (refused, or left unfinished, when
        a carryover has nowhere to go)."""
        with contextlib.suppress(LedgerError):
            close_year(Services.of(self.ledger), UNIT, year, policy=POLICY, actor=CLOSER)

    @rule(year=st.sampled_from(YEARS))
    def reopen(self, year: int) -> None:
        command = cmd("reopen_fiscal_year", unit=UNIT, year=year, reason="补记")
        self.submit({**command, "business_date": f"{year + 1}-01-15"}, actor=ADMIN)

    # --- after every step ------------------------------------------------------------

    @invariant()
    def every_year_balances(self) -> None:
        for position, event in self.ledger.read_events(start=self.books.position + 1):
            self.books.apply(event, position)
        self.books.position = self.ledger.position()
        replayed = books_of(self.ledger)
        assert all_docs(replayed) == all_docs(self.books)
        for year in {y for (_, y) in replayed.years}:
            failed = [c for c in check_year(replayed, UNIT, year) if not c.ok]
            assert failed == [], (year, failed)
        for view in replayed.lines.values():
            assert view.totals.available >= 0, view.code
            aggregate = self.ledger.find(BudgetLine, view.id)
            assert aggregate is not None and aggregate.totals == view.totals


TestYears = YearsMachine.TestCase
TestYears.settings = settings(
    settings(), stateful_step_count=30, max_examples=max(10, settings().max_examples // 2)
)
