"""The chain key: the secret that makes the hash chain impossible to recompute from inside
the database.

The key file (named by ``FUNDFLOW_CHAIN_KEY_FILE``, read once by the composition root)
holds one key per line, ``<id>:<hex secret>``; blank lines and ``#`` comments are
ignored. The last key is the current one: new links are made with it. Older keys stay in
the file so that the links they made still verify (key rotation: append a new key, never
remove an old one while its links are in the log). The key never goes into the database.

The file must be readable by its owner only (mode 0600 or 0400): a key that other users
can read is no secret, and fundflow refuses to start with it.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ledger.errors import LedgerError

#: What a key id may look like: it is stored in front of every link the key made.
KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
#: The shortest secret accepted, in bytes (HMAC-SHA-256 gains nothing beyond 64).
MIN_SECRET_BYTES = 32


class ChainKeyError(LedgerError):
    """The key file is missing, unreadable, readable by others or malformed."""

    code = "chain_key_invalid"


class ChainKeyRequired(LedgerError):
    """A write to a log whose chain is keyed, by a process that has no key: it would
    write links nobody can tell from forged ones, so it is refused."""

    code = "chain_key_required"


@dataclass(frozen=True)
class ChainKey:
    id: str
    secret: bytes

    def __repr__(self) -> str:  # never print the secret
        return f"ChainKey({self.id!r})"


@dataclass(frozen=True)
class Keyring:
    """The keys of a key file, oldest first; the last is the one new links are made with."""

    keys: tuple[ChainKey, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise ChainKeyError("a keyring needs at least one key")

    @property
    def current(self) -> ChainKey:
        return self.keys[-1]

    def get(self, key_id: str) -> ChainKey | None:
        return next((k for k in self.keys if k.id == key_id), None)

    @property
    def ids(self) -> list[str]:
        return [k.id for k in self.keys]


def parse_keyring(text: str, source: str = "the key file") -> Keyring:
    """The keys written in ``text`` (the key file's format); refuse anything else."""
    keys: list[ChainKey] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key_id, sep, secret_hex = line.partition(":")
        where = f"{source}, line {number}"
        if not sep or not KEY_ID.match(key_id):
            raise ChainKeyError(
                f"{where}: expected <id>:<hex secret>, the id of 1 to 40 letters, digits, "
                "'.', '_' or '-' (the secret is not shown)"
            )
        try:
            secret = bytes.fromhex(secret_hex)
        except ValueError:
            raise ChainKeyError(f"{where}: the secret of key {key_id!r} is not hex") from None
        if len(secret) < MIN_SECRET_BYTES:
            raise ChainKeyError(
                f"{where}: the secret of key {key_id!r} has {len(secret)} bytes; at least "
                f"{MIN_SECRET_BYTES} are needed (make one with `fundflow chain-key new`)"
            )
        if any(k.id == key_id for k in keys):
            raise ChainKeyError(f"{where}: key id {key_id!r} appears twice")
        keys.append(ChainKey(key_id, secret))
    if not keys:
        raise ChainKeyError(f"{source} holds no key (make one with `fundflow chain-key new`)")
    return Keyring(tuple(keys))


def load_keyring(path: Path) -> Keyring:
    """Read the key file at ``path``: only its owner may read it, and it must parse."""
    try:
        info = path.stat()
    except OSError as error:
        raise ChainKeyError(
            f"cannot read the chain key file {path} (FUNDFLOW_CHAIN_KEY_FILE): {error.strerror}"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise ChainKeyError(f"the chain key file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise ChainKeyError(
            f"the chain key file {path} can be read or written by other users "
            f"(mode {stat.S_IMODE(info.st_mode):04o}): run `chmod 600 {path}`; "
            "a key others can read is no secret"
        )
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise ChainKeyError(f"cannot read the chain key file {path}: {error}") from None
    return parse_keyring(text, str(path))


def default_key_id() -> str:
    """The date and a random suffix: two keys made apart never share an id (a process
    holding a different key under the same id would write links that never verify)."""
    return f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"


def add_key(path: Path, key_id: str | None = None) -> ChainKey:
    """Make a new random key and make it current: a new key file (mode 0600), or the
    next key of an existing one (rotation; the old keys stay, their links still verify)."""
    key_id = key_id or default_key_id()
    if not KEY_ID.match(key_id):
        raise ChainKeyError(
            f"key id {key_id!r}: use 1 to 40 letters, digits, '.', '_' or '-' (no ':')"
        )
    key = ChainKey(key_id, secrets.token_bytes(MIN_SECRET_BYTES))
    line = f"{key.id}:{key.secret.hex()}\n"
    if path.exists():
        existing = load_keyring(path)
        if existing.get(key_id) is not None:
            raise ChainKeyError(f"{path} already holds a key {key_id!r}: give another --id")
        text = path.read_text(encoding="ascii")
        if text and not text.endswith("\n"):
            text += "\n"
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        _write_private(temporary, text + line)
        os.replace(temporary, path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(
            path, "# fundflow chain keys: <id>:<hex secret>; the last is current\n" + line
        )
    return key


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(text)
