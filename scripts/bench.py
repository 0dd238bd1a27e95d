"""The benchmark suite: each figure as a ratio against a baseline measured in the same run
on the same PostgreSQL (these machines are noisy; absolute numbers mean little).

    python scripts/bench.py --quick          # a few minutes
    python scripts/bench.py --full           # the province scale (hours)

Writes BENCHMARKS.md (machine, versions, date, the table) unless --no-write.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from commands.handlers import CommandHandler  # noqa: E402
from commands.importer import import_file  # noqa: E402
from ledger.composition import build_ledger  # noqa: E402
from ledger.settings import Settings  # noqa: E402
from projections.final_accounts import final_accounts  # noqa: E402
from projections.read_model import ReadModelStore, books_for_reports, rebuild  # noqa: E402
from scripts.generate import generate  # noqa: E402

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


def history(path: Path, units: int, lines: int, payments: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for line in generate(units, lines, payments, 2024, 1):
            handle.write(line + "\n")


def stored_rows(schema_name: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(POSTGRES) as conn:
        return conn.execute(
            f'SELECT originator_id, originator_version, topic, state FROM "{schema_name}".'
            "fundflow_events ORDER BY notification_id"
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

    def work() -> None:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            for _ in range(per_client):
                conn.execute(
                    "INSERT INTO bench_autocommit VALUES (%s, %s, %s, %s)",
                    (uuid.uuid4(), 1, row[2], row[3]),
                )

    threads = [threading.Thread(target=work) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute("DROP TABLE bench_autocommit")
    return clients * per_client / elapsed


def http_posting(
    url: str, clients: int, per_client: int, workers: int = 1
) -> tuple[float, float, float]:
    """Throughput and p50/p99 latency (ms) of 32 clerks posting over HTTP to hot lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
    env.update(FUNDFLOW_DATABASE_URL=url, FUNDFLOW_ROLE="admin")
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
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        latencies: list[float] = []
        lock = threading.Lock()

        def clerk(n: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                for k in range(per_client):
                    hot = ["JB-U00000-RY", "JB-U00000-GY", "XM-U00000-0000"][k % 3]
                    kind, extra = (
                        ("transfers", {"payee": "企业000有限公司"})
                        if hot.startswith("XM")
                        else (
                            "disbursements",
                            {
                                "payee": "收款人",
                                "economic_code": "30101" if hot.endswith("RY") else "30201",
                            },
                        )
                    )
                    body = {
                        "amount": "1",
                        "business_date": "2024-06-01",
                        "document_no": f"b-{n}-{k}",
                        **extra,
                    }
                    started = time.perf_counter()
                    response = client.post(
                        f"/v1/units/U00000/years/2024/lines/{hot}/{kind}",
                        json=body,
                        headers={"Idempotency-Key": f"bench-{n}-{k}"},
                    )
                    with lock:
                        latencies.append((time.perf_counter() - started) * 1000)
                    if response.status_code not in (200, 201):
                        raise RuntimeError(response.text)

        threads = [threading.Thread(target=clerk, args=(n,)) for n in range(clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=60)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, statistics.median(latencies), p99


def run(units: int, lines: int, payments: int, memory_factor: int) -> list[tuple[str, ...]]:
    rows_out: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as folder, schema() as name:
        url = f"{POSTGRES}?schema={name}"
        path = Path(folder) / "history.jsonl"
        history(path, units, lines, payments)
        ledger = build_ledger(Settings(database_url=url))
        elapsed, outcome = timed(lambda: import_file(CommandHandler(ledger), path, batch_size=2000))
        assert outcome.ok, outcome.error
        events = ledger.position()
        ours = events / elapsed
        rows = stored_rows(name)
        many, copy = raw_executemany(rows), raw_copy(rows)
        rows_out += [
            (
                "1. bulk import (batch 2000) vs executemany",
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
        store = ReadModelStore(url)
        elapsed, _ = timed(lambda: rebuild(ledger, store))
        rebuilt = events / elapsed
        scan = raw_scan_decode(name)
        rows_out.append(
            (
                "3. read-model rebuild vs scan + json decode",
                f"{rebuilt:,.0f} ev/s",
                f"{scan:,.0f} rows/s",
                f"{rebuilt / scan:.2f}",
                "≥ 0.5",
            )
        )

        def report_one() -> None:
            final_accounts(books_for_reports(ledger, url), "U00000", 2024)

        def report_all() -> None:
            books = books_for_reports(ledger, url)
            for u in range(units):
                final_accounts(books, f"U{u:05d}", 2024)

        one = statistics.median(timed(report_one)[0] for _ in range(3)) * 1000
        every = statistics.median(timed(report_all)[0] for _ in range(3)) * 1000
        rows_out += [
            ("4. report latency, one unit (read model)", f"{one:,.0f} ms", "—", "—", "—"),
            (f"4. report latency, all {units} units", f"{every:,.0f} ms", "—", "—", "—"),
        ]

        clients, per_client = 32, 15
        throughput, p50, p99 = http_posting(url, clients, per_client)
        raw = raw_autocommit_inserts(clients, per_client * 4, rows[-1])
        rows_out.append(
            (
                f"2. {clients} clerks posting over HTTP vs autocommit inserts",
                f"{throughput:,.0f} cmd/s (p50 {p50:.0f} ms, p99 {p99:.0f} ms)",
                f"{raw:,.0f} rows/s",
                f"{throughput / raw:.2f}",
                "≥ 1.0, p99 < 50 ms",
            )
        )
        ledger.close()

        env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
        env["FUNDFLOW_DATABASE_URL"] = url
        small = peak_rss_of([FUNDFLOW, "projections", "rebuild"], env)
    with tempfile.TemporaryDirectory() as folder, schema() as name:
        url = f"{POSTGRES}?schema={name}"
        path = Path(folder) / "history.jsonl"
        history(path, units * memory_factor, lines, payments)
        ledger = build_ledger(Settings(database_url=url))
        assert import_file(CommandHandler(ledger), path, batch_size=2000).ok
        big_events = ledger.position()
        ledger.close()
        env["FUNDFLOW_DATABASE_URL"] = url
        big = peak_rss_of([FUNDFLOW, "projections", "rebuild"], env)
    rows_out.append(
        (
            f"5. rebuild peak memory, {big_events:,} vs {events:,} events",
            f"{big / 1024:,.0f} MiB",
            f"{small / 1024:,.0f} MiB",
            f"{big / small:.2f}",
            "≤ 1.5",
        )
    )
    rows_out.append(("6. peer: beancount load + balances", "not measured yet", "—", "—", "≥ 10"))
    return rows_out


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--quick", action="store_true", help="minutes (default)")
    scale.add_argument("--full", action="store_true", help="province scale (hours)")
    parser.add_argument("--no-write", action="store_true", help="do not write BENCHMARKS.md")
    args = parser.parse_args()
    units, lines, payments, factor = (2000, 20, 500, 10) if args.full else (10, 20, 1000, 5)
    rows = run(units, lines, payments, factor)
    text = table(rows)
    print(text)
    if not args.no_write:
        scale_name = "full" if args.full else "quick"
        (ROOT / "BENCHMARKS.md").write_text(
            f"# Benchmarks\n\nRun `bash scripts/bench --quick` (minutes) or `--full` "
            f"(province scale). Each figure against a baseline measured in the same run on "
            f"the same database; targets from issue 6.\n\n"
            f"## {scale_name} run, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
            f"Machine: {machine()}.\nScale: {units} units × {lines} budget lines × "
            f"{payments} payments per unit (memory: ×{factor} units).\n\n{text}\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
