"""The report routes in 元 on request (``?amount_unit=yuan``), on both stores."""

from __future__ import annotations

from fastapi.testclient import TestClient

from commands.api import create_app
from ledger.application import Ledger
from ledger.roles import Role
from ledger.settings import Settings
from tests.integration.test_api import auth, issue
from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands


def test_report_routes_take_an_amount_unit(ledger: Ledger, database_url: str) -> None:
    Scenario(ledger).given(
        *setup_commands(),
        cmd("allocate_budget", line="G1", amount="12345.67", initial=True),
        cmd(
            "disburse",
            line="G1",
            amount="1500",
            payee="加油站",
            economic_code="30231",
            three_public="vehicle_operation",
        ),
    )
    token = {Role.AUDITOR: issue(ledger, "审计-李", Role.AUDITOR)}
    app = create_app(Settings(database_url=database_url), ledger=ledger)
    path = f"/v1/units/{UNIT}/years/{YEAR}/reports/final-accounts"
    with TestClient(app) as client:
        default = client.get(path, headers=auth(token, Role.AUDITOR)).json()
        yuan = client.get(
            path, params={"amount_unit": "yuan"}, headers=auth(token, Role.AUDITOR)
        ).json()
        bad = client.get(path, params={"amount_unit": "fen"}, headers=auth(token, Role.AUDITOR))
        execution = client.get(
            f"/v1/units/{UNIT}/years/{YEAR}/reports/execution",
            params={"amount_unit": "yuan"},
            headers=auth(token, Role.AUDITOR),
        ).json()
    assert default["overview"]["income_total"] == "1.23"
    assert yuan["overview"]["income_total"] == "12345.67"
    assert yuan["three_public_expenses_detail"]["vehicle_operation"]["amount"] == "0.15"
    assert yuan["three_public_expenses_detail"]["vehicle_operation"]["amount_yuan"] == "1500.00"
    assert bad.status_code == 422
    g1 = next(row for row in execution["lines"] if row["line"] == "G1")
    assert g1["executed"] == "1500.00"
