"""项目: a project of a unit, which may have budget lines in several years."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.events import PostedCreation, business_id


class Project(Aggregate):
    """A project: name, implementing units, and whether it is classified (涉密)."""

    class Registered(PostedCreation):
        unit_code: str
        code: str
        name: str
        implementing_units: str
        """实施单位 as the self-evaluation table prints them."""
        classified: bool
        """涉密: counted in totals, details not published."""
        final_year: int | None
        """The project's last year; None if it has no set end. It continues (its unspent
        money may carry over) in any year before its final year."""

    def __init__(
        self,
        *,
        unit_code: str,
        code: str,
        name: str,
        implementing_units: str,
        classified: bool,
        final_year: int | None,
        **_meta: Any,
    ) -> None:
        self.unit_code = unit_code
        self.code = code
        self.name = name
        self.implementing_units = implementing_units
        self.classified = classified
        self.final_year = final_year

    def continues_after(self, year: int) -> bool:
        """True when the project goes on after ``year`` (its money may carry over)."""
        return self.final_year is None or self.final_year > year

    @staticmethod
    def create_id(unit_code: str, code: str) -> UUID:
        return business_id("project", unit_code, code)

    @classmethod
    def id_for(cls, unit_code: str, code: str) -> UUID:
        return cls.create_id(unit_code, code)
