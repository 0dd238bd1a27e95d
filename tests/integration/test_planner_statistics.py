"""The log's and the read model's tables keep planner statistics as a process fills them:
without, at 4 million events PostgreSQL (autovacuum off, or behind a bulk import) loaded
each aggregate with a parallel bitmap scan, ~100 ms each, and an import slowed fourfold."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from ledger import planner_statistics
from ledger.application import Ledger
from ledger.composition import build_ledger, read_models_of
from ledger.planner_statistics import StatisticsKeeper
from ledger.settings import Settings
from projections.read_model import catch_up, rebuild
from tests.conftest import POSTGRES_URL, postgres_schema_url
from tests.scenario import Scenario, cmd, setup_commands

pytestmark = pytest.mark.postgres


def analyzed(schema: str) -> set[str]:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = %s "
            "AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)",
            (schema,),
        ).fetchall()
    return {r[0] for r in rows}


@pytest.fixture
def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planner_statistics, "CHECK_EVERY_ROWS", 10)
    monkeypatch.setattr(planner_statistics, "MIN_CHANGED", 10)


@pytest.fixture
def pg_ledger() -> Iterator[tuple[Ledger, str]]:
    for url in postgres_schema_url():
        ledger = build_ledger(Settings(database_url=url))
        try:
            yield ledger, url.rsplit("schema=", 1)[1]
        finally:
            ledger.close()


def test_the_log_and_the_read_model_are_analyzed_as_they_fill(
    small_thresholds: None, pg_ledger: tuple[Ledger, str]
) -> None:
    ledger, schema = pg_ledger
    scenario = Scenario(ledger).given(
        *setup_commands(), cmd("allocate_budget", line="L1", amount="100000")
    )
    for n in range(12):
        scenario.given(cmd("disburse", line="L1", amount="1", payee=f"X{n}", economic_code="30227"))
    assert {"fundflow_events", "fundflow_events_hashes"} <= analyzed(schema)
    store = read_models_of(ledger)
    assert store is not None
    table = rebuild(ledger, store)
    assert {table, f"{table}_cp", f"{table}_ix"} <= analyzed(schema)


def test_a_look_that_fails_never_fails_the_write(
    small_thresholds: None, pg_ledger: tuple[Ledger, str]
) -> None:
    """The rows are committed before the look: a refusal (no privilege to analyze, the
    connection lost) is logged, and the posting stands."""
    ledger, _ = pg_ledger
    keeper = ledger.recorder.statistics  # type: ignore[attr-defined]

    @contextmanager
    def broken(*args: Any, **kwargs: Any) -> Iterator[Any]:
        raise psycopg.OperationalError("permission denied to analyze")
        yield

    assert isinstance(keeper, StatisticsKeeper)
    keeper.datastore = type("Broken", (), {"get_connection": broken, "schema": "x"})()
    scenario = Scenario(ledger).given(
        *setup_commands(), cmd("allocate_budget", line="L1", amount="100000")
    )
    for n in range(12):
        scenario.given(cmd("disburse", line="L1", amount="1", payee=f"X{n}", economic_code="30227"))
    store = read_models_of(ledger)
    assert store is not None
    catch_up(ledger, store)
    assert store.position() == ledger.position()
