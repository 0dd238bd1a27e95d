"""Command handlers: check the rules, produce events, store them with the command record.

``CommandHandler.handle`` is the one path by which anything is posted — the CLI, the
JSON Lines import and the seed demo all go through it. A command either stores all
its events and its :class:`~ledger.aggregates.CommandRecord` in one transaction, or
raises a :class:`~ledger.errors.LedgerError` and stores nothing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal, TypeVar
from uuid import UUID

import structlog
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from pydantic import BaseModel

from commands.models import (
    AllocateBudget,
    AnyCommand,
    ClawBack,
    CloseLine,
    Command,
    Disburse,
    FinishClosing,
    ImportPriorYearFigures,
    IssueToken,
    LineCommand,
    OpenBudgetLine,
    OpenFiscalYear,
    RecordYearFacts,
    ReduceBudget,
    RegisterProject,
    RegisterUnit,
    ReopenFiscalYear,
    ReverseEntry,
    RevokeToken,
    SetThreePublicBudget,
    StartClosing,
    TransferToEnterprise,
)
from ledger.aggregates import (
    ApiToken,
    BudgetLine,
    CommandRecord,
    FiscalYear,
    Project,
    Unit,
    YearStatus,
)
from ledger.application import Ledger
from ledger.classifications import Nature
from ledger.closing.policy import Outcome
from ledger.errors import (
    AdjustmentNotAllowed,
    AlreadyExists,
    CloseBlocked,
    CommandIdReused,
    ConcurrentUpdate,
    Forbidden,
    InvalidInput,
    LedgerError,
    NatureMismatch,
    NotReversible,
    UnknownLine,
    UnknownProject,
    UnknownToken,
    UnknownUnit,
    YearClosed,
    YearNotOpen,
)
from ledger.money import yuan_str
from ledger.roles import SYSTEM, Actor, Role
from ledger.seals import check_seal

log = structlog.get_logger("fundflow.commands")

#: How many times a command is re-decided when another writer changed its line first.
MAX_ATTEMPTS = 8
#: The ledger's calendar is China Standard Time (no daylight saving).
CHINA_TIME = timezone(timedelta(hours=8))


def today_in_china() -> date:
    return datetime.now(CHINA_TIME).date()


class EventRef(BaseModel):
    """One stored event of a command's result."""

    type: str
    aggregate_id: str
    version: int


class CommandResult(BaseModel):
    """What a command did. A retry of the same command returns the same result."""

    command_id: str
    command_type: str
    status: Literal["applied", "already_applied"]
    message: str
    events: list[EventRef]
    line: str | None = None
    available: str | None = None
    """Yuan available on the line right after the command (for line commands)."""


Decision = tuple[list[Aggregate], str, BudgetLine | None]
A = TypeVar("A", bound=Aggregate)


@dataclass
class BatchOutcome:
    """What a batch did: the results of the commands applied (or recognised as retries),
    and the first rejected one, if any, by its index in the batch."""

    results: list[CommandResult] = field(default_factory=list)
    error: LedgerError | None = None
    failed_index: int | None = None


class CommandHandler:
    """Decides commands against the ledger and stores what they produce."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        actor: Actor = SYSTEM,
        today: Callable[[], date] = today_in_china,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.ledger = ledger
        self._working: dict[UUID, Aggregate] | None = None
        self.actor = actor
        self.today = today
        self.max_attempts = max_attempts
        self._deciders: dict[type[Command], Callable[[Any], Decision]] = {
            RegisterUnit: self._register_unit,
            OpenFiscalYear: self._open_fiscal_year,
            RegisterProject: self._register_project,
            OpenBudgetLine: self._open_budget_line,
            AllocateBudget: self._allocate,
            ReduceBudget: self._reduce,
            TransferToEnterprise: self._transfer,
            Disburse: self._disburse,
            ClawBack: self._claw_back,
            ReverseEntry: self._reverse,
            ImportPriorYearFigures: self._import_prior_year,
            SetThreePublicBudget: self._set_three_public_budget,
            RecordYearFacts: self._record_year_facts,
            StartClosing: self._start_closing,
            CloseLine: self._close_line,
            FinishClosing: self._finish_closing,
            ReopenFiscalYear: self._reopen,
            IssueToken: self._issue_token,
            RevokeToken: self._revoke_token,
        }

    # --- the one entry point ------------------------------------------------

    def handle(self, command: AnyCommand) -> CommandResult:
        """Apply ``command`` once. A retry with the same id and content returns the
        original result and writes nothing; with other content it is rejected."""
        started = time.perf_counter()
        self.actor.require(command.type)
        fingerprint = command.fingerprint()
        record_id = CommandRecord.id_for(command.command_id)
        for _attempt in range(self.max_attempts):
            record = self.ledger.find(CommandRecord, record_id)
            if record is not None:
                return self._replay(record, command, fingerprint)
            try:
                aggregates, message, line = self._deciders[type(command)](command)
            except Exception as error:
                log.info(
                    "command_rejected",
                    command_id=command.command_id,
                    command=command.type,
                    error=getattr(error, "code", type(error).__name__),
                    reason=str(error),
                )
                raise
            result, record = self._applied(command, fingerprint, aggregates, message, line)
            try:
                self.ledger.save(*aggregates, record)
            except IntegrityError:
                # Another writer got there first: the same command (its record now
                # exists) or another posting to the same aggregate. Decide again, after
                # a short random pause so that contenders do not collide again.
                time.sleep(random.uniform(0, min(0.05, 0.002 * 2**_attempt)))
                continue
            log.info(
                "command_applied",
                command_id=command.command_id,
                command=command.type,
                line=result.line,
                events=len(result.events),
                latency_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            return result
        raise ConcurrentUpdate(
            f"command {command.command_id} could not be applied: the line kept changing under "
            f"it ({self.max_attempts} attempts). Nothing was written; send it again."
        )

    def _applied(
        self,
        command: Command,
        fingerprint: str,
        aggregates: list[Aggregate],
        message: str,
        line: BudgetLine | None,
    ) -> tuple[CommandResult, CommandRecord]:
        """The result of a decided command, and the record that stores it with its events.
        (Built without re-validation: every field comes from validated input or the store.)"""
        events: list[dict[str, Any]] = [
            {
                "type": type(e).__name__,
                "aggregate_id": str(e.originator_id),
                "version": e.originator_version,
            }
            for a in aggregates
            for e in a.pending_events
            # In a batch, an aggregate also holds the events of earlier commands.
            if getattr(e, "command_id", None) == command.command_id
        ]
        data: dict[str, Any] = {
            "command_id": command.command_id,
            "command_type": command.type,
            "status": "applied",
            "message": message,
            "events": events,
            "line": None if line is None else line.code,
            "available": None if line is None else yuan_str(line.totals.available),
        }
        result = CommandResult.model_construct(
            command_id=command.command_id,
            command_type=command.type,
            status="applied",
            message=message,
            events=[
                EventRef.model_construct(
                    type=e["type"], aggregate_id=e["aggregate_id"], version=e["version"]
                )
                for e in events
            ],
            line=data["line"],
            available=data["available"],
        )
        record = CommandRecord(
            command_id=command.command_id,
            command_type=command.type,
            fingerprint=fingerprint,
            result=data,
        )
        return result, record

    def handle_batch(
        self, commands: list[AnyCommand], *, actors: list[Actor] | None = None
    ) -> BatchOutcome:
        """Apply commands one after another and store them all in one transaction (group
        commit, for imports and the service). Stops at the first rejected command: those
        before it are stored, it and those after it are not. Retried commands are
        recognised as in :meth:`handle`, also when a command id repeats within the batch.
        ``actors`` gives each command its own actor (the service's callers); by default
        all are the handler's."""
        for attempt in range(self.max_attempts):
            self._working = {}
            own = self.actor
            try:
                outcome = self._decide_batch(commands, actors)
                pending = [a for a in self._working.values() if a.pending_events]
                if pending:
                    self.ledger.save(*pending)
            except IntegrityError:
                time.sleep(random.uniform(0, min(0.05, 0.002 * 2**attempt)))
                continue
            finally:
                self._working = None
                self.actor = own
            log.info(
                "batch_applied",
                commands=len(outcome.results),
                rejected=None if outcome.error is None else outcome.error.code,
            )
            return outcome
        raise ConcurrentUpdate(
            f"a batch of {len(commands)} commands kept meeting other writers "
            f"({self.max_attempts} attempts). Nothing of it was written; send it again."
        )

    def _decide_batch(self, commands: list[AnyCommand], actors: list[Actor] | None) -> BatchOutcome:
        outcome = BatchOutcome()
        working = self._working
        assert working is not None
        record_ids = [CommandRecord.id_for(c.command_id) for c in commands]
        # One query tells which commands were applied before; the others need no look-up.
        known = self.ledger.known_ids(record_ids)
        for index, command in enumerate(commands):
            if actors is not None:
                self.actor = actors[index]
            try:
                self.actor.require(command.type)
                fingerprint = command.fingerprint()
                record_id = record_ids[index]
                record = (
                    self._find(CommandRecord, record_id)
                    if record_id in known or record_id in working
                    else None
                )
                if record is not None:
                    outcome.results.append(self._replay(record, command, fingerprint))
                    continue
                aggregates, message, line = self._deciders[type(command)](command)
            except LedgerError as error:
                outcome.error, outcome.failed_index = error, index
                break
            result, record = self._applied(command, fingerprint, aggregates, message, line)
            for aggregate in [*aggregates, record]:
                working[aggregate.id] = aggregate
            outcome.results.append(result)
        return outcome

    def _find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """An aggregate, from the batch being decided if it is there, else from the store."""
        if self._working is not None and aggregate_id in self._working:
            found = self._working[aggregate_id]
            if not isinstance(found, cls):  # pragma: no cover - ids are per kind
                raise TypeError(f"{aggregate_id} is a {type(found).__name__}, not {cls.__name__}")
            return found
        loaded = self.ledger.find(cls, aggregate_id)
        if loaded is not None and self._working is not None:
            self._working[aggregate_id] = loaded
        return loaded

    def _replay(self, record: CommandRecord, command: Command, fingerprint: str) -> CommandResult:
        if record.fingerprint != fingerprint:
            raise CommandIdReused(
                f"command id {command.command_id} was already used for a different "
                f"{record.command_type} command; use a new command id for a new posting"
            )
        original = CommandResult.model_validate(record.result)
        log.info("command_already_applied", command_id=command.command_id, command=command.type)
        return original.model_copy(update={"status": "already_applied"})

    # --- look-ups that raise clerk-readable errors -----------------------------

    def _unit(self, code: str) -> Unit:
        unit = self._find(Unit, Unit.id_for(code))
        if unit is None:
            raise UnknownUnit(f"unit {code} is not registered")
        return unit

    def _year(self, unit_code: str, year: int) -> FiscalYear:
        self._unit(unit_code)
        fiscal_year = self._find(FiscalYear, FiscalYear.id_for(unit_code, year))
        if fiscal_year is None:
            raise YearNotOpen(f"fiscal year {year} of unit {unit_code} has not been opened")
        return fiscal_year

    def _open_year(self, unit_code: str, year: int) -> FiscalYear:
        fiscal_year = self._year(unit_code, year)
        if fiscal_year.status is not YearStatus.OPEN:
            raise YearClosed(
                f"{fiscal_year.label} is {fiscal_year.status.value}: "
                "nothing more can be posted into it"
            )
        return fiscal_year

    def _year_for_posting(self, command: Command, unit_code: str, year: int) -> FiscalYear:
        """The year a posting goes into: open, or closed and in its adjustment period for
        a closer who states the reason for the correcting entry."""
        if command.business_date.year != year:
            raise InvalidInput(
                f"business date {command.business_date} is outside fiscal year {year}"
            )
        fiscal_year = self._year(unit_code, year)
        status = fiscal_year.status
        if status is YearStatus.OPEN:
            if command.adjustment_reason is not None:
                raise AdjustmentNotAllowed(
                    f"{fiscal_year.label} is open: post normally, without an adjustment reason"
                )
            return fiscal_year
        if status is YearStatus.CLOSING:
            raise YearClosed(
                f"{fiscal_year.label} is being closed: nothing can be posted into it until the "
                "close has finished"
            )
        until = fiscal_year.adjustment_until
        if command.adjustment_reason is None:
            raise YearClosed(
                f"{fiscal_year.label} is closed: nothing more can be posted into it. A correcting "
                f"entry needs the closer role and an adjustment reason (until {until})"
            )
        if not self.actor.at_least(Role.CLOSER):
            raise Forbidden(
                f"{self.actor.identity} ({self.actor.role.value}) may not post correcting entries "
                f"into the closed {fiscal_year.label}: that needs the closer role"
            )
        if until is None or self.today() > until:
            raise AdjustmentNotAllowed(
                f"the adjustment period of the closed {fiscal_year.label} ended on {until}; "
                "only reopening the year (admin) lets entries in now"
            )
        return fiscal_year

    def _line(self, command: LineCommand) -> BudgetLine:
        self._year_for_posting(command, command.unit, command.year)
        line = self._find(BudgetLine, BudgetLine.id_for(command.unit, command.year, command.line))
        if line is None:
            raise UnknownLine(
                f"budget line {command.line} does not exist for unit {command.unit} in "
                f"{command.year}"
            )
        return line

    # --- deciders -------------------------------------------------------------

    def _register_unit(self, c: RegisterUnit) -> Decision:
        if self._find(Unit, Unit.id_for(c.code)) is not None:
            raise AlreadyExists(f"unit {c.code} is already registered")
        unit = Unit._create(Unit.Registered, code=c.code, name=c.name, kind=c.kind, **c.meta())
        return [unit], f"unit {c.code} {c.name} registered", None

    def _open_fiscal_year(self, c: OpenFiscalYear) -> Decision:
        self._unit(c.unit)
        if self._find(FiscalYear, FiscalYear.id_for(c.unit, c.year)) is not None:
            raise AlreadyExists(f"fiscal year {c.year} of unit {c.unit} is already open")
        year = FiscalYear._create(FiscalYear.Opened, unit_code=c.unit, year=c.year, **c.meta())
        return [year], f"fiscal year {c.year} of unit {c.unit} opened", None

    def _register_project(self, c: RegisterProject) -> Decision:
        self._unit(c.unit)
        if self._find(Project, Project.id_for(c.unit, c.code)) is not None:
            raise AlreadyExists(f"project {c.code} of unit {c.unit} is already registered")
        project = Project._create(
            Project.Registered,
            unit_code=c.unit,
            code=c.code,
            name=c.name,
            implementing_units=c.implementing_units,
            classified=c.classified,
            final_year=c.final_year,
            **c.meta(),
        )
        return [project], f"project {c.code} registered", None

    def _open_budget_line(self, c: OpenBudgetLine) -> Decision:
        if c.adjustment_reason is not None:
            raise AdjustmentNotAllowed("lines are opened in open years only")
        self._open_year(c.unit, c.year)
        if c.nature is Nature.PROJECT:
            if c.project is None:
                raise NatureMismatch("a project line needs the project it funds")
            if self._find(Project, Project.id_for(c.unit, c.project)) is None:
                raise UnknownProject(f"project {c.project} of unit {c.unit} is not registered")
        elif c.project is not None:
            raise NatureMismatch("a basic expenditure line cannot belong to a project")
        if self._find(BudgetLine, BudgetLine.id_for(c.unit, c.year, c.line)) is not None:
            raise AlreadyExists(f"budget line {c.line} already exists for {c.unit} in {c.year}")
        line = BudgetLine._create(
            BudgetLine.Opened,
            unit_code=c.unit,
            year=c.year,
            code=c.line,
            title=c.title,
            nature=c.nature.value,
            function_code=c.function_code,
            fund_source=c.fund_source.value,
            project_code=c.project,
            **c.meta(),
        )
        return [line], f"budget line {c.line} opened", line

    def _allocate(self, c: AllocateBudget) -> Decision:
        line = self._line(c)
        line.allocate(c.amount, initial=c.initial, **c.meta())
        what = "initial budget" if c.initial else "allocation"
        return [line], f"{what} of {yuan_str(c.amount)} yuan to line {c.line}", line

    def _reduce(self, c: ReduceBudget) -> Decision:
        line = self._line(c)
        line.reduce(c.amount, **c.meta())
        return [line], f"line {c.line} reduced by {yuan_str(c.amount)} yuan", line

    def _transfer(self, c: TransferToEnterprise) -> Decision:
        line = self._line(c)
        line.transfer_to_enterprise(
            c.amount, payee=c.payee, economic_code=c.economic_code, **c.meta()
        )
        return [line], f"{yuan_str(c.amount)} yuan transferred to {c.payee}", line

    def _disburse(self, c: Disburse) -> Decision:
        line = self._line(c)
        line.disburse(
            c.amount,
            payee=c.payee,
            economic_code=c.economic_code,
            three_public=c.three_public,
            procurement_category=c.procurement_category,
            supplier_size=c.supplier_size,
            **c.meta(),
        )
        return [line], f"{yuan_str(c.amount)} yuan paid to {c.payee}", line

    def _claw_back(self, c: ClawBack) -> Decision:
        line = self._line(c)
        line.claw_back(c.amount, from_carryover=c.from_carryover, **c.meta())
        return [line], f"{yuan_str(c.amount)} yuan clawed back from line {c.line}", line

    def _reverse(self, c: ReverseEntry) -> Decision:
        line = self._line(c)
        original = self._money_event_of(line, c.reverses_command_id)
        if original is None:
            raise NotReversible(
                f"line {c.line} has no posting made by command {c.reverses_command_id}"
            )
        line.reverse(original, reason=c.reason, **c.meta())
        return [line], f"posting {c.reverses_command_id} on line {c.line} reversed", line

    def _money_event_of(self, line: BudgetLine, command_id: str) -> BudgetLine.MoneyEvent | None:
        """The money event ``command_id`` posted on ``line``: found through the command's
        record (which names the events it stored), read from the store — or from the
        batch being decided, if the command is in it."""
        record = self._find(CommandRecord, CommandRecord.id_for(command_id))
        if record is None:
            return None
        for ref in record.result.get("events", []):
            if ref["aggregate_id"] != str(line.id):
                continue
            version = int(ref["version"])
            pending = [e for e in line.pending_events if e.originator_version == version]
            event = pending[0] if pending else self.ledger.event_at(line.id, version)
            if isinstance(event, BudgetLine.MoneyEvent):
                return event
        return None

    def _import_prior_year(self, c: ImportPriorYearFigures) -> Decision:
        fiscal_year = self._year_for_posting(c, c.unit, c.year)
        figures = c.figures.model_dump(mode="python")
        figures["three_public"] = {k.value: v for k, v in c.figures.three_public.items()}
        fiscal_year.import_prior_year_figures(figures, **c.meta())
        return [fiscal_year], f"published {c.year - 1} figures recorded for {c.unit}", None

    def _set_three_public_budget(self, c: SetThreePublicBudget) -> Decision:
        fiscal_year = self._year_for_posting(c, c.unit, c.year)
        fiscal_year.set_three_public_budget({k.value: v for k, v in c.amounts.items()}, **c.meta())
        return [fiscal_year], f"three public expenses budget for {c.year} set", None

    def _record_year_facts(self, c: RecordYearFacts) -> Decision:
        fiscal_year = self._year_for_posting(c, c.unit, c.year)
        fiscal_year.record_facts(c.facts.model_dump(mode="python"), **c.meta())
        return [fiscal_year], f"facts of {c.year} recorded for {c.unit}", None

    # --- year-end close ---------------------------------------------------------

    def _start_closing(self, c: StartClosing) -> Decision:
        fiscal_year = self._open_year(c.unit, c.year)
        fiscal_year.start_closing(c.policy, **c.meta())
        touched: list[Aggregate] = [fiscal_year]
        next_id = FiscalYear.id_for(c.unit, c.year + 1)
        if self._find(FiscalYear, next_id) is None:
            next_year = FiscalYear._create(
                FiscalYear.Opened, unit_code=c.unit, year=c.year + 1, **c.meta()
            )
            touched.append(next_year)
        return touched, f"close of {fiscal_year.label} started", None

    def _closing_year(self, unit_code: str, year: int) -> FiscalYear:
        fiscal_year = self._year(unit_code, year)
        if fiscal_year.status is not YearStatus.CLOSING:
            raise CloseBlocked(
                f"{fiscal_year.label} is {fiscal_year.status.value}; its close has not begun"
            )
        return fiscal_year

    def _close_line(self, c: CloseLine) -> Decision:
        self._closing_year(c.unit, c.year)
        line = self._find(BudgetLine, BudgetLine.id_for(c.unit, c.year, c.line))
        if line is None:
            raise UnknownLine(f"budget line {c.line} does not exist for {c.unit} in {c.year}")
        if line.totals.available < 0:  # pragma: no cover - the rules make it impossible
            raise CloseBlocked(f"{line.label} is below zero; it must be corrected first")
        meta = c.meta()
        if c.outcome is Outcome.LAPSE:
            amount = line.lapse(reason=c.rule, **meta)
            return [line], f"{yuan_str(amount)} yuan of line {c.line} lapsed ({c.rule})", line
        next_year = self._year(c.unit, c.year + 1)
        if next_year.status is not YearStatus.OPEN:
            raise CloseBlocked(
                f"{next_year.label} is {next_year.status.value}: the carryover of line {c.line} "
                "has nowhere to go; reopen it first"
            )
        next_line = self._next_year_line(line, meta)
        amount = line.carry_over(to_year=c.year + 1, to_line=c.line, **meta)
        if amount:
            next_line.receive_carryover(amount, from_year=c.year, from_line=c.line, **meta)
        touched: list[Aggregate] = [line, next_line] if amount else [line]
        return touched, f"{yuan_str(amount)} yuan of line {c.line} carried over", line

    def _next_year_line(self, line: BudgetLine, meta: dict[str, Any]) -> BudgetLine:
        """The same line in the next year, opened like this one if it is not there yet."""
        year = line.year + 1
        found = self._find(BudgetLine, BudgetLine.id_for(line.unit_code, year, line.code))
        if found is None:
            return BudgetLine._create(
                BudgetLine.Opened,
                unit_code=line.unit_code,
                year=year,
                code=line.code,
                title=line.title,
                nature=line.nature.value,
                function_code=line.function_code,
                fund_source=line.fund_source,
                project_code=line.project_code,
                **meta,
            )
        same = (found.nature, found.function_code, found.fund_source, found.project_code) == (
            line.nature,
            line.function_code,
            line.fund_source,
            line.project_code,
        )
        if not same:
            raise CloseBlocked(
                f"line {line.code} of {year} exists with another purpose, function code or fund "
                "source; the carryover has nowhere to go"
            )
        return found

    def _finish_closing(self, c: FinishClosing) -> Decision:
        fiscal_year = self._closing_year(c.unit, c.year)
        check_seal(self.ledger, c.sealed_position, c.sealed_hash)
        fiscal_year.close(
            adjustment_until=c.adjustment_until,
            sealed_position=c.sealed_position,
            sealed_hash=c.sealed_hash,
            **c.meta(),
        )
        return [fiscal_year], f"{fiscal_year.label} closed", None

    def _reopen(self, c: ReopenFiscalYear) -> Decision:
        fiscal_year = self._year(c.unit, c.year)
        fiscal_year.reopen(reason=c.reason, **c.meta())
        return [fiscal_year], f"{fiscal_year.label} reopened: {c.reason}", None

    # --- API tokens ------------------------------------------------------------------

    def _issue_token(self, c: IssueToken) -> Decision:
        if self._find(ApiToken, ApiToken.id_for(c.token_id)) is not None:
            raise AlreadyExists(f"token {c.token_id} already exists")
        token = ApiToken._create(
            ApiToken.Issued,
            token_id=c.token_id,
            identity=c.identity,
            role=c.role.value,
            clearance=c.clearance,
            salt=c.salt,
            digest=c.digest,
            **c.meta(),
        )
        return [token], f"token {c.token_id} issued to {c.identity} ({c.role.value})", None

    def _revoke_token(self, c: RevokeToken) -> Decision:
        token = self._find(ApiToken, ApiToken.id_for(c.token_id))
        if token is None:
            raise UnknownToken(f"there is no token {c.token_id}")
        token.revoke(c.reason, **c.meta())
        return [token], f"token {c.token_id} revoked", None
