"""Over HTTP, on both stores: a token's expensive auditor queries (trail, check, reports as
of a past moment) are limited (FUNDFLOW_AUDITOR_QUERY_BURST / _QUERIES_PER_MINUTE): over
the limit 429, problem JSON with code ``rate_limited`` and ``Retry-After``; other tokens
and the present reports are not affected."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from commands.api import create_app
from ledger.application import Ledger
from ledger.composition import build_ledger
from ledger.roles import Role
from ledger.settings import Settings
from tests.integration.test_api import issue
from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands


def test_expensive_queries_are_limited_per_token(ledger: Ledger, database_url: str) -> None:
    Scenario(ledger).given(
        *setup_commands(), cmd("allocate_budget", line="L1", amount="1000", initial=True)
    )
    first = {"Authorization": f"Bearer {issue(ledger, 'auditor-1', Role.AUDITOR)}"}
    second = {"Authorization": f"Bearer {issue(ledger, 'auditor-2', Role.AUDITOR)}"}
    settings = Settings(
        database_url=database_url, auditor_query_burst=3, auditor_queries_per_minute=1
    )
    year = f"/v1/units/{UNIT}/years/{YEAR}"
    with TestClient(create_app(settings, ledger=ledger)) as client:
        expensive = [
            f"/v1/units/{UNIT}/audit/trail?year={YEAR}&line=L1",
            f"{year}/check",
            f"{year}/reports/final-accounts?as_of_position=1000",
        ]
        for path in expensive:
            assert client.get(path, headers=first).status_code == 200, path
        for path in [*expensive, f"{year}/reports/execution?as_of=2022-06-30"]:
            refused = client.get(path, headers=first)
            assert refused.status_code == 429, path
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["code"] == "rate_limited"
            assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert client.get(f"{year}/reports/final-accounts", headers=first).status_code == 200
        assert client.get(f"{year}/check", headers=second).status_code == 200
        schema = client.get("/openapi.json").json()
        assert "429" in schema["paths"]["/v1/units/{unit}/audit/trail"]["get"]["responses"]


def test_the_worker_processes_of_one_service_share_a_tokens_allowance(
    ledger: Ledger, database_url: str
) -> None:
    """`serve --workers N`: each worker has its own application, and the token's buckets
    are kept in the database, so the limit holds for the service, not N times over."""
    Scenario(ledger).given(
        *setup_commands(), cmd("allocate_budget", line="L1", amount="1000", initial=True)
    )
    auditor = {"Authorization": f"Bearer {issue(ledger, 'auditor-1', Role.AUDITOR)}"}
    settings = Settings(
        database_url=database_url, auditor_query_burst=4, auditor_queries_per_minute=0.01
    )
    check = f"/v1/units/{UNIT}/years/{YEAR}/check"
    with (
        TestClient(create_app(settings)) as one,  # a worker with its own ledger, as in `serve`
        TestClient(create_app(settings)) as other,
    ):
        answers = [client.get(check, headers=auditor).status_code for client in (one, other) * 3]
    assert answers == [200, 200, 200, 200, 429, 429]


def test_concurrent_queries_of_one_token_are_each_counted(
    ledger: Ledger, database_url: str
) -> None:
    """Buckets change under a lock: queries at the same instant spend one each."""
    from concurrent.futures import ThreadPoolExecutor

    from commands.rate_limit import RateLimited, TableBuckets, Throttle
    from ledger.composition import side_tables_of

    tables = side_tables_of(ledger)
    assert tables is not None
    throttle = Throttle(per_minute=0.001, burst=10, buckets=TableBuckets(tables))

    def query(_: int) -> bool:
        try:
            throttle.take("token-1")
            return True
        except RateLimited:
            return False

    with ThreadPoolExecutor(8) as pool:
        granted = list(pool.map(query, range(40)))
    assert sum(granted) == 10


def test_a_locked_sqlite_database_answers_503_not_500(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The buckets (and the read models) are side tables: on PostgreSQL their errors come
    through the ledger's pool as the library's PersistenceError (503, Retry-After, as every
    database error of the ledger); on SQLite they came as sqlite3's own — a write lock held
    longer than the timeout was a 500 for a query that only has to be sent again."""
    url = f"sqlite:///{tmp_path / 'fundflow.sqlite3'}"
    ledger = build_ledger(Settings(database_url=url))
    try:
        Scenario(ledger).given(*setup_commands())
        auditor = {"Authorization": f"Bearer {issue(ledger, 'auditor-1', Role.AUDITOR)}"}
        app = create_app(Settings(database_url=url), ledger=ledger)
        connect = sqlite3.connect
        monkeypatch.setattr(
            sqlite3, "connect", lambda *a, **k: connect(*a, **{**k, "timeout": 0.1})
        )
        writer = connect(str(tmp_path / "fundflow.sqlite3"), isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            with TestClient(app, raise_server_exceptions=False) as client:
                answer = client.get(f"/v1/units/{UNIT}/years/{YEAR}/check", headers=auditor)
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert answer.status_code == 503 and answer.json()["code"] == "database_unavailable"
        assert answer.headers["Retry-After"] == "1"
    finally:
        ledger.close()
