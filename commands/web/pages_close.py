"""The closer's pages: the year-end close as a wizard (preview per line, confirm, result
with the seal to file), and reopening a closed year (admin)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from commands.app_state import services_of
from commands.callers import submit
from commands.closing import close_year, preview_close
from commands.models import parse_command
from commands.web.context import WebCaller, WebRoute, render, signed_in
from commands.web.forms import new_command_id
from commands.web.labels import OUTCOMES
from commands.web.pages_clerk import books_of_unit, require_csrf
from ledger.closing.policy import load_policy
from ledger.settings import Settings

router = APIRouter(route_class=WebRoute)
Who = Annotated[WebCaller, Depends(signed_in)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.web_settings
    return settings


@router.get("/u/{unit}/{year:int}/close")
def close_preview(request: Request, who: Who, unit: str, year: int) -> Response:
    who.actor.require("start_closing")
    code, books = books_of_unit(request, who, unit)
    settings = _settings(request)
    report = preview_close(
        services_of(request),
        code,
        year,
        policy=load_policy(settings.closing_policy),
        actor=who.actor,
    )
    return render(
        request,
        "close.html",
        who,
        unit=books.unit(code),
        year=year,
        report=report,
        lines=report.shown_to(who.clearance),
        outcomes=OUTCOMES,
        status=books.year(code, year).status.value,
        reopen_id=new_command_id(),
    )


@router.post("/u/{unit}/{year:int}/close")
async def close(request: Request, who: Who, unit: str, year: int) -> Response:
    values = await require_csrf(request, who)
    who.actor.require("start_closing")
    code, books = books_of_unit(request, who, unit)
    settings = _settings(request)
    report = close_year(
        services_of(request),
        code,
        year,
        policy=load_policy(settings.closing_policy),
        actor=who.actor,
        before_year_end=values.get("before_year_end") or None,
    )
    return render(
        request,
        "close_result.html",
        who,
        unit=books.unit(code),
        year=year,
        report=report,
        lines=report.shown_to(who.clearance),
        outcomes=OUTCOMES,
    )


@router.post("/u/{unit}/{year:int}/reopen")
async def reopen(request: Request, who: Who, unit: str, year: int) -> Response:
    values = await require_csrf(request, who)
    who.actor.require("reopen_fiscal_year")
    code, _ = books_of_unit(request, who, unit)
    command = parse_command(
        {
            "type": "reopen_fiscal_year",
            "command_id": values.get("command_id", ""),
            "posted_by": who.actor.identity,
            "business_date": values.get("business_date", ""),
            "unit": code,
            "year": year,
            "reason": values.get("reason", ""),
        }
    )
    submit(request.app.state, command, who.actor)
    return RedirectResponse(f"/u/{quote(code, safe='')}/{year}", status_code=303)
