"""Command handlers: check the rules, produce events, store them with the command record.

``CommandHandler.handle`` is the one path by which anything is posted — the CLI, the
JSON Lines import and the seed demo all go through it. A command either stores all
its events and its :class:`~ledger.aggregates.CommandRecord` in one transaction, or
raises a :class:`~ledger.errors.LedgerError` and stores nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import structlog
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from pydantic import BaseModel

from commands.models import (
    AllocateBudget,
    AnyCommand,
    ClawBack,
    Command,
    Disburse,
    ImportPriorYearFigures,
    LineCommand,
    OpenBudgetLine,
    OpenFiscalYear,
    RecordYearFacts,
    ReduceBudget,
    RegisterProject,
    RegisterUnit,
    ReverseEntry,
    SetThreePublicBudget,
    TransferToEnterprise,
)
from ledger.aggregates import BudgetLine, CommandRecord, FiscalYear, Project, Unit, YearStatus
from ledger.application import Ledger
from ledger.classifications import Nature
from ledger.errors import (
    AlreadyExists,
    CommandIdReused,
    ConcurrentUpdate,
    InvalidInput,
    NatureMismatch,
    NotReversible,
    UnknownLine,
    UnknownProject,
    UnknownUnit,
    YearClosed,
    YearNotOpen,
)
from ledger.money import yuan_str

log = structlog.get_logger("fundflow.commands")

#: How many times a command is re-decided when another writer changed its line first.
MAX_ATTEMPTS = 8


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


class CommandHandler:
    """Decides commands against the ledger and stores what they produce."""

    def __init__(self, ledger: Ledger, *, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.ledger = ledger
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
        }

    # --- the one entry point ------------------------------------------------

    def handle(self, command: AnyCommand) -> CommandResult:
        """Apply ``command`` once. A retry with the same id and content returns the
        original result and writes nothing; with other content it is rejected."""
        started = time.perf_counter()
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
            events = [
                EventRef(
                    type=type(e).__name__,
                    aggregate_id=str(e.originator_id),
                    version=e.originator_version,
                )
                for a in aggregates
                for e in a.pending_events
            ]
            result = CommandResult(
                command_id=command.command_id,
                command_type=command.type,
                status="applied",
                message=message,
                events=events,
                line=None if line is None else line.code,
                available=None if line is None else yuan_str(line.totals.available),
            )
            record = CommandRecord(
                command_id=command.command_id,
                command_type=command.type,
                fingerprint=fingerprint,
                result=result.model_dump(mode="json"),
            )
            try:
                self.ledger.save(*aggregates, record)
            except IntegrityError:
                # Another writer got there first: the same command (its record now
                # exists) or another posting to the same aggregate. Decide again.
                continue
            log.info(
                "command_applied",
                command_id=command.command_id,
                command=command.type,
                line=result.line,
                events=len(events),
                latency_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            return result
        raise ConcurrentUpdate(
            f"command {command.command_id} could not be applied: the line kept changing under "
            f"it ({self.max_attempts} attempts). Nothing was written; send it again."
        )

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
        unit = self.ledger.find(Unit, Unit.id_for(code))
        if unit is None:
            raise UnknownUnit(f"unit {code} is not registered")
        return unit

    def _open_year(self, unit_code: str, year: int) -> FiscalYear:
        self._unit(unit_code)
        fiscal_year = self.ledger.find(FiscalYear, FiscalYear.id_for(unit_code, year))
        if fiscal_year is None:
            raise YearNotOpen(f"fiscal year {year} of unit {unit_code} has not been opened")
        if fiscal_year.status is not YearStatus.OPEN:
            raise YearClosed(
                f"fiscal year {year} of unit {unit_code} is {fiscal_year.status.value}: "
                "nothing more can be posted into it"
            )
        return fiscal_year

    def _line(self, command: LineCommand) -> BudgetLine:
        if command.business_date.year != command.year:
            raise InvalidInput(
                f"business date {command.business_date} is outside fiscal year {command.year}"
            )
        self._open_year(command.unit, command.year)
        line = self.ledger.find(
            BudgetLine, BudgetLine.id_for(command.unit, command.year, command.line)
        )
        if line is None:
            raise UnknownLine(
                f"budget line {command.line} does not exist for unit {command.unit} in "
                f"{command.year}"
            )
        return line

    # --- deciders -------------------------------------------------------------

    def _register_unit(self, c: RegisterUnit) -> Decision:
        if self.ledger.find(Unit, Unit.id_for(c.code)) is not None:
            raise AlreadyExists(f"unit {c.code} is already registered")
        unit = Unit._create(Unit.Registered, code=c.code, name=c.name, kind=c.kind, **c.meta())
        return [unit], f"unit {c.code} {c.name} registered", None

    def _open_fiscal_year(self, c: OpenFiscalYear) -> Decision:
        self._unit(c.unit)
        if self.ledger.find(FiscalYear, FiscalYear.id_for(c.unit, c.year)) is not None:
            raise AlreadyExists(f"fiscal year {c.year} of unit {c.unit} is already open")
        year = FiscalYear._create(FiscalYear.Opened, unit_code=c.unit, year=c.year, **c.meta())
        return [year], f"fiscal year {c.year} of unit {c.unit} opened", None

    def _register_project(self, c: RegisterProject) -> Decision:
        self._unit(c.unit)
        if self.ledger.find(Project, Project.id_for(c.unit, c.code)) is not None:
            raise AlreadyExists(f"project {c.code} of unit {c.unit} is already registered")
        project = Project._create(
            Project.Registered,
            unit_code=c.unit,
            code=c.code,
            name=c.name,
            implementing_units=c.implementing_units,
            classified=c.classified,
            **c.meta(),
        )
        return [project], f"project {c.code} registered", None

    def _open_budget_line(self, c: OpenBudgetLine) -> Decision:
        self._open_year(c.unit, c.year)
        if c.nature is Nature.PROJECT:
            if c.project is None:
                raise NatureMismatch("a project line needs the project it funds")
            if self.ledger.find(Project, Project.id_for(c.unit, c.project)) is None:
                raise UnknownProject(f"project {c.project} of unit {c.unit} is not registered")
        elif c.project is not None:
            raise NatureMismatch("a basic expenditure line cannot belong to a project")
        if self.ledger.find(BudgetLine, BudgetLine.id_for(c.unit, c.year, c.line)) is not None:
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
        line.claw_back(c.amount, **c.meta())
        return [line], f"{yuan_str(c.amount)} yuan clawed back from line {c.line}", line

    def _reverse(self, c: ReverseEntry) -> Decision:
        line = self._line(c)
        version = line.entry_for_command(c.reverses_command_id)
        if version is None:
            raise NotReversible(
                f"line {c.line} has no posting made by command {c.reverses_command_id}"
            )
        line.reverse(version, reason=c.reason, **c.meta())
        return [line], f"posting {c.reverses_command_id} on line {c.line} reversed", line

    def _import_prior_year(self, c: ImportPriorYearFigures) -> Decision:
        fiscal_year = self._open_year(c.unit, c.year)
        figures = c.figures.model_dump(mode="python")
        figures["three_public"] = {k.value: v for k, v in c.figures.three_public.items()}
        fiscal_year.import_prior_year_figures(figures, **c.meta())
        return [fiscal_year], f"published {c.year - 1} figures recorded for {c.unit}", None

    def _set_three_public_budget(self, c: SetThreePublicBudget) -> Decision:
        fiscal_year = self._open_year(c.unit, c.year)
        fiscal_year.set_three_public_budget({k.value: v for k, v in c.amounts.items()}, **c.meta())
        return [fiscal_year], f"three public expenses budget for {c.year} set", None

    def _record_year_facts(self, c: RecordYearFacts) -> Decision:
        fiscal_year = self._open_year(c.unit, c.year)
        fiscal_year.record_facts(c.facts.model_dump(mode="python"), **c.meta())
        return [fiscal_year], f"facts of {c.year} recorded for {c.unit}", None
