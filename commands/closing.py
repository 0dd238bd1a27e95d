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

The step ids live in the system's own namespace (no client command can take them) and
name the run: (year, reopen count, close attempt). A close that is stuck for any reason
can be let go on by an admin (``resume_closing``: the next run takes fresh ids) or
abandoned (``abandon_closing``: the year is open again), each with a stated reason.

A year is not closed before its 31 December unless the closer says why.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from commands.handlers import CommandHandler, today_in_china
from commands.models import (
    AbandonClosing,
    CloseLine,
    FinishClosing,
    ResumeClosing,
    StartClosing,
    build_command,
)
from ledger.aggregates import FiscalYear, Project, YearStatus
from ledger.application import Ledger
from ledger.closing.policy import ClosingPolicy, Outcome
from ledger.composition import Services
from ledger.errors import CloseBlocked, CommandIdReused
from ledger.hash_chain import Head
from ledger.locks import LockHeld
from ledger.roles import Actor
from ledger.seals import current_head
from projections.books import Books, LineView
from projections.read_model import ReadModelStore, books_for_reports
from projections.redaction import CLASSIFIED_NAME


@dataclass
class LineOutcome:
    line: str
    outcome: Outcome
    rule: str
    amount: int
    """Fen settled by this run (0 if the step had been applied before)."""
    classified: bool = False
    """The line funds a classified (涉密) project."""


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

    def shown_to(self, clearance: bool) -> list[LineOutcome]:
        """The line outcomes as a caller may read them: without clearance the lines of
        classified projects are one outcome per kind, named as published."""
        if clearance:
            return list(self.lines)
        shown = [o for o in self.lines if not o.classified]
        for kind in Outcome:
            amount = sum(o.amount for o in self.lines if o.classified and o.outcome is kind)
            if amount:
                shown.append(LineOutcome(CLASSIFIED_NAME, kind, "涉密", amount, classified=True))
        return shown


def close_year(
    services: Services,
    unit: str,
    year: int,
    *,
    policy: ClosingPolicy,
    actor: Actor,
    after_step: Callable[[int], None] | None = None,
    before_year_end: str | None = None,
    today: Callable[[], date] = today_in_china,
) -> CloseReport:
    """Close ``year`` of ``unit`` (code or name). ``after_step(n)`` is called after each
    step (used by the crash tests to kill the process at chosen points).
    ``before_year_end`` is the reason for closing a year before its 31 December."""
    ledger = services.ledger
    ledger.unit_in_scope(actor, unit)  # before the unit is looked up
    books = books_for_reports(ledger, services.read_models, unit=unit)
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
        with services.locks.exclusive(f"close/{code}/{year}"):
            return _run(
                ledger,
                services.read_models,
                code,
                year,
                policy,
                CommandHandler(ledger, actor=actor, today=today),
                report,
                status,
                after_step,
                before_year_end,
            )
    except LockHeld:
        raise CloseBlocked(
            f"the close of {year} for {code} is already running in another process; "
            "wait for it to finish (a killed run releases the lock at once)"
        ) from None


def _run(
    ledger: Ledger,
    read_models: ReadModelStore | None,
    code: str,
    year: int,
    policy: ClosingPolicy,
    handler: CommandHandler,
    report: CloseReport,
    status: YearStatus,
    after_step: Callable[[int], None] | None,
    before_year_end: str | None,
) -> CloseReport:
    def current() -> Books:
        """The unit's books now (read model and what it has not applied yet): the lines
        to settle. Each step is decided against the line itself, not these."""
        return books_for_reports(ledger, read_models, unit=code)

    # Each run of a year's close (the first, one after every reopening, one after an
    # admin resumed or abandoned a stuck close) has its own step ids.
    view = current().year(code, year)
    run = f"close/{year}/{view.reopen_count}/{view.close_attempt}"
    fields = _step_fields(handler, code, year)
    steps = 0

    def step() -> None:
        nonlocal steps
        steps += 1
        if after_step is not None:
            after_step(steps)

    report.resumed = status is YearStatus.CLOSING
    if report.resumed and view.closing_policy and view.closing_policy != policy.snapshot():
        raise CloseBlocked(
            f"the close of {year} for {code} was started with a different closing policy; "
            "finish it with the same policy file, or an admin abandons it (--abandon --reason …)"
        )
    if status is YearStatus.OPEN:
        _require_next_year_codes(ledger, code, year, policy, handler, current())
    try:
        if status is YearStatus.OPEN:
            handler.handle(
                build_command(
                    StartClosing,
                    command_id=f"{run}/start",
                    policy=policy.snapshot(),
                    before_year_end=before_year_end,
                    **fields,
                ),
                system=True,
            )
        step()
        return _settle(ledger, code, year, policy, handler, report, run, fields, current, step)
    except CommandIdReused as error:
        raise CloseBlocked(
            f"the close of {year} for {code} is stuck: one of its steps was recorded before "
            f"with other content ({error.message}). An admin can let it go on with fresh "
            "steps (fundflow close-year --resume --reason …) or abandon it (--abandon "
            "--reason …)"
        ) from None


def _require_next_year_codes(
    ledger: Ledger,
    code: str,
    year: int,
    policy: ClosingPolicy,
    handler: CommandHandler,
    books: Books,
) -> None:
    """Before anything is written: every balance the close will carry over has a function
    item in next year's catalogue (the same code, or where its mapping moved it)."""
    for line in books.lines_of(code, year):
        if line.totals.available > 0:
            outcome, _, _ = _decide(ledger, code, year, line, policy)
            if outcome == Outcome.CARRY_OVER:
                handler.next_year_function_code(line.function_code, year + 1)


def _step_fields(handler: CommandHandler, code: str, year: int) -> dict[str, Any]:
    """What every step of a year's close records alike: the close's document, who runs it,
    and 31 December as its business date."""
    return {
        "document_no": f"{year}年度年终结账",
        "posted_by": handler.actor.identity,
        "business_date": date(year, 12, 31),
        "unit": code,
        "year": year,
    }


def _settle(
    ledger: Ledger,
    code: str,
    year: int,
    policy: ClosingPolicy,
    handler: CommandHandler,
    report: CloseReport,
    run: str,
    fields: dict[str, Any],
    current: Callable[[], Books],
    step: Callable[[], None],
) -> CloseReport:
    """Settle every line of the year, then lock it."""

    books = current()
    for line in books.lines_of(code, year):
        outcome, rule, classified = _decide(ledger, code, year, line, policy)
        result = handler.handle(
            build_command(
                CloseLine,
                command_id=f"{run}/line/{line.code}",
                line=line.code,
                outcome=outcome,
                rule=rule,
                **fields,
            ),
            system=True,
        )
        settled = line.totals.available if result.status == "applied" else 0
        report.lines.append(LineOutcome(line.code, outcome, rule, settled, classified))
        step()

    unsettled = [ln.code for ln in current().lines_of(code, year) if ln.totals.available]
    if unsettled:  # pragma: no cover - every line was settled above
        raise CloseBlocked(f"lines still hold a balance and cannot be closed: {unsettled}")
    report.adjustment_until = date(year, 12, 31) + timedelta(days=policy.adjustment_period_days)
    seal = current_head(ledger)
    handler.handle(
        build_command(
            FinishClosing,
            command_id=f"{run}/finish",
            adjustment_until=report.adjustment_until,
            sealed_position=seal.position if seal else None,
            sealed_hash=seal.hash if seal else None,
            **fields,
        ),
        system=True,
    )
    step()
    report.seal = _recorded_seal(ledger, code, year)
    return report


def _decide(
    ledger: Ledger, code: str, year: int, line: LineView, policy: ClosingPolicy
) -> tuple[Outcome, str, bool]:
    """What the close does with a line's unspent balance, by which rule of the policy, and
    whether the line funds a classified (涉密) project."""
    continuing, classified = True, False
    if line.project_code is not None:
        project = ledger.find(Project, Project.id_for(code, line.project_code))
        continuing = project is not None and project.continues_after(year)
        classified = project is None or project.classified
    outcome, rule = policy.outcome_for(
        unit_code=code,
        nature=line.nature,
        fund_source=line.fund_source,
        project_code=line.project_code,
        continuing=continuing,
    )
    return outcome, rule, classified


def preview_close(
    services: Services,
    unit: str,
    year: int,
    *,
    policy: ClosingPolicy,
    actor: Actor,
) -> CloseReport:
    """What closing ``year`` now would do, line by line, without doing it: each line's
    available balance and the policy rule that carries it over or lets it lapse. Read it
    with :meth:`CloseReport.shown_to` the caller's clearance."""
    ledger = services.ledger
    ledger.unit_in_scope(actor, unit)
    books = books_for_reports(ledger, services.read_models, unit=unit)
    code = books.unit(unit).code
    report = CloseReport(unit=code, year=year)
    report.already_closed = books.year(code, year).status is YearStatus.CLOSED
    for line in books.lines_of(code, year):
        outcome, rule, classified = _decide(ledger, code, year, line, policy)
        report.lines.append(
            LineOutcome(line.code, outcome, rule, line.totals.available, classified)
        )
    report.adjustment_until = date(year, 12, 31) + timedelta(days=policy.adjustment_period_days)
    return report


def resume_close(
    services: Services,
    unit: str,
    year: int,
    *,
    reason: str,
    policy: ClosingPolicy,
    actor: Actor,
    command_id: str | None = None,
    today: Callable[[], date] = today_in_china,
) -> CloseReport:
    """An admin lets a stuck close go on (with fresh step ids), then runs it to the end.
    What fresh ids cannot cure (another closing policy) is refused before anything is
    written."""
    ledger = services.ledger
    code = ledger.unit_in_scope(actor, unit)
    year_now = ledger.find(FiscalYear, FiscalYear.id_for(code, year))
    if year_now is not None and year_now.policy and year_now.policy != policy.snapshot():
        raise CloseBlocked(
            f"the close of {year} was started with a different closing policy: resume it with "
            "the same policy file, or abandon it (--abandon --reason …)"
        )
    CommandHandler(ledger, actor=actor, today=today).handle(
        build_command(
            ResumeClosing,
            command_id=command_id or f"resume-{uuid.uuid4()}",
            posted_by=actor.identity,
            business_date=today(),
            unit=unit,
            year=year,
            reason=reason,
        )
    )
    return close_year(services, unit, year, policy=policy, actor=actor, today=today)


def abandon_close(
    ledger: Ledger,
    unit: str,
    year: int,
    *,
    reason: str,
    actor: Actor,
    command_id: str | None = None,
    today: Callable[[], date] = today_in_china,
) -> str:
    """An admin gives up a close that cannot finish: the year is open again."""
    return (
        CommandHandler(ledger, actor=actor, today=today)
        .handle(
            build_command(
                AbandonClosing,
                command_id=command_id or f"abandon-{uuid.uuid4()}",
                posted_by=actor.identity,
                business_date=today(),
                unit=unit,
                year=year,
                reason=reason,
            )
        )
        .message
    )


def _recorded_seal(ledger: Ledger, code: str, year: int) -> Head | None:
    """The seal the year's (last) close recorded."""
    fiscal_year = ledger.find(FiscalYear, FiscalYear.id_for(code, year))
    if fiscal_year is None or fiscal_year.sealed_position is None:
        return None
    return Head(fiscal_year.sealed_position, fiscal_year.sealed_hash or "")
