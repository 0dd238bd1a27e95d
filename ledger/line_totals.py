"""The money state of one budget line and how each kind of entry moves it.

Shared by the :class:`~ledger.aggregates.budget_line.BudgetLine` aggregate and by the
projections, so that the live state and a replay cannot disagree on arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Entry kinds (the names of the money events of a budget line).
ALLOCATED = "Allocated"
REDUCED = "Reduced"
TRANSFERRED = "TransferredToEnterprise"
DISBURSED = "Disbursed"
CLAWED_BACK = "ClawedBack"
MONEY_KINDS = frozenset({ALLOCATED, REDUCED, TRANSFERRED, DISBURSED, CLAWED_BACK})


@dataclass
class LineTotals:
    """Running totals of a budget line, in fen."""

    initial: int = 0
    """年初预算数: allocations marked initial."""
    top_ups: int = 0
    """下达 / 追加 during the year."""
    reduced: int = 0
    """追减 / 调减."""
    clawed_back: int = 0
    """财政收回."""
    spent: int = 0
    """执行数: transfers to enterprises and disbursements."""
    spent_by_economic: dict[str, int] = field(default_factory=dict)

    @property
    def full_year_budget(self) -> int:
        """全年预算数 = initial + top-ups − reductions − clawbacks."""
        return self.initial + self.top_ups - self.reduced - self.clawed_back

    @property
    def available(self) -> int:
        """What may still be spent: full-year budget − executed."""
        return self.full_year_budget - self.spent

    def apply(self, kind: str, amount: int, *, initial: bool, economic_code: str | None) -> None:
        """Move the totals by one entry; ``amount`` is negative for a reversal."""
        if kind == ALLOCATED:
            if initial:
                self.initial += amount
            else:
                self.top_ups += amount
        elif kind == REDUCED:
            self.reduced += amount
        elif kind == CLAWED_BACK:
            self.clawed_back += amount
        elif kind in (TRANSFERRED, DISBURSED):
            self.spent += amount
            if economic_code is not None:
                total = self.spent_by_economic.get(economic_code, 0) + amount
                if total:
                    self.spent_by_economic[economic_code] = total
                else:
                    self.spent_by_economic.pop(economic_code, None)
        else:
            raise ValueError(f"unknown entry kind {kind!r}")
