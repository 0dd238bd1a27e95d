"""The auditor's pages: the audit trail (as of a date or a log position), the books as
they stood then, the hash chain, reconciliation of published figures, and downloads."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from commands.app_state import ledger_of, services_of
from commands.chain_cli import audit_chain
from commands.json_input import strict_loads
from commands.web.context import WebCaller, WebRoute, expensive, render, signed_in
from commands.web.labels import event_name
from commands.web.pages_clerk import _date, books_of_unit, require_csrf
from ledger.amount_units import AmountUnit, amounts_in
from ledger.errors import Forbidden, InvalidInput
from projections.audit_trail import unit_trail
from projections.books import Books
from projections.execution import execution_report
from projections.final_accounts import final_accounts
from projections.read_model import books_for_reports
from projections.reconcile import reconcile
from projections.redaction import Redaction

router = APIRouter(route_class=WebRoute)
Who = Annotated[WebCaller, Depends(signed_in)]
Text = Annotated[str | None, Query(max_length=200)]


@router.get("/u/{unit}/trail")
def trail_page(
    request: Request,
    who: Who,
    unit: str,
    year: Annotated[int | None, Query(ge=1949, le=2200)] = None,
    line: Text = None,
    project: Text = None,
    enterprise: Text = None,
    document_no: Text = None,
    as_of: Text = None,
    as_of_position: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    ledger = ledger_of(request)
    code = ledger.unit_in_scope(who.actor, unit)
    chosen: dict[str, Any] = {
        "year": year,
        "line": line or None,
        "project": project or None,
        "enterprise": enterprise or None,
        "document_no": document_no or None,
        "as_of": as_of or None,
        "as_of_position": as_of_position,
    }
    entries: list[dict[str, Any]] | None = None
    unit_view = books_of_unit(request, who, code)[1].unit(code)
    if any(chosen[k] for k in ("line", "project", "enterprise", "document_no")):
        expensive(request, who)
        when = _date(chosen["as_of"])
        if when is not None or as_of_position is not None:
            # The books of a past moment: refused without clearance where classified
            # projects could be told apart, as for every point-in-time view.
            then = books_for_reports(
                ledger,
                services_of(request).read_models,
                as_of_date=when,
                as_of_position=as_of_position,
                unit=code,
            )
            Redaction.of(then, who.clearance, code)
        # The API's trail (read model + the selected aggregates), cut at the moment asked.
        entries = [
            e
            for e in unit_trail(
                ledger,
                services_of(request).read_models,
                unit=code,
                year=year,
                line=chosen["line"],
                project=chosen["project"],
                enterprise=chosen["enterprise"],
                document_no=chosen["document_no"],
                clearance=who.clearance,
            )
            if (when is None or e["business_date"] <= when.isoformat())
            and (as_of_position is None or e["position"] <= as_of_position)
        ]
        for entry in entries:
            entry["type_name"] = event_name(entry["type"])
    return render(request, "trail.html", who, unit=unit_view, chosen=chosen, entries=entries)


@router.get("/u/{unit}/{year:int}/books")
def books_page(
    request: Request,
    who: Who,
    unit: str,
    year: int,
    as_of: Text = None,
    as_of_position: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    ledger = ledger_of(request)
    code = ledger.unit_in_scope(who.actor, unit)
    if as_of or as_of_position is not None:
        expensive(request, who)
    books = books_for_reports(
        ledger,
        services_of(request).read_models,
        as_of_date=_date(as_of),
        as_of_position=as_of_position,
        unit=code,
    )
    report = execution_report(books, code, year, clearance=who.clearance)
    return render(
        request,
        "books.html",
        who,
        unit=books.unit(code),
        year=year,
        report=report,
        as_of=as_of or "",
        as_of_position="" if as_of_position is None else as_of_position,
    )


@router.get("/chain")
def chain_page(request: Request, who: Who) -> Response:
    if not who.ledger_wide:  # the whole ledger's count and head: not a unit's to see
        raise ChainNotInScope(who)
    expensive(request, who)  # verifies the whole chain
    outcome = audit_chain(ledger_of(request), [])
    return render(request, "chain.html", who, outcome=outcome)


class ChainNotInScope(Forbidden):
    """The hash chain asked for by someone who reads only some units' books."""

    def __init__(self, who: WebCaller) -> None:
        super().__init__(
            f"{who.actor.identity} ({who.actor.role.value}) may not verify the hash chain: "
            "it covers the whole ledger, for an auditor or admin of every unit"
        )


@router.get("/u/{unit}/{year:int}/reconcile")
def reconcile_form(request: Request, who: Who, unit: str, year: int) -> Response:
    code, books = books_of_unit(request, who, unit)
    return render(
        request, "reconcile.html", who, unit=books.unit(code), year=year, result=None, error=None
    )


@router.post("/u/{unit}/{year:int}/reconcile")
async def reconcile_upload(request: Request, who: Who, unit: str, year: int) -> Response:
    await require_csrf(request, who)
    code, books = books_of_unit(request, who, unit)
    form = await request.form()
    upload = form.get("published")
    error, result = None, None
    if upload is None or isinstance(upload, str):
        error = "请选择公开数文件（JSON）"
    else:
        raw = await upload.read()
        try:
            document = strict_loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as problem:
            document, error = None, f"文件不是 UTF-8 的 JSON：{problem}"
        if document is not None and not isinstance(document, dict):
            error = "文件不是公开数的格式（应为一个 JSON 对象）"
        elif document is not None:
            # Published figures are of the published report: without classified detail
            # (as `fundflow audit reconcile`), whatever the auditor's clearance.
            result = reconcile(document, final_accounts(books, code, year))
    return render(
        request,
        "reconcile.html",
        who,
        status_code=422 if error else 200,
        unit=books.unit(code),
        year=year,
        result=result,
        error=error,
    )


DOWNLOADS = {
    "workbook": (
        "决算{year}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "csv": ("决算{year}-csv.zip", "application/zip"),
    "chart": ("决算{year}-execution-rate.png", "image/png"),
    "summary": ("决算{year}.html", "text/html; charset=utf-8"),
    "json": ("决算{year}.json", "application/json"),
}


@router.get("/u/{unit}/{year:int}/download/{what}")
def download(
    request: Request,
    who: Who,
    unit: str,
    year: int,
    what: str,
    in_unit: Annotated[AmountUnit, Query(alias="amount_unit")] = AmountUnit.WANYUAN,
) -> Response:
    if what not in DOWNLOADS:
        raise InvalidInput(f"没有这种下载：{what}")
    ledger_of(request).unit_in_scope(who.actor, unit)  # refused out of scope first
    expensive(request, who)  # the whole year's tables or chart, built for this request
    code, books = books_of_unit(request, who, unit)
    name, media = DOWNLOADS[what]
    name = name.format(year=year)
    with tempfile.TemporaryDirectory() as folder, amounts_in(in_unit):
        content = _build(what, Path(folder), books, code, year, who.clearance)
    disposition = "inline" if what == "chart" else "attachment"
    return Response(
        content,
        media_type=media,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{_quote(name)}",
            "Cache-Control": "no-store",
        },
    )


def _build(what: str, folder: Path, books: Books, code: str, year: int, clearance: bool) -> bytes:
    """Only the file asked for (and what it is made of: the summary embeds the chart)."""
    from projections import exports
    from projections.chart import chart_bars
    from projections.statutory_tables import statutory_tables

    unit = books.unit(code).name
    if what in ("workbook", "csv", "json"):
        tables = statutory_tables(books, code, year, clearance=clearance)
        if what == "workbook":
            exports.write_xlsx(tables, folder / "tables.xlsx", unit=unit, year=year)
            return (folder / "tables.xlsx").read_bytes()
        if what == "json":
            exports.write_json(tables, folder / "tables.json", unit=unit, year=year)
            return (folder / "tables.json").read_bytes()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(exports.write_csv(tables, folder / "csv")):
                archive.write(path, path.name)
        return buffer.getvalue()
    chart = folder / "chart.png"
    bars = chart_bars(books, code, year, clearance=clearance)
    exports.write_chart([], chart, bars=bars, title=f"{unit} {year}年度")
    if what == "chart":
        return chart.read_bytes()
    report = final_accounts(books, code, year, clearance=clearance)
    exports.write_html(report, chart, folder / "summary.html")
    return (folder / "summary.html").read_bytes()


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)
