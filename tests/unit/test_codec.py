"""The orjson event codec reads and writes exactly what the library's JSON codec does."""

from __future__ import annotations

import json
from pathlib import Path

from eventsourcing.persistence import JSONTranscoder

from commands.cli import seed_path
from commands.closing import close_year
from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.application import Ledger
from ledger.closing.policy import load_policy
from ledger.codec import OrjsonTranscoder
from ledger.composition import Services
from ledger.roles import Actor, Role
from scripts.generate import generate


def test_every_kind_of_event_round_trips_and_reads_the_same_with_either_codec(
    memory_ledger: Ledger, tmp_path: Path
) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text("\n".join(generate(2, 8, 120, 2024, 7)) + "\n", encoding="utf-8")
    handler = CommandHandler(memory_ledger)
    assert import_file(handler, seed_path()).ok
    assert import_file(handler, history, batch_size=100, close_steps=True).ok
    close_year(
        Services.of(memory_ledger),
        "U00000",
        2024,
        policy=load_policy(),
        actor=Actor("结账", Role.CLOSER),
    )
    stdlib = JSONTranscoder()
    memory_ledger.register_transcodings(stdlib)
    ours = memory_ledger.mapper.transcoder
    assert isinstance(ours, OrjsonTranscoder)
    kinds = set()
    for _, event in memory_ledger.read_events():
        kinds.add(type(event).__name__)
        stored = memory_ledger.mapper.to_stored_event(event)
        again = memory_ledger.mapper.to_domain_event(stored)
        assert again.__dict__ == event.__dict__, type(event).__name__
        assert {type(v) for v in again.__dict__.values()} == {
            type(v) for v in event.__dict__.values()
        }
        assert stdlib.decode(stored.state) == ours.decode(stored.state)
        assert json.loads(stored.state) == json.loads(stdlib.encode(ours.decode(stored.state)))
    assert kinds & {"CarriedOver", "Lapsed"}
    assert {"Disbursed", "EntryReversed", "ClawedBack", "Closed", "Recorded"} <= kinds
