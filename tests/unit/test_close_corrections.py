"""Corrections into a closed year move its close with them (issue 11 §7): given a closed
year, when a closer posts a correcting entry in the adjustment period, then the line's
carryover (and next year's opening) or lapse moves by as much, as new events of the same
command — and the identities of both years hold. Also: a reversal cannot be reversed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from commands.closing import close_year
from commands.handlers import CommandHandler
from commands.models import parse_command
from ledger.aggregates import BudgetLine, FiscalYear, YearStatus
from ledger.application import Ledger
from ledger.closing.policy import load_policy
from ledger.composition import Services
from ledger.errors import CloseBlocked, NatureMismatch, NotReversible, Overspend
from ledger.roles import Actor, Role
from projections.books import books_of
from projections.checks import check_year
from tests.scenario import UNIT, YEAR, Scenario, cmd

CLOSER = Actor("closer-zhang", Role.CLOSER)
ADMIN = Actor("admin-wang", Role.ADMIN)
IN_PERIOD = date(YEAR + 1, 1, 15)
NEXT = YEAR + 1


@pytest.fixture
def closed(memory_ledger: Ledger) -> Scenario:
    """2022 closed: L-GO carried 400 over to 2023, L-END and B1 lapsed 50 each, and two
    lines (a continuing project's L-Z, a basic B0) had nothing left to settle."""
    scenario = Scenario(memory_ledger).given(
        cmd("register_unit", code=UNIT, name="测试局"),
        cmd("open_fiscal_year", unit=UNIT, year=YEAR),
        cmd("register_project", unit=UNIT, code="GO", name="持续项目", final_year=NEXT),
        cmd("register_project", unit=UNIT, code="END", name="完结项目", final_year=YEAR),
        cmd("register_project", unit=UNIT, code="Z", name="用完的项目"),
        *[
            cmd(
                "open_budget_line",
                unit=UNIT,
                year=YEAR,
                line=code,
                title=code,
                nature=nature,
                function_code="2150805" if project else "2010301",
                **({"project": project} if project else {}),
            )
            for code, nature, project in [
                ("L-GO", "project", "GO"),
                ("L-END", "project", "END"),
                ("L-Z", "project", "Z"),
                ("B1", "basic_personnel", None),
                ("B0", "basic_public", None),
            ]
        ],
        cmd("allocate_budget", line="L-GO", amount="1000", command_id="alloc-go"),
        cmd("allocate_budget", line="L-END", amount="500", command_id="alloc-end"),
        cmd("allocate_budget", line="L-Z", amount="100"),
        cmd("allocate_budget", line="B1", amount="200", initial=True),
        cmd("allocate_budget", line="B0", amount="10", initial=True),
        cmd("transfer_to_enterprise", line="L-GO", amount="600", payee="甲公司", command_id="t-go"),
        cmd("transfer_to_enterprise", line="L-END", amount="450", payee="乙公司"),
        cmd("transfer_to_enterprise", line="L-Z", amount="100", payee="丙公司"),
        cmd("disburse", line="B1", amount="150", payee="职工", economic_code="30101"),
        cmd("disburse", line="B0", amount="10", payee="文具店", economic_code="30201"),
    )
    close_year(Services.of(memory_ledger), UNIT, YEAR, policy=load_policy(), actor=CLOSER)
    return scenario


def correct(scenario: Scenario, command: dict[str, Any], actor: Actor = CLOSER) -> Any:
    """Post ``command`` as a correction into closed 2022, in its adjustment period."""
    fields = {"business_date": f"{YEAR}-12-31", "adjustment_reason": "审计调整"}
    handler = CommandHandler(scenario.ledger, actor=actor, today=lambda: IN_PERIOD)
    return handler.handle(parse_command({**command, **fields}))


def line(scenario: Scenario, code: str, year: int = YEAR) -> BudgetLine:
    found = scenario.ledger.find(BudgetLine, BudgetLine.id_for(UNIT, year, code))
    assert found is not None
    return found


def assert_identities(scenario: Scenario) -> None:
    books = books_of(scenario.ledger)
    for year in (YEAR, NEXT):
        failed = [c for c in check_year(books, UNIT, year) if not c.ok]
        assert failed == [], (year, failed)
    for view in books.lines.values():  # the fold and the aggregates agree
        assert view.totals == line(scenario, view.code, view.year).totals


def line_events(scenario: Scenario, since: int) -> list[Any]:
    return [e for e in scenario.new_events(since) if isinstance(e, BudgetLine.Event)]


def events_of(scenario: Scenario, since: int) -> list[tuple[str, str, int, int]]:
    """(type, line code, year, amount) of the events stored since ``since``."""
    found = []
    for event in line_events(scenario, since):
        if hasattr(event, "amount"):
            view = books_of(scenario.ledger).lines[event.originator_id]
            found.append((type(event).__name__, view.code, view.year, event.amount))
    return found


def test_a_payment_into_a_carried_line_takes_it_back_from_the_carryover(
    closed: Scenario,
) -> None:
    since = closed.ledger.position()
    result = correct(
        closed,
        cmd("disburse", line="L-GO", amount="100", payee="补付", economic_code="30227"),
    )
    assert result.available == "0.00"
    assert events_of(closed, since) == [
        ("Disbursed", "L-GO", YEAR, 100_00),
        ("CarryoverAdjusted", "L-GO", YEAR, -100_00),
        ("CarryoverReceiptAdjusted", "L-GO", NEXT, -100_00),
    ]
    # every event is the correction's: same command id, and named by it
    new = line_events(closed, since)
    assert {e.command_id for e in new} == {result.command_id}
    assert {e.correction for e in new if isinstance(e, BudgetLine.CloseAdjusted)} == {
        result.command_id
    }
    assert [e.adjustment_reason for e in new] == ["审计调整", "审计调整", None]
    assert line(closed, "L-GO").totals.carried_out == 300_00
    assert line(closed, "L-GO", NEXT).totals.carried_in == 300_00
    assert line(closed, "L-GO", NEXT).totals.available == 300_00
    assert [e.type for e in result.events] == [
        "Disbursed",
        "CarryoverAdjusted",
        "CarryoverReceiptAdjusted",
    ]
    assert_identities(closed)


def test_a_payment_beyond_what_the_close_settled_is_an_overspend(closed: Scenario) -> None:
    before = closed.stored()
    with pytest.raises(Overspend, match=r"only 400\.00 yuan carried over"):
        correct(
            closed,
            cmd("disburse", line="L-GO", amount="400.01", payee="X", economic_code="30227"),
        )
    with pytest.raises(Overspend, match=r"only 50\.00 yuan lapsed"):
        correct(closed, cmd("disburse", line="B1", amount="60", payee="X", economic_code="30101"))
    with pytest.raises(Overspend, match=r"only 0\.00 yuan"):
        correct(closed, cmd("reduce_budget", line="L-Z", amount="1"))
    assert closed.stored() == before


def test_a_payment_is_refused_when_next_year_has_spent_the_carryover(closed: Scenario) -> None:
    closed.given(
        cmd(
            "transfer_to_enterprise",
            year=NEXT,
            business_date=f"{NEXT}-01-10",
            line="L-GO",
            amount="350",
            payee="甲公司",
        )
    )
    before = closed.stored()
    with pytest.raises(Overspend, match=r"budget line L-GO .*2023.* 50\.00 yuan available"):
        correct(
            closed,
            cmd("transfer_to_enterprise", line="L-GO", amount="100", payee="甲公司"),
        )
    assert closed.stored() == before
    correct(closed, cmd("transfer_to_enterprise", line="L-GO", amount="50", payee="甲公司"))
    assert line(closed, "L-GO", NEXT).totals.available == 0
    assert_identities(closed)


def test_a_payment_into_a_lapsed_line_takes_it_back_from_the_lapse(closed: Scenario) -> None:
    since = closed.ledger.position()
    correct(closed, cmd("disburse", line="B1", amount="30", payee="职工", economic_code="30101"))
    assert events_of(closed, since) == [
        ("Disbursed", "B1", YEAR, 30_00),
        ("LapseAdjusted", "B1", YEAR, -30_00),
    ]
    assert line(closed, "B1").totals.lapsed == 20_00
    correct(closed, cmd("claw_back", line="L-END", amount="50"))
    assert line(closed, "L-END").totals.lapsed == 0
    assert_identities(closed)


def test_money_added_to_a_closed_line_settles_as_its_close_did(closed: Scenario) -> None:
    since = closed.ledger.position()
    correct(closed, cmd("allocate_budget", line="L-GO", amount="70"))
    correct(closed, cmd("allocate_budget", line="B1", amount="20"))
    correct(
        closed,
        cmd("reverse_entry", line="L-GO", reverses_command_id="t-go", reason="付款退回"),
    )
    assert events_of(closed, since) == [
        ("Allocated", "L-GO", YEAR, 70_00),
        ("CarryoverAdjusted", "L-GO", YEAR, 70_00),
        ("CarryoverReceiptAdjusted", "L-GO", NEXT, 70_00),
        ("Allocated", "B1", YEAR, 20_00),
        ("LapseAdjusted", "B1", YEAR, 20_00),
        ("EntryReversed", "L-GO", YEAR, 600_00),
        ("CarryoverAdjusted", "L-GO", YEAR, 600_00),
        ("CarryoverReceiptAdjusted", "L-GO", NEXT, 600_00),
    ]
    assert line(closed, "L-GO", NEXT).totals.opening == 1070_00
    assert_identities(closed)


def test_reversing_an_allocation_takes_it_back_from_the_close(closed: Scenario) -> None:
    before = closed.stored()
    with pytest.raises(Overspend, match=r"only 50\.00 yuan lapsed"):
        correct(
            closed,
            cmd("reverse_entry", line="L-END", reverses_command_id="alloc-end", reason="多拨"),
        )
    assert closed.stored() == before
    correct(closed, cmd("allocate_budget", line="L-END", amount="30", command_id="extra"))
    assert line(closed, "L-END").totals.lapsed == 80_00
    correct(closed, cmd("reverse_entry", line="L-END", reverses_command_id="extra", reason="错"))
    assert line(closed, "L-END").totals.lapsed == 50_00
    assert_identities(closed)


def test_a_line_its_close_left_untouched_settles_by_the_recorded_policy(
    closed: Scenario,
) -> None:
    assert closed.ledger.find(BudgetLine, BudgetLine.id_for(UNIT, NEXT, "L-Z")) is None
    since = closed.ledger.position()
    correct(closed, cmd("allocate_budget", line="L-Z", amount="5"))  # continuing: carry over
    correct(closed, cmd("allocate_budget", line="B0", amount="3"))  # basic: lapses
    events = line_events(closed, since)
    assert [type(e).__name__ for e in events] == [
        "Allocated",
        "CarryoverAdjusted",
        "Opened",
        "CarryoverReceiptAdjusted",
        "Allocated",
        "LapseAdjusted",
    ]
    assert events[-1].reason == "default.basic"
    assert line(closed, "L-Z", NEXT).totals.carried_in == 5_00
    assert line(closed, "L-Z").close_outcome == "carry_over"
    assert_identities(closed)


def test_a_correction_cannot_move_a_carryover_into_a_closed_next_year(closed: Scenario) -> None:
    close_year(Services.of(closed.ledger), UNIT, NEXT, policy=load_policy(), actor=CLOSER)
    next_year = closed.ledger.find(FiscalYear, FiscalYear.id_for(UNIT, NEXT))
    assert next_year is not None and next_year.status is YearStatus.CLOSED
    before = closed.stored()
    for command in [
        cmd("allocate_budget", line="L-GO", amount="1"),
        cmd("disburse", line="L-GO", amount="1", payee="X", economic_code="30227"),
    ]:
        with pytest.raises(CloseBlocked, match=r"2023 .* is closed: reopen it first"):
            correct(closed, command)
    assert closed.stored() == before
    correct(closed, cmd("allocate_budget", line="B1", amount="1"))  # a lapse goes nowhere
    assert all(c.ok for c in check_year(books_of(closed.ledger), UNIT, YEAR))


def test_a_refused_correction_in_a_batch_leaves_nothing_behind(closed: Scenario) -> None:
    handler = CommandHandler(closed.ledger, actor=CLOSER, today=lambda: IN_PERIOD)
    fields = {"business_date": f"{YEAR}-12-31", "adjustment_reason": "审计调整"}
    good = cmd("disburse", line="L-GO", amount="10", payee="X", economic_code="30227", **fields)
    # refused by the line's own rule (312 is a transfer), as in an open year
    bad = cmd("disburse", line="L-GO", amount="10", payee="X", economic_code="31201", **fields)
    outcome = handler.handle_batch([parse_command(good), parse_command(bad)])
    assert outcome.failed_index == 1 and isinstance(outcome.error, NatureMismatch)
    assert line(closed, "L-GO").totals.carried_out == 390_00
    assert line(closed, "L-GO", NEXT).totals.carried_in == 390_00
    assert_identities(closed)


def test_a_reversal_cannot_itself_be_reversed(closed: Scenario) -> None:
    nxt = {"year": NEXT, "business_date": f"{NEXT}-02-01"}
    closed.given(
        cmd("allocate_budget", line="L-GO", amount="9", command_id="a-9", **nxt),
        cmd("reverse_entry", line="L-GO", reverses_command_id="a-9", reason="错", **nxt),
    )
    reversal = closed.ledger.events.get(line(closed, "L-GO", NEXT).id)
    reversal_id = next(e for e in reversal if isinstance(e, BudgetLine.EntryReversed)).command_id
    before = closed.stored()
    with pytest.raises(NotReversible, match="a reversal cannot itself be reversed") as refused:
        closed.when(
            cmd("reverse_entry", line="L-GO", reverses_command_id=reversal_id, reason="?", **nxt)
        )
    assert "post the original again" in str(refused.value)
    with pytest.raises(NotReversible, match="no posting made by command nothing"):
        closed.when(
            cmd("reverse_entry", line="L-GO", reverses_command_id="nothing", reason="?", **nxt)
        )
    assert closed.stored() == before


def test_a_line_snapshot_keeps_how_its_close_settled_it(closed: Scenario) -> None:
    carried = line(closed, "L-GO")
    snapshot = BudgetLine.Snapshot.take(carried)
    assert snapshot.state["close_outcome"] == "carry_over"
    assert vars(snapshot.mutate(None)) == vars(carried)
    # a snapshot taken before lines knew it revives as "no close recorded"
    old = BudgetLine.Snapshot.take(carried)
    del old.state["close_outcome"]
    assert old.mutate(None).close_outcome is None


def test_a_correction_waits_while_next_year_is_being_closed(closed: Scenario) -> None:
    start = cmd(
        "start_closing",
        unit=UNIT,
        year=NEXT,
        policy=load_policy().snapshot(),
        business_date=f"{NEXT}-12-31",
        document_no="结账",
    )
    CommandHandler(closed.ledger, actor=CLOSER).handle(
        parse_command(start, close_steps=True), system=True
    )
    before = closed.stored()
    with pytest.raises(CloseBlocked, match="is being closed: wait until its close has finished"):
        correct(closed, cmd("allocate_budget", line="L-GO", amount="1"))
    assert closed.stored() == before
