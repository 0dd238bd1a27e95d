"""Corrections into a closed year move the year's close with them.

The close left every line of the year at zero available: its unspent money was carried
over to the same line next year (结转) or lapsed to the finance bureau (结余). A correcting
entry a closer posts into the closed year during its adjustment period (a payment, an
allocation, a reversal, …) changes what the line holds, so the close must change with it
or the books stop balancing: the closed line would hold money after its close, and next
year would no longer open with what this year closed with.

So each such correction is decided together with the re-settlement of its line, and
stored with it in one transaction:

- money the correction **takes** from the line (a payment, a reduction, a clawback, the
  reversal of an allocation) is first taken back from what the close settled — from the
  carryover (next year's line gives as much back: it must still have it, unspent) or
  from what lapsed — and refused as an overspend when the close settled less;
- money the correction **adds** (an allocation, the reversal of a payment) is settled the
  way the line's close settled it: carried over (next year's line receives it; opened if
  the close had not opened it) or lapsed.

The way is the one the line's last closing entry recorded; for a line its close left
untouched (nothing to settle), the closing policy recorded when the year's close began.
When the carryover has to move into a next year that is closed or being closed, the
correction is refused (``close_blocked``): reopen that year first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from commands.models import Command, LineCommand
from ledger.aggregates import BudgetLine, FiscalYear, Project, YearStatus
from ledger.classifications import FundSource
from ledger.closing.policy import ClosingPolicy, Outcome
from ledger.errors import CloseBlocked

if TYPE_CHECKING:
    from commands.handlers import CommandHandler


@dataclass
class CloseCorrection:
    """How one posting moves the close of its line's year (nothing, for an open year).

    Passed to the line's decision as what may give money back (``release``); once the
    line has decided, ``settle`` re-settles what the correction left on it."""

    line: BudgetLine
    command: LineCommand | None = None
    """The correcting command; None when the posting goes into an open year."""
    outcome: Outcome = Outcome.LAPSE
    rule: str = ""
    """Why the line settles that way (its close's rule, or the policy's)."""
    year_label: str = ""
    next_line: BudgetLine | None = None
    """Next year's line, for a carryover (opened like this one, and stored only if money
    is carried into it, when the close had carried nothing)."""

    @property
    def gives_back(self) -> CloseCorrection | None:
        """What the line may take money back from: this, for a correction; else None."""
        return self if self.command is not None else None

    def release(self, amount: int) -> None:
        """Refuse unless the close can give ``amount`` back to the line: it settled at least
        that much this way, and, for a carryover, next year's line still holds it."""
        self.line.require_close_release(amount, self.outcome, self.year_label)
        if self.outcome is Outcome.CARRY_OVER:
            if self.next_line is None:  # pragma: no cover - a carryover opened it
                raise CloseBlocked(f"the carryover of {self.line.label} has no line next year")
            self.next_line.require_carryover_return(amount, self.line.label)

    def settle(self) -> list[Aggregate]:
        """Trigger the events that settle what the correction left on the line (after the
        correction's own event); returns the other aggregates they changed."""
        command = self.command
        if command is None:
            return []
        meta = Command.meta(command)  # the posting's metadata, not its money extras
        next_line = self.next_line
        amount = self.line.resettle_close(
            self.outcome, correction=command.command_id, rule=self.rule, **meta
        )
        if amount == 0 or self.outcome is Outcome.LAPSE:
            return []
        if next_line is None:  # pragma: no cover - planned before any event
            raise CloseBlocked(f"the carryover of {self.line.label} has nowhere to go")
        next_line.adjust_carryover_received(
            amount,
            from_year=self.line.year,
            from_line=self.line.code,
            correction=command.command_id,
            **_next_year_meta(meta),
        )
        return [next_line]


def _next_year_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Next year is open: what moves there is not a correction into a closed year."""
    return {**meta, "adjustment_reason": None}


def plan_close_correction(
    handler: CommandHandler, command: LineCommand, line: BudgetLine
) -> CloseCorrection:
    """Say how ``command`` (posted into ``line``) moves its year's close, checking before
    any event what does not depend on the amount: a carryover needs next year open. A
    posting into an open year moves nothing."""
    if command.adjustment_reason is None:
        # The handler let the posting in, so its year is open: nothing was settled yet.
        return CloseCorrection(line)
    fiscal_year = handler._year(command.unit, command.year)
    if fiscal_year.status is not YearStatus.CLOSED:  # pragma: no cover - refused before
        return CloseCorrection(line)
    outcome, rule = _outcome_of(handler, fiscal_year, line)
    plan = CloseCorrection(line, command, outcome, rule, fiscal_year.label)
    if outcome is Outcome.LAPSE:
        return plan
    next_year = handler._year(command.unit, command.year + 1)
    if next_year.status is not YearStatus.OPEN:
        what = (
            "being closed: wait until its close has finished"
            if next_year.status is YearStatus.CLOSING
            else "closed: reopen it first (admin, reopen-year), post the correction, then close "
            f"{next_year.year} again — if {next_year.year}'s close carried or lapsed that money "
            "on, reopening does not bring it back, and the correction belongs in "
            f"{next_year.year} instead"
        )
        raise CloseBlocked(
            f"line {line.code} of {line.year} settles by carrying over to {next_year.year}, so "
            f"this correction moves next year's opening too, but {next_year.label} is {what}"
        )
    # next year's line: the one the close carried into, or opened like this one (only
    # stored if the correction adds money to carry over)
    plan.next_line = handler._next_year_line(line, _next_year_meta(Command.meta(command)))
    return plan


def _outcome_of(
    handler: CommandHandler, fiscal_year: FiscalYear, line: BudgetLine
) -> tuple[Outcome, str]:
    """How ``line`` settles: as its last closing entry did, else as the closing policy
    recorded with the year's close decides for it."""
    if line.close_outcome is not None:
        return Outcome(line.close_outcome), f"as the close of {line.year} settled line {line.code}"
    continuing = True
    if line.project_code is not None:
        project = handler._find(Project, Project.id_for(line.unit_code, line.project_code))
        continuing = project is not None and project.continues_after(line.year)
    policy = ClosingPolicy.model_validate(fiscal_year.policy)
    return policy.outcome_for(
        unit_code=line.unit_code,
        nature=line.nature,
        fund_source=FundSource(line.fund_source),
        project_code=line.project_code,
        continuing=continuing,
    )
