"""部门: a department over budget units — its own office (机关本级) and its subordinate
units (单位) — whose 部门决算 consolidates the units' own 单位决算."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.events import PostedCreation, PostedEvent, business_id


class Department(Aggregate):
    """A department, identified by its code (a business code, like a unit's), with the
    units assigned to it in the order they were assigned."""

    class Declared(PostedCreation):
        code: str
        name: str
        """Full name as printed on the 部门决算, e.g. 大英县文化广播电视和旅游局."""

    class UnitAssigned(PostedEvent):
        unit_code: str
        """A unit now consolidated into the department's accounts."""

        def apply(self, aggregate: Any) -> None:
            aggregate.units.append(self.unit_code)

    def __init__(self, *, code: str, name: str, **_meta: Any) -> None:
        self.code = code
        self.name = name
        self.units: list[str] = []

    def assign(self, unit_code: str, **meta: Any) -> None:
        """Consolidate ``unit_code`` into the department (the handler checked the rules)."""
        self.trigger_event(self.UnitAssigned, unit_code=unit_code, **meta)

    @staticmethod
    def create_id(code: str) -> UUID:
        return business_id("department", code)

    @classmethod
    def id_for(cls, code: str) -> UUID:
        return cls.create_id(code)


class DepartmentMembership(Aggregate):
    """The claim that a unit belongs to a department: a unit is consolidated into one
    department only (its money would otherwise count twice)."""

    class Claimed(Aggregate.Created):
        unit_code: str
        department_code: str

    def __init__(self, *, unit_code: str, department_code: str) -> None:
        self.unit_code = unit_code
        self.department_code = department_code

    @staticmethod
    def create_id(unit_code: str) -> UUID:
        return business_id("department-member", unit_code)

    @classmethod
    def id_for(cls, unit_code: str) -> UUID:
        return cls.create_id(unit_code)
