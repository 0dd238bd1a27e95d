"""Departments (部门) over units: declared and assigned through ``handle``, their 部门决算
the consolidation of the units' accounts with transfers between them eliminated, the
identities checked at both levels, and the scope rule (every member in scope).

A synthetic department: its office (机关本级) pays a subordinate institution 20万 of
对附属单位补助 from a project line; the subordinate receives it as 上级补助收入 and spends
it; the subordinate also remits 3万 of its 事业收入 to the office (附属单位上缴收入)."""

from __future__ import annotations

from typing import Any

import pytest

from commands.handlers import CommandHandler
from commands.models import parse_command
from ledger.application import Ledger
from ledger.errors import (
    AlreadyExists,
    Forbidden,
    InvalidInput,
    OutOfScope,
    UnknownDepartment,
    UnknownUnit,
)
from ledger.roles import Actor, Role
from projections.books import books_of
from projections.departments import department_final_accounts, department_for
from projections.final_accounts import final_accounts
from tests.scenario import YEAR, Scenario, cmd

OFFICE, SUB, OUTSIDE, DEPT = "BJ", "SY", "QT", "D-WGLJ"


def line(unit: str, code: str, nature: str, fund_source: str, item: str) -> dict[str, Any]:
    return cmd(
        "open_budget_line",
        unit=unit,
        year=YEAR,
        line=code,
        title=code,
        nature=nature,
        function_code=item,
        fund_source=fund_source,
        **({"project": "P1"} if nature == "project" else {}),
    )


def money(command_type: str, unit: str, **fields: Any) -> dict[str, Any]:
    return cmd(command_type, unit=unit, year=YEAR, **fields)


def department_history() -> list[dict[str, Any]]:
    return [
        cmd("register_unit", code=OFFICE, name="某县文化局机关"),
        cmd("register_unit", code=SUB, name="某县图书馆", kind="institution"),
        cmd("register_unit", code=OUTSIDE, name="某县财政局"),
        *(cmd("open_fiscal_year", unit=u, year=YEAR) for u in (OFFICE, SUB, OUTSIDE)),
        *(
            cmd("register_project", unit=u, code="P1", name="免费开放", implementing_units="")
            for u in (OFFICE, SUB)
        ),
        line(OFFICE, "B1", "basic_personnel", "general_public_budget", "2070101"),
        line(OFFICE, "X1", "affiliated_subsidy", "general_public_budget", "2070199"),
        line(OFFICE, "F1", "project", "affiliated_remittance", "2070199"),
        line(SUB, "S1", "project", "higher_level_subsidy", "2070199"),
        line(SUB, "S2", "higher_level_remittance", "business_income", "2070199"),
        line(OUTSIDE, "O1", "basic_personnel", "general_public_budget", "2010301"),
        money("allocate_budget", OFFICE, line="B1", amount="50万", initial=True),
        money("allocate_budget", OFFICE, line="X1", amount="30万", initial=True),
        money("disburse", OFFICE, line="B1", amount="40万", payee="职工", economic_code="30101"),
        # 对附属单位补助: the office pays its library (named by its full name) …
        money(
            "disburse", OFFICE, line="X1", amount="20万", payee="某县图书馆", economic_code="39999"
        ),
        # … which receives it as 上级补助收入 from the office (named by its code) and spends it.
        money("record_receipt", SUB, line="S1", amount="20万", payer=OFFICE),
        money("disburse", SUB, line="S1", amount="15万", payee="某书店", economic_code="30299"),
        # 事业收入 of the library, 3万 of it remitted to the office (附属单位上缴收入).
        money("record_receipt", SUB, line="S2", amount="8万", payer="读者"),
        money("disburse", SUB, line="S2", amount="3万", payee=OFFICE, economic_code="39999"),
        money("record_receipt", OFFICE, line="F1", amount="3万", payer="某县图书馆"),
        # A unit outside the department pays the office nothing that is eliminated.
        money("allocate_budget", OUTSIDE, line="O1", amount="9万", initial=True),
        cmd("declare_department", code=DEPT, name="某县文化广播电视和旅游局"),
        cmd("assign_unit_to_department", department=DEPT, unit=OFFICE),
        cmd("assign_unit_to_department", department=DEPT, unit="某县图书馆"),
    ]


@pytest.fixture
def department(memory_ledger: Ledger) -> Scenario:
    return Scenario(memory_ledger).given(*department_history())


def _by_nature(report: dict[str, Any]) -> dict[str, str]:
    """The 支出决算 rows that are not zero."""
    return {
        row["nature"]: row["amount"]
        for row in report["expenditure_by_nature"]
        if row["amount"] != "0.00"
    }


def report(ledger: Ledger, actor: Actor | None = None) -> dict[str, Any]:
    view = department_for(ledger, actor or Actor("auditor", Role.AUDITOR), DEPT)
    return department_final_accounts(books_of(ledger), view, YEAR)


def test_the_department_consolidates_its_units_and_eliminates_what_moved_between_them(
    department: Scenario,
) -> None:
    books = books_of(department.ledger)
    office = final_accounts(books, OFFICE, YEAR)
    sub = final_accounts(books, SUB, YEAR)
    # Each unit's own report keeps its side of the transfers …
    assert office["overview"]["current_year_income"] == "83.00"  # 50 + 30 + 3
    assert office["overview"]["current_year_expenditure"] == "60.00"  # 40 + 20
    assert sub["overview"]["current_year_income"] == "28.00"  # 20 + 8
    assert sub["overview"]["current_year_expenditure"] == "18.00"  # 15 + 3
    # … and shows it as what it is: 对附属单位补助支出 of the office, 上缴上级支出 of the library.
    assert _by_nature(office) == {"基本支出": "40.00", "对附属单位补助支出": "20.00"}
    assert _by_nature(sub) == {"项目支出": "15.00", "上缴上级支出": "3.00"}

    dept = report(department.ledger)
    assert [u["code"] for u in dept["units"]] == [OFFICE, SUB]
    assert dept["unit_reports"][OFFICE] == office and dept["unit_reports"][SUB] == sub
    # … the department's counts each yuan once: 83 + 28 − 20 − 3, 60 + 18 − 20 − 3.
    overview = dept["overview"]
    assert overview["current_year_income"] == "88.00"
    assert overview["current_year_expenditure"] == "55.00"
    assert overview["closing_carryover_and_balance"] == "33.00"
    assert overview["income_total"] == overview["expenditure_total"] == "88.00"
    sources = {row["source"]: row["amount"] for row in dept["income_by_source"]}
    assert sources["财政拨款收入"] == "80.00"
    assert sources["上级补助收入"] == "0.00"  # all of it came from the office
    assert sources["附属单位上缴收入"] == "0.00"
    assert sources["事业收入"] == "8.00"
    assert dept["eliminations"] == [
        {
            "paid_by": OFFICE,
            "received_by": SUB,
            "paid": "20.00",
            "received": "20.00",
            "received_as": ["上级补助收入"],
        },
        {
            "paid_by": SUB,
            "received_by": OFFICE,
            "paid": "3.00",
            "received": "3.00",
            "received_as": ["附属单位上缴收入"],
        },
    ]
    assert dept["eliminated_income"] == dept["eliminated_expenditure"] == "23.00"
    assert dept["fiscal_appropriation"]["current_year_expenditure"] == "40.00"  # 60 − 20
    assert _by_nature(dept) == {"基本支出": "40.00", "项目支出": "15.00"}  # nothing passed on
    items = {row["code"]: row["amount"] for row in dept["by_function_item"]}
    assert items == {"2070101": "40.00", "2070199": "0.00"}  # all of X1 went to the library
    # Identities hold at both levels; the department's and each unit's are listed.
    assert dept["ok"], [c for c in dept["checks"] if not c["ok"]]
    levels = {c["level"] for c in dept["checks"]}
    assert levels == {DEPT, OFFICE, SUB}


def test_a_transfer_received_but_not_paid_within_the_department_fails_its_identity(
    department: Scenario,
) -> None:
    department.given(
        money("record_receipt", SUB, line="S1", amount="1万", payer="某县文化局机关"),
    )
    dept = report(department.ledger)
    failed = {c["name"] for c in dept["checks"] if not c["ok"]}
    assert failed == {"部门: 收入总计 = 支出总计", f"部门: 内部往来 {OFFICE} → {SUB} 支付 = 收到"}


def test_a_reversed_transfer_is_no_longer_eliminated(department: Scenario) -> None:
    department.given(
        money(
            "disburse",
            OFFICE,
            line="X1",
            amount="1万",
            payee=SUB,
            economic_code="39999",
            command_id="pay-sub",
        ),
        money("reverse_entry", OFFICE, line="X1", reverses_command_id="pay-sub", reason="付错了"),
    )
    assert report(department.ledger)["eliminated_expenditure"] == "23.00"


def test_the_rules_of_declaring_and_assigning(department: Scenario) -> None:
    retried = cmd("declare_department", code="D5", name="部门五", command_id="dept-5")
    assert department.when(retried).status == "applied"
    assert department.when(retried).status == "already_applied"  # a retry writes nothing
    with pytest.raises(AlreadyExists):
        department.when(cmd("declare_department", code=DEPT, name="另一个"))
    department.given(cmd("declare_department", code="D2", name="另一个部门"))
    with pytest.raises(AlreadyExists, match=f"already belongs to department {DEPT}"):
        department.when(cmd("assign_unit_to_department", department="D2", unit=SUB))
    with pytest.raises(UnknownDepartment):
        department.when(cmd("assign_unit_to_department", department="D9", unit=OUTSIDE))
    with pytest.raises(UnknownUnit):
        department.when(cmd("assign_unit_to_department", department=DEPT, unit="NOPE"))
    clerk = CommandHandler(department.ledger, actor=Actor("clerk", Role.CLERK))
    with pytest.raises(Forbidden):
        clerk.handle(parse_command(cmd("declare_department", code="D3", name="部门三")))
    with pytest.raises(InvalidInput):  # a department code is a business code
        department.when(cmd("declare_department", code="a/b", name="斜杠"))


def test_a_caller_reads_a_department_only_with_every_member_in_scope(
    department: Scenario,
) -> None:
    ledger = department.ledger
    both = Actor("clerk", Role.CLERK, units=frozenset({OFFICE, SUB}))
    assert report(ledger, both)["overview"]["current_year_income"] == "88.00"
    one = Actor("clerk", Role.CLERK, units=frozenset({OFFICE}))
    with pytest.raises(OutOfScope):
        report(ledger, one)
    # A scoped caller learns nothing of departments it may not read, not even whether
    # they exist; an unscoped one is told.
    with pytest.raises(OutOfScope, match="D9"):
        department_for(ledger, one, "D9")
    with pytest.raises(UnknownDepartment):
        department_for(ledger, Actor("auditor", Role.AUDITOR), "D9")


def test_only_an_admin_for_every_unit_declares_and_assigns(department: Scenario) -> None:
    """A department spans units: an admin scoped to one unit may not join it to another
    unit's department, nor learn which departments exist (refused before any look-up)."""
    from ledger.errors import OutOfScope

    scoped = CommandHandler(
        department.ledger, actor=Actor("admin-sub", Role.ADMIN, units=frozenset({OUTSIDE}))
    )
    before = department.stored()
    for command in (
        cmd("assign_unit_to_department", department=DEPT, unit=OUTSIDE),
        cmd("assign_unit_to_department", department="D9", unit=OUTSIDE),
        cmd("declare_department", code="D7", name="部门七"),
    ):
        with pytest.raises(OutOfScope) as refused:
            scoped.handle(parse_command(command))
        assert "D9" not in refused.value.message and "not declared" not in refused.value.message
    assert department.stored() == before


def test_a_department_id_cannot_block_a_catalogue_or_another_department(
    department: Scenario,
) -> None:
    """Commands about no unit keep their ids apart by what they are about: the same id
    for two departments, or for a department and a catalogue, is two commands."""
    same = "unitless-1"
    first = cmd("declare_department", code="D5", name="部门五", command_id=same)
    second = cmd("declare_department", code="D6", name="部门六", command_id=same)
    assert department.when(first).status == "applied"
    assert department.when(second).status == "applied"
    catalogue = cmd(
        "import_catalogue",
        command_id=same,
        kind="function",
        year=2031,
        entries=[["201", "一般公共服务支出"]],
        source="测试",
    )
    assert department.when(catalogue).status == "applied"
