"""Properties over any sequence of commands, checked against a tiny model of the rules.

- money is conserved: every account sums to zero, and what left the finance bureau is
  available on a line, paid out, or returned;
- no sequence makes a line negative, and a posting is refused exactly when the model
  says it would overspend;
- replaying the events gives the same books and reports as the incrementally
  maintained ones, and the same line totals as the live aggregates;
- a retried command never writes twice.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from commands.closing import close_year
from commands.models import parse_command
from ledger.aggregates import BudgetLine, NonFiscalReserve
from ledger.closing.policy import load_policy
from ledger.composition import Services, build_ledger
from ledger.errors import NotReversible, Overspend
from ledger.money import yuan_str
from ledger.roles import SYSTEM
from ledger.settings import Settings
from projections.books import Books, books_of
from projections.checks import check_year
from projections.final_accounts import final_accounts
from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands

LINES = {"L1": "project", "B1": "basic_personnel", "G1": "basic_public"}
PAY_CODES = {"L1": "30227", "B1": "30101", "G1": "30231"}

operations = st.lists(
    st.tuples(
        st.sampled_from(
            ["allocate", "reduce", "claw_back", "transfer", "disburse", "reverse", "retry"]
        ),
        st.sampled_from(sorted(LINES)),
        st.integers(min_value=1, max_value=500_000),
        st.integers(min_value=0, max_value=10_000),
    ),
    max_size=40,
)


@dataclass
class Model:
    """What the rules say each line holds, and which entries can be reversed."""

    available: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LINES, 0))
    entries: list[tuple[str, str, str, int]] = field(default_factory=list)
    """(command id, line, kind, amount) of applied money postings."""
    reversed: set[str] = field(default_factory=set)


def build(kind: str, line: str, fen: int) -> tuple[dict[str, Any], str]:
    amount = yuan_str(fen)
    if kind == "allocate":
        return cmd("allocate_budget", line=line, amount=amount, initial=fen % 2 == 0), "Allocated"
    if kind == "reduce":
        return cmd("reduce_budget", line=line, amount=amount), "Reduced"
    if kind == "claw_back":
        return cmd("claw_back", line=line, amount=amount), "ClawedBack"
    if kind == "transfer":
        return cmd("transfer_to_enterprise", line="L1", amount=amount, payee="企业"), "Transferred"
    return cmd(
        "disburse", line=line, amount=amount, payee="收款人", economic_code=PAY_CODES[line]
    ), "Disbursed"


def check_conservation(books: Books, model: Model) -> None:
    assert sum(books.accounts.values()) == 0
    kinds = books.balances_by_account_kind()
    assert -kinds["issued"] == kinds["paid"] + kinds["returned"] + kinds["available"]
    by_code = {line.code: line for line in books.lines.values()}
    for code, expected in model.available.items():
        assert expected >= 0
        assert by_code[code].totals.available == expected


@given(operations)
def test_any_sequence_conserves_money_and_replays_identically(
    ops: list[tuple[str, str, int, int]],
) -> None:
    ledger = build_ledger(Settings(database_url="memory://"))
    scenario = Scenario(ledger).given(*setup_commands())
    live = books_of(ledger)  # maintained incrementally, like a live read model
    model = Model()
    applied: list[dict[str, Any]] = []

    for kind, line, fen, pick in ops:
        if kind == "transfer":
            line = "L1"
        if kind == "retry":
            if not applied:
                continue
            position = ledger.position()
            result = scenario.when(applied[pick % len(applied)])
            assert result.status == "already_applied"
            assert ledger.position() == position
            continue
        if kind == "reverse":
            if not model.entries:
                continue
            target_id, target_line, target_kind, amount = model.entries[pick % len(model.entries)]
            command = cmd(
                "reverse_entry", line=target_line, reverses_command_id=target_id, reason="冲销"
            )
            if target_id in model.reversed:
                expected: type[Exception] | None = NotReversible
            elif target_kind == "Allocated" and amount > model.available[target_line]:
                expected = Overspend
            else:
                expected = None
            delta = -amount if target_kind == "Allocated" else amount
        else:
            command, target_kind = build(kind, line, fen)
            overspends = kind != "allocate" and fen > model.available[line]
            expected = Overspend if overspends else None
            delta = fen if kind == "allocate" else -fen

        position = ledger.position()
        try:
            scenario.when(command)
        except (Overspend, NotReversible) as error:
            assert type(error) is expected, (command, error)
            assert ledger.position() == position
        else:
            assert expected is None, (command, model.available)
            model.available[command["line"]] += delta
            applied.append(command)
            if kind == "reverse":
                model.reversed.add(command["reverses_command_id"])
            else:
                model.entries.append((command["command_id"], command["line"], target_kind, fen))
        for position, event in ledger.read_events(start=live.position + 1):
            live.apply(event, position)
        live.position = ledger.position()
        check_conservation(live, model)

    replayed = books_of(ledger)
    assert replayed == live
    assert final_accounts(replayed, UNIT, YEAR) == final_accounts(live, UNIT, YEAR)
    for line_view in replayed.lines.values():
        aggregate = ledger.repository.get(line_view.id)
        assert isinstance(aggregate, BudgetLine)
        assert aggregate.totals == line_view.totals
    ledger.close()


@given(st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=10))
def test_a_retried_command_never_writes_twice(amounts: list[int]) -> None:
    ledger = build_ledger(Settings(database_url="memory://"))
    scenario = Scenario(ledger).given(*setup_commands())
    for fen in amounts:
        command = cmd("allocate_budget", line="L1", amount=yuan_str(fen))
        first = scenario.when(command)
        position = ledger.position()
        for _ in range(3):
            again = scenario.handler.handle(parse_command(dict(command)))
            assert again.events == first.events and again.status == "already_applied"
        assert ledger.position() == position
    assert books_of(ledger).lines[BudgetLine.id_for(UNIT, YEAR, "L1")].totals.top_ups + books_of(
        ledger
    ).lines[BudgetLine.id_for(UNIT, YEAR, "L1")].totals.initial == sum(amounts)
    ledger.close()


@given(operations, st.booleans())
def test_closing_then_opening_conserves_money_across_the_year_boundary(
    ops: list[tuple[str, str, int, int]], project_continues: bool
) -> None:
    ledger = build_ledger(Settings(database_url="memory://"))
    setup = setup_commands()
    setup[2]["final_year"] = YEAR + 1 if project_continues else YEAR
    scenario = Scenario(ledger).given(*setup)
    for kind, line, fen, _ in ops:
        if kind in ("reverse", "retry"):
            continue
        command, _ = build(kind, "L1" if kind == "transfer" else line, fen)
        with contextlib.suppress(Overspend):
            scenario.when(command)
    before = {ln.code: ln.totals.available for ln in books_of(ledger).lines.values()}

    close_year(Services.of(ledger), UNIT, YEAR, policy=load_policy(), actor=SYSTEM)

    books = books_of(ledger)
    this_year = books.lines_of(UNIT, YEAR)
    next_year = {ln.code: ln for ln in books.lines_of(UNIT, YEAR + 1)}
    assert all(ln.totals.available == 0 for ln in this_year)
    for ln in this_year:
        carried = ln.totals.carried_out
        assert carried + ln.totals.lapsed == before[ln.code]
        assert (next_year[ln.code].totals.carried_in if ln.code in next_year else 0) == carried
        if ln.code == "L1" and before["L1"]:
            assert (carried == before["L1"]) is project_continues
    assert sum(ln.totals.closing for ln in this_year) == sum(
        ln.totals.opening for ln in next_year.values()
    )
    kinds = books.balances_by_account_kind()
    assert kinds["transit"] == 0 and sum(kinds.values()) == 0
    assert -kinds["issued"] == kinds["paid"] + kinds["returned"] + kinds["available"]
    for year in (YEAR, YEAR + 1):
        failed = [c for c in check_year(books, UNIT, year) if not c.ok]
        assert failed == []
    ledger.close()


NON_FISCAL = cmd(
    "open_budget_line",
    unit=UNIT,
    year=YEAR,
    line="QT1",
    title="其他收入",
    nature="project",
    function_code="2150805",
    project="P1",
    fund_source="other",
)
money_in_and_out = st.lists(
    st.tuples(
        st.sampled_from(["receive", "use", "distribute", "disburse", "reverse"]),
        st.integers(min_value=1, max_value=500_000),
        st.integers(min_value=0, max_value=10_000),
    ),
    max_size=30,
)
IN_OUT = {
    "receive": ("record_receipt", {"payer": "缴款人"}, "Received", 1),
    "use": ("use_non_fiscal_balance", {}, "NonFiscalBalanceUsed", 1),
    "distribute": ("distribute_balance", {"purpose": "提取专用基金"}, "BalanceDistributed", -1),
    "disburse": ("disburse", {"payee": "收款人", "economic_code": "30227"}, "Disbursed", -1),
}


@given(st.integers(min_value=1, max_value=10**7), money_in_and_out)
def test_take_ons_receipts_and_distributions_conserve_money_and_the_identities(
    opening: int, ops: list[tuple[str, int, int]]
) -> None:
    ledger = build_ledger(Settings(database_url="memory://"))
    scenario = Scenario(ledger).given(*setup_commands(), NON_FISCAL)
    scenario.when(cmd("open_balance", line="QT1", amount=yuan_str(opening), document_no="批复"))
    available = opening
    reserve = 0  # the unit's non-fiscal balance: distributed, less drawn back
    entries: list[tuple[str, str, int, int]] = []  # (command id, kind, signed effect, amount)
    reversed_ids: set[str] = set()
    for kind, fen, pick in ops:
        if kind == "reverse":
            if not entries:
                continue
            target, of_kind, sign, amount = entries[pick % len(entries)]
            command = cmd("reverse_entry", line="QT1", reverses_command_id=target, reason="冲销")
            reserve_delta = {"use": amount, "distribute": -amount}.get(of_kind, 0)
            if target in reversed_ids:
                expected: type[Exception] | None = NotReversible
            else:
                short = (sign > 0 and amount > available) or reserve + reserve_delta < 0
                expected = Overspend if short else None
            delta = -sign * amount
        else:
            command_type, extra, _, sign = IN_OUT[kind]
            command = cmd(command_type, line="QT1", amount=yuan_str(fen), **extra)
            reserve_delta = {"use": -fen, "distribute": fen}.get(kind, 0)
            short = (sign < 0 and fen > available) or reserve + reserve_delta < 0
            expected = Overspend if short else None
            delta = sign * fen
        try:
            scenario.when(command)
        except (Overspend, NotReversible) as error:
            assert type(error) is expected, (command, error)
        else:
            assert expected is None, (command, available)
            available += delta
            reserve += reserve_delta
            if kind == "reverse":
                reversed_ids.add(command["reverses_command_id"])
            else:
                entries.append((command["command_id"], kind, delta // abs(delta), abs(delta)))
    held = ledger.find(NonFiscalReserve, NonFiscalReserve.id_for(UNIT))
    assert (0 if held is None else held.balance) == reserve
    books = books_of(ledger)
    kinds = books.balances_by_account_kind()
    assert sum(kinds.values()) == 0
    brought_in = -(kinds["brought_forward"] + kinds["received"] + kinds["drawn"])
    assert brought_in == kinds["paid"] + kinds["available"] + kinds["distributed"]
    line = books.lines[BudgetLine.id_for(UNIT, YEAR, "QT1")]
    assert line.totals.available == available
    assert [c for c in check_year(books, UNIT, YEAR) if not c.ok] == []
    assert ledger.repository.get(line.id).totals == line.totals
    ledger.close()
