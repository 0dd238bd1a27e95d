"""The amount grammar and the text policy hold wherever a command enters: the CLI, a
JSON Lines import and HTTP, on SQLite and PostgreSQL. A refusal names what the clerk
typed (the amount text; the field and the character as U+XXXX) and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from commands.api import create_app
from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.application import Ledger
from ledger.roles import Role
from ledger.settings import Settings
from tests.e2e.test_cli import Cli
from tests.integration.test_api import issue
from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands

#: Amounts Decimal() or the old comma-dropping parser took, each now refused.
BAD_AMOUNTS = [
    "12,3",  # was 123.00: a decimal comma read as a thousands separator
    "1,50",  # was 150.00
    "1234,567",
    "1e3",
    "1_000",
    "+5",
    ".5",
    "5.",
    "٣",  # an Arabic-Indic digit
    "１２",  # full-width digits
    "1，000",
    "007",
    "1 000",
    "0.00001万",
]
#: (field, text, the character named in the refusal)
BAD_TEXT = [
    ("adjustment_reason", "更正\x00", "U+0000"),
    ("adjustment_reason", "更正\x1b[2J", "U+001B"),
    ("payee", "甲公司\u202e司公乙", "U+202E"),
    ("payee", "甲\u200b公司", "U+200B"),
    ("memo", "\u2066备注\u2069", "U+2066"),
    ("document_no", "记-\ufeff001", "U+FEFF"),
    ("posted_by", "clerk\x7f", "U+007F"),
    ("memo", "a\rb", "U+000D"),
]


def disburse(**fields: Any) -> dict[str, Any]:
    return cmd("disburse", **{"line": "L1", "payee": "某公司", "economic_code": "30227", **fields})


@pytest.fixture
def books(ledger: Ledger) -> Scenario:
    return Scenario(ledger).given(
        *setup_commands(), cmd("allocate_budget", line="L1", amount="10,000", initial=True)
    )


@pytest.fixture
def http(books: Scenario, database_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    token = issue(books.ledger, "clerk-a", Role.CLERK)
    app = create_app(Settings(database_url=database_url), ledger=books.ledger)
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {token}"}


def _import(books: Scenario, tmp_path: Path, command: dict[str, Any]) -> tuple[str, str]:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(command, ensure_ascii=False) + "\n", encoding="utf-8")
    outcome = import_file(CommandHandler(books.ledger), path)
    assert outcome.failed_line == 1 and outcome.error is not None
    return outcome.error.code, outcome.error.message


def _post(http: tuple[TestClient, dict[str, str]], body: dict[str, Any]) -> tuple[int, Any]:
    client, headers = http
    fields = {k: v for k, v in body.items() if k not in ("type", "command_id", "unit", "year")}
    fields.pop("line")
    fields.pop("posted_by", None)
    response = client.post(
        f"/v1/units/{UNIT}/years/{YEAR}/lines/L1/disbursements",
        content=json.dumps(fields, ensure_ascii=False).encode(),
        headers={
            **headers,
            "Idempotency-Key": body["command_id"],
            "Content-Type": "application/json",
        },
    )
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code, response.json()


# --- amounts ----------------------------------------------------------------------


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_the_import_refuses_a_misread_amount(books: Scenario, tmp_path: Path, amount: str) -> None:
    before = books.stored()
    code, message = _import(books, tmp_path, disburse(amount=amount))
    assert code == "invalid_amount"
    assert f'"{amount}"' in message and message.startswith("amount: ")
    assert books.stored() == before


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_http_refuses_a_misread_amount(
    books: Scenario, http: tuple[TestClient, dict[str, str]], amount: str
) -> None:
    position = books.ledger.position()
    status, problem = _post(http, disburse(amount=amount))
    assert (status, problem["code"]) == (422, "invalid_amount"), problem
    assert f'"{amount}"' in problem["detail"]
    assert books.ledger.position() == position


def test_amounts_in_the_grammar_are_read_the_same_by_import_and_http(
    books: Scenario, http: tuple[TestClient, dict[str, str]], tmp_path: Path
) -> None:
    path = tmp_path / "good.jsonl"
    path.write_text(
        json.dumps(disburse(amount="1,234.50元"), ensure_ascii=False) + "\n", encoding="utf-8"
    )
    assert import_file(CommandHandler(books.ledger), path).applied == 1
    client, headers = http
    response = client.post(
        f"/v1/units/{UNIT}/years/{YEAR}/lines/L1/disbursements",
        json={
            "amount": "0.0150万元",
            "payee": "某公司",
            "economic_code": "30227",
            "business_date": "2022-03-02",
            "document_no": "记-2",
        },
        headers={**headers, "Idempotency-Key": "good-http"},
    )
    assert response.status_code == 201, response.text
    paid = [e.amount for e in books.new_events(0) if type(e).__name__ == "Disbursed"]
    assert paid == [123_450, 15_000]


@pytest.mark.parametrize("amount", ["12,3", "1e3", "+5", "١٢"])
def test_the_cli_refuses_a_misread_amount(
    books: Scenario, database_url: str, tmp_path: Path, amount: str
) -> None:
    cli = Cli(tmp_path, database_url)
    position = books.ledger.position()
    done = cli(
        "post",
        "disburse",
        *("--unit", UNIT, "--year", str(YEAR), "--line", "L1", "--amount", amount),
        *("--payee", "某公司", "--economic-code", "30227", "--date", "2022-03-02"),
        *("--document-no", "记-1"),
        ok=False,
    )
    assert done.returncode == 1, done.stderr
    assert "rejected (invalid_amount)" in done.stderr and f'"{amount}"' in done.stderr
    assert books.ledger.position() == position


# --- free text --------------------------------------------------------------------


@pytest.mark.parametrize(("field", "text", "char"), BAD_TEXT)
def test_the_import_refuses_hidden_characters(
    books: Scenario, tmp_path: Path, field: str, text: str, char: str
) -> None:
    before = books.stored()
    code, message = _import(books, tmp_path, disburse(amount="10", **{field: text}))
    assert code == "invalid_input"
    assert message.startswith(f"{field}: ") and char in message, message
    assert books.stored() == before


@pytest.mark.parametrize(("field", "text", "char"), [t for t in BAD_TEXT if t[0] != "posted_by"])
def test_http_refuses_hidden_characters(
    books: Scenario, http: tuple[TestClient, dict[str, str]], field: str, text: str, char: str
) -> None:
    position = books.ledger.position()
    status, problem = _post(http, disburse(amount="10", **{field: text}))
    assert (status, problem["code"]) == (422, "invalid_input"), problem
    assert problem["errors"][0]["field"] == field and char in problem["detail"], problem
    assert books.ledger.position() == position


def test_the_cli_refuses_hidden_characters(
    books: Scenario, database_url: str, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, database_url)
    position = books.ledger.position()
    common = ["post", "disburse", "--unit", UNIT, "--year", str(YEAR), "--line", "L1"]
    common += ["--amount", "10", "--economic-code", "30227", "--date", "2022-03-02"]
    for extra, field, char in (
        (["--payee", "甲\u202e乙", "--document-no", "记-1"], "payee", "U+202E"),
        (
            ["--payee", "甲", "--document-no", "记-1", "--adjustment-reason", "x\x1b[2J"],
            "adjustment_reason",
            "U+001B",
        ),
        (["--payee", "甲", "--document-no", "记\u200d-1"], "document_no", "U+200D"),
    ):
        done = cli(*common, *extra, ok=False)
        assert done.returncode == 1, done.stderr
        assert f"rejected (invalid_input): {field}: " in done.stderr and char in done.stderr
    cli.env["FUNDFLOW_ROLE"] = "admin"
    done = cli("tokens", "create", "--identity", "王芳\u202e", "--token-role", "clerk", ok=False)
    assert "identity" in done.stderr and "U+202E" in done.stderr
    assert books.ledger.position() == position


def test_text_is_stored_in_nfc_and_crlf_as_lf(books: Scenario, tmp_path: Path) -> None:
    path = tmp_path / "nfc.jsonl"
    command = disburse(amount="10", payee="Cafe\u0301 某公司", memo="第一行\r\n第二行\t备注")
    path.write_text(json.dumps(command, ensure_ascii=False) + "\n", encoding="utf-8")
    position = books.ledger.position()
    assert import_file(CommandHandler(books.ledger), path).applied == 1
    (event,) = [e for e in books.new_events(position) if type(e).__name__ == "Disbursed"]
    assert event.payee == "Café 某公司" and event.memo == "第一行\n第二行\t备注"
    # the same command sent again, precomposed, is the same command: a safe retry
    again = tmp_path / "again.jsonl"
    again.write_text(
        json.dumps({**command, "payee": "Café 某公司", "memo": "第一行\n第二行\t备注"}) + "\n",
        encoding="utf-8",
    )
    outcome = import_file(CommandHandler(books.ledger), again)
    assert outcome.ok and outcome.already_applied == 1


def test_fundflow_import_refuses_a_misread_amount_and_a_nul(
    books: Scenario, database_url: str, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, database_url)
    cli.env["FUNDFLOW_ROLE"] = "clerk"
    position = books.ledger.position()
    for field, text, code, named in (
        ("amount", "1,50", "invalid_amount", '"1,50"'),
        (
            "adjustment_reason",
            "更正\x00",
            "invalid_input",
            "adjustment_reason: character 3 is U+0000",
        ),
    ):
        path = tmp_path / f"{field}.jsonl"
        command = disburse(**{"amount": "10", field: text})
        path.write_text(json.dumps(command, ensure_ascii=False) + "\n", encoding="utf-8")
        done = cli("import", str(path), ok=False)
        assert done.returncode == 1, done.stderr
        assert f"line 1 rejected ({code}): " in done.stderr and named in done.stderr, done.stderr
    assert books.ledger.position() == position
