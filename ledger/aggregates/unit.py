"""预算单位: the department whose books these are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.codes import is_business_code
from ledger.events import PostedCreation, business_id


class Unit(Aggregate):
    """A budget unit, identified by its code (预算单位编码)."""

    class Registered(PostedCreation):
        code: str
        name: str
        """Full name as printed on reports, e.g. 昌吉市商务和工业信息化局."""
        kind: str
        """``administrative`` (行政单位) or ``institution`` (事业单位)."""

    def __init__(self, *, code: str, name: str, kind: str, **_meta: Any) -> None:
        self.code = code
        self.name = name
        self.kind = kind

    @staticmethod
    def create_id(code: str) -> UUID:
        return business_id("unit", code)

    @classmethod
    def id_for(cls, code: str) -> UUID:
        return cls.create_id(code)


class UnitName(Aggregate):
    """The claim of a unit's full name: names are unique, and a unit may be named by its
    full name wherever its code is asked for (the claim says which code it is)."""

    class Claimed(Aggregate.Created):
        name: str
        code: str
        """The code of the unit that bears the name."""

    def __init__(self, *, name: str, code: str) -> None:
        self.name = name
        self.code = code

    @staticmethod
    def create_id(name: str) -> UUID:
        return business_id("unit-name", name)

    @classmethod
    def id_for(cls, name: str) -> UUID:
        return cls.create_id(name)


def resolve_unit_code(unit: str, find: Callable[[type[Any], UUID], Any]) -> str | None:
    """The code of the unit named ``unit`` — by its code or by its full registered name —
    or None if there is none; ``find(cls, id)`` looks an aggregate up."""
    if is_business_code(unit) and find(Unit, Unit.id_for(unit)) is not None:
        return unit
    claim = find(UnitName, UnitName.id_for(unit))
    return None if claim is None else str(claim.code)
