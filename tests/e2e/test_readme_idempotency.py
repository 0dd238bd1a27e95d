"""The README's posting example, run literally with curl: a non-ASCII Idempotency-Key is
the same command id as the CLI's ``--command-id``, so the payment is made once, and it is
reversed by its real id."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.e2e.service import FUNDFLOW, Service

README = Path(__file__).resolve().parents[2] / "README.md"
UNIT = "CJ-SWGXJ"


def _fundflow(service: Service, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [FUNDFLOW, *args],
        env={**service.env, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def _readme_curl() -> str:
    """The curl command of the README's service section, as printed there."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^    (curl -X POST .*?)\n\n", text, flags=re.M | re.S)
    assert match, "the README shows a curl posting"
    return match.group(1)


def test_the_readme_curl_and_the_cli_post_the_same_payment_once(service: Service) -> None:
    _fundflow(service, "demo", "--format", "json")  # the bureau's 2022
    _fundflow(service, "close-year", "--unit", UNIT, "--year", "2022", "--role", "closer")
    for args in (
        [
            "post", "open-line", "--unit", UNIT, "--year", "2023", "--line", "JB-2010301-GY",
            "--title", "行政运行（公用经费）", "--nature", "basic_public",
            "--function-code", "2010301", "--date", "2023-01-01",
        ],
        [
            "post", "allocate", "--unit", UNIT, "--year", "2023", "--line", "JB-2010301-GY",
            "--amount", "150000", "--initial", "--date", "2023-01-01",
            "--document-no", "昌市人大批复〔2023〕1号",
        ],
    ):  # fmt: skip
        _fundflow(service, *args)
    token = _fundflow(
        service,
        "tokens", "create", "--identity", "会计-王芳", "--token-role", "clerk", "--unit", UNIT,
    ).stdout.strip()  # fmt: skip

    command = _readme_curl().replace("localhost:8000", f"127.0.0.1:{service.port}")
    sent = subprocess.run(
        ["bash", "-c", command + " -s -i"],
        env={"TOKEN": token, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        timeout=60,
        check=False,
    )
    head, _, body = sent.stdout.decode("utf-8").partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 201"), sent.stdout
    result = json.loads(body)
    assert result["command_id"] == "记-2023-03-0001"  # stored as sent, not as Latin-1

    # The same payment from the CLI, by the same clerk, under the same id: not paid again.
    again = _fundflow(
        service,
        "post", "disburse", "--unit", UNIT, "--year", "2023", "--line", "JB-2010301-GY",
        "--amount", "4300", "--payee", "加油站", "--economic-code", "30231",
        "--date", "2023-03-20", "--document-no", "记-2023-03-0001",
        "--command-id", "记-2023-03-0001",
        FUNDFLOW_USER="会计-王芳",
    )  # fmt: skip
    assert json.loads(again.stdout)["status"] == "already_applied"

    # Reversed by its real id.
    reversed_ = _fundflow(
        service,
        "post", "reverse", "--unit", UNIT, "--year", "2023", "--line", "JB-2010301-GY",
        "--reverses", "记-2023-03-0001", "--reason", "重复录入", "--date", "2023-03-21",
        "--document-no", "记-2023-03-0002",
    )  # fmt: skip
    assert json.loads(reversed_.stdout)["available"] == "150000.00"


def test_a_key_that_is_not_utf8_is_refused_by_name(service: Service) -> None:
    admin = service.token("admin", "admin")
    sent = subprocess.run(
        [
            "curl", "-s", "-X", "POST", f"{service.base}/v1/units",
            "-H", f"Authorization: Bearer {admin}",
            "-H", "Content-Type: application/json",
            "-H", b"Idempotency-Key: \xbc\xc7-1",  # GBK bytes, as a misconfigured client sends
            "-d", json.dumps({"code": "GBK", "name": "编码局", "business_date": "2024-01-01"}),
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    problem = json.loads(sent.stdout)
    assert problem["status"] == 400 and problem["code"] == "invalid_idempotency_key"
    assert "Idempotency-Key" in problem["detail"]


def test_workers_do_not_outlive_a_killed_supervisor(service: Service) -> None:
    """``fundflow serve --workers 2`` killed with SIGKILL: its workers stop and free the port
    (they used to go on holding it)."""
    import os
    import signal
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    supervisor = subprocess.Popen(
        [FUNDFLOW, "serve", "--port", str(port), "--workers", "2"],
        env=service.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until it answers
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("the workers did not start")
        time.sleep(2)  # both workers up
        os.kill(supervisor.pid, signal.SIGKILL)
        supervisor.wait(timeout=10)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    time.sleep(0.2)  # still held
            except OSError:
                return  # the port is free: the workers are gone
        raise AssertionError("the workers went on holding the port after the supervisor died")
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
