"""The reports: the nine statutory tables (公开01–09表) in their published layout,
execution by project with the chart, and carryover balances."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

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
    return _in_amount_unit(
        request, who, unit, year, in_unit, "reports.html", "tables", statutory_tables
    )


@router.get("/u/{unit}/{year:int}/execution")
def execution_page(
    request: Request, who: Who, unit: str, year: int, in_unit: InUnit = AmountUnit.WANYUAN
) -> Response:
    return _in_amount_unit(
        request, who, unit, year, in_unit, "execution.html", "report", execution_report
    )


def _in_amount_unit(
    request: Request,
    who: WebCaller,
    unit: str,
    year: int,
    in_unit: AmountUnit,
    template: str,
    name: str,
    build: Callable[..., Any],
) -> Response:
    """A report page whose every figure is in 万元 or 元 (half-up each on its own): the
    report ``build`` makes, rendered into ``template`` as ``name``."""
    code, books = books_of_unit(request, who, unit)
    with amounts_in(in_unit):
        report = build(books, code, year, clearance=who.clearance)
        label = unit_label()
    return render(
        request,
        template,
        who,
        unit=books.unit(code),
        year=year,
        amount_unit=in_unit.value,
        amount_label=label,
        **{name: report},
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
