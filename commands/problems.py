"""Domain errors as HTTP problems (RFC 9457, ``application/problem+json``)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from ledger.chain_key import ChainKeyRequired
from ledger.errors import (
    AdjustmentNotAllowed,
    AlreadyExists,
    CloseBlocked,
    CommandIdReused,
    ConcurrentUpdate,
    Forbidden,
    InvalidAmount,
    InvalidInput,
    LedgerError,
    NatureMismatch,
    NotReversible,
    OutOfScope,
    Overspend,
    PossibleDuplicate,
    ProjectEnded,
    TakeOnClosed,
    Unauthorized,
    UnknownCode,
    UnknownDepartment,
    UnknownLine,
    UnknownProject,
    UnknownToken,
    UnknownUnit,
    YearClosed,
    YearNotOpen,
)

PROBLEM_JSON = "application/problem+json"

#: HTTP status of each domain error: 422 the input is wrong, 404 what it names is not
#: there, 409 the books do not allow it now, 403 the caller's role does not.
STATUS: dict[type[LedgerError], int] = {
    InvalidAmount: 422,
    InvalidInput: 422,
    UnknownCode: 422,
    NatureMismatch: 422,
    UnknownUnit: 404,
    UnknownDepartment: 404,
    UnknownProject: 404,
    UnknownLine: 404,
    UnknownToken: 404,
    YearNotOpen: 409,
    YearClosed: 409,
    Overspend: 409,
    AlreadyExists: 409,
    NotReversible: 409,
    CommandIdReused: 409,
    ConcurrentUpdate: 409,
    CloseBlocked: 409,
    AdjustmentNotAllowed: 409,
    PossibleDuplicate: 409,
    ProjectEnded: 409,
    TakeOnClosed: 409,
    Forbidden: 403,
    OutOfScope: 403,
    Unauthorized: 401,
    ChainKeyRequired: 503,
}

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Request too large",
    429: "Too many requests",
    422: "Unprocessable content",
    500: "Internal error",
    503: "Unavailable",
}


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem response with a stable ``code`` and a clerk-readable ``detail``."""
    body = {
        "type": f"https://fundflow.invalid/problems/{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def from_error(error: LedgerError, *, clearance: bool = False) -> JSONResponse:
    """The problem for ``error`` as the caller may read it: an error about a classified
    (涉密) line keeps its code, and its message names nothing without ``clearance``."""
    status = next((s for cls, s in STATUS.items() if isinstance(error, cls)), 422)
    return problem(status, error.code, error.message_for(clearance))


def too_many(detail: str, retry_after: int) -> JSONResponse:
    """429: the caller's token made too many expensive queries; ``Retry-After`` says when
    to try again (seconds)."""
    response = problem(429, "rate_limited", detail)
    response.headers["Retry-After"] = str(retry_after)
    return response
