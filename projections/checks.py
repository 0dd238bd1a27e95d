"""The identities every year's accounts obey (DOMAIN.md), checked on exact amounts.

``check_year`` returns one :class:`Check` per identity (per fund source, per line where
the identity is per fund source or per line); ``fundflow check`` prints them and fails
when any does not hold.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from ledger.aggregates import YearStatus
from ledger.classifications import (
    OTHER_NATURES,
    PERSONNEL_CLASSES,
    PUBLIC_OPERATING_CLASSES,
    Nature,
)
from ledger.money import yuan_str
from projections.books import Books, LineView
from projections.redaction import CLASSIFIED_NAME, NEEDS_CLEARANCE, Redaction


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    line: LineView | None = field(default=None, compare=False, repr=False)
    """The line a per-line check is about (for the redaction policy)."""


def _equal(name: str, left: int, right: int, what: str) -> Check:
    return Check(name, left == right, f"{what}: {yuan_str(left)} vs {yuan_str(right)} yuan")


def _withheld(checks: list[Check], policy: Redaction) -> list[Check]:
    """Without clearance the per-line checks of classified lines become one check per
    identity that names no line and no amount: it holds when it holds for every one."""
    shown: list[Check] = []
    merged: dict[str, bool] = {}
    for check in checks:
        if check.line is not None and policy.hides_line(check.line):
            what = check.name.split(": ", 1)[-1]
            merged[what] = merged.get(what, True) and check.ok
        else:
            shown.append(check)
    return shown + [
        Check(f"{CLASSIFIED_NAME}: {what}", ok, NEEDS_CLEARANCE) for what, ok in merged.items()
    ]


def check_year(books: Books, unit: str, year: int, *, clearance: bool = False) -> list[Check]:
    """Every identity of the unit's year; see the module docstring. Without ``clearance``
    the per-line checks of classified projects' lines are merged (see
    :mod:`projections.redaction`)."""
    policy = Redaction.of(books, clearance)
    code = books.unit(unit).code
    year_view = books.year(code, year)
    lines = books.lines_of(code, year)
    t = [ln.totals for ln in lines]
    checks: list[Check] = []

    opening = sum(x.opening for x in t)
    income = sum(x.income for x in t)
    spent = sum(x.spent for x in t)
    closing = sum(x.closing for x in t)
    used = sum(x.balance_used for x in t)
    distributed = sum(x.distributed for x in t)
    checks.append(
        _equal(
            "收入总计 = 支出总计",
            opening + income + used,
            spent + distributed + closing,
            "年初结转和结余 + 本年收入 + 使用非财政拨款结余 vs "
            "本年支出 + 结余分配 + 年末结转和结余",
        )
    )

    by_source: dict[str, int] = defaultdict(int)
    for ln in lines:
        by_source[ln.fund_source.value] += ln.totals.income
    checks.append(
        _equal(
            "本年收入合计 = 各资金来源之和",
            income,
            sum(by_source.values()),
            "本年收入合计 vs sum over fund sources",
        )
    )

    basic = sum(ln.totals.spent for ln in lines if ln.nature.is_basic)
    project = sum(ln.totals.spent for ln in lines if ln.nature is Nature.PROJECT)
    others = sum(ln.totals.spent for ln in lines if ln.nature in OTHER_NATURES)
    checks.append(
        _equal(
            "本年支出合计 = 基本支出 + 项目支出 + 上缴上级支出 + 经营支出 + 对附属单位补助支出",
            spent,
            basic + project + others,
            "本年支出合计 vs 基本支出 + 项目支出 + 上缴上级 + 经营 + 对附属单位补助",
        )
    )
    by_class: dict[str, int] = defaultdict(int)
    by_item: dict[str, int] = defaultdict(int)
    for ln in lines:
        by_class[ln.function_code[:3]] += ln.totals.spent
        by_item[ln.function_code] += ln.totals.spent
    checks.append(
        _equal(
            "本年支出合计 = 各功能分类（类）之和",
            spent,
            sum(by_class.values()),
            "本年支出合计 vs sum over function classes",
        )
    )
    for klass, amount in sorted(by_class.items()):
        items = sum(a for item, a in by_item.items() if item.startswith(klass))
        sections: dict[str, int] = defaultdict(int)
        for item, a in by_item.items():
            if item.startswith(klass):
                sections[item[:5]] += a
        checks.append(
            _equal(f"类 {klass} = 款之和 = 项之和", amount, items, f"class {klass} vs its items")
        )
        checks.append(
            _equal(
                f"类 {klass} 款之和",
                amount,
                sum(sections.values()),
                f"class {klass} vs its sections",
            )
        )

    personnel = public = 0
    for ln in lines:
        if ln.nature.is_basic:
            for econ, a in ln.totals.spent_by_economic.items():
                if econ[:3] in PERSONNEL_CLASSES:
                    personnel += a
                elif econ[:3] in PUBLIC_OPERATING_CLASSES:
                    public += a
    checks.append(
        _equal(
            "基本支出 = 人员经费 + 公用经费",
            basic,
            personnel + public,
            "基本支出 vs 人员经费 + 公用经费",
        )
    )

    sources = sorted({ln.fund_source.value for ln in lines})
    for source in sources:
        s = [ln.totals for ln in lines if ln.fund_source.value == source]
        left = sum(
            x.opening
            + x.initial
            + x.top_ups
            + x.received
            + x.balance_used
            - x.reduced
            - x.spent
            - x.distributed
            - x.clawed_back
            - x.lapsed
            for x in s
        )
        checks.append(
            _equal(
                f"{source}: 年初 + 收入 − 支出 − 收回 = 年末",
                left,
                sum(x.closing for x in s),
                "年初 + 收入 − 支出 − 收回 vs 年末",
            )
        )

    closed = year_view.status is YearStatus.CLOSED
    for ln in lines:
        x = ln.totals
        budget = x.initial + x.top_ups + x.carried_in + x.received + x.balance_used - x.reduced
        settled = x.spent + x.distributed + x.clawed_back + x.carried_out + x.lapsed + x.available
        checks.append(
            replace(
                _equal(
                    f"line {ln.code}: 预算 = 执行 + 收回 + 结转 + 结余",
                    budget,
                    settled,
                    "budget vs executed + clawed back + carried over + lapsed + left",
                ),
                line=ln,
            )
        )
        checks.append(
            Check(
                f"line {ln.code}: not below zero",
                x.available >= 0,
                f"available: {yuan_str(x.available)} yuan",
                line=ln,
            )
        )
        if closed:
            checks.append(
                replace(
                    _equal(
                        f"line {ln.code}: nothing left after the close", x.available, 0, "available"
                    ),
                    line=ln,
                )
            )

    checks += _opening_matches_prior_closing(books, code, year, lines)
    checks = _withheld(checks, policy)
    kinds = books.balances_by_account_kind()
    checks.append(
        _equal(
            "double entry: all accounts sum to zero",
            sum(kinds.values()),
            0,
            "sum of all accounts",
        )
    )
    checks.append(_equal("double entry: no carryover in transit", kinds["transit"], 0, "transit"))
    return checks


def _opening_matches_prior_closing(
    books: Books, code: str, year: int, lines: list[LineView]
) -> list[Check]:
    """年初结转和结余 of this year = 年末 of last year (per line, per fund, overall) when
    last year is in the ledger and closed."""
    prior_view = books.years.get((code, year - 1))
    if prior_view is None or prior_view.status is not YearStatus.CLOSED:
        return []
    prior = books.lines_of(code, year - 1)
    checks = [
        _equal(
            "年初结转和结余 = 上年年末结转和结余",
            sum(ln.totals.opening for ln in lines),
            sum(ln.totals.closing for ln in prior),
            "this year's opening vs last closing",
        )
    ]
    for source in sorted({ln.fund_source.value for ln in prior + lines}):
        checks.append(
            _equal(
                f"{source}: 年初 = 上年年末",
                sum(ln.totals.opening for ln in lines if ln.fund_source.value == source),
                sum(ln.totals.closing for ln in prior if ln.fund_source.value == source),
                "opening vs last year's closing",
            )
        )
    now = {ln.code: ln.totals.opening for ln in lines}
    for ln in prior:
        if ln.totals.carried_out:
            checks.append(
                replace(
                    _equal(
                        f"line {ln.code}: 年初 = 上年结转",
                        now.get(ln.code, 0),
                        ln.totals.carried_out,
                        "opening vs carried over",
                    ),
                    line=ln,
                )
            )
    return checks
