"""Database faults: PostgreSQL cuts every connection (``pg_terminate_backend``) again and
again while clerks post through the service and while the projection worker runs. Every
command ends with exactly one effect once its client has retried with the same id; the
worker resumes without gaps or doubles. And an import killed half way, run again, applies
each line once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import psycopg
import pytest

from commands.cli import seed_path
from ledger.aggregates import BudgetLine, CommandRecord
from ledger.composition import build_ledger, read_models_of
from ledger.errors import LedgerError
from ledger.settings import Settings
from projections.books import books_of
from projections.read_model import differences
from tests.conftest import POSTGRES_URL
from tests.e2e.service import Service
from tests.scenario import Scenario, cmd, setup_commands

pytestmark = pytest.mark.postgres
FUNDFLOW = str(Path(sys.executable).parent / "fundflow")


def cut_connections(seconds: float, every: float = 0.3) -> int:
    """Terminate every other session of the test database, again and again, for
    ``seconds``; returns how many sessions were cut."""
    cut = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(every)
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            ).fetchall()
            cut += len(rows)
    return cut


def test_clients_retrying_through_cut_connections_post_exactly_once(service: Service) -> None:
    admin = {"Authorization": f"Bearer {service.token('admin', 'admin')}"}
    service.open_funded_line(
        admin, "UF", "故障演练局", "L", "演练指标", amount="1000000", document_no="d"
    )
    statuses: Counter[int] = Counter()
    done: dict[str, int] = {}
    lock = threading.Lock()

    def clerk(n: int) -> None:
        with httpx.Client(base_url=service.base, headers=admin, timeout=30) as client:
            for k in range(12):
                key = f"f-{n}-{k}"
                body = {
                    "amount": str(n * 100 + k + 1),
                    "payee": "X",
                    "economic_code": "30201",
                    "business_date": "2024-05-01",
                    "document_no": key,
                }
                for _ in range(100):
                    try:
                        response = client.post(
                            "/v1/units/UF/years/2024/lines/L/disbursements",
                            json=body,
                            headers={"Idempotency-Key": key},
                        )
                    except httpx.TransportError:
                        time.sleep(0.1)
                        continue
                    with lock:
                        statuses[response.status_code] += 1
                    if response.status_code in (200, 201):
                        with lock:
                            done[key] = n * 100 + k + 1
                        break
                    assert response.status_code == 503, response.text
                    assert response.json()["code"] == "database_unavailable"
                    time.sleep(0.1)

    cuts: list[int] = []
    killer = threading.Thread(target=lambda: cuts.append(cut_connections(4.0)))
    killer.start()
    clerks = [threading.Thread(target=clerk, args=(n,)) for n in range(8)]
    for thread in clerks:
        thread.start()
    for thread in clerks:
        thread.join(timeout=240)
    killer.join(timeout=30)
    assert cuts[0] > 0, "no connection was cut: the drill drilled nothing"
    assert len(done) == 96, statuses

    ledger = build_ledger(Settings(database_url=service.database_url))
    try:
        payments = Counter(
            e.command_id for _, e in ledger.read_events() if isinstance(e, BudgetLine.Disbursed)
        )
        assert set(payments) == set(done) and set(payments.values()) == {1}
        line = books_of(ledger).lines[BudgetLine.id_for("UF", 2024, "L")]
        assert line.totals.spent == sum(done.values()) * 100
    finally:
        ledger.close()
    assert httpx.get(f"{service.base}/health", timeout=10).status_code == 200


def test_the_worker_rides_out_cut_connections(tmp_path: Path) -> None:
    from tests.conftest import postgres_schema_url

    for url in postgres_schema_url():
        ledger = build_ledger(Settings(database_url=url))
        Scenario(ledger).given(
            *setup_commands(), cmd("allocate_budget", line="L1", amount="100000000")
        )
        read_models_of(ledger)  # its tables, before the worker starts
        env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
        env["FUNDFLOW_DATABASE_URL"] = url
        worker = subprocess.Popen(
            [FUNDFLOW, "project", "--follow", "--interval", "0.05"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        killer = threading.Thread(target=cut_connections, args=(3.0, 0.4))
        killer.start()
        posted = 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            command = cmd("disburse", line="L1", amount="1", payee="X", economic_code="30227")
            for _ in range(100):  # the clerk retries the same command until it is through
                try:
                    Scenario(ledger).when(command)
                    break
                except LedgerError:
                    raise
                except Exception:
                    time.sleep(0.05)
            posted += 1
        killer.join(timeout=30)
        store = read_models_of(ledger)
        deadline = time.monotonic() + 60
        while store.position() < ledger.position() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        assert store.position() == ledger.position()
        assert differences(ledger, store) == []
        held = store.load().lines[BudgetLine.id_for("U1", 2022, "L1")]
        assert held.totals.spent == posted * 100
        ledger.close()


def test_an_import_killed_half_way_and_run_again_applies_each_line_once(tmp_path: Path) -> None:
    from tests.conftest import postgres_schema_url

    for url in postgres_schema_url():
        env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
        env["FUNDFLOW_DATABASE_URL"] = url
        first = subprocess.Popen(  # small batches: killed between two of them
            [FUNDFLOW, "import", str(seed_path()), "--role", "admin", "--quiet", "--batch", "5"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # kill it once it has stored something (bounded wait: not a wall-clock threshold,
        # the start-up of a process on a loaded machine varies a lot)
        watcher = build_ledger(Settings(database_url=url))
        try:
            deadline = time.monotonic() + 120
            while watcher.position() == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            watcher.close()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        again = subprocess.run(
            [FUNDFLOW, "import", str(seed_path()), "--role", "admin", "--quiet"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert again.returncode == 0, again.stderr
        applied = again.stderr.split(" applied")[0]
        assert "already applied" in again.stderr
        ledger = build_ledger(Settings(database_url=url))
        try:
            records = Counter(
                e.command_id
                for _, e in ledger.read_events()
                if isinstance(e, CommandRecord.Recorded)
            )
            assert len(records) == 339 and set(records.values()) == {1}
            assert int(applied) < 339  # the first run had applied some before it was killed
        finally:
            ledger.close()
