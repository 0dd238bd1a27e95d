"""The record of a command that was applied, keyed by the client's command id.

Saved in the same transaction as the events the command produced, so a command
is either applied and recorded, or neither. A retry finds the record and gets the
original result back; nothing is written twice.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.events import business_id


class CommandRecord(Aggregate):
    """One applied command: its id, the fingerprint of its content, and its result."""

    class Recorded(Aggregate.Created):
        command_id: str
        command_type: str
        fingerprint: str
        """SHA-256 of the command's canonical content; a retry must match it."""
        result: dict[str, Any]
        """The result returned to the client the first time."""

    def __init__(
        self, *, command_id: str, command_type: str, fingerprint: str, result: dict[str, Any]
    ) -> None:
        self.command_id = command_id
        self.command_type = command_type
        self.fingerprint = fingerprint
        self.result = result

    @staticmethod
    def create_id(command_id: str) -> UUID:
        return business_id("command", command_id)

    @classmethod
    def id_for(cls, command_id: str) -> UUID:
        return cls.create_id(command_id)
