"""The composition root: builds the ledger and its persistence from settings."""

from __future__ import annotations

import time

from eventsourcing.persistence import InternalError, OperationalError

from ledger.application import Ledger, StoreFormatError
from ledger.settings import Settings

#: Creating the tables is idempotent, but PostgreSQL refuses two sessions changing the
#: catalogue at the same instant ("tuple concurrently updated") — as when several
#: workers start together. Such a start is simply tried again.
START_ATTEMPTS = 5


def build_ledger(settings: Settings | None = None) -> Ledger:
    """A ledger connected to the database the settings name (tables created if missing)."""
    settings = settings or Settings()
    env = settings.persistence()
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            ledger = Ledger(env=env)
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
