"""Compare a final-accounts report with a published-figures file, figure by figure."""

from __future__ import annotations

from typing import Any

from projections.reconcile import figures


def differences(published: Any, ours: Any) -> list[tuple[str, Any, Any]]:
    """Every figure of ``published`` that ``ours`` does not reproduce: (path, published, ours)."""
    return [(f.path, f.published, f.books) for f in figures(published, ours) if not f.matches]


#: The published report's own contradictions, with the value a consistent ledger gives
#: (``known_inconsistencies_in_the_published_report`` of the published-figures file).
CONSISTENT_VALUES: dict[str, Any] = {
    "by_function_item[2010399].amount": "53.08",
    "three_public_expenses.budget_to_final_variance_pct": "-33.85",
    "by_function_item[2299999].change_pct": "-6.59",
    "by_function_item[2169999].change_pct": "904.01",
    "by_function_class[201].share_pct": "5.88",
}
#: Items the prior year did not have: the change is the whole amount, the rate undefined.
NEW_ITEMS = [
    "2010399",
    "2080501",
    "2080502",
    "2101101",
    "2101102",
    "2101103",
    "2101199",
    "2150299",
    "2159904",
    "2160699",
    "2210201",
]


def unexplained_differences(published: Any, report: dict[str, Any]) -> dict[str, Any]:
    """Differences between a published file and the report that the known
    inconsistencies do not explain. Asserts the consistent values on the way."""
    found = {path: (pub, ours) for path, pub, ours in differences(published, report)}
    for path, consistent in CONSISTENT_VALUES.items():
        assert path in found, f"{path} should differ from the published figure"
        assert found.pop(path)[1] == consistent, path
    items = {i["code"]: i for i in report["by_function_item"]}
    for code in NEW_ITEMS:
        assert items[code]["change_from_prior_year"] == items[code]["amount"]
        assert items[code]["change_pct"] is None
        found.pop(f"by_function_item[{code}].change_from_prior_year", None)
        found.pop(f"by_function_item[{code}].change_pct", None)
    # Project initial budgets: the published 年度资金总额 row repeats the full-year budget;
    # the ledger's total row equals its 当年财政拨款 row.
    for project in report["projects"]:
        funds = project["funds"]
        if "current_year_fiscal" in funds:
            assert (
                funds["total"]["initial_budget"] == funds["current_year_fiscal"]["initial_budget"]
            )
    for path in [p for p in found if p.startswith("projects[") and p.endswith(".initial_budget")]:
        found.pop(path)
    return found
