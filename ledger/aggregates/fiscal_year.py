"""预算年度: a unit's fiscal year, its status and its year-level records."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.events import PostedCreation, PostedEvent, business_id


class YearStatus(StrEnum):
    """A year is open, then closing, then closed (closing comes with year-end jobs)."""

    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class FiscalYear(Aggregate):
    """One unit's fiscal year. Postings into a line need the line's year to be open."""

    class Opened(PostedCreation):
        unit_code: str
        year: int

    class PriorYearFiguresImported(PostedEvent):
        """Published figures of the year before, for year-on-year comparison when the
        prior year was not kept in this ledger (the first year of adoption)."""

        figures: dict[str, Any]
        """Amounts in fen, keyed as in :class:`commands.models.PriorYearFigures`."""

        def apply(self, aggregate: Any) -> None:
            aggregate.prior_year_figures = self.figures

    class ThreePublicBudgetSet(PostedEvent):
        """The full-year budget of the three public expenses (“三公”经费预算)."""

        amounts: dict[str, int]
        """Fen per category (overseas_travel, vehicle_purchase, …)."""

        def apply(self, aggregate: Any) -> None:
            aggregate.three_public_budget = dict(self.amounts)

    class FactsRecorded(PostedEvent):
        """Non-monetary facts the final accounts print: staff, vehicles, assets."""

        facts: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            aggregate.facts = dict(self.facts)

    def __init__(self, *, unit_code: str, year: int, **_meta: Any) -> None:
        self.unit_code = unit_code
        self.year = year
        self.status = YearStatus.OPEN
        self.prior_year_figures: dict[str, Any] | None = None
        self.three_public_budget: dict[str, int] = {}
        self.facts: dict[str, Any] = {}

    @staticmethod
    def create_id(unit_code: str, year: int) -> UUID:
        return business_id("year", unit_code, year)

    @classmethod
    def id_for(cls, unit_code: str, year: int) -> UUID:
        return cls.create_id(unit_code, year)

    def import_prior_year_figures(self, figures: dict[str, Any], **meta: Any) -> None:
        self.trigger_event(self.PriorYearFiguresImported, figures=figures, **meta)

    def set_three_public_budget(self, amounts: dict[str, int], **meta: Any) -> None:
        self.trigger_event(self.ThreePublicBudgetSet, amounts=amounts, **meta)

    def record_facts(self, facts: dict[str, Any], **meta: Any) -> None:
        self.trigger_event(self.FactsRecorded, facts=facts, **meta)
