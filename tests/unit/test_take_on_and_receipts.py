"""Opening balances taken on (open_balance) and non-fiscal income (record_receipt,
use_non_fiscal_balance, distribute_balance): given commands / when a command / then the
books or a typed error that leaves the store as it was."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.application import Ledger
from ledger.errors import LedgerError, NatureMismatch, Overspend, TakeOnClosed
from projections.books import books_of
from projections.checks import check_year
from projections.final_accounts import final_accounts
from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands

OTHER = cmd(
    "open_budget_line",
    unit=UNIT,
    year=YEAR,
    line="QT1",
    title="其他收入安排的项目",
    nature="project",
    function_code="2150805",
    project="P1",
    fund_source="other",
)


@pytest.fixture
def fresh(memory_ledger: Ledger) -> Scenario:
    return Scenario(memory_ledger).given(*setup_commands(), OTHER)


def rejected(books: Scenario, command: dict[str, Any], error: type[LedgerError]) -> str:
    before = books.stored()
    with pytest.raises(error) as info:
        books.when(command)
    assert books.stored() == before, "a rejected command must not change the store"
    return info.value.message


def test_a_take_on_opens_the_year_like_a_carryover(fresh: Scenario) -> None:
    fresh.given(
        cmd("open_balance", line="L1", amount="156.33万", document_no="2021年度决算批复"),
        cmd("allocate_budget", line="L1", amount="100万", initial=True),
        cmd("disburse", line="L1", amount="200万", payee="某公司", economic_code="30227"),
    )
    books = books_of(fresh.ledger)
    report = final_accounts(books, UNIT, YEAR)
    assert report["overview"]["opening_carryover_and_balance"] == "156.33"
    assert report["fiscal_appropriation"]["opening_carryover_and_balance"] == "156.33"
    assert report["overview"]["closing_carryover_and_balance"] == "56.33"
    line = next(ln for ln in books.lines_of(UNIT, YEAR) if ln.code == "L1")
    assert line.totals.taken_on == line.totals.carried_in == 1_563_300_00
    assert line.totals.spent_from_carryover == 1_563_300_00  # spent first, like a carryover
    assert all(c.ok for c in check_year(books, UNIT, YEAR)), check_year(books, UNIT, YEAR)
    assert books.balances_by_account_kind()["brought_forward"] == -1_563_300_00


def test_a_take_on_after_the_first_posting_is_refused_and_says_how_to_correct(
    fresh: Scenario,
) -> None:
    fresh.given(cmd("allocate_budget", line="G1", amount="10"))
    message = rejected(
        fresh, cmd("open_balance", line="L1", amount="5", document_no="批复"), TakeOnClosed
    )
    assert "reverse it" in message and "corrects" in message


def test_a_take_on_is_corrected_by_reversing_it_and_taking_the_right_one_on(
    fresh: Scenario,
) -> None:
    wrong = cmd("open_balance", line="L1", amount="500", document_no="批复")
    fresh.given(wrong, cmd("allocate_budget", line="G1", amount="10"))
    right = cmd("open_balance", line="L1", amount="400", document_no="批复-更正")
    # still standing: reverse it first
    rejected(fresh, {**right, "corrects": wrong["command_id"]}, TakeOnClosed)
    fresh.given(
        cmd("reverse_entry", line="L1", reverses_command_id=wrong["command_id"], reason="金额错")
    )
    fresh.when({**right, "corrects": wrong["command_id"]})
    again = cmd(
        "open_balance", line="L1", amount="1", document_no="x", corrects=wrong["command_id"]
    )
    rejected(fresh, again, TakeOnClosed)  # corrected once
    books = books_of(fresh.ledger)
    line = next(ln for ln in books.lines_of(UNIT, YEAR) if ln.code == "L1")
    assert line.totals.opening == 400_00


def test_take_ons_may_come_in_any_order_before_the_first_posting(fresh: Scenario) -> None:
    fresh.given(
        cmd("open_balance", line="L1", amount="10", document_no="批复"),
        cmd("open_balance", line="G1", amount="20", document_no="批复"),
        cmd("open_balance", line="QT1", amount="30", document_no="批复"),
    )
    assert (
        final_accounts(books_of(fresh.ledger), UNIT, YEAR)["overview"][
            "opening_carryover_and_balance"
        ]
        == "0.01"
    )


def test_no_take_on_when_the_prior_year_is_in_the_ledger(memory_ledger: Ledger) -> None:
    books = Scenario(memory_ledger).given(
        *setup_commands(), cmd("open_fiscal_year", unit=UNIT, year=YEAR + 1)
    )
    books.given(
        cmd(
            "open_budget_line",
            unit=UNIT,
            year=YEAR + 1,
            line="L1",
            title="项目一",
            nature="project",
            function_code="2150805",
            project="P1",
        )
    )
    command = cmd(
        "open_balance",
        unit=UNIT,
        year=YEAR + 1,
        line="L1",
        amount="5",
        document_no="x",
        business_date=f"{YEAR + 1}-01-05",
    )
    assert "its close" in rejected(books, command, TakeOnClosed)


def test_receipts_are_income_of_their_source_and_fund_what_they_pay(fresh: Scenario) -> None:
    fresh.given(
        cmd("allocate_budget", line="L1", amount="3859.16万"),
        cmd("record_receipt", line="QT1", amount="266.33万", payer="社会捐赠"),
        cmd("disburse", line="QT1", amount="266.33万", payee="某公司", economic_code="30227"),
        cmd("disburse", line="L1", amount="3859.16万", payee="某公司", economic_code="30227"),
    )
    books = books_of(fresh.ledger)
    report = final_accounts(books, UNIT, YEAR)
    sources = {s["source"]: s for s in report["income_by_source"]}
    assert sources["其他收入"] == {"source": "其他收入", "amount": "266.33", "share_pct": "6.46"}
    assert sources["一般公共预算财政拨款收入"]["share_pct"] == "93.54"
    assert sources["财政拨款收入"]["amount"] == "3859.16"
    assert report["fiscal_appropriation"]["current_year_expenditure"] == "3859.16"
    assert report["overview"]["current_year_expenditure"] == "4125.49"
    assert all(c.ok for c in check_year(books, UNIT, YEAR))
    kinds = books.balances_by_account_kind()
    assert kinds["received"] == -266_330_000 and sum(kinds.values()) == 0


def test_a_receipt_on_an_appropriation_line_is_refused(fresh: Scenario) -> None:
    message = rejected(
        fresh, cmd("record_receipt", line="L1", amount="5", payer="某"), NatureMismatch
    )
    assert "allocate" in message


def test_non_fiscal_balance_used_and_distributed_close_the_identity(fresh: Scenario) -> None:
    fresh.given(
        cmd("record_receipt", line="QT1", amount="100", payer="服务对象"),
        cmd("distribute_balance", line="QT1", amount="60", purpose="提取专用基金"),
        cmd("use_non_fiscal_balance", line="QT1", amount="50"),
        cmd("disburse", line="QT1", amount="90", payee="某", economic_code="30227"),
    )
    rejected(fresh, cmd("distribute_balance", line="QT1", amount="20", purpose="再提"), Overspend)
    books = books_of(fresh.ledger)
    overview = final_accounts(books, UNIT, YEAR)["overview"]
    assert overview["non_fiscal_balance_used"] == "0.01"  # 50 yuan is 0.005 万元, half-up
    assert overview["balance_distribution"] == "0.01"  # 60 yuan
    assert overview["income_total"] == overview["expenditure_total"] == "0.02"
    assert all(c.ok for c in check_year(books, UNIT, YEAR))
    rejected(fresh, cmd("use_non_fiscal_balance", line="L1", amount="5"), NatureMismatch)


def test_a_draw_takes_only_the_units_non_fiscal_balance(fresh: Scenario) -> None:
    """使用非财政拨款结余 draws on what 结余分配 put aside: beyond it, money would come from
    nowhere. Reversing a distribution that was drawn since is refused the same way."""
    fresh.given(cmd("record_receipt", line="QT1", amount="100", payer="服务对象"))
    before = fresh.ledger.position()
    message = rejected(fresh, cmd("use_non_fiscal_balance", line="QT1", amount="0.01"), Overspend)
    assert "non-fiscal balance" in message and fresh.ledger.position() == before
    distribution = cmd("distribute_balance", line="QT1", amount="30", purpose="转入非财政拨款结余")
    fresh.given(distribution, cmd("use_non_fiscal_balance", line="QT1", amount="30"))
    rejected(fresh, cmd("use_non_fiscal_balance", line="QT1", amount="0.01"), Overspend)
    reversal = cmd(
        "reverse_entry", line="QT1", reverses_command_id=distribution["command_id"], reason="错"
    )
    before = fresh.ledger.position()
    rejected(fresh, reversal, Overspend)
    assert fresh.ledger.position() == before
