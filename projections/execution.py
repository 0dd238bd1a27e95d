"""Budget execution per project and per budget line (执行率), and the funds score of
the project performance self-evaluation (项目支出绩效自评表):
分值 10, 得分 = min(分值, 分值 × 执行率)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledger.amount_units import amount_str
from ledger.classifications import NATURE_NAMES, Nature
from ledger.money import percent_str
from projections.books import Books, LineView
from projections.redaction import CLASSIFIED_NAME, Redaction

__all__ = ["CLASSIFIED_NAME", "execution_report", "funds_score", "project_rows"]

#: 分值 of the funds row of the self-evaluation table.
FUNDS_POINTS = 10

W = amount_str


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

    Without ``clearance``, classified projects (涉密) are one row, "（涉密项目，未公开）",
    where the first of them would be: their totals and function items, but not their
    names, implementing units or the split of their funds — as published.
    """
    policy = Redaction.of(books, clearance)
    by_project: dict[str | None, list[LineView]] = {}  # None: the classified ones
    for line in books.lines_of(unit_code, year):
        if line.nature is Nature.PROJECT and line.project_code is not None:
            key = None if policy.hides_line(line) else line.project_code
            by_project.setdefault(key, []).append(line)
    rows = []
    for project_code, lines in by_project.items():
        full_year = sum(ln.totals.full_year_budget for ln in lines)
        executed = sum(ln.totals.spent for ln in lines)
        by_function: dict[str, int] = {}
        for line in lines:
            by_function[line.function_code] = by_function.get(line.function_code, 0) + (
                line.totals.spent
            )
        row: dict[str, Any]
        if project_code is None:
            total = _funds(lines)
            total["initial_budget"] = None  # type: ignore[assignment]
            row = {
                "name": CLASSIFIED_NAME,
                "classified": True,
                "implementing_units": None,
                "funds": {"total": total},
            }
        else:
            project = books.projects.get((unit_code, project_code))
            fiscal = [ln for ln in lines if ln.is_fiscal]
            row = {
                "name": project_code if project is None else project.name,
                **({"classified": True} if project is not None and project.classified else {}),
                "implementing_units": None if project is None else project.implementing_units,
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


def _line_row(ln: LineView) -> dict[str, Any]:
    return {
        "line": ln.code,
        "title": ln.title,
        "nature": NATURE_NAMES[ln.nature],
        "function_code": ln.function_code,
        "fund_source": ln.fund_source.value,
        "project": ln.project_code,
        "initial_budget": W(ln.totals.initial),
        "carried_in": W(ln.totals.carried_in),
        "full_year_budget": W(ln.totals.full_year_budget),
        "executed": W(ln.totals.spent),
        "carried_out": W(ln.totals.carried_out),
        "lapsed": W(ln.totals.lapsed),
        "available": W(ln.totals.available),
        "execution_rate_pct": percent_str(ln.totals.spent, ln.totals.full_year_budget),
    }


def _classified_row(lines: list[LineView]) -> dict[str, Any]:
    """The withheld lines as one row: only what the published project row shows."""
    full_year = sum(ln.totals.full_year_budget for ln in lines)
    executed = sum(ln.totals.spent for ln in lines)
    return {
        "line": None,
        "title": CLASSIFIED_NAME,
        "nature": NATURE_NAMES[Nature.PROJECT],
        "function_code": None,
        "fund_source": None,
        "project": None,
        "initial_budget": None,
        "carried_in": None,
        "full_year_budget": W(full_year),
        "executed": W(executed),
        "carried_out": None,
        "lapsed": None,
        "available": W(sum(ln.totals.available for ln in lines)),
        "execution_rate_pct": percent_str(executed, full_year),
        "classified": True,
    }


def execution_report(
    books: Books, unit: str, year: int, *, clearance: bool = False
) -> dict[str, Any]:
    """Execution per project and per budget line of a unit's year; without ``clearance``
    the lines of classified projects are one aggregated row (see :mod:`projections.redaction`)."""
    code = books.unit(unit).code
    books.year(code, year)
    shown, hidden = Redaction.of(books, clearance, code).split(books.lines_of(code, year))
    return {
        "unit": books.units[code].name,
        "fiscal_year": year,
        "projects": project_rows(books, code, year, clearance=clearance),
        "lines": [_line_row(ln) for ln in shown] + ([_classified_row(hidden)] if hidden else []),
    }
