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
from weakref import WeakKeyDictionary

import structlog
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from pydantic import BaseModel

from commands.close_corrections import CloseCorrection, plan_close_correction
from commands.models import (
    AbandonClosing,
    AllocateBudget,
    AnyCommand,
    AssignUnitToDepartment,
    ClawBack,
    CloseLine,
    Command,
    DeclareDepartment,
    Disburse,
    DistributeBalance,
    FinishClosing,
    ImportCatalogue,
    ImportPriorYearFigures,
    IssueToken,
    LineCommand,
    OpenBalance,
    OpenBudgetLine,
    OpenFiscalYear,
    RecordReceipt,
    RecordYearFacts,
    ReduceBudget,
    RegisterProject,
    RegisterUnit,
    ReopenFiscalYear,
    ResumeClosing,
    ReverseEntry,
    RevokeToken,
    SetThreePublicBudget,
    StartClosing,
    TransferToEnterprise,
    UseNonFiscalBalance,
    command_unit,
)
from ledger.aggregates import (
    ApiToken,
    BudgetLine,
    ClassificationCatalogue,
    CommandRecord,
    Department,
    DepartmentMembership,
    FiscalYear,
    NonFiscalReserve,
    Project,
    Unit,
    UnitName,
    YearStatus,
    resolve_unit_code,
)
from ledger.aggregates.command_record import CLIENT as CLIENT_NAMESPACE
from ledger.aggregates.command_record import NO_UNIT
from ledger.aggregates.command_record import SYSTEM as SYSTEM_NAMESPACE
from ledger.application import Ledger
from ledger.classifications import Nature
from ledger.classifications.catalogue import Catalogue, CatalogueKind, Row, build
from ledger.classifications.shipped import shipped_for
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
    OutOfScope,
    ProjectEnded,
    TakeOnClosed,
    UnknownDepartment,
    UnknownLine,
    UnknownProject,
    UnknownToken,
    UnknownUnit,
    YearClosed,
    YearNotOpen,
)
from ledger.money import yuan_str
from ledger.roles import ALL_UNITS_ROLES, SYSTEM, Actor, Role
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
    classified: bool = False
    """The command is about a classified (涉密) project or one of its lines: see
    :meth:`shown_to`."""

    def shown_to(self, clearance: bool) -> CommandResult:
        """The result as a caller may read it: without clearance, a result about a
        classified line names no line, no payee and no balance."""
        if clearance or not self.classified:
            return self
        return self.model_copy(
            update={
                "message": f"{self.command_type} applied on a classified (涉密) line; "
                "its details need clearance",
                "line": None,
                "available": None,
            }
        )


#: Per ledger, whether each project looked up is classified (a registered project's
#: classification never changes), so that a posting does not look its project up again.
_CLASSIFIED: WeakKeyDictionary[Ledger, dict[UUID, bool]] = WeakKeyDictionary()


def _logged_id(command: Command, classified: bool) -> str:
    """The command id for the log; for a classified (涉密) command, which may be named
    after its document number, the id of its command record instead."""
    if classified:
        scope = command_unit(command) or _unitless_scope(command)
        return f"record:{CommandRecord.id_for(CLIENT_NAMESPACE, scope, command.command_id)}"
    return command.command_id


Decision = tuple[list[Aggregate], str, BudgetLine | None]
#: Per ledger, imported catalogues as built, by (aggregate id, version, digest): a posting
#: does not rebuild its year's catalogue from the aggregate every time.
_CATALOGUES: WeakKeyDictionary[Ledger, dict[tuple[UUID, int, str], Catalogue]] = WeakKeyDictionary()
A = TypeVar("A", bound=Aggregate)


@dataclass
class BatchOutcome:
    """What a batch did: the results of the commands applied (or recognised as retries),
    and the first rejected one, if any, by its index in the batch."""

    results: list[CommandResult] = field(default_factory=list)
    error: LedgerError | None = None
    failed_index: int | None = None


def _unitless_scope(command: Command) -> str:
    """Where the id of a command about no unit lives: a department's own commands per
    department, a catalogue's per kind and year, the rest (tokens) together — so that an id
    taken for one cannot block another."""
    if isinstance(command, DeclareDepartment):
        return f"department:{command.code}"
    if isinstance(command, ImportCatalogue):
        return f"catalogue:{command.kind.value}:{command.year}"
    return NO_UNIT


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
        self._batch_catalogues: dict[tuple[str, int], Catalogue] = {}
        """Catalogues looked up in the batch being decided (absent ones too: a batch of
        payments asks the store once, not once per payment)."""
        self.actor = actor
        self.today = today
        self.max_attempts = max_attempts
        self._deciders: dict[type[Command], Callable[[Any], Decision]] = {
            RegisterUnit: self._register_unit,
            DeclareDepartment: self._declare_department,
            AssignUnitToDepartment: self._assign_unit_to_department,
            OpenFiscalYear: self._open_fiscal_year,
            RegisterProject: self._register_project,
            OpenBudgetLine: self._open_budget_line,
            AllocateBudget: self._allocate,
            ReduceBudget: self._reduce,
            TransferToEnterprise: self._transfer,
            Disburse: self._disburse,
            ClawBack: self._claw_back,
            ReverseEntry: self._reverse,
            OpenBalance: self._open_balance,
            RecordReceipt: self._record_receipt,
            UseNonFiscalBalance: self._use_non_fiscal_balance,
            DistributeBalance: self._distribute_balance,
            ImportPriorYearFigures: self._import_prior_year,
            SetThreePublicBudget: self._set_three_public_budget,
            RecordYearFacts: self._record_year_facts,
            ImportCatalogue: self._import_catalogue,
            StartClosing: self._start_closing,
            CloseLine: self._close_line,
            FinishClosing: self._finish_closing,
            ResumeClosing: self._resume_closing,
            AbandonClosing: self._abandon_closing,
            ReopenFiscalYear: self._reopen,
            IssueToken: self._issue_token,
            RevokeToken: self._revoke_token,
        }

    # --- the one entry point ------------------------------------------------

    def handle(self, command: AnyCommand, *, system: bool = False) -> CommandResult:
        """Apply ``command`` once. A retry with the same id and content returns the
        original result and writes nothing; with other content it is rejected.

        A refusal is not recorded: it changed nothing, so the same command id may be sent
        again, and it is applied if the books allow it then (e.g. once the allocation that
        was missing has arrived). Only an applied command consumes its id."""
        started = time.perf_counter()
        self._require_role(command, system)
        named = command_unit(command)
        command = self._resolved(command)
        self._require_scope(command, named)
        fingerprint = command.fingerprint()
        record_id = self._record_id(command, system)
        for _attempt in range(self.max_attempts):
            record = self.ledger.find(CommandRecord, record_id)
            if record is not None:
                return self._replay(record, command, fingerprint)
            try:
                aggregates, message, line = self._deciders[type(command)](command)
            except Exception as error:
                if isinstance(error, LedgerError):
                    self._redact(command, error)
                log.info(
                    "command_rejected",
                    command_id=_logged_id(command, getattr(error, "redacted", None) is not None),
                    command=command.type,
                    error=getattr(error, "code", type(error).__name__),
                    reason=error.message_for(False)
                    if isinstance(error, LedgerError)
                    else type(error).__name__,
                )
                raise
            result, record = self._applied(command, fingerprint, aggregates, message, line, system)
            try:
                self.ledger.save(*aggregates, record)
            except IntegrityError:
                # Another writer got there first: the same command (its record now
                # exists) or another posting to the same aggregate. Decide again, after
                # a short random pause so that contenders do not collide again.
                time.sleep(random.uniform(0, min(0.05, 0.002 * 2**_attempt)))
                continue
            result.classified = self._classified(command, line)
            log.info(
                "command_applied",
                command_id=_logged_id(command, result.classified),
                command=command.type,
                line=None if result.classified else result.line,
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
        system: bool = False,
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
        namespace, scope = self._namespace(command, system)
        record = CommandRecord(
            namespace=namespace,
            scope=scope,
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
            self._batch_catalogues = {}
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
        if working is None:  # pragma: no cover - handle_batch sets it
            raise RuntimeError("a batch is decided inside handle_batch")
        named = [command_unit(c) for c in commands]
        codes: dict[str, str | None] = {}  # one look-up per unit named, not per command
        resolved = [self._resolve_unit(c, codes) for c in commands]
        commands = [c for c, _ in resolved]
        record_ids = [self._record_id(c, False) for c in commands]
        # One query tells which commands were applied before; the others need no look-up.
        known = self.ledger.known_ids(record_ids)
        for index, command in enumerate(commands):
            if actors is not None:
                self.actor = actors[index]
            try:
                record_id = record_ids[index]
                looked_up = record_id in known or record_id in working
                if not resolved[index][1]:
                    # maybe named by a name registered earlier in this batch: resolve it now
                    again = self._resolved(command)
                    if again is not command:  # a name: the record id is the code's
                        command = again
                        record_id, looked_up = self._record_id(command, False), True
                self._require_role(command, False)
                self._require_scope(command, named[index])
                fingerprint = command.fingerprint()
                record = self._find(CommandRecord, record_id) if looked_up else None
                if record is not None:
                    outcome.results.append(self._replay(record, command, fingerprint))
                    continue
                aggregates, message, line = self._deciders[type(command)](command)
            except LedgerError as error:
                self._redact(command, error)
                outcome.error, outcome.failed_index = error, index
                break
            result, record = self._applied(command, fingerprint, aggregates, message, line)
            result.classified = self._classified(command, line)
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
        classified = self._classified(command)
        log.info(
            "command_already_applied",
            command_id=_logged_id(command, classified),
            command=command.type,
        )
        return original.model_copy(update={"status": "already_applied", "classified": classified})

    # --- classified (涉密) projects --------------------------------------------------

    def _classified(self, command: Command, line: BudgetLine | None = None) -> bool:
        """Whether ``command`` is about a classified project or one of its lines (``line``:
        the command's line, when the caller has it at hand)."""
        unit = getattr(command, "unit", None)
        project: str | None = None
        if isinstance(command, RegisterProject):
            if command.classified:
                return True
            project = command.code
        elif isinstance(command, OpenBudgetLine):
            project = command.project
        elif isinstance(command, LineCommand):
            if line is None:
                line = self._find(
                    BudgetLine, BudgetLine.id_for(command.unit, command.year, command.line)
                )
            project = None if line is None else line.project_code
        if unit is None or project is None:
            return False
        known = _CLASSIFIED.setdefault(self.ledger, {})
        project_id = Project.id_for(unit, project)
        if project_id not in known:
            found = self._find(Project, project_id)
            if found is None:
                return False
            if found.pending_events:  # registered in this batch, not stored yet
                return bool(found.classified)
            known[project_id] = bool(found.classified)  # never changes once registered
        return known[project_id]

    def _redact(self, command: Command, error: LedgerError) -> None:
        """Give an error about a classified line or project its redacted twin: the same
        code, a message that names no line, title or balance (see ledger.errors)."""
        if error.redacted is None and self._classified(command):
            what = "line" if isinstance(command, LineCommand) else "project"
            error.redacted = (
                f"the {command.type.replace('_', ' ')} was refused ({error.code}) on a "
                f"classified (涉密) {what}; its details need clearance"
            )

    # --- namespaces, unit names and scopes ---------------------------------------

    def _resolved(self, command: AnyCommand) -> AnyCommand:
        """The command with its unit named by code, where the client gave the unit's full
        name (a unit may be named either way wherever one is asked for)."""
        return self._resolve_unit(command)[0]

    def _resolve_unit(
        self, command: AnyCommand, codes: dict[str, str | None] | None = None
    ) -> tuple[AnyCommand, bool]:
        """:meth:`_resolved`, and whether the unit was found (or the command names none);
        ``codes`` remembers the units already looked up (while nothing is decided)."""
        unit = getattr(command, "unit", None)
        if not isinstance(unit, str):
            return command, True
        if codes is None:
            code = self.unit_code(unit)
        elif unit in codes:
            code = codes[unit]
        else:
            code = codes[unit] = self.unit_code(unit)
        if code is None or code == unit:
            return command, code is not None
        return command.model_copy(update={"unit": code}), True

    def unit_code(self, unit: str) -> str | None:
        """The code of the unit named ``unit`` (its code or its full name), or None."""
        return resolve_unit_code(unit, self._find)

    def _require_scope(self, command: Command, named: str | None) -> None:
        """Refuse a command about a unit outside the actor's scope (``named``: the unit as
        the client named it, which is all the refusal repeats)."""
        unit = command_unit(command)
        if unit is not None:
            self.actor.require_scope(unit, named=named)

    def _require_role(self, command: Command, system: bool) -> None:
        """The actor's role must allow the command; a step of the close that does not come
        from the close job itself (an imported history's closes) needs an admin."""
        if command.system_only and not system and not self.actor.at_least(Role.ADMIN):
            raise Forbidden(
                f"{self.actor.identity} ({self.actor.role.value}) may not import the steps of "
                "a year-end close: that needs the admin role (close a year with "
                "fundflow close-year)"
            )
        self.actor.require(command.type)

    @staticmethod
    def _namespace(command: Command, system: bool) -> tuple[str, str]:
        """Where the command's id lives: the system's (the close job's own steps) or the
        clients', per unit (everything sent from outside, imported close steps too)."""
        namespace = SYSTEM_NAMESPACE if system else CLIENT_NAMESPACE
        return namespace, command_unit(command) or _unitless_scope(command)

    def _record_id(self, command: Command, system: bool) -> UUID:
        return CommandRecord.id_for(*self._namespace(command, system), command.command_id)

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
        if self._find(UnitName, UnitName.id_for(c.name)) is not None:
            raise AlreadyExists(f"a unit named {c.name} is already registered")
        # A unit is named by its code or its name: neither may be another unit's other one.
        if c.name != c.code and self._find(Unit, Unit.id_for(c.name)) is not None:
            raise AlreadyExists(
                f"{c.name} is the code of another unit: a unit's name may not be another's code"
            )
        if self._find(UnitName, UnitName.id_for(c.code)) is not None:
            raise AlreadyExists(
                f"{c.code} is the name of another unit: a unit's code may not be another's name"
            )
        unit = Unit._create(Unit.Registered, code=c.code, name=c.name, kind=c.kind, **c.meta())
        claim = UnitName._create(UnitName.Claimed, name=c.name, code=c.code)
        return [unit, claim], f"unit {c.code} {c.name} registered", None

    def _require_unscoped(self, what: str) -> None:
        """Departments span units: only an admin acting for every unit declares them and
        assigns units (checked before anything is looked up, so a scoped admin learns
        nothing of other units' departments)."""
        if self.actor.units is not None:
            raise OutOfScope(
                f"{self.actor.identity} is scoped to some units; {what} spans units and is "
                "done by an admin acting for every unit"
            )

    def _declare_department(self, c: DeclareDepartment) -> Decision:
        self._require_unscoped("declaring a department")
        if self._find(Department, Department.id_for(c.code)) is not None:
            raise AlreadyExists(f"department {c.code} is already declared")
        department = Department._create(Department.Declared, code=c.code, name=c.name, **c.meta())
        return [department], f"department {c.code} {c.name} declared", None

    def _assign_unit_to_department(self, c: AssignUnitToDepartment) -> Decision:
        self._require_unscoped("assigning a unit to a department")
        department = self._find(Department, Department.id_for(c.department))
        if department is None:
            raise UnknownDepartment(f"department {c.department} is not declared")
        self._unit(c.unit)
        claim = self._find(DepartmentMembership, DepartmentMembership.id_for(c.unit))
        if claim is not None:
            raise AlreadyExists(
                f"unit {c.unit} already belongs to department {claim.department_code}: a unit "
                "is consolidated into one department only"
            )
        department.assign(c.unit, **c.meta())
        claim = DepartmentMembership._create(
            DepartmentMembership.Claimed, unit_code=c.unit, department_code=c.department
        )
        return [department, claim], f"unit {c.unit} assigned to department {c.department}", None

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
            project = self._find(Project, Project.id_for(c.unit, c.project))
            if project is None:
                raise UnknownProject(f"project {c.project} of unit {c.unit} is not registered")
            if not project.continues_after(c.year - 1) and c.beyond_final_year is None:
                raise ProjectEnded(
                    f"project {c.project} ended with {project.final_year}, its final year: no "
                    f"line of it can be opened for {c.year}. If the project was extended, "
                    "give the reason and its document (--beyond-final-year REASON)"
                )
        elif c.project is not None:
            raise NatureMismatch("a basic expenditure line cannot belong to a project")
        self.catalogue(CatalogueKind.FUNCTION, c.year).require_item(c.function_code)
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
            beyond_final_year=c.beyond_final_year,
            **c.meta(),
        )
        return [line], f"budget line {c.line} opened", line

    def _close_correction(self, c: LineCommand, line: BudgetLine) -> CloseCorrection:
        """How a posting into ``line`` moves its year's close: nothing in an open year; a
        correction into a closed year re-settles the line (commands/close_corrections.py)."""
        return plan_close_correction(self, c, line)

    def _allocate(self, c: AllocateBudget) -> Decision:
        line = self._line(c)
        close = self._close_correction(c, line)
        line.allocate(c.amount, initial=c.initial, **c.meta())
        what = "initial budget" if c.initial else "allocation"
        message = f"{what} of {yuan_str(c.amount)} yuan to line {c.line}"
        return [line, *close.settle(), *self._began(c)], message, line

    def _reduce(self, c: ReduceBudget) -> Decision:
        line = self._line(c)
        close = self._close_correction(c, line)
        line.reduce(c.amount, close=close.gives_back, **c.meta())
        message = f"line {c.line} reduced by {yuan_str(c.amount)} yuan"
        return [line, *close.settle(), *self._began(c)], message, line

    def _transfer(self, c: TransferToEnterprise) -> Decision:
        line = self._line(c)
        self.catalogue(CatalogueKind.ECONOMIC_DEPARTMENT, c.year).require_item(c.economic_code)
        close = self._close_correction(c, line)
        line.transfer_to_enterprise(
            c.amount,
            payee=c.payee,
            economic_code=c.economic_code,
            close=close.gives_back,
            **c.meta(),
        )
        message = f"{yuan_str(c.amount)} yuan transferred to {c.payee}"
        return [line, *close.settle(), *self._began(c)], message, line

    def _disburse(self, c: Disburse) -> Decision:
        line = self._line(c)
        self.catalogue(CatalogueKind.ECONOMIC_DEPARTMENT, c.year).require_item(c.economic_code)
        close = self._close_correction(c, line)
        line.disburse(
            c.amount,
            payee=c.payee,
            economic_code=c.economic_code,
            three_public=c.three_public,
            procurement_category=c.procurement_category,
            supplier_size=c.supplier_size,
            close=close.gives_back,
            **c.meta(),
        )
        message = f"{yuan_str(c.amount)} yuan paid to {c.payee}"
        return [line, *close.settle(), *self._began(c)], message, line

    def _claw_back(self, c: ClawBack) -> Decision:
        line = self._line(c)
        close = self._close_correction(c, line)
        line.claw_back(
            c.amount, from_carryover=c.from_carryover, close=close.gives_back, **c.meta()
        )
        message = f"{yuan_str(c.amount)} yuan clawed back from line {c.line}"
        return [line, *close.settle(), *self._began(c)], message, line

    def _reverse(self, c: ReverseEntry) -> Decision:
        line = self._line(c)
        record = self._client_record(line.unit_code, c.reverses_command_id)
        original = None if record is None else self._money_event_of(line, record)
        if original is None:
            if record is not None and record.command_type == "reverse_entry":
                raise NotReversible(
                    f"command {c.reverses_command_id} was itself a reversal (红字冲销): a "
                    "reversal cannot itself be reversed; post the original again if it was "
                    "reversed in error"
                )
            raise NotReversible(
                f"line {c.line} has no posting made by command {c.reverses_command_id}"
            )
        close = self._close_correction(c, line)
        line.require_reversible(original, close.gives_back)
        reserve = self._reserve_for_reversal(line.unit_code, original)
        line.reverse(original, reason=c.reason, close=close.gives_back, **c.meta())
        moved: list[Aggregate] = []
        if reserve is not None:
            reserve[0].move(reserve[1], what="reversing that distribution (结余分配)")
            moved.append(reserve[0])
        message = f"posting {c.reverses_command_id} on line {c.line} reversed"
        return [line, *moved, *close.settle(), *self._began(c, original)], message, line

    def _began(
        self, c: LineCommand, original: BudgetLine.MoneyEvent | None = None
    ) -> list[Aggregate]:
        """The year, if this posting is its first (recorded on it: take-ons end). A take-on,
        or the reversal of one, does not count."""
        if isinstance(c, OpenBalance) or isinstance(original, BudgetLine.OpeningBalanceTaken):
            return []
        fiscal_year = self._find(FiscalYear, FiscalYear.id_for(c.unit, c.year))
        if fiscal_year is None or fiscal_year.status is not YearStatus.OPEN:
            return []
        meta = Command.meta(c)  # the year's event takes the posting's common fields
        return [fiscal_year] if fiscal_year.begin_postings(**meta) else []

    def _open_balance(self, c: OpenBalance) -> Decision:
        if c.adjustment_reason is not None:
            raise AdjustmentNotAllowed(
                "opening balances are taken on in an open year, before its first posting"
            )
        line = self._line(c)
        fiscal_year = self._open_year(c.unit, c.year)
        if self._find(FiscalYear, FiscalYear.id_for(c.unit, c.year - 1)) is not None:
            raise TakeOnClosed(
                f"{c.year - 1} of unit {c.unit} is in the ledger: the opening balances of "
                f"{c.year} are what its close carried over, not a take-on"
            )
        if fiscal_year.postings_began and c.corrects is None:
            raise TakeOnClosed(
                f"{fiscal_year.label} already has postings: opening balances are taken on "
                "before the year's first posting. To correct a take-on, reverse it "
                "(reverse_entry naming its command id) and take the right balance on again "
                "with corrects naming the reversed take-on"
            )
        if c.corrects is not None:
            record = self._client_record(line.unit_code, c.corrects)
            original = None if record is None else self._money_event_of(line, record)
            if not isinstance(original, BudgetLine.OpeningBalanceTaken):
                raise TakeOnClosed(
                    f"command {c.corrects} took on no opening balance of line {c.line}: "
                    "a correction names the take-on it replaces"
                )
            if original.originator_version not in line.reversed_versions:
                raise TakeOnClosed(
                    f"the take-on {c.corrects} of line {c.line} stands: reverse it first "
                    "(reverse_entry), then take the right balance on with corrects"
                )
            if c.corrects in line.take_on_corrected:
                raise TakeOnClosed(
                    f"the take-on {c.corrects} of line {c.line} was already corrected"
                )
        line.take_on(c.amount, corrects=c.corrects, **c.meta())
        message = f"opening balance of {yuan_str(c.amount)} yuan taken on for line {c.line}"
        return [line], message, line

    def _record_receipt(self, c: RecordReceipt) -> Decision:
        line = self._line(c)
        close = self._close_correction(c, line)
        line.receive(c.amount, payer=c.payer, **c.meta())
        message = f"{yuan_str(c.amount)} yuan received from {c.payer} on line {c.line}"
        return [line, *close.settle(), *self._began(c)], message, line

    def _use_non_fiscal_balance(self, c: UseNonFiscalBalance) -> Decision:
        line = self._line(c)
        close = self._close_correction(c, line)
        reserve = self._reserve(line.unit_code)
        reserve.require(-c.amount, what="使用非财政拨款结余")  # before anything is triggered
        line.use_non_fiscal_balance(c.amount, **c.meta())
        reserve.move(-c.amount, what="使用非财政拨款结余")
        message = f"{yuan_str(c.amount)} yuan of non-fiscal balance drawn into line {c.line}"
        return [line, reserve, *close.settle(), *self._began(c)], message, line

    def _distribute_balance(self, c: DistributeBalance) -> Decision:
        line = self._line(c)
        close = self._close_correction(c, line)
        line.distribute_balance(c.amount, purpose=c.purpose, close=close.gives_back, **c.meta())
        reserve = self._reserve(line.unit_code)
        reserve.move(c.amount, what="结余分配")
        message = f"{yuan_str(c.amount)} yuan of surplus of line {c.line} distributed"
        return [line, reserve, *close.settle(), *self._began(c)], message, line

    def _reserve(self, unit_code: str) -> NonFiscalReserve:
        """The unit's non-fiscal balance (opened empty at its first movement)."""
        found = self._find(NonFiscalReserve, NonFiscalReserve.id_for(unit_code))
        if found is None:
            return NonFiscalReserve._create(NonFiscalReserve.Opened, unit_code=unit_code)
        return found

    def _reserve_for_reversal(
        self, unit_code: str, original: BudgetLine.MoneyEvent
    ) -> tuple[NonFiscalReserve, int] | None:
        """Reversing a draw gives it back to the unit's non-fiscal balance; reversing a
        distribution takes it out again (refused here, before anything is triggered, if it
        was drawn since)."""
        if isinstance(original, BudgetLine.NonFiscalBalanceUsed):
            delta = original.amount
        elif isinstance(original, BudgetLine.BalanceDistributed):
            delta = -original.amount
        else:
            return None
        reserve = self._reserve(unit_code)
        reserve.require(delta, what="reversing that distribution (结余分配)")
        return reserve, delta

    def _client_record(self, unit_code: str, command_id: str) -> CommandRecord | None:
        """The record of a client's command of ``unit_code`` (from the batch being decided,
        if it is there, else from the store)."""
        return self._find(
            CommandRecord, CommandRecord.id_for(CLIENT_NAMESPACE, unit_code, command_id)
        )

    def _money_event_of(
        self, line: BudgetLine, record: CommandRecord
    ) -> BudgetLine.MoneyEvent | None:
        """The money event the recorded command posted on ``line``: found through its
        record (which names the events it stored), read from the store — or from the
        batch being decided, if the command is in it."""
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
        if c.figures.three_public is not None:
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

    # --- classification catalogues ---------------------------------------------------

    def catalogue(self, kind: CatalogueKind, year: int) -> Catalogue:
        """The catalogue that checks codes of ``year`` (ledger/classifications/shipped.py
        ``resolve``): the one imported for that year, else the shipped one that stands
        for it."""
        if self._working is not None and (kind.value, year) in self._batch_catalogues:
            return self._batch_catalogues[(kind.value, year)]
        found = self._find(ClassificationCatalogue, ClassificationCatalogue.id_for(kind, year))
        if found is None:
            catalogue = shipped_for(kind, year)
            if self._working is not None:
                self._batch_catalogues[(kind.value, year)] = catalogue
            return catalogue
        built = _CATALOGUES.setdefault(self.ledger, {})
        key = (found.id, found.version, found.digest)
        cached = built.get(key)
        if cached is None:
            if len(built) > 32:
                built.clear()
            cached = built[key] = found.catalogue()
        return cached

    def _import_catalogue(self, c: ImportCatalogue) -> Decision:
        if self.actor.units is not None:
            raise OutOfScope(
                f"{self.actor.identity} is scoped to some units; a classification catalogue "
                "serves every unit and is loaded by an unscoped admin"
            )
        catalogue = build(
            c.kind,
            c.year,
            [Row(i, code, name) for i, (code, name) in enumerate(c.entries, start=1)],
            [Row(i, old, new) for i, (old, new) in enumerate(c.mapping.items(), start=1)],
        )
        what = f"the {c.year} {c.kind.value} catalogue ({len(catalogue.names)} codes)"
        self._batch_catalogues.pop((c.kind.value, c.year), None)
        found = self._find(ClassificationCatalogue, ClassificationCatalogue.id_for(c.kind, c.year))
        if found is None:
            created = ClassificationCatalogue._create(
                ClassificationCatalogue.Imported,
                kind=c.kind.value,
                year=c.year,
                entries=[[code, name] for code, name in sorted(catalogue.names.items())],
                mapping=dict(catalogue.mapping),
                source=c.source,
                digest=catalogue.digest,
                **c.meta(),
            )
            return [created], f"{what} loaded from {c.source}", None
        if found.digest == catalogue.digest:
            return [found], f"{what} is already loaded, unchanged", None
        found.replace(catalogue, source=c.source, **c.meta())
        return [found], f"{what} loaded from {c.source}, replacing the one loaded before", None

    # --- year-end close ---------------------------------------------------------

    def _start_closing(self, c: StartClosing) -> Decision:
        fiscal_year = self._open_year(c.unit, c.year)
        year_end = date(c.year, 12, 31)
        if self.today() < year_end and c.before_year_end is None:
            raise CloseBlocked(
                f"{fiscal_year.label} does not end until {year_end}; to close it before its "
                "31 December, give the reason (CLI --before-year-end REASON; HTTP body field "
                "before_year_end)"
            )
        fiscal_year.start_closing(c.policy, before_year_end=c.before_year_end, **c.meta())
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

    def next_year_function_code(self, code: str, year: int) -> str:
        """The function item a line booked to ``code`` in the year before goes on with in
        ``year``: the same code, or where ``year``'s catalogue's mapping moved it. Refused
        (the close is blocked before it starts) when that catalogue has neither."""
        catalogue = self.catalogue(CatalogueKind.FUNCTION, year)
        moved = catalogue.mapping.get(code, code)
        if len(moved) != 7 or moved not in catalogue.names:
            raise CloseBlocked(
                f"function code {code} is not in the {year} catalogue ({catalogue.origin}) and "
                f"its mapping does not say where it went: a carryover into {year} has no "
                f"function item. Load {year}'s catalogue with the mapping of {year - 1}'s "
                f"codes (fundflow codes import FILE --year {year} --mapping MAP), then close"
            )
        return moved

    def _next_year_line(self, line: BudgetLine, meta: dict[str, Any]) -> BudgetLine:
        """The same line in the next year, opened like this one if it is not there yet
        (booked to the function item its code became in the next year's catalogue)."""
        year = line.year + 1
        function_code = self.next_year_function_code(line.function_code, year)
        found = self._find(BudgetLine, BudgetLine.id_for(line.unit_code, year, line.code))
        if found is None:
            return BudgetLine._create(
                BudgetLine.Opened,
                unit_code=line.unit_code,
                year=year,
                code=line.code,
                title=line.title,
                nature=line.nature.value,
                function_code=function_code,
                fund_source=line.fund_source,
                project_code=line.project_code,
                **meta,
            )
        same = (found.nature, found.function_code, found.fund_source, found.project_code) == (
            line.nature,
            function_code,
            line.fund_source,
            line.project_code,
        )
        if not same:
            raise CloseBlocked(
                f"line {line.code} of {year} exists with another purpose, function code or fund "
                "source; the carryover has nowhere to go. An admin abandons this close "
                "(--abandon --reason …) until the line is sorted out"
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

    def _resume_closing(self, c: ResumeClosing) -> Decision:
        fiscal_year = self._closing_year(c.unit, c.year)
        fiscal_year.resume_closing(reason=c.reason, **c.meta())
        return [fiscal_year], f"the close of {fiscal_year.label} may go on: {c.reason}", None

    def _abandon_closing(self, c: AbandonClosing) -> Decision:
        fiscal_year = self._closing_year(c.unit, c.year)
        fiscal_year.abandon_closing(reason=c.reason, **c.meta())
        return [fiscal_year], f"the close of {fiscal_year.label} abandoned: {c.reason}", None

    def _reopen(self, c: ReopenFiscalYear) -> Decision:
        fiscal_year = self._year(c.unit, c.year)
        fiscal_year.reopen(reason=c.reason, **c.meta())
        return [fiscal_year], f"{fiscal_year.label} reopened: {c.reason}", None

    # --- API tokens ------------------------------------------------------------------

    def _issue_token(self, c: IssueToken) -> Decision:
        if self._find(ApiToken, ApiToken.id_for(c.token_id)) is not None:
            raise AlreadyExists(f"token {c.token_id} already exists")
        if not c.units and c.role not in ALL_UNITS_ROLES:
            raise InvalidInput(
                f"a {c.role.value} token belongs to the units it works for: name at least one "
                "(--unit, repeatable); only auditors and admins may act in every unit"
            )
        units: list[str] = []
        for ref in c.units:
            code = self.unit_code(ref)
            if code is None:
                if self.actor.units is not None:
                    self.actor.require_scope(ref, named=ref)
                raise UnknownUnit(f"unit {ref} is not registered")
            self.actor.require_scope(code, named=ref)
            units.append(code)
        if not units and self.actor.units is not None:
            raise OutOfScope(
                f"{self.actor.identity} is scoped to some units and may not issue a token for "
                "every unit"
            )
        token = ApiToken._create(
            ApiToken.Issued,
            token_id=c.token_id,
            identity=c.identity,
            role=c.role.value,
            clearance=c.clearance,
            units=sorted(set(units)),
            salt=c.salt,
            digest=c.digest,
            **c.meta(),
        )
        return [token], f"token {c.token_id} issued to {c.identity} ({c.role.value})", None

    def _revoke_token(self, c: RevokeToken) -> Decision:
        token = self._find(ApiToken, ApiToken.id_for(c.token_id))
        if token is None:
            raise UnknownToken(f"there is no token {c.token_id}")
        if self.actor.units is not None and not (
            token.units and set(token.units) <= self.actor.units
        ):
            raise OutOfScope(
                f"{self.actor.identity} may not revoke token {c.token_id}: it reaches units "
                "outside this user's scope"
            )
        token.revoke(c.reason, **c.meta())
        return [token], f"token {c.token_id} revoked", None
