"""The composition root: builds the ledger and its persistence from settings."""

from __future__ import annotations

import time

from eventsourcing.persistence import InternalError, OperationalError

from ledger.application import Ledger, StoreFormatError
from ledger.chain_key import Keyring, load_keyring
from ledger.hash_chain import ChainWriter, key_mismatch
from ledger.settings import Settings

#: Creating the tables is idempotent, but PostgreSQL refuses two sessions changing the
#: catalogue at the same instant ("tuple concurrently updated") — as when several
#: workers start together. Such a start is simply tried again.
START_ATTEMPTS = 5


def build_ledger(settings: Settings | None = None) -> Ledger:
    """A ledger connected to the database the settings name (tables created if missing),
    its recorder holding the chain key of the settings' key file, if any: the key file is
    read here, once (a missing, malformed or world-readable key file stops the start with
    :class:`ledger.chain_key.ChainKeyError`)."""
    settings = settings or Settings()
    keyring = load_keyring(settings.chain_key_file) if settings.chain_key_file else None
    env = settings.persistence()
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            ledger = _with_keyring(Ledger(env=env), keyring)
            try:
                ledger.require_current_format()
            except StoreFormatError:
                ledger.close()
                raise
            return ledger
        except (InternalError, OperationalError) as error:
            if attempt == START_ATTEMPTS or "concurrently" not in str(error):
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _with_keyring(ledger: Ledger, keyring: Keyring | None) -> Ledger:
    if isinstance(ledger.recorder, ChainWriter):
        ledger.recorder.keyring = keyring
        ledger.recorder.refuse_writes = key_mismatch(ledger.recorder)
    return ledger
