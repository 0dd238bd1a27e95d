"""The command line of tamper evidence: ``audit verify`` (the keyed chain and its anchors),
``chain-key new`` (make or rotate the key file) and the head file written beside a backup.
``commands.cli`` wires these in."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from ledger.application import Ledger
from ledger.chain_key import ChainKeyError, add_key
from ledger.datastores import database_name, datastore_of
from ledger.hash_chain import Anchor, Checkpoint, Head, check_anchors, verify
from ledger.seals import seals_in

UNKEYED_WARNING = (
    "WARNING: the hash chain is unkeyed (plain SHA-256, no FUNDFLOW_CHAIN_KEY_FILE): it "
    "detects accidental damage only. Anyone who can write to the database can rewrite an "
    "event and recompute the chain. Set up a chain key (`fundflow chain-key new FILE`, see "
    "SECURITY.md) and file the head below where the database operator cannot write."
)


@dataclass
class Outcome:
    """What ``audit verify`` found: exit status 0 (holds), 1 (tampered), 2 (cannot tell)."""

    status: int
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_heads(texts: list[str]) -> list[Anchor]:
    """``--expect-head`` values as anchors; a malformed one is a usage error (exit 2)."""
    anchors = []
    for text in texts:
        try:
            anchors.append(Anchor(Head.parse(text), "the expected head"))
        except ValueError as error:
            typer.echo(f"rejected: {error}", err=True)
            raise typer.Exit(2) from None
    return anchors


def _store_key(ledger: Ledger) -> str:
    """The database a checkpoint belongs to, named without a password (read off the
    ledger's datastore, so a checkpoint follows the database, not how it was named)."""
    return database_name(datastore_of(ledger.recorder))


def read_checkpoint(state: Path, ledger: Ledger) -> Checkpoint | None:
    """The checkpoint the last successful ``audit verify`` of this database left in
    ``state`` (None if there is none)."""
    try:
        saved = json.loads(state.read_text(encoding="utf-8")).get(_store_key(ledger))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError) as error:
        raise ValueError(f"the verify state file {state} cannot be read: {error}") from None
    if saved is None:
        return None
    return Checkpoint(
        Head.parse(saved["head"]),
        tuple(saved["key_ids"]),
        int(saved["unkeyed"]),
        int(saved["events"]),
    )


def write_checkpoint(state: Path, ledger: Ledger, checkpoint: Checkpoint) -> None:
    """Record ``checkpoint`` for this database in ``state`` (readable by its owner only;
    replaced whole, so a crash leaves the old one)."""
    try:
        saved = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = {}
    saved[_store_key(ledger)] = {
        "head": str(checkpoint.head),
        "key_ids": list(checkpoint.key_ids),
        "unkeyed": checkpoint.unkeyed,
        "events": checkpoint.events,
    }
    fresh = state.with_name(state.name + ".new")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(saved, handle, indent=1)
    fresh.replace(state)


def audit_chain(
    ledger: Ledger,
    expected: list[Anchor],
    *,
    state: Path | None = None,
    full: bool = False,
) -> Outcome:
    """Verify the chain with the ledger's key, then every expected head and every seal.
    With a ``state`` file, go on from the checkpoint the last successful run of this
    database left there (unless ``full``), and leave the new one."""
    since = None if state is None or full else read_checkpoint(state, ledger)
    result = verify(ledger.recorder, since)
    if not result.ok:
        if result.unverifiable:
            return Outcome(2, [f"CANNOT VERIFY: {result.problem}"])
        return Outcome(
            1, [f"TAMPERED: {result.problem} ({result.events} events verified before it)"]
        )
    # the seals an earlier run checked were checked against links it verified
    seals = seals_in(ledger, start=1 if since is None else since.head.position + 1)
    problems = check_anchors(ledger.recorder, [*expected, *seals])
    if problems:
        return Outcome(1, [f"TAMPERED: {p}" for p in problems])
    outcome = Outcome(0)
    if state is not None:
        write_checkpoint(state, ledger, Checkpoint.of(result))
    if since is not None:
        outcome.lines.append(
            f"went on from event {since.head.position}, verified by an earlier run "
            "(--full verifies from the first event)"
        )
    if result.keyed:
        keys = ", ".join(result.key_ids)
        outcome.lines.append(
            f"the chain holds: {result.events} events verified with the chain key ({keys})"
        )
        if result.unkeyed:
            outcome.lines.append(
                f"the first {result.unkeyed} links were made before the chain key was set up "
                "(plain SHA-256); the first keyed link covers them"
            )
    elif not result.events:
        outcome.lines.append("the log is empty: nothing to verify")
    else:
        outcome.lines.append(f"the chain holds: {result.events} events verified (unkeyed)")
        outcome.warnings.append(UNKEYED_WARNING)
    if expected:
        outcome.lines.append(f"{len(expected)} expected head(s) match the log")
    if seals:
        outcome.lines.append(f"{len(seals)} seal(s) of year-end closes match the log")
    outcome.lines.append(f"head: {result.head}")
    return outcome


def write_head_file(head: Head | None, dump: Path) -> Path | None:
    """Record ``head`` (read before the dump was taken, so the dump holds it) beside a
    backup, as ``<dump>.head``: the restored log must hold the same link there."""
    if head is None:
        return None
    path = dump.with_name(dump.name + ".head")
    path.write_text(f"{head}\n", encoding="ascii")
    return path


chain_key_app = typer.Typer(
    help="The hash chain's key (FUNDFLOW_CHAIN_KEY_FILE; see SECURITY.md).",
    no_args_is_help=True,
)


@chain_key_app.command("new")
def chain_key_new(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="The key file.")],
    key_id: Annotated[
        str | None, typer.Option("--id", help="Key id (default: k<today>, e.g. k20240101).")
    ] = None,
) -> None:
    """Make a new random chain key: a new key file (mode 0600), or, if FILE exists, its next
    key (rotation: new links use it; the old keys stay so old links still verify)."""
    existed = file.exists()
    try:
        key = add_key(file, key_id)
    except ChainKeyError as error:
        typer.echo(f"rejected ({error.code}): {error.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{'added' if existed else 'wrote'} key {key.id} to {file}; it is now the current key. "
        f"Set FUNDFLOW_CHAIN_KEY_FILE={file} for every fundflow process, keep a copy offline, "
        "and never store it in the database or beside its backups."
    )
