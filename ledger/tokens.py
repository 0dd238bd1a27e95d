"""API token secrets: made here, shown once, stored only as salted hashes, compared in
constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "ff"
_TOKEN = re.compile(r"^ff_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")


@dataclass(frozen=True)
class NewToken:
    token_id: str
    salt: str
    digest: str
    token: str
    """The whole token; give it to its holder, it is never stored."""


def digest(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def new_token() -> NewToken:
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    return NewToken(token_id, salt, digest(salt, secret), f"{PREFIX}_{token_id}_{secret}")


def split(token: str) -> tuple[str, str] | None:
    """(token id, secret) of a well-formed token, else None."""
    match = _TOKEN.match(token)
    return (match.group(1), match.group(2)) if match else None


def matches(salt: str, expected_digest: str, secret: str) -> bool:
    return hmac.compare_digest(digest(salt, secret), expected_digest)
