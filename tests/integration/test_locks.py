"""The close's lock is per ledger: two ledgers in one PostgreSQL database (two schemas)
never block each other, while one ledger's second close — from another process, with
its own connections — is refused, on both stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.composition import build_ledger, locks_of
from ledger.locks import LockHeld
from ledger.settings import Settings
from tests.conftest import postgres_schema_url


@pytest.mark.postgres
def test_a_lock_belongs_to_one_ledger_not_to_the_whole_database() -> None:
    for first in postgres_schema_url():
        for second in postgres_schema_url():
            one = build_ledger(Settings(database_url=first))
            other = build_ledger(Settings(database_url=second))
            again = build_ledger(Settings(database_url=first))
            try:
                with locks_of(one).exclusive("close/U1/2022"):
                    with locks_of(other).exclusive("close/U1/2022"):
                        pass  # another schema: not blocked
                    with pytest.raises(LockHeld), locks_of(again).exclusive("close/U1/2022"):
                        pass  # the same ledger: refused
                with locks_of(again).exclusive("close/U1/2022"):
                    pass  # released with the job
            finally:
                for ledger in (one, other, again):
                    ledger.close()


def test_the_same_ledger_opened_twice_holds_one_lock(database_url: str, tmp_path: Path) -> None:
    one = build_ledger(Settings(database_url=database_url))
    again = build_ledger(Settings(database_url=database_url))
    try:
        with locks_of(one).exclusive("close/U1/2022"):
            with pytest.raises(LockHeld), locks_of(again).exclusive("close/U1/2022"):
                pass
            with locks_of(again).exclusive("close/U1/2023"):
                pass  # another job's lock
        with locks_of(again).exclusive("close/U1/2022"):
            pass
    finally:
        one.close()
        again.close()
