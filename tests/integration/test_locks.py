"""The close's lock is per ledger: two ledgers in one PostgreSQL database (two schemas)
never block each other, while one ledger's second close is refused."""

from __future__ import annotations

import pytest

from ledger.locks import LockHeld, exclusive
from tests.conftest import postgres_schema_url


@pytest.mark.postgres
def test_a_lock_belongs_to_one_ledger_not_to_the_whole_database() -> None:
    for first in postgres_schema_url():
        for second in postgres_schema_url():
            with exclusive(first, "close/U1/2022"):
                with exclusive(second, "close/U1/2022"):
                    pass  # another schema: not blocked
                with pytest.raises(LockHeld), exclusive(first, "close/U1/2022"):
                    pass  # the same ledger: refused
