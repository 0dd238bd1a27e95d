"""The spending the 支出决算表 lists beside 基本支出 and 项目支出 — 上缴上级支出, 经营支出,
对附属单位补助支出 — is paid from lines of that nature: the report, 公开03表 and the
identities show it, and at the close such a line follows the basic rule (it has no project)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from commands.closing import close_year
from ledger.application import Ledger
from ledger.closing.policy import load_policy
from ledger.composition import Services
from ledger.errors import NatureMismatch
from ledger.roles import Actor, Role
from projections.books import books_of
from projections.checks import check_year
from projections.final_accounts import final_accounts
from projections.statutory_tables import statutory_tables
from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands

NATURES = {"SJ": "higher_level_remittance", "JY": "operating", "FS": "affiliated_subsidy"}


def test_each_kind_of_spending_is_a_row_of_its_own(memory_ledger: Ledger) -> None:
    scenario = Scenario(memory_ledger).given(
        *setup_commands(),
        *(
            cmd(
                "open_budget_line",
                unit=UNIT,
                year=YEAR,
                line=code,
                title=code,
                nature=nature,
                function_code="2010301",
            )
            for code, nature in NATURES.items()
        ),
        *(cmd("allocate_budget", line=code, amount="10万") for code in [*NATURES, "B1"]),
        cmd("disburse", line="SJ", amount="1万", payee="上级主管部门", economic_code="39999"),
        cmd("disburse", line="JY", amount="2万", payee="某供应商", economic_code="30201"),
        cmd("disburse", line="FS", amount="4万", payee="下属事业单位", economic_code="39999"),
        cmd("disburse", line="B1", amount="8万", payee="职工", economic_code="30101"),
    )
    with pytest.raises(NatureMismatch):  # a line without a project is not a project's
        scenario.when(
            cmd(
                "open_budget_line",
                unit=UNIT,
                year=YEAR,
                line="FS2",
                title="FS2",
                nature="affiliated_subsidy",
                function_code="2010301",
                project="P1",
            )
        )
    books = books_of(memory_ledger)
    report = final_accounts(books, UNIT, YEAR)
    rows = {row["nature"]: row["amount"] for row in report["expenditure_by_nature"]}
    assert rows == {
        "基本支出": "8.00",
        "项目支出": "0.00",
        "上缴上级支出": "1.00",
        "经营支出": "2.00",
        "对附属单位补助支出": "4.00",
    }
    assert report["overview"]["current_year_expenditure"] == "15.00"
    assert all(c.ok for c in check_year(books, UNIT, YEAR))
    table = statutory_tables(books, UNIT, YEAR)[2]
    assert table.code == "公开03表"
    total = next(row for row in table.rows if row[1] == "合计")
    assert total[2:] == [Decimal(v) for v in ("15.00", "8.00", "0.00", "1.00", "2.00", "4.00")]

    closed = close_year(
        Services.of(memory_ledger), UNIT, YEAR, policy=load_policy(), actor=Actor("c", Role.CLOSER)
    )
    assert closed.carried_over == 0  # every line without a project lapses by default
    after = books_of(memory_ledger)
    lapsed = {ln.code: ln.totals.lapsed for ln in after.lines_of(UNIT, YEAR)}
    assert lapsed["SJ"] == 90_000_00 and lapsed["FS"] == 60_000_00  # fen
    assert all(c.ok for c in check_year(after, UNIT, YEAR))
