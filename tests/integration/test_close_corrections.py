"""Corrections into a closed year, on SQLite and PostgreSQL, through every way in: the
handler, a JSON Lines import (group commit) and the HTTP API. After each accepted
correction the identities of the closed year and of the next hold, in the read model as in
a fresh fold of the events; a refused correction writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from commands.api import create_app
from commands.closing import close_year
from commands.handlers import CommandHandler, today_in_china
from commands.importer import import_file
from commands.models import parse_command
from ledger.aggregates import BudgetLine
from ledger.application import Ledger
from ledger.closing.policy import ClosingPolicy
from ledger.composition import Services, read_models_of
from ledger.errors import Overspend
from ledger.roles import Actor, Role
from ledger.settings import Settings
from projections.books import books_of
from projections.checks import check_year
from projections.read_model import (
    all_docs,
    books_for_reports,
    catch_up,
    differences,
    rebuild,
)
from tests.integration.test_api import issue
from tests.scenario import UNIT, Scenario, cmd

CLOSER = Actor("closer-zhang", Role.CLOSER)
#: Last year, closed with an adjustment period that still runs today (the service and the
#: CLI decide "today" by the clock).
LAST = today_in_china().year - 1
POLICY = ClosingPolicy(adjustment_period_days=366)
CORRECTION = {"business_date": f"{LAST}-12-31", "adjustment_reason": "审计调整：补记"}


def closed_last_year(ledger: Ledger, database_url: str) -> None:
    """LAST closed: project line L carried 400 over, basic line G lapsed 200."""
    year = {"year": LAST, "business_date": f"{LAST}-03-01"}
    Scenario(ledger).given(
        cmd("register_unit", code=UNIT, name="测试局"),
        cmd("open_fiscal_year", unit=UNIT, year=LAST),
        cmd("register_project", unit=UNIT, code="P", name="持续项目"),
        cmd(
            "open_budget_line",
            unit=UNIT,
            line="L",
            title="项目",
            nature="project",
            function_code="2150805",
            project="P",
            **year,
        ),
        cmd(
            "open_budget_line",
            unit=UNIT,
            line="G",
            title="公用",
            nature="basic_public",
            function_code="2010301",
            **year,
        ),
        cmd("allocate_budget", line="L", amount="1000", **year),
        cmd("allocate_budget", line="G", amount="500", initial=True, **year),
        cmd("transfer_to_enterprise", line="L", amount="600", payee="甲公司", **year),
        cmd("disburse", line="G", amount="300", payee="加油站", economic_code="30231", **year),
    )
    close_year(Services.of(ledger), UNIT, LAST, policy=POLICY, actor=CLOSER)


def assert_books_hold(ledger: Ledger, database_url: str) -> None:
    """Both years' identities hold, in a fresh fold and in the read model; the read model
    followed incrementally equals one rebuilt from the events."""
    store = read_models_of(ledger)
    catch_up(ledger, store)
    assert differences(ledger, store) == []
    for books in (books_of(ledger), books_for_reports(ledger, read_models_of(ledger))):
        for year in (LAST, LAST + 1):
            failed = [c for c in check_year(books, UNIT, year) if not c.ok]
            assert failed == [], (year, failed)
    incremental = all_docs(store.load())
    rebuild(ledger, store)
    assert all_docs(store.load()) == incremental == all_docs(books_of(ledger))


def totals(ledger: Ledger, code: str, year: int) -> Any:
    found = ledger.find(BudgetLine, BudgetLine.id_for(UNIT, year, code))
    assert found is not None
    return found.totals


def test_corrections_by_handler_and_import(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    closed_last_year(ledger, database_url)
    assert_books_hold(ledger, database_url)
    handler = CommandHandler(ledger, actor=CLOSER)

    # a payment from the carried line: next year's opening gives it back
    handler.handle(
        parse_command(
            cmd(
                "transfer_to_enterprise",
                year=LAST,
                line="L",
                amount="100",
                payee="甲公司",
                command_id="fix-1",
                **CORRECTION,
            )
        )
    )
    assert totals(ledger, "L", LAST + 1).carried_in == 300_00
    assert_books_hold(ledger, database_url)

    # refused: more than next year still holds of the carryover; nothing written
    position = ledger.position()
    too_much = cmd(
        "transfer_to_enterprise", year=LAST, line="L", amount="300.01", payee="甲", **CORRECTION
    )
    with pytest.raises(Overspend, match=r"only 300\.00 yuan carried over"):
        handler.handle(parse_command(too_much))
    assert ledger.position() == position

    # an import (stored as one batch): an allocation that lapses, the reversal of the
    # payment above, and a payment taken back from the lapse
    lines = [
        cmd("allocate_budget", year=LAST, line="G", amount="50", **CORRECTION),
        cmd(
            "reverse_entry",
            year=LAST,
            line="L",
            reverses_command_id="fix-1",
            reason="重复支付",
            **CORRECTION,
        ),
        cmd(
            "disburse",
            year=LAST,
            line="G",
            amount="230",
            payee="加油站",
            economic_code="30231",
            **CORRECTION,
        ),
    ]
    path = tmp_path / "corrections.jsonl"
    path.write_text(
        "\n".join(json.dumps(c, ensure_ascii=False) for c in lines) + "\n", encoding="utf-8"
    )
    assert import_file(handler, path, batch_size=10).ok
    assert totals(ledger, "G", LAST).lapsed == 20_00  # 200 + 50 − 230
    assert totals(ledger, "L", LAST + 1).carried_in == 400_00
    assert_books_hold(ledger, database_url)


def test_corrections_over_http(ledger: Ledger, database_url: str) -> None:
    closed_last_year(ledger, database_url)
    closer = issue(ledger, "closer-http", Role.CLOSER)
    app = create_app(Settings(database_url=database_url), ledger=ledger)
    base = f"/v1/units/{UNIT}/years/{LAST}/lines"
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {closer}", "Idempotency-Key": "adj-0001"}
        body = {
            "amount": "120",
            "payee": "加油站",
            "economic_code": "30231",
            "document_no": "记-调-0001",
            **CORRECTION,
        }
        done = client.post(f"{base}/G/disbursements", headers=headers, json=body)
        assert done.status_code == 201, done.text
        assert done.json()["available"] == "0.00"
        assert [e["type"] for e in done.json()["events"]] == ["Disbursed", "LapseAdjusted"]
        position = ledger.position()
        refused = client.post(
            f"{base}/G/disbursements",
            headers={**headers, "Idempotency-Key": "adj-0002"},
            json={**body, "amount": "80.01", "document_no": "记-调-0002"},
        )
        assert refused.status_code == 409 and refused.json()["code"] == "overspend"
        assert "only 80.00 yuan lapsed" in refused.json()["detail"]
        assert ledger.position() == position
        check = client.get(
            f"/v1/units/{UNIT}/years/{LAST}/check", headers={"Authorization": f"Bearer {closer}"}
        )
        assert check.json()["ok"] is True
    assert_books_hold(ledger, database_url)
