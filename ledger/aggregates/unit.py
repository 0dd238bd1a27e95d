"""预算单位: the department whose books these are."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

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
