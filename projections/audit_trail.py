"""Audit trail: every event touching a budget line, a project or an enterprise, in log
order, with who posted it, when it was recorded, its business date, document number and
memo — and, for a correction, the posting it corrects."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from itertools import chain
from typing import Any
from uuid import UUID

from ledger.aggregates import BudgetLine, Project
from ledger.application import Ledger
from ledger.errors import InvalidInput
from ledger.money import yuan_str
from projections.books import Books, LineView, books_of
from projections.read_model import ReadModelStore, current_books, unit_aggregates
from projections.redaction import Redaction


def _entry(position: int, event: Any, line_code: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "position": position,
        "type": type(event).__qualname__,
        "recorded_at": event.timestamp.isoformat(),
        "business_date": event.business_date.isoformat(),
        "posted_by": event.posted_by,
        "document_no": event.document_no,
        "memo": event.memo,
        "command_id": event.command_id,
        "line": line_code,
    }
    if hasattr(event, "amount"):
        entry["amount"] = yuan_str(event.amount)
    for key in (
        "payee",
        "economic_code",
        "three_public",
        "initial",
        "from_carryover",
        "reason",
        "to_line",
        "from_line",
    ):
        if getattr(event, key, None) not in (None, False):
            entry[key] = getattr(event, key)
    if isinstance(event, BudgetLine.EntryReversed):
        entry["corrects"] = {
            "command_id": event.reverses_command_id,
            "type": event.reversed_kind,
            "entry": event.reverses_version,
        }
    if event.adjustment_reason:
        entry["adjustment_reason"] = event.adjustment_reason
    return entry


def audit_trail(
    events: Iterable[tuple[int, Any]],
    books: Books,
    *,
    unit: str,
    year: int | None = None,
    line: str | None = None,
    project: str | None = None,
    enterprise: str | None = None,
    document_no: str | None = None,
    clearance: bool = False,
) -> list[dict[str, Any]]:
    """Entries about one line (``year`` and ``line``), one project, one payee, or the line
    entries posted under one document number. Without ``clearance`` classified projects
    leave no trail: a trail selected by a classified line or project is refused, and
    trails by payee or document number leave their entries out (see
    :mod:`projections.redaction`)."""
    selectors = (line, project, enterprise, document_no)
    if sum(x is not None for x in selectors) != 1:
        raise InvalidInput(
            "name exactly one of: a line, a project, an enterprise, a document number"
        )
    code = books.unit(unit).code
    policy = Redaction.of(books, clearance)
    wanted: set[UUID] = set()
    selected: list[LineView] = []
    for candidate in books.lines.values():
        if candidate.unit_code != code:
            continue
        if line is not None and candidate.code == line and year in (None, candidate.year):
            wanted.add(candidate.id)
            selected.append(candidate)
        if project is not None and candidate.project_code == project:
            wanted.add(candidate.id)
            selected.append(candidate)
    if project is not None:
        wanted.add(Project.id_for(code, project))
    policy.require_trail(code, selected, project)
    withheld = policy.hidden_aggregates(code)
    by_payee_or_document = enterprise is not None or document_no is not None
    trail = []
    for position, event in events:
        if not hasattr(event, "posted_by"):
            continue
        view = books.lines.get(event.originator_id)
        if by_payee_or_document:
            if event.originator_id in withheld:
                continue
            if enterprise is not None and (
                view is None
                or view.unit_code != code
                or getattr(event, "payee", None) != enterprise
            ):
                continue
            if document_no is not None and (
                view is None or view.unit_code != code or event.document_no != document_no
            ):
                continue
        elif event.originator_id not in wanted:
            continue
        trail.append(_entry(position, event, view.code if view else None))
    return trail


def unit_trail(
    ledger: Ledger,
    read_models: ReadModelStore | None,
    *,
    unit: str,
    year: int | None = None,
    line: str | None = None,
    project: str | None = None,
    enterprise: str | None = None,
    document_no: str | None = None,
    clearance: bool = False,
) -> list[dict[str, Any]]:
    """:func:`audit_trail` at a cost that does not grow with the log: the unit's books come
    from the read model and the events from the selected aggregates only (the line, the
    project and its lines, or every line of the unit for a payee or a document number),
    read through the primary key. The same entries as the trail over the whole log (a
    property test holds them equal); an in-memory ledger is read whole."""
    store = read_models
    code = None if store is None else store.unit_code(unit)
    selection = partial(
        audit_trail,
        unit=unit,
        year=year,
        line=line,
        project=project,
        enterprise=enterprise,
        document_no=document_no,
        clearance=clearance,
    )
    if store is None or code is None:
        return selection(ledger.read_events(), books_of(ledger))
    books = current_books(ledger, store, unit=code)
    if line is not None or project is not None:
        ids = [
            candidate.id
            for candidate in books.lines.values()
            if candidate.unit_code == code
            and (
                (line is not None and candidate.code == line and year in (None, candidate.year))
                or (project is not None and candidate.project_code == project)
            )
        ]
        if project is not None:
            ids.append(Project.id_for(code, project))
        events = ledger.read_events_of(ids, stop=books.position)
        return selection(events, books)
    # by payee or document number: the trail index, then the events not indexed yet
    ids = [i for i in unit_aggregates(books, code) if i in books.lines]
    wanted = [("payee", enterprise), ("document_no", document_no)]
    field, value = next(((f, v) for f, v in wanted if v is not None), ("payee", ""))
    positions, upto = store.indexed(code, field, value)
    indexed = chain(
        ledger.read_events_at([p for p in positions if p <= books.position]),
        ledger.read_events_of(ids, start=upto + 1, stop=books.position),
    )
    return selection(indexed, books)


#: The columns of the trail as a table: the recorded time and what a correction corrects
#: too, as in the JSON.
TRAIL_COLUMNS = [
    "position",
    "recorded_at",
    "business_date",
    "type",
    "line",
    "amount",
    "payee",
    "posted_by",
    "document_no",
    "memo",
    "corrects",
]


def trail_rows(trail: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trail's entries for the table: a correction names the posting it corrects as
    ``command id (type, entry N)``."""
    rows = []
    for entry in trail:
        row = dict(entry)
        corrects = entry.get("corrects")
        if corrects:
            row["corrects"] = (
                f"{corrects['command_id']} ({corrects['type']}, entry {corrects['entry']})"
            )
        rows.append(row)
    return rows
