"""The real units beside the seed, replayed through the clerk's command path into a fresh
SQLite and a fresh PostgreSQL store: every figure of each published-figures file is
reproduced, except the ones the published report gets wrong (there the ledger gives the
consistent value), and every identity holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.application import Ledger
from projections.books import books_of
from projections.checks import check_year
from projections.final_accounts import final_accounts
from tests.published import differences

SEED = Path(__file__).resolve().parents[2] / "commands" / "seed"
UNITS = ["daying-2022"]


def _inconsistencies(published: dict[str, object]) -> dict[str, str]:
    entries = published.get("known_inconsistencies_in_the_published_report", [])
    assert isinstance(entries, list)
    return {e["where"]: e["consistent_value"] for e in entries}


@pytest.mark.parametrize("name", UNITS)
def test_every_published_figure_of_the_unit_is_reproduced(ledger: Ledger, name: str) -> None:
    outcome = import_file(CommandHandler(ledger), SEED / f"{name}.jsonl")
    assert outcome.ok, (outcome.failed_line, outcome.error)
    published = json.loads((SEED / f"{name}-published-figures.json").read_text("utf-8"))
    books = books_of(ledger)
    report = final_accounts(books, published["unit"], published["fiscal_year"])

    found = {path: ours for path, _, ours in differences(published, report)}
    assert found == _inconsistencies(published)
    failing = [c for c in check_year(books, published["unit"], published["fiscal_year"])]
    assert all(c.ok for c in failing), [c for c in failing if not c.ok]
    assert sum(books.balances_by_account_kind().values()) == 0


def test_the_take_on_and_the_other_income_are_in_the_books(ledger: Ledger) -> None:
    import_file(CommandHandler(ledger), SEED / "daying-2022.jsonl")
    report = final_accounts(books_of(ledger), "DY-WGLJ", 2022)
    assert report["overview"]["opening_carryover_and_balance"] == "18.42"
    assert report["overview"]["closing_carryover_and_balance"] == "0.00"
    assert report["fiscal_appropriation"]["current_year_income"] == "3859.16"
    assert report["fiscal_appropriation"]["current_year_expenditure"] == "3877.58"
