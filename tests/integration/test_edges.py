"""Smaller edges of the service and the CLI (issue 11, section 8): every response logged
with a request id, deep JSON refused, a point in time named once, /docs without internet,
the CLI's role and unit scope, dates refused with a code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from commands.api import create_app
from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.application import Ledger
from ledger.roles import Role
from ledger.settings import Settings
from tests.e2e.test_cli import Cli
from tests.integration.test_api import issue
from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands

DEEP = "[" * 1000 + "]" * 1000


@pytest.fixture
def books(ledger: Ledger) -> Scenario:
    return Scenario(ledger).given(
        *setup_commands(), cmd("allocate_budget", line="L1", amount="1000", initial=True)
    )


@pytest.fixture
def service(books: Scenario, database_url: str) -> Any:
    app = create_app(
        Settings(database_url=database_url, max_request_bytes=4096), ledger=books.ledger
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield (
            app,
            client,
            issue(books.ledger, "auditor", Role.AUDITOR),
            issue(books.ledger, "clerk", Role.CLERK),
        )


def test_every_response_is_logged_with_its_request_id(service: Any) -> None:
    app, client, _, clerk = service

    def boom() -> None:
        raise RuntimeError("a bug with 涉密 detail in its message")

    assert isinstance(app, FastAPI)
    app.add_api_route("/boom", boom, methods=["GET"])
    url = f"/v1/units/{UNIT}/years/{YEAR}/lines/L1/allocations"
    headers = {"Authorization": f"Bearer {clerk}", "Idempotency-Key": "k-1"}
    with capture_logs() as logs:
        responses = [
            client.post(url, content=b'{"a": 1, "a": 2}', headers=headers),  # 400
            client.post(url, content=b"x" * 5000, headers=headers),  # 413
            client.post(url, content=DEEP.encode(), headers=headers),  # 400, not 500
            client.get("/boom"),  # 500
        ]
    assert [r.status_code for r in responses] == [400, 413, 400, 500]
    assert responses[2].json()["code"] == "nesting_too_deep"
    assert "涉密" not in responses[3].text
    requests = [e for e in logs if e["event"] == "request"]
    assert [e["status"] for e in requests] == [400, 413, 400, 500]
    for response, entry in zip(responses, requests, strict=True):
        assert response.headers["X-Request-ID"] == entry["request_id"]
    assert all("涉密" not in json.dumps(e, ensure_ascii=False) for e in logs)


def test_an_unsafe_request_id_is_replaced(service: Any) -> None:
    _, client, *_ = service
    response = client.get("/health", headers={"X-Request-ID": 'a"\nforged=1'})
    assert response.headers["X-Request-ID"] != 'a"\nforged=1'


def test_deep_json_is_refused_by_the_import(books: Scenario, tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text(DEEP + "\n", encoding="utf-8")
    outcome = import_file(CommandHandler(books.ledger), path)
    assert outcome.error is not None and outcome.error.code == "invalid_input"
    assert "levels deep" in outcome.error.message


def test_a_point_in_time_is_a_date_or_a_position(service: Any, books: Scenario) -> None:
    _, client, auditor, _ = service
    url = f"/v1/units/{UNIT}/years/{YEAR}/reports/balances"
    headers = {"Authorization": f"Bearer {auditor}"}
    both = client.get(url, params={"as_of": "2022-06-30", "as_of_position": 3}, headers=headers)
    assert both.status_code == 422 and both.json()["code"] == "invalid_input"
    empty = client.get(url, params={"as_of_position": 0}, headers=headers)
    assert empty.status_code == 404 and empty.json()["code"] == "unknown_unit"  # not yet
    now = client.get(url, headers=headers)
    assert now.status_code == 200
    impossible = client.get(url, params={"as_of": "2022-02-30"}, headers=headers)
    assert impossible.status_code == 422 and impossible.json()["code"] == "invalid_input"


def test_docs_are_served_without_internet(service: Any) -> None:
    _, client, *_ = service
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "http://" not in page.text
    assert "https://" not in page.text
    assert client.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/swagger-ui/swagger-ui.css").status_code == 200


def test_the_cli_acts_in_a_role_and_a_scope(
    books: Scenario, database_url: str, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, database_url)
    allocate = [
        "post", "allocate", "--unit", "测试局", "--year", str(YEAR), "--line", "L1",
        "--amount", "5", "--date", "2022-03-01", "--document-no", "记-1",
    ]  # fmt: skip
    cli.env["FUNDFLOW_ROLE"] = "auditor"
    refused = cli(*allocate, ok=False)
    assert "rejected (forbidden)" in refused.stderr
    assert json.loads(cli(*allocate, "--role", "clerk").stdout)["status"] == "applied"
    cli.env["FUNDFLOW_UNITS"] = "U9"
    for args in (
        [*allocate[:-1], "记-2", "--role", "clerk"],
        ["report", "balances", "--unit", UNIT, "--year", str(YEAR)],
        ["check", "--unit", "测试局", "--year", str(YEAR)],
        ["audit", "trail", "--unit", UNIT, "--year", str(YEAR), "--line", "L1"],
    ):
        out = cli(*args, ok=False)
        assert out.returncode == 1 and "rejected (out_of_scope)" in out.stderr, args
    cli.env["FUNDFLOW_UNITS"] = "测试局"  # the unit by its full name
    cli("report", "balances", "--unit", UNIT, "--year", str(YEAR))


def test_the_cli_names_a_bad_date_with_a_code(
    books: Scenario, database_url: str, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, database_url)
    out = cli(
        "report", "balances", "--unit", UNIT, "--year", str(YEAR), "--as-of", "2022-02-30", ok=False
    )
    assert out.returncode == 1 and "rejected (invalid_input)" in out.stderr
    assert "YYYY-MM-DD" in out.stderr
    both = cli(
        "report", "balances", "--unit", UNIT, "--year", str(YEAR), "--as-of", "2022-06-30",
        "--as-of-position", "3", ok=False,
    )  # fmt: skip
    assert "rejected (invalid_input)" in both.stderr
