"""Who may do what. The CLI runs as the role it is given (a local operator with database
access); the service derives the role from the caller's token."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import Forbidden, OutOfScope


class Role(StrEnum):
    """Roles, from least to most powerful (auditor reads everything, posts nothing)."""

    AUDITOR = "auditor"
    CLERK = "clerk"
    """Posts into open years."""
    CLOSER = "closer"
    """Runs the year-end close; posts adjustments into a closed year in its adjustment period."""
    ADMIN = "admin"
    """Registers units and opens years; reopens a closed year."""


#: The least role each command needs.
REQUIRED_ROLE: dict[str, Role] = {
    "register_unit": Role.ADMIN,
    "declare_department": Role.ADMIN,
    "assign_unit_to_department": Role.ADMIN,
    "open_fiscal_year": Role.ADMIN,
    "reopen_fiscal_year": Role.ADMIN,
    "resume_closing": Role.ADMIN,
    "abandon_closing": Role.ADMIN,
    "start_closing": Role.CLOSER,
    "close_line": Role.CLOSER,
    "finish_closing": Role.CLOSER,
    "open_balance": Role.CLOSER,
    "issue_token": Role.ADMIN,
    "import_catalogue": Role.ADMIN,
    "revoke_token": Role.ADMIN,
}
_RANK = {Role.AUDITOR: 0, Role.CLERK: 1, Role.CLOSER: 2, Role.ADMIN: 3}


#: Roles that may act in every unit without naming them (a clerk or closer belongs to
#: the units named on their token).
ALL_UNITS_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})


@dataclass(frozen=True)
class Actor:
    """The identity, role and unit scope a command runs under."""

    identity: str
    role: Role
    units: frozenset[str] | None = None
    """Unit codes this actor may act in or read; ``None``: every unit."""
    clearance: bool = False
    """May see classified (涉密) projects in detail."""

    def in_scope(self, unit_code: str) -> bool:
        return self.units is None or unit_code in self.units

    def require_scope(self, unit_code: str, *, named: str | None = None) -> None:
        """Raise :class:`OutOfScope` unless this actor may act in ``unit_code``. The message
        names the unit as the caller named it (``named``), so that it tells nothing about
        a unit outside the caller's scope — not even its code."""
        if not self.in_scope(unit_code):
            raise OutOfScope(
                f"{self.identity} may not act in unit {named or unit_code}: it is outside "
                "the units this user is scoped to"
            )

    def at_least(self, role: Role) -> bool:
        return _RANK[self.role] >= _RANK[role]

    def require(self, command_type: str) -> None:
        """Raise :class:`Forbidden` unless this actor may run ``command_type``."""
        needed = REQUIRED_ROLE.get(command_type, Role.CLERK)
        if not self.at_least(needed):
            raise Forbidden(
                f"{self.identity} ({self.role.value}) may not {command_type.replace('_', ' ')}:"
                f" that needs the {needed.value} role"
            )


#: In-process callers that are trusted by construction: seed loading, tests, jobs.
SYSTEM = Actor("system", Role.ADMIN, clearance=True)
