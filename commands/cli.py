"""``fundflow``: the command line. Thin: parse options, build a command, call the handler,
print the result or the clerk-readable reason it was rejected (exit status 1)."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from commands.handlers import CommandHandler, CommandResult
from commands.importer import import_file
from commands.models import (
    AllocateBudget,
    AnyCommand,
    ClawBack,
    Disburse,
    OpenBudgetLine,
    OpenFiscalYear,
    ReduceBudget,
    RegisterProject,
    RegisterUnit,
    ReverseEntry,
    TransferToEnterprise,
    parse_command,
)
from ledger.application import Ledger
from ledger.classifications import FundSource, Nature, ThreePublic
from ledger.composition import build_ledger
from ledger.errors import LedgerError
from ledger.logging import configure_logging
from ledger.settings import Settings
from projections.balances import balances_report
from projections.books import books_of
from projections.execution import execution_report
from projections.final_accounts import final_accounts
from projections.text import render

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

SEED_UNIT = "昌吉市商务和工业信息化局"
SEED_YEAR = 2022

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
    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    configure_logging(settings.log_level)
    return settings


def _ledger(database_url: str | None) -> Ledger:
    return build_ledger(_settings(database_url))


def _fail(error: LedgerError) -> typer.Exit:
    typer.echo(f"rejected ({error.code}): {error.message}", err=True)
    return typer.Exit(1)


def _print_result(result: CommandResult) -> None:
    typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))


def _post(database_url: str | None, data: dict[str, Any]) -> None:
    ledger = _ledger(database_url)
    try:
        command: AnyCommand = parse_command({k: v for k, v in data.items() if v is not None})
        result = CommandHandler(ledger).handle(command)
    except LedgerError as error:
        raise _fail(error) from None
    finally:
        ledger.close()
    _print_result(result)


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


def _report(
    builder: Any,
    database_url: str | None,
    unit: str,
    year: int,
    fmt: Format,
    title: str,
    as_of: str | None = None,
    as_of_position: int | None = None,
) -> None:
    ledger = _ledger(database_url)
    try:
        as_of_date = date.fromisoformat(as_of) if as_of else None
        books = books_of(ledger, as_of_position=as_of_position, as_of_date=as_of_date)
        report = builder(books, unit, year)
    except LedgerError as error:
        raise _fail(error) from None
    except ValueError as error:
        typer.echo(f"rejected: {error}", err=True)
        raise typer.Exit(2) from None
    finally:
        ledger.close()
    _emit(report, fmt, f"{report['unit']} {year}年 {title}")


@report_app.command("final-accounts")
def report_final_accounts(
    unit: UnitOption,
    year: YearOption,
    fmt: FormatOption = "table",
    as_of: AsOfOption = None,
    as_of_position: PositionOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """The year-end accounts (部门决算), sections as the published report."""
    _report(final_accounts, database_url, unit, year, fmt, "部门决算", as_of, as_of_position)


@report_app.command("execution")
def report_execution(
    unit: UnitOption,
    year: YearOption,
    fmt: FormatOption = "table",
    as_of: AsOfOption = None,
    as_of_position: PositionOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Execution per project and per budget line, with the funds score."""
    _report(execution_report, database_url, unit, year, fmt, "预算执行", as_of, as_of_position)


@report_app.command("balances")
def report_balances(
    unit: UnitOption,
    year: YearOption,
    fmt: FormatOption = "table",
    as_of: AsOfOption = None,
    as_of_position: PositionOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Carryover balances (结转和结余) per budget line."""
    _report(balances_report, database_url, unit, year, fmt, "结转和结余", as_of, as_of_position)


# --- import and demo ----------------------------------------------------------


def _import(ledger: Ledger, path: Path, *, quiet: bool) -> None:
    def show(number: int, result: CommandResult) -> None:
        if not quiet:
            typer.echo(f"line {number}: {result.status}: {result.message}")

    outcome = import_file(CommandHandler(ledger), path, on_result=show)
    typer.echo(
        f"{outcome.applied} applied, {outcome.already_applied} already applied"
        + ("" if outcome.ok else f", stopped at line {outcome.failed_line}"),
        err=quiet,
    )
    if outcome.error is not None:
        typer.echo(
            f"line {outcome.failed_line} rejected ({outcome.error.code}): "
            f"{outcome.error.message}. Nothing of that line was written.",
            err=True,
        )
        raise typer.Exit(1)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    quiet: Annotated[bool, typer.Option("--quiet", help="Only print the summary.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Post every command of a JSON Lines file; stop at the first rejected line."""
    ledger = _ledger(database_url)
    try:
        _import(ledger, file, quiet=quiet)
    finally:
        ledger.close()


def seed_path() -> Path:
    """The packaged 2022 history of 昌吉市商务和工业信息化局."""
    return Path(str(files("commands") / "seed" / "changji-2022.jsonl"))


@app.command("demo")
def demo(
    fmt: FormatOption = "table",
    database_url: DatabaseOption = None,
) -> None:
    """Load the seed (the bureau's 2022) through the clerk's command path and print its
    year-end accounts. Safe to run again: commands already applied are skipped."""
    ledger = _ledger(database_url)
    try:
        _import(ledger, seed_path(), quiet=True)
        books = books_of(ledger)
        report = final_accounts(books, SEED_UNIT, SEED_YEAR)
    finally:
        ledger.close()
    _emit(report, fmt, f"{SEED_UNIT} {SEED_YEAR}年 部门决算")


# --- posting ------------------------------------------------------------------

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


def _common(command_id: str | None, posted_by: str | None, business_date: str) -> dict[str, Any]:
    return {
        "command_id": command_id or f"cli-{uuid.uuid4()}",
        "posted_by": posted_by or "clerk",
        "business_date": business_date,
    }


@post_app.command("register-unit")
def post_register_unit(
    code: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    business_date: DateOption,
    kind: Annotated[str, typer.Option(help="administrative or institution")] = "administrative",
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Register a budget unit."""
    _post(
        database_url,
        {
            "type": RegisterUnit.model_fields["type"].default,
            "code": code,
            "name": name,
            "kind": kind,
            **_common(command_id, posted_by, business_date),
        },
    )


@post_app.command("open-year")
def post_open_year(
    unit: UnitOption,
    year: YearOption,
    business_date: DateOption,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Open a unit's fiscal year."""
    _post(
        database_url,
        {
            "type": OpenFiscalYear.model_fields["type"].default,
            "unit": unit,
            "year": year,
            **_common(command_id, posted_by, business_date),
        },
    )


@post_app.command("register-project")
def post_register_project(
    unit: UnitOption,
    code: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    business_date: DateOption,
    implementing_units: Annotated[str, typer.Option()] = "",
    classified: Annotated[bool, typer.Option("--classified")] = False,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Register a project."""
    _post(
        database_url,
        {
            "type": RegisterProject.model_fields["type"].default,
            "unit": unit,
            "code": code,
            "name": name,
            "implementing_units": implementing_units,
            "classified": classified,
            **_common(command_id, posted_by, business_date),
        },
    )


@post_app.command("open-line")
def post_open_line(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    title: Annotated[str, typer.Option()],
    nature: Annotated[Nature, typer.Option()],
    function_code: Annotated[str, typer.Option()],
    business_date: DateOption,
    fund_source: Annotated[FundSource, typer.Option()] = FundSource.GENERAL_PUBLIC_BUDGET,
    project: Annotated[str | None, typer.Option()] = None,
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Open a budget line."""
    _post(
        database_url,
        {
            "type": OpenBudgetLine.model_fields["type"].default,
            "unit": unit,
            "year": year,
            "line": line,
            "title": title,
            "nature": nature.value,
            "function_code": function_code,
            "fund_source": fund_source.value,
            "project": project,
            **_common(command_id, posted_by, business_date),
        },
    )


def _money(
    command_type: str,
    unit: str,
    year: int,
    line: str,
    amount: str,
    business_date: str,
    document_no: str,
    memo: str,
    command_id: str | None,
    posted_by: str | None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "type": command_type,
        "unit": unit,
        "year": year,
        "line": line,
        "amount": amount,
        "document_no": document_no,
        "memo": memo,
        **_common(command_id, posted_by, business_date),
        **extra,
    }


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
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """下达 / 追加: allocate money to a line."""
    _post(
        database_url,
        _money(
            AllocateBudget.model_fields["type"].default,
            unit,
            year,
            line,
            amount,
            business_date,
            document_no,
            memo,
            command_id,
            posted_by,
            initial=initial,
        ),
    )


@post_app.command("reduce")
def post_reduce(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    amount: AmountOption,
    business_date: DateOption,
    document_no: DocOption,
    memo: MemoOption = "",
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """追减: lower a line."""
    _post(
        database_url,
        _money(
            ReduceBudget.model_fields["type"].default,
            unit,
            year,
            line,
            amount,
            business_date,
            document_no,
            memo,
            command_id,
            posted_by,
        ),
    )


@post_app.command("transfer")
def post_transfer(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    amount: AmountOption,
    payee: Annotated[str, typer.Option()],
    business_date: DateOption,
    document_no: DocOption,
    economic_code: Annotated[str, typer.Option()] = "31299",
    memo: MemoOption = "",
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """拨付: transfer project money to an enterprise."""
    _post(
        database_url,
        _money(
            TransferToEnterprise.model_fields["type"].default,
            unit,
            year,
            line,
            amount,
            business_date,
            document_no,
            memo,
            command_id,
            posted_by,
            payee=payee,
            economic_code=economic_code,
        ),
    )


@post_app.command("disburse")
def post_disburse(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    amount: AmountOption,
    payee: Annotated[str, typer.Option()],
    economic_code: Annotated[str, typer.Option()],
    business_date: DateOption,
    document_no: DocOption,
    three_public: Annotated[ThreePublic | None, typer.Option()] = None,
    memo: MemoOption = "",
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """支付: pay from a line."""
    _post(
        database_url,
        _money(
            Disburse.model_fields["type"].default,
            unit,
            year,
            line,
            amount,
            business_date,
            document_no,
            memo,
            command_id,
            posted_by,
            payee=payee,
            economic_code=economic_code,
            three_public=None if three_public is None else three_public.value,
        ),
    )


@post_app.command("claw-back")
def post_claw_back(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    amount: AmountOption,
    business_date: DateOption,
    document_no: DocOption,
    memo: MemoOption = "",
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """财政收回: the finance bureau takes back unspent money."""
    _post(
        database_url,
        _money(
            ClawBack.model_fields["type"].default,
            unit,
            year,
            line,
            amount,
            business_date,
            document_no,
            memo,
            command_id,
            posted_by,
        ),
    )


@post_app.command("reverse")
def post_reverse(
    unit: UnitOption,
    year: YearOption,
    line: LineOption,
    reverses: Annotated[str, typer.Option("--reverses", help="Command id of the posting to undo.")],
    reason: Annotated[str, typer.Option()],
    business_date: DateOption,
    document_no: DocOption,
    memo: MemoOption = "",
    command_id: CommandIdOption = None,
    posted_by: PostedByOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """红字冲销: reverse an earlier posting of a line."""
    _post(
        database_url,
        {
            "type": ReverseEntry.model_fields["type"].default,
            "unit": unit,
            "year": year,
            "line": line,
            "reverses_command_id": reverses,
            "reason": reason,
            "document_no": document_no,
            "memo": memo,
            **_common(command_id, posted_by, business_date),
        },
    )


def main() -> None:
    """Console entry point."""
    try:
        app()
    except BrokenPipeError:  # pragma: no cover - e.g. `fundflow report … | head`
        sys.stderr.close()


if __name__ == "__main__":
    main()
