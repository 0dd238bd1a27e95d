"""Given commands / when a command / then events or an error — for domain tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from commands.handlers import CommandHandler, CommandResult
from commands.models import parse_command
from ledger.application import Ledger

UNIT = "U1"
YEAR = 2022

_counter = 0


def cmd(command_type: str, **fields: Any) -> dict[str, Any]:
    """A command as the import file writes it, with fresh id and sensible defaults."""
    global _counter
    _counter += 1
    base: dict[str, Any] = {
        "type": command_type,
        "command_id": f"t-{_counter}",
        "posted_by": "clerk-a",
        "business_date": date(YEAR, 3, 1).isoformat(),
    }
    if command_type in {
        "allocate_budget",
        "reduce_budget",
        "transfer_to_enterprise",
        "disburse",
        "claw_back",
        "reverse_entry",
        "open_balance",
        "record_receipt",
        "use_non_fiscal_balance",
        "distribute_balance",
    }:
        base.update(unit=UNIT, year=YEAR, document_no=f"DOC-{_counter}")
    base.update(fields)
    return base


def setup_commands() -> list[dict[str, Any]]:
    """A unit, its open 2022, a project, a project line and two basic lines."""
    return [
        cmd("register_unit", code=UNIT, name="测试局"),
        cmd("open_fiscal_year", unit=UNIT, year=YEAR),
        cmd("register_project", unit=UNIT, code="P1", name="项目一", implementing_units="某公司"),
        cmd(
            "open_budget_line",
            unit=UNIT,
            year=YEAR,
            line="L1",
            title="项目一",
            nature="project",
            function_code="2150805",
            project="P1",
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
        cmd(
            "open_budget_line",
            unit=UNIT,
            year=YEAR,
            line="G1",
            title="公用",
            nature="basic_public",
            function_code="2010301",
        ),
    ]


class Scenario:
    """Drives a ledger with raw command dicts and looks at what was stored."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.handler = CommandHandler(ledger)

    def given(self, *commands: dict[str, Any]) -> Scenario:
        for command in commands:
            self.handler.handle(parse_command(command))
        return self

    def when(self, command: dict[str, Any]) -> CommandResult:
        return self.handler.handle(parse_command(command))

    def stored(self) -> list[tuple[int, str, bytes]]:
        """Every stored record: (notification id, topic, state bytes)."""
        return [
            (n.id, n.topic, n.state)
            for n in self.ledger.recorder.select_notifications(1, 1_000_000)
        ]

    def new_events(self, since: int) -> list[Any]:
        return [e for _, e in self.ledger.read_events(start=since + 1)]
