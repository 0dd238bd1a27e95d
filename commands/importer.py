"""JSON Lines import: one command per line, in exactly the schema the handlers take.

Each line is applied on its own (its events and its command record in one
transaction). The import reports per line what happened and stops at the first
rejected line, naming its number and the reason; the lines before it stay applied,
and running the same file again skips them (same command ids) and carries on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from commands.handlers import CommandHandler, CommandResult
from commands.json_input import DuplicateKey, TooDeep, strict_loads
from commands.models import AnyCommand, parse_command
from ledger.errors import InvalidInput, LedgerError

#: Longest accepted line (bytes): a command is a few hundred bytes.
MAX_LINE_BYTES = 64 * 1024
#: Most commands stored in one transaction: bigger batches hold the log's write lock longer
#: (other clerks wait) for little more speed. (Fundflow's recorder stores a batch in a fixed
#: number of statements; the library's own stalls on saves of more than ~1,000 events.)
MAX_BATCH = 5000


@dataclass
class ImportOutcome:
    """What an import did: counts, and the rejected line if any. (Each line's result goes
    to ``on_result`` as it comes: an import of millions of lines keeps none of them.)"""

    applied: int = 0
    already_applied: int = 0
    failed_line: int | None = None
    error: LedgerError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def read_lines(path: Path) -> Iterable[tuple[int, bytes]]:
    """Numbered raw lines of a file (1-based)."""
    with path.open("rb") as handle:
        yield from enumerate(handle, start=1)


def decode_line(number: int, raw: bytes) -> object | None:
    """The JSON value of one line, None for a blank line; InvalidInput if unreadable."""
    if len(raw) > MAX_LINE_BYTES:
        raise InvalidInput(f"line {number} is longer than {MAX_LINE_BYTES} bytes")
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(
            f"line {number} is not UTF-8 text (was the file saved as GBK? save it as UTF-8)"
        ) from None
    if not text.strip():
        return None
    try:
        return strict_loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"line {number} is not valid JSON: {error.msg}") from None
    except DuplicateKey as error:
        raise InvalidInput(f"line {number} names the field {error} twice") from None
    except TooDeep as error:
        raise InvalidInput(f"line {number} is {error}: no command is shaped like that") from None


def import_file(
    handler: CommandHandler,
    path: Path,
    *,
    on_result: Callable[[int, CommandResult], None] | None = None,
    batch_size: int = 1,
    close_steps: bool = False,
) -> ImportOutcome:
    """Apply every command of a JSON Lines file, stopping at the first rejected line.

    With ``batch_size`` > 1 the lines are stored ``batch_size`` (at most ``MAX_BATCH``) at
    a time, each batch in one transaction (group commit): much faster, with the same
    outcome — the lines before a rejected one are stored, it and the rest are not.
    With ``close_steps`` the file may hold the steps of year-end closes made elsewhere (a
    migrated or generated history; the handler admits them from admins only).
    """
    outcome = ImportOutcome()
    batch_size = min(batch_size, MAX_BATCH)
    pending: list[tuple[int, AnyCommand]] = []

    def flush() -> bool:
        if not pending:
            return True
        batch = handler.handle_batch([c for _, c in pending])
        for (number, _), result in zip(pending, batch.results, strict=False):
            if result.status == "applied":
                outcome.applied += 1
            else:
                outcome.already_applied += 1
            if on_result is not None:
                on_result(number, result)
        if batch.error is not None and batch.failed_index is not None:
            outcome.failed_line = pending[batch.failed_index][0]
            outcome.error = batch.error
        pending.clear()
        return outcome.error is None

    for number, raw in read_lines(path):
        try:
            data = decode_line(number, raw)
            if data is None:
                continue
            command = parse_command(data, close_steps=close_steps)
        except LedgerError as error:
            if flush():
                outcome.failed_line, outcome.error = number, error
            return outcome
        if batch_size <= 1:
            try:
                result = handler.handle(command)
            except LedgerError as error:
                outcome.failed_line, outcome.error = number, error
                return outcome
            outcome.applied += result.status == "applied"
            outcome.already_applied += result.status != "applied"
            if on_result is not None:
                on_result(number, result)
            continue
        pending.append((number, command))
        if len(pending) >= batch_size and not flush():
            return outcome
    flush()
    return outcome
