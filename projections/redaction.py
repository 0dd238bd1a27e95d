"""Classified (涉密) projects: the one redaction policy, applied where data leaves the system.

A classified project is counted in every total, as the published accounts count it; only
its details are withheld from anyone without clearance. :class:`Redaction` is built from
the books and the caller's clearance and is asked by every outgoing structure — the
reports, the checks, the audit trail and the exported tables — whether a project or a
line is shown. Without clearance no classified project's name or code, no line code or
title, payee, memo, document number, per-entry amount or per-entry date leaves: a
classified project's lines appear as one aggregated "（涉密项目，未公开）" row with only
the figures its published project row shows (full-year budget, executed, what is left).

Errors and command results are decided where commands are handled (the handler knows the
line and its project): an error about a classified line carries a redacted twin message
(:attr:`ledger.errors.LedgerError.redacted`) and each adapter shows the caller the one
their clearance allows; logs always get the redacted one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from ledger.aggregates import BudgetLine, Project
from ledger.errors import Forbidden
from projections.books import Books, LineView

#: The name every classified project and line is shown under without clearance.
CLASSIFIED_NAME = "（涉密项目，未公开）"
#: What stands in for withheld detail in a text.
NEEDS_CLEARANCE = "details of classified (涉密) projects need clearance"


@dataclass(frozen=True)
class Redaction:
    """What a caller may see of the books' classified projects."""

    books: Books
    clearance: bool

    @classmethod
    def of(cls, books: Books, clearance: bool, unit_code: str | None = None) -> Redaction:
        """The policy for these books and this caller. A report of ``unit_code`` at a past
        moment is refused without clearance when the unit has classified projects then:
        its aggregated classified row, compared between two moments, would show each
        classified entry's amount and date."""
        policy = cls(books, clearance)
        if books.point_in_time and not clearance and unit_code is not None:
            policy._refuse_past_views_of(unit_code)
        return policy

    def _refuse_past_views_of(self, unit_code: str) -> None:
        if any(p.classified for (u, _), p in self.books.projects.items() if u == unit_code):
            raise Forbidden(
                f"the books of unit {unit_code} as of a past date or log position need "
                "clearance: it has classified (涉密) projects, and two such views compared "
                "would show each of their entries. Read the present books, or ask for "
                "clearance"
            )

    def is_classified(self, unit_code: str, project_code: str) -> bool:
        """The project is registered as classified (whoever asks)."""
        project = self.books.projects.get((unit_code, project_code))
        return project is not None and project.classified

    def hides_project(self, unit_code: str, project_code: str) -> bool:
        """Without clearance: a classified project, or one these books do not know (a
        point in time before its registration was dated) — unknown means withheld."""
        if self.clearance:
            return False
        project = self.books.projects.get((unit_code, project_code))
        return project is None or project.classified

    def hides_line(self, line: LineView) -> bool:
        """A line of a project this caller may not see in detail."""
        return line.project_code is not None and self.hides_project(
            line.unit_code, line.project_code
        )

    def hides_line_code(self, unit_code: str, year: int, code: str) -> bool:
        line = self.books.lines.get(BudgetLine.id_for(unit_code, year, code))
        return line is not None and self.hides_line(line)

    def split(self, lines: Iterable[LineView]) -> tuple[list[LineView], list[LineView]]:
        """The lines shown in detail, and those aggregated as one classified row."""
        shown: list[LineView] = []
        hidden: list[LineView] = []
        for line in lines:
            (hidden if self.hides_line(line) else shown).append(line)
        return shown, hidden

    # --- the audit trail -------------------------------------------------------------

    def hidden_aggregates(self, unit_code: str) -> set[UUID]:
        """Ids of the unit's withheld lines and projects: their events leave no trail."""
        ids: set[UUID] = set()
        if self.clearance:
            return ids
        for line in self.books.lines.values():
            if line.unit_code == unit_code and self.hides_line(line):
                ids.add(line.id)
        for (unit, code), project in self.books.projects.items():
            if unit == unit_code and project.classified:
                ids.add(Project.id_for(unit, code))
        return ids

    def require_trail(self, unit_code: str, lines: Iterable[LineView], project: str | None) -> None:
        """A trail selected by a classified line or project needs clearance: refused (403)
        without naming it. (Trails by payee or document number leave such entries out.)"""
        if self.clearance:
            return
        if (project is not None and self.is_classified(unit_code, project)) or any(
            self.hides_line(line) for line in lines
        ):
            raise Forbidden("the trail of a classified (涉密) line or project needs clearance")
