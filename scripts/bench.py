"""The benchmark suite: each figure as a ratio against a baseline measured in the same run
on the same PostgreSQL (these machines are noisy; absolute numbers mean little).

    python scripts/bench.py --quick          # a few minutes
    python scripts/bench.py --full           # the province scale (about an hour)

Writes BENCHMARKS.md (machine, versions, date, the table) unless --no-write.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any, Self, SupportsIndex

import httpx
import psycopg
import structlog

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from commands.chain_cli import audit_chain  # noqa: E402
from commands.handlers import CommandHandler  # noqa: E402
from commands.importer import import_file  # noqa: E402
from ledger.composition import build_ledger, read_models_of  # noqa: E402
from ledger.settings import Settings  # noqa: E402
from projections.audit_trail import audit_trail, unit_trail  # noqa: E402
from projections.books import books_of  # noqa: E402
from projections.checks import check_year  # noqa: E402
from projections.final_accounts import final_accounts  # noqa: E402
from projections.read_model import books_for_reports, rebuild  # noqa: E402
from scripts.generate import ENTERPRISES, generate  # noqa: E402
from scripts.peer_beancount import balances, line_key, write_journal  # noqa: E402

FIRST_YEAR = 2023
IMPORT_BATCH = 2000
#: Rows the insert baselines write (a sample of the stored events).
SAMPLE_ROWS = 200_000
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
FUNDFLOW = str(Path(sys.executable).parent / "fundflow")


@contextmanager
def schema() -> Iterator[str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute("SET client_min_messages = warning")
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def history(path: Path, scale: Scale, payments: int, units: int | None = None) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for line in generate(
            units or scale.units, scale.lines, payments, FIRST_YEAR, 1, scale.years
        ):
            handle.write(line + "\n")


def imported(url: str, path: Path) -> tuple[int, float]:
    """Import a history into an empty ledger: (events, seconds)."""
    ledger = build_ledger(Settings(database_url=url))
    try:
        elapsed, outcome = timed(
            lambda: import_file(
                CommandHandler(ledger), path, batch_size=IMPORT_BATCH, close_steps=True
            )
        )
        if not outcome.ok:
            raise RuntimeError(f"line {outcome.failed_line}: {outcome.error}")
        return ledger.position(), elapsed
    finally:
        ledger.close()


def _import_part(url: str, path: Path) -> None:
    """One process's share of a parallel import (see :func:`imported_in_parallel`)."""
    ledger = build_ledger(Settings(database_url=url))
    try:
        outcome = import_file(
            CommandHandler(ledger), path, batch_size=IMPORT_BATCH, close_steps=True
        )
        if not outcome.ok:
            raise RuntimeError(f"{path.name} line {outcome.failed_line}: {outcome.error}")
    finally:
        ledger.close()


def imported_in_parallel(url: str, path: Path, processes: int) -> tuple[int, float]:
    """Import a history into an empty ledger in ``processes`` processes, each taking whole
    units (units are independent: each one's commands keep their order): (events,
    seconds). Commands of no unit go first, in this process; the split is not timed."""
    shares: list[list[str]] = [[] for _ in range(processes)]
    first: list[str] = []
    owner: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        command = json.loads(line)
        unit = command.get("unit") or (
            command.get("code") if command["type"] == "register_unit" else None
        )
        if unit is None:
            first.append(line)
        else:
            shares[owner.setdefault(unit, len(owner) % processes)].append(line)
    parts = [path.with_suffix(f".part{n}.jsonl") for n in range(processes)]
    for part, lines in zip(parts, shares, strict=True):
        part.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    prelude = path.with_suffix(".prelude.jsonl")
    prelude.write_text("".join(f"{line}\n" for line in first), encoding="utf-8")
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    _import_part(url, prelude)
    workers = [context.Process(target=_import_part, args=(url, part)) for part in parts]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if any(worker.exitcode for worker in workers):
        raise RuntimeError("a process of the parallel import failed")
    ledger = build_ledger(Settings(database_url=url))
    try:
        return ledger.position(), elapsed
    finally:
        ledger.close()


def stored_rows(schema_name: str, limit: int = SAMPLE_ROWS) -> list[tuple[Any, ...]]:
    """The first stored events as raw rows: the baselines insert rows of the same size."""
    with psycopg.connect(POSTGRES) as conn:
        return conn.execute(
            f'SELECT originator_id, originator_version, topic, state FROM "{schema_name}".'
            "fundflow_events ORDER BY notification_id LIMIT %s",
            (limit,),
        ).fetchall()


def raw_executemany(rows: list[tuple[Any, ...]]) -> float:
    with psycopg.connect(POSTGRES) as conn:
        conn.execute(
            "CREATE TEMP TABLE raw_events (originator_id uuid, originator_version "
            "bigint, topic text, state bytea, PRIMARY KEY (originator_id, "
            "originator_version))"
        )
        conn.commit()
        started = time.perf_counter()
        for i in range(0, len(rows), 1000):
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO raw_events VALUES (%s, %s, %s, %s)", rows[i : i + 1000]
                )
            conn.commit()
        return len(rows) / (time.perf_counter() - started)


def raw_copy(rows: list[tuple[Any, ...]]) -> float:
    with psycopg.connect(POSTGRES) as conn:
        conn.execute(
            "CREATE TEMP TABLE raw_copy (originator_id uuid, originator_version "
            "bigint, topic text, state bytea)"
        )
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY raw_copy FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return len(rows) / (time.perf_counter() - started)


def raw_scan_decode(schema_name: str) -> float:
    started = time.perf_counter()
    count, last = 0, 0
    with psycopg.connect(POSTGRES) as conn:
        while True:
            page = conn.execute(
                f'SELECT notification_id, state FROM "{schema_name}".fundflow_events '
                "WHERE notification_id > %s ORDER BY notification_id LIMIT 10000",
                (last,),
            ).fetchall()
            if not page:
                break
            for notification_id, state in page:
                json.loads(state)
                last = notification_id
                count += 1
    return count / (time.perf_counter() - started)


def peak_rss_of(command: list[str], env: dict[str, str]) -> int:
    """Peak resident memory (KiB) of a child process."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"{command} failed")
    return int(usage.ru_maxrss)


def raw_autocommit_inserts(clients: int, per_client: int, row: tuple[Any, ...]) -> float:
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_autocommit")
        conn.execute(
            "CREATE TABLE bench_autocommit (originator_id uuid, originator_version "
            "bigint, topic text, state bytea)"
        )

    def work(_: int) -> None:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            for _k in range(per_client):
                conn.execute(
                    "INSERT INTO bench_autocommit VALUES (%s, %s, %s, %s)",
                    (uuid.uuid4(), 1, row[2], row[3]),
                )

    elapsed = in_threads(work, clients)
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute("DROP TABLE bench_autocommit")
    return clients * per_client / elapsed


def http_posting(
    url: str, year: int, clients: int, per_client: int, workers: int = 1
) -> tuple[float, float, float, float]:
    """Throughput and p50/p99 latency (ms) of clerks posting over HTTP, half of them to the
    two hot lines of the busiest unit, half spread over other units' lines; and, as the
    ceiling of the HTTP stack itself, the rate of ``GET /health`` (one SELECT) from as many
    clients."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
    env.update(FUNDFLOW_DATABASE_URL=url, FUNDFLOW_ROLE="admin", FUNDFLOW_LOG_LEVEL="WARNING")
    token = subprocess.run(
        [FUNDFLOW, "tokens", "create", "--identity", "bench", "--token-role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [FUNDFLOW, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    units = [f"U{u:05d}" for u in range(min(8, clients))]
    lines = [(unit, f"JB-{unit}-{kind}") for unit in units for kind in ("RY", "GY")]
    errors: list[str] = []
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            for unit, line in lines:  # money for the run, so that nothing is refused
                response = client.post(
                    f"/v1/units/{unit}/years/{year}/lines/{line}/allocations",
                    json={
                        "amount": "100000",
                        "business_date": f"{year}-06-01",
                        "document_no": "bench",
                    },
                    headers={"Idempotency-Key": f"bench-top-up-{unit}-{line}"},
                )
                response.raise_for_status()
        latencies: list[float] = []
        lock = threading.Lock()

        def clerk(n: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                for k in range(per_client):
                    # even clerks on the hot lines of U00000, odd ones spread out
                    unit, line = lines[(k % 2) if n % 2 == 0 else (n + k) % len(lines)]
                    body = {
                        "amount": "0.01",
                        "business_date": f"{year}-06-01",
                        "document_no": f"b-{n}-{k}",
                        "payee": "收款人",
                        "economic_code": "30101" if line.endswith("RY") else "30201",
                    }
                    started = time.perf_counter()
                    response = client.post(
                        f"/v1/units/{unit}/years/{year}/lines/{line}/disbursements",
                        json=body,
                        headers={"Idempotency-Key": f"bench-{n}-{k}"},
                    )
                    with lock:
                        latencies.append((time.perf_counter() - started) * 1000)
                    if response.status_code not in (200, 201):
                        errors.append(response.text)
                        return

        def prober(_: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as client:
                for _k in range(per_client):
                    client.get("/health").raise_for_status()

        elapsed = in_threads(clerk, clients)
        ceiling = clients * per_client / in_threads(prober, clients)
    finally:
        server.terminate()
        server.wait(timeout=60)
    if errors:
        raise RuntimeError(f"{len(errors)} postings refused, first: {errors[0]}")
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, statistics.median(latencies), p99, ceiling


WRK = shutil.which("wrk")
WRK_SECONDS = 6

_POSTING_LUA = """
local token, year, run = "%(token)s", %(year)d, "%(run)s"
local lines = {%(lines)s}
local counter = 0
local made = 0
function setup(thread)
  made = made + 1
  thread:set("tid", made)
end
function request()
  counter = counter + 1
  local pick = lines[((counter + tid) %% #lines) + 1]
  local key = string.format("%%s-%%d-%%d", run, tid, counter)
  local body = string.format(
    '{"amount":"0.01","business_date":"%%d-06-01","document_no":"%%s","payee":"收款人",' ..
    '"economic_code":"%%s"}', year, key, pick[3])
  return wrk.format("POST", "/v1/units/" .. pick[1] .. "/years/" .. year .. "/lines/" ..
    pick[2] .. "/disbursements", {["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = key, ["Content-Type"] = "application/json"}, body)
end
"""


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(url: str, clients: int, script: Path | None = None) -> tuple[float, float, float]:
    """Requests per second, p50 and p99 latency (ms) of ``clients`` connections kept busy
    by wrk (a compiled load generator: it does not compete with the server for Python)
    for ``WRK_SECONDS``; any answer that is not 2xx fails the run."""
    command = [WRK or "wrk", "-t2", f"-c{clients}", f"-d{WRK_SECONDS}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    return rate, p50, p99


def http_stack(
    url: str, year: int, clients: int, folder: Path, http: str, loop: str
) -> tuple[tuple[float, float, float], tuple[float, float, float], float]:
    """Posting and ``GET /health`` at ``clients`` connections, measured with wrk against
    ``fundflow serve --http HTTP --loop LOOP``: ((rate, p50, p99) posting, (…) health),
    and the events per second of ``POST /v1/batch``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
    env.update(FUNDFLOW_DATABASE_URL=url, FUNDFLOW_ROLE="admin", FUNDFLOW_LOG_LEVEL="WARNING")
    token = subprocess.run(
        [FUNDFLOW, "tokens", "create", "--identity", "bench", "--token-role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [FUNDFLOW, "serve", "--port", str(port), "--http", http, "--loop", loop],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    units = [f"U{u:05d}" for u in range(8)]
    lines = [(unit, f"JB-{unit}-{kind}") for unit in units for kind in ("RY", "GY")]
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=60) as client:
            for unit, line in lines:  # money for the run, so that nothing is refused
                client.post(
                    f"/v1/units/{unit}/years/{year}/lines/{line}/allocations",
                    json={
                        "amount": "100000",
                        "business_date": f"{year}-06-01",
                        "document_no": f"top-up-{http}",
                    },
                    headers={
                        "Idempotency-Key": f"bench-top-up-{http}-{line}",
                        "Authorization": f"Bearer {token}",
                    },
                ).raise_for_status()
        script = folder / f"post-{http}.lua"
        script.write_text(
            _POSTING_LUA
            % {
                "token": token,
                "year": year,
                "run": f"wrk-{http}-{loop}",
                "lines": ", ".join(
                    f'{{"{u}", "{ln}", "{"30101" if ln.endswith("RY") else "30201"}"}}'
                    for u, ln in lines
                ),
            },
            encoding="utf-8",
        )
        posting = wrk(base, clients, script)
        health = wrk(f"{base}/health", clients)
        batch = batch_rate(base, token, year, http)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return posting, health, batch


def batch_rate(base: str, token: str, year: int, run: str, batches: int = 5) -> float:
    """Events per second stored through ``POST /v1/batch`` (batches of IMPORT_BATCH
    disbursements spread over one unit's lines, one client): a command stores its event
    and its command record."""
    unit = "U00009"
    lines = [f"JB-{unit}-RY", f"JB-{unit}-GY"]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=600, headers=headers) as client:
        for line in lines:
            client.post(
                f"/v1/units/{unit}/years/{year}/lines/{line}/allocations",
                json={"amount": "100000", "business_date": f"{year}-06-01", "document_no": run},
                headers={"Idempotency-Key": f"batch-top-up-{run}-{line}"},
            ).raise_for_status()
        stored, elapsed = 0, 0.0
        for b in range(batches):
            commands = [
                {
                    "type": "disburse",
                    "command_id": f"batch-{run}-{b}-{k}",
                    "unit": unit,
                    "year": year,
                    "line": lines[k % 2],
                    "amount": "0.01",
                    "business_date": f"{year}-06-02",
                    "document_no": f"批-{run}-{b}-{k}",
                    "payee": "收款人",
                    "economic_code": "30101" if k % 2 == 0 else "30201",
                }
                for k in range(IMPORT_BATCH)
            ]
            started = time.perf_counter()
            response = client.post("/v1/batch", json={"commands": commands})
            elapsed += time.perf_counter() - started
            response.raise_for_status()
            stored += 2 * response.json()["applied"]
    return stored / elapsed


def python_load_rows(
    url: str, year: int, clients: int, per_client: int, raw: float
) -> list[tuple[str, ...]]:
    """The HTTP rows with the Python load generator (when wrk is not installed)."""
    throughput, p50, p99, ceiling = http_posting(url, year, clients, per_client)
    rows_out: list[tuple[str, ...]] = []
    rows_out.append(
        (
            f"2. {clients} clerks posting over HTTP vs autocommit inserts",
            f"{throughput:,.0f} cmd/s (p50 {p50:.0f} ms, p99 {p99:.0f} ms)",
            f"{raw:,.0f} rows/s",
            f"{throughput / raw:.2f}",
            "≥ 1.0, p99 < 50 ms",
        )
    )
    rows_out.append(
        (
            f"2. (the HTTP stack's ceiling) {clients} clients calling GET /health",
            f"{ceiling:,.0f} req/s",
            f"{raw:,.0f} rows/s",
            f"{ceiling / raw:.2f}",
            "—",
        )
    )
    return rows_out


def in_threads(work: Callable[[int], None], count: int) -> float:
    """Seconds for ``count`` threads to run ``work(n)`` side by side."""
    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def beancount_peer(url: str, path: Path, folder: Path) -> tuple[float, float, int]:
    """Seconds for beancount to load the journal of ``path`` and sum every line, seconds
    for the ledger to replay the same history from its store to the same balances, and the
    number of transactions; the two must agree on every line."""
    journal = folder / "history.beancount"
    write_journal(path, journal)
    theirs_time, theirs = timed(lambda: balances(journal))
    ledger = build_ledger(Settings(database_url=url))
    try:
        ours_time, books = timed(lambda: books_of(ledger))
    finally:
        ledger.close()
    ours = {
        line_key(ln.unit_code, ln.year, ln.code): ln.totals.available for ln in books.lines.values()
    }
    if ours != theirs:
        raise RuntimeError("beancount and the ledger disagree on the balances")
    transactions = journal.read_text(encoding="utf-8").count(" * ")
    return theirs_time, ours_time, transactions


@dataclass(frozen=True)
class Scale:
    """A benchmark run's size: the main history has ``payments`` per unit and year, the
    small one (the memory baseline) a tenth of them; the beancount peer gets the main
    history's first ``peer_units`` units."""

    name: str
    units: int
    lines: int
    years: int
    payments: int
    peer_units: int


QUICK = Scale("quick", units=10, lines=20, years=2, payments=1000, peer_units=10)
"""A few minutes; the peer runs on the whole main history."""
FULL = Scale("full", units=2000, lines=20, years=3, payments=800, peer_units=100)


class Rows(list[tuple[str, ...]]):
    """The table's rows, each also printed (to stderr) as soon as it is measured: a full
    run takes well over an hour, and one that fails half way keeps what it measured."""

    def append(self, row: tuple[str, ...], /) -> None:
        super().append(row)
        progress(" | ".join(row))

    def insert(self, index: SupportsIndex, row: tuple[str, ...], /) -> None:
        super().insert(index, row)
        progress(" | ".join(row))

    def __iadd__(self, rows: Iterable[tuple[str, ...]], /) -> Self:  # type: ignore[override,misc]
        for row in rows:
            self.append(row)
        return self


def run(scale: Scale, folder: Path) -> list[tuple[str, ...]]:
    rows_out = Rows()
    last_year = FIRST_YEAR + scale.years - 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
    env["FUNDFLOW_LOG_LEVEL"] = "WARNING"
    with schema() as big, schema() as small, schema() as peer:
        big_url, small_url, peer_url = (f"{POSTGRES}?schema={n}" for n in (big, small, peer))
        big_path, small_path, peer_path = (folder / f"{n}.jsonl" for n in ("big", "small", "peer"))
        history(big_path, scale, scale.payments)
        history(small_path, scale, scale.payments // 10)
        history(peer_path, scale, scale.payments, units=scale.peer_units)
        progress(f"importing {big_path.stat().st_size / 2**20:,.0f} MiB of commands")

        # 1. bulk import
        events, elapsed = imported(big_url, big_path)
        ours = events / elapsed
        sample = stored_rows(big)
        many, copy = raw_executemany(sample), raw_copy(sample)
        rows_out += [
            (
                f"1. bulk import ({events:,} events, batches of {IMPORT_BATCH}) vs executemany",
                f"{ours:,.0f} ev/s",
                f"{many:,.0f} rows/s",
                f"{ours / many:.2f}",
                "≥ 0.5",
            ),
            (
                "1. bulk import vs binary COPY",
                f"{ours:,.0f} ev/s",
                f"{copy:,.0f} rows/s",
                f"{ours / copy:.2f}",
                "—",
            ),
        ]
        progress("rebuilding")

        # 3. rebuild
        ledger = build_ledger(Settings(database_url=big_url))
        store = read_models_of(ledger)
        if store is None:
            raise SystemExit("the benchmark's ledger is in PostgreSQL: it has read models")
        elapsed, _ = timed(lambda: rebuild(ledger, store))
        rebuilt = events / elapsed
        scan = raw_scan_decode(big)
        rows_out.append(
            (
                "3. read-model rebuild vs scan + json decode",
                f"{rebuilt:,.0f} ev/s",
                f"{scan:,.0f} rows/s",
                f"{rebuilt / scan:.2f}",
                "≥ 0.5",
            )
        )

        # 4. reports from the read model
        def report_one() -> None:
            books = books_for_reports(ledger, store, unit="U00000")
            final_accounts(books, "U00000", last_year)

        def report_all() -> None:
            books = books_for_reports(ledger, store)
            for u in range(scale.units):
                final_accounts(books, f"U{u:05d}", last_year)

        one = statistics.median(timed(report_one)[0] for _ in range(3)) * 1000
        every = statistics.median(timed(report_all)[0] for _ in range(3)) * 1000
        rows_out += [
            ("4. report latency, one unit (read model)", f"{one:,.0f} ms", "—", "—", "—"),
            (f"4. report latency, all {scale.units:,} units", f"{every:,.0f} ms", "—", "—", "—"),
        ]

        # 4. auditors' queries for one unit, against the one-unit report of the same run
        unit, mid = "U00000", events // 2
        trail = partial(unit_trail, ledger, store, unit=unit, clearance=True)
        auditor: dict[str, Callable[[], Any]] = {
            "trail by line": lambda: trail(year=last_year, line=f"JB-{unit}-RY"),
            "trail by project": lambda: trail(project="P0000"),
            "trail by enterprise": lambda: trail(enterprise=ENTERPRISES[0]),
            "trail by 凭证号": lambda: trail(document_no="记-1"),
            "check": lambda: check_year(
                books_for_reports(ledger, store, unit=unit), unit, last_year
            ),
            "final accounts as of a log position": lambda: final_accounts(
                books_for_reports(ledger, store, unit=unit, as_of_position=mid),
                unit,
                FIRST_YEAR,
                clearance=True,
            ),
            "final accounts as of a date": lambda: final_accounts(
                books_for_reports(ledger, store, unit=unit, as_of_date=date(last_year, 6, 30)),
                unit,
                last_year,
                clearance=True,
            ),
        }
        for name, action in auditor.items():
            ms = statistics.median(timed(action)[0] for _ in range(5)) * 1000
            rows_out.append(
                (
                    f"4. auditor: {name}, one unit",
                    f"{ms:,.0f} ms",
                    f"{one:,.0f} ms (one-unit report)",
                    f"{ms / one:.1f}",
                    "≤ 3",
                )
            )
        if scale is QUICK:  # three folds of the whole log: half an hour at full scale
            before = timed(
                lambda: (
                    check_year(books_of(ledger), unit, last_year)
                    and audit_trail(
                        ledger.read_events(), books_of(ledger), unit=unit, document_no="记-1"
                    )
                )
            )[0]
            rows_out.append(
                (
                    "4. (as before: check + trail by 凭证号 folding the whole log)",
                    f"{before * 1000:,.0f} ms",
                    f"{one:,.0f} ms (one-unit report)",
                    f"{before * 1000 / one:.1f}",
                    "—",
                )
            )
        state = folder / "verified.json"
        full_verify = timed(lambda: audit_chain(ledger, [], state=state))[0]
        nothing_new = timed(lambda: audit_chain(ledger, [], state=state))[0]
        rows_out.append(
            (
                "4. audit verify from its checkpoint, nothing new vs --full",
                f"{nothing_new * 1000:,.0f} ms",
                f"{full_verify * 1000:,.0f} ms ({events:,} events)",
                f"{nothing_new / full_verify:.2f}",
                "—",
            )
        )
        ledger.close()
        progress("posting over HTTP")

        # 2. concurrent posting over HTTP
        clients, per_client = 32, 40
        raw = raw_autocommit_inserts(clients, per_client * 4, sample[-1])
        if WRK is not None:
            for http, loop in (("h11", "asyncio"), ("httptools", "uvloop")):
                (post, p50, p99), (ceiling, _h50, h99), batch = http_stack(
                    big_url, last_year, clients, folder, http, loop
                )
                rows_out += [
                    (
                        f"2. {clients} clients posting over HTTP (wrk; uvicorn {http} + {loop}) "
                        "vs the same stack's GET /health",
                        f"{post:,.0f} cmd/s (p50 {p50:.0f} ms, p99 {p99:.0f} ms)",
                        f"{ceiling:,.0f} req/s (p99 {h99:.0f} ms)",
                        f"{post / ceiling:.2f}",
                        "≥ 0.8, p99 < 50 ms",
                    ),
                    (
                        f"2. (same stack) posting vs autocommit inserts ({clients} threads)",
                        f"{post:,.0f} cmd/s",
                        f"{raw:,.0f} rows/s",
                        f"{post / raw:.2f}",
                        "≥ 1.0",
                    ),
                    (
                        f"2. (same stack) POST /v1/batch of {IMPORT_BATCH} commands vs executemany",
                        f"{batch:,.0f} ev/s",
                        f"{many:,.0f} rows/s",
                        f"{batch / many:.2f}",
                        "≥ 0.5",
                    ),
                ]
        else:
            rows_out += python_load_rows(big_url, last_year, clients, per_client, raw)
        progress("verifying the chain incrementally")
        since = build_ledger(Settings(database_url=big_url))
        after = since.position()
        # one run: a second would find nothing new since the first
        incremental = timed(lambda: audit_chain(since, [], state=state))[0]
        since.close()
        rows_out.append(
            (
                f"4. audit verify from its checkpoint (after {after - events:,} new events) "
                "vs --full",
                f"{incremental * 1000:,.0f} ms",
                f"{full_verify * 1000:,.0f} ms ({events:,} events)",
                f"{incremental / full_verify:.2f}",
                "—",
            )
        )
        progress("measuring rebuild memory")

        # 5. peak memory of a full rebuild, 10× the events on the same units and lines
        # (the small history is imported by units in parallel processes: row 1b)
        processes = os.cpu_count() or 2
        small_events, small_elapsed = imported_in_parallel(small_url, small_path, processes)
        rows_out.insert(
            2,
            (
                f"1. bulk import ({small_events:,} events of the small history) in {processes} "
                f"processes by unit vs executemany (one process: {ours:,.0f} ev/s)",
                f"{small_events / small_elapsed:,.0f} ev/s",
                f"{many:,.0f} rows/s",
                f"{small_events / small_elapsed / many:.2f}",
                "≥ 0.5",
            ),
        )
        env["FUNDFLOW_DATABASE_URL"] = small_url
        small_rss = peak_rss_of([FUNDFLOW, "projections", "rebuild"], env)
        env["FUNDFLOW_DATABASE_URL"] = big_url
        big_rss = peak_rss_of([FUNDFLOW, "projections", "rebuild"], env)
        rows_out.append(
            (
                f"5. rebuild peak memory, {events:,} vs {small_events:,} events",
                f"{big_rss / 1024:,.0f} MiB",
                f"{small_rss / 1024:,.0f} MiB",
                f"{big_rss / small_rss:.2f}",
                "≤ 1.5",
            )
        )
        progress("beancount")

        # 6. the beancount peer
        # its own store: the main one has had postings over HTTP since its import
        peer_events, _ = imported(peer_url, peer_path)
        theirs, ours_time, transactions = beancount_peer(peer_url, peer_path, folder)
        rows_out.append(
            (
                f"6. replay to balances vs beancount load + balances ({transactions:,} "
                f"transactions, {peer_events:,} events)",
                f"{ours_time:.2f} s",
                f"{theirs:.2f} s",
                f"{theirs / ours_time:.1f}× faster",
                "≥ 10× faster",
            )
        )
    return rows_out


def progress(what: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {what}", file=sys.stderr, flush=True)


def table(rows: list[tuple[str, ...]]) -> str:
    header = ("benchmark", "fundflow", "baseline", "ratio", "target")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    with psycopg.connect(POSTGRES) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    from importlib.metadata import version

    return (
        f"{os.cpu_count()} CPUs, {mem:.0f} GiB, {platform.platform()}; Python "
        f"{platform.python_version()}, PostgreSQL {pg}, eventsourcing "
        f"{version('eventsourcing')}, pydantic {version('pydantic')}, psycopg "
        f"{version('psycopg')}"
    )


def record(scale: Scale, text: str) -> None:
    """Put this run's section into BENCHMARKS.md (between its markers), leaving the rest
    of the file — the other scale's run, the notes — as it is."""
    path = ROOT / "BENCHMARKS.md"
    begin, end = f"<!-- {scale.name} run: start -->", f"<!-- {scale.name} run: end -->"
    section = (
        f"{begin}\n## {scale.name} run, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
        f"Machine: {machine()}.\n\nScale: {scale.units:,} units × {scale.lines} budget lines "
        f"× {scale.years} years (each closed before the next), {scale.payments:,} payments "
        f"per unit and year; the small history for the memory baseline has a tenth of the "
        f"payments; the beancount peer runs on the main history of {scale.peer_units:,} "
        f"units.\n\n{text}\n{end}"
    )
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        current = head + section + rest.split(end, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(current, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--quick", action="store_true", help="minutes (default)")
    which.add_argument("--full", action="store_true", help="province scale (about an hour)")
    parser.add_argument("--no-write", action="store_true", help="do not write BENCHMARKS.md")
    args = parser.parse_args()
    scale = FULL if args.full else QUICK
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as folder:
        rows = run(scale, Path(folder))
    text = table(rows)
    print(text)
    if not args.no_write:
        record(scale, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
