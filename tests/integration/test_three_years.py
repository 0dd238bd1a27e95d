"""Three years in one ledger, on SQLite and PostgreSQL: 2022 from the seed, then 2023
and 2024 with carryovers, a clawback of carried-over money, a top-up of a carried-over
project and year-on-year comparisons from the ledger itself — checked figure by figure,
and every identity checked on every year."""

from __future__ import annotations

from datetime import date

import pytest

from commands.cli import seed_path
from commands.closing import close_year
from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.application import Ledger
from ledger.closing.policy import load_policy
from ledger.composition import Services
from ledger.roles import Actor, Role
from projections.books import books_of
from projections.checks import check_year
from projections.execution import execution_report
from projections.final_accounts import final_accounts
from tests.scenario import Scenario

UNIT = "CJ-SWGXJ"
CLOSER = Actor("结账-赵敏", Role.CLOSER)


def posting(
    year: int, month: int, n: int, command_type: str, **fields: object
) -> dict[str, object]:
    base: dict[str, object] = {
        "type": command_type,
        "command_id": f"y{year}-{n:03d}",
        "posted_by": "会计-王芳",
        "business_date": date(year, month, 15).isoformat(),
        "unit": UNIT,
    }
    if command_type not in ("register_project",):
        base["year"] = year
    if command_type in ("allocate_budget", "transfer_to_enterprise", "disburse", "claw_back"):
        base["document_no"] = f"DOC-{year}-{n:03d}"
    base.update(fields)
    return base


def history_2023() -> list[dict[str, object]]:
    p = lambda n, t, m=3, **f: posting(2023, m, n, t, **f)  # noqa: E731
    return [
        p(
            1,
            "register_project",
            code="P21",
            name="2023年中小企业数字化转型专项资金",
            implementing_units="中小企业（汇总）",
            final_year=2024,
        ),
        p(
            2,
            "register_project",
            code="P22",
            name="2023年外贸发展专项资金",
            implementing_units="外贸企业（汇总）",
            final_year=2023,
        ),
        p(
            3,
            "open_budget_line",
            line="XM-P21-2150805",
            title="数字化转型",
            nature="project",
            function_code="2150805",
            project="P21",
        ),
        p(
            4,
            "open_budget_line",
            line="XM-P22-2160699",
            title="外贸发展",
            nature="project",
            function_code="2160699",
            project="P22",
        ),
        p(
            5,
            "open_budget_line",
            line="JB-2010301-RY",
            title="行政运行（人员经费）",
            nature="basic_personnel",
            function_code="2010301",
        ),
        p(
            6,
            "open_budget_line",
            line="JB-2010301-GY",
            title="行政运行（公用经费）",
            nature="basic_public",
            function_code="2010301",
        ),
        p(7, "allocate_budget", line="JB-2010301-RY", amount="300万", initial=True),
        p(8, "allocate_budget", line="JB-2010301-GY", amount="20万", initial=True),
        p(9, "set_three_public_budget", amounts={"vehicle_operation": "6万"}),
        p(10, "allocate_budget", line="XM-P21-2150805", amount="500万", m=4),
        p(11, "allocate_budget", line="XM-P22-2160699", amount="100万", m=4),
        p(
            12,
            "transfer_to_enterprise",
            line="XM-P21-2150805",
            amount="320万",
            payee="数字化企业",
            m=6,
        ),
        p(
            13,
            "transfer_to_enterprise",
            line="XM-P22-2160699",
            amount="90万",
            payee="外贸企业",
            m=7,
        ),
        p(
            14,
            "disburse",
            line="JB-2010301-RY",
            amount="280万",
            payee="在职职工",
            economic_code="30101",
            m=11,
        ),
        p(
            15,
            "disburse",
            line="JB-2010301-GY",
            amount="4.8万",
            payee="公务用车",
            economic_code="30231",
            m=11,
        ),
        p(
            16,
            "disburse",
            line="JB-2010301-GY",
            amount="10万",
            payee="办公用品",
            economic_code="30201",
            m=11,
        ),
    ]


def history_2024() -> list[dict[str, object]]:
    p = lambda n, t, m=3, **f: posting(2024, m, n, t, **f)  # noqa: E731
    return [
        p(
            1,
            "open_budget_line",
            line="JB-2010301-RY",
            title="行政运行（人员经费）",
            nature="basic_personnel",
            function_code="2010301",
        ),
        p(2, "allocate_budget", line="JB-2010301-RY", amount="310万", initial=True),
        p(
            3,
            "claw_back",
            line="XM-P21-2150805",
            amount="30万",
            from_carryover=True,
            memo="上年度经费未支完，财政收回",
        ),
        p(4, "allocate_budget", line="XM-P21-2150805", amount="50万", memo="结转项目追加", m=5),
        p(
            5,
            "transfer_to_enterprise",
            line="XM-P21-2150805",
            amount="150万",
            payee="数字化企业",
            m=6,
        ),
        p(
            6,
            "transfer_to_enterprise",
            line="XM-P21-2150805",
            amount="40万",
            payee="数字化企业",
            m=9,
        ),
        p(
            7,
            "disburse",
            line="JB-2010301-RY",
            amount="310万",
            payee="在职职工",
            economic_code="30101",
            m=11,
        ),
    ]


@pytest.fixture
def three_years(ledger: Ledger, database_url: str) -> Ledger:
    assert import_file(CommandHandler(ledger), seed_path()).ok
    close_year(Services.of(ledger), UNIT, 2022, policy=load_policy(), actor=CLOSER)
    Scenario(ledger).given(*history_2023())
    close_year(Services.of(ledger), UNIT, 2023, policy=load_policy(), actor=CLOSER)
    Scenario(ledger).given(*history_2024())
    close_year(Services.of(ledger), UNIT, 2024, policy=load_policy(), actor=CLOSER)
    return ledger


def test_three_years_figure_by_figure(three_years: Ledger) -> None:
    books = books_of(three_years)
    r22, r23, r24 = (final_accounts(books, UNIT, y) for y in (2022, 2023, 2024))

    # 2022: the seed, closed with nothing left over.
    assert r22["overview"]["closing_carryover_and_balance"] == "0.00"
    assert r22["year_status"] == "closed"

    # 2023: opens with 2022's closing balance; 180万 of P21 carries over, the rest lapses:
    # P22 ended (10万), basic lines (20万 + 5.2万).
    o23 = r23["overview"]
    assert o23["opening_carryover_and_balance"] == r22["overview"]["closing_carryover_and_balance"]
    assert (o23["current_year_income"], o23["current_year_expenditure"]) == ("884.80", "704.80")
    assert (o23["income_total"], o23["expenditure_total"]) == ("884.80", "884.80")
    assert o23["closing_carryover_and_balance"] == "180.00"
    # Year on year from the ledger's own 2022 (11050.74).
    assert (o23["income_total_change_from_prior_year"], o23["income_total_change_pct"]) == (
        "-10165.94",
        "-91.99",
    )
    fa23 = r23["fiscal_appropriation"]
    assert (fa23["lapsed_at_close"], fa23["carried_over_at_close"]) == ("35.20", "180.00")
    assert (fa23["initial_budget_income_total"]) == "320.00"
    items23 = {i["code"]: i for i in r23["by_function_item"]}
    assert items23["2150805"]["amount"] == "320.00"
    assert (items23["2150805"]["change_from_prior_year"], items23["2150805"]["change_pct"]) == (
        "-254.30",
        "-44.28",
    )
    assert items23["2010301"]["amount"] == "294.80"
    assert items23["2010301"]["change_from_prior_year"] == "-155.36"  # vs 4,501,649 yuan
    assert items23["2150299"]["amount"] == "0.00"  # in 2022, not in 2023
    assert items23["2150299"]["change_pct"] == "-100.00"
    three23 = r23["three_public_expenses"]
    assert (three23["total"], three23["change_from_prior_year"], three23["change_pct"]) == (
        "4.80",
        "-0.36",
        "-6.98",
    )
    assert three23["budget_to_final_variance_pct"] == "-20.00"
    assert r23["office_operating_expenses"]["amount"] == "14.80"
    assert r23["office_operating_expenses"]["change_pct"] == "-23.24"  # vs 192,799 yuan

    # 2024: opens with 2023's 180万; 30万 of it clawed back; P21 topped up by 50万.
    o24 = r24["overview"]
    assert o24["opening_carryover_and_balance"] == o23["closing_carryover_and_balance"]
    assert o24["current_year_income"] == "320.00"  # 310 + 50 − 30 clawed back − 10 lapsed
    assert (o24["current_year_expenditure"], o24["income_total"], o24["expenditure_total"]) == (
        "500.00",
        "500.00",
        "500.00",
    )
    assert o24["closing_carryover_and_balance"] == "0.00"
    assert r24["fiscal_appropriation"]["opening_carryover_and_balance"] == "180.00"
    assert r24["fiscal_appropriation"]["clawed_back_prior_year_carryover"] == "30.00"
    assert r24["fiscal_appropriation"]["lapsed_at_close"] == "10.00"
    p21 = next(p for p in r24["projects"] if p["name"].startswith("2023年中小企业数字化"))
    assert p21["funds"]["prior_year_carryover"] == {
        "initial_budget": "180.00",
        "full_year_budget": "150.00",
        "executed": "150.00",
    }
    assert p21["funds"]["current_year_fiscal"] == {
        "initial_budget": "0.00",
        "full_year_budget": "50.00",
        "executed": "40.00",
    }
    assert p21["funds"]["total"] == {
        "initial_budget": "180.00",
        "full_year_budget": "200.00",
        "executed": "190.00",
    }
    assert (p21["execution_rate_pct"], p21["funds_score"]) == ("95.00", "9.50")
    assert (o24["income_total_change_from_prior_year"], o24["income_total_change_pct"]) == (
        "-384.80",
        "-43.49",
    )

    lines24 = {ln["line"]: ln for ln in execution_report(books, UNIT, 2024)["lines"]}
    assert lines24["XM-P21-2150805"]["carried_in"] == "180.00"
    assert lines24["XM-P21-2150805"]["lapsed"] == "10.00"


def test_every_identity_holds_on_every_year(three_years: Ledger) -> None:
    books = books_of(three_years)
    for year in (2022, 2023, 2024):
        failed = [c for c in check_year(books, UNIT, year) if not c.ok]
        assert failed == [], year
    names = {c.name for c in check_year(books, UNIT, 2024)}
    assert "年初结转和结余 = 上年年末结转和结余" in names
    assert "line XM-P21-2150805: 年初 = 上年结转" in names
