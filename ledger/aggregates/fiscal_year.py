"""预算年度: a unit's fiscal year, its status and its year-level records."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.errors import YearClosed
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

    class PostingsBegan(PostedEvent):
        """The year's first money posting was made (recorded with it, once). Until then the
        unit may take on opening balances (``open_balance``); after it, a take-on is only
        corrected (reversed and posted again as a correction)."""

        def apply(self, aggregate: Any) -> None:
            aggregate.postings_began = True

    class ClosingStarted(PostedEvent):
        """年终结账 began: no more ordinary postings; lines are carried over or lapse."""

        policy: dict[str, Any]
        """The closing policy in force, as applied (for the audit trail)."""
        before_year_end: str | None
        """Why the year was closed before its 31 December (None if it was not)."""

        def apply(self, aggregate: Any) -> None:
            aggregate.status = YearStatus.CLOSING
            aggregate.policy = dict(self.policy)

    class ClosingResumed(PostedEvent):
        """An admin let a stuck close go on: its next run takes fresh step ids."""

        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.close_attempt += 1

    class ClosingAbandoned(PostedEvent):
        """An admin gave up a close that could not finish: the year is open again (lines
        the close had settled stay settled, as after a reopening)."""

        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = YearStatus.OPEN
            aggregate.close_attempt += 1

    class Closed(PostedEvent):
        """The year is locked. Only adjustments (closer role, stated reason) until
        ``adjustment_until``; after that only a reopen lets anything in."""

        adjustment_until: date
        sealed_position: int | None = None
        """The seal: the log position of the chain's head when the close finished …"""
        sealed_hash: str | None = None
        """… and the link stored there. ``audit verify`` checks every seal; filed outside
        the database, it shows whether the year's history was rewritten since. None on
        closes recorded before seals existed, and on stores without a chain."""

        def apply(self, aggregate: Any) -> None:
            aggregate.status = YearStatus.CLOSED
            aggregate.adjustment_until = self.adjustment_until
            aggregate.sealed_position = self.sealed_position
            aggregate.sealed_hash = self.sealed_hash

    class Reopened(PostedEvent):
        """A closed year opened again (rare; admin only, with a reason)."""

        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = YearStatus.OPEN
            aggregate.adjustment_until = None
            aggregate.reopen_count += 1

    def __init__(self, *, unit_code: str, year: int, **_meta: Any) -> None:
        self.unit_code = unit_code
        self.year = year
        self.status = YearStatus.OPEN
        self.policy: dict[str, Any] = {}
        self.adjustment_until: date | None = None
        self.sealed_position: int | None = None
        self.sealed_hash: str | None = None
        self.reopen_count = 0
        self.close_attempt = 0
        """Bumped when a stuck close is resumed or abandoned: each run of the close names
        its steps by (reopen count, close attempt), so a new run never meets old ids."""
        self.prior_year_figures: dict[str, Any] | None = None
        self.three_public_budget: dict[str, int] = {}
        self.facts: dict[str, Any] = {}
        self.postings_began = False
        """True once a money posting other than a take-on was made into the year."""

    @staticmethod
    def create_id(unit_code: str, year: int) -> UUID:
        return business_id("year", unit_code, year)

    @classmethod
    def id_for(cls, unit_code: str, year: int) -> UUID:
        return cls.create_id(unit_code, year)

    def import_prior_year_figures(self, figures: dict[str, Any], **meta: Any) -> None:
        self.trigger_event(self.PriorYearFiguresImported, figures=figures, **meta)

    def begin_postings(self, **meta: Any) -> bool:
        """Record the year's first money posting; False (nothing recorded) if it had one."""
        if self.postings_began:
            return False
        self.trigger_event(self.PostingsBegan, **meta)
        return True

    def set_three_public_budget(self, amounts: dict[str, int], **meta: Any) -> None:
        self.trigger_event(self.ThreePublicBudgetSet, amounts=amounts, **meta)

    def record_facts(self, facts: dict[str, Any], **meta: Any) -> None:
        self.trigger_event(self.FactsRecorded, facts=facts, **meta)

    @property
    def label(self) -> str:
        return f"fiscal year {self.year} of unit {self.unit_code}"

    @property
    def close_run(self) -> str:
        """The name of the current run of the close (part of its step ids)."""
        return f"{self.year}/{self.reopen_count}/{self.close_attempt}"

    def start_closing(
        self, policy: dict[str, Any], *, before_year_end: str | None, **meta: Any
    ) -> None:
        if self.status is not YearStatus.OPEN:
            raise YearClosed(f"{self.label} is {self.status.value}; its close has already begun")
        self.trigger_event(
            self.ClosingStarted, policy=policy, before_year_end=before_year_end, **meta
        )

    def resume_closing(self, *, reason: str, **meta: Any) -> None:
        self.trigger_event(self.ClosingResumed, reason=reason, **meta)

    def abandon_closing(self, *, reason: str, **meta: Any) -> None:
        self.trigger_event(self.ClosingAbandoned, reason=reason, **meta)

    def close(
        self,
        *,
        adjustment_until: date,
        sealed_position: int | None = None,
        sealed_hash: str | None = None,
        **meta: Any,
    ) -> None:
        if self.status is not YearStatus.CLOSING:
            raise YearClosed(f"{self.label} is {self.status.value}, not closing")
        self.trigger_event(
            self.Closed,
            adjustment_until=adjustment_until,
            sealed_position=sealed_position,
            sealed_hash=sealed_hash,
            **meta,
        )

    def reopen(self, *, reason: str, **meta: Any) -> None:
        if self.status is not YearStatus.CLOSED:
            raise YearClosed(f"{self.label} is {self.status.value}: only a closed year is reopened")
        self.trigger_event(self.Reopened, reason=reason, **meta)
