"""The ledger's rules, given events / when a command / then events or a typed error.

Every rejection is checked to leave the store exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from commands.models import parse_command
from ledger.aggregates import BudgetLine
from ledger.application import Ledger
from ledger.errors import (
    AlreadyExists,
    CommandIdReused,
    InvalidAmount,
    InvalidInput,
    LedgerError,
    NatureMismatch,
    NotReversible,
    Overspend,
    UnknownCode,
    UnknownLine,
    UnknownProject,
    UnknownUnit,
    YearNotOpen,
)
from projections.books import books_of
from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands


@pytest.fixture
def books(memory_ledger: Ledger) -> Scenario:
    return Scenario(memory_ledger).given(
        *setup_commands(),
        cmd("allocate_budget", line="L1", amount="1000.00", initial=True),
        cmd("allocate_budget", line="B1", amount="500.00"),
        cmd("allocate_budget", line="G1", amount="300.00"),
    )


def rejected(books: Scenario, command: dict[str, Any], error: type[LedgerError]) -> str:
    before = books.stored()
    with pytest.raises(error) as info:
        books.when(command)
    assert books.stored() == before, "a rejected command must not change the store"
    assert info.value.message
    return info.value.message


# --- then events ---------------------------------------------------------------


def test_allocation_records_who_when_why(books: Scenario) -> None:
    position = books.ledger.position()
    result = books.when(
        cmd(
            "allocate_budget",
            line="L1",
            amount="250.50",
            command_id="a-1",
            document_no="昌市财预〔2022〕9号",
            memo="追加",
            posted_by="王芳",
            business_date="2022-05-06",
        )
    )
    (event,) = books.new_events(position)[:1]
    assert isinstance(event, BudgetLine.Allocated)
    assert (event.amount, event.initial) == (25_050, False)
    assert (
        event.posted_by,
        event.business_date,
        event.document_no,
        event.memo,
        event.command_id,
    ) == ("王芳", date(2022, 5, 6), "昌市财预〔2022〕9号", "追加", "a-1")
    assert event.timestamp.tzinfo is not None  # recorded time, distinct from business date
    assert result.available == "1250.50" and result.status == "applied"


@pytest.mark.parametrize(
    ("command", "event_type", "available"),
    [
        (lambda: cmd("reduce_budget", line="L1", amount="100"), BudgetLine.Reduced, "900.00"),
        (lambda: cmd("claw_back", line="L1", amount="100"), BudgetLine.ClawedBack, "900.00"),
        (
            lambda: cmd(
                "transfer_to_enterprise", line="L1", amount="1000", payee="特变电工股份有限公司"
            ),
            BudgetLine.TransferredToEnterprise,
            "0.00",
        ),
        (
            lambda: cmd(
                "disburse", line="L1", amount="99.99", payee="某供应商", economic_code="30227"
            ),
            BudgetLine.Disbursed,
            "900.01",
        ),
    ],
)
def test_money_events(
    books: Scenario, command: Callable[[], dict[str, Any]], event_type: type, available: str
) -> None:
    position = books.ledger.position()
    result = books.when(command())
    events = books.new_events(position)
    assert isinstance(events[0], event_type)
    assert result.available == available


def test_vehicle_running_costs_are_a_three_public_expense(books: Scenario) -> None:
    position = books.ledger.position()
    books.when(cmd("disburse", line="G1", amount="43", payee="加油站", economic_code="30231"))
    event = books.new_events(position)[0]
    assert event.three_public == "vehicle_operation"


# --- rules --------------------------------------------------------------------


def test_no_line_goes_below_zero(books: Scenario) -> None:
    message = rejected(
        books,
        cmd("disburse", line="L1", amount="1000.01", payee="X", economic_code="30201"),
        Overspend,
    )
    assert "only 1000.00 yuan is available" in message
    rejected(books, cmd("reduce_budget", line="B1", amount="500.01"), Overspend)
    rejected(books, cmd("claw_back", line="G1", amount="300.01"), Overspend)
    rejected(books, cmd("transfer_to_enterprise", line="L1", amount="2000", payee="X"), Overspend)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"amount": "-5"}, InvalidAmount),
        ({"amount": "0"}, InvalidAmount),
        ({"amount": "1.001"}, InvalidAmount),
        ({"amount": 1.5}, InvalidAmount),
        ({"amount": "lots"}, InvalidAmount),
        ({"amount": "10000000000000"}, InvalidAmount),
        ({"line": "NOPE"}, UnknownLine),
        ({"unit": "NOPE"}, UnknownUnit),
        ({"year": 2023, "business_date": "2023-01-05"}, YearNotOpen),
        ({"business_date": "2023-01-05"}, InvalidInput),
        ({"document_no": ""}, InvalidInput),
        ({"surprise": 1}, InvalidInput),
    ],
)
def test_bad_postings_are_rejected_and_change_nothing(
    books: Scenario, fields: dict[str, Any], error: type[LedgerError]
) -> None:
    rejected(books, {**cmd("allocate_budget", line="L1", amount="10"), **fields}, error)


def test_codes_must_exist(books: Scenario) -> None:
    rejected(
        books, cmd("disburse", line="L1", amount="1", payee="X", economic_code="39998"), UnknownCode
    )
    rejected(
        books,
        cmd(
            "open_budget_line",
            unit=UNIT,
            year=YEAR,
            line="L9",
            title="t",
            nature="project",
            function_code="2019999",
            project="P1",
        ),
        UnknownCode,
    )
    rejected(
        books,
        cmd(
            "open_budget_line",
            unit=UNIT,
            year=YEAR,
            line="L9",
            title="t",
            nature="project",
            function_code="2150805",
            project="P9",
        ),
        UnknownProject,
    )
    rejected(
        books,
        cmd(
            "open_budget_line",
            unit=UNIT,
            year=YEAR,
            line="L9",
            title="t",
            nature="project",
            function_code="2150805",
            fund_source="lottery",
        ),
        InvalidInput,
    )


def test_purpose_of_the_line_limits_what_it_pays(books: Scenario) -> None:
    rejected(
        books,
        cmd("disburse", line="B1", amount="1", payee="X", economic_code="30201"),
        NatureMismatch,
    )
    rejected(
        books,
        cmd("disburse", line="G1", amount="1", payee="X", economic_code="30101"),
        NatureMismatch,
    )
    rejected(books, cmd("transfer_to_enterprise", line="B1", amount="1", payee="X"), NatureMismatch)
    rejected(
        books,
        cmd("transfer_to_enterprise", line="L1", amount="1", payee="X", economic_code="30201"),
        NatureMismatch,
    )
    rejected(
        books,
        cmd("disburse", line="L1", amount="1", payee="X", economic_code="31299"),
        NatureMismatch,
    )
    rejected(
        books,
        cmd(
            "disburse",
            line="G1",
            amount="1",
            payee="X",
            economic_code="30201",
            three_public="official_reception",
        ),
        NatureMismatch,
    )
    rejected(
        books,
        cmd(
            "disburse",
            line="G1",
            amount="1",
            payee="X",
            economic_code="30201",
            procurement_category="goods",
        ),
        NatureMismatch,
    )
    rejected(
        books,
        cmd(
            "open_budget_line",
            unit=UNIT,
            year=YEAR,
            line="L9",
            title="t",
            nature="project",
            function_code="2150805",
        ),
        NatureMismatch,
    )


def test_things_are_created_once(books: Scenario) -> None:
    rejected(books, cmd("register_unit", code=UNIT, name="again"), AlreadyExists)
    rejected(books, cmd("open_fiscal_year", unit=UNIT, year=YEAR), AlreadyExists)
    rejected(
        books,
        cmd(
            "open_budget_line",
            unit=UNIT,
            year=YEAR,
            line="L1",
            title="t",
            nature="project",
            function_code="2150805",
            project="P1",
        ),
        AlreadyExists,
    )


# --- reversal -------------------------------------------------------------------


def test_reversal_undoes_an_entry_and_keeps_the_original(books: Scenario) -> None:
    books.given(
        cmd(
            "disburse",
            line="L1",
            amount="400",
            payee="X",
            economic_code="30227",
            command_id="pay-1",
        )
    )
    position = books.ledger.position()
    result = books.when(
        cmd("reverse_entry", line="L1", reverses_command_id="pay-1", reason="重复录入")
    )
    assert result.available == "1000.00"
    (event,) = books.new_events(position)[:1]
    assert isinstance(event, BudgetLine.EntryReversed)
    assert (event.reverses_command_id, event.reversed_kind, event.amount) == (
        "pay-1",
        "Disbursed",
        40_000,
    )
    rejected(
        books,
        cmd("reverse_entry", line="L1", reverses_command_id="pay-1", reason="again"),
        NotReversible,
    )
    rejected(
        books,
        cmd("reverse_entry", line="L1", reverses_command_id="nope", reason="?"),
        NotReversible,
    )


def test_reversing_a_procurement_payment_undoes_its_three_public_and_procurement_figures(
    books: Scenario,
) -> None:
    before = books_of(books.ledger).lines[BudgetLine.id_for(UNIT, YEAR, "G1")]
    assert (before.three_public, before.procurement) == ({}, {})
    books.given(
        cmd(
            "disburse",
            line="G1",
            amount="30",
            payee="某酒店",
            economic_code="30217",
            procurement_category="services",
            supplier_size="small",
            command_id="meal",
        )
    )
    paid = books_of(books.ledger).lines[BudgetLine.id_for(UNIT, YEAR, "G1")]
    assert paid.three_public and paid.procurement
    books.when(cmd("reverse_entry", line="G1", reverses_command_id="meal", reason="退回"))
    after = books_of(books.ledger).lines[BudgetLine.id_for(UNIT, YEAR, "G1")]
    assert (after.three_public, after.procurement, after.totals.spent) == ({}, {}, 0)


def test_a_posting_is_reversed_only_on_its_own_line(books: Scenario) -> None:
    books.given(
        cmd("disburse", line="L1", amount="5", payee="X", economic_code="30227", command_id="on-l1")
    )
    rejected(
        books,
        cmd("reverse_entry", line="G1", reverses_command_id="on-l1", reason="x"),
        NotReversible,
    )


def test_a_posting_and_its_reversal_in_one_batch(books: Scenario) -> None:
    pay = cmd("disburse", line="L1", amount="7", payee="X", economic_code="30227")
    undo = cmd("reverse_entry", line="L1", reverses_command_id=pay["command_id"], reason="x")
    outcome = books.handler.handle_batch([parse_command(pay), parse_command(undo)])
    assert outcome.error is None
    assert outcome.results[-1].available == "1000.00"
    # each result names only the events its own command stored
    assert [len(r.events) for r in outcome.results] == [1, 1]
    assert outcome.results[0].events[0].version + 1 == outcome.results[1].events[0].version


def test_an_allocation_already_spent_cannot_be_reversed(books: Scenario) -> None:
    books.given(
        cmd("allocate_budget", line="G1", amount="100", command_id="alloc-g"),
        cmd("disburse", line="G1", amount="350", payee="X", economic_code="30201"),
    )
    rejected(
        books, cmd("reverse_entry", line="G1", reverses_command_id="alloc-g", reason="x"), Overspend
    )


# --- idempotency ----------------------------------------------------------------


def test_a_retried_command_returns_the_original_result_and_writes_nothing(books: Scenario) -> None:
    command = cmd("disburse", line="L1", amount="10", payee="X", economic_code="30227")
    first = books.when(command)
    before = books.stored()
    again = books.when(dict(command))
    assert books.stored() == before
    assert again.status == "already_applied"
    assert again.model_copy(update={"status": "applied"}) == first


def test_a_reused_command_id_with_other_content_is_rejected(books: Scenario) -> None:
    command = cmd("disburse", line="L1", amount="10", payee="X", economic_code="30227")
    books.when(command)
    message = rejected(books, {**command, "amount": "11"}, CommandIdReused)
    assert command["command_id"] in message


def test_the_same_amount_written_differently_is_the_same_command(books: Scenario) -> None:
    command = cmd("allocate_budget", line="L1", amount="100")
    books.when(command)
    assert books.when({**command, "amount": "100.00"}).status == "already_applied"
