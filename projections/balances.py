"""Carryover balances (结转和结余) per budget line: what is still available, by fund source."""

from __future__ import annotations

from typing import Any

from ledger.money import wanyuan_str, yuan_str
from projections.books import Books
from projections.redaction import CLASSIFIED_NAME, Redaction


def balances_report(
    books: Books, unit: str, year: int, *, clearance: bool = False
) -> dict[str, Any]:
    """Per line: full-year budget, executed, clawed back and the balance still available;
    and the balance per fund source. Exact yuan, since balances are carried forward.
    Without ``clearance`` the lines of classified projects are one aggregated row."""
    code = books.unit(unit).code
    status = books.year(code, year).status
    lines = books.lines_of(code, year)
    by_source: dict[str, int] = {}
    for line in lines:
        by_source[line.fund_source.value] = (
            by_source.get(line.fund_source.value, 0) + line.totals.available
        )
    shown, hidden = Redaction.of(books, clearance, code).split(lines)
    rows: list[dict[str, Any]] = [
        {
            "line": ln.code,
            "project": ln.project_code,
            "fund_source": ln.fund_source.value,
            "opening": yuan_str(ln.totals.opening),
            "full_year_budget": yuan_str(ln.totals.full_year_budget),
            "executed": yuan_str(ln.totals.spent),
            "clawed_back": yuan_str(ln.totals.clawed_back),
            "carried_over": yuan_str(ln.totals.carried_out),
            "lapsed": yuan_str(ln.totals.lapsed),
            "balance": yuan_str(ln.totals.available),
        }
        for ln in shown
    ]
    if hidden:  # one row, only what the published project row shows
        rows.append(
            {
                "line": CLASSIFIED_NAME,
                "project": None,
                "fund_source": None,
                "opening": None,
                "full_year_budget": yuan_str(sum(ln.totals.full_year_budget for ln in hidden)),
                "executed": yuan_str(sum(ln.totals.spent for ln in hidden)),
                "clawed_back": None,
                "carried_over": None,
                "lapsed": None,
                "balance": yuan_str(sum(ln.totals.available for ln in hidden)),
                "classified": True,
            }
        )
    return {
        "unit": books.units[code].name,
        "fiscal_year": year,
        "year_status": status.value,
        "lines": rows,
        "balance_by_fund_source": {k: yuan_str(v) for k, v in sorted(by_source.items())},
        "total_balance_wanyuan": wanyuan_str(sum(ln.totals.available for ln in lines)),
    }
