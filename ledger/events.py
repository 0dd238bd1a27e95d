"""What every posted event records, whatever it is about.

Event classes themselves live with the aggregate they change (``ledger/aggregates``);
this module holds the common fields and the identity scheme.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

#: Namespace of every deterministic aggregate id: ids derive from business keys, so a
#: second creation of the same unit, year, project or line conflicts in the store.
FUNDFLOW_NAMESPACE = uuid5(NAMESPACE_URL, "https://fundflow.invalid/ids")


def encode_key(parts: tuple[object, ...]) -> str:
    """An unambiguous text of a business key: each part is written with its length, so no
    choice of codes can make two different keys encode alike (``("A/X", "P1")`` and
    ``("A", "X/P1")`` once both became ``A/X/P1``)."""
    return "".join(f"{len(text)}:{text};" for text in (str(p) for p in parts))


@lru_cache(maxsize=65536)
def business_id(*parts: object) -> UUID:
    """The deterministic id of an aggregate named by its business key parts (the first
    part names the kind of aggregate: ``unit``, ``line``, ``command`` …)."""
    return uuid5(FUNDFLOW_NAMESPACE, encode_key(parts))


class PostedEvent(Aggregate.Event):
    """Common fields of every event a person posts.

    The time the event was recorded is the library's ``timestamp`` (UTC, set when
    the event is created); ``business_date`` is when it happened in the books.
    """

    posted_by: str
    """Who posted it: the clerk's or job's identity."""
    business_date: date
    """业务日期: the date of the transaction in the books, not the time of recording."""
    document_no: str
    """文号 / 凭证号: the legal document or voucher behind the posting ("" if none)."""
    memo: str
    """Free text from the clerk."""
    command_id: str
    """The client's command id; a retry with the same id writes nothing."""
    adjustment_reason: str | None
    """Set on a correcting entry posted into a closed year during its adjustment period."""


class PostedCreation(PostedEvent, Aggregate.Created):
    """A :class:`PostedEvent` that creates its aggregate."""
