"""The seed, replayed: the bureau's 2022, posted through the clerk's command path into a
fresh SQLite and a fresh PostgreSQL store, reproduces every published figure — except the
ones the published report gets wrong, where the ledger gives the consistent value."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from commands.cli import seed_path
from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.application import Ledger
from projections.books import books_of
from projections.execution import execution_report
from projections.final_accounts import final_accounts
from tests.published import unexplained_differences

UNIT = "昌吉市商务和工业信息化局"


@pytest.fixture(params=[1, 64], ids=["line-by-line", "batched"])
def seeded(ledger: Ledger, request: pytest.FixtureRequest) -> Ledger:
    outcome = import_file(CommandHandler(ledger), seed_path(), batch_size=request.param)
    assert outcome.ok, (outcome.failed_line, outcome.error)
    assert outcome.applied > 300
    return ledger


def test_every_published_figure_is_reproduced(seeded: Ledger, published_path: Path) -> None:
    published = json.loads(published_path.read_text(encoding="utf-8"))
    report = final_accounts(books_of(seeded), UNIT, 2022)

    found = unexplained_differences(published, report)
    initial = sum(Decimal(p["funds"]["total"]["initial_budget"] or 0) for p in report["projects"])
    assert initial == Decimal("47.46")  # 30 + 7.46 + 10; the rest (537.48) is basic lines
    assert report["fiscal_appropriation"]["initial_budget_income_total"] == "584.94"

    assert found == {}


def test_the_inconsistent_published_figures_hold_their_consistent_values(seeded: Ledger) -> None:
    report = final_accounts(books_of(seeded), UNIT, 2022)
    basic = report["basic_expenditure"]
    # Each figure rounded on its own: 710.81 + 19.28 ≠ 730.08, and that is right.
    assert (basic["personnel"], basic["public_operating"], basic["total"]) == (
        "710.81",
        "19.28",
        "730.08",
    )
    items = {i["code"]: i for i in report["by_function_item"]}
    assert items["2010399"]["amount"] == "53.08"
    assert items["2299999"]["change_pct"] == "-6.59"
    assert items["2169999"]["change_pct"] == "904.01"
    classes = {c["code"]: c for c in report["by_function_class"]}
    assert classes["201"]["share_pct"] == "5.88"
    assert report["three_public_expenses"]["budget_to_final_variance_pct"] == "-33.85"


def test_execution_and_funds_scores(seeded: Ledger) -> None:
    report = execution_report(books_of(seeded), UNIT, 2022)
    projects = {p["name"]: p for p in report["projects"]}
    assert len(projects) == 20
    zhaoshang = projects["招商引资工作经费"]["funds"]["total"]
    assert zhaoshang == {
        "initial_budget": "30.00",
        "full_year_budget": "26.08",
        "executed": "26.08",
    }
    yewu = projects["业务经费"]["funds"]["total"]
    assert yewu == {"initial_budget": "10.00", "full_year_budget": "8.74", "executed": "8.74"}
    assert all(p["execution_rate_pct"] == "100.00" for p in report["projects"])
    assert all(p["funds_score"] == "10.00" for p in report["projects"])
    secret = projects["（涉密项目，未公开）"]
    assert secret["implementing_units"] is None and "current_year_fiscal" not in secret["funds"]
    assert all(ln["available"] == "0.00" for ln in report["lines"])


def test_the_clawed_back_projects_show_their_original_budgets_before_the_clawback(
    seeded: Ledger,
) -> None:
    from datetime import date

    before = execution_report(
        books_of(seeded, as_of_date=date(2022, 12, 19)), UNIT, 2022, clearance=True
    )
    projects = {p["name"]: p["funds"]["total"] for p in before["projects"]}
    assert projects["招商引资工作经费"]["full_year_budget"] == "30.00"
    assert projects["业务经费"]["full_year_budget"] == "10.00"


def test_double_entry_accounts_balance_after_the_seed(seeded: Ledger) -> None:
    kinds = books_of(seeded).balances_by_account_kind()
    assert sum(kinds.values()) == 0
    assert kinds["returned"] == 51_800_00  # 3.92万 + 1.26万 = 51,800 yuan, in fen
    assert kinds["available"] == 0
    assert kinds["paid"] == 110_507_449_00  # 11050.74万: everything executed
    assert -kinds["issued"] == kinds["paid"] + kinds["returned"]


def test_reports_as_of_a_log_position(seeded: Ledger) -> None:
    """What the books said just before the two clawbacks were recorded (the last two events
    of the seed, each followed by its command record)."""
    last = seeded.position()
    positions = [pos for pos, _ in seeded.read_events()]
    before = execution_report(
        books_of(seeded, as_of_position=positions[-5]), UNIT, 2022, clearance=True
    )
    projects = {p["name"]: p["funds"]["total"] for p in before["projects"]}
    assert projects["招商引资工作经费"]["full_year_budget"] == "30.00"
    assert projects["业务经费"]["full_year_budget"] == "10.00"
    assert books_of(seeded, as_of_position=last).position == last
