"""The same voucher posted twice: refused ``possible_duplicate`` unless the clerk confirms it
with a reason (recorded on the event) — through the handler, the import, HTTP and the CLI,
on both stores. A refusal is not final for its command id: the same command may be sent
again and is applied once the books allow it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from commands.api import create_app
from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.aggregates import BudgetLine
from ledger.errors import Overspend, PossibleDuplicate
from ledger.roles import Role
from ledger.settings import Settings
from projections.audit_trail import audit_trail
from projections.books import books_of
from tests.e2e.test_cli import Cli
from tests.integration.test_api import issue
from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands

PAYMENT = {
    "line": "L1",
    "amount": "600.00",
    "payee": "特变电工股份有限公司",
    "document_no": "记-2022-05-0007",
    "business_date": "2022-05-01",
}


@pytest.fixture
def books(ledger: Any) -> Scenario:
    return Scenario(ledger).given(
        *setup_commands(), cmd("allocate_budget", line="L1", amount="10000", initial=True)
    )


def test_the_same_voucher_twice_is_refused_unless_confirmed(books: Scenario) -> None:
    books.when(cmd("transfer_to_enterprise", command_id="pay-1", **PAYMENT))
    before = books.ledger.position()
    with pytest.raises(PossibleDuplicate) as refused:
        books.when(cmd("transfer_to_enterprise", command_id="pay-2", **PAYMENT))
    assert refused.value.code == "possible_duplicate"
    assert (
        "记-2022-05-0007" in refused.value.message
        and "--confirm-duplicate" in refused.value.message
    )
    assert books.ledger.position() == before  # nothing written
    # another amount, payee or document is not a duplicate
    books.when(cmd("transfer_to_enterprise", command_id="pay-3", **{**PAYMENT, "amount": "601"}))
    confirmed = books.when(
        cmd("transfer_to_enterprise", command_id="pay-2", confirm_duplicate="第二期拨付，同一凭证",
            **PAYMENT)
    )  # fmt: skip
    assert confirmed.status == "applied"
    last = [e for _, e in books.ledger.read_events() if isinstance(e, BudgetLine.MoneyEvent)][-1]
    assert last.duplicate_confirmed == "第二期拨付，同一凭证"


def test_a_reversed_posting_may_be_posted_again(books: Scenario) -> None:
    books.when(cmd("transfer_to_enterprise", command_id="pay-1", **PAYMENT))
    books.when(cmd("reverse_entry", line="L1", reverses_command_id="pay-1", reason="金额有误"))
    books.when(cmd("transfer_to_enterprise", command_id="pay-2", **PAYMENT))
    # and the reversal carries the payee: the enterprise's trail shows all three
    trail = audit_trail(
        books.ledger.read_events(), books_of(books.ledger), unit=UNIT,
        enterprise=PAYMENT["payee"],
    )  # fmt: skip
    assert [e["type"] for e in trail] == [
        "BudgetLine.TransferredToEnterprise",
        "BudgetLine.EntryReversed",
        "BudgetLine.TransferredToEnterprise",
    ]


def test_a_refusal_does_not_consume_the_command_id(books: Scenario) -> None:
    """Decided: a refused command writes nothing, not even its id. Sent again with the same
    id and content once the books allow it (the allocation arrived), it is applied — once."""
    big = cmd("transfer_to_enterprise", command_id="big-1", **{**PAYMENT, "amount": "20000"})
    with pytest.raises(Overspend):
        books.when(big)
    books.when(cmd("allocate_budget", line="L1", amount="10000"))
    assert books.when(big).status == "applied"
    assert books.when(big).status == "already_applied"


def test_the_import_refuses_a_duplicate_line(books: Scenario, tmp_path: Path) -> None:
    path = tmp_path / "twice.jsonl"
    lines = [
        cmd("transfer_to_enterprise", command_id="imp-1", unit=UNIT, year=YEAR, **PAYMENT),
        cmd("transfer_to_enterprise", command_id="imp-2", unit=UNIT, year=YEAR, **PAYMENT),
    ]
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in lines), "utf-8")
    for batch in (1, 100):
        outcome = import_file(CommandHandler(books.ledger), path, batch_size=batch)
        assert outcome.failed_line == 2 and outcome.error is not None
        assert outcome.error.code == "possible_duplicate"
    lines[1]["confirm_duplicate"] = "同一凭证分两笔拨付"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in lines), "utf-8")
    assert import_file(CommandHandler(books.ledger), path).ok


def test_http_refuses_a_duplicate_with_409_and_takes_a_confirmation(
    books: Scenario, database_url: str
) -> None:
    clerk = issue(books.ledger, "clerk", Role.CLERK)
    app = create_app(Settings(database_url=database_url), ledger=books.ledger)
    url = f"/v1/units/{UNIT}/years/{YEAR}/lines/L1/transfers"
    body = {k: v for k, v in PAYMENT.items() if k != "line"}
    with TestClient(app) as client:

        def post(key: str, **extra: str) -> Any:
            headers = {"Authorization": f"Bearer {clerk}", "Idempotency-Key": key}
            return client.post(url, json={**body, **extra}, headers=headers)

        assert post("h-1").status_code == 201
        refused = post("h-2")
        assert refused.status_code == 409 and refused.json()["code"] == "possible_duplicate"
        assert post("h-2", confirm_duplicate="第二笔").status_code == 201


def test_the_cli_refuses_a_duplicate_and_takes_a_confirmation(
    books: Scenario, database_url: str, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, database_url)
    pay = [
        "post", "transfer", "--unit", UNIT, "--year", str(YEAR), "--line", "L1",
        "--amount", "600.00", "--payee", PAYMENT["payee"], "--date", "2022-05-01",
        "--document-no", PAYMENT["document_no"], "--role", "clerk",
    ]  # fmt: skip
    cli(*pay)
    refused = cli(*pay, ok=False)
    assert refused.returncode == 1 and "rejected (possible_duplicate)" in refused.stderr
    confirmed = cli(*pay, "--confirm-duplicate", "两张同额发票")
    assert json.loads(confirmed.stdout)["status"] == "applied"
