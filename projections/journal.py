"""The journal of a unit's year: every posting on its lines, in log order, filtered as a
clerk looks for one (line, project, payee, document number, date range, who posted) and
a page at a time. Entries of classified (涉密) lines are left out without clearance."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from projections.audit_trail import _entry
from projections.books import Books
from projections.redaction import Redaction


@dataclass(frozen=True)
class JournalFilter:
    """What a clerk narrows the journal to (every field optional)."""

    line: str | None = None
    project: str | None = None
    payee: str | None = None
    document_no: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    posted_by: str | None = None


@dataclass
class JournalPage:
    entries: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    page: int = 1
    pages: int = 1
    withheld: bool = False
    """Entries of classified lines exist and are not listed (no clearance)."""


def journal(
    events: Iterable[tuple[int, Any]],
    books: Books,
    *,
    unit: str,
    year: int,
    where: JournalFilter,
    page: int = 1,
    per_page: int = 50,
    clearance: bool = False,
) -> JournalPage:
    """One page of the year's postings that pass ``where``, newest last."""
    code = books.unit(unit).code
    books.year(code, year)
    lines = {ln.id: ln for ln in books.lines_of(code, year)}
    withheld = Redaction.of(books, clearance).hidden_aggregates(code)
    found: list[dict[str, Any]] = []
    hidden = False
    for position, event in events:
        view = lines.get(event.originator_id)
        if view is None or not hasattr(event, "posted_by") or not hasattr(event, "amount"):
            continue
        if event.originator_id in withheld:
            hidden = True
            continue
        if where.line is not None and view.code != where.line:
            continue
        if where.project is not None and view.project_code != where.project:
            continue
        if where.payee is not None and getattr(event, "payee", None) != where.payee:
            continue
        if where.document_no is not None and event.document_no != where.document_no:
            continue
        if where.posted_by is not None and event.posted_by != where.posted_by:
            continue
        if where.date_from is not None and event.business_date < where.date_from:
            continue
        if where.date_to is not None and event.business_date > where.date_to:
            continue
        found.append(_entry(position, event, view.code))
    pages = max(1, -(-len(found) // per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return JournalPage(found[start : start + per_page], len(found), page, pages, hidden)
