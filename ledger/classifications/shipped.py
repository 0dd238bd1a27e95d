"""The catalogues shipped with fundflow (``catalogues/<year>/<kind>.csv``, see the
README there) and the rule that picks the catalogue of a year."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from functools import cache
from importlib import resources

from ledger.classifications.catalogue import Catalogue, CatalogueKind, Row, build


@cache
def shipped_years() -> tuple[int, ...]:
    """The years a catalogue is shipped for, in order."""
    root = resources.files("ledger.classifications") / "catalogues"
    return tuple(sorted(int(p.name) for p in root.iterdir() if p.name.isdigit()))


@cache
def shipped(kind: CatalogueKind, year: int) -> Catalogue | None:
    """The catalogue shipped for exactly ``year`` (None if there is none)."""
    if year not in shipped_years():
        return None
    path = resources.files("ledger.classifications") / "catalogues" / str(year) / f"{kind}.csv"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    header = lines[0]
    code, name, level = (header.index(h) for h in ("科目编码", "科目名称", "级次"))
    rows = [Row(n, r[code], r[name], r[level]) for n, r in enumerate(lines[1:], start=2) if r]
    return build(kind, year, rows, origin=f"shipped {year}")


def shipped_for(kind: CatalogueKind, year: int) -> Catalogue:
    """The shipped catalogue that stands for ``year``: that year's, else the latest
    earlier year's, else (a year before the first shipped) the first."""
    years = shipped_years()
    earlier = [y for y in years if y <= year]
    for candidate in [*reversed(earlier), *years]:
        found = shipped(kind, candidate)
        if found is not None:
            return found
    raise LookupError(f"no {kind.value} catalogue is shipped")  # pragma: no cover


def resolve(
    kind: CatalogueKind, year: int, imported: Mapping[tuple[str, int], Catalogue] | None = None
) -> Catalogue:
    """The catalogue that checks a posting of ``year``: the one imported into the ledger
    for that year, if any; else the shipped one for that year; else the latest shipped
    earlier year's (a year before the first shipped one uses the first)."""
    if imported:
        found = imported.get((kind.value, year))
        if found is not None:
            return found
    return shipped_for(kind, year)


def any_name(kind: CatalogueKind, code: str) -> str | None:
    """The name of ``code`` in the latest shipped catalogue that has it (for labels)."""
    for year in reversed(shipped_years()):
        found = shipped(kind, year)
        if found is not None and code in found.names:
            return found.names[code]
    return None
