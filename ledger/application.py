"""The event-sourced application: persistence, mapping and aggregate look-ups."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import (
    JSONTranscoder,
    Recording,
    StoredEvent,
    Transcoder,
    Transcoding,
)
from eventsourcing.utils import get_topic, resolve_topic

from ledger.aggregates.budget_line import BudgetLine
from ledger.aggregates.command_record import CommandRecord
from ledger.aggregates.unit import resolve_unit_code
from ledger.codec import OrjsonTranscoder
from ledger.roles import Actor

A = TypeVar("A", bound=Aggregate)


class StoreFormatError(RuntimeError):
    """The store was written in a format this version does not read."""


#: Events per page when the log is read (a page is one query).
PAGE_SIZE = 5000


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
    #: A budget line is snapshotted every this many events: a line with a long history
    #: (a hot line takes thousands of payments a year) is rebuilt from its last snapshot.
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[UUID]], int]] = {
        BudgetLine: 500
    }

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """The library's ``save``, collecting our aggregates' events directly: its
        ``collect_events`` asks ``isinstance`` of two runtime-checkable protocols per object,
        which typing answers slowly (7 % of an import's time in a profile). Anything else
        takes the library's path."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            elif obj is not None:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library's (deprecated) hook, as it does
        return recordings

    def construct_transcoder(self) -> Transcoder:
        transcoder = OrjsonTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

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

    def unit_code(self, unit: str) -> str | None:
        """The code of the unit named ``unit`` (its code or its full name), or None."""
        return resolve_unit_code(unit, self.find)

    def unit_in_scope(self, actor: Actor, unit: str) -> str:
        """The code of the unit named ``unit`` if ``actor`` may act in it; OutOfScope
        otherwise — also for a unit that does not exist, and naming it only as given, so
        that a scoped actor learns nothing of units outside its scope."""
        code = self.unit_code(unit) or unit
        actor.require_scope(code, named=unit)
        return code

    def known_ids(self, ids: list[UUID]) -> set[UUID]:
        """Which of ``ids`` name stored aggregates: one query for a whole batch (the
        command records of an import), instead of one look-up each."""
        known = getattr(self.recorder, "known_ids", None)
        if known is not None:
            found: set[UUID] = known(ids)
            return found
        return {i for i in ids if list(self.events.get(i, lte=1))}

    def event_at(self, aggregate_id: UUID, version: int) -> DomainEventProtocol[Any] | None:
        """One stored event of an aggregate, by its version (None if there is none)."""
        found = list(self.events.get(aggregate_id, gt=version - 1, lte=version))
        return found[0] if found else None

    def read_events(
        self, *, start: int = 1, stop: int | None = None, topics: Sequence[str] = ()
    ) -> Iterator[tuple[int, DomainEventProtocol[Any]]]:
        """Every stored event in log order (only those of ``topics``, if given), with its
        notification id, streamed in pages of ``PAGE_SIZE`` notification ids (keyset
        ranges: each page reads only its part of the index)."""
        select_rows = getattr(self.recorder, "select_rows", None)
        mapper = self.mapper
        if select_rows is None or mapper.cipher or mapper.compressor:
            yield from self._read_notifications(start, stop, topics)
            return
        classes: dict[str, Any] = {}
        last = self.position() if stop is None else stop
        for position in range(start, last + 1, PAGE_SIZE):
            page = select_rows(position, min(last, position + PAGE_SIZE - 1), topics)
            yield from self._decoded(page, classes)

    def read_events_of(
        self, ids: Sequence[UUID], *, start: int = 1, stop: int | None = None
    ) -> Iterator[tuple[int, DomainEventProtocol[Any]]]:
        """The stored events of the aggregates ``ids`` up to log position ``stop``, in log
        order, with their notification ids: one unit's history, read through the primary
        key — the cost grows with these aggregates' events, not with the log."""
        last = self.position() if stop is None else stop
        select_rows_of = getattr(self.recorder, "select_rows_of", None)
        wanted = set(ids)
        if select_rows_of is None or self.mapper.cipher or self.mapper.compressor:
            for position, event in self.read_events(start=start, stop=last):
                if event.originator_id in wanted:
                    yield position, event
            return
        yield from self._decoded(select_rows_of(list(wanted), last, start), {})

    def read_events_at(
        self, positions: Sequence[int]
    ) -> Iterator[tuple[int, DomainEventProtocol[Any]]]:
        """The stored events at these log positions, in log order."""
        select_rows_at = getattr(self.recorder, "select_rows_at", None)
        if select_rows_at is None or self.mapper.cipher or self.mapper.compressor:
            wanted = set(positions)
            for position, event in self.read_events(stop=max(positions, default=0)):
                if position in wanted:
                    yield position, event
            return
        if positions:
            yield from self._decoded(select_rows_at(positions), {})

    def _decoded(
        self, rows: Sequence[Any], classes: dict[str, Any]
    ) -> Iterator[tuple[int, DomainEventProtocol[Any]]]:
        mapper = self.mapper
        decode = mapper.transcoder.decode
        for notification_id, originator_id, version, topic, state in rows:
            cls = classes.get(topic)
            if cls is None:
                cls = classes[topic] = resolve_topic(topic)
            event_state = decode(bytes(state))
            if "class_version" in event_state or getattr(cls, "class_version", 1) > 1:
                # an event to upcast: the library's own path
                yield (
                    notification_id,
                    mapper.to_domain_event(
                        StoredEvent(originator_id, version, topic, bytes(state))
                    ),
                )
                continue
            event_state["originator_id"] = originator_id
            event_state["originator_version"] = version
            event = object.__new__(cls)
            object.__setattr__(event, "__dict__", event_state)
            yield notification_id, event

    def _read_notifications(
        self, start: int, stop: int | None, topics: Sequence[str]
    ) -> Iterator[tuple[int, DomainEventProtocol[Any]]]:
        position = start
        while True:
            page = self.recorder.select_notifications(position, PAGE_SIZE, stop=stop, topics=topics)
            if not page:
                return
            for notification in page:
                yield notification.id, self.mapper.to_domain_event(notification)
            position = page[-1].id + 1

    def require_current_format(self) -> None:
        """Refuse a store written before command ids were namespaced and aggregate ids
        length-prefixed: its ids would not be found, and replaying the same commands into
        it would post them a second time."""
        topic = get_topic(CommandRecord.Recorded)
        for _, event in self.read_events(stop=min(self.position(), PAGE_SIZE), topics=[topic]):
            if not hasattr(event, "namespace"):
                raise StoreFormatError(
                    "this store was written by an earlier fundflow, whose command and aggregate "
                    "ids this one does not read; keep it with that version, or start a new "
                    "store and import the history again"
                )
            return

    def position(self) -> int:
        """The id of the last notification in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0
