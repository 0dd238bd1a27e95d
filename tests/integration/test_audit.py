"""Auditors on the seed (SQLite and PostgreSQL): reconciliation against the published
report, and audit trails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commands.cli import seed_path
from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.application import Ledger
from projections.audit_trail import audit_trail
from projections.books import books_of
from projections.final_accounts import final_accounts
from projections.reconcile import reconcile
from tests.published import differences, unexplained_differences

UNIT = "CJ-SWGXJ"


@pytest.fixture
def seeded(ledger: Ledger) -> Ledger:
    assert import_file(CommandHandler(ledger), seed_path()).ok
    return ledger


def test_reconciliation_flags_exactly_the_known_inconsistencies(
    seeded: Ledger, published_path: Path
) -> None:
    published = json.loads(published_path.read_text(encoding="utf-8"))
    report = final_accounts(books_of(seeded), UNIT, 2022)
    result = reconcile(published, report)
    assert result["figures"] == result["matching"] + result["differing"] > 500
    flagged = {d["figure"] for d in result["differences"]}
    assert flagged == {path for path, _, _ in differences(published, report)}
    # Every flagged figure is one the published report gets wrong, and nothing else is.
    assert unexplained_differences(published, report) == {}
    assert "by_function_item[2010399].amount" in flagged
    assert "overview.income_total" not in flagged


def test_trail_of_a_project_shows_who_when_and_why(seeded: Ledger) -> None:
    books = books_of(seeded)
    trail = audit_trail(seeded.read_events(), books, unit=UNIT, project="P02")
    assert trail[0]["type"] == "Project.Registered"
    clawback = trail[-1]
    assert clawback["type"] == "BudgetLine.ClawedBack"
    assert (clawback["amount"], clawback["business_date"]) == ("39200.00", "2022-12-20")
    assert clawback["document_no"].startswith("昌市财收回") and clawback["posted_by"] == "会计-王芳"
    positions = [e["position"] for e in trail]
    assert positions == sorted(positions)


def test_trail_of_a_line_shows_what_a_correction_corrects(seeded: Ledger) -> None:
    books = books_of(seeded)
    trail = audit_trail(seeded.read_events(), books, unit=UNIT, year=2022, line="JB-2010301-GY")
    reversal = next(e for e in trail if e["type"] == "BudgetLine.EntryReversed")
    corrected = next(e for e in trail if e["command_id"] == reversal["corrects"]["command_id"])
    assert corrected["amount"] == reversal["amount"] == "2000.00"
    assert corrected["position"] < reversal["position"]


def test_trail_of_an_enterprise(seeded: Ledger) -> None:
    books = books_of(seeded)
    trail = audit_trail(seeded.read_events(), books, unit=UNIT, enterprise="特变电工股份有限公司")
    assert [e["amount"] for e in trail] == [
        "30000000.00",
        "6000000.00",
        "10830000.00",
    ]  # Apr, May, Sep
