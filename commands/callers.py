"""Who calls the service, and the one way the service posts a command: shared by the
HTTP API (``commands.api``) and the web page (``commands.web``) so that both take the
token's identity, role, unit scope and clearance alike, and post through the same
writer (group commit) or handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commands.group_commit import GroupCommitter
from commands.handlers import CommandHandler, CommandResult
from commands.models import AnyCommand
from ledger import tokens
from ledger.aggregates import ApiToken
from ledger.application import Ledger
from ledger.roles import Actor, Role

#: Retries of a command whose line other clerks keep changing, before a 409.
SERVICE_MAX_ATTEMPTS = 40


@dataclass(frozen=True)
class Caller:
    """Who is calling, as their token says."""

    actor: Actor
    clearance: bool
    token_id: str = ""


def caller_of_token(ledger: Ledger, token_text: str) -> Caller | None:
    """The caller a token (``ff_<id>_<secret>``) stands for; ``None`` unless it is a valid,
    unrevoked token."""
    parts = tokens.split(token_text.strip())
    if parts is None:
        return None
    token = ledger.find(ApiToken, ApiToken.id_for(parts[0]))
    if token is None or token.revoked or not tokens.matches(token.salt, token.digest, parts[1]):
        return None
    return _caller(token, parts[0])


def caller_of_token_id(ledger: Ledger, token_id: str) -> Caller | None:
    """The caller of a token already proven (a signed-in session names it by id): ``None``
    once it is revoked or unknown."""
    token = ledger.find(ApiToken, ApiToken.id_for(token_id))
    if token is None or token.revoked:
        return None
    return _caller(token, token_id)


def _caller(token: ApiToken, token_id: str) -> Caller:
    units = frozenset(token.units) if token.units else None
    actor = Actor(token.identity, Role(token.role), units=units, clearance=token.clearance)
    return Caller(actor, token.clearance, token_id)


def submit(state: Any, command: AnyCommand, actor: Actor) -> CommandResult:
    """Post ``command`` as ``actor`` through the service's writer (``state.committer``,
    when group commit is on) or a handler of its own."""
    committer: GroupCommitter | None = getattr(state, "committer", None)
    if committer is not None:
        return committer.submit(command, actor)
    handler = CommandHandler(state.services.ledger, actor=actor, max_attempts=SERVICE_MAX_ATTEMPTS)
    return handler.handle(command)
