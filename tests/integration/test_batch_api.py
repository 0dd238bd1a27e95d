"""``POST /v1/batch`` on both stores: many commands in one request, each with its own
command id and result, stored in one transaction as the import stores them; a retry
replays; the first refusal stops the batch (those before it stored); roles, unit scopes,
the token's identity and malformed commands are checked as for single postings."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from commands.api import create_app
from ledger.application import Ledger
from ledger.roles import Role
from ledger.settings import Settings
from projections.books import books_of
from tests.integration.test_api import issue
from tests.scenario import Scenario, cmd, setup_commands


def payment(n: int, amount: str = "1.00", **fields: Any) -> dict[str, Any]:
    body = cmd(
        "disburse",
        line="B1",
        amount=amount,
        payee="收款人",
        economic_code="30101",
        command_id=f"batch-{n}",
        document_no=f"记-{n}",
        **fields,
    )
    del body["posted_by"]
    return body


def test_a_batch_is_stored_as_the_import_stores_it(ledger: Ledger, database_url: str) -> None:
    Scenario(ledger).given(
        *setup_commands(), cmd("allocate_budget", line="B1", amount="10000", initial=True)
    )
    clerk = {"Authorization": f"Bearer {issue(ledger, '会计-王芳', Role.CLERK)}"}
    app = create_app(Settings(database_url=database_url, group_commit=False), ledger=ledger)
    with TestClient(app) as client:
        commands = [payment(n) for n in range(1500)]
        done = client.post("/v1/batch", json={"commands": commands}, headers=clerk)
        assert done.status_code == 200, done.text[:500]
        body = done.json()
        assert body["ok"] and body["applied"] == 1500 and body["already_applied"] == 0
        assert [r["command_id"] for r in body["results"]] == [f"batch-{n}" for n in range(1500)]
        line = next(ln for ln in books_of(ledger).lines.values() if ln.code == "B1")
        assert line.totals.spent == 1500 * 100

        position = ledger.position()
        again = client.post("/v1/batch", json={"commands": commands}, headers=clerk).json()
        assert again["already_applied"] == 1500 and ledger.position() == position

        # the first refusal stops the batch: those before it stored, the rest not
        more = [payment(2000 + n) for n in range(5)]
        more[3] = payment(2003, amount="999999")
        refused = client.post("/v1/batch", json={"commands": more}, headers=clerk)
        assert refused.status_code == 409 and refused.headers["content-type"].startswith(
            "application/problem+json"
        )
        problem = refused.json()
        assert problem["code"] == "overspend" and problem["failed_index"] == 3
        assert problem["applied"] == 3 and "commands[3] (batch-2003)" in problem["detail"]
        assert ledger.position() == position + 3 * 2  # an event and its record each
        more[3] = payment(2003)
        resent = client.post("/v1/batch", json={"commands": more}, headers=clerk).json()
        assert (resent["applied"], resent["already_applied"]) == (2, 3)


def test_a_batch_obeys_roles_scopes_and_the_input_rules(ledger: Ledger, database_url: str) -> None:
    Scenario(ledger).given(
        *setup_commands(),
        cmd("allocate_budget", line="B1", amount="10000", initial=True),
        cmd("register_unit", code="OTHER", name="别的局"),
    )
    clerk = {"Authorization": f"Bearer {issue(ledger, '会计-王芳', Role.CLERK)}"}
    auditor = {"Authorization": f"Bearer {issue(ledger, '审计-李', Role.AUDITOR)}"}
    app = create_app(Settings(database_url=database_url), ledger=ledger)
    position = ledger.position()
    with TestClient(app) as client:

        def post(commands: list[dict[str, Any]], headers: dict[str, str] = clerk) -> Any:
            return client.post("/v1/batch", json={"commands": commands}, headers=headers)

        assert post([payment(1)], auditor).status_code == 403
        assert post([payment(1)], {}).status_code == 401
        other = payment(2, unit="OTHER")
        scoped = post([payment(1), other])
        assert scoped.status_code == 403 and scoped.json()["code"] == "out_of_scope"
        admin_only = post([{**cmd("register_unit", code="NEW", name="新局")}])
        assert admin_only.status_code == 422  # posted_by is not the token's
        register = cmd("register_unit", code="NEW", name="新局")
        del register["posted_by"]
        assert post([register]).json()["code"] == "forbidden"
        bad = post([payment(3), payment(4, amount="1,5")])
        assert bad.status_code == 422 and "commands[1]" in bad.json()["detail"]
        step = post([{"type": "carry_over", "command_id": "x"}])
        assert step.status_code == 422
        assert post([]).status_code == 422
        assert ledger.position() == position - 0 + 2  # only payment(1) of the scoped batch
        posted = post([payment(5)]).json()["results"][0]
        assert posted["status"] == "applied"
    assert {
        e.posted_by for _, e in ledger.read_events(start=position + 1) if hasattr(e, "posted_by")
    } == {"会计-王芳"}
