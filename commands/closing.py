"""The year-end close (年终结账) as a job: safe to run unattended, safe to run again.

The close is a sequence of ordinary commands with deterministic command ids, each
applied through the command handler in one transaction:

1. ``start_closing`` — the year stops taking postings; next year is opened;
2. ``close_line`` per budget line — its unspent balance carries over to the same line
   next year (both sides in one transaction) or lapses to the finance bureau, as the
   closing policy says;
3. ``finish_closing`` — once every line is settled, the year is locked, sealed with the
   head of the hash chain read just before (``CloseReport.seal``: print it for filing
   outside the database; ``audit verify`` checks every seal).

Killed at any point and run again, the steps already applied are recognised by their
command ids and skipped, and the rest is done: each carryover happens exactly once.
While one run holds the close lock of a unit and year, another run refuses to start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from commands.handlers import CommandHandler
from commands.models import CloseLine, FinishClosing, StartClosing
from ledger.aggregates import FiscalYear, Project, YearStatus
from ledger.application import Ledger
from ledger.closing.policy import ClosingPolicy, Outcome
from ledger.errors import CloseBlocked, CommandIdReused
from ledger.hash_chain import Head
from ledger.locks import LockHeld, exclusive
from ledger.roles import Actor
from ledger.seals import current_head
from projections.books import Books
from projections.read_model import books_for_reports


@dataclass
class LineOutcome:
    line: str
    outcome: Outcome
    rule: str
    amount: int
    """Fen settled by this run (0 if the step had been applied before)."""


@dataclass
class CloseReport:
    unit: str
    year: int
    already_closed: bool = False
    resumed: bool = False
    lines: list[LineOutcome] = field(default_factory=list)
    adjustment_until: date | None = None
    seal: Head | None = None
    """The chain's head the close finished on (None: a store without a chain, or a
    close recorded before seals existed)."""

    @property
    def carried_over(self) -> int:
        return sum(o.amount for o in self.lines if o.outcome is Outcome.CARRY_OVER)

    @property
    def lapsed(self) -> int:
        return sum(o.amount for o in self.lines if o.outcome is Outcome.LAPSE)


def close_year(
    ledger: Ledger,
    database_url: str,
    unit: str,
    year: int,
    *,
    policy: ClosingPolicy,
    actor: Actor,
    after_step: Callable[[int], None] | None = None,
) -> CloseReport:
    """Close ``year`` of ``unit`` (code or name). ``after_step(n)`` is called after each
    step (used by the crash tests to kill the process at chosen points)."""
    books = books_for_reports(ledger, database_url, unit=unit)
    code = books.unit(unit).code
    report = CloseReport(unit=code, year=year)
    status = books.year(code, year).status
    if status is YearStatus.CLOSED:
        report.already_closed = True
        report.adjustment_until = books.year(code, year).adjustment_until
        report.seal = _recorded_seal(ledger, code, year)
        return report
    negative = [ln.code for ln in books.lines_of(code, year) if ln.totals.available < 0]
    if negative:  # impossible by the rules; refuse rather than close wrong books
        raise CloseBlocked(f"lines below zero must be corrected before the close: {negative}")
    try:
        with exclusive(database_url, f"close/{code}/{year}"):
            return _run(ledger, database_url, code, year, policy, actor, report, status, after_step)
    except LockHeld:
        raise CloseBlocked(
            f"the close of {year} for {code} is already running in another process; "
            "wait for it to finish (a killed run releases the lock at once)"
        ) from None


def _run(
    ledger: Ledger,
    database_url: str,
    code: str,
    year: int,
    policy: ClosingPolicy,
    actor: Actor,
    report: CloseReport,
    status: YearStatus,
    after_step: Callable[[int], None] | None,
) -> CloseReport:
    def current() -> Books:
        """The unit's books now (read model and what it has not applied yet): the lines
        to settle. Each step is decided against the line itself, not these."""
        return books_for_reports(ledger, database_url, unit=code)

    handler = CommandHandler(ledger, actor=actor)
    year_end = date(year, 12, 31)
    # Each close of a year (the first, and one after every reopening) has its own ids.
    run = f"close/{code}/{year}/{current().year(code, year).reopen_count}"
    document = f"{year}年度年终结账"
    steps = 0

    def step() -> None:
        nonlocal steps
        steps += 1
        if after_step is not None:
            after_step(steps)

    report.resumed = status is YearStatus.CLOSING
    try:
        handler.handle(
            StartClosing(
                command_id=f"{run}/start",
                policy=policy.snapshot(),
                document_no=document,
                posted_by=actor.identity,
                business_date=year_end,
                unit=code,
                year=year,
            )
        )
    except CommandIdReused:
        raise CloseBlocked(
            f"the close of {year} for {code} was started with a different closing policy; "
            "finish it with the same policy file"
        ) from None
    step()

    books = current()
    for line in books.lines_of(code, year):
        continuing = True
        if line.project_code is not None:
            project = ledger.find(Project, Project.id_for(code, line.project_code))
            continuing = project is not None and project.continues_after(year)
        outcome, rule = policy.outcome_for(
            unit_code=code,
            nature=line.nature,
            fund_source=line.fund_source,
            project_code=line.project_code,
            continuing=continuing,
        )
        result = handler.handle(
            CloseLine(
                command_id=f"{run}/line/{line.code}",
                line=line.code,
                outcome=outcome,
                rule=rule,
                document_no=document,
                posted_by=actor.identity,
                business_date=year_end,
                unit=code,
                year=year,
            )
        )
        settled = line.totals.available if result.status == "applied" else 0
        report.lines.append(LineOutcome(line.code, outcome, rule, settled))
        step()

    unsettled = [ln.code for ln in current().lines_of(code, year) if ln.totals.available]
    if unsettled:  # pragma: no cover - every line was settled above
        raise CloseBlocked(f"lines still hold a balance and cannot be closed: {unsettled}")
    report.adjustment_until = year_end + timedelta(days=policy.adjustment_period_days)
    seal = current_head(ledger)
    handler.handle(
        FinishClosing(
            command_id=f"{run}/finish",
            adjustment_until=report.adjustment_until,
            sealed_position=seal.position if seal else None,
            sealed_hash=seal.hash if seal else None,
            document_no=document,
            posted_by=actor.identity,
            business_date=year_end,
            unit=code,
            year=year,
        )
    )
    step()
    report.seal = _recorded_seal(ledger, code, year)
    return report


def _recorded_seal(ledger: Ledger, code: str, year: int) -> Head | None:
    """The seal the year's (last) close recorded."""
    fiscal_year = ledger.find(FiscalYear, FiscalYear.id_for(code, year))
    if fiscal_year is None or fiscal_year.sealed_position is None:
        return None
    return Head(fiscal_year.sealed_position, fiscal_year.sealed_hash or "")
