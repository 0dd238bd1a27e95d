"""Hostile input for the import, the HTTP API and the published-figures reader: each is
refused with a clear message, nothing is written, nothing crashes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from commands.api import create_app
from commands.handlers import CommandHandler
from commands.importer import import_file
from commands.models import parse_command
from ledger.application import Ledger
from ledger.classifications import economic_class, require_function_item
from ledger.errors import LedgerError, UnknownCode
from ledger.settings import Settings
from ledger.tokens import new_token
from tests.e2e.test_http import ROUTES, as_request
from tests.scenario import UNIT, Scenario, cmd, setup_commands

FUNDFLOW = str(Path(sys.executable).parent / "fundflow")
GOOD = {
    "type": "allocate_budget",
    "command_id": "h-1",
    "posted_by": "clerk",
    "business_date": "2022-03-01",
    "unit": "U1",
    "year": 2022,
    "line": "L1",
    "amount": "10.00",
    "document_no": "d-1",
}

#: (name, raw line, words the refusal must contain)
CORPUS: list[tuple[str, bytes, str]] = [
    ("malformed JSON", b'{"type": "allocate_budget",', "not valid JSON"),
    ("not an object", b'["allocate_budget"]', "JSON object"),
    (
        "GBK text",
        json.dumps({**GOOD, "memo": "追加"}, ensure_ascii=False).encode("gbk"),
        "not UTF-8",
    ),
    ("enormous number", json.dumps({**GOOD, "amount": "9" * 30}).encode(), "absurdly large"),
    ("1e400", json.dumps({**GOOD, "amount": "1e400"}).encode(), '"1e400" is not an amount'),
    ("many decimals", json.dumps({**GOOD, "amount": "10.000001"}).encode(), "two decimals"),
    ("negative", json.dumps({**GOOD, "amount": "-10"}).encode(), "negative"),
    ("zero", json.dumps({**GOOD, "amount": "0"}).encode(), "zero"),
    ("float", b'{"type": "allocate_budget", "amount": 10.5}', "floating-point"),
    ("unknown unit", json.dumps({**GOOD, "unit": "NOPE"}).encode(), "not registered"),
    ("unknown line", json.dumps({**GOOD, "line": "NOPE"}).encode(), "does not exist"),
    (
        "unknown economic code",
        json.dumps({**GOOD, "type": "disburse", "payee": "X", "economic_code": "39998"}).encode(),
        "does not exist",
    ),
    ("unknown type", json.dumps({**GOOD, "type": "drop_tables"}).encode(), "type"),
    ("duplicated key", b'{"type": "allocate_budget", "amount": "1", "amount": "9999"}', "twice"),
    ("very long string", json.dumps({**GOOD, "memo": "长" * 5000}).encode(), "memo"),
    (
        "control characters",
        json.dumps({**GOOD, "document_no": "d\x00\x1b[2J"}).encode(),
        "document_no",
    ),
    ("line too long", json.dumps({**GOOD, "memo": "x" * 70_000}).encode(), "longer than"),
    ("unknown field", json.dumps({**GOOD, "sql": "1; DROP TABLE stored_events"}).encode(), "sql"),
]


@pytest.fixture
def books(ledger: Ledger) -> Scenario:
    return Scenario(ledger).given(
        *setup_commands(), cmd("allocate_budget", line="L1", amount="100")
    )


@pytest.mark.parametrize(("name", "raw", "words"), CORPUS, ids=[c[0] for c in CORPUS])
def test_the_import_refuses_hostile_lines(
    books: Scenario, tmp_path: Path, name: str, raw: bytes, words: str
) -> None:
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(raw + b"\n")
    before = books.stored()
    outcome = import_file(CommandHandler(books.ledger), path)
    assert outcome.failed_line == 1 and outcome.error is not None, name
    assert words in outcome.error.message, (name, outcome.error.message)
    assert books.stored() == before


def test_a_bom_and_sql_looking_text_are_just_data(books: Scenario, tmp_path: Path) -> None:
    text = "'; DROP TABLE stored_events; -- 付款"
    path = tmp_path / "bom.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + json.dumps({**GOOD, "command_id": "bom-1", "memo": text}, ensure_ascii=False).encode()
        + b"\n"
    )
    outcome = import_file(CommandHandler(books.ledger), path)
    assert outcome.ok and outcome.applied == 1
    memos = [getattr(e, "memo", None) for _, e in books.ledger.read_events()]
    assert text in memos  # stored verbatim, through parameters: the table is still there


def test_path_like_file_names_are_refused_clearly(books: Scenario, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
    env["COLUMNS"] = "300"  # one line per message
    for name in ("../../../../etc/shadow-does-not-exist", "/dev/null/x", "~/nope.jsonl"):
        done = subprocess.run(
            [FUNDFLOW, "import", name], env=env, capture_output=True, text=True, cwd=tmp_path
        )
        assert done.returncode == 2 and "does not exist" in done.stderr, name
    for name, content in (("figures.json", b"\xff\xfe{"), ("list.json", b"[1, 2]")):
        figures = tmp_path / name
        figures.write_bytes(content)
        done = subprocess.run(
            [
                FUNDFLOW,
                "audit",
                "reconcile",
                "--unit",
                "U1",
                "--year",
                "2022",
                "--published",
                str(figures),
            ],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert done.returncode == 2 and "rejected" in done.stderr, name


@pytest.fixture
def client(books: Scenario, database_url: str) -> tuple[TestClient, str]:
    made = new_token()
    CommandHandler(books.ledger).handle(
        parse_command(
            {
                "type": "issue_token",
                "command_id": "hostile-token",
                "posted_by": "admin",
                "business_date": "2022-01-01",
                "token_id": made.token_id,
                "identity": "clerk",
                "role": "clerk",
                "units": [UNIT],
                "salt": made.salt,
                "digest": made.digest,
            }
        )
    )
    app = create_app(Settings(database_url=database_url), ledger=books.ledger)
    return TestClient(app), made.token


@pytest.mark.parametrize(("name", "raw", "words"), CORPUS, ids=[c[0] for c in CORPUS])
def test_the_api_refuses_hostile_bodies(
    books: Scenario, client: tuple[TestClient, str], name: str, raw: bytes, words: str
) -> None:
    http, token = client
    before = books.ledger.position()
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = None
    path = "/v1/units/U1/years/2022/lines/L1/allocations"
    if isinstance(body, dict) and "twice" not in words:
        full = {**GOOD, **body}
        if full["type"] in ROUTES:
            path, _, fields = as_request(full)
            raw = json.dumps(fields, ensure_ascii=False).encode()
        else:
            path = f"/v1/units/U1/years/2022/lines/L1/{full['type']}"
    response = http.post(
        path,
        content=raw,
        headers={
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": "h",
            "Content-Type": "application/json",
        },
    )
    assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert books.ledger.position() == before


@given(st.text(max_size=12))
def test_code_parsers_refuse_anything_unknown_clearly(text: str) -> None:
    for check in (require_function_item, economic_class):
        try:
            check(text)
        except UnknownCode as error:
            assert error.message
        except LedgerError as error:  # pragma: no cover - would be a different error type
            raise AssertionError(error) from None
