"""部门决算: the year-end accounts of a unit, as 第二部分 of the published report states them.

Section and field names are those of the published-figures file
(``shared/seed/changji-2022-published-figures.json``). Amounts are 万元 strings with two
decimals (元 inside ``ledger.amount_units.amounts_in(YUAN)``; the ``…_yuan`` twins of the
三公 detail always) and percentages two-decimal strings, each figure rounded half-up on
its own from exact fen; a rate that is not defined (nothing in the prior year) is ``null``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ledger.amount_units import amount_str, unit_label
from ledger.classifications import (
    FUND_SOURCE_NAMES,
    NATURE_NAMES,
    OTHER_NATURES,
    PERSONNEL_CLASSES,
    PUBLIC_OPERATING_CLASSES,
    FundSource,
    Nature,
    ProcurementCategory,
    SupplierSize,
    ThreePublic,
)
from ledger.classifications.catalogue import CatalogueKind
from ledger.money import percent_str, wanyuan_str, yuan_str
from projections.books import Books, LineView
from projections.execution import project_rows
from projections.redaction import CLASSIFIED_NAME, NEEDS_CLEARANCE, Redaction

EMPTY_BUDGET = "empty (no income, expenditure or balances)"

W = amount_str
P = percent_str
ECONOMIC = CatalogueKind.ECONOMIC_DEPARTMENT
AMOUNT_UNIT_TEXT = {
    "万元": "万元 (10,000 CNY): two decimals, each figure rounded half-up on its own from exact "
    "amounts; percentages two decimals",
    "元": "元 (CNY): two decimals, exact; percentages two decimals",
}


def _sum(values: Iterable[int]) -> int:
    return sum(values, 0)


def _change(current: int, prior: int | None) -> tuple[str | None, str | None]:
    """(change, change %) against a prior-year amount; None where there is no prior year."""
    if prior is None:
        return None, None
    return W(current - prior), P(current - prior, prior)


#: Which prior-year figure wins, stated in every report (``prior_year_comparison``).
PRIOR_YEAR_RULE = (
    "published prior-year figures imported for this year (import_prior_year_figures) win, "
    "figure by figure, also when the ledger holds part or all of the prior year; a figure "
    "the import does not give comes from the ledger's own books of the prior year when it "
    "holds that year; otherwise there is no comparison (null)"
)
PRIOR_FIGURES = (
    "income_total",
    "expenditure_total",
    "current_year_income",
    "current_year_expenditure",
    "fiscal_appropriation_income_total",
    "fiscal_appropriation_expenditure_total",
    "general_public_budget_expenditure",
    "function_items",
    "three_public",
    "office_operating_expenses",
)


def _prior(books: Books, unit_code: str, year: int) -> tuple[dict[str, Any], dict[str, str]]:
    """The prior year's figures and where each comes from (``published``, ``ledger`` or
    ``none``), by :data:`PRIOR_YEAR_RULE`."""
    published = books.year(unit_code, year).prior_year_figures or {}
    in_ledger = (unit_code, year - 1) in books.years and books.lines_of(unit_code, year - 1)
    kept = _figures_from_books(books, unit_code, year - 1) if in_ledger else {}
    figures: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for key in PRIOR_FIGURES:
        if published.get(key) is not None:
            figures[key], origin[key] = published[key], "published"
        elif kept.get(key) is not None:
            figures[key], origin[key] = kept[key], "ledger"
        else:
            origin[key] = "none"
    return figures, origin


def _figures_from_books(books: Books, unit_code: str, year: int) -> dict[str, Any]:
    lines = books.lines_of(unit_code, year)
    fiscal = [ln for ln in lines if ln.is_fiscal]
    gpb = [ln for ln in lines if ln.fund_source is FundSource.GENERAL_PUBLIC_BUDGET]
    items: dict[str, int] = defaultdict(int)
    for line in gpb:
        items[line.function_code] += line.totals.spent
    three: dict[str, int] = defaultdict(int)
    for line in fiscal:
        for category, amount in line.three_public.items():
            three[category] += amount
    return {
        "income_total": _sum(ln.totals.opening + ln.totals.income for ln in lines),
        "expenditure_total": _sum(ln.totals.spent + ln.totals.closing for ln in lines),
        "current_year_income": _sum(ln.totals.income for ln in lines),
        "current_year_expenditure": _sum(ln.totals.spent for ln in lines),
        "fiscal_appropriation_income_total": _sum(
            ln.totals.opening + ln.totals.income for ln in fiscal
        ),
        "fiscal_appropriation_expenditure_total": _sum(
            ln.totals.spent + ln.totals.closing for ln in fiscal
        ),
        "general_public_budget_expenditure": _sum(ln.totals.spent for ln in gpb),
        "function_items": [{"code": c, "amount": a} for c, a in items.items()],
        "three_public": dict(three),
        "office_operating_expenses": _public_operating(books.units[unit_code].kind, gpb),
    }


def _economic_spent(lines: Iterable[LineView], classes: frozenset[str]) -> dict[str, int]:
    spent: dict[str, int] = defaultdict(int)
    for line in lines:
        for code, amount in line.totals.spent_by_economic.items():
            if code[:3] in classes:
                spent[code] += amount
    return dict(spent)


def _public_operating(unit_kind: str, gpb_lines: list[LineView]) -> int:
    """机关运行经费: public operating expenses of basic lines, for administrative units."""
    if unit_kind != "administrative":
        return 0
    basic = [ln for ln in gpb_lines if ln.nature.is_basic]
    return _sum(_economic_spent(basic, PUBLIC_OPERATING_CLASSES).values())


def _fund_budget(lines: list[LineView]) -> dict[str, str] | str:
    totals = [ln.totals for ln in lines]
    if not any(t.opening or t.income or t.spent or t.closing for t in totals):
        return EMPTY_BUDGET
    return {
        "opening_carryover_and_balance": W(_sum(t.opening for t in totals)),
        "current_year_income": W(_sum(t.income for t in totals)),
        "current_year_expenditure": W(_sum(t.spent for t in totals)),
        "closing_carryover_and_balance": W(_sum(t.closing for t in totals)),
    }


def _three_public_detail(
    spent: dict[str, int], budget: dict[str, int], prior: dict[str, Any] | None
) -> dict[str, dict[str, str | None]]:
    """“三公”经费 per category and in total, against the 三公 budget (a control figure: a
    category may exceed its budget, a payment is never refused for it) and the prior year:
    万元 (two decimals, half-up) and their exact twins in 元. A category with nothing the
    year before changes by its whole amount, its rate not defined (null)."""
    total = _sum(spent.values())
    rows: dict[str, dict[str, str | None]] = {}
    for key in [*(c.value for c in ThreePublic), "total"]:
        amount = total if key == "total" else spent.get(key, 0)
        planned = _sum(budget.values()) if key == "total" else budget.get(key, 0)
        before: int | None = None
        if prior is not None:
            values = {k: int(v) for k, v in prior.items()}
            before = _sum(values.values()) if key == "total" else values.get(key, 0)
        change = None if before is None else amount - before
        rows[key] = {
            "amount": wanyuan_str(amount),
            "budget": wanyuan_str(planned),
            "change_from_prior_year": None if change is None else wanyuan_str(change),
            "amount_yuan": yuan_str(amount),
            "budget_yuan": yuan_str(planned),
            "change_from_prior_year_yuan": None if change is None else yuan_str(change),
            "completion_of_budget_pct": P(amount, planned),
            "change_pct": None if change is None or not before else P(change, before),
            "share_pct": P(amount, total),
        }
    return rows


def final_accounts(
    books: Books, unit: str, year: int, *, clearance: bool = False
) -> dict[str, Any]:
    """The final-accounts report of ``unit`` (code or name) for ``year``; classified
    projects in detail only with ``clearance``."""
    unit_view = books.unit(unit)
    code = unit_view.code
    year_view = books.year(code, year)
    prior, prior_origin = _prior(books, code, year)
    facts = year_view.facts
    lines = books.lines_of(code, year)
    fiscal = [ln for ln in lines if ln.is_fiscal]
    gpb = [ln for ln in lines if ln.fund_source is FundSource.GENERAL_PUBLIC_BUDGET]

    income = _sum(ln.totals.income for ln in lines)
    spent = _sum(ln.totals.spent for ln in lines)
    closing = _sum(ln.totals.closing for ln in lines)
    opening = _sum(ln.totals.opening for ln in lines)
    balance_used = _sum(ln.totals.balance_used for ln in lines)
    distributed = _sum(ln.totals.distributed for ln in lines)
    income_total = income + balance_used + opening
    expenditure_total = spent + distributed + closing

    def prior_amount(key: str) -> int | None:
        value = prior.get(key)
        return None if value is None else int(value)

    income_change, income_change_pct = _change(income_total, prior_amount("income_total"))
    exp_change, exp_change_pct = _change(expenditure_total, prior_amount("expenditure_total"))
    cy_income_change = _change(income, prior_amount("current_year_income"))
    cy_exp_change = _change(spent, prior_amount("current_year_expenditure"))

    by_source: dict[str, int] = defaultdict(int)
    for line in lines:
        name = "财政拨款收入" if line.is_fiscal else FUND_SOURCE_NAMES[line.fund_source]
        by_source[name] += line.totals.income
        if line.is_fiscal:  # each of the three budgets, beside their sum
            by_source[f"{FUND_SOURCE_NAMES[line.fund_source]}收入"] += line.totals.income
    source_names = (
        ["财政拨款收入"]
        + [
            f"{FUND_SOURCE_NAMES[s]}收入"
            for s in (
                FundSource.GENERAL_PUBLIC_BUDGET,
                FundSource.GOVERNMENT_FUND,
                FundSource.STATE_CAPITAL,
            )
        ]
        + [
            FUND_SOURCE_NAMES[s]
            for s in (
                FundSource.HIGHER_LEVEL_SUBSIDY,
                FundSource.BUSINESS_INCOME,
                FundSource.OPERATING_INCOME,
                FundSource.AFFILIATED_REMITTANCE,
                FundSource.OTHER,
            )
        ]
    )

    basic_spent = _sum(ln.totals.spent for ln in lines if ln.nature.is_basic)
    project_spent = _sum(ln.totals.spent for ln in lines if ln.nature is Nature.PROJECT)

    fiscal_opening = _sum(ln.totals.opening for ln in fiscal)
    fiscal_income = _sum(ln.totals.income for ln in fiscal)
    fiscal_spent = _sum(ln.totals.spent for ln in fiscal)
    fiscal_closing = _sum(ln.totals.closing for ln in fiscal)
    fiscal_initial = _sum(ln.totals.initial for ln in fiscal)
    fa_income_change = _change(
        fiscal_opening + fiscal_income, prior_amount("fiscal_appropriation_income_total")
    )
    fa_exp_change = _change(
        fiscal_spent + fiscal_closing, prior_amount("fiscal_appropriation_expenditure_total")
    )

    gpb_spent = _sum(ln.totals.spent for ln in gpb)
    gpb_change = _change(gpb_spent, prior_amount("general_public_budget_expenditure"))

    item_spent: dict[str, int] = defaultdict(int)
    item_natures: dict[str, set[str]] = defaultdict(set)
    for line in gpb:
        item_spent[line.function_code] += line.totals.spent
        item_natures[line.function_code].add("basic" if line.nature.is_basic else line.nature.value)
    prior_items = {i["code"]: int(i["amount"]) for i in prior.get("function_items", [])}
    for item_code, amount in prior_items.items():
        if amount:
            item_spent.setdefault(item_code, 0)

    class_spent: dict[str, int] = defaultdict(int)
    for item_code, amount in item_spent.items():
        class_spent[item_code[:3]] += amount

    by_function_item = []
    for item_code in sorted(item_spent):
        amount = item_spent[item_code]
        prior_item = prior_items.get(item_code, 0) if "function_items" in prior else None
        change: str | None
        change_pct: str | None
        if prior_item == 0:
            change, change_pct = W(amount), None  # a new item: nothing the year before
        else:
            change, change_pct = _change(amount, prior_item)
        natures = item_natures.get(item_code, set())
        by_function_item.append(
            {
                "code": item_code,
                "name": books.label(CatalogueKind.FUNCTION, year, item_code, path=True),
                "amount": W(amount),
                "change_from_prior_year": change,
                "change_pct": change_pct,
                "expenditure_nature": natures.pop() if len(natures) == 1 else "mixed",
            }
        )

    gpb_basic = [ln for ln in gpb if ln.nature.is_basic]
    personnel = _economic_spent(gpb_basic, PERSONNEL_CLASSES)
    public_operating = _economic_spent(gpb_basic, PUBLIC_OPERATING_CLASSES)

    three: dict[str, int] = defaultdict(int)
    for line in fiscal:
        for category, amount in line.three_public.items():
            three[category] += amount
    three_total = _sum(three.values())
    prior_three = prior.get("three_public")
    three_change = _change(
        three_total, None if prior_three is None else _sum(int(v) for v in prior_three.values())
    )
    budget = year_view.three_public_budget
    budget_total = _sum(budget.values())

    office = _public_operating(unit_view.kind, gpb)
    office_change = _change(office, prior_amount("office_operating_expenses"))

    procurement: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        for key, amount in line.procurement.items():
            procurement[key] += amount
    procurement_total = _sum(procurement.values())
    sme = _sum(
        a
        for (_, size), a in procurement.items()
        if size in (SupplierSize.MEDIUM, SupplierSize.SMALL, SupplierSize.MICRO)
    )
    micro_small = _sum(
        a
        for (_, size), a in procurement.items()
        if size in (SupplierSize.SMALL, SupplierSize.MICRO)
    )

    def by_category(category: ProcurementCategory) -> str:
        return W(_sum(a for (c, _), a in procurement.items() if c == category))

    projects = project_rows(books, code, year, clearance=clearance)
    project_lines = [ln for ln in lines if ln.nature is Nature.PROJECT]
    policy = Redaction.of(books, clearance, code)
    project_codes = {ln.project_code for ln in project_lines if ln.project_code is not None}

    return {
        "unit": unit_view.name,
        "fiscal_year": year,
        "amount_unit": AMOUNT_UNIT_TEXT[unit_label()],
        "staff": {
            key: int(facts.get(key, 0))
            for key in (
                "headcount",
                "in_service",
                "retired_before_1949_lixiu",
                "retired",
                "departments",
            )
        },
        "overview": {
            "income_total": W(income_total),
            "current_year_income": W(income),
            "non_fiscal_balance_used": W(balance_used),
            "opening_carryover_and_balance": W(opening),
            "income_total_change_from_prior_year": income_change,
            "income_total_change_pct": income_change_pct,
            "current_year_income_change_from_prior_year": cy_income_change[0],
            "current_year_income_change_pct": cy_income_change[1],
            "expenditure_total": W(expenditure_total),
            "current_year_expenditure": W(spent),
            "balance_distribution": W(distributed),
            "closing_carryover_and_balance": W(closing),
            "expenditure_total_change_from_prior_year": exp_change,
            "expenditure_total_change_pct": exp_change_pct,
            "current_year_expenditure_change_from_prior_year": cy_exp_change[0],
            "current_year_expenditure_change_pct": cy_exp_change[1],
        },
        "prior_year_comparison": {
            "prior_year": year - 1,
            "origin": prior_origin,
            "rule": PRIOR_YEAR_RULE,
        },
        "income_by_source": [
            {"source": name, "amount": W(by_source[name]), "share_pct": P(by_source[name], income)}
            for name in source_names
        ],
        "expenditure_by_nature": [
            {"nature": name, "amount": W(amount), "share_pct": P(amount, spent)}
            for name, amount in (
                ("基本支出", basic_spent),
                ("项目支出", project_spent),
                *(
                    (NATURE_NAMES[n], _sum(ln.totals.spent for ln in lines if ln.nature is n))
                    for n in OTHER_NATURES
                ),
            )
        ],
        "fiscal_appropriation": {
            "opening_carryover_and_balance": W(fiscal_opening),
            "current_year_income": W(fiscal_income),
            "income_total": W(fiscal_opening + fiscal_income),
            "income_total_change_from_prior_year": fa_income_change[0],
            "income_total_change_pct": fa_income_change[1],
            "current_year_expenditure": W(fiscal_spent),
            "closing_carryover_and_balance": W(fiscal_closing),
            "expenditure_total": W(fiscal_spent + fiscal_closing),
            "expenditure_total_change_from_prior_year": fa_exp_change[0],
            "expenditure_total_change_pct": fa_exp_change[1],
            "initial_budget_income_total": W(fiscal_initial),
            "initial_budget_expenditure_total": W(fiscal_initial),
            "budget_to_final_variance_pct": P(
                fiscal_spent + fiscal_closing - fiscal_initial, fiscal_initial
            ),
            "variance_formula": "(决算数 - 年初预算数) / 年初预算数 x 100",
            "clawed_back": W(_sum(ln.totals.clawed_back for ln in fiscal)),
            "clawed_back_prior_year_carryover": W(
                _sum(ln.totals.clawed_back_carryover for ln in fiscal)
            ),
            "lapsed_at_close": W(_sum(ln.totals.lapsed for ln in fiscal)),
            "carried_over_at_close": W(_sum(ln.totals.carried_out for ln in fiscal)),
        },
        "general_public_budget_expenditure": {
            "amount": W(gpb_spent),
            "share_of_current_year_expenditure_pct": P(gpb_spent, spent),
            "change_from_prior_year": gpb_change[0],
            "change_pct": gpb_change[1],
        },
        "by_function_class": [
            {
                "code": class_code,
                "name": books.label(CatalogueKind.FUNCTION, year, class_code),
                "amount": W(amount),
                "share_pct": P(amount, gpb_spent),
            }
            for class_code, amount in sorted(class_spent.items())
        ],
        "by_function_item": by_function_item,
        "basic_expenditure": {
            "total": W(_sum(ln.totals.spent for ln in gpb_basic)),
            "personnel": W(_sum(personnel.values())),
            "public_operating": W(_sum(public_operating.values())),
            "personnel_items": [
                books.label(ECONOMIC, year, c) for c in sorted(personnel) if personnel[c]
            ],
            "public_operating_items": [
                books.label(ECONOMIC, year, c)
                for c in sorted(public_operating)
                if public_operating[c]
            ],
        },
        "three_public_expenses": {
            "total": W(three_total),
            "change_from_prior_year": three_change[0],
            "change_pct": three_change[1],
            **{category.value: W(three.get(category.value, 0)) for category in ThreePublic},
            **{
                key: int(facts.get(key, 0))
                for key in (
                    "vehicles_purchased",
                    "vehicles_held",
                    "overseas_groups",
                    "overseas_persons",
                    "reception_batches",
                    "reception_persons",
                )
            },
            "budget": {
                "total": W(budget_total),
                **{category.value: W(budget.get(category.value, 0)) for category in ThreePublic},
            },
            "budget_to_final_variance_pct": P(three_total - budget_total, budget_total),
        },
        "three_public_expenses_detail": _three_public_detail(three, budget, prior_three),
        "government_fund_budget": _fund_budget(
            [ln for ln in lines if ln.fund_source is FundSource.GOVERNMENT_FUND]
        ),
        "state_capital_budget": _fund_budget(
            [ln for ln in lines if ln.fund_source is FundSource.STATE_CAPITAL]
        ),
        "office_operating_expenses": {
            "amount": W(office),
            "change_from_prior_year": office_change[0],
            "change_pct": office_change[1],
        },
        "government_procurement": {
            "total": W(procurement_total),
            "goods": by_category(ProcurementCategory.GOODS),
            "works": by_category(ProcurementCategory.WORKS),
            "services": by_category(ProcurementCategory.SERVICES),
            "awarded_to_sme": W(sme),
            "awarded_to_sme_pct": P(sme, procurement_total),
            "awarded_to_micro_small": W(micro_small),
            "awarded_to_micro_small_pct": P(micro_small, procurement_total),
        },
        "state_assets": {
            "fixed_assets_original_value": W(int(facts.get("fixed_assets_original_value", 0))),
            "buildings_m2": int(facts.get("buildings_m2", 0)),
            "vehicles": int(facts.get("vehicles", 0)),
            "vehicles_value": W(int(facts.get("vehicles_value", 0))),
        },
        "performance_evaluation": {
            "projects_evaluated": len(project_codes),
            "classified_projects": sum(1 for p in project_codes if policy.is_classified(code, p)),
            "full_year_budget": W(_sum(ln.totals.full_year_budget for ln in project_lines)),
            "executed": W(_sum(ln.totals.spent for ln in project_lines)),
        },
        "projects": projects,
        "year_status": year_view.status.value,
        "adjustments_after_close": _adjustments(books, policy, code, year),
    }


def _adjustments(books: Books, policy: Redaction, code: str, year: int) -> list[dict[str, Any]]:
    """Correcting entries after the close; without clearance those on classified lines
    are one entry that counts them and names nothing."""
    shown: list[dict[str, Any]] = []
    withheld = 0
    for a in books.adjustments_of(code, year):
        if a.line is not None and policy.hides_line_code(code, year, a.line):
            withheld += 1
            continue
        shown.append(
            {
                "position": a.position,
                "type": a.type,
                "line": a.line,
                "amount": None if a.amount is None else yuan_str(a.amount),
                "business_date": a.business_date.isoformat(),
                "posted_by": a.posted_by,
                "document_no": a.document_no,
                "reason": a.reason,
            }
        )
    if withheld:
        shown.append(
            {
                "position": None,
                "type": CLASSIFIED_NAME,
                "line": None,
                "amount": None,
                "business_date": None,
                "posted_by": None,
                "document_no": None,
                "reason": NEEDS_CLEARANCE,
                "entries": withheld,
            }
        )
    return shown
