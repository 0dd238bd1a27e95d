"""Year-end closing: the policy, the close job, the closed year, adjustments and reopening."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from commands.closing import close_year
from commands.handlers import CommandHandler
from commands.models import parse_command
from ledger.aggregates import BudgetLine, FiscalYear, YearStatus
from ledger.application import Ledger
from ledger.classifications import FundSource, Nature
from ledger.closing.policy import ClosingPolicy, Outcome, load_policy
from ledger.composition import Services, locks_of
from ledger.errors import (
    AdjustmentNotAllowed,
    CloseBlocked,
    Forbidden,
    InvalidInput,
    LedgerError,
    Overspend,
    YearClosed,
)
from ledger.roles import Actor, Role
from projections.books import books_of
from projections.checks import check_year
from projections.execution import execution_report
from tests.scenario import UNIT, YEAR, Scenario, cmd

CLOSER = Actor("closer-zhang", Role.CLOSER)
CLERK = Actor("clerk-li", Role.CLERK)
ADMIN = Actor("admin-wang", Role.ADMIN)


@pytest.fixture
def books(memory_ledger: Ledger) -> Scenario:
    """A year with a continuing project, a finished one, a government-fund project that
    has ended, and a basic line — each with money left at year end."""
    return Scenario(memory_ledger).given(
        cmd("register_unit", code=UNIT, name="测试局"),
        cmd("open_fiscal_year", unit=UNIT, year=YEAR),
        cmd("register_project", unit=UNIT, code="GO", name="持续项目", final_year=YEAR + 1),
        cmd("register_project", unit=UNIT, code="END", name="完结项目", final_year=YEAR),
        cmd("register_project", unit=UNIT, code="FUND", name="基金项目", final_year=YEAR),
        cmd(
            "open_budget_line",
            unit=UNIT,
            year=YEAR,
            line="L-GO",
            title="持续",
            nature="project",
            function_code="2150805",
            project="GO",
        ),
        cmd(
            "open_budget_line",
            unit=UNIT,
            year=YEAR,
            line="L-END",
            title="完结",
            nature="project",
            function_code="2150805",
            project="END",
        ),
        cmd(
            "open_budget_line",
            unit=UNIT,
            year=YEAR,
            line="L-FUND",
            title="基金",
            nature="project",
            function_code="2150805",
            project="FUND",
            fund_source="government_fund",
        ),
        cmd(
            "open_budget_line",
            unit=UNIT,
            year=YEAR,
            line="B1",
            title="人员",
            nature="basic_personnel",
            function_code="2010301",
        ),
        cmd("allocate_budget", line="L-GO", amount="1000"),
        cmd("allocate_budget", line="L-END", amount="500"),
        cmd("allocate_budget", line="L-FUND", amount="300"),
        cmd("allocate_budget", line="B1", amount="200", initial=True),
        cmd("transfer_to_enterprise", line="L-GO", amount="600", payee="甲公司"),
        cmd("transfer_to_enterprise", line="L-END", amount="450", payee="乙公司"),
        cmd("disburse", line="B1", amount="150", payee="职工", economic_code="30101"),
    )


def close(scenario: Scenario, actor: Actor = CLOSER, policy: ClosingPolicy | None = None) -> Any:
    return close_year(
        Services.of(scenario.ledger), UNIT, YEAR, policy=policy or load_policy(), actor=actor
    )


def line(ledger: Ledger, code: str, year: int = YEAR) -> BudgetLine:
    found = ledger.find(BudgetLine, BudgetLine.id_for(UNIT, year, code))
    assert found is not None
    return found


def test_the_default_policy() -> None:
    policy = load_policy()
    decide = lambda nature, source, continuing: policy.outcome_for(  # noqa: E731
        unit_code=UNIT, nature=nature, fund_source=source, project_code="X", continuing=continuing
    )[0]
    assert decide(Nature.PROJECT, FundSource.GENERAL_PUBLIC_BUDGET, True) is Outcome.CARRY_OVER
    assert decide(Nature.PROJECT, FundSource.GENERAL_PUBLIC_BUDGET, False) is Outcome.LAPSE
    assert decide(Nature.PROJECT, FundSource.GOVERNMENT_FUND, False) is Outcome.CARRY_OVER
    assert decide(Nature.BASIC_PUBLIC, FundSource.GENERAL_PUBLIC_BUDGET, True) is Outcome.LAPSE
    override = ClosingPolicy.model_validate({"project": {f"{UNIT}/X": {"outcome": "lapse"}}})
    assert decide(Nature.PROJECT, FundSource.GENERAL_PUBLIC_BUDGET, True) is Outcome.CARRY_OVER
    assert override.outcome_for(
        unit_code=UNIT,
        nature=Nature.PROJECT,
        fund_source=FundSource.GENERAL_PUBLIC_BUDGET,
        project_code="X",
        continuing=True,
    ) == (Outcome.LAPSE, f'project."{UNIT}/X"')


def test_a_bad_policy_file_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[default]\nbasic = "keep"\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"default\.basic"):
        load_policy(path)
    path.write_text("not toml [", encoding="utf-8")
    with pytest.raises(InvalidInput, match="cannot read"):
        load_policy(path)


def test_close_carries_over_lapses_and_locks(books: Scenario) -> None:
    report = close(books)
    outcomes = {o.line: (o.outcome, o.amount) for o in report.lines}
    assert outcomes == {
        "L-GO": (Outcome.CARRY_OVER, 400_00),
        "L-END": (Outcome.LAPSE, 50_00),
        "L-FUND": (Outcome.CARRY_OVER, 300_00),
        "B1": (Outcome.LAPSE, 50_00),
    }
    ledger = books.ledger
    for code in outcomes:
        assert line(ledger, code).totals.available == 0
    assert line(ledger, "L-GO", YEAR + 1).totals.carried_in == 400_00
    assert line(ledger, "L-FUND", YEAR + 1).totals.available == 300_00
    year = ledger.find(FiscalYear, FiscalYear.id_for(UNIT, YEAR))
    assert year is not None and year.status is YearStatus.CLOSED
    assert year.adjustment_until == date(YEAR + 1, 3, 31)
    assert year.policy == load_policy().snapshot()
    next_year = ledger.find(FiscalYear, FiscalYear.id_for(UNIT, YEAR + 1))
    assert next_year is not None and next_year.status is YearStatus.OPEN
    assert all(c.ok for c in check_year(books_of(ledger), UNIT, YEAR)), [
        c for c in check_year(books_of(ledger), UNIT, YEAR) if not c.ok
    ]
    assert all(c.ok for c in check_year(books_of(ledger), UNIT, YEAR + 1))


def test_the_close_is_done_once(books: Scenario) -> None:
    close(books)
    position = books.ledger.position()
    again = close(books)
    assert again.already_closed and books.ledger.position() == position


def test_only_a_closer_closes(books: Scenario) -> None:
    before = books.stored()
    with pytest.raises(Forbidden, match="closer role"):
        close(books, actor=CLERK)
    assert books.stored() == before


def test_a_close_already_running_is_refused(books: Scenario) -> None:
    with (
        locks_of(books.ledger).exclusive(f"close/{UNIT}/{YEAR}"),
        pytest.raises(CloseBlocked, match="already running"),
    ):
        close(books)


def test_posting_into_a_closed_year_is_refused_and_writes_nothing(books: Scenario) -> None:
    close(books)
    before = books.stored()
    for command in [
        cmd("disburse", line="B1", amount="1", payee="X", economic_code="30101"),
        cmd("allocate_budget", line="L-GO", amount="1"),
        cmd(
            "open_budget_line",
            unit=UNIT,
            year=YEAR,
            line="NEW",
            title="t",
            nature="project",
            function_code="2150805",
            project="GO",
        ),
    ]:
        with pytest.raises(YearClosed, match="closed"):
            books.when(command)
    assert books.stored() == before


def adjusting(books: Scenario, actor: Actor, today: date) -> CommandHandler:
    return CommandHandler(books.ledger, actor=actor, today=lambda: today)


def test_adjustments_need_the_closer_role_a_reason_and_the_period(books: Scenario) -> None:
    close(books)
    payment = cmd(
        "reverse_entry",
        line="L-END",
        reverses_command_id=_command_of(books, "L-END"),
        reason="付款对象有误",
        business_date=f"{YEAR}-12-31",
        adjustment_reason="审计发现付款对象有误，冲销后重新支付",
    )
    before = books.stored()
    for actor, today, error in [
        (CLERK, date(YEAR + 1, 1, 15), Forbidden),
        (CLOSER, date(YEAR + 1, 4, 1), AdjustmentNotAllowed),
    ]:
        with pytest.raises(error):
            adjusting(books, actor, today).handle(parse_command(payment))
    no_reason = {**payment, "adjustment_reason": None, "command_id": "x-1"}
    with pytest.raises(YearClosed):
        adjusting(books, CLOSER, date(YEAR + 1, 1, 15)).handle(parse_command(no_reason))
    assert books.stored() == before

    result = adjusting(books, CLOSER, date(YEAR + 1, 3, 31)).handle(parse_command(payment))
    assert result.available == "0.00"  # the 450 given back lapses, as the line's close did
    repay = cmd(
        "transfer_to_enterprise",
        line="L-END",
        amount="450",
        payee="乙公司（正确账户）",
        business_date=f"{YEAR}-12-31",
        adjustment_reason="重新支付",
    )
    adjusting(books, CLOSER, date(YEAR + 1, 3, 31)).handle(parse_command(repay))
    report = books_of(books.ledger)
    assert [(a.type, a.amount) for a in report.adjustments_of(UNIT, YEAR)] == [
        ("EntryReversed", 450_00),
        ("LapseAdjusted", 450_00),
        ("TransferredToEnterprise", 450_00),
        ("LapseAdjusted", -450_00),
    ]
    assert all(c.ok for c in check_year(report, UNIT, YEAR))


def test_an_adjustment_reason_in_an_open_year_is_refused(books: Scenario) -> None:
    with pytest.raises(AdjustmentNotAllowed):
        books.when(cmd("allocate_budget", line="B1", amount="1", adjustment_reason="?"))


def _command_of(books: Scenario, code: str) -> str:
    line_id = line(books.ledger, code).id
    events = books.ledger.events.get(line_id)
    return next(e.command_id for e in events if isinstance(e, BudgetLine.TransferredToEnterprise))


def test_reopening_needs_an_admin_and_a_reason_and_a_closed_year(books: Scenario) -> None:
    reopen = cmd("reopen_fiscal_year", unit=UNIT, year=YEAR, reason="财政局要求补记一笔追加")
    with pytest.raises(YearClosed, match="only a closed year"):
        books.when(reopen)
    close(books)
    with pytest.raises(Forbidden, match="admin role"):
        CommandHandler(books.ledger, actor=CLOSER).handle(parse_command(reopen))
    with pytest.raises(LedgerError):
        books.when({**reopen, "reason": ""})
    CommandHandler(books.ledger, actor=ADMIN).handle(parse_command(reopen))
    books.when(cmd("allocate_budget", line="B1", amount="80"))
    books.when(cmd("disburse", line="B1", amount="30", payee="职工", economic_code="30101"))
    second = close(books)  # the second close settles what the reopened year received
    assert {o.line: o.amount for o in second.lines}["B1"] == 50_00
    assert books_of(books.ledger).years[(UNIT, YEAR)].reopen_count == 1
    assert all(c.ok for c in check_year(books_of(books.ledger), UNIT, YEAR))


def test_clawing_back_carryover_and_topping_up_a_carried_project(books: Scenario) -> None:
    close(books)
    nxt = {"year": YEAR + 1, "business_date": f"{YEAR + 1}-03-01"}
    books.when(cmd("allocate_budget", line="L-GO", amount="250", **nxt))
    with pytest.raises(Overspend, match="left of it"):
        books.when(cmd("claw_back", line="L-GO", amount="401", from_carryover=True, **nxt))
    books.when(cmd("claw_back", line="L-GO", amount="100", from_carryover=True, **nxt))
    books.when(cmd("transfer_to_enterprise", line="L-GO", amount="500", payee="甲公司", **nxt))
    report = execution_report(books_of(books.ledger), UNIT, YEAR + 1)
    go = next(p for p in report["projects"] if p["name"] == "持续项目")["funds"]
    assert go["prior_year_carryover"] == {
        "initial_budget": "0.04",
        "full_year_budget": "0.03",
        "executed": "0.03",
    }
    assert go["current_year_fiscal"] == {
        "initial_budget": "0.00",
        "full_year_budget": "0.03",
        "executed": "0.02",
    }
    assert go["total"]["full_year_budget"] == "0.06"


def test_a_reopened_year_cannot_carry_into_a_closed_next_year(books: Scenario) -> None:
    close(books)
    nxt = {"year": YEAR + 1, "business_date": f"{YEAR + 1}-06-01"}
    books.when(cmd("transfer_to_enterprise", line="L-GO", amount="400", payee="甲公司", **nxt))
    books.when(cmd("transfer_to_enterprise", line="L-FUND", amount="300", payee="丙公司", **nxt))
    close_year(Services.of(books.ledger), UNIT, YEAR + 1, policy=load_policy(), actor=CLOSER)
    CommandHandler(books.ledger, actor=ADMIN).handle(
        parse_command(cmd("reopen_fiscal_year", unit=UNIT, year=YEAR, reason="补记追加"))
    )
    books.when(cmd("allocate_budget", line="L-GO", amount="10"))
    with pytest.raises(CloseBlocked, match="nowhere to go"):
        close(books)
