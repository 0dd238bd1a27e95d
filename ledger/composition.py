"""The composition root: builds the ledger and its persistence from settings."""

from __future__ import annotations

from ledger.application import Ledger
from ledger.settings import Settings, persistence_env


def build_ledger(settings: Settings | None = None) -> Ledger:
    """A ledger connected to the database the settings name (created if missing)."""
    settings = settings or Settings()
    return Ledger(env=persistence_env(settings.effective_database_url))
