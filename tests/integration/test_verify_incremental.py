"""``audit verify`` with a state file goes on from where its last successful run ended
(the checkpoint, kept outside the database): it recomputes only the events appended
since, refuses when the link at the checkpoint is no longer the one it verified, and
``--full`` verifies everything again. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from commands.chain_cli import audit_chain, read_checkpoint
from commands.cli import seed_path
from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.aggregates import BudgetLine
from ledger.chain_key import add_key
from ledger.composition import build_ledger
from ledger.hash_chain import chain_head, verify
from ledger.settings import Settings
from tests.forgery import Forger
from tests.scenario import Scenario, cmd

UNIT, LINE = "CJ-SWGXJ", "JB-2010301-RY"


def test_verify_goes_on_from_its_checkpoint(database_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "chain.key"
    add_key(key_file, "k2024")
    state = tmp_path / "verified.json"
    ledger = build_ledger(Settings(database_url=database_url, chain_key_file=key_file))
    try:
        assert import_file(CommandHandler(ledger), seed_path()).ok
        first = audit_chain(ledger, [], state=state)
        assert first.status == 0 and not any("went on" in line for line in first.lines)
        checkpoint = read_checkpoint(state, ledger)
        assert checkpoint is not None and checkpoint.head == chain_head(ledger.recorder)
        assert state.stat().st_mode & 0o077 == 0

        Scenario(ledger).given(cmd("allocate_budget", unit=UNIT, year=2022, line=LINE, amount="5"))
        again = audit_chain(ledger, [], state=state)
        assert again.status == 0
        assert f"went on from event {checkpoint.head.position}" in again.lines[0]
        assert again.lines[-1] == f"head: {chain_head(ledger.recorder)}"
        whole = verify(ledger.recorder)
        assert read_checkpoint(state, ledger) is not None
        assert read_checkpoint(state, ledger).events == whole.events  # type: ignore[union-attr]

        # an event appended behind the ledger's back, after the checkpoint: caught
        forger = Forger(database_url)
        forger.forge_payment(BudgetLine.id_for(UNIT, 2022, LINE), 100)
        caught = audit_chain(ledger, [], state=state)
        assert caught.status == 1 and "has no hash" in caught.lines[0]
    finally:
        ledger.close()


def test_a_rewritten_checkpoint_link_is_caught_and_full_reverifies(
    database_url: str, tmp_path: Path
) -> None:
    state = tmp_path / "verified.json"
    ledger = build_ledger(Settings(database_url=database_url))
    try:
        assert import_file(CommandHandler(ledger), seed_path()).ok
        assert audit_chain(ledger, [], state=state).status == 0
        forger = Forger(database_url)
        rewritten = forger.rewrite_payee("影子公司")  # before the checkpoint, chain kept
        # the incremental run does not look back (the checkpoint vouches for it) …
        assert audit_chain(ledger, [], state=state).status == 0
        # … --full does
        full = audit_chain(ledger, [], state=state, full=True)
        assert full.status == 1 and f"event {rewritten}" in full.lines[0]

        head = chain_head(ledger.recorder)
        assert head is not None
        with forger._cursor() as c:  # the link at the checkpoint itself, rewritten
            c.execute(
                forger._sql("UPDATE {hashes} SET hash = %s WHERE notification_id = %s"),
                ("f" * 64, head.position),
            )
        moved = audit_chain(ledger, [], state=state)
        assert moved.status == 1 and "not the one verified last time" in moved.lines[0]
    finally:
        ledger.close()
