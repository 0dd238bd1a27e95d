"""The benchmark's peer: the same history as a beancount journal reaches the same
balances as the ledger's replay."""

from __future__ import annotations

from pathlib import Path

from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.application import Ledger
from projections.books import books_of
from scripts.generate import generate
from scripts.peer_beancount import balances, line_key, write_journal


def test_beancount_and_the_ledger_agree_on_every_line(
    memory_ledger: Ledger, tmp_path: Path
) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text("\n".join(generate(2, 6, 200, 2023, 3, years=2)) + "\n", encoding="utf-8")
    assert import_file(CommandHandler(memory_ledger), history, batch_size=500, close_steps=True).ok
    journal = tmp_path / "history.beancount"
    write_journal(history, journal)
    theirs = balances(journal)
    ours = {
        line_key(ln.unit_code, ln.year, ln.code): ln.totals.available
        for ln in books_of(memory_ledger).lines.values()
    }
    assert set(theirs) == set(ours)
    assert theirs == ours
    assert any(theirs.values())  # the last year is open: money is left on lines
