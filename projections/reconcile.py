"""Reconciliation of a published report against the books, figure by figure.

Reads a published-figures document in the format of
``shared/seed/changji-2022-published-figures.json`` and compares every figure in it with
the same figure of the final-accounts report folded from the events: amounts and rates
as numbers (``"101"`` equals ``"101.00"``; ``"—"`` is zero), counts, flags and names as
they are. Narrative keys (sources, notes, reasons, scores) are not figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

#: Keys of a published document that are narrative, not figures the books produce.
NOT_FIGURES = frozenset(
    {
        "source",
        "amount_unit",
        "note",
        "derived_notes",
        "known_inconsistencies_in_the_published_report",
        "published_reason",
        "published_total_score",
        "variance_formula",
    }
)
#: How entries of a list are matched between the two documents.
IDENTITY_KEYS = ("code", "source", "nature", "name")


@dataclass(frozen=True)
class Figure:
    """One published figure and the books' value for it."""

    path: str
    published: Any
    books: Any

    @property
    def matches(self) -> bool:
        return _same(self.published, self.books)


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().rstrip("%")
    if text == "—":
        return Decimal(0)
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _same(published: Any, books: Any) -> bool:
    if isinstance(published, bool | list) or (
        isinstance(published, int) and not isinstance(published, bool)
    ):
        return bool(published == books)
    expected = _number(published)
    if expected is None:
        return bool(published == books)  # text, such as "empty (…)", or null
    return expected == _number(books)


def _identity(entry: dict[str, Any]) -> str:
    for key in IDENTITY_KEYS:
        if key in entry:
            return str(entry[key])
    return "?"


def figures(published: Any, books: Any, path: str = "") -> list[Figure]:
    """Every figure of ``published``, paired with the books' value at the same place."""
    found: list[Figure] = []
    if isinstance(published, dict):
        ours = books if isinstance(books, dict) else {}
        for key, value in published.items():
            if key not in NOT_FIGURES:
                found += figures(value, ours.get(key), f"{path}.{key}" if path else key)
    elif isinstance(published, list) and published and isinstance(published[0], dict):
        ours_by_id = {_identity(e): e for e in books} if isinstance(books, list) else {}
        for entry in published:
            ident = _identity(entry)
            found += figures(entry, ours_by_id.get(ident), f"{path}[{ident}]")
    else:
        found.append(Figure(path, published, books))
    return found


def reconcile(published: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """The reconciliation: every figure, matching or differing, and the totals."""
    rows = figures(published, report)
    differing = [f for f in rows if not f.matches]
    return {
        "unit": report.get("unit"),
        "fiscal_year": report.get("fiscal_year"),
        "figures": len(rows),
        "matching": len(rows) - len(differing),
        "differing": len(differing),
        "differences": [
            {"figure": f.path, "published": f.published, "books": f.books} for f in differing
        ],
        "all": [
            {
                "figure": f.path,
                "published": f.published,
                "books": f.books,
                "status": "match" if f.matches else "differs",
            }
            for f in rows
        ],
    }
