"""Schemathesis against the service's own OpenAPI schema: whatever it generates from the
schema, the service answers with a 2xx or a 4xx problem — never a 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from commands.api import create_app
from commands.handlers import CommandHandler
from commands.models import parse_command
from ledger.composition import build_ledger
from ledger.settings import Settings
from ledger.tokens import new_token
from tests.scenario import Scenario, cmd, setup_commands

LEDGER = build_ledger(Settings(database_url="memory://"))
Scenario(LEDGER).given(*setup_commands(), cmd("allocate_budget", line="L1", amount="1000"))
_MADE = new_token()
CommandHandler(LEDGER).handle(
    parse_command(
        {
            "type": "issue_token",
            "command_id": "schemathesis-token",
            "posted_by": "admin",
            "business_date": "2022-01-01",
            "token_id": _MADE.token_id,
            "identity": "schemathesis",
            "role": "admin",
            "clearance": True,
            "salt": _MADE.salt,
            "digest": _MADE.digest,
        }
    )
)
APP = create_app(Settings(database_url="memory://"), ledger=LEDGER)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_service_fail(case: schemathesis.Case) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {_MADE.token}"}
    response = case.call()
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
