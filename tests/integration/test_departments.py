"""A department over its units on both stores: declared and assigned over HTTP, its
部门决算 read over HTTP (through the read model) equal to the consolidation of a replay of
the log, and refused to a caller whose scope covers only some of its units."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from commands.api import create_app
from ledger.application import Ledger
from ledger.composition import read_models_of
from ledger.errors import LedgerError
from ledger.roles import Actor, Role
from ledger.settings import Settings
from projections.books import books_of
from projections.departments import department_final_accounts, department_for
from projections.read_model import books_for_reports, catch_up
from tests.integration.test_api import issue
from tests.scenario import YEAR, Scenario
from tests.unit.test_departments import DEPT, OFFICE, SUB, department_history

PATH = f"/v1/departments/{DEPT}/years/{YEAR}/reports/final-accounts"


@pytest.fixture
def client(ledger: Ledger, database_url: str) -> Iterator[TestClient]:
    history = department_history()
    # Everything but the department itself: that is declared over HTTP below.
    Scenario(ledger).given(*[c for c in history if "department" not in c["type"]])
    app = create_app(Settings(database_url=database_url), ledger=ledger)
    with TestClient(app) as test_client:
        yield test_client


def bearer(token: str, key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}


def test_a_department_over_http_is_the_consolidation_of_its_units(
    client: TestClient, ledger: Ledger
) -> None:
    admin = issue(ledger, "admin", Role.ADMIN)
    declared = client.post(
        "/v1/departments",
        json={"code": DEPT, "name": "某县文化广播电视和旅游局", "business_date": "2022-01-01"},
        headers=bearer(admin, "dept-1"),
    )
    assert declared.status_code == 201, declared.text
    for n, unit in enumerate((OFFICE, "某县图书馆")):
        assigned = client.post(
            "/v1/department-members",
            json={"department": DEPT, "unit": unit, "business_date": "2022-01-01"},
            headers=bearer(admin, f"member-{n}"),
        )
        assert assigned.status_code == 201, assigned.text
    again = client.post(
        "/v1/department-members",
        json={"department": DEPT, "unit": SUB, "business_date": "2022-01-02"},
        headers=bearer(admin, "member-9"),
    )
    assert again.status_code == 409 and again.json()["code"] == "already_exists"

    auditor = issue(ledger, "auditor", Role.AUDITOR)
    response = client.get(PATH, headers=bearer(auditor))
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    replayed = department_final_accounts(
        books_of(ledger), department_for(ledger, Actor("a", Role.AUDITOR), DEPT), YEAR
    )
    assert report == replayed
    assert report["overview"]["current_year_income"] == "88.00"
    assert report["eliminated_income"] == "23.00" and report["ok"]

    check = client.get(f"/v1/departments/{DEPT}/years/{YEAR}/check", headers=bearer(auditor))
    assert check.status_code == 200 and check.json()["ok"]
    assert {c["level"] for c in check.json()["checks"]} == {DEPT, OFFICE, SUB}

    both = issue(ledger, "clerk-both", Role.CLERK, units=[OFFICE, SUB])
    assert client.get(PATH, headers=bearer(both)).status_code == 200
    one = issue(ledger, "clerk-one", Role.CLERK, units=[OFFICE])
    refused = client.get(PATH, headers=bearer(one))
    assert refused.status_code == 403 and refused.json()["code"] == "out_of_scope"
    missing = client.get(
        "/v1/departments/NOPE/years/2022/reports/final-accounts", headers=bearer(auditor)
    )
    assert missing.status_code == 404 and missing.json()["code"] == "unknown_department"
    clerk_declares = client.post(
        "/v1/departments",
        json={"code": "D2", "name": "部门二", "business_date": "2022-01-01"},
        headers=bearer(both, "dept-2"),
    )
    assert clerk_declares.status_code == 403


def test_a_departments_past_reports_fold_only_its_units_and_equal_the_whole_log(
    ledger: Ledger,
) -> None:
    """As of a log position or a business date, a department's 部门决算 is folded from its
    member units' own events (and the catalogues'), not from the whole log — and equals
    the consolidation of the whole log's fold at every moment."""
    history = department_history()
    # the postings on days of their own, a unit outside the department posting between
    dated = [
        {**c, "business_date": f"{YEAR}-{3 + n // 5:02d}-{1 + n % 5 * 6:02d}"}
        if "amount" in c
        else c
        for n, c in enumerate(history)
    ]
    Scenario(ledger).given(*dated)
    store = read_models_of(ledger)
    catch_up(ledger, store)
    view = department_for(ledger, Actor("auditor", Role.AUDITOR), DEPT)
    moments: list[dict[str, Any]] = [
        *({"as_of_position": p} for p in range(1, ledger.position() + 1, 7)),
        *({"as_of_date": date(YEAR, m, d)} for m in (3, 4, 5, 6) for d in (1, 10, 28)),
    ]

    def outcome(books: Any) -> Any:
        try:
            return department_final_accounts(books, view, YEAR, clearance=True)
        except LedgerError as error:  # before the year was opened: refused alike
            return type(error).__name__, str(error)

    reported = 0
    for moment in moments:
        members = books_for_reports(ledger, store, units=view.units, **moment)
        assert outcome(members) == outcome(books_of(ledger, **moment)), moment
        assert set(members.units) <= set(view.units)  # the unit outside was not read
        reported += isinstance(outcome(members), dict)
    assert reported > len(moments) // 2
