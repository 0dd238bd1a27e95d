"""Double-entry postings behind every money event.

Accounts (amounts in fen, debit positive):

- ``bureau:<fund source>:issued`` — what the finance bureau has assigned, net of
  reductions (negative: money that left the bureau);
- ``bureau:<fund source>:returned`` — what it has taken back (财政收回);
- ``line:<id>:available`` — what the line may still spend;
- ``line:<id>:paid`` — what the line has paid out (transfers and disbursements);
- ``carryover:<fund source>:transit`` — carryover in transit between a line and next year's line
  (the two legs are stored together, so it is zero between commands);
- ``takeon:<fund source>:brought_forward`` — opening balances taken on from years the ledger
  never saw (negative: what they brought in);
- ``payer:<fund source>:received`` — non-fiscal income received (negative: what came in);
- ``reserve:<fund source>:drawn`` — earlier non-fiscal balance drawn in (使用非财政拨款结余);
- ``reserve:<fund source>:distributed`` — non-fiscal surplus distributed (结余分配).

Each event's postings sum to zero, so at every instant whatever left the bureau is
available on a line, paid out, or returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from ledger.line_totals import (
    ALLOCATED,
    BALANCE_USED,
    CARRIED_IN,
    CARRIED_OUT,
    CLAWED_BACK,
    DISBURSED,
    DISTRIBUTED,
    LAPSED,
    RECEIVED,
    REDUCED,
    TAKEN_ON,
    TRANSFERRED,
)


@dataclass(frozen=True)
class Posting:
    """One leg of a double entry."""

    account: str
    amount: int
    """Fen; positive is a debit, negative a credit."""


def postings_for(kind: str, amount: int, *, line_id: UUID | str, fund_source: str) -> list[Posting]:
    """The balanced postings of one money entry of a line.

    ``amount`` is negative for a reversal (红字), which mirrors the original.
    """
    available = f"line:{line_id}:available"
    if kind == ALLOCATED:
        legs = [(f"bureau:{fund_source}:issued", -amount), (available, amount)]
    elif kind == REDUCED:
        legs = [(available, -amount), (f"bureau:{fund_source}:issued", amount)]
    elif kind in (CLAWED_BACK, LAPSED):
        legs = [(available, -amount), (f"bureau:{fund_source}:returned", amount)]
    elif kind == CARRIED_OUT:
        legs = [(available, -amount), (f"carryover:{fund_source}:transit", amount)]
    elif kind == CARRIED_IN:
        legs = [(f"carryover:{fund_source}:transit", -amount), (available, amount)]
    elif kind == TAKEN_ON:
        legs = [(f"takeon:{fund_source}:brought_forward", -amount), (available, amount)]
    elif kind == RECEIVED:
        legs = [(f"payer:{fund_source}:received", -amount), (available, amount)]
    elif kind == BALANCE_USED:
        legs = [(f"reserve:{fund_source}:drawn", -amount), (available, amount)]
    elif kind == DISTRIBUTED:
        legs = [(available, -amount), (f"reserve:{fund_source}:distributed", amount)]
    elif kind in (TRANSFERRED, DISBURSED):
        legs = [(available, -amount), (f"line:{line_id}:paid", amount)]
    else:
        raise ValueError(f"no postings for entry kind {kind!r}")
    postings = [Posting(account, value) for account, value in legs]
    if sum(p.amount for p in postings) != 0:  # pragma: no cover - by construction
        raise ArithmeticError(f"unbalanced postings for {kind}: {postings}")
    return postings


_KIND_LEGS: dict[str, tuple[tuple[str, int], ...]] = {}


def kind_legs(kind: str) -> tuple[tuple[str, int], ...]:
    """The legs of one money entry of ``kind`` by account kind (issued, returned,
    available, paid, transit) and sign, read off :func:`postings_for` itself: what a
    running total by account kind adds per fen of the entry, whichever line and fund."""
    legs = _KIND_LEGS.get(kind)
    if legs is None:
        postings = postings_for(kind, 1, line_id="-", fund_source="-")
        legs = _KIND_LEGS[kind] = tuple((p.account.rsplit(":", 1)[1], p.amount) for p in postings)
    return legs
