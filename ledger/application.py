"""The event-sourced application: persistence, mapping and aggregate look-ups."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import JSONTranscoder, Transcoding

A = TypeVar("A", bound=Aggregate)

PAGE_SIZE = 1000


class DateAsISO(Transcoding):
    """Business dates are stored as ISO text."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class Ledger(Application[UUID]):
    """The fundflow ledger: one event store for every unit and year."""

    name = "fundflow"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate with that id, or None."""
        try:
            found: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(found, cls):
            raise TypeError(f"{aggregate_id} is a {type(found).__name__}, not a {cls.__name__}")
        return found

    def event_at(self, aggregate_id: UUID, version: int) -> DomainEventProtocol[Any] | None:
        """One stored event of an aggregate, by its version (None if there is none)."""
        found = list(self.events.get(aggregate_id, gt=version - 1, lte=version))
        return found[0] if found else None

    def read_events(
        self, *, start: int = 1, stop: int | None = None
    ) -> Iterator[tuple[int, DomainEventProtocol[Any]]]:
        """Every stored event in log order, with its notification id, streamed in pages."""
        position = start
        while True:
            page = self.recorder.select_notifications(position, PAGE_SIZE, stop=stop)
            if not page:
                return
            for notification in page:
                yield notification.id, self.mapper.to_domain_event(notification)
            position = page[-1].id + 1

    def position(self) -> int:
        """The id of the last notification in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0
