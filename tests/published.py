"""Compare a final-accounts report with a published-figures file, figure by figure."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

#: Keys of the published file that are narrative, not figures the books produce.
NOT_FIGURES = {
    "source",
    "amount_unit",
    "note",
    "derived_notes",
    "known_inconsistencies_in_the_published_report",
    "published_reason",
    "published_total_score",
    "variance_formula",
}
#: How list entries are matched between the two documents.
IDENTITY_KEYS = ("code", "source", "nature", "name")


def _number(value: Any) -> Decimal | None:
    if value is None:
        return None
    text = str(value).strip().rstrip("%")
    if text == "—":
        return Decimal(0)
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _identity(entry: dict[str, Any]) -> str:
    for key in IDENTITY_KEYS:
        if key in entry:
            return str(entry[key])
    raise KeyError(f"no identity key in {entry}")


def differences(published: Any, ours: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every figure of ``published`` that ``ours`` does not reproduce: (path, published, ours)."""
    found: list[tuple[str, Any, Any]] = []
    if isinstance(published, dict):
        if not isinstance(ours, dict):
            return [(path, published, ours)]
        for key, value in published.items():
            if key in NOT_FIGURES:
                continue
            found += differences(value, ours.get(key), f"{path}.{key}" if path else key)
    elif isinstance(published, list) and published and isinstance(published[0], dict):
        if not isinstance(ours, list):
            return [(path, published, ours)]
        by_id = {_identity(e): e for e in ours}
        for entry in published:
            ident = _identity(entry)
            if ident not in by_id:
                found.append((f"{path}[{ident}]", entry, None))
                continue
            found += differences(entry, by_id[ident], f"{path}[{ident}]")
    elif isinstance(published, list) or isinstance(published, bool):
        if published != ours:
            found.append((path, published, ours))
    elif isinstance(published, int) and not isinstance(published, bool):
        if published != ours:
            found.append((path, published, ours))
    else:
        expected, actual = _number(published), _number(ours)
        if expected is None and published is not None:
            if published != ours:  # text, such as "empty (…)"
                found.append((path, published, ours))
        elif expected != actual:
            found.append((path, published, ours))
    return found
