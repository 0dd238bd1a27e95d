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
CARRIED_IN = "CarryoverReceived"
CARRIED_OUT = "CarriedOver"
LAPSED = "Lapsed"
TAKEN_ON = "OpeningBalanceTaken"
RECEIVED = "Received"
BALANCE_USED = "NonFiscalBalanceUsed"
DISTRIBUTED = "BalanceDistributed"
MONEY_KINDS = frozenset(
    {
        ALLOCATED,
        REDUCED,
        TRANSFERRED,
        DISBURSED,
        CLAWED_BACK,
        TAKEN_ON,
        RECEIVED,
        BALANCE_USED,
        DISTRIBUTED,
    }
)
"""Entries a clerk posts (and may reverse)."""
CLOSING_KINDS = frozenset({CARRIED_IN, CARRIED_OUT, LAPSED})
"""Entries the year-end close makes (never reversed: reopen the year instead)."""


@dataclass
class LineTotals:
    """Running totals of a budget line, in fen.

    ``available = initial + top_ups + carried_in + received + balance_used − reduced
    − clawed_back − spent − distributed − carried_out − lapsed``; it never goes below zero.
    ``carried_in`` includes the opening balance taken on (``taken_on``) when the year
    before is not in the ledger: from then on it is a carryover like any other.
    """

    initial: int = 0
    """年初预算数: allocations marked initial."""
    top_ups: int = 0
    """下达 / 追加 during the year."""
    carried_in: int = 0
    """上年结转资金: carried over into this line by last year's close."""
    reduced: int = 0
    """追减 / 调减."""
    clawed_back: int = 0
    """财政收回 during the year (of this year's money or of the carryover)."""
    clawed_back_carryover: int = 0
    """The part of ``clawed_back`` that took back last year's carryover."""
    spent: int = 0
    """执行数: transfers to enterprises and disbursements."""
    carried_out: int = 0
    """结转: carried over to next year's line at this year's close."""
    lapsed: int = 0
    """结余 returned to the finance bureau at this year's close."""
    taken_on: int = 0
    """The part of ``carried_in`` entered as an opening balance (take-on), not by a close."""
    received: int = 0
    """Non-fiscal income received (上级补助收入, 事业收入, 经营收入, 附属单位上缴收入, 其他收入)."""
    balance_used: int = 0
    """使用非财政拨款结余: earlier years' non-fiscal balance drawn into this year."""
    distributed: int = 0
    """结余分配: non-fiscal surplus distributed (提取专用基金, 缴纳所得税, …)."""
    spent_by_economic: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The totals as plain data (a copy)."""
        return {**vars(self), "spent_by_economic": dict(self.spent_by_economic)}

    @property
    def full_year_budget(self) -> int:
        """全年预算数 = initial + top-ups + carryover + receipts + non-fiscal balance used
        − reductions − clawbacks."""
        return (
            self.initial
            + self.top_ups
            + self.carried_in
            + self.received
            + self.balance_used
            - self.reduced
            - self.clawed_back
        )

    @property
    def available(self) -> int:
        """What may still be spent (or is still to be carried over or lapse)."""
        return (
            self.full_year_budget - self.spent - self.distributed - self.carried_out - self.lapsed
        )

    @property
    def opening(self) -> int:
        """年初结转和结余: what last year's close carried into this line."""
        return self.carried_in

    @property
    def income(self) -> int:
        """本年收入: this year's money, net of what went back to the finance bureau
        (reductions, clawbacks, lapses), and non-fiscal receipts, so that
        年初 + 本年收入 + 使用非财政拨款结余 = 本年支出 + 结余分配 + 年末."""
        return (
            self.initial
            + self.top_ups
            + self.received
            - self.reduced
            - self.clawed_back
            - self.lapsed
        )

    @property
    def closing(self) -> int:
        """年末结转和结余: carried over at the close, or still unspent before it."""
        return self.carried_out + self.available

    @property
    def carryover_budget(self) -> int:
        """The carried-in money still budgeted (carryover less its clawbacks)."""
        return self.carried_in - self.clawed_back_carryover

    @property
    def spent_from_carryover(self) -> int:
        """Spending is taken from the carryover first."""
        return min(self.spent, self.carryover_budget)

    def apply(
        self,
        kind: str,
        amount: int,
        *,
        initial: bool = False,
        economic_code: str | None = None,
        from_carryover: bool = False,
    ) -> None:
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
            if from_carryover:
                self.clawed_back_carryover += amount
        elif kind in (TRANSFERRED, DISBURSED):
            self.spent += amount
            if economic_code is not None:
                total = self.spent_by_economic.get(economic_code, 0) + amount
                if total:
                    self.spent_by_economic[economic_code] = total
                else:
                    self.spent_by_economic.pop(economic_code, None)
        elif kind == CARRIED_IN:
            self.carried_in += amount
        elif kind == TAKEN_ON:
            self.carried_in += amount
            self.taken_on += amount
        elif kind == RECEIVED:
            self.received += amount
        elif kind == BALANCE_USED:
            self.balance_used += amount
        elif kind == DISTRIBUTED:
            self.distributed += amount
        elif kind == CARRIED_OUT:
            self.carried_out += amount
        elif kind == LAPSED:
            self.lapsed += amount
        else:
            raise ValueError(f"unknown entry kind {kind!r}")
