"""The HTTP API in process, on SQLite and PostgreSQL: the role matrix, idempotency, bad
input, classified projects, and the acting identity on every event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from commands.api import create_app
from commands.cli import seed_path
from commands.handlers import CommandHandler
from commands.importer import import_file
from commands.models import parse_command
from ledger.aggregates import Unit
from ledger.application import Ledger
from ledger.errors import InvalidInput, UnknownUnit
from ledger.roles import Role
from ledger.settings import Settings
from ledger.tokens import new_token
from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands

ROLES = [None, Role.AUDITOR, Role.CLERK, Role.CLOSER, Role.ADMIN]
RANK = {None: -1, Role.AUDITOR: 0, Role.CLERK: 1, Role.CLOSER: 2, Role.ADMIN: 3}


def issue(
    ledger: Ledger,
    identity: str,
    role: Role,
    clearance: bool = False,
    units: list[str] | None = None,
) -> str:
    """A token; clerks and closers belong to the scenario's unit unless told otherwise."""
    if units is None:
        units = [UNIT] if role in (Role.CLERK, Role.CLOSER) else []
    made = new_token()
    CommandHandler(ledger).handle(
        parse_command(
            {
                "type": "issue_token",
                "command_id": f"token-{made.token_id}",
                "posted_by": "admin",
                "business_date": "2022-01-01",
                "token_id": made.token_id,
                "identity": identity,
                "role": role.value,
                "clearance": clearance,
                "units": units,
                "salt": made.salt,
                "digest": made.digest,
            }
        )
    )
    return made.token


@pytest.fixture
def api(ledger: Ledger, database_url: str) -> Iterator[tuple[TestClient, dict[Any, str]]]:
    Scenario(ledger).given(
        *setup_commands(),
        cmd("allocate_budget", line="L1", amount="1000", initial=True),
        cmd("declare_department", code="D1", name="测试部门"),
        cmd("assign_unit_to_department", department="D1", unit=UNIT),
    )
    tokens: dict[Any, str] = {role: issue(ledger, f"user-{role.value}", role) for role in Role}
    tokens["cleared"] = issue(ledger, "auditor-cleared", Role.AUDITOR, clearance=True)
    app = create_app(Settings(database_url=database_url, max_request_bytes=4096), ledger=ledger)
    with TestClient(app) as client:
        yield client, tokens


def auth(tokens: dict[Any, str], role: Any, key: str | None = None) -> dict[str, str]:
    headers = {} if role is None else {"Authorization": f"Bearer {tokens[role]}"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


#: The specification the matrix checks: who may call what.
ADMIN_PATHS = {
    "/v1/units",
    "/v1/departments",
    "/v1/department-members",
    "/v1/units/{unit}/years",
    "/v1/units/{unit}/years/{year}/reopen",
    "/v1/units/{unit}/years/{year}/close/resume",
    "/v1/units/{unit}/years/{year}/close/abandon",
}
CLOSER_PATHS = {
    "/v1/units/{unit}/years/{year}/close",
    "/v1/units/{unit}/years/{year}/lines/{line}/opening-balance",  # a take-on
}


def needed_role(route: APIRoute) -> Role | None:
    if route.path == "/health" or route.path.startswith(("/docs", "/openapi", "/redoc")):
        return None
    if "GET" in route.methods:
        return Role.AUDITOR  # reports, check: everyone who can read
    if route.path in ADMIN_PATHS:
        return Role.ADMIN
    if route.path in CLOSER_PATHS:
        return Role.CLOSER
    return Role.CLERK  # every other posting


def test_role_matrix(api: tuple[TestClient, dict[Any, str]]) -> None:
    """Every endpoint, every role: allowed, or refused with 401 (no token) / 403."""
    client, tokens = api
    routes = [r for r in client.app.routes if isinstance(r, APIRoute)]  # type: ignore[attr-defined]
    assert len(routes) >= 20
    checked = 0
    for route in routes:
        path = route.path.format(unit=UNIT, year=YEAR, line="L1", department="D1")
        needed = needed_role(route)
        for method in route.methods:
            for role in ROLES:
                response = client.request(
                    method,
                    path,
                    headers=auth(tokens, role, "m-1"),
                    json={} if method == "POST" else None,
                )
                if needed is None:
                    allowed = True
                elif role is None:
                    allowed = False
                    assert response.status_code == 401, (method, path)
                    assert response.headers["content-type"] == "application/problem+json"
                else:
                    allowed = RANK[role] >= RANK[needed]
                    if not allowed:
                        assert response.status_code == 403, (method, path, role)
                if allowed:
                    assert response.status_code not in (401, 403), (method, path, role)
                    assert response.status_code < 500, (method, path, role, response.text)
                checked += 1
    assert checked >= 100


def test_role_scope_matrix(api: tuple[TestClient, dict[Any, str]], ledger: Ledger) -> None:
    """Every endpoint about a unit, every role, in and out of the token's units: a token
    scoped to U1 is refused 403 out_of_scope in U2 — also for a unit that does not exist —
    whatever its role allows; all-units tokens (auditor, admin) pass the scope check."""
    client, _ = api
    Scenario(ledger).given(
        cmd("register_unit", code="U2", name="第二局"),
        cmd("open_fiscal_year", unit="U2", year=YEAR),
    )
    scoped = {role: issue(ledger, f"u1-{role.value}", role, units=[UNIT]) for role in Role}
    everywhere = {r: issue(ledger, f"all-{r.value}", r) for r in (Role.AUDITOR, Role.ADMIN)}
    routes = [r for r in client.app.routes if isinstance(r, APIRoute) and "{unit}" in r.path]  # type: ignore[attr-defined]
    checked = 0
    for route in routes:
        needed = needed_role(route)
        assert needed is not None
        for other in ("U2", "第二局", "NO-SUCH-UNIT"):
            path = route.path.format(unit=other, year=YEAR, line="L1")
            for method in route.methods:
                for role, token in scoped.items():
                    if RANK[role] < RANK[needed]:
                        continue
                    response = client.request(
                        method,
                        path,
                        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "s-1"},
                        json={} if method == "POST" else None,
                    )
                    assert response.status_code == 403, (method, path, role, response.text)
                    assert response.json()["code"] == "out_of_scope", (method, path, role)
                    if other != "U2":  # the refusal does not tell a name's code
                        assert "U2" not in response.text, (method, path, role)
                    checked += 1
                for role, token in everywhere.items():
                    response = client.request(
                        method,
                        path,
                        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "s-2"},
                        json={} if method == "POST" else None,
                    )
                    if RANK[role] >= RANK[needed]:
                        assert response.status_code != 403, (method, path, role, response.text)
                    checked += 1
    assert checked >= 100


def test_a_clerk_or_closer_token_names_its_units(ledger: Ledger) -> None:
    Scenario(ledger).given(*setup_commands())
    for role in (Role.CLERK, Role.CLOSER):
        with pytest.raises(InvalidInput, match="name at least one"):
            issue(ledger, "nobody", role, units=[])
    with pytest.raises(UnknownUnit):
        issue(ledger, "typo", Role.CLERK, units=["U-TYPO"])
    # a unit may be named by its full name; the token keeps its code
    issue(ledger, "by-name", Role.CLERK, units=[ledger.find(Unit, Unit.id_for(UNIT)).name])  # type: ignore[union-attr]


def test_retries_are_idempotent_and_post_as_the_token_identity(
    api: tuple[TestClient, dict[Any, str]], ledger: Ledger
) -> None:
    client, tokens = api
    url = f"/v1/units/{UNIT}/years/{YEAR}/lines/L1/transfers"
    body = {
        "amount": "600.00",
        "payee": "特变电工股份有限公司",
        "business_date": "2022-05-01",
        "document_no": "记-1",
        "posted_by": "someone else",
    }
    refused = client.post(url, headers=auth(tokens, Role.CLERK, "pay-1"), json=body)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "posted_by"
    del body["posted_by"]
    first = client.post(url, headers=auth(tokens, Role.CLERK, "pay-1"), json=body)
    assert first.status_code == 201 and first.json()["available"] == "400.00"
    position = ledger.position()
    again = client.post(url, headers=auth(tokens, Role.CLERK, "pay-1"), json=body)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["events"] == first.json()["events"]
    other = client.post(
        url, headers=auth(tokens, Role.CLERK, "pay-1"), json={**body, "amount": "1"}
    )
    assert other.status_code == 409 and other.json()["code"] == "command_id_reused"
    assert ledger.position() == position
    event = [e for _, e in ledger.read_events() if type(e).__name__ == "TransferredToEnterprise"]
    assert event[-1].posted_by == "user-clerk"


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (
            json.dumps(
                {"amount": "1.001", "payee": "X", "business_date": "2022-05-01", "document_no": "d"}
            ).encode(),
            422,
            "invalid_amount",
        ),
        (
            json.dumps(
                {"amount": 12.5, "payee": "X", "business_date": "2022-05-01", "document_no": "d"}
            ).encode(),
            422,
            "invalid_amount",
        ),
        (
            json.dumps(
                {"amount": "-3", "payee": "X", "business_date": "2022-05-01", "document_no": "d"}
            ).encode(),
            422,
            "invalid_amount",
        ),
        (
            json.dumps(
                {"amount": "10", "payee": ["X"], "business_date": "2022-05-01", "document_no": "d"}
            ).encode(),
            422,
            "invalid_input",
        ),
        (
            json.dumps(
                {
                    "amount": "10",
                    "payee": "X",
                    "business_date": "2022-05-01",
                    "document_no": "d",
                    "unknown": 1,
                }
            ).encode(),
            422,
            "invalid_input",
        ),
        (
            json.dumps(
                {
                    "amount": "10",
                    "payee": "X" * 5000,
                    "business_date": "2022-05-01",
                    "document_no": "d",
                }
            ).encode(),
            413,
            "request_too_large",
        ),
        (
            json.dumps(
                {
                    "amount": "100000",
                    "payee": "X",
                    "business_date": "2022-05-01",
                    "document_no": "d",
                }
            ).encode(),
            409,
            "overspend",
        ),
        (
            json.dumps(
                {"amount": "10", "payee": "X", "business_date": "2023-05-01", "document_no": "d"}
            ).encode(),
            422,
            "invalid_input",
        ),
    ],
)
def test_bad_input_is_a_4xx_and_writes_nothing(
    api: tuple[TestClient, dict[Any, str]], ledger: Ledger, raw: bytes, status: int, code: str
) -> None:
    client, tokens = api
    position = ledger.position()
    response = client.post(
        f"/v1/units/{UNIT}/years/{YEAR}/lines/L1/transfers",
        content=raw,
        headers={**auth(tokens, Role.CLERK, "bad-1"), "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert ledger.position() == position


def test_validation_errors_name_the_field(api: tuple[TestClient, dict[Any, str]]) -> None:
    client, tokens = api
    response = client.post(
        f"/v1/units/{UNIT}/years/{YEAR}/lines/L1/transfers",
        headers=auth(tokens, Role.CLERK, "v"),
        json={"amount": "1.001", "payee": "X", "business_date": "2022-05-01", "document_no": "d"},
    )
    assert response.json()["errors"] == [
        {
            "field": "amount",
            "message": 'the amount "1.001" has more than two decimals; '
            "yuan amounts are exact to the fen",
        }
    ]
    missing_key = client.post(
        f"/v1/units/{UNIT}/years/{YEAR}/lines/L1/transfers",
        headers=auth(tokens, Role.CLERK),
        json={"amount": "1", "payee": "X", "business_date": "2022-05-01", "document_no": "d"},
    )
    assert missing_key.status_code == 400
    assert missing_key.json()["code"] == "idempotency_key_required"


def test_revoked_and_forged_tokens_are_refused(
    api: tuple[TestClient, dict[Any, str]], ledger: Ledger
) -> None:
    client, tokens = api
    url = f"/v1/units/{UNIT}/years/{YEAR}/reports/balances"
    forged = tokens[Role.ADMIN][:-4] + "AAAA"
    assert client.get(url, headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    token_id = tokens[Role.AUDITOR].split("_")[1]
    CommandHandler(ledger).handle(
        parse_command(
            {
                "type": "revoke_token",
                "command_id": "revoke-1",
                "posted_by": "admin",
                "business_date": "2022-06-01",
                "token_id": token_id,
                "reason": "left the bureau",
            }
        )
    )
    assert client.get(url, headers=auth(tokens, Role.AUDITOR)).status_code == 401
    assert client.get("/health").json()["status"] == "ok"


def test_classified_projects_in_detail_only_with_clearance(
    ledger: Ledger, database_url: str
) -> None:
    assert import_file(CommandHandler(ledger), seed_path()).ok
    plain, cleared = (issue(ledger, "审计", Role.AUDITOR, c) for c in (False, True))
    app = create_app(Settings(database_url=database_url), ledger=ledger)
    url = "/v1/units/CJ-SWGXJ/years/2022/reports/execution"
    with TestClient(app) as client:
        hidden = client.get(url, headers={"Authorization": f"Bearer {plain}"}).json()
        shown = client.get(url, headers={"Authorization": f"Bearer {cleared}"}).json()
    names = [p["name"] for p in hidden["projects"]]
    assert "（涉密项目，未公开）" in names and "涉密项目" not in names
    secret = next(p for p in shown["projects"] if p.get("classified"))
    assert secret["name"] == "涉密项目" and "current_year_fiscal" in secret["funds"]
    assert not any(ln["project"] == "P20" for ln in hidden["lines"])
    assert any(ln["project"] == "P20" for ln in shown["lines"])


def test_one_access_log_line_per_request_without_the_token(
    api: tuple[TestClient, dict[Any, str]],
) -> None:
    client, tokens = api
    url = f"/v1/units/{UNIT}/years/{YEAR}/lines/L1/transfers"
    body = {"amount": "1", "payee": "某公司", "business_date": "2022-05-01", "document_no": "记-9"}
    with capture_logs() as logs:
        response = client.post(
            url,
            headers={**auth(tokens, Role.CLERK, "log-1"), "X-Request-ID": "req-42"},
            json=body,
        )
        unnamed = client.get("/health")
    assert response.status_code == 201 and response.headers["X-Request-ID"] == "req-42"
    assert len(unnamed.headers["X-Request-ID"]) == 32
    lines = [entry for entry in logs if entry["event"] == "request"]
    assert (lines[0]["request_id"], lines[0]["status"]) == ("req-42", 201)
    assert lines[0]["identity"] == "user-clerk"
    assert (lines[0]["command"], lines[0]["outcome"]) == ("transfer_to_enterprise", "applied")
    assert all(tokens[Role.CLERK] not in repr(entry) for entry in logs)
