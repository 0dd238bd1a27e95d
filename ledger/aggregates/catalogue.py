"""政府收支分类科目: a classification's catalogue for one year, as a finance bureau loaded
it into the ledger (shipped catalogues are package data and need no aggregate)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.classifications.catalogue import Catalogue, CatalogueKind
from ledger.events import PostedCreation, PostedEvent, business_id


class ClassificationCatalogue(Aggregate):
    """The catalogue of one classification (``kind``) for one year. Loading another file
    for the same year replaces it (both loads stay in history)."""

    class Imported(PostedCreation):
        kind: str
        """:class:`~ledger.classifications.catalogue.CatalogueKind` value."""
        year: int
        entries: list[list[str]]
        """``[code, name]`` pairs, every level."""
        mapping: dict[str, str]
        """The year before's code → this year's, where it changed."""
        source: str
        """The file's name, as the admin gave it."""
        digest: str

    class Replaced(PostedEvent):
        entries: list[list[str]]
        mapping: dict[str, str]
        source: str
        digest: str

        def apply(self, aggregate: Any) -> None:
            aggregate.entries = [list(e) for e in self.entries]
            aggregate.mapping = dict(self.mapping)
            aggregate.source = self.source
            aggregate.digest = self.digest

    def __init__(
        self,
        *,
        kind: str,
        year: int,
        entries: list[list[str]],
        mapping: dict[str, str],
        source: str,
        digest: str,
        **_meta: Any,
    ) -> None:
        self.kind = kind
        self.year = year
        self.entries = [list(e) for e in entries]
        self.mapping = dict(mapping)
        self.source = source
        self.digest = digest

    @staticmethod
    def create_id(kind: str, year: int) -> UUID:
        return business_id("catalogue", kind, year)

    @classmethod
    def id_for(cls, kind: str, year: int) -> UUID:
        return cls.create_id(kind, year)

    def replace(self, catalogue: Catalogue, *, source: str, **meta: Any) -> None:
        self.trigger_event(
            self.Replaced,
            entries=[[c, n] for c, n in sorted(catalogue.names.items())],
            mapping=dict(catalogue.mapping),
            source=source,
            digest=catalogue.digest,
            **meta,
        )

    def catalogue(self) -> Catalogue:
        """The catalogue as loaded (already validated when it was loaded)."""
        return Catalogue(
            CatalogueKind(self.kind),
            self.year,
            {c: n for c, n in self.entries},
            dict(self.mapping),
            origin=f"imported {self.year}",
        )
