"""政府收支分类科目 as data: one year's catalogue of a classification, validated.

A catalogue is built from rows (a finance bureau's file, or the files shipped in
``catalogues/``) and refused whole, with every bad row listed, if any row is wrong:
the code is digits of a length its classification allows and in its range, the level
(if given) matches the length, every 项 has its 款 and its 类 and every 款 its 类, no
code twice, no name twice under one parent (names such as 行政运行 recur under many
款, so uniqueness is among siblings), names obey the text policy.

Which catalogue checks a posting of a year (:func:`resolve`): the one imported into
the ledger for that year, if any; else the one shipped for that year; else the latest
shipped year before it (a year before the first shipped year uses the first).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ledger.errors import InvalidInput, UnknownCode
from ledger.text_policy import clean_text


class CatalogueKind(StrEnum):
    """The classifications a catalogue may hold."""

    FUNCTION = "function"
    """支出功能分类科目: 类 / 款 / 项 (3 / 5 / 7 digits), classes 2xx."""
    ECONOMIC_DEPARTMENT = "economic-department"
    """部门预算支出经济分类科目: 类 / 款 (3 / 5 digits), classes 301–399."""
    ECONOMIC_GOVERNMENT = "economic-government"
    """政府预算支出经济分类科目: 类 / 款 (3 / 5 digits), classes 501–599."""


KIND_NAMES: dict[CatalogueKind, str] = {
    CatalogueKind.FUNCTION: "支出功能分类科目",
    CatalogueKind.ECONOMIC_DEPARTMENT: "部门预算支出经济分类科目",
    CatalogueKind.ECONOMIC_GOVERNMENT: "政府预算支出经济分类科目",
}

#: The level of a code by its length, per classification.
LEVELS: dict[CatalogueKind, dict[int, str]] = {
    CatalogueKind.FUNCTION: {3: "类", 5: "款", 7: "项"},
    CatalogueKind.ECONOMIC_DEPARTMENT: {3: "类", 5: "款"},
    CatalogueKind.ECONOMIC_GOVERNMENT: {3: "类", 5: "款"},
}
#: The range of class codes, per classification.
CLASS_RANGES: dict[CatalogueKind, tuple[int, int]] = {
    CatalogueKind.FUNCTION: (200, 299),
    CatalogueKind.ECONOMIC_DEPARTMENT: (301, 399),
    CatalogueKind.ECONOMIC_GOVERNMENT: (501, 599),
}
LEVEL_ALIASES = {
    **{name: name for name in ("类", "款", "项")},
    **{"class": "类", "section": "款", "item": "项", "1": "类", "2": "款", "3": "项"},
}
"""级次 as a bureau's file may write it: 类/款/项, in English, or 1/2/3."""
MAX_NAME = 200
MAX_ROWS_SHOWN = 50


class InvalidCatalogue(InvalidInput):
    """A catalogue file with bad rows: nothing of it is stored; ``problems`` lists each
    bad row as (row number in the file, what is wrong)."""

    def __init__(self, what: str, problems: list[tuple[int, str]]) -> None:
        shown = "; ".join(f"row {row}: {why}" for row, why in problems[:MAX_ROWS_SHOWN])
        more = len(problems) - MAX_ROWS_SHOWN
        tail = f"; and {more} more" if more > 0 else ""
        super().__init__(f"{what}: {len(problems)} bad row(s), nothing was loaded — {shown}{tail}")
        self.problems = problems


@dataclass(frozen=True)
class Row:
    """One row as read from a file: its number there (the header is row 1), code, name
    and the level the file states ("" if none)."""

    number: int
    code: str
    name: str
    level: str = ""


@dataclass(frozen=True)
class Catalogue:
    """One year's catalogue of one classification."""

    kind: CatalogueKind
    year: int
    names: Mapping[str, str]
    """Code → name, every level."""
    mapping: Mapping[str, str] = field(default_factory=dict)
    """The year before's code → this year's code, where a code was renumbered or merged
    (如 a 项 moved to another 款); codes that stayed the same are not listed."""
    origin: str = "shipped"
    """``shipped`` (package data) or ``imported`` (loaded into the ledger)."""

    @property
    def digest(self) -> str:
        """SHA-256 of the content: the same file gives the same digest."""
        text = "\n".join(f"{c}\t{n}" for c, n in sorted(self.names.items()))
        text += "\n--\n" + "\n".join(f"{a}\t{b}" for a, b in sorted(self.mapping.items()))
        return hashlib.sha256(f"{self.kind.value}\n{text}".encode()).hexdigest()

    def level(self, code: str) -> str:
        return LEVELS[self.kind][len(code)]

    def path_name(self, code: str) -> str:
        """The full name of a code, class / section / item joined by ``/``."""
        self.require(code)
        parts = [code[:n] for n in sorted(LEVELS[self.kind]) if n <= len(code)]
        return "/".join(self.names[p] for p in parts)

    def require(self, code: str) -> str:
        """``code`` if this catalogue has it; :class:`UnknownCode` otherwise."""
        if code not in self.names:
            raise UnknownCode(
                f"{self.what_code(code)} does not exist in the {self.year} catalogue "
                f"({self.origin})"
            )
        return code

    def require_item(self, code: str) -> str:
        """``code`` if it is a bottom-level code of this catalogue (a 7-digit 项 of the
        function classification, a 5-digit 款 of an economic one) — what a line is
        booked to or a payment is made under."""
        deepest = max(LEVELS[self.kind])
        if not (isinstance(code, str) and len(code) == deepest and code.isdigit()):
            raise UnknownCode(
                f"{KIND_NAMES[self.kind]} code {code!r} must have {deepest} digits, for "
                f"example {next((c for c in sorted(self.names) if len(c) == deepest), '')}"
            )
        return self.require(code)

    def what_code(self, code: str) -> str:
        return f"{KIND_NAMES[self.kind]} code {code}"

    def search(self, text: str) -> list[tuple[str, str]]:
        """Codes whose code starts with ``text`` or whose name contains it, in code order."""
        needle = text.strip()
        return [
            (code, name)
            for code, name in sorted(self.names.items())
            if code.startswith(needle) or (needle and needle in name)
        ]


def build(
    kind: CatalogueKind,
    year: int,
    rows: Iterable[Row],
    mapping: Iterable[Row] = (),
    *,
    origin: str = "imported",
) -> Catalogue:
    """A validated catalogue from ``rows`` (and the year before's codes ``mapping`` maps
    to this year's: a :class:`Row` whose ``code`` is the old code and ``name`` the new
    one), or :class:`InvalidCatalogue` listing every bad row."""
    problems: list[tuple[int, str]] = []
    names: dict[str, str] = {}
    first_row: dict[str, int] = {}
    levels = LEVELS[kind]
    low, high = CLASS_RANGES[kind]
    for row in rows:
        code, where = row.code.strip(), row.number
        if not (code.isascii() and code.isdigit() and len(code) in levels):
            lengths = " or ".join(str(n) for n in sorted(levels))
            problems.append((where, f"code {code!r} is not {lengths} ASCII digits"))
            continue
        if not low <= int(code[:3]) <= high:
            problems.append((where, f"code {code} is outside the classes {low}–{high}"))
            continue
        level = LEVEL_ALIASES.get(row.level.strip().lower(), row.level.strip())
        if row.level.strip() and level != levels[len(code)]:
            problems.append(
                (where, f"code {code} has {len(code)} digits, a {levels[len(code)]}, not {level}")
            )
            continue
        try:
            name = clean_text(row.name).strip()
        except ValueError as error:
            problems.append((where, f"the name of {code}: {error}"))
            continue
        if not name or len(name) > MAX_NAME:
            problems.append((where, f"code {code} needs a name of 1 to {MAX_NAME} characters"))
            continue
        if code in names:
            problems.append((where, f"code {code} appears twice (first on row {first_row[code]})"))
            continue
        names[code], first_row[code] = name, where
    problems.extend(_orphans_and_twins(kind, names, first_row))
    new_codes: dict[str, str] = {}
    for row in mapping:
        old, new = row.code.strip(), row.name.strip()
        if not (old.isascii() and old.isdigit() and len(old) in levels):
            problems.append((row.number, f"mapping: the earlier code {old!r} is malformed"))
        elif new not in names:
            problems.append(
                (row.number, f"mapping: {old} maps to {new!r}, which is not in this catalogue")
            )
        elif old in new_codes:
            problems.append((row.number, f"mapping: {old} is mapped twice"))
        else:
            new_codes[old] = new
    if not names and not problems:
        problems.append((1, "the file holds no codes"))
    if problems:
        raise InvalidCatalogue(
            f"the {year} {KIND_NAMES[kind]} ({kind.value}) catalogue", sorted(problems)
        )
    return Catalogue(kind, year, names, new_codes, origin)


def _orphans_and_twins(
    kind: CatalogueKind, names: dict[str, str], first_row: dict[str, int]
) -> list[tuple[int, str]]:
    problems: list[tuple[int, str]] = []
    lengths = sorted(LEVELS[kind])
    siblings: dict[tuple[str, str], str] = {}
    for code in sorted(names, key=lambda c: first_row[c]):
        parents = [code[:n] for n in lengths if n < len(code)]
        missing = [p for p in parents if p not in names]
        if missing:
            what = " and ".join(f"its {LEVELS[kind][len(p)]} {p}" for p in missing)
            problems.append((first_row[code], f"code {code} lacks {what}"))
        parent = parents[-1] if parents else ""
        key = (parent, names[code])
        if key in siblings:
            problems.append(
                (
                    first_row[code],
                    f"name {names[code]} of {code} is also the name of {siblings[key]} "
                    f"under the same {'parent ' + parent if parent else 'top level'}",
                )
            )
        else:
            siblings[key] = code
    return problems
