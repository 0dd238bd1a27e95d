"""Budget execution per project and per budget line (执行率), and the funds score of
the project performance self-evaluation (项目支出绩效自评表):
分值 10, 得分 = min(分值, 分值 × 执行率)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledger.classifications import NATURE_NAMES, Nature
from ledger.money import percent_str, wanyuan_str
from projections.books import Books, LineView

#: 分值 of the funds row of the self-evaluation table.
FUNDS_POINTS = 10
CLASSIFIED_NAME = "（涉密项目，未公开）"

W = wanyuan_str


def funds_score(executed: int, full_year_budget: int, points: int = FUNDS_POINTS) -> str | None:
    """得分 = min(分值, 分值 × 执行率), two decimals half-up; None without a budget."""
    if full_year_budget == 0:
        return None
    score = min(Decimal(points), Decimal(points) * executed / full_year_budget)
    return str(score.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _row(initial: int, full_year: int, executed: int) -> dict[str, str]:
    return {"initial_budget": W(initial), "full_year_budget": W(full_year), "executed": W(executed)}


def _current_year(lines: list[LineView]) -> dict[str, str]:
    """This year's money of the lines (当年财政拨款 / 其他资金): carryover left out."""
    totals = [ln.totals for ln in lines]
    return _row(
        sum(t.initial for t in totals),
        sum(t.full_year_budget - t.carryover_budget for t in totals),
        sum(t.spent - t.spent_from_carryover for t in totals),
    )


def _carryover(lines: list[LineView]) -> dict[str, str]:
    """上年结转资金: known at the start of the year, spent first."""
    totals = [ln.totals for ln in lines]
    return _row(
        sum(t.carried_in for t in totals),
        sum(t.carryover_budget for t in totals),
        sum(t.spent_from_carryover for t in totals),
    )


def _funds(lines: list[LineView]) -> dict[str, str]:
    """年度资金总额: the sum of the three rows."""
    totals = [ln.totals for ln in lines]
    return _row(
        sum(t.initial + t.carried_in for t in totals),
        sum(t.full_year_budget for t in totals),
        sum(t.spent for t in totals),
    )


def project_rows(
    books: Books, unit_code: str, year: int, *, clearance: bool = False
) -> list[dict[str, Any]]:
    """One row per project with lines in the year, in the order its first line was opened.

    Without ``clearance``, classified projects (涉密) keep their totals and function items
    but not their name, implementing units or the split of their funds — as published.
    """
    by_project: dict[str, list[LineView]] = {}
    for line in books.lines_of(unit_code, year):
        if line.nature is Nature.PROJECT and line.project_code is not None:
            by_project.setdefault(line.project_code, []).append(line)
    rows = []
    for project_code, lines in by_project.items():
        project = books.projects[(unit_code, project_code)]
        full_year = sum(ln.totals.full_year_budget for ln in lines)
        executed = sum(ln.totals.spent for ln in lines)
        by_function: dict[str, int] = {}
        for line in lines:
            by_function[line.function_code] = by_function.get(line.function_code, 0) + (
                line.totals.spent
            )
        row: dict[str, Any]
        if project.classified and not clearance:
            total = _funds(lines)
            total["initial_budget"] = None  # type: ignore[assignment]
            row = {
                "name": CLASSIFIED_NAME,
                "classified": True,
                "implementing_units": None,
                "funds": {"total": total},
            }
        else:
            fiscal = [ln for ln in lines if ln.is_fiscal]
            row = {
                "name": project.name,
                **({"classified": True} if project.classified else {}),
                "implementing_units": project.implementing_units,
                "funds": {
                    "total": _funds(lines),
                    "current_year_fiscal": _current_year(fiscal),
                    "prior_year_carryover": _carryover(lines),
                    "other": _current_year([ln for ln in lines if not ln.is_fiscal]),
                },
            }
        row["execution_rate_pct"] = percent_str(executed, full_year)
        row["funds_score"] = funds_score(executed, full_year)
        row["derived_function_codes"] = {c: W(a) for c, a in sorted(by_function.items())}
        rows.append(row)
    return rows


def execution_report(
    books: Books, unit: str, year: int, *, clearance: bool = False
) -> dict[str, Any]:
    """Execution per project and per budget line of a unit's year."""
    code = books.unit(unit).code
    books.year(code, year)
    lines = books.lines_of(code, year)

    def classified(line: LineView) -> bool:
        return (
            not clearance
            and line.project_code is not None
            and books.projects[(code, line.project_code)].classified
        )

    return {
        "unit": books.units[code].name,
        "fiscal_year": year,
        "projects": project_rows(books, code, year, clearance=clearance),
        "lines": [
            {
                "line": ln.code,
                "title": CLASSIFIED_NAME if classified(ln) else ln.title,
                "nature": NATURE_NAMES[ln.nature],
                "function_code": ln.function_code,
                "fund_source": ln.fund_source.value,
                "project": None if classified(ln) else ln.project_code,
                "initial_budget": W(ln.totals.initial),
                "carried_in": W(ln.totals.carried_in),
                "full_year_budget": W(ln.totals.full_year_budget),
                "executed": W(ln.totals.spent),
                "carried_out": W(ln.totals.carried_out),
                "lapsed": W(ln.totals.lapsed),
                "available": W(ln.totals.available),
                "execution_rate_pct": percent_str(ln.totals.spent, ln.totals.full_year_budget),
            }
            for ln in lines
        ],
    }
