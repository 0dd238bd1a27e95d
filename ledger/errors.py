"""Typed domain errors. Each carries a stable ``code`` and a message a clerk understands.

A command that raises one of these has changed nothing: rules are checked before
any event is stored, and events of one command are stored in one transaction.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every rule the ledger enforces. ``code`` is stable across releases.

    Errors that can be raised while parsing input also derive from ``ValueError``, so
    that pydantic reports them against the field that held the bad value.
    """

    code = "ledger_error"

    redacted: str | None = None
    """The message for someone without clearance when ``message`` names classified (涉密)
    detail (a line, its title, its balance), set where the error is handled; ``None`` when
    the message names nothing classified. Adapters show :meth:`message_for` the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def message_for(self, clearance: bool) -> str:
        """The message a caller with (or without) clearance may read; logs use ``False``."""
        return self.message if clearance or self.redacted is None else self.redacted


class InvalidAmount(LedgerError, ValueError):
    """An amount that is not exact in fen, not positive, not a number or absurdly large."""

    code = "invalid_amount"


class InvalidInput(LedgerError):
    """A command whose fields are malformed (missing, wrong type, unknown field)."""

    code = "invalid_input"


class UnknownCode(LedgerError, ValueError):
    """A function, economic or fund-source code that is not in the classification."""

    code = "unknown_code"


class UnknownUnit(LedgerError):
    """A unit (预算单位) that has not been registered."""

    code = "unknown_unit"


class UnknownProject(LedgerError):
    """A project that has not been registered for the unit."""

    code = "unknown_project"


class UnknownLine(LedgerError):
    """A budget line (预算指标) that has not been opened."""

    code = "unknown_line"


class UnknownToken(LedgerError):
    """An API token id that was never issued."""

    code = "unknown_token"


class Unauthorized(LedgerError):
    """No token, a malformed, unknown or revoked one: the caller is not identified."""

    code = "unauthorized"


class AlreadyExists(LedgerError):
    """A unit, year, project or line that is already there."""

    code = "already_exists"


class YearNotOpen(LedgerError):
    """The fiscal year of the line has not been opened for the unit."""

    code = "year_not_open"


class YearClosed(LedgerError):
    """The fiscal year is closed: nothing may be posted into it."""

    code = "year_closed"


class Overspend(LedgerError):
    """The posting would take a budget line below zero available."""

    code = "overspend"


class NatureMismatch(LedgerError):
    """An economic code or three-public category that the line's purpose does not allow."""

    code = "nature_mismatch"


class NotReversible(LedgerError):
    """A reversal that names an entry which cannot be reversed (missing, already reversed)."""

    code = "not_reversible"


class Forbidden(LedgerError):
    """The acting user's role does not allow the command."""

    code = "forbidden"


class ProjectEnded(LedgerError):
    """A project's line opened for a year after the project's final year, without a reason."""

    code = "project_ended"


class OutOfScope(LedgerError):
    """The acting user (token or CLI actor) is not scoped to the unit the request is about."""

    code = "out_of_scope"


class PossibleDuplicate(LedgerError):
    """A posting equal to an earlier one of the line that has not been reversed (same kind,
    document number, payee and amount): refused unless the clerk confirms it with a reason."""

    code = "possible_duplicate"


class AdjustmentNotAllowed(LedgerError):
    """A posting into a closed year outside the adjustment rules."""

    code = "adjustment_not_allowed"


class CloseBlocked(LedgerError):
    """Something prevents a clean year-end close (the message says what)."""

    code = "close_blocked"


class CommandIdReused(LedgerError):
    """A command id seen before, sent again with different content."""

    code = "command_id_reused"


class ConcurrentUpdate(LedgerError):
    """The line kept changing under the command; retried and gave up. Safe to resend."""

    code = "concurrent_update"


class TakeOnClosed(LedgerError):
    """An opening balance (take-on) that can no longer be taken on: the year already has
    postings, or its prior year is in the ledger (its close gives the opening)."""

    code = "take_on_closed"


class UnknownDepartment(LedgerError):
    """A department (部门) that has not been declared."""

    code = "unknown_department"
