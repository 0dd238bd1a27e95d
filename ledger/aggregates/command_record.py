"""The record of a command that was applied, keyed by its namespace, scope and command id.

Saved in the same transaction as the events the command produced, so a command
is either applied and recorded, or neither. A retry finds the record and gets the
original result back; nothing is written twice.

Command ids live in namespaces that cannot collide: a client's ids (CLI, import, HTTP,
web page) are scoped to the unit the command is about — two units may use the same
voucher numbers as command ids — and the ids the system makes itself (the steps of a
year-end close) live in a reserved namespace that no client command can reach, whatever
id it chooses.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.events import business_id

#: Commands sent by people and their programs.
CLIENT = "client"
#: Commands the ledger makes itself (the year-end close); clients cannot send them.
SYSTEM = "system"
#: The scope of commands that concern no unit (API tokens).
NO_UNIT = "-"


class CommandRecord(Aggregate):
    """One applied command: its id, the fingerprint of its content, and its result."""

    class Recorded(Aggregate.Created):
        namespace: str
        """``client`` or ``system`` (the close job's own steps)."""
        scope: str
        """The unit code the command id belongs to (``-`` for commands about no unit)."""
        command_id: str
        command_type: str
        fingerprint: str
        """SHA-256 of the command's canonical content; a retry must match it."""
        result: dict[str, Any]
        """The result returned to the client the first time."""

    def __init__(
        self,
        *,
        namespace: str,
        scope: str,
        command_id: str,
        command_type: str,
        fingerprint: str,
        result: dict[str, Any],
    ) -> None:
        self.namespace = namespace
        self.scope = scope
        self.command_id = command_id
        self.command_type = command_type
        self.fingerprint = fingerprint
        self.result = result

    @staticmethod
    def create_id(namespace: str, scope: str, command_id: str) -> UUID:
        return business_id("command", namespace, scope, command_id)

    @classmethod
    def id_for(cls, namespace: str, scope: str, command_id: str) -> UUID:
        return cls.create_id(namespace, scope, command_id)
