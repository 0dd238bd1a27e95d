"""Seals: the head of the hash chain a year-end close finished on, recorded with the close
(``FiscalYear.Closed``), printed for filing, and checked by ``audit verify``."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.aggregates import FiscalYear
from ledger.application import Ledger
from ledger.errors import LedgerError
from ledger.hash_chain import Anchor, ChainWriter, Head, chain_head, stored_link


class InvalidSeal(LedgerError):
    """A close's seal that does not name a link of the log as it stands."""

    code = "invalid_seal"


def current_head(ledger: Ledger) -> Head | None:
    """The chain's head now (what a close seals), or None when the store keeps no chain."""
    return chain_head(ledger.recorder)


def check_seal(ledger: Ledger, position: int | None, stored: str | None) -> None:
    """Refuse a seal that is not a link of this log (a seal is taken, not made up)."""
    if position is None and stored is None:
        return
    if position is None or stored is None:
        raise InvalidSeal("a seal needs both its position and its hash")
    if not isinstance(ledger.recorder, ChainWriter):
        raise InvalidSeal("this store keeps no hash chain: a close on it has no seal")
    found = stored_link(ledger.recorder, position)
    if found != stored:
        raise InvalidSeal(
            f"the seal {position}:{stored} is not the log's link at event {position}; "
            "a seal is the head the close job reads, not a value to give"
        )


def seals_in(ledger: Ledger, start: int = 1) -> list[Anchor]:
    """Every seal recorded by a year-end close (from log position ``start`` on), as an
    anchor to check the log against."""
    opened, closed = get_topic(FiscalYear.Opened), get_topic(FiscalYear.Closed)
    years: dict[UUID, str] = {}
    seals: list[Anchor] = []
    for position, event in ledger.read_events(start=start, topics=[opened, closed]):
        if isinstance(event, FiscalYear.Opened):
            years[event.originator_id] = f"{event.year} of {event.unit_code}"
        elif isinstance(event, FiscalYear.Closed) and event.sealed_position is not None:
            what = years.get(event.originator_id, str(event.originator_id))
            seals.append(
                Anchor(
                    Head(event.sealed_position, event.sealed_hash or ""),
                    f"the seal of the close of {what} (event {position})",
                )
            )
    return seals
