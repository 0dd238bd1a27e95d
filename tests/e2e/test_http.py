"""The service as clerks use it: ``fundflow serve`` (uvicorn on 127.0.0.1) against
PostgreSQL, driven over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from commands.cli import seed_path
from tests.e2e.service import Service

pytestmark = pytest.mark.postgres
FUNDFLOW = str(Path(sys.executable).parent / "fundflow")
UNIT = "CJ-SWGXJ"

#: Where each command of the import format is posted.
ROUTES = {
    "register_unit": "/v1/units",
    "open_fiscal_year": "/v1/units/{unit}/years",
    "register_project": "/v1/units/{unit}/projects",
    "open_budget_line": "/v1/units/{unit}/years/{year}/lines",
    "allocate_budget": "/v1/units/{unit}/years/{year}/lines/{line}/allocations",
    "reduce_budget": "/v1/units/{unit}/years/{year}/lines/{line}/reductions",
    "transfer_to_enterprise": "/v1/units/{unit}/years/{year}/lines/{line}/transfers",
    "disburse": "/v1/units/{unit}/years/{year}/lines/{line}/disbursements",
    "claw_back": "/v1/units/{unit}/years/{year}/lines/{line}/clawbacks",
    "reverse_entry": "/v1/units/{unit}/years/{year}/lines/{line}/reversals",
    "import_prior_year_figures": "/v1/units/{unit}/years/{year}/prior-year-figures",
    "set_three_public_budget": "/v1/units/{unit}/years/{year}/three-public-budget",
    "record_year_facts": "/v1/units/{unit}/years/{year}/facts",
}


def as_request(command: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(path, idempotency key, body) of an import-format command."""
    template = ROUTES[command["type"]]
    body = {k: v for k, v in command.items() if k not in ("type", "command_id", "posted_by")}
    values = {}
    for name in ("unit", "year", "line"):
        if "{" + name + "}" in template:
            values[name] = body.pop(name)
    return template.format(**values), command["command_id"], body


def test_the_seed_posted_over_http_gives_the_cli_report(service: Service) -> None:
    admin = service.token("会计-王芳", "admin")
    headers = {"Authorization": f"Bearer {admin}"}
    with httpx.Client(base_url=service.base, headers=headers, timeout=30) as client:
        for line in seed_path().read_text(encoding="utf-8").splitlines():
            path, key, body = as_request(json.loads(line))
            response = client.post(path, json=body, headers={"Idempotency-Key": key})
            assert response.status_code == 201, (path, response.text)
        over_http = client.get(f"/v1/units/{UNIT}/years/2022/reports/final-accounts").json()
        check = client.get(f"/v1/units/{UNIT}/years/2022/check").json()
    by_cli = subprocess.run(
        [
            FUNDFLOW,
            "report",
            "final-accounts",
            "--unit",
            UNIT,
            "--year",
            "2022",
            "--format",
            "json",
        ],
        env=service.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert over_http == json.loads(by_cli.stdout)
    assert over_http["overview"]["income_total"] == "11050.74"
    assert check["ok"], [c for c in check["checks"] if not c["ok"]]


def test_32_clerks_spend_one_line_down_past_zero(service: Service) -> None:
    """32 concurrent clients, each paying 100 yuan ten times from a line of 10,000 yuan:
    exactly 100 payments are accepted, the other 220 refused, nothing lost or doubled."""
    admin = {"Authorization": f"Bearer {service.token('admin', 'admin')}"}
    service.open_funded_line(
        admin,
        "U32",
        "并发测试局",
        "HOT",
        "热点指标",
        amount="10000",
        initial=True,
        document_no="昌市财预〔2024〕1号",
    )
    clerk = {"Authorization": f"Bearer {service.token('clerk', 'clerk', 'U32')}"}
    outcomes: list[tuple[str, int]] = []
    lock = threading.Lock()

    def clerk_posts(n: int) -> None:
        with httpx.Client(base_url=service.base, headers=clerk, timeout=60) as client:
            for k in range(10):
                key = f"pay-{n}-{k}"
                body = {
                    "amount": "100",
                    "payee": f"收款人{n}",
                    "economic_code": "30201",
                    "business_date": "2024-03-01",
                    "document_no": f"记-{key}",
                }
                for _retry in range(20):
                    response = client.post(
                        "/v1/units/U32/years/2024/lines/HOT/disbursements",
                        json=body,
                        headers={"Idempotency-Key": key},
                    )
                    if response.json().get("code") != "concurrent_update":
                        break
                with lock:
                    outcomes.append((key, response.status_code))

    threads = [threading.Thread(target=clerk_posts, args=(n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    accepted = [key for key, status in outcomes if status == 201]
    refused = [key for key, status in outcomes if status == 409]
    assert len(outcomes) == 320
    assert (len(accepted), len(refused)) == (100, 220)
    with httpx.Client(base_url=service.base, headers=admin, timeout=30) as client:
        balances = client.get("/v1/units/U32/years/2024/reports/balances").json()
        check = client.get("/v1/units/U32/years/2024/check").json()
        n = accepted[0].split("-")[1]
        retried = client.post(
            "/v1/units/U32/years/2024/lines/HOT/disbursements",
            json={
                "amount": "100",
                "payee": f"收款人{n}",
                "economic_code": "30201",
                "business_date": "2024-03-01",
                "document_no": f"记-{accepted[0]}",
            },
            headers={**clerk, "Idempotency-Key": accepted[0]},
        )
    line = balances["lines"][0]
    assert (line["executed"], line["balance"]) == ("10000.00", "0.00")
    assert check["ok"]
    assert retried.status_code == 200 and retried.headers["Idempotent-Replayed"] == "true"


def test_sigterm_finishes_the_request_in_flight(service: Service) -> None:
    """Half a request is on the wire when the service is told to stop; it still answers it
    (and stores it) before it exits."""
    admin = service.token("admin", "admin")
    body = json.dumps(
        {"code": "INFLIGHT", "name": "在途请求局", "business_date": "2024-01-01"},
        ensure_ascii=False,
    ).encode()
    head = (
        f"POST /v1/units HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {admin}\r\n"
        f"Idempotency-Key: inflight-1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", service.port), timeout=30) as conn:
        conn.sendall(head + body[:10])
        time.sleep(0.3)
        assert service.process is not None
        service.process.terminate()  # SIGTERM
        time.sleep(0.5)
        conn.sendall(body[10:])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    # uvicorn exits once the in-flight request is answered (re-raising the SIGTERM).
    assert service.process.wait(timeout=40) in (0, -signal.SIGTERM)
    listed = subprocess.run(
        [FUNDFLOW, "report", "balances", "--unit", "INFLIGHT", "--year", "2024"],
        env=service.env,
        capture_output=True,
        text=True,
    )
    # The unit was stored (it has no year yet, but it exists).
    assert "fiscal year 2024 of unit INFLIGHT has not been opened" in listed.stderr


def test_deploy_smoke_passes() -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        ["bash", str(root / "deploy" / "smoke")],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "FUNDFLOW": FUNDFLOW, "PYTHON": sys.executable},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "smoke: ok" in done.stdout
