"""The HTTP API treasury staff post to. Thin: authenticate, parse, build the command, call
the handler, map domain errors to ``application/problem+json``.

Every posting needs an ``Idempotency-Key`` header (or a ``command_id`` in the body): a retry
with the same key and body returns the original result (200, ``Idempotent-Replayed: true``)
and writes nothing; the same key with another body is refused (409). The acting identity is
the token's, recorded as ``posted_by`` of every event.
"""

import inspect
import re
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import psycopg
import structlog
from eventsourcing.persistence import PersistenceError
from fastapi import Body, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commands.app_state import ledger_of, services_of, services_of_app
from commands.batch_api import PATH as BATCH_PATH
from commands.batch_api import add_batch_route
from commands.callers import SERVICE_MAX_ATTEMPTS, Caller, caller_of_token, submit
from commands.catalogues import search as search_catalogues
from commands.closing import CloseReport, abandon_close, close_year, resume_close
from commands.group_commit import GroupCommitter
from commands.handlers import CommandHandler, CommandResult
from commands.json_input import MAX_DEPTH, DuplicateKey, TooDeep, strict_loads
from commands.models import (
    AllocateBudget,
    AssignUnitToDepartment,
    ClawBack,
    Command,
    DeclareDepartment,
    Disburse,
    DistributeBalance,
    ImportPriorYearFigures,
    OpenBalance,
    OpenBudgetLine,
    OpenFiscalYear,
    RecordReceipt,
    RecordYearFacts,
    ReduceBudget,
    RegisterProject,
    RegisterUnit,
    ReopenFiscalYear,
    ReverseEntry,
    SetThreePublicBudget,
    TransferToEnterprise,
    UseNonFiscalBalance,
    parse_command,
)
from commands.problems import from_error, problem, too_many
from commands.process import die_with_parent
from commands.rate_limit import RateLimited, TableBuckets, Throttle
from commands.web import mount_web
from ledger.amount_units import AmountUnit, amounts_in
from ledger.application import Ledger
from ledger.classifications.catalogue import CatalogueKind
from ledger.closing.policy import load_policy
from ledger.composition import Services, build_services
from ledger.errors import Forbidden, LedgerError, Unauthorized
from ledger.logging import configure_logging
from ledger.money import yuan_str
from ledger.roles import REQUIRED_ROLE, Role
from ledger.settings import Settings
from projections.audit_trail import unit_trail
from projections.balances import balances_report
from projections.checks import check_year
from projections.departments import department_final_accounts, department_for
from projections.execution import execution_report
from projections.final_accounts import final_accounts
from projections.read_model import books_for_reports

log = structlog.get_logger("fundflow.http")

# --- request size limit -------------------------------------------------------------


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, whether or not they say their
    length up front."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}  # paths allowed more (the batch route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem(
            413, "request_too_large", f"the request body is larger than {limit} bytes"
        )
        await response(scope, receive, send)


class RejectDuplicateKeys:
    """Refuse a JSON body that names a field twice (400): which value would count?"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            strict_loads(body or b"null")
        except DuplicateKey as error:
            response = problem(400, "duplicate_key", f"the request names the field {error} twice")
            await response(scope, receive, send)
            return
        except TooDeep:
            response = problem(
                400,
                "nesting_too_deep",
                f"the request body nests objects or lists more than {MAX_DEPTH} levels deep; "
                "no posting is shaped like that",
            )
            await response(scope, receive, send)
            return
        except ValueError:
            pass  # not JSON: the route reports it

        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


# --- the application ----------------------------------------------------------------


def create_app(settings: Settings | None = None, *, ledger: Ledger | None = None) -> FastAPI:
    """The service, connected to the settings' database when it starts. Without
    settings (a worker process of ``fundflow serve --workers``) they come from the
    environment, logging included."""
    if settings is None:
        die_with_parent()  # a worker of `serve --workers`: never outlive the supervisor
        settings = Settings()
        configure_logging(settings.log_level if settings.log_level != "WARNING" else "INFO")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if ledger is None:
            _serve(app, build_services(settings), settings)
        if settings.group_commit:
            app.state.committer = GroupCommitter(
                services_of_app(app).ledger, max_attempts=SERVICE_MAX_ATTEMPTS
            )
        try:
            yield
        finally:
            if settings.group_commit:
                app.state.committer.close()
            if ledger is None:  # a ledger given by the caller is closed by the caller
                services_of_app(app).close()

    app = FastAPI(
        title="fundflow",
        version="0.1.0",
        description=__doc__,
        lifespan=lifespan,
        docs_url=None,  # served from the package's own copy of Swagger UI (no CDN)
        redoc_url=None,
    )
    if ledger is not None:
        _serve(app, Services.of(ledger), settings)
    _install_error_handlers(app)
    app.add_middleware(RejectDuplicateKeys)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_request_bytes,
        larger={BATCH_PATH: max(settings.max_batch_bytes, settings.max_request_bytes)},
    )
    # Outermost (added last): every response, 400 / 413 / 500 included, is logged and
    # carries its request id.
    _install_access_log(app)
    _install_docs(app)

    @app.get("/health", tags=["operations"])
    def health(request: Request) -> JSONResponse:
        """Checks that the database answers."""
        try:
            position = ledger_of(request).position()
        except Exception as error:
            log.warning("health_failed", error=type(error).__name__)
            return problem(503, "database_unavailable", "the database does not answer")
        return JSONResponse({"status": "ok", "log_position": position})

    for spec in COMMAND_ROUTES:
        _add_command_route(app, spec)
    _add_close_route(app, settings)
    _add_report_routes(app)
    _add_audit_routes(app)
    _add_catalogue_route(app)
    add_batch_route(app, requires, _PROBLEM_RESPONSES)
    mount_web(app, settings)  # the 工作台 at /, over the same callers and handler
    return app


def _serve(app: FastAPI, services: Services, settings: Settings) -> None:
    """Leave what the composition root built on the application for its routes: the
    services, and the auditors' rate limit, its buckets kept in the ledger's database
    (shared by every worker process) unless the ledger is in memory."""
    app.state.services = services
    app.state.throttle = Throttle(
        settings.auditor_queries_per_minute,
        settings.auditor_query_burst,
        buckets=None if services.tables is None else TableBuckets(services.tables),
    )


# --- authentication and roles -------------------------------------------------------


def authenticate(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <token>")] = None,
) -> Caller:
    """The caller of a token: ``Authorization: Bearer ff_<id>_<secret>``."""
    refused = Unauthorized("a valid API token is required: Authorization: Bearer <token>")
    if not authorization or not authorization.startswith("Bearer "):
        raise refused
    caller = caller_of_token(ledger_of(request), authorization.removeprefix("Bearer "))
    if caller is None:
        raise refused
    request.state.identity = caller.actor.identity
    request.state.token_id = caller.token_id  # the rate limit of expensive queries
    request.state.clearance = caller.clearance  # errors are shown as the caller may read them
    return caller


def scoped(role: Role) -> Callable[..., Caller]:
    """A dependency admitting callers with at least ``role`` whose units include the path's
    unit (403 ``out_of_scope`` otherwise) — decided before the body is even read."""
    admit = requires(role)

    def dependency(
        request: Request,
        unit: Annotated[str, Path(min_length=1, max_length=200)],
        caller: Annotated[Caller, Depends(admit)],
    ) -> Caller:
        ledger_of(request).unit_in_scope(caller.actor, unit)
        return caller

    return dependency


def requires(role: Role) -> Callable[..., Caller]:
    """A dependency admitting callers with at least ``role`` (403 otherwise)."""

    def dependency(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if not caller.actor.at_least(role):
            raise Forbidden(
                f"{caller.actor.identity} ({caller.actor.role.value}) may not do this: "
                f"it needs the {role.value} role"
            )
        return caller

    return dependency


# --- command routes -----------------------------------------------------------------

ALWAYS_FROM_ELSEWHERE = {"type", "command_id", "posted_by"}


@dataclass(frozen=True)
class CommandRoute:
    path: str
    command: type[Command]
    summary: str

    @property
    def path_params(self) -> list[str]:
        return [p for p in ("unit", "year", "line") if "{" + p + "}" in self.path]

    @property
    def role(self) -> Role:
        command_type = self.command.model_fields["type"].default
        return REQUIRED_ROLE.get(command_type, Role.CLERK)


UnitPath = Annotated[str, Path(min_length=1, max_length=200, description="Unit code or full name.")]
UNIT = "/v1/units/{unit}"
YEAR = UNIT + "/years/{year}"
LINE = YEAR + "/lines/{line}"
COMMAND_ROUTES = [
    CommandRoute("/v1/units", RegisterUnit, "Register a unit (admin)"),
    CommandRoute("/v1/departments", DeclareDepartment, "Declare a department (admin)"),
    CommandRoute(
        "/v1/department-members", AssignUnitToDepartment, "Assign a unit to a department (admin)"
    ),
    CommandRoute(UNIT + "/years", OpenFiscalYear, "Open a fiscal year (admin)"),
    CommandRoute(UNIT + "/projects", RegisterProject, "Register a project"),
    CommandRoute(YEAR + "/lines", OpenBudgetLine, "Open a budget line"),
    CommandRoute(LINE + "/allocations", AllocateBudget, "下达 / 追加: allocate to a line"),
    CommandRoute(LINE + "/reductions", ReduceBudget, "追减: reduce a line"),
    CommandRoute(LINE + "/transfers", TransferToEnterprise, "拨付: transfer to an enterprise"),
    CommandRoute(LINE + "/disbursements", Disburse, "支付: pay from a line"),
    CommandRoute(LINE + "/clawbacks", ClawBack, "财政收回: claw back unspent money"),
    CommandRoute(LINE + "/reversals", ReverseEntry, "红字冲销: reverse a posting"),
    CommandRoute(LINE + "/opening-balance", OpenBalance, "年初结转和结余: take on"),
    CommandRoute(LINE + "/receipts", RecordReceipt, "Non-fiscal income received on a line"),
    CommandRoute(LINE + "/non-fiscal-balance-used", UseNonFiscalBalance, "使用非财政拨款结余"),
    CommandRoute(LINE + "/balance-distributions", DistributeBalance, "结余分配"),
    CommandRoute(
        YEAR + "/prior-year-figures", ImportPriorYearFigures, "Record published prior-year figures"
    ),
    CommandRoute(YEAR + "/three-public-budget", SetThreePublicBudget, "“三公”经费预算"),
    CommandRoute(YEAR + "/facts", RecordYearFacts, "Staff, vehicles, assets of the year"),
    CommandRoute(YEAR + "/reopen", ReopenFiscalYear, "Reopen a closed year (admin)"),
]


def body_model(route: CommandRoute) -> type[BaseModel]:
    """The request body of a command: its fields less those the path, the header and the
    token supply."""
    excluded = ALWAYS_FROM_ELSEWHERE | set(route.path_params)
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in route.command.model_fields.items()
        if name not in excluded
    }
    fields["command_id"] = (
        str | None,
        Field(
            default=None,
            min_length=1,
            max_length=64,
            description="Alternative to the Idempotency-Key header.",
        ),
    )
    model: type[BaseModel] = create_model(
        f"{route.command.__name__}Body",
        __config__=ConfigDict(extra="forbid"),
        __doc__=route.command.__doc__,
        **fields,
    )
    return model


def _path_parameter(name: str) -> inspect.Parameter:
    kind = inspect.Parameter.KEYWORD_ONLY
    if name == "year":
        return inspect.Parameter(name, kind, annotation=Annotated[int, Path(ge=1949, le=2200)])
    longest = 200 if name == "unit" else 64  # a unit may be named by its full name
    return inspect.Parameter(
        name, kind, annotation=Annotated[str, Path(min_length=1, max_length=longest)]
    )


def _add_command_route(app: FastAPI, route: CommandRoute) -> None:
    model = body_model(route)

    def endpoint(**params: Any) -> Response:
        request: Request = params.pop("request")
        caller: Caller = params.pop("caller")
        body: BaseModel = params.pop("body")
        key: str | None = params.pop("idempotency_key")
        data = body.model_dump(mode="json")
        if key is not None:
            # HTTP headers travel as bytes; Starlette reads them as Latin-1. The key is
            # UTF-8 (as curl sends 记-2023-03-0001): read it so, or refuse it.
            try:
                key = key.encode("latin-1").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                return problem(
                    400,
                    "invalid_idempotency_key",
                    "the Idempotency-Key header is not UTF-8 text; send the key as UTF-8",
                )
        command_id = key or data.pop("command_id", None)
        data.pop("command_id", None)
        if not command_id:
            return problem(
                400,
                "idempotency_key_required",
                "every posting needs an Idempotency-Key header (or a command_id), "
                "so that a retry cannot post twice",
            )
        data.update(params)
        data.update(
            type=route.command.model_fields["type"].default,
            command_id=command_id,
            posted_by=caller.actor.identity,
        )
        request.state.command = data["type"]
        command = parse_command(data)
        result = submit(request.app.state, command, caller.actor)
        request.state.outcome = result.status
        replayed = result.status == "already_applied"
        return JSONResponse(
            result.shown_to(caller.clearance).model_dump(mode="json"),
            status_code=200 if replayed else 201,
            headers={"Idempotent-Replayed": "true" if replayed else "false"},
        )

    kind = inspect.Parameter.KEYWORD_ONLY
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("request", kind, annotation=Request),
            *(_path_parameter(p) for p in route.path_params),
            inspect.Parameter("body", kind, annotation=Annotated[model, Body()]),
            inspect.Parameter(
                "idempotency_key",
                kind,
                annotation=Annotated[
                    str | None,
                    Header(
                        alias="Idempotency-Key",
                        min_length=1,
                        max_length=256,  # bytes as received; the decoded id is checked
                        description="Your id for this posting; resend it to retry safely.",
                    ),
                ],
                default=None,
            ),
            inspect.Parameter(
                "caller",
                kind,
                annotation=Annotated[
                    Caller,
                    Depends(
                        scoped(route.role) if "unit" in route.path_params else requires(route.role)
                    ),
                ],
            ),
        ]
    )
    app.add_api_route(
        route.path,
        endpoint,
        methods=["POST"],
        summary=route.summary,
        response_model=CommandResult,
        status_code=201,
        tags=["postings"],
        responses=_PROBLEM_RESPONSES,
    )


_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    s: {"description": d, **_PROBLEM}
    for s, d in [
        (400, "Malformed request"),
        (401, "No valid token"),
        (403, "Role does not allow it"),
        (404, "Not found"),
        (409, "The books do not allow it"),
        (413, "Request too large"),
        (422, "Invalid input"),
        (429, "Too many expensive queries from this token (Retry-After says when to retry)"),
    ]
}


class CloseResult(BaseModel):
    unit: str
    year: int
    already_closed: bool
    resumed: bool
    carried_over: str
    lapsed: str
    adjustment_until: date | None
    seal: str | None = None
    """POSITION:HASH, the chain's head the close finished on: file it outside the database
    (``audit verify --expect-head`` checks it)."""


class CloseRequest(BaseModel):
    """Optional body of a close."""

    model_config = ConfigDict(extra="forbid")
    before_year_end: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    """Why the year is closed before its 31 December (refused without it)."""


class StuckCloseRequest(BaseModel):
    """An admin's decision about a stuck close, with its reason."""

    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


def _close_result(report: CloseReport, year: int) -> CloseResult:
    return CloseResult(
        unit=report.unit,
        year=year,
        already_closed=report.already_closed,
        resumed=report.resumed,
        carried_over=yuan_str(report.carried_over),
        lapsed=yuan_str(report.lapsed),
        adjustment_until=report.adjustment_until,
        seal=str(report.seal) if report.seal else None,
    )


def _add_close_route(app: FastAPI, settings: Settings) -> None:
    @app.post(
        YEAR + "/close", tags=["year-end"], response_model=CloseResult, responses=_PROBLEM_RESPONSES
    )
    def close(
        request: Request,
        unit: UnitPath,
        year: Annotated[int, Path(ge=1949, le=2200)],
        caller: Annotated[Caller, Depends(scoped(Role.CLOSER))],
        body: Annotated[CloseRequest | None, Body()] = None,
    ) -> CloseResult:
        """年终结账: carry over or lapse what is unspent, lock the year, open the next.
        Safe to call again: a close is applied once. Before the year's 31 December only
        with ``before_year_end`` (the reason)."""
        request.state.command = "close_year"
        report = close_year(
            services_of(request),
            unit,
            year,
            policy=load_policy(settings.closing_policy),
            actor=caller.actor,
            before_year_end=None if body is None else body.before_year_end,
        )
        return _close_result(report, year)

    @app.post(
        YEAR + "/close/resume",
        tags=["year-end"],
        response_model=CloseResult,
        responses=_PROBLEM_RESPONSES,
    )
    def resume(
        request: Request,
        unit: UnitPath,
        year: Annotated[int, Path(ge=1949, le=2200)],
        caller: Annotated[Caller, Depends(scoped(Role.ADMIN))],
        body: Annotated[StuckCloseRequest, Body()],
    ) -> CloseResult:
        """Let a stuck close go on with fresh steps, and run it to the end (admin)."""
        request.state.command = "resume_closing"
        report = resume_close(
            services_of(request),
            unit,
            year,
            reason=body.reason,
            policy=load_policy(settings.closing_policy),
            actor=caller.actor,
        )
        return _close_result(report, year)

    @app.post(YEAR + "/close/abandon", tags=["year-end"], responses=_PROBLEM_RESPONSES)
    def abandon(
        request: Request,
        unit: UnitPath,
        year: Annotated[int, Path(ge=1949, le=2200)],
        caller: Annotated[Caller, Depends(scoped(Role.ADMIN))],
        body: Annotated[StuckCloseRequest, Body()],
    ) -> dict[str, str]:
        """Give up a stuck close: the year is open again (admin)."""
        request.state.command = "abandon_closing"
        message = abandon_close(
            ledger_of(request), unit, year, reason=body.reason, actor=caller.actor
        )
        return {"unit": unit, "year": str(year), "message": message}


# --- reports ------------------------------------------------------------------------


def _add_report_routes(app: FastAPI) -> None:
    reports: dict[str, Callable[..., dict[str, Any]]] = {
        "final-accounts": final_accounts,
        "execution": execution_report,
        "balances": balances_report,
    }
    for name, build in reports.items():
        _add_report_route(app, name, build)
    _add_department_report_route(app)

    @app.get(YEAR + "/check", tags=["reports"], responses=_PROBLEM_RESPONSES)
    def check(
        request: Request,
        unit: UnitPath,
        year: Annotated[int, Path(ge=1949, le=2200)],
        caller: Annotated[Caller, Depends(scoped(Role.AUDITOR))],
    ) -> dict[str, Any]:
        """Every identity of the year's accounts, and whether it holds."""
        _expensive(request)
        books = books_for_reports(ledger_of(request), services_of(request).read_models, unit=unit)
        checks = check_year(books, unit, year, clearance=caller.clearance)
        return {
            "unit": unit,
            "year": year,
            "ok": all(c.ok for c in checks),
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
        }


def _add_audit_routes(app: FastAPI) -> None:
    @app.get(UNIT + "/audit/trail", tags=["audit"], responses=_PROBLEM_RESPONSES)
    def trail(
        request: Request,
        unit: UnitPath,
        caller: Annotated[Caller, Depends(scoped(Role.AUDITOR))],
        year: Annotated[int | None, Query(ge=1949, le=2200)] = None,
        line: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        project: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        enterprise: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
        document_no: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    ) -> list[dict[str, Any]]:
        """Every event touching one line (``year`` and ``line``), one project, one payee,
        or the line entries under one document number; classified (涉密) ones only with
        clearance."""
        _expensive(request)
        return unit_trail(
            ledger_of(request),
            services_of(request).read_models,
            unit=unit,
            year=year,
            line=line,
            project=project,
            enterprise=enterprise,
            document_no=document_no,
            clearance=caller.clearance,
        )


def _add_catalogue_route(app: FastAPI) -> None:
    @app.get("/v1/catalogues/search", tags=["catalogues"], responses=_PROBLEM_RESPONSES)
    def search_codes(
        request: Request,
        caller: Annotated[Caller, Depends(requires(Role.AUDITOR))],
        q: Annotated[
            str, Query(min_length=1, max_length=100, description="Code prefix or name part.")
        ],
        year: Annotated[int | None, Query(ge=1949, le=2200)] = None,
        kind: CatalogueKind | None = None,
    ) -> dict[str, Any]:
        """Codes of the classification catalogue(s) of a year (default: this year) by code
        prefix or part of the name, and which catalogue answered (imported or shipped)."""
        return search_catalogues(CommandHandler(ledger_of(request)), q, year=year, kind=kind)


def _add_department_report_route(app: FastAPI) -> None:
    @app.get(
        "/v1/departments/{department}/years/{year}/reports/final-accounts",
        tags=["reports"],
        responses=_PROBLEM_RESPONSES,
    )
    def department_report(
        request: Request,
        department: Annotated[str, Path(min_length=1, max_length=64)],
        year: Annotated[int, Path(ge=1949, le=2200)],
        caller: Annotated[Caller, Depends(requires(Role.AUDITOR))],
        as_of: Annotated[
            date | None, Query(description="Business date: the books that day.")
        ] = None,
        as_of_position: Annotated[
            int | None, Query(ge=0, description="Log position: the books at that moment.")
        ] = None,
    ) -> dict[str, Any]:
        """The 部门决算 of a department: its units consolidated, transfers between them
        eliminated, each unit's report beside it (every member unit must be in scope)."""
        return _consolidated(
            request, caller, department, year, as_of_position=as_of_position, as_of_date=as_of
        )

    @app.get(
        "/v1/departments/{department}/years/{year}/check",
        tags=["reports"],
        responses=_PROBLEM_RESPONSES,
    )
    def department_check(
        request: Request,
        department: Annotated[str, Path(min_length=1, max_length=64)],
        year: Annotated[int, Path(ge=1949, le=2200)],
        caller: Annotated[Caller, Depends(requires(Role.AUDITOR))],
    ) -> dict[str, Any]:
        """Every identity of the department's consolidation and of each of its units."""
        report = _consolidated(request, caller, department, year)
        return {
            "department": report["department"],
            "year": year,
            "ok": report["ok"],
            "checks": report["checks"],
        }


def _consolidated(
    request: Request,
    caller: Caller,
    department: str,
    year: int,
    *,
    as_of_position: int | None = None,
    as_of_date: date | None = None,
) -> dict[str, Any]:
    """A department's 部门决算 for a caller who may see every member unit (counted as an
    expensive auditor query)."""
    _expensive(request)
    ledger = ledger_of(request)
    view = department_for(ledger, caller.actor, department)
    books = books_for_reports(
        ledger,
        services_of(request).read_models,
        as_of_position=as_of_position,
        as_of_date=as_of_date,
        units=view.units,
    )
    return department_final_accounts(books, view, year, clearance=caller.clearance)


def _expensive(request: Request) -> None:
    """Count an expensive auditor query against the caller's token (429 over the limit)."""
    request.app.state.throttle.take(request.state.token_id)


def _add_report_route(app: FastAPI, name: str, build: Callable[..., dict[str, Any]]) -> None:
    @app.get(YEAR + f"/reports/{name}", tags=["reports"], name=name, responses=_PROBLEM_RESPONSES)
    def report(
        request: Request,
        unit: UnitPath,
        year: Annotated[int, Path(ge=1949, le=2200)],
        caller: Annotated[Caller, Depends(scoped(Role.AUDITOR))],
        as_of: Annotated[
            date | None, Query(description="Business date: the books that day.")
        ] = None,
        as_of_position: Annotated[
            int | None, Query(ge=0, description="Log position: the books at that moment.")
        ] = None,
        amount_unit: Annotated[
            AmountUnit,
            Query(description="wanyuan (万元, default) or yuan (元): each figure half-up."),
        ] = AmountUnit.WANYUAN,
    ) -> dict[str, Any]:
        if as_of is not None or as_of_position is not None:
            _expensive(request)
        books = books_for_reports(
            ledger_of(request),
            services_of(request).read_models,
            as_of_position=as_of_position,
            as_of_date=as_of,
            unit=unit,
        )
        with amounts_in(amount_unit):
            return build(books, unit, year, clearance=caller.clearance)

    report.__doc__ = f"The {name} report of a unit's year, as JSON."


# --- errors and access log ------------------------------------------------------------


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def ledger_error(request: Request, error: LedgerError) -> Response:
        request.state.outcome = error.code
        return from_error(error, clearance=getattr(request.state, "clearance", False))

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, error: RateLimited) -> Response:
        request.state.outcome = error.code
        return too_many(str(error), error.retry_after)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        problems = []
        codes = set()  # as parse_command: one kind of domain error keeps its own code
        for item in error.errors():
            if item.get("type") == "json_invalid":
                request.state.outcome = "malformed_json"
                return problem(400, "malformed_json", "the request body is not valid JSON")
            where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
            underlying = (item.get("ctx") or {}).get("error")
            message = underlying.message if isinstance(underlying, LedgerError) else item["msg"]
            codes.add(underlying.code if isinstance(underlying, LedgerError) else "invalid_input")
            problems.append({"field": where, "message": str(message).removeprefix("Value error, ")})
        code = codes.pop() if len(codes) == 1 else "invalid_input"
        request.state.outcome = code
        detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return problem(422, code, detail, errors=problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return problem(error.status_code, code, str(error.detail))

    @app.exception_handler(PersistenceError)
    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(TimeoutError)  # the writer did not get to it in time
    async def database_trouble(request: Request, error: Exception) -> Response:
        request.state.outcome = "database_unavailable"
        log.warning(
            "database_unavailable",
            error=type(error).__name__,
            request_id=getattr(request.state, "request_id", None),
        )
        response = problem(
            503,
            "database_unavailable",
            "the database did not answer; nothing of this request is known to be stored. "
            "Send it again with the same Idempotency-Key: it will take effect exactly once.",
        )
        response.headers["Retry-After"] = "1"
        return response


def _install_docs(app: FastAPI) -> None:
    """``/docs`` from the package's own copy of Swagger UI: it works on a network without
    internet (no CDN). The assets come from the ``swagger-ui-bundle`` package."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/static/swagger-ui", StaticFiles(directory=str(swagger_ui_path)), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="fundflow — API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
        )


def _install_access_log(app: FastAPI) -> None:
    app.add_middleware(AccessLog)


_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: A line code in a path may be classified (涉密): the access log names ``{line}`` instead.
LINE_IN_PATH = re.compile(r"(/lines/)[^/]+")


class AccessLog:
    """One JSON log line per request (never the token, never a line code), and an
    ``X-Request-ID`` on every response. Plain ASGI: no extra task or stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        # A caller's request id is kept only if it is plain (it goes into every log line).
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            # Whatever escaped every handler: answered here, so that it too carries its
            # request id and is logged (type and place only: messages may hold data).
            if responded:
                raise
            frame = traceback.extract_tb(error.__traceback__)[-1:]
            log.error(
                "unexpected_error",
                request_id=request_id,
                error=type(error).__name__,
                at=f"{frame[0].filename}:{frame[0].lineno}" if frame else None,
            )
            state["outcome"] = "internal_error"
            await problem(
                500,
                "internal_error",
                "the service failed; nothing of this request was written unless its "
                "result was returned. Retry with the same Idempotency-Key.",
            )(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                request_id=request_id,
                method=scope["method"],
                path=LINE_IN_PATH.sub(r"\1{line}", scope["path"]),
                status=status,
                identity=state.get("identity"),
                command=state.get("command"),
                outcome=state.get("outcome"),
                latency_ms=round((time.perf_counter() - started) * 1000, 2),
            )
