"""The synthetic history generator: deterministic, and what it writes imports cleanly
and keeps every identity."""

from __future__ import annotations

from pathlib import Path

from eventsourcing.application import project_aggregate

from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.aggregates import BudgetLine
from ledger.application import Ledger
from ledger.classifications import Nature
from projections.books import books_of
from projections.checks import check_year
from scripts.generate import generate


def test_the_same_arguments_write_the_same_history() -> None:
    assert list(generate(2, 5, 30, 2024, 7)) == list(generate(2, 5, 30, 2024, 7))
    assert list(generate(2, 5, 30, 2024, 7)) != list(generate(2, 5, 30, 2024, 8))


def test_a_generated_history_imports_and_balances(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(generate(3, 6, 80, 2024, 1)) + "\n", encoding="utf-8")
    outcome = import_file(CommandHandler(ledger), path, batch_size=250, close_steps=True)
    assert outcome.ok, (outcome.failed_line, outcome.error)
    books = books_of(ledger)
    assert len(books.units) == 3 and len(books.lines) == 18
    for unit in books.units:
        assert [c for c in check_year(books, unit, 2024) if not c.ok] == []
    classified = [p for p in books.projects.values() if p.classified]
    hot = max(ln.totals.spent for ln in books.lines.values())
    assert hot > 3 * min(ln.totals.spent for ln in books.lines.values())  # hot lines
    assert classified == [] or all(p.code.endswith("19") for p in classified)


def test_one_transaction_of_thousands_of_events(ledger: Ledger, tmp_path: Path) -> None:
    """Thousands of events in one save (the library's own PostgreSQL recorder stalls on
    more than about a thousand; fundflow's stores them in a fixed number of statements)."""
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(generate(1, 4, 2500, 2024, 3)) + "\n", encoding="utf-8")
    outcome = import_file(CommandHandler(ledger), path, batch_size=10_000, close_steps=True)
    assert outcome.ok and ledger.position() > 5000


def test_several_years_close_carry_over_and_balance(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "years.jsonl"
    path.write_text("\n".join(generate(2, 6, 60, 2023, 5, years=3)) + "\n", encoding="utf-8")
    outcome = import_file(CommandHandler(ledger), path, batch_size=500, close_steps=True)
    assert outcome.ok, (outcome.failed_line, outcome.error)
    books = books_of(ledger)
    assert {y for (_, y) in books.years} == {2023, 2024, 2025}
    assert all(
        books.years[(u, y)].status.value == "closed" for u in books.units for y in (2023, 2024)
    )
    carried = [ln for ln in books.lines.values() if ln.totals.carried_in]
    assert carried and all(ln.year > 2023 for ln in carried)
    for unit in books.units:
        for year in (2023, 2024, 2025):
            assert [c for c in check_year(books, unit, year) if not c.ok] == []


def test_long_lines_are_rebuilt_from_snapshots(ledger: Ledger, tmp_path: Path) -> None:
    """A hot line takes thousands of payments: it is snapshotted, and rebuilt from its last
    snapshot to the same state as from its first event."""
    path = tmp_path / "hot.jsonl"
    path.write_text("\n".join(generate(1, 3, 1600, 2024, 4)) + "\n", encoding="utf-8")
    assert import_file(CommandHandler(ledger), path, batch_size=700, close_steps=True).ok
    hot = BudgetLine.id_for("U00000", 2024, "JB-U00000-RY")
    snapshots = list(ledger.snapshots.get(hot)) if ledger.snapshots else []
    assert len(snapshots) >= 1
    from_events = project_aggregate(None, ledger.events.get(hot))
    assert from_events is not None
    # with a version the repository reads the store (its last snapshot), not its cache
    from_snapshot = ledger.repository.get(hot, version=from_events.version)
    assert from_snapshot.version == from_events.version > snapshots[-1].originator_version
    assert vars(from_snapshot) == vars(from_events)
    assert from_snapshot.nature is Nature.BASIC_PERSONNEL
