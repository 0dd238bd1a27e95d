"""What every page of the 工作台 shares: the templates, the signed-in caller, and domain
errors shown as pages (not JSON)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from commands.app_state import ledger_of
from commands.callers import Caller, caller_of_token_id
from commands.problems import STATUS
from commands.rate_limit import RateLimited
from commands.web.session import COOKIE, Session, SessionSigner
from ledger.errors import LedgerError
from ledger.money import yuan_str
from ledger.roles import ALL_UNITS_ROLES, Role

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["yuan"] = yuan_str

ROLE_NAMES = {
    Role.AUDITOR: "审计",
    Role.CLERK: "会计",
    Role.CLOSER: "结账员",
    Role.ADMIN: "管理员",
}


class SignInRequired(Exception):
    """No valid session: the person is sent to the sign-in page."""


class WebCaller:
    """The signed-in person: their token's caller and their session (for the CSRF token)."""

    def __init__(self, caller: Caller, session: Session) -> None:
        self.caller = caller
        self.session = session
        self.actor = caller.actor
        self.clearance = caller.clearance

    def may(self, role: str) -> bool:
        return self.actor.at_least(Role(role))

    @property
    def ledger_wide(self) -> bool:
        """An auditor or admin of every unit: may see what is about the whole ledger (the
        hash chain's length and head), not only their units' books."""
        return self.actor.role in ALL_UNITS_ROLES and self.actor.units is None

    @property
    def role_name(self) -> str:
        return ROLE_NAMES[self.actor.role]


def signer_of(request: Request) -> SessionSigner:
    signer: SessionSigner = request.app.state.web_signer
    return signer


def signed_in(request: Request) -> WebCaller:
    """The dependency of every page but sign-in: the session's caller, looked up again
    (a revoked token is signed out at once)."""
    session = signer_of(request).load(request.cookies.get(COOKIE))
    if session is None:
        raise SignInRequired
    caller = caller_of_token_id(ledger_of(request), session.token_id)
    if caller is None:
        raise SignInRequired
    request.state.identity = caller.actor.identity
    request.state.clearance = caller.clearance
    return WebCaller(caller, session)


def expensive(request: Request, who: WebCaller) -> None:
    """Count an expensive query (the trail, a filtered journal, a past view, a download)
    against the signed-in token, as the API does: refused with 429 over the limit."""
    request.app.state.throttle.take(who.caller.token_id)


def render(
    request: Request, name: str, who: WebCaller | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    response: HTMLResponse = templates.TemplateResponse(
        request, name, {"who": who, **context}, status_code=status_code
    )
    response.headers.update(PAGE_HEADERS)
    return response


#: Every page: never cached (it shows the books as one caller may see them), never framed
#: (clickjacking), scripts and styles from the service only (htmx is vendored).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
}


def status_of(error: LedgerError) -> int:
    """The status of a refusal, as the API answers it (:data:`commands.problems.STATUS`):
    429 over the rate limit, 403 for a role or scope, …; 409 for what the books refuse."""
    if isinstance(error, RateLimited):
        return 429
    return next((s for c, s in STATUS.items() if isinstance(error, c)), 409)


class WebRoute(APIRoute):
    """A page route: a refusal of the books is a page with the clerk's message, never a
    JSON problem; an expired session goes to sign-in."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInRequired:
                return RedirectResponse("/signin", status_code=303)
            except LedgerError as error:
                clearance = bool(getattr(request.state, "clearance", False))
                page = render(
                    request,
                    _error_template(request),
                    None,
                    status_code=status_of(error),
                    code=error.code,
                    message=error.message_for(clearance),
                )
                if isinstance(error, RateLimited):
                    page.headers["Retry-After"] = str(error.retry_after)
                return page
            except RequestValidationError as error:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e['msg']}"
                    for e in error.errors()
                )
                return render(
                    request,
                    _error_template(request),
                    None,
                    status_code=422,
                    code="invalid_input",
                    message=problems,
                )

        return route


def _error_template(request: Request) -> str:
    """A refusal as a whole page, or as the fragment htmx puts where the answer was asked
    for (a filtered journal, the lines of a year)."""
    return "error_fragment.html" if request.headers.get("HX-Request") == "true" else "error.html"
