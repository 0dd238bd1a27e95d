"""非财政拨款结余: a unit's non-fiscal balance held back from its lines, which
使用非财政拨款结余 draws on. It is what 结余分配 moved off the unit's non-fiscal lines,
less what was drawn back: a draw beyond it would be money from nowhere."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.errors import Overspend
from ledger.events import business_id
from ledger.money import yuan_str


class NonFiscalReserve(Aggregate):
    """The non-fiscal balance of one unit (fen), across its years."""

    class Opened(Aggregate.Created):
        unit_code: str

    class Moved(Aggregate.Event):
        """The balance moved by ``amount`` fen (positive: surplus distributed into it, or
        a draw reversed; negative: drawn onto a line, or a distribution reversed)."""

        amount: int

        def apply(self, aggregate: Any) -> None:
            aggregate.balance += self.amount

    def __init__(self, *, unit_code: str) -> None:
        self.unit_code = unit_code
        self.balance = 0

    @staticmethod
    def create_id(unit_code: str) -> UUID:
        return business_id("non-fiscal-reserve", unit_code)

    @classmethod
    def id_for(cls, unit_code: str) -> UUID:
        return cls.create_id(unit_code)

    def require(self, amount: int, *, what: str) -> None:
        """Refuse (Overspend) a movement that would take the balance below zero; called
        before anything of the command is triggered, so a refusal changes nothing."""
        if self.balance + amount < 0:
            raise Overspend(
                f"{what} of {yuan_str(-amount)} yuan exceeds the non-fiscal balance of unit "
                f"{self.unit_code} ({yuan_str(self.balance)} yuan: surplus distributed "
                "(结余分配), less what was drawn back (使用非财政拨款结余))"
            )

    def move(self, amount: int, *, what: str) -> None:
        """Move the balance (checked with :meth:`require`)."""
        self.require(amount, what=what)
        self.trigger_event(self.Moved, amount=amount)
