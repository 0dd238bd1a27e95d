"""``fundflow``: the command line. Thin: parse options, build a command, call the handler,
print the result or the clerk-readable reason it was rejected (exit status 1)."""

from __future__ import annotations

import json
import os
import signal
import sys
import uuid
from datetime import date
from enum import Enum
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import ValidationError

from commands.catalogues import load_catalogue, read_catalogue, search
from commands.chain_cli import audit_chain, chain_key_app, parse_heads, write_head_file
from commands.closing import abandon_close, close_year, resume_close
from commands.handlers import CommandHandler, CommandResult
from commands.importer import MAX_BATCH, import_file
from commands.models import (
    AnyCommand,
    parse_command,
)
from ledger.aggregates import ApiToken
from ledger.amount_units import AmountUnit, amounts_in
from ledger.application import Ledger, StoreFormatError
from ledger.chain_key import ChainKeyError, ChainKeyRequired
from ledger.classifications import FundSource, Nature, ThreePublic
from ledger.classifications.catalogue import CatalogueKind
from ledger.closing.policy import load_policy
from ledger.composition import Services, build_ledger, read_models_of
from ledger.errors import InvalidInput, LedgerError, OutOfScope, UnknownUnit
from ledger.hash_chain import chain_head
from ledger.logging import configure_logging
from ledger.money import yuan_str
from ledger.roles import SYSTEM, Actor, Role
from ledger.settings import Settings
from ledger.tokens import new_token
from projections.audit_trail import TRAIL_COLUMNS, trail_rows, unit_trail
from projections.balances import balances_report
from projections.books import books_of
from projections.checks import Check, check_year
from projections.departments import department_final_accounts, department_for
from projections.execution import execution_report
from projections.final_accounts import final_accounts
from projections.read_model import (
    ReadModelStore,
    books_for_reports,
    catch_up,
    differences,
    follow,
    rebuild,
)
from projections.reconcile import reconcile
from projections.text import render, table

app = typer.Typer(
    help="fundflow: an event-sourced ledger of government fund flows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
report_app = typer.Typer(help="Reports folded from the events.", no_args_is_help=True)
post_app = typer.Typer(
    help="Post one command (each is idempotent by --command-id).", no_args_is_help=True
)
app.add_typer(report_app, name="report")
app.add_typer(post_app, name="post")
app.add_typer(chain_key_app, name="chain-key")

SEED_UNIT = "昌吉市商务和工业信息化局"
SEED_CODE = "CJ-SWGXJ"
SEED_YEAR = 2022
#: The real units that ship with the ledger: code → (name, year, history file).
DEMO_UNITS: dict[str, tuple[str, int, str]] = {
    SEED_CODE: (SEED_UNIT, SEED_YEAR, "changji-2022.jsonl"),
    "DY-WGLJ": ("大英县文化广播电视和旅游局", 2022, "daying-2022.jsonl"),
    "XD-WLJ": ("寻甸回族彝族自治县文化和旅游局", 2022, "xundian-2022.jsonl"),
}

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="FUNDFLOW_DATABASE_URL",
        help="sqlite:///path or postgresql://…; default: a SQLite file under ./data",
    ),
]
Format = Literal["json", "table"]


def _settings(database_url: str | None) -> Settings:
    try:
        settings = Settings()
    except ValidationError as error:  # a FUNDFLOW_* variable that cannot be read
        for item in error.errors():
            name = "FUNDFLOW_" + "_".join(str(p) for p in item["loc"]).upper()
            typer.echo(f"fundflow: cannot start (invalid_setting): {name}: {item['msg']}", err=True)
        raise typer.Exit(2) from None
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    configure_logging(settings.log_level)
    return settings


def _ledger(database_url: str | None) -> Ledger:
    return build_ledger(_settings(database_url))


def _actor(
    settings: Settings, ledger: Ledger, role: Role | None = None, user: str | None = None
) -> Actor:
    """The CLI's user: FUNDFLOW_USER (or --posted-by), in FUNDFLOW_ROLE (or --role), scoped
    to FUNDFLOW_UNITS (codes or full names; unset: every unit)."""
    scope = settings.unit_scope
    units = None if scope is None else frozenset(ledger.unit_code(u) or u for u in scope)
    return Actor(user or settings.user, role or settings.role, units=units)


def _date(text: str | None, option: str) -> date | None:
    """A date option, or a clerk-readable refusal naming it."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r} is not a date: write it as YYYY-MM-DD (e.g. 2022-06-30)"
        ) from None


def _fail(error: LedgerError, clearance: bool = False) -> typer.Exit:
    typer.echo(f"rejected ({error.code}): {error.message_for(clearance)}", err=True)
    return typer.Exit(1)


def _print_result(result: CommandResult) -> None:
    typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))


def _run(database_url: str | None, data: dict[str, Any], role: Role | None = None) -> CommandResult:
    """Apply one command as the CLI's user (``posted_by``) in ``role``; exit 1 if refused."""
    settings = _settings(database_url)
    data = {k: v for k, v in data.items() if v is not None}
    data.setdefault("command_id", f"cli-{uuid.uuid4()}")
    data.setdefault("posted_by", settings.user)
    ledger = build_ledger(settings)
    try:
        command: AnyCommand = parse_command(data)
        actor = _actor(settings, ledger, role, command.posted_by)
        return CommandHandler(ledger, actor=actor).handle(command).shown_to(settings.clearance)
    except LedgerError as error:
        raise _fail(error, settings.clearance) from None
    finally:
        ledger.close()


def _post(database_url: str | None, data: dict[str, Any], role: Role | None = None) -> None:
    _print_result(_run(database_url, data, role))


def _emit(report: dict[str, Any], fmt: Format, title: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        typer.echo(render(report, title=title))


# --- reports ----------------------------------------------------------------

UnitOption = Annotated[str, typer.Option("--unit", help="Unit code or full name.")]
YearOption = Annotated[int, typer.Option("--year", help="Fiscal year.")]
FormatOption = Annotated[Format, typer.Option("--format", help="json or table.")]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Business date YYYY-MM-DD: the books as they stood that day."),
]
PositionOption = Annotated[
    int | None,
    typer.Option("--as-of-position", help="Log position: what the books said at that moment."),
]
ClearanceOption = Annotated[
    bool,
    typer.Option(
        "--clearance",
        help="Show classified (涉密) projects in detail (or FUNDFLOW_CLEARANCE=1); by default "
        "they are shown as published: counted, aggregated, unnamed.",
    ),
]

AmountUnitOption = Annotated[
    AmountUnit,
    typer.Option(
        "--amount-unit",
        help="wanyuan (万元, the published default) or yuan (元, exact); each figure rounded "
        "half-up on its own.",
    ),
]


def _report(
    builder: Any,
    database_url: str | None,
    unit: str,
    year: int,
    fmt: Format,
    title: str,
    as_of: str | None = None,
    as_of_position: int | None = None,
    clearance: bool = False,
    amount_unit: AmountUnit = AmountUnit.WANYUAN,
) -> None:
    settings = _settings(database_url)
    clearance = clearance or settings.clearance
    ledger = build_ledger(settings)
    try:
        as_of_date = _date(as_of, "--as-of")
        unit = ledger.unit_in_scope(_actor(settings, ledger), unit)
        books = books_for_reports(
            ledger,
            read_models_of(ledger),
            as_of_position=as_of_position,
            as_of_date=as_of_date,
            unit=unit,
        )
        with amounts_in(amount_unit):
            report = builder(books, unit, year, clearance=clearance)
    except LedgerError as error:
        raise _fail(error, clearance) from None
    finally:
        ledger.close()
    _emit(report, fmt, f"{report['unit']} {year}年 {title}")


@report_app.command("final-accounts")
def report_final_accounts(
    year: YearOption,
    unit: Annotated[str | None, typer.Option("--unit", help="Unit code or full name.")] = None,
    department: Annotated[
        str | None,
        typer.Option(
            "--department",
            help="Department code: the consolidation of its units, each unit's report beside "
            "it (every member unit must be in your scope).",
        ),
    ] = None,
    fmt: FormatOption = "table",
    as_of: AsOfOption = None,
    as_of_position: PositionOption = None,
    clearance: ClearanceOption = False,
    amount_unit: AmountUnitOption = AmountUnit.WANYUAN,
    database_url: DatabaseOption = None,
) -> None:
    """The year-end accounts (决算) of a unit, or of a department over its units."""
    if department is not None and unit is None:
        _department_report(
            database_url, department, year, fmt, as_of, as_of_position, clearance, amount_unit
        )
    elif unit is not None and department is None:
        _report(
            final_accounts,
            database_url,
            unit,
            year,
            fmt,
            "部门决算",
            as_of,
            as_of_position,
            clearance,
            amount_unit,
        )
    else:
        typer.echo("fundflow: name either --unit or --department", err=True)
        raise typer.Exit(2)


def _department_report(
    database_url: str | None,
    department: str,
    year: int,
    fmt: Format,
    as_of: str | None,
    as_of_position: int | None,
    clearance: bool,
    amount_unit: AmountUnit,
) -> None:
    settings = _settings(database_url)
    clearance = clearance or settings.clearance
    ledger = build_ledger(settings)
    try:
        as_of_date = _date(as_of, "--as-of")
        view = department_for(ledger, _actor(settings, ledger), department)
        books = books_for_reports(
            ledger,
            read_models_of(ledger),
            as_of_position=as_of_position,
            as_of_date=as_of_date,
            units=view.units,
        )
        with amounts_in(amount_unit):
            report = department_final_accounts(books, view, year, clearance=clearance)
    except LedgerError as error:
        raise _fail(error, clearance) from None
    finally:
        ledger.close()
    _emit(report, fmt, f"{report['name']} {year}年 部门决算")


@report_app.command("execution")
def report_execution(
    unit: UnitOption,
    year: YearOption,
    fmt: FormatOption = "table",
    as_of: AsOfOption = None,
    as_of_position: PositionOption = None,
    clearance: ClearanceOption = False,
    amount_unit: AmountUnitOption = AmountUnit.WANYUAN,
    database_url: DatabaseOption = None,
) -> None:
    """Execution per project and per budget line, with the funds score."""
    _report(
        execution_report,
        database_url,
        unit,
        year,
        fmt,
        "预算执行",
        as_of,
        as_of_position,
        clearance,
        amount_unit,
    )


@report_app.command("balances")
def report_balances(
    unit: UnitOption,
    year: YearOption,
    fmt: FormatOption = "table",
    as_of: AsOfOption = None,
    as_of_position: PositionOption = None,
    clearance: ClearanceOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Carryover balances (结转和结余) per budget line."""
    _report(
        balances_report,
        database_url,
        unit,
        year,
        fmt,
        "结转和结余",
        as_of,
        as_of_position,
        clearance,
    )


# --- import and demo ----------------------------------------------------------

RoleOption = Annotated[
    Role | None,
    typer.Option("--role", help="Act in this role (default: FUNDFLOW_ROLE, else clerk)."),
]


def _import(
    ledger: Ledger,
    path: Path,
    *,
    quiet: bool,
    actor: Actor = SYSTEM,
    batch: int = 1000,
    close_steps: bool = False,
    clearance: bool = False,
) -> None:
    def show(number: int, result: CommandResult) -> None:
        if not quiet:
            typer.echo(f"line {number}: {result.status}: {result.shown_to(clearance).message}")

    outcome = import_file(
        CommandHandler(ledger, actor=actor),
        path,
        on_result=show,
        batch_size=batch,
        close_steps=close_steps,
    )
    typer.echo(
        f"{outcome.applied} applied, {outcome.already_applied} already applied"
        + ("" if outcome.ok else f", stopped at line {outcome.failed_line}"),
        err=quiet,
    )
    if outcome.error is not None:
        typer.echo(
            f"line {outcome.failed_line} rejected ({outcome.error.code}): "
            f"{outcome.error.message_for(clearance)}. Nothing of that line was written.",
            err=True,
        )
        raise typer.Exit(1)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    quiet: Annotated[bool, typer.Option("--quiet", help="Only print the summary.")] = False,
    batch: Annotated[
        int,
        typer.Option(
            "--batch",
            min=1,
            max=MAX_BATCH,
            help="Lines stored per transaction (group commit).",
        ),
    ] = 1000,
    with_close_steps: Annotated[
        bool,
        typer.Option(
            "--with-close-steps",
            help="Admin: the file holds the steps of closes made elsewhere (start_closing, "
            "close_line, finish_closing), e.g. a migrated or generated history.",
        ),
    ] = False,
    role: RoleOption = None,
    clearance: ClearanceOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Post every command of a JSON Lines file; stop at the first rejected line (the lines
    before it are stored, it and the rest are not)."""
    settings = _settings(database_url)
    ledger = build_ledger(settings)
    try:
        _import(
            ledger,
            file,
            quiet=quiet,
            actor=_actor(settings, ledger, role),
            batch=batch,
            close_steps=with_close_steps,
            clearance=clearance or settings.clearance,
        )
    finally:
        ledger.close()


def seed_path() -> Path:
    """The packaged 2022 history of 昌吉市商务和工业信息化局."""
    return Path(str(files("commands") / "seed" / "changji-2022.jsonl"))


@app.command("demo")
def demo(
    fmt: FormatOption = "table",
    unit: Annotated[
        str,
        typer.Option(
            "--unit",
            help="Which shipped unit to load (code or name): " + ", ".join(DEMO_UNITS) + ".",
        ),
    ] = SEED_CODE,
    amount_unit: AmountUnitOption = AmountUnit.WANYUAN,
    database_url: DatabaseOption = None,
) -> None:
    """Load a shipped unit's history (default: the seed, the bureau's 2022) through the
    clerk's command path and print its year-end accounts. Safe to run again: commands
    already applied are skipped."""
    code = next((c for c, (name, _, _) in DEMO_UNITS.items() if unit in (c, name)), None)
    if code is None:
        raise _fail(UnknownUnit(f"no shipped unit {unit}: choose one of {', '.join(DEMO_UNITS)}"))
    name, year, history = DEMO_UNITS[code]
    settings = _settings(database_url)
    ledger = build_ledger(settings)
    try:
        scope = _actor(settings, ledger).units
        if scope is not None and not scope & {name, code}:
            raise _fail(OutOfScope(f"the demo's unit {name} is outside FUNDFLOW_UNITS"))
        _import(ledger, Path(str(files("commands") / "seed" / history)), quiet=True)
        books = books_of(ledger)
        with amounts_in(amount_unit):
            report = final_accounts(books, name, year)
    finally:
        ledger.close()
    _emit(report, fmt, f"{name} {year}年 部门决算")


# --- posting ------------------------------------------------------------------
# Each command's parameters are named as the fields of its command model, so that
# the options a person types become the command unchanged.

CommandIdOption = Annotated[
    str | None,
    typer.Option("--command-id", help="Your id for this posting; resend it to retry safely."),
]
PostedByOption = Annotated[str | None, typer.Option("--posted-by", envvar="FUNDFLOW_USER")]
DateOption = Annotated[str, typer.Option("--date", help="Business date (业务日期) YYYY-MM-DD.")]
DocOption = Annotated[str, typer.Option("--document-no", help="文号 / 凭证号.")]
MemoOption = Annotated[str, typer.Option("--memo")]
LineOption = Annotated[str, typer.Option("--line", help="Budget line code.")]
AmountOption = Annotated[str, typer.Option("--amount", help="Yuan (1234.56) or 万元 (26.08万).")]
AdjustmentOption = Annotated[
    str | None,
    typer.Option(
        "--adjustment-reason",
        help="Correcting entry into a closed year (closer role, adjustment period).",
    ),
]
ConfirmDuplicateOption = Annotated[
    str | None,
    typer.Option(
        "--confirm-duplicate",
        help="Post it although it equals an earlier, unreversed posting of the line (same "
        "document number, payee and amount); give the reason.",
    ),
]
Text = Annotated[str, typer.Option()]


def _submit(command_type: str, params: dict[str, Any]) -> None:
    """Build the command from a posting function's parameters and post it."""
    database_url = params.pop("database_url", None)
    role = params.pop("role", None)
    data: dict[str, Any] = {"type": command_type}
    for key, value in params.items():
        data[key] = value.value if isinstance(value, Enum) else value
    _post(database_url, data, role)


@post_app.command("register-unit")
def post_register_unit(
    code: Text,
    name: Text,
    business_date: DateOption,
    kind: Annotated[str, typer.Option(help="administrative or institution")] = "administrative",
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Register a budget unit (admin)."""
    _submit("register_unit", locals())


@post_app.command("declare-department")
def post_declare_department(
    code: Text,
    name: Text,
    business_date: DateOption,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Declare a department (部门) over units (admin)."""
    _submit("declare_department", locals())


@post_app.command("assign-unit")
def post_assign_unit(
    department: Annotated[str, typer.Option("--department", help="Department code.")],
    unit: UnitOption,
    business_date: DateOption,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Assign a unit to a department: its accounts are consolidated there (admin)."""
    _submit("assign_unit_to_department", locals())


@post_app.command("open-year")
def post_open_year(
    unit: UnitOption,
    year: YearOption,
    business_date: DateOption,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Open a unit's fiscal year (admin)."""
    _submit("open_fiscal_year", locals())


@post_app.command("register-project")
def post_register_project(
    unit: UnitOption,
    code: Text,
    name: Text,
    business_date: DateOption,
    implementing_units: Text = "",
    classified: Annotated[bool, typer.Option("--classified")] = False,
    final_year: Annotated[int | None, typer.Option(help="Last year of the project.")] = None,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Register a project."""
    _submit("register_project", locals())


@post_app.command("open-line")
def post_open_line(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    title: Text,
    nature: Annotated[Nature, typer.Option()],
    function_code: Text,
    business_date: DateOption,
    fund_source: Annotated[FundSource, typer.Option()] = FundSource.GENERAL_PUBLIC_BUDGET,
    project: Annotated[str | None, typer.Option()] = None,
    beyond_final_year: Annotated[
        str | None,
        typer.Option(help="Reason for a line after the project's final year (extension)."),
    ] = None,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Open a budget line."""
    _submit("open_budget_line", locals())


@post_app.command("allocate")
def post_allocate(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    amount: AmountOption,
    business_date: DateOption,
    document_no: DocOption,
    initial: Annotated[bool, typer.Option("--initial", help="年初预算数")] = False,
    memo: MemoOption = "",
    confirm_duplicate: ConfirmDuplicateOption = None,
    adjustment_reason: AdjustmentOption = None,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """下达 / 追加: allocate money to a line."""
    _submit("allocate_budget", locals())


@post_app.command("open-balance")
def post_open_balance(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    amount: AmountOption,
    business_date: DateOption,
    document_no: DocOption,
    memo: MemoOption = "",
    confirm_duplicate: ConfirmDuplicateOption = None,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
    corrects: Annotated[
        str | None,
        typer.Option(
            "--corrects",
            help="Command id of the reversed take-on of this line that this one corrects.",
        ),
    ] = None,
) -> None:
    """年初结转和结余: take on a line's opening balance from years the ledger never saw
    (--document-no: what it rests on). Only before the year's first posting (closer)."""
    _submit("open_balance", locals())


@post_app.command("receive")
def post_receive(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    amount: AmountOption,
    business_date: DateOption,
    document_no: DocOption,
    payer: Annotated[str, typer.Option("--payer", help="Who paid it.")],
    memo: MemoOption = "",
    confirm_duplicate: ConfirmDuplicateOption = None,
    adjustment_reason: AdjustmentOption = None,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Record non-fiscal income (上级补助收入, 事业收入, 经营收入, 附属单位上缴收入, 其他收入)
    received on a line of that fund source."""
    _submit("record_receipt", locals())


@post_app.command("use-non-fiscal-balance")
def post_use_non_fiscal_balance(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    amount: AmountOption,
    business_date: DateOption,
    document_no: DocOption,
    memo: MemoOption = "",
    confirm_duplicate: ConfirmDuplicateOption = None,
    adjustment_reason: AdjustmentOption = None,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """使用非财政拨款结余: draw earlier years' non-fiscal balance into a non-fiscal line."""
    _submit("use_non_fiscal_balance", locals())


@post_app.command("distribute-balance")
def post_distribute_balance(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    amount: AmountOption,
    business_date: DateOption,
    document_no: DocOption,
    purpose: Annotated[str, typer.Option("--purpose", help="提取专用基金, …")],
    memo: MemoOption = "",
    confirm_duplicate: ConfirmDuplicateOption = None,
    adjustment_reason: AdjustmentOption = None,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """结余分配: distribute non-fiscal surplus of a line."""
    _submit("distribute_balance", locals())


@post_app.command("reduce")
def post_reduce(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    amount: AmountOption,
    business_date: DateOption,
    document_no: DocOption,
    memo: MemoOption = "",
    confirm_duplicate: ConfirmDuplicateOption = None,
    adjustment_reason: AdjustmentOption = None,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """追减: lower a line."""
    _submit("reduce_budget", locals())


@post_app.command("transfer")
def post_transfer(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    amount: AmountOption,
    payee: Text,
    business_date: DateOption,
    document_no: DocOption,
    economic_code: Text = "31299",
    memo: MemoOption = "",
    confirm_duplicate: ConfirmDuplicateOption = None,
    adjustment_reason: AdjustmentOption = None,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """拨付: transfer project money to an enterprise."""
    _submit("transfer_to_enterprise", locals())


@post_app.command("disburse")
def post_disburse(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    amount: AmountOption,
    payee: Text,
    economic_code: Text,
    business_date: DateOption,
    document_no: DocOption,
    three_public: Annotated[ThreePublic | None, typer.Option()] = None,
    memo: MemoOption = "",
    confirm_duplicate: ConfirmDuplicateOption = None,
    adjustment_reason: AdjustmentOption = None,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """支付: pay from a line."""
    _submit("disburse", locals())


@post_app.command("claw-back")
def post_claw_back(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    amount: AmountOption,
    business_date: DateOption,
    document_no: DocOption,
    from_carryover: Annotated[
        bool, typer.Option("--from-carryover", help="Takes back last year's carryover.")
    ] = False,
    memo: MemoOption = "",
    confirm_duplicate: ConfirmDuplicateOption = None,
    adjustment_reason: AdjustmentOption = None,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """财政收回: the finance bureau takes back unspent money."""
    _submit("claw_back", locals())


@post_app.command("reverse")
def post_reverse(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    reverses_command_id: Annotated[
        str, typer.Option("--reverses", help="Command id of the posting to undo.")
    ],
    reason: Text,
    business_date: DateOption,
    document_no: DocOption,
    memo: MemoOption = "",
    adjustment_reason: AdjustmentOption = None,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """红字冲销: reverse an earlier posting of a line."""
    _submit("reverse_entry", locals())


# --- year-end ---------------------------------------------------------------------


@app.command("close-year")
def close_year_command(
    unit: UnitOption,
    year: YearOption,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            exists=True,
            dir_okay=False,
            help="Closing policy file (default: the packaged default-policy.toml).",
        ),
    ] = None,
    before_year_end: Annotated[
        str | None,
        typer.Option(
            "--before-year-end",
            help="Close the year before its 31 December; give the reason (recorded).",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Admin: let a stuck close go on with fresh steps."),
    ] = False,
    abandon: Annotated[
        bool,
        typer.Option("--abandon", help="Admin: give up a stuck close; the year opens again."),
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (with --resume or --abandon).")
    ] = None,
    role: RoleOption = None,
    posted_by: PostedByOption = None,
    clearance: ClearanceOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """年终结账: carry over or lapse every unspent balance, lock the year, open the next.
    Safe to run again: a killed close resumes and completes exactly once. A close that is
    stuck for another reason is let go on (--resume) or abandoned (--abandon) by an admin,
    with --reason."""
    settings = _settings(database_url)
    clearance = clearance or settings.clearance
    ledger = build_ledger(settings)
    kill_after = settings.fault_kill_after_steps

    def after_step(steps: int) -> None:
        if kill_after is not None and steps >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    try:
        actor = _actor(settings, ledger, role, posted_by)
        if (resume or abandon) and not reason:
            raise InvalidInput("--resume and --abandon need --reason: say why")
        if resume and abandon:
            raise InvalidInput("choose --resume or --abandon, not both")
        if abandon:
            typer.echo(abandon_close(ledger, unit, year, reason=str(reason), actor=actor))
            return
        if resume:
            report = resume_close(
                Services.of(ledger),
                unit,
                year,
                reason=str(reason),
                policy=load_policy(policy),
                actor=actor,
            )
        else:
            report = close_year(
                Services.of(ledger),
                unit,
                year,
                policy=load_policy(policy),
                actor=actor,
                after_step=after_step,
                before_year_end=before_year_end,
            )
    except LedgerError as error:
        raise _fail(error, clearance) from None
    finally:
        ledger.close()
    if report.already_closed:
        typer.echo(
            f"{year} of {report.unit} is already closed "
            f"(adjustments until {report.adjustment_until}); nothing to do"
        )
        if report.seal:
            typer.echo(f"seal: {report.seal}")
        return
    for outcome in report.shown_to(clearance):
        if outcome.amount:
            typer.echo(
                f"{outcome.line}: {outcome.outcome.value} {yuan_str(outcome.amount)} "
                f"yuan ({outcome.rule})"
            )
    typer.echo(
        f"{year} of {report.unit} closed{' (resumed)' if report.resumed else ''}: "
        f"{yuan_str(report.carried_over)} yuan carried over to {year + 1}, "
        f"{yuan_str(report.lapsed)} yuan lapsed to the finance bureau; "
        f"correcting entries until {report.adjustment_until}"
    )
    if report.seal:
        typer.echo(
            f"seal: {report.seal} (file it where the database operator cannot write; "
            "`audit verify --expect-head` checks it)"
        )


@app.command("reopen-year")
def reopen_year_command(
    unit: UnitOption,
    year: YearOption,
    reason: Text,
    business_date: DateOption,
    role: RoleOption = None,
    posted_by: PostedByOption = None,
    command_id: CommandIdOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Reopen a closed year (admin, with a reason). Rare: every reopening is an event."""
    _submit("reopen_fiscal_year", locals())


@app.command("check")
def check_command(
    year: YearOption,
    unit: Annotated[str | None, typer.Option("--unit", help="Unit code or full name.")] = None,
    department: Annotated[
        str | None,
        typer.Option("--department", help="Department code: its identities and its units'."),
    ] = None,
    clearance: ClearanceOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Verify every identity of the year's accounts of a unit, or of a department and each
    of its units; name any that fail (exit status 1)."""
    settings = _settings(database_url)
    clearance = clearance or settings.clearance
    ledger = build_ledger(settings)
    try:
        actor = _actor(settings, ledger)
        if department is not None and unit is None:
            view = department_for(ledger, actor, department)
            books = books_for_reports(ledger, read_models_of(ledger))
            report = department_final_accounts(books, view, year, clearance=clearance)
            checks = [
                Check(f"{c['level']}: {c['name']}", c["ok"], c["detail"]) for c in report["checks"]
            ]
        elif unit is not None and department is None:
            code = ledger.unit_in_scope(actor, unit)
            books = books_for_reports(ledger, read_models_of(ledger), unit=code)
            checks = check_year(books, code, year, clearance=clearance)
        else:
            typer.echo("fundflow: name either --unit or --department", err=True)
            raise typer.Exit(2)
    except LedgerError as error:
        raise _fail(error, clearance) from None
    finally:
        ledger.close()
    failed = [c for c in checks if not c.ok]
    for check in failed:
        typer.echo(f"FAILED {check.name}: {check.detail}")
    typer.echo(f"{len(checks) - len(failed)} of {len(checks)} identities hold for {year}")
    if failed:
        raise typer.Exit(1)


# --- the service and its tokens ------------------------------------------------------

codes_app = typer.Typer(
    help="Classification catalogues (政府收支分类科目): load a year's, search.",
    no_args_is_help=True,
)
app.add_typer(codes_app, name="codes")


@codes_app.command("import")
def codes_import(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8) or xlsx: 科目编码,科目名称[,级次].")],
    year: Annotated[int, typer.Option("--year", help="The year the catalogue is for.")],
    kind: Annotated[
        CatalogueKind, typer.Option("--kind", help="Which classification the file holds.")
    ] = CatalogueKind.FUNCTION,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help="CSV/xlsx: 上年科目编码,科目编码 (codes that changed)."),
    ] = None,
    command_id: Annotated[str | None, typer.Option("--command-id")] = None,
    role: Annotated[Role | None, typer.Option("--role")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Load a year's catalogue into the ledger (admin): validated whole, nothing stored
    if a row is wrong; loading the same file again writes nothing."""
    settings = _settings(database_url)
    ledger = build_ledger(settings)
    try:
        loaded = read_catalogue(
            file,
            kind=kind,
            year=year,
            mapping=mapping,
            posted_by=settings.user,
            command_id=command_id,
        )
        handler = CommandHandler(ledger, actor=_actor(settings, ledger, role))
        _print_result(load_catalogue(handler, loaded))
    except LedgerError as error:
        raise _fail(error) from None
    finally:
        ledger.close()


@codes_app.command("search")
def codes_search(
    text: Annotated[str, typer.Argument(help="A code prefix (2070) or part of a name (文化).")],
    year: Annotated[
        int | None, typer.Option("--year", help="Whose catalogue (default: this year).")
    ] = None,
    kind: Annotated[CatalogueKind | None, typer.Option("--kind")] = None,
    fmt: FormatOption = "table",
    database_url: DatabaseOption = None,
) -> None:
    """Find codes by name or code prefix in the catalogue of a year."""
    settings = _settings(database_url)
    ledger = build_ledger(settings)
    try:
        found = search(CommandHandler(ledger), text, year=year, kind=kind)
    except LedgerError as error:
        raise _fail(error) from None
    finally:
        ledger.close()
    if fmt == "json":
        typer.echo(json.dumps(found, ensure_ascii=False, indent=1))
        return
    for c in found["catalogues"]:
        typer.echo(f"# {found['year']} {c['name']} ({c['kind']}): {c['catalogue']}")
    for r in found["results"]:
        typer.echo(f"{r['kind']}\t{r['code']}\t{r['level']}\t{r['path']}")
    for m in found["moved_from_prior_year"]:
        typer.echo(f"{m['kind']}\t{m['prior_year_code']} → {m['code']}\t{m['path']}")
    if not found["results"] and not found["moved_from_prior_year"]:
        typer.echo(f"no code matches {found['query']!r}")


tokens_app = typer.Typer(help="API tokens of the service (admin).", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes (each with its own writer).")
    ] = 1,
    http: Annotated[
        str, typer.Option(help="uvicorn's HTTP parser: auto (httptools if installed), h11.")
    ] = "auto",
    loop: Annotated[
        str, typer.Option(help="uvicorn's event loop: auto (uvloop if installed), asyncio.")
    ] = "auto",
    database_url: DatabaseOption = None,
) -> None:
    """Run the HTTP API (FastAPI on uvicorn). SIGTERM finishes in-flight requests first."""
    import uvicorn

    from commands.api import create_app

    settings = _settings(database_url)
    configure_logging(settings.log_level if settings.log_level != "WARNING" else "INFO")
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,
        "timeout_graceful_shutdown": 30,
        "log_level": "warning",
        "http": http,
        "loop": loop,
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Each worker process builds the app from the environment: pass the database on.
    os.environ["FUNDFLOW_DATABASE_URL"] = settings.effective_database_url
    uvicorn.run("commands.api:create_app", factory=True, workers=workers, **options)


@tokens_app.command("create")
def tokens_create(
    identity: Annotated[str, typer.Option(help="Who acts with the token, e.g. 会计-王芳.")],
    token_role: Annotated[Role, typer.Option("--token-role", help="Role the token carries.")],
    clearance: Annotated[bool, typer.Option("--clearance", help="May see 涉密 detail.")] = False,
    units: Annotated[
        list[str] | None,
        typer.Option(
            "--unit",
            help="A unit the token may act in and read (code or full name; repeatable). "
            "Clerk and closer tokens need at least one; without any, an auditor or admin "
            "token covers every unit.",
        ),
    ] = None,
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Issue a token. It is printed once; only its salted hash is stored."""
    made = new_token()
    _run(
        database_url,
        {
            "type": "issue_token",
            "command_id": f"token-{made.token_id}",
            "business_date": date.today().isoformat(),
            "token_id": made.token_id,
            "identity": identity,
            "role": token_role.value,
            "clearance": clearance,
            "units": units or [],
            "salt": made.salt,
            "digest": made.digest,
        },
        role,
    )
    typer.echo(made.token)
    where = ", ".join(units) if units else "every unit"
    typer.echo(
        f"token {made.token_id} for {identity} ({token_role.value}, {where}); keep it secret: "
        "it cannot be shown again",
        err=True,
    )


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The token id (16 hex digits).")],
    reason: Annotated[str, typer.Option()],
    role: RoleOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Revoke a token."""
    typer.echo(
        _run(
            database_url,
            {
                "type": "revoke_token",
                "business_date": date.today().isoformat(),
                "token_id": token_id,
                "reason": reason,
            },
            role,
        ).message
    )


@tokens_app.command("list")
def tokens_list(database_url: DatabaseOption = None) -> None:
    """Every token: id, identity, role, clearance, revoked. Never the secret."""
    ledger = _ledger(database_url)
    try:
        found: dict[str, dict[str, Any]] = {}
        for _, event in ledger.read_events():
            if isinstance(event, ApiToken.Issued):
                found[event.token_id] = {
                    "token_id": event.token_id,
                    "identity": event.identity,
                    "role": event.role,
                    "clearance": event.clearance,
                    "units": list(getattr(event, "units", [])) or "every unit",
                    "issued": event.timestamp.isoformat(),
                    "revoked": False,
                }
            elif isinstance(event, ApiToken.Revoked):
                for token in found.values():
                    if ApiToken.id_for(token["token_id"]) == event.originator_id:
                        token["revoked"] = True
    finally:
        ledger.close()
    typer.echo(json.dumps(list(found.values()), ensure_ascii=False, indent=1))


# --- auditors -----------------------------------------------------------------------

audit_app = typer.Typer(help="Auditors: trails, reconciliation.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("trail")
def audit_trail_command(
    unit: UnitOption,
    year: Annotated[int | None, typer.Option("--year")] = None,
    line: Annotated[str | None, typer.Option("--line", help="A budget line (with --year).")] = None,
    project: Annotated[str | None, typer.Option("--project", help="A project code.")] = None,
    enterprise: Annotated[str | None, typer.Option("--enterprise", help="A payee.")] = None,
    document_no: Annotated[
        str | None, typer.Option("--document-no", help="A document number (文号 / 凭证号).")
    ] = None,
    fmt: FormatOption = "table",
    clearance: ClearanceOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Every event touching a line, a project, an enterprise or a document number: who,
    when (business date and the time it was recorded), under which document, and what a
    correction corrects."""
    settings = _settings(database_url)
    clearance = clearance or settings.clearance
    ledger = build_ledger(settings)
    try:
        unit = ledger.unit_in_scope(_actor(settings, ledger), unit)
        trail = unit_trail(
            ledger,
            read_models_of(ledger),
            unit=unit,
            year=year,
            line=line,
            project=project,
            enterprise=enterprise,
            document_no=document_no,
            clearance=clearance,
        )
    except LedgerError as error:
        raise _fail(error, clearance) from None
    finally:
        ledger.close()
    if fmt == "json":
        typer.echo(json.dumps(trail, ensure_ascii=False, indent=1))
    else:
        typer.echo(table(trail_rows(trail), TRAIL_COLUMNS))


@audit_app.command("verify")
def audit_verify_command(
    expect_head: Annotated[
        list[str] | None,
        typer.Option(
            "--expect-head",
            help="POSITION:HASH filed earlier (by verify, backup or close-year): fail if "
            "the log up to that position differs. Repeatable.",
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Verify from the first event, not the checkpoint.")
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Recompute the hash chain over the whole log (with the chain key, if set) and check
    every expected head and every year-end seal; name the first event where it breaks
    (exit status 1; 2 if it cannot be verified). Prints the head to file as an anchor.
    With FUNDFLOW_VERIFY_STATE_FILE, goes on from where the last successful run ended."""
    anchors = parse_heads(expect_head or [])
    settings = _settings(database_url)
    ledger = build_ledger(settings)
    try:
        outcome = audit_chain(
            ledger,
            anchors,
            state=settings.verify_state_file,
            full=full,
        )
    except (TypeError, ValueError) as error:
        typer.echo(f"rejected: {error}", err=True)
        raise typer.Exit(2) from None
    finally:
        ledger.close()
    for warning in outcome.warnings:
        typer.echo(warning, err=True)
    for line in outcome.lines:
        typer.echo(line)
    if outcome.status:
        raise typer.Exit(outcome.status)


@audit_app.command("reconcile")
def audit_reconcile_command(
    unit: UnitOption,
    year: YearOption,
    published: Annotated[
        Path,
        typer.Option("--published", exists=True, dir_okay=False, help="Published figures (JSON)."),
    ],
    fmt: FormatOption = "table",
    show_all: Annotated[bool, typer.Option("--all", help="List matching figures too.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Every published figure against the books: matching or differing."""
    try:
        document = json.loads(published.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        typer.echo(f"rejected: {published} is not a UTF-8 JSON document: {error}", err=True)
        raise typer.Exit(2) from None
    if not isinstance(document, dict):
        typer.echo(f"rejected: {published} is not a published-figures object", err=True)
        raise typer.Exit(2)
    settings = _settings(database_url)
    ledger = build_ledger(settings)
    try:
        unit = ledger.unit_in_scope(_actor(settings, ledger), unit)
        result = reconcile(document, final_accounts(books_of(ledger), unit, year))
    except LedgerError as error:
        raise _fail(error) from None
    finally:
        ledger.close()
    if fmt == "json":
        typer.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    rows = result["all"] if show_all else result["differences"]
    typer.echo(table(rows))
    typer.echo(
        f"{result['figures']} figures: {result['matching']} match the books, "
        f"{result['differing']} differ"
    )


# --- export ------------------------------------------------------------------------

export_app = typer.Typer(help="The statutory tables as files.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("final-accounts")
def export_final_accounts(
    unit: UnitOption,
    year: YearOption,
    xlsx: Annotated[Path, typer.Option("--xlsx", dir_okay=False, help="Workbook to write.")],
    as_of: AsOfOption = None,
    clearance: ClearanceOption = False,
    amount_unit: AmountUnitOption = AmountUnit.WANYUAN,
    database_url: DatabaseOption = None,
) -> None:
    """The nine 决算 tables (公开01表 … 09表) and the project funds table as one workbook;
    beside it the same as JSON and CSV, a PNG chart of execution rates, an HTML summary."""
    from projections.chart import chart_bars
    from projections.exports import export_all
    from projections.statutory_tables import statutory_tables

    settings = _settings(database_url)
    clearance = clearance or settings.clearance
    ledger = build_ledger(settings)
    try:
        unit = ledger.unit_in_scope(_actor(settings, ledger), unit)
        books = books_of(ledger, as_of_date=_date(as_of, "--as-of"))
        with amounts_in(amount_unit):
            tables = statutory_tables(books, unit, year, clearance=clearance)
            report = final_accounts(books, unit, year, clearance=clearance)
            bars = chart_bars(books, unit, year, clearance=clearance)
    except LedgerError as error:
        raise _fail(error, clearance) from None
    finally:
        ledger.close()
    with amounts_in(amount_unit):
        written = export_all(tables, report, xlsx, bars=bars)
    for path in written:
        typer.echo(f"wrote {path}")


# --- read models ---------------------------------------------------------------------

projections_app = typer.Typer(help="Materialized read models.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")


def _store(ledger: Ledger) -> ReadModelStore:
    store = read_models_of(ledger)
    if store is None:
        ledger.close()
        typer.echo(
            "rejected: read models are kept in SQLite or PostgreSQL, not in memory", err=True
        )
        raise typer.Exit(2)
    return store


@app.command("project")
def project_command(
    follow_log: Annotated[bool, typer.Option("--follow", help="Keep following the log.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls when idle.")] = 0.5,
    database_url: DatabaseOption = None,
) -> None:
    """The projection worker: apply new events to the read models (exactly once, even if
    killed), once or (--follow) until SIGTERM."""
    settings = _settings(database_url)
    ledger = build_ledger(settings)
    store = _store(ledger)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if follow_log:
            follow(ledger, store, interval=interval, stop=lambda: stopping)
        else:
            applied = catch_up(ledger, store)
            typer.echo(f"{applied} events applied; read model at {store.position()}", err=True)
    finally:
        ledger.close()


@projections_app.command("rebuild")
def projections_rebuild(
    name: Annotated[str, typer.Argument(help="Read model (only 'books' exists).")] = "books",
    database_url: DatabaseOption = None,
) -> None:
    """Build the read model again beside the live one, then switch readers over."""
    if name != "books":
        typer.echo(f"rejected: there is no read model {name!r} (there is 'books')", err=True)
        raise typer.Exit(2)
    settings = _settings(database_url)
    ledger = build_ledger(settings)
    store = _store(ledger)
    try:
        total = max(ledger.position(), 1)
        with typer.progressbar(length=total, label="rebuilding", file=sys.stderr) as bar:
            done = 0

            def progress(position: int, _target: int) -> None:
                nonlocal done
                bar.update(position - done)
                done = position

            table = rebuild(ledger, store, progress=progress)
        position = store.position()
    finally:
        ledger.close()
    typer.echo(f"read model {name} rebuilt as {table} at position {position}")


@projections_app.command("check")
def projections_check(database_url: DatabaseOption = None) -> None:
    """Compare the read model with a fresh fold of the events; name every difference."""
    settings = _settings(database_url)
    ledger = build_ledger(settings)
    store = _store(ledger)
    try:
        found = differences(ledger, store)
        position = store.position()
    finally:
        ledger.close()
    for line in found:
        typer.echo(f"DIFFERS {line}")
    if found:
        raise typer.Exit(1)
    typer.echo(f"the read model equals a fresh fold of the events (position {position})")


# --- backup ------------------------------------------------------------------------


@app.command("backup")
def backup_command(
    target: Annotated[Path, typer.Argument(dir_okay=False, help="The backup file to write.")],
    database_url: DatabaseOption = None,
) -> None:
    """Back up the ledger (events, hash chain, read models): pg_dump, or SQLite's online
    backup."""
    from commands.backup import BackupError, backup

    settings = _settings(database_url)
    ledger = build_ledger(settings)
    try:
        head = chain_head(ledger.recorder)  # read before the dump: the dump holds it
        backup(settings.effective_database_url, target)
        head_file = write_head_file(head, target)
    except BackupError as error:
        typer.echo(f"rejected: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        ledger.close()
    typer.echo(f"backed up to {target}")
    if head_file:
        typer.echo(f"head: {head_file.read_text().strip()} (in {head_file}; file it elsewhere too)")


@app.command("restore")
def restore_command(
    source: Annotated[Path, typer.Argument(dir_okay=False, help="A backup file.")],
    database_url: DatabaseOption = None,
) -> None:
    """Restore a backup into an empty database or a new SQLite file; then run
    ``audit verify`` and ``projections rebuild``."""
    from commands.backup import BackupError, restore

    try:
        restore(source, _settings(database_url).effective_database_url)
    except BackupError as error:
        typer.echo(f"rejected: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"restored {source}")


def main() -> None:
    """Console entry point."""
    try:
        app()
    except StoreFormatError as error:
        typer.echo(f"rejected (store_format): {error}", err=True)
        sys.exit(2)
    except ChainKeyError as error:  # raised at start, by the composition root
        typer.echo(f"fundflow: cannot start ({error.code}): {error.message}", err=True)
        sys.exit(2)
    except ChainKeyRequired as error:  # a write refused by the store, wherever it came from
        typer.echo(f"rejected ({error.code}): {error.message}", err=True)
        sys.exit(1)
    except BrokenPipeError:  # pragma: no cover - e.g. `fundflow report … | head`
        sys.stderr.close()


if __name__ == "__main__":
    main()
