"""The final-accounts fields of issue 12: “三公” per category in 万元 and 元, amounts in
元 on request, the changes of 本年收入 / 本年支出, and where each prior-year figure
comes from (in memory)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from commands.models import parse_command
from ledger.amount_units import AmountUnit, amounts_in
from ledger.application import Ledger
from ledger.errors import InvalidInput
from projections.books import books_of
from projections.final_accounts import PRIOR_YEAR_RULE, final_accounts
from projections.statutory_tables import statutory_tables
from tests.scenario import UNIT, Scenario, cmd, setup_commands

FIGURES: dict[str, Any] = {
    "income_total": "10000",
    "expenditure_total": "10000",
    "fiscal_appropriation_income_total": "10000",
    "fiscal_appropriation_expenditure_total": "10000",
    "general_public_budget_expenditure": "10000",
}


def pay(line: str, amount: str, code: str, three_public: str | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "line": line,
        "amount": amount,
        "payee": "某单位",
        "economic_code": code,
    }
    if three_public:
        fields["three_public"] = three_public
    return cmd("disburse", **fields)


def books_with_three_public(ledger: Ledger) -> Scenario:
    return Scenario(ledger).given(
        *setup_commands(),
        cmd("allocate_budget", line="G1", amount="20000", initial=True),
        cmd(
            "set_three_public_budget",
            unit=UNIT,
            year=2022,
            amounts={"vehicle_operation": "1000", "official_reception": "5000"},
        ),
        cmd(
            "import_prior_year_figures",
            unit=UNIT,
            year=2022,
            figures={**FIGURES, "three_public": {"vehicle_operation": "1200.00"}},
        ),
    )


def test_a_category_may_exceed_its_budget_while_the_total_stays_within(
    memory_ledger: Ledger,
) -> None:
    scenario = books_with_three_public(memory_ledger)
    # 1,500 against a vehicle budget of 1,000: a control figure, the payment goes through
    scenario.given(
        pay("G1", "1500", "30231", "vehicle_operation"),
        pay("G1", "2345.67", "30217", "official_reception"),
    )
    detail = final_accounts(books_of(memory_ledger), UNIT, 2022)["three_public_expenses_detail"]
    assert list(detail) == [
        "overseas_travel",
        "vehicle_purchase",
        "vehicle_operation",
        "official_reception",
        "total",
    ]
    vehicle, reception, total = (
        detail["vehicle_operation"],
        detail["official_reception"],
        detail["total"],
    )
    assert vehicle == {
        "amount": "0.15",
        "budget": "0.10",
        "change_from_prior_year": "0.03",
        "amount_yuan": "1500.00",
        "budget_yuan": "1000.00",
        "change_from_prior_year_yuan": "300.00",
        "completion_of_budget_pct": "150.00",  # over its own budget …
        "change_pct": "25.00",
        "share_pct": "39.00",
    }
    # … while the total stays within the total budget
    assert total["amount_yuan"] == "3845.67" and total["budget_yuan"] == "6000.00"
    assert total["completion_of_budget_pct"] == "64.09"
    assert total["amount"] == "0.38"  # rounded on its own, not 0.15 + 0.23
    # nothing the year before: the change is the whole amount, its rate not defined
    assert reception["change_from_prior_year_yuan"] == "2345.67"
    assert reception["change_pct"] is None
    assert reception["share_pct"] == "61.00"
    # no budget, nothing spent: no completion rate
    assert detail["overseas_travel"]["completion_of_budget_pct"] is None
    assert detail["overseas_travel"]["amount_yuan"] == "0.00"


def test_amounts_in_yuan_on_request(memory_ledger: Ledger) -> None:
    books_with_three_public(memory_ledger).given(pay("G1", "1234.56", "30201"))
    books = books_of(memory_ledger)
    default = final_accounts(books, UNIT, 2022)
    assert default["overview"]["current_year_expenditure"] == "0.12"
    with amounts_in(AmountUnit.YUAN):
        report = final_accounts(books, UNIT, 2022)
        tables = statutory_tables(books, UNIT, 2022)
    assert report["amount_unit"].startswith("元")
    assert report["overview"]["current_year_expenditure"] == "1234.56"
    assert report["overview"]["income_total"] == "20000.00"
    assert report["three_public_expenses"]["budget"]["total"] == "6000.00"
    # the 万元 / 元 twins of the detail do not depend on the unit asked for
    assert report["three_public_expenses_detail"] == default["three_public_expenses_detail"]
    assert Decimal("1234.56") in [c for t in tables for row in t.rows for c in row]
    # the unit asked for is the report's only: the next report is in 万元 again
    assert final_accounts(books, UNIT, 2022) == default


def test_changes_of_current_year_income_and_expenditure(memory_ledger: Ledger) -> None:
    scenario = Scenario(memory_ledger).given(
        *setup_commands(),
        cmd(
            "import_prior_year_figures",
            unit=UNIT,
            year=2022,
            figures={
                **FIGURES,
                "current_year_income": "8000",
                "current_year_expenditure": "9000",
            },
        ),
        cmd("allocate_budget", line="G1", amount="10000", initial=True),
        pay("G1", "9900", "30201"),
    )
    overview = final_accounts(books_of(scenario.ledger), UNIT, 2022)["overview"]
    assert overview["current_year_income_change_from_prior_year"] == "0.20"
    assert overview["current_year_income_change_pct"] == "25.00"
    assert overview["current_year_expenditure_change_from_prior_year"] == "0.09"
    assert overview["current_year_expenditure_change_pct"] == "10.00"


def test_published_prior_year_figures_win_and_the_report_says_where_each_comes_from(
    memory_ledger: Ledger,
) -> None:
    """2021 is partly in the ledger (one line) and its published figures are imported
    for 2022: the published figures win, figure by figure; what the import does not give
    comes from the ledger's 2021."""
    scenario = Scenario(memory_ledger).given(
        *setup_commands(),
        cmd("open_fiscal_year", unit=UNIT, year=2021, business_date="2021-01-01"),
        cmd(
            "open_budget_line",
            unit=UNIT,
            year=2021,
            line="G1",
            title="公用",
            nature="basic_public",
            function_code="2010301",
            business_date="2021-01-05",
        ),
        cmd("allocate_budget", year=2021, line="G1", amount="3000", business_date="2021-02-01"),
        cmd("allocate_budget", line="G1", amount="6000", initial=True),
    )
    before = final_accounts(books_of(memory_ledger), UNIT, 2022)
    origin = before["prior_year_comparison"]["origin"]
    assert origin["income_total"] == origin["current_year_income"] == "ledger"
    assert before["prior_year_comparison"]["prior_year"] == 2021
    assert before["prior_year_comparison"]["rule"] == PRIOR_YEAR_RULE
    assert before["overview"]["current_year_income_change_from_prior_year"] == "0.30"  # 6000-3000

    scenario.given(
        cmd(
            "import_prior_year_figures",
            unit=UNIT,
            year=2022,
            figures={**FIGURES, "current_year_income": "5000"},
        )
    )
    after = final_accounts(books_of(memory_ledger), UNIT, 2022)
    origin = after["prior_year_comparison"]["origin"]
    assert origin["income_total"] == origin["current_year_income"] == "published"
    assert origin["current_year_expenditure"] == "ledger"  # the import does not give it
    overview = after["overview"]
    assert overview["income_total_change_from_prior_year"] == "-0.40"  # 6000 - 10000
    assert overview["current_year_income_change_from_prior_year"] == "0.10"  # 6000 - 5000
    assert overview["current_year_expenditure_change_from_prior_year"] == "0.00"  # 0 - 0


def test_without_any_prior_year_there_is_no_comparison(memory_ledger: Ledger) -> None:
    Scenario(memory_ledger).given(
        *setup_commands(), cmd("allocate_budget", line="G1", amount="100", initial=True)
    )
    report = final_accounts(books_of(memory_ledger), UNIT, 2022)
    assert set(report["prior_year_comparison"]["origin"].values()) == {"none"}
    assert report["overview"]["current_year_income_change_from_prior_year"] is None
    assert report["overview"]["current_year_income_change_pct"] is None
    assert report["three_public_expenses_detail"]["total"]["change_from_prior_year"] is None


def test_a_partial_import_compares_only_what_it_gives(memory_ledger: Ledger) -> None:
    """A unit that published only its 三公 imports only its prior-year 三公: the other
    changes are not compared (null), not compared against an invented 0."""
    Scenario(memory_ledger).given(
        *setup_commands(),
        cmd(
            "import_prior_year_figures",
            unit=UNIT,
            year=2022,
            figures={"three_public": {"official_reception": "2000"}},
        ),
        cmd("allocate_budget", line="G1", amount="5000", initial=True),
        pay("G1", "1500", "30217"),
    )
    report = final_accounts(books_of(memory_ledger), UNIT, 2022)
    origin = report["prior_year_comparison"]["origin"]
    assert origin["three_public"] == "published"
    assert origin["income_total"] == origin["function_items"] == "none"
    assert report["overview"]["income_total_change_from_prior_year"] is None
    assert report["office_operating_expenses"]["change_from_prior_year"] is None
    assert all(i["change_from_prior_year"] is None for i in report["by_function_item"])
    reception = report["three_public_expenses_detail"]["official_reception"]
    assert reception["change_from_prior_year_yuan"] == "-500.00"
    assert reception["change_pct"] == "-25.00"


def test_an_import_with_no_figure_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at least one published prior-year figure"):
        parse_command(
            cmd("import_prior_year_figures", unit=UNIT, year=2022, figures={"three_public": None})
        )
