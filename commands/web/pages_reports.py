"""The reports: the nine statutory tables (公开01–09表) in their published layout,
execution by project with the chart, and carryover balances."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from commands.web.context import WebCaller, WebRoute, render, signed_in
from commands.web.labels import FUND_SOURCES
from commands.web.pages_clerk import books_of_unit
from ledger.amount_units import AmountUnit, amounts_in, unit_label
from projections.balances import balances_report
from projections.execution import execution_report
from projections.statutory_tables import statutory_tables

router = APIRouter(route_class=WebRoute)
Who = Annotated[WebCaller, Depends(signed_in)]
#: 万元 (default, as published) or 元: every figure of the page, half-up on its own.
InUnit = Annotated[AmountUnit, Query(alias="amount_unit")]


@router.get("/u/{unit}/{year:int}/reports")
def reports_page(
    request: Request, who: Who, unit: str, year: int, in_unit: InUnit = AmountUnit.WANYUAN
) -> Response:
    code, books = books_of_unit(request, who, unit)
    with amounts_in(in_unit):
        tables = statutory_tables(books, code, year, clearance=who.clearance)
        label = unit_label()
    return render(
        request,
        "reports.html",
        who,
        unit=books.unit(code),
        year=year,
        tables=tables,
        amount_unit=in_unit.value,
        amount_label=label,
    )


@router.get("/u/{unit}/{year:int}/execution")
def execution_page(
    request: Request, who: Who, unit: str, year: int, in_unit: InUnit = AmountUnit.WANYUAN
) -> Response:
    code, books = books_of_unit(request, who, unit)
    with amounts_in(in_unit):
        report = execution_report(books, code, year, clearance=who.clearance)
        label = unit_label()
    return render(
        request,
        "execution.html",
        who,
        unit=books.unit(code),
        year=year,
        report=report,
        amount_unit=in_unit.value,
        amount_label=label,
    )


@router.get("/u/{unit}/{year:int}/balances")
def balances_page(request: Request, who: Who, unit: str, year: int) -> Response:
    code, books = books_of_unit(request, who, unit)
    report = balances_report(books, code, year, clearance=who.clearance)
    return render(
        request,
        "balances.html",
        who,
        unit=books.unit(code),
        year=year,
        report=report,
        sources=FUND_SOURCES,
    )
