"""公开01表 shows 使用非财政拨款结余 and 结余分配 when they occur, and its 总计 rows count
them, so that the table obeys 收入总计 = 支出总计 like the report; the export writes them."""

from __future__ import annotations

from decimal import Decimal

from ledger.application import Ledger
from projections.books import books_of
from projections.final_accounts import final_accounts
from projections.statutory_tables import statutory_tables
from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands
from tests.unit.test_take_on_and_receipts import OTHER


def test_balance_used_and_distributed_are_rows_of_the_summary_table(
    memory_ledger: Ledger,
) -> None:
    Scenario(memory_ledger).given(
        *setup_commands(),
        OTHER,
        cmd("open_balance", line="QT1", amount="3万", document_no="2021年度决算批复"),
        cmd("record_receipt", line="QT1", amount="10万", payer="服务对象"),
        # a draw takes only what a distribution put into the unit's non-fiscal balance
        cmd("distribute_balance", line="QT1", amount="2万", purpose="提取专用基金"),
        cmd("use_non_fiscal_balance", line="QT1", amount="2万"),
        cmd("disburse", line="QT1", amount="12万", payee="某", economic_code="30227"),
    )
    books = books_of(memory_ledger)
    summary = statutory_tables(books, UNIT, YEAR)[0]
    assert summary.code == "公开01表"
    rows = {row[0]: row[1] for row in summary.rows}
    right = {row[2]: row[3] for row in summary.rows}
    assert rows["使用非财政拨款结余"] == Decimal("2.00")
    assert right["结余分配"] == Decimal("2.00")
    totals = [row for row in summary.rows if row[0] == "总计"]
    assert totals == [
        ["总计", Decimal("15.00"), "总计", Decimal("15.00")]
    ]  # 10 + 2 + 3 = 12 + 2 + 1
    overview = final_accounts(books, UNIT, YEAR)["overview"]
    assert overview["income_total"] == overview["expenditure_total"] == "15.00"
