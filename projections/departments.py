"""部门决算 of a department: the consolidation of its units' final accounts.

A department (:class:`~ledger.aggregates.Department`) is its own office (机关本级) and its
subordinate units, each with its own 单位决算. The department's accounts add up the units'
and eliminate the money that moved between them: a receipt of one member unit whose payer
is another member (上级补助收入 from the office, 附属单位上缴收入 from a subordinate …) and
the payment of the other member to it (对附属单位补助支出, 上缴上级支出 …). A member is
named as the other party by its code or its full registered name.

The identities are checked at both levels: each unit's own (:func:`check_year`), and the
department's: 收入总计 = 支出总计 after elimination (it holds only when what one member
paid another equals what the other received), 本年收入合计 = the sum over fund sources,
本年支出合计 = 基本支出 + 项目支出, and each pair of members' transfers matched. The
per-fund-source identity is a unit's, not the department's: a transfer paid from one
fund source is received on another, and elimination takes both out.

Scope: the department's report is read only by a caller whose scope covers every member
unit (a partial consolidation would be a different report, and would tell a scoped caller
about units it may not read); otherwise it is refused as out of scope, as a department
that does not exist is for a scoped caller.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ledger.aggregates import Department
from ledger.application import Ledger
from ledger.classifications import (
    FUND_SOURCE_NAMES,
    NATURE_NAMES,
    OTHER_NATURES,
    FundSource,
    Nature,
    ThreePublic,
    function_name,
)
from ledger.classifications.catalogue import CatalogueKind
from ledger.errors import OutOfScope, UnknownDepartment
from ledger.money import percent_str, wanyuan_str, yuan_str
from ledger.roles import Actor
from projections.books import Books, LineView
from projections.checks import Check, check_year
from projections.final_accounts import final_accounts

W = wanyuan_str
P = percent_str

#: The income rows of the 收入决算表, in the published order.
SOURCE_ROWS: tuple[tuple[str, frozenset[FundSource]], ...] = (
    (
        "财政拨款收入",
        frozenset(
            {FundSource.GENERAL_PUBLIC_BUDGET, FundSource.GOVERNMENT_FUND, FundSource.STATE_CAPITAL}
        ),
    ),
    *(
        (f"{FUND_SOURCE_NAMES[s]}收入", frozenset({s}))
        for s in (
            FundSource.GENERAL_PUBLIC_BUDGET,
            FundSource.GOVERNMENT_FUND,
            FundSource.STATE_CAPITAL,
        )
    ),
    *(
        (FUND_SOURCE_NAMES[s], frozenset({s}))
        for s in (
            FundSource.HIGHER_LEVEL_SUBSIDY,
            FundSource.BUSINESS_INCOME,
            FundSource.OPERATING_INCOME,
            FundSource.AFFILIATED_REMITTANCE,
            FundSource.OTHER,
        )
    ),
)


@dataclass(frozen=True)
class DepartmentView:
    """A department as its report sees it: code, name and member unit codes."""

    code: str
    name: str
    units: tuple[str, ...]


def department_for(ledger: Ledger, actor: Actor, code: str) -> DepartmentView:
    """The department ``code`` if ``actor`` may read it: every member unit in its scope.
    A scoped actor is refused alike for a department that does not exist and for one it
    may not read, naming only the code it gave."""
    found = ledger.find(Department, Department.id_for(code))
    refused = OutOfScope(
        f"{actor.identity} may not read department {code}: its units are not all within "
        "the units this user is scoped to"
    )
    if found is None:
        if actor.units is not None:
            raise refused
        raise UnknownDepartment(f"department {code} is not declared")
    if not all(actor.in_scope(unit) for unit in found.units):
        raise refused
    return DepartmentView(found.code, found.name, tuple(found.units))


@dataclass
class _Tally:
    """Fen of the consolidation, before formatting."""

    opening: int = 0
    income: int = 0
    balance_used: int = 0
    spent: int = 0
    distributed: int = 0
    closing: int = 0
    fiscal_opening: int = 0
    fiscal_income: int = 0
    fiscal_spent: int = 0
    fiscal_closing: int = 0
    basic: int = 0
    project: int = 0
    others: dict[Nature, int] = field(default_factory=lambda: dict.fromkeys(OTHER_NATURES, 0))
    """上缴上级支出, 经营支出, 对附属单位补助支出 (what is left of them after elimination)."""
    gpb_spent: int = 0


def _member_of(books: Books, members: tuple[str, ...]) -> dict[str, str]:
    """Each name a member unit may be given as the other party (code, full name) → code."""
    named: dict[str, str] = {}
    for code in members:
        named[code] = code
        unit = books.units.get(code)
        if unit is not None:
            named[unit.name] = code
    return named


def department_final_accounts(
    books: Books, department: DepartmentView, year: int, *, clearance: bool = False
) -> dict[str, Any]:
    """The department's 部门决算 for ``year``: the consolidation with transfers between its
    units eliminated, each unit's own report beside it, and the identities at both levels."""
    members = department.units
    named = _member_of(books, members)
    unit_reports = {
        code: final_accounts(books, code, year, clearance=clearance) for code in members
    }

    t = _Tally()
    by_source: dict[FundSource, int] = defaultdict(int)
    item_spent: dict[str, int] = defaultdict(int)
    three: dict[str, int] = defaultdict(int)
    paid: dict[tuple[str, str], int] = defaultdict(int)
    received: dict[tuple[str, str], int] = defaultdict(int)
    received_as: dict[tuple[str, str], set[str]] = defaultdict(set)
    for code in members:
        for line in books.lines_of(code, year):
            x = line.totals
            income, spent = x.income, x.spent
            for (kind, party, _economic), amount in line.parties.items():
                other = named.get(party)
                if other is None or other == code:
                    continue
                if kind == "Received":
                    received[(other, code)] += amount
                    received_as[(other, code)].add(FUND_SOURCE_NAMES[line.fund_source])
                    income -= amount
                else:
                    paid[(code, other)] += amount
                    spent -= amount
            _add_line(t, line, income, spent)
            by_source[line.fund_source] += income
            if line.fund_source is FundSource.GENERAL_PUBLIC_BUDGET:
                item_spent[line.function_code] += spent
            if line.is_fiscal:
                for category, amount in line.three_public.items():
                    three[category] += amount

    class_spent: dict[str, int] = defaultdict(int)
    for item, amount in item_spent.items():
        class_spent[item[:3]] += amount
    income_total = t.opening + t.income + t.balance_used
    expenditure_total = t.spent + t.distributed + t.closing
    pairs = sorted(set(paid) | set(received))
    eliminations = [
        {
            "paid_by": payer,
            "received_by": payee,
            "paid": W(paid.get((payer, payee), 0)),
            "received": W(received.get((payer, payee), 0)),
            "received_as": sorted(received_as.get((payer, payee), ())),
        }
        for payer, payee in pairs
    ]
    source_rows = [(name, sum(by_source[s] for s in sources)) for name, sources in SOURCE_ROWS]

    checks: list[dict[str, Any]] = [
        _shown(department.code, c)
        for c in _department_checks(t, by_source, class_spent, paid, received)
    ]
    for code in members:
        checks += [_shown(code, c) for c in check_year(books, code, year, clearance=clearance)]

    three_total = sum(three.values())
    return {
        "department": department.code,
        "name": department.name,
        "fiscal_year": year,
        "amount_unit": "万元 (10,000 CNY): two decimals, each figure rounded half-up on its own "
        "from exact amounts; percentages two decimals",
        "units": [{"code": code, "name": unit_reports[code]["unit"]} for code in members],
        "overview": {
            "income_total": W(income_total),
            "current_year_income": W(t.income),
            "non_fiscal_balance_used": W(t.balance_used),
            "opening_carryover_and_balance": W(t.opening),
            "expenditure_total": W(expenditure_total),
            "current_year_expenditure": W(t.spent),
            "balance_distribution": W(t.distributed),
            "closing_carryover_and_balance": W(t.closing),
        },
        "income_by_source": [
            {"source": name, "amount": W(amount), "share_pct": P(amount, t.income)}
            for name, amount in source_rows
        ],
        "expenditure_by_nature": [
            {"nature": name, "amount": W(amount), "share_pct": P(amount, t.spent)}
            for name, amount in (
                ("基本支出", t.basic),
                ("项目支出", t.project),
                *((NATURE_NAMES[n], t.others[n]) for n in OTHER_NATURES),
            )
        ],
        "fiscal_appropriation": {
            "opening_carryover_and_balance": W(t.fiscal_opening),
            "current_year_income": W(t.fiscal_income),
            "income_total": W(t.fiscal_opening + t.fiscal_income),
            "current_year_expenditure": W(t.fiscal_spent),
            "closing_carryover_and_balance": W(t.fiscal_closing),
            "expenditure_total": W(t.fiscal_spent + t.fiscal_closing),
        },
        "general_public_budget_expenditure": {
            "amount": W(t.gpb_spent),
            "share_of_current_year_expenditure_pct": P(t.gpb_spent, t.spent),
        },
        "by_function_class": [
            {
                "code": klass,
                "name": books.label(CatalogueKind.FUNCTION, year, klass),
                "amount": W(amount),
                "share_pct": P(amount, t.gpb_spent),
            }
            for klass, amount in sorted(class_spent.items())
        ],
        "by_function_item": [
            {"code": item, "name": function_name(item), "amount": W(amount)}
            for item, amount in sorted(item_spent.items())
        ],
        "three_public_expenses": {
            "total": W(three_total),
            **{category.value: W(three.get(category.value, 0)) for category in ThreePublic},
        },
        "eliminations": eliminations,
        "eliminated_income": W(sum(received.values())),
        "eliminated_expenditure": W(sum(paid.values())),
        "ok": all(c["ok"] for c in checks),
        "checks": checks,
        "unit_reports": unit_reports,
    }


def _add_line(t: _Tally, line: LineView, income: int, spent: int) -> None:
    """Add one line, with its income and spending net of transfers within the department."""
    x = line.totals
    t.opening += x.opening
    t.income += income
    t.balance_used += x.balance_used
    t.spent += spent
    t.distributed += x.distributed
    t.closing += x.closing
    if line.is_fiscal:
        t.fiscal_opening += x.opening
        t.fiscal_income += income
        t.fiscal_spent += spent
        t.fiscal_closing += x.closing
    if line.nature is Nature.PROJECT:
        t.project += spent
    elif line.nature.is_basic:
        t.basic += spent
    else:
        t.others[line.nature] += spent
    if line.fund_source is FundSource.GENERAL_PUBLIC_BUDGET:
        t.gpb_spent += spent


def _equal(name: str, left: int, right: int, what: str) -> Check:
    return Check(name, left == right, f"{what}: {yuan_str(left)} vs {yuan_str(right)} yuan")


def _department_checks(
    t: _Tally,
    by_source: dict[FundSource, int],
    class_spent: dict[str, int],
    paid: dict[tuple[str, str], int],
    received: dict[tuple[str, str], int],
) -> list[Check]:
    checks = [
        _equal(
            "部门: 收入总计 = 支出总计",
            t.opening + t.income + t.balance_used,
            t.spent + t.distributed + t.closing,
            "年初结转和结余 + 本年收入 + 使用非财政拨款结余 vs "
            "本年支出 + 结余分配 + 年末结转和结余, after elimination",
        ),
        _equal(
            "部门: 本年收入合计 = 各资金来源之和",
            t.income,
            sum(by_source.values()),
            "本年收入合计 vs sum over fund sources",
        ),
        _equal(
            "部门: 本年支出合计 = 基本支出 + 项目支出 + 上缴上级 + 经营 + 对附属单位补助",
            t.spent,
            t.basic + t.project + sum(t.others.values()),
            "本年支出合计 vs 基本支出 + 项目支出 + 上缴上级 + 经营 + 对附属单位补助",
        ),
        _equal(
            "部门: 一般公共预算财政拨款支出 = 各功能分类（类）之和",
            t.gpb_spent,
            sum(class_spent.values()),
            "一般公共预算财政拨款支出 vs sum over function classes",
        ),
    ]
    for payer, payee in sorted(set(paid) | set(received)):
        checks.append(
            _equal(
                f"部门: 内部往来 {payer} → {payee} 支付 = 收到",
                paid.get((payer, payee), 0),
                received.get((payer, payee), 0),
                f"paid by {payer} vs received by {payee}",
            )
        )
    return checks


def _shown(level: str, check: Check) -> dict[str, Any]:
    return {"level": level, "name": check.name, "ok": check.ok, "detail": check.detail}
