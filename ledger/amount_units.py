"""The unit reports print amounts in: 万元 (the published default) or 元.

Reports format every amount through :func:`amount_str`; the caller picks the unit for
one report with :func:`amounts_in`. Each figure is rounded half-up on its own from
exact fen (in 元 that is exact: two decimals are fen).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum

from ledger.money import wanyuan_str, yuan_str


class AmountUnit(StrEnum):
    """The unit of a report's amounts."""

    WANYUAN = "wanyuan"
    """万元, two decimals, rounded half-up (the published reports)."""
    YUAN = "yuan"
    """元, two decimals (exact)."""


UNIT_LABELS: dict[AmountUnit, str] = {AmountUnit.WANYUAN: "万元", AmountUnit.YUAN: "元"}

_CURRENT: ContextVar[AmountUnit] = ContextVar("amount_unit", default=AmountUnit.WANYUAN)


@contextmanager
def amounts_in(unit: AmountUnit) -> Iterator[None]:
    """Reports built inside print their amounts in ``unit``."""
    token = _CURRENT.set(unit)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_unit() -> AmountUnit:
    return _CURRENT.get()


def amount_str(fen: int) -> str:
    """An amount in the current unit, two decimals, rounded half-up on its own."""
    return yuan_str(fen) if _CURRENT.get() is AmountUnit.YUAN else wanyuan_str(fen)


def unit_label() -> str:
    """万元 or 元, as the current unit is."""
    return UNIT_LABELS[_CURRENT.get()]
