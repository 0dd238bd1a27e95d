"""The composition root: builds the ledger, its persistence, its read models and its job
locks from settings, once. It is the one module that sees every layer; nothing below it
reads settings or a database URL: each gets the built objects it needs."""

from __future__ import annotations

import time
from dataclasses import dataclass

from eventsourcing.persistence import InternalError, OperationalError

from ledger.application import Ledger, StoreFormatError
from ledger.chain_key import Keyring, load_keyring
from ledger.datastores import datastore_of
from ledger.hash_chain import ChainWriter, key_mismatch
from ledger.locks import JobLocks, locks_for
from ledger.settings import Settings
from ledger.side_tables import SideTables
from projections.read_model import ReadModelStore

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


def side_tables_of(ledger: Ledger) -> SideTables | None:
    """Our tables beside ``ledger``'s event log, in its own database (None in memory)."""
    datastore = datastore_of(ledger.recorder)
    return None if datastore is None else SideTables(datastore)


def read_models_of(ledger: Ledger, tables: SideTables | None = None) -> ReadModelStore | None:
    """The read-model store kept beside ``ledger``, in its own database (its tables made
    sure of); None for an in-memory ledger, whose reports fold its events."""
    tables = tables or side_tables_of(ledger)
    return None if tables is None else ReadModelStore(tables)


def locks_of(ledger: Ledger) -> JobLocks:
    """The locks of ``ledger``'s jobs (the year-end close)."""
    return locks_for(datastore_of(ledger.recorder))


@dataclass(frozen=True)
class Services:
    """What the composition root builds once for a process, handed to the adapters: the
    ledger, our tables beside its log and the read-model store among them (both None in
    memory), and its job locks."""

    ledger: Ledger
    tables: SideTables | None
    read_models: ReadModelStore | None
    locks: JobLocks

    @classmethod
    def of(cls, ledger: Ledger) -> Services:
        """The services around a ledger already built (by :func:`build_ledger`)."""
        tables = side_tables_of(ledger)
        return cls(ledger, tables, read_models_of(ledger, tables), locks_of(ledger))

    def close(self) -> None:
        """Close the ledger and its connections (our tables use the same pool)."""
        self.ledger.close()


def build_services(settings: Settings | None = None) -> Services:
    """The ledger the settings name, with its read models and locks."""
    return Services.of(build_ledger(settings))
