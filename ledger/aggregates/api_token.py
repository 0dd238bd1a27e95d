"""An API token of the service: who it is, in which role, with which clearance.

Only a salted hash of the token's secret is stored; the token itself is shown once,
when it is issued. Issuing and revoking are events like any other.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.events import PostedCreation, PostedEvent, business_id


class ApiToken(Aggregate):
    """A token, named by its public id (the part of the token before the secret)."""

    class Issued(PostedCreation):
        token_id: str
        identity: str
        """Who acts with the token; recorded as ``posted_by`` of what it posts."""
        role: str
        clearance: bool
        """May see classified (涉密) projects in detail."""
        units: list[str]
        """Codes of the units the token may act in and read; empty: every unit."""
        salt: str
        digest: str
        """SHA-256 of salt and secret, hex."""

    class Revoked(PostedEvent):
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.revoked = True

    def __init__(
        self,
        *,
        token_id: str,
        identity: str,
        role: str,
        clearance: bool,
        units: list[str],
        salt: str,
        digest: str,
        **_meta: Any,
    ) -> None:
        self.token_id = token_id
        self.identity = identity
        self.role = role
        self.clearance = clearance
        self.units = list(units)
        self.salt = salt
        self.digest = digest
        self.revoked = False

    @staticmethod
    def create_id(token_id: str) -> UUID:
        return business_id("token", token_id)

    @classmethod
    def id_for(cls, token_id: str) -> UUID:
        return cls.create_id(token_id)

    def revoke(self, reason: str, **meta: Any) -> None:
        if not self.revoked:
            self.trigger_event(self.Revoked, reason=reason, **meta)
