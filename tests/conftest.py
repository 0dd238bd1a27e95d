"""Shared fixtures: an in-memory ledger, and real SQLite / PostgreSQL stores.

PostgreSQL tests use the server on 127.0.0.1:5432 (override with
FUNDFLOW_TEST_POSTGRES_URL); each test gets its own schema, dropped afterwards. If the
server cannot be reached the tests fail: they are never skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, settings

from commands.handlers import CommandHandler
from ledger.application import Ledger
from ledger.composition import build_ledger
from ledger.settings import Settings

POSTGRES_URL = os.environ.get(
    "FUNDFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
# Hypothesis: a bounded profile for CI, a larger one for nightly runs
# (HYPOTHESIS_PROFILE=nightly bash scripts/test).
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "nightly", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "seed"


def postgres_schema_url() -> Iterator[str]:
    """A PostgreSQL URL with a fresh schema of its own; the schema is dropped after."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg.connect(
            POSTGRES_URL.replace("postgresql://", "postgresql://", 1),
            autocommit=True,
            connect_timeout=10,
        )
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is required for this test and is not reachable: {error}")
    with conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def memory_ledger() -> Iterator[Ledger]:
    ledger = build_ledger(Settings(database_url="memory://"))
    yield ledger
    ledger.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, real store: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fundflow.sqlite3'}"
    else:
        yield from postgres_schema_url()


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    ledger = build_ledger(Settings(database_url=database_url))
    yield ledger
    ledger.close()


@pytest.fixture
def handler(ledger: Ledger) -> CommandHandler:
    return CommandHandler(ledger)


@pytest.fixture(scope="session")
def published_path() -> Path:
    path = SEED_DIR / "changji-2022-published-figures.json"
    if not path.exists():
        pytest.fail(f"the published figures are expected at {path}")
    return path
