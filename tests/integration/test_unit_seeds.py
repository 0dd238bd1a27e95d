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
from ledger.amount_units import AmountUnit, amounts_in
from ledger.application import Ledger
from ledger.money import parse_amount, wanyuan_str, yuan_str
from projections.books import books_of
from projections.checks import check_year
from projections.final_accounts import final_accounts
from tests.published import differences

SEED = Path(__file__).resolve().parents[2] / "commands" / "seed"
UNITS = ["daying-2022", "xundian-2022"]


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
    # A unit that publishes in 元 is compared with the report in 元 (amount_unit=yuan).
    unit = AmountUnit.YUAN if published["amount_unit"].startswith("元") else AmountUnit.WANYUAN
    with amounts_in(unit):
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


def test_the_three_public_published_in_yuan_are_exact_in_yuan_and_rounded_in_wanyuan(
    ledger: Ledger,
) -> None:
    """寻甸's 三公, published to the fen: the report's 元 twins are the published figures,
    and each 万元 figure beside them is that figure rounded half-up on its own."""
    import_file(CommandHandler(ledger), SEED / "xundian-2022.jsonl")
    published = json.loads((SEED / "xundian-2022-published-figures.json").read_text("utf-8"))
    report = final_accounts(books_of(ledger), "XD-WLJ", 2022)
    detail = report["three_public_expenses_detail"]
    for category, figures in published["three_public_expenses_detail"].items():
        for key, value in figures.items():
            if key.endswith("_yuan"):
                fen = (
                    -parse_amount(value[1:])
                    if value.startswith("-")
                    else parse_amount(value, allow_zero=True)
                )
                assert detail[category][key] == yuan_str(fen), (category, key)
                assert detail[category][key.removesuffix("_yuan")] == wanyuan_str(fen)
    summary = report["three_public_expenses"]
    assert summary["total"] == "2.61"  # 26,085.58 元
    assert summary["vehicle_operation"] == "2.30"  # 23,005.58 元
    assert summary["official_reception"] == "0.31"  # 3,080 元
    assert summary["change_from_prior_year"] == "-1.90"  # −18,987.42 元
    assert summary["budget"] == {
        "total": "2.71",  # 27,080 元
        "overseas_travel": "0.00",
        "vehicle_purchase": "0.00",
        "vehicle_operation": "2.40",
        "official_reception": "0.31",
    }
    assert report["prior_year_comparison"]["origin"]["three_public"] == "published"
    assert report["prior_year_comparison"]["origin"]["income_total"] == "none"
    assert report["overview"]["income_total_change_from_prior_year"] is None
