"""Sign-in, the units a person may see, a unit's year at a glance, the posting forms and
the journal."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from commands.app_state import ledger_of, services_of
from commands.callers import caller_of_token, submit
from commands.handlers import today_in_china
from commands.models import invalid_fields, parse_command
from commands.web.context import (
    WebCaller,
    WebRoute,
    expensive,
    render,
    signed_in,
    signer_of,
    status_of,
)
from commands.web.forms import (
    ADJUSTMENT_REASON,
    CONFIRM_DUPLICATE,
    ERROR_FIELD,
    FORMS,
    LINE,
    PostingForm,
    command_data,
    new_command_id,
    shown_values,
)
from commands.web.labels import FUND_SOURCES, NATURES, YEAR_STATUS, event_name
from commands.web.session import COOKIE, SESSION_SECONDS, SIGNIN_COOKIE, same_token, set_cookie
from ledger.errors import Forbidden, InvalidInput, LedgerError
from ledger.money import percent_str
from projections.books import Books, LineView
from projections.journal import JournalFilter, journal
from projections.read_model import books_for_reports
from projections.redaction import CLASSIFIED_NAME, Redaction

router = APIRouter(route_class=WebRoute)
Who = Annotated[WebCaller, Depends(signed_in)]


# --- sign-in ---------------------------------------------------------------------------


@router.get("/signin")
def signin_page(request: Request) -> Response:
    csrf = new_command_id()
    response = render(request, "signin.html", None, csrf=csrf, error=None)
    set_cookie(response, request, SIGNIN_COOKIE, csrf, 600)
    return response


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await request.form()
    token, csrf = str(form.get("token", "")), str(form.get("csrf", ""))
    error = None
    if not same_token(request.cookies.get(SIGNIN_COOKIE), csrf):
        error = "表单已过期，请重新登录（CSRF 校验未通过）"
    caller = None if error else caller_of_token(ledger_of(request), token)
    if caller is None:
        fresh = new_command_id()
        response = render(
            request,
            "signin.html",
            None,
            status_code=401 if error is None else 403,
            csrf=fresh,
            error=error or "令牌无效或已吊销",
        )
        set_cookie(response, request, SIGNIN_COOKIE, fresh, 600)
        return response
    session = signer_of(request).new(caller.token_id)
    signed = RedirectResponse("/", status_code=303)
    set_cookie(signed, request, COOKIE, signer_of(request).dump(session), SESSION_SECONDS)
    signed.delete_cookie(SIGNIN_COOKIE, path="/")
    return signed


@router.post("/signout")
async def signout(request: Request, who: Who) -> Response:
    await require_csrf(request, who)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


async def require_csrf(request: Request, who: WebCaller) -> dict[str, str]:
    """The posted form, once its CSRF token is the session's (refused otherwise)."""
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    if not same_token(who.session.csrf, values.get("csrf")):
        raise CsrfRefused
    return values


class CsrfRefused(Forbidden):
    """A form sent without the session's CSRF token."""

    def __init__(self) -> None:
        super().__init__("表单的 CSRF 令牌不对：请从页面重新提交（防止跨站伪造请求）")


# --- home ------------------------------------------------------------------------------


def books_of_unit(request: Request, who: WebCaller, unit: str) -> tuple[str, Books]:
    """The unit's code (refused out of scope, before anything is looked up) and books."""
    ledger = ledger_of(request)
    code = ledger.unit_in_scope(who.actor, unit)
    books = books_for_reports(ledger, services_of(request).read_models, unit=code)
    return books.unit(code).code, books


@router.get("/")
def home(request: Request, who: Who) -> Response:
    books = books_for_reports(ledger_of(request), services_of(request).read_models)
    units = [
        {
            "code": u.code,
            "name": u.name,
            "years": sorted(
                (y.year, YEAR_STATUS[y.status.value])
                for (code, _), y in books.years.items()
                if code == u.code
            ),
        }
        for u in sorted(books.units.values(), key=lambda u: u.code)
        if who.actor.in_scope(u.code)
    ]
    return render(request, "home.html", who, units=units)


# --- a unit's year ------------------------------------------------------------------------


def _line_row(ln: LineView) -> dict[str, Any]:
    t = ln.totals
    rate = percent_str(t.spent, t.full_year_budget)
    return {
        "code": ln.code,
        "title": ln.title,
        "nature": NATURES[ln.nature.value],
        "function_code": ln.function_code,
        "fund_source": FUND_SOURCES[ln.fund_source.value],
        "project": ln.project_code,
        "budget": t.full_year_budget,
        "spent": t.spent,
        "available": t.available,
        "rate": rate,
        "bar": _bar(t.spent, t.full_year_budget),
    }


def _bar(spent: int, budget: int) -> int:
    """The execution bar's width in whole percent (0–100), from exact fen."""
    return 0 if budget <= 0 else max(0, min(100, spent * 100 // budget))


def visible_lines(books: Books, code: str, year: int, clearance: bool) -> list[LineView]:
    shown, _ = Redaction.of(books, clearance, code).split(books.lines_of(code, year))
    return shown


@router.get("/u/{unit}/{year:int}")
def year_page(
    request: Request,
    who: Who,
    unit: str,
    year: int,
    project: Annotated[str | None, Query()] = None,
    function_code: Annotated[str | None, Query()] = None,
    fund_source: Annotated[str | None, Query()] = None,
    done: Annotated[str | None, Query()] = None,
) -> Response:
    code, books = books_of_unit(request, who, unit)
    view = books.year(code, year)
    shown, hidden = Redaction.of(books, who.clearance, code).split(books.lines_of(code, year))
    rows = [
        _line_row(ln)
        for ln in shown
        if (not project or ln.project_code == project)
        and (not function_code or ln.function_code == function_code)
        and (not fund_source or ln.fund_source.value == fund_source)
    ]
    classified = None
    if hidden and not (project or function_code or fund_source):
        budget = sum(ln.totals.full_year_budget for ln in hidden)
        spent = sum(ln.totals.spent for ln in hidden)
        rate = percent_str(spent, budget)
        classified = {
            "title": CLASSIFIED_NAME,
            "budget": budget,
            "spent": spent,
            "available": sum(ln.totals.available for ln in hidden),
            "rate": rate,
            "bar": _bar(spent, budget),
        }
    projects = sorted(
        {(ln.project_code, _project_name(books, code, ln)) for ln in shown if ln.project_code}
    )
    context: dict[str, Any] = {
        "unit": books.units[code],
        "year": year,
        "status": YEAR_STATUS[view.status.value],
        "closed": view.status.value == "closed",
        "rows": rows,
        "classified": classified,
        "projects": projects,
        "function_codes": sorted({ln.function_code for ln in shown}),
        "fund_sources": sorted(
            {(ln.fund_source.value, FUND_SOURCES[ln.fund_source.value]) for ln in shown}
        ),
        "chosen": {"project": project, "function_code": function_code, "fund_source": fund_source},
        "forms": FORMS,
        "done": done,
        # Open years take a clerk's postings; a closed one a closer's corrections
        # (refused by the books outside its adjustment period).
        "may_post": who.may("closer") if view.status.value == "closed" else who.may("clerk"),
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "year_lines.html", who, **context)
    return render(request, "year.html", who, **context)


def _project_name(books: Books, code: str, line: LineView) -> str:
    project = books.projects.get((code, line.project_code or ""))
    return project.name if project else str(line.project_code)


# --- posting ------------------------------------------------------------------------------


def _form_of(kind: str) -> PostingForm:
    form = FORMS.get(kind)
    if form is None:
        raise UnknownForm(kind)
    return form


class UnknownForm(InvalidInput):
    """A posting form that does not exist."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"没有这种记账表单：{kind}")


def _form_page(
    request: Request,
    who: WebCaller,
    form: PostingForm,
    code: str,
    books: Books,
    year: int,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
    top_error: str | None = None,
) -> Response:
    lines = visible_lines(books, code, year, who.clearance)
    show_duplicate = "confirm_duplicate" in errors or bool(values.get("confirm_duplicate"))
    closed = books.year(code, year).status.value == "closed"
    extra = ([CONFIRM_DUPLICATE] if show_duplicate else []) + (
        [ADJUSTMENT_REASON] if closed and who.may("closer") else []
    )
    return render(
        request,
        "post_form.html",
        who,
        status_code=status_code,
        unit=books.units[code],
        year=year,
        form=form,
        fields=[*form.fields, *extra],
        line_field=LINE,
        lines=lines,
        values={**form.defaults, **values},
        errors=errors,
        top_error=top_error,
    )


@router.get("/u/{unit}/{year:int}/post/{kind}")
def posting_form(
    request: Request,
    who: Who,
    unit: str,
    year: int,
    kind: str,
    line: Annotated[str | None, Query()] = None,
    reverses: Annotated[str | None, Query()] = None,
) -> Response:
    form = _form_of(kind)
    code, books = books_of_unit(request, who, unit)
    who.actor.require(form.command_type)
    values = {"command_id": new_command_id(), "business_date": today_in_china().isoformat()}
    if line:
        values["line"] = line
    if reverses:
        values["reverses_command_id"] = reverses
    return _form_page(request, who, form, code, books, year, values, {})


@router.post("/u/{unit}/{year:int}/post/{kind}")
async def post(request: Request, who: Who, unit: str, year: int, kind: str) -> Response:
    values = await require_csrf(request, who)
    form = _form_of(kind)
    code, books = books_of_unit(request, who, unit)
    who.actor.require(form.command_type)
    data = command_data(form, values, unit=code, year=year, identity=who.actor.identity)
    errors = invalid_fields(data)
    if errors or values.get("step") == "edit":
        return _form_page(
            request, who, form, code, books, year, values, errors, 422 if errors else 200
        )
    if values.get("step") != "post":  # first the confirmation: exactly what will be posted
        return render(
            request,
            "post_confirm.html",
            who,
            unit=books.units[code],
            year=year,
            form=form,
            rows=shown_values(form, data),
            values=values,
        )
    try:
        result = submit(request.app.state, parse_command(data), who.actor)
    except LedgerError as error:
        message = error.message_for(who.clearance)
        where = ERROR_FIELD.get(error.code)
        field_errors = {where: message} if where else {}
        return _form_page(
            request,
            who,
            form,
            code,
            books,
            year,
            values,
            field_errors,
            status_of(error),  # as the API answers: 403 for a role, 409 the books, …
            None if where else message,
        )
    outcome = "again" if result.status == "already_applied" else "posted"
    # The command id is the client's text (any but spaces and controls): encoded, so that
    # it cannot add parameters of its own to the journal's address.
    done = urlencode({"done": outcome, "command_id": result.command_id})
    return RedirectResponse(f"/u/{quote(code, safe='')}/{year}/journal?{done}", status_code=303)


# --- journal ------------------------------------------------------------------------------


@router.get("/u/{unit}/{year:int}/journal")
def journal_page(
    request: Request,
    who: Who,
    unit: str,
    year: int,
    line: Annotated[str | None, Query()] = None,
    project: Annotated[str | None, Query()] = None,
    payee: Annotated[str | None, Query()] = None,
    document_no: Annotated[str | None, Query()] = None,
    date_from: Annotated[str | None, Query()] = None,
    date_to: Annotated[str | None, Query()] = None,
    posted_by: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    done: Annotated[str | None, Query()] = None,
    command_id: Annotated[str | None, Query()] = None,
) -> Response:
    ledger_of(request).unit_in_scope(who.actor, unit)  # refused out of scope first
    chosen = {
        "line": line or None,
        "project": project or None,
        "payee": payee or None,
        "document_no": document_no or None,
        "date_from": date_from or None,
        "date_to": date_to or None,
        "posted_by": posted_by or None,
    }
    if any(chosen.values()):
        # A filtered journal answers what the (throttled) trail answers: counted alike.
        expensive(request, who)
    code, books = books_of_unit(request, who, unit)
    where = JournalFilter(
        **{k: v for k, v in chosen.items() if k not in ("date_from", "date_to")},
        date_from=_date(chosen["date_from"]),
        date_to=_date(chosen["date_to"]),
    )
    found = journal(
        # The year's lines' own events, through the primary key (not the whole log).
        ledger_of(request).read_events_of([ln.id for ln in books.lines_of(code, year)]),
        books,
        unit=code,
        year=year,
        where=where,
        page=page,
        clearance=who.clearance,
    )
    for entry in found.entries:
        entry["type_name"] = event_name(entry["type"])
        entry["reversible"] = entry["type"] in REVERSIBLE
    query = urlencode({k: v for k, v in chosen.items() if v})
    context: dict[str, Any] = {
        "unit": books.units[code],
        "year": year,
        "found": found,
        "chosen": chosen,
        "query": query,
        "done": done,
        "command_id": command_id,
        "may_post": who.may("clerk"),
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "journal_rows.html", who, **context)
    return render(request, "journal.html", who, **context)


REVERSIBLE = {
    "BudgetLine.Allocated",
    "BudgetLine.Reduced",
    "BudgetLine.TransferredToEnterprise",
    "BudgetLine.Disbursed",
    "BudgetLine.ClawedBack",
}


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadDate(text) from None


class BadDate(InvalidInput):
    """A date filter that is not YYYY-MM-DD."""

    def __init__(self, text: str) -> None:
        super().__init__(f"日期应为 YYYY-MM-DD：{text}")
