"""Classification catalogues for the CLI and the service: load a bureau's file into the
ledger (as an ``import_catalogue`` command, through the one handler) and search the
catalogue of a year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from commands.handlers import CommandHandler, CommandResult, today_in_china
from commands.models import ImportCatalogue, build_command
from ledger.aggregates import ClassificationCatalogue
from ledger.classifications.catalogue import (
    KIND_NAMES,
    LEVELS,
    Catalogue,
    CatalogueKind,
    build,
)
from ledger.classifications.catalogue_files import read_mapping, read_rows
from ledger.errors import InvalidInput

MAX_RESULTS = 500


@dataclass(frozen=True)
class LoadedFile:
    """A catalogue file read and validated, and the command that stores it."""

    catalogue: Catalogue
    command: ImportCatalogue


def read_catalogue(
    path: Path,
    *,
    kind: CatalogueKind,
    year: int,
    posted_by: str,
    mapping: Path | None = None,
    command_id: str | None = None,
) -> LoadedFile:
    """Read and validate a catalogue file (row numbers as in the file), or raise
    :class:`~ledger.classifications.catalogue.InvalidCatalogue` listing every bad row."""
    rows = read_rows(path)
    mapping_rows = read_mapping(mapping) if mapping is not None else []
    catalogue = build(kind, year, rows, mapping_rows)
    command = build_command(
        ImportCatalogue,
        command_id=command_id or f"catalogue-{kind.value}-{year}-{catalogue.digest[:16]}",
        posted_by=posted_by,
        # the year's first day: the same file always makes the same command (a retry)
        business_date=date(year, 1, 1),
        kind=kind,
        year=year,
        entries=sorted(catalogue.names.items()),
        mapping=dict(catalogue.mapping),
        source=path.name,
    )
    return LoadedFile(catalogue, command)


def load_catalogue(handler: CommandHandler, loaded: LoadedFile) -> CommandResult:
    """Store a read catalogue; the same content loaded before (by anyone, under any
    command id) writes nothing and says so."""
    command = loaded.command
    found = handler.ledger.find(
        ClassificationCatalogue, ClassificationCatalogue.id_for(command.kind, command.year)
    )
    if found is not None and found.digest == loaded.catalogue.digest:
        handler.actor.require(command.type)
        return CommandResult(
            command_id=command.command_id,
            command_type=command.type,
            status="already_applied",
            message=f"the {command.year} {command.kind.value} catalogue is already loaded "
            f"with this content ({len(loaded.catalogue.names)} codes): nothing written",
            events=[],
        )
    return handler.handle(command)


def search(
    handler: CommandHandler,
    text: str,
    *,
    year: int | None = None,
    kind: CatalogueKind | None = None,
) -> dict[str, Any]:
    """Codes of the catalogue(s) of ``year`` (default: the current year) whose code starts
    with ``text`` or whose name contains it, which catalogue answered, and the year
    before's codes starting with ``text`` that the catalogue's mapping moved (to what)."""
    text = text.strip()
    if not text or len(text) > 100:
        raise InvalidInput("search for 1 to 100 characters: a code prefix or part of a name")
    year = year or today_in_china().year
    results: list[dict[str, Any]] = []
    catalogues = []
    moved: list[dict[str, str]] = []
    for k in [kind] if kind else list(CatalogueKind):
        catalogue = handler.catalogue(k, year)
        catalogues.append({"kind": k.value, "name": KIND_NAMES[k], "catalogue": catalogue.origin})
        for old, new in sorted(catalogue.mapping.items()):
            if old.startswith(text):
                moved.append(
                    {
                        "kind": k.value,
                        "prior_year_code": old,
                        "code": new,
                        "path": catalogue.path_name(new),
                    }
                )
        for code, name in catalogue.search(text):
            results.append(
                {
                    "kind": k.value,
                    "code": code,
                    "level": LEVELS[k][len(code)],
                    "name": name,
                    "path": catalogue.path_name(code),
                }
            )
    return {
        "year": year,
        "query": text,
        "catalogues": catalogues,
        "results": results[:MAX_RESULTS],
        "truncated": len(results) > MAX_RESULTS,
        "moved_from_prior_year": moved[:MAX_RESULTS],
    }
