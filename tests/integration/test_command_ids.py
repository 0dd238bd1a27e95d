"""Command ids and business codes: client ids are scoped per unit, the close's own step ids
are out of every client's reach, a stuck close is resumed or abandoned by an admin, codes
cannot collide through separators, and a unit may be named by its full name everywhere."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from commands.api import create_app
from commands.closing import abandon_close, close_year, resume_close
from commands.handlers import CommandHandler
from commands.importer import import_file
from commands.models import parse_command
from ledger.aggregates import CommandRecord, FiscalYear, YearStatus
from ledger.aggregates.command_record import SYSTEM
from ledger.application import Ledger, StoreFormatError
from ledger.closing.policy import load_policy
from ledger.composition import Services, build_ledger
from ledger.errors import (
    CloseBlocked,
    Forbidden,
    InvalidInput,
    ProjectEnded,
    YearClosed,
)
from ledger.events import business_id, encode_key
from ledger.roles import Actor, Role
from ledger.settings import Settings
from tests.e2e.test_cli import Cli
from tests.integration.test_api import issue
from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands

ADMIN = Actor("admin-wang", Role.ADMIN)
CLOSER = Actor("closer-zhang", Role.CLOSER)
CLERK = Actor("clerk-li", Role.CLERK)


def after_year_end() -> date:
    return date(YEAR + 1, 1, 10)


def _close(ledger: Ledger, url: str, actor: Actor = CLOSER, **options: Any) -> Any:
    return close_year(
        Services.of(ledger),
        UNIT,
        YEAR,
        policy=load_policy(),
        actor=actor,
        today=after_year_end,
        **options,
    )


def _status(ledger: Ledger) -> YearStatus:
    year = ledger.find(FiscalYear, FiscalYear.id_for(UNIT, YEAR))
    assert year is not None
    return year.status


@pytest.fixture
def books(ledger: Ledger) -> Scenario:
    return Scenario(ledger).given(
        *setup_commands(), cmd("allocate_budget", line="L1", amount="1000", initial=True)
    )


def test_the_key_encoding_cannot_be_made_to_collide() -> None:
    assert encode_key(("project", "A/X", "P1")) != encode_key(("project", "A", "X/P1"))
    assert business_id("project", "A/X", "P1") != business_id("project", "A", "X/P1")
    assert encode_key(("a;b", "c")) != encode_key(("a", "b;c"))


def test_two_units_may_use_the_same_voucher_numbers_as_command_ids(books: Scenario) -> None:
    books.given(
        cmd("register_unit", code="U2", name="第二局"),
        cmd("open_fiscal_year", unit="U2", year=YEAR),
        cmd(
            "open_budget_line", unit="U2", year=YEAR, line="L1", title="项目",
            nature="basic_public", function_code="2010301",
        ),
    )  # fmt: skip
    first = books.when(cmd("allocate_budget", line="L1", amount="5", command_id="记-0001"))
    second = books.when(
        cmd("allocate_budget", unit="U2", line="L1", amount="7", command_id="记-0001")
    )
    assert first.status == second.status == "applied"
    assert (first.available, second.available) == ("1005.00", "7.00")


def test_the_same_id_from_a_unit_named_by_code_or_by_name_is_one_command(
    books: Scenario,
) -> None:
    same = {"line": "L1", "amount": "5", "command_id": "记-9", "document_no": "记-9"}
    by_code = books.when(cmd("allocate_budget", **same))
    by_name = books.when(cmd("allocate_budget", **{**same, "unit": "测试局"}))
    assert by_code.status == "applied" and by_name.status == "already_applied"
    # a project and a line registered by the unit's full name, too
    books.given(
        cmd("register_project", unit="测试局", code="P9", name="按名称登记"),
        cmd(
            "open_budget_line", unit="测试局", year=YEAR, line="L9", title="按名称",
            nature="project", function_code="2150805", project="P9",
        ),
    )  # fmt: skip


def test_no_client_can_take_the_ids_of_the_close(books: Scenario, database_url: str) -> None:
    # A clerk posts under the ids the close uses for its own steps (old and new schemes).
    squats = ["close/2022/0/0/start", f"close/{UNIT}/{YEAR}/0/start", "close/2022/0/0/finish"]
    for n, squat in enumerate(squats):
        books.when(cmd("register_project", unit=UNIT, code=f"SQ{n}", name="占位", command_id=squat))
    report = _close(books.ledger, database_url)
    assert _status(books.ledger) is YearStatus.CLOSED and report.carried_over == 100000


@pytest.mark.parametrize("kind", ["start_closing", "close_line", "finish_closing"])
def test_the_steps_of_the_close_cannot_be_posted(books: Scenario, kind: str, tmp_path: Any) -> None:
    with pytest.raises(InvalidInput, match="step of the year-end close"):
        parse_command(cmd(kind, unit=UNIT, year=YEAR))
    path = tmp_path / "squat.jsonl"
    path.write_text(
        json.dumps(
            {
                "type": kind,
                "command_id": "x",
                "posted_by": "p",
                "business_date": "2022-12-31",
                "unit": UNIT,
                "year": YEAR,
                "policy": {},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    outcome = import_file(CommandHandler(books.ledger), path)
    assert outcome.error is not None and outcome.error.code == "invalid_input"


def _plant(ledger: Ledger, step: str) -> None:
    """A record in the system's namespace with other content: what a squatted or
    otherwise corrupted step looks like to the close."""
    ledger.save(
        CommandRecord(
            namespace=SYSTEM,
            scope=UNIT,
            command_id=f"close/{YEAR}/0/0/{step}",
            command_type="register_project",
            fingerprint="0" * 64,
            result={},
        )
    )


def test_a_stuck_close_is_resumed_by_an_admin(books: Scenario, database_url: str) -> None:
    ledger = books.ledger
    _plant(ledger, "line/L1")
    with pytest.raises(CloseBlocked, match="stuck") as stuck:
        _close(ledger, database_url)
    assert "--resume" in stuck.value.message
    assert _status(ledger) is YearStatus.CLOSING
    # stuck: nothing can be posted, reopening is refused, running it again does not help
    with pytest.raises(YearClosed):
        books.when(cmd("allocate_budget", line="L1", amount="1"))
    with pytest.raises(CloseBlocked):
        _close(ledger, database_url)
    with pytest.raises(Forbidden):
        resume_close(Services.of(ledger), UNIT, YEAR, reason="r", policy=load_policy(),
                     actor=CLOSER, today=after_year_end)  # fmt: skip
    report = resume_close(Services.of(ledger), UNIT, YEAR, reason="结账步骤被占用，继续结账",
        policy=load_policy(), actor=ADMIN, today=after_year_end,
    )  # fmt: skip
    assert _status(ledger) is YearStatus.CLOSED and report.carried_over == 100000


def test_a_stuck_close_is_abandoned_by_an_admin(books: Scenario, database_url: str) -> None:
    ledger = books.ledger
    _plant(ledger, "finish")
    with pytest.raises(CloseBlocked, match="stuck"):
        _close(ledger, database_url)
    with pytest.raises(Forbidden):
        abandon_close(ledger, UNIT, YEAR, reason="r", actor=CLERK)
    abandon_close(ledger, UNIT, YEAR, reason="放弃本次结账", actor=ADMIN)
    assert _status(ledger) is YearStatus.OPEN
    books.when(cmd("allocate_budget", line="L1", amount="1", business_date="2022-12-30"))
    _close(ledger, database_url)  # a fresh run, with fresh step ids
    assert _status(ledger) is YearStatus.CLOSED


def test_a_year_is_not_closed_before_its_31_december_without_a_reason(
    books: Scenario, database_url: str
) -> None:
    ledger = books.ledger
    with pytest.raises(CloseBlocked, match="--before-year-end"):
        close_year(Services.of(ledger), UNIT, YEAR, policy=load_policy(), actor=CLOSER,
                   today=lambda: date(YEAR, 12, 30))  # fmt: skip
    assert _status(ledger) is YearStatus.OPEN
    close_year(Services.of(ledger), UNIT, YEAR, policy=load_policy(), actor=CLOSER,
               today=lambda: date(YEAR, 12, 30), before_year_end="单位撤并，提前结账")  # fmt: skip
    assert _status(ledger) is YearStatus.CLOSED
    started = [e for _, e in ledger.read_events() if isinstance(e, FiscalYear.ClosingStarted)]
    assert started[-1].before_year_end == "单位撤并，提前结账"


def test_a_project_past_its_final_year_takes_no_new_line_without_a_reason(
    books: Scenario,
) -> None:
    books.given(cmd("register_project", unit=UNIT, code="OLD", name="已完结", final_year=YEAR - 1))
    line = {
        "unit": UNIT, "year": YEAR, "line": "L-OLD", "title": "已完结项目",
        "nature": "project", "function_code": "2150805", "project": "OLD",
    }  # fmt: skip
    with pytest.raises(ProjectEnded, match="--beyond-final-year"):
        books.when(cmd("open_budget_line", **line))
    books.when(cmd("open_budget_line", beyond_final_year="延期至2022年，昌市发〔2021〕9号", **line))


BAD_CODES = ["A/X", "A X", "A\tX", "", "-A", "A" * 65, "A\u200bX", "../x", "A%2FX"]


@pytest.mark.parametrize("code", BAD_CODES)
def test_codes_with_separators_are_refused(books: Scenario, code: str) -> None:
    before = books.ledger.position()
    for command in (
        cmd("register_unit", code=code, name=f"坏代码{len(code)}"),
        cmd("register_project", unit=UNIT, code=code, name="坏项目"),
        cmd("open_budget_line", unit=UNIT, year=YEAR, line=code, title="坏指标",
            nature="basic_public", function_code="2010301"),
    ):  # fmt: skip
        with pytest.raises(InvalidInput) as refused:
            books.when(command)
        assert refused.value.code == "invalid_input"
    assert books.ledger.position() == before


def test_codes_with_separators_are_refused_over_http(books: Scenario, database_url: str) -> None:
    admin = issue(books.ledger, "admin", Role.ADMIN)
    app = create_app(Settings(database_url=database_url), ledger=books.ledger)
    before = books.ledger.position()
    with TestClient(app) as client:
        for n, code in enumerate(["A/X", "A X", "A\u202eX"]):
            response = client.post(
                "/v1/units",
                json={"code": code, "name": f"坏{n}", "business_date": "2022-01-01"},
                headers={"Authorization": f"Bearer {admin}", "Idempotency-Key": f"bad-{n}"},
            )
            assert response.status_code == 422, response.text
            assert response.json()["code"] == "invalid_input"
            assert "code" in response.json()["detail"]
    assert books.ledger.position() == before


def test_a_store_of_the_earlier_id_scheme_is_refused(database_url: str) -> None:
    """Its ids would not be found: replaying the same history into it would post twice."""
    ledger = build_ledger(Settings(database_url=database_url))
    state = ledger.mapper.transcoder.encode(
        {"timestamp": datetime.now(UTC), "originator_topic": get_topic(CommandRecord),
         "command_id": "old-1", "command_type": "register_unit", "fingerprint": "0" * 64,
         "result": {}}
    )  # fmt: skip
    ledger.recorder.insert_events(
        [StoredEvent(uuid4(), 1, get_topic(CommandRecord.Recorded), state)]
    )
    ledger.close()
    with pytest.raises(StoreFormatError, match="earlier fundflow"):
        build_ledger(Settings(database_url=database_url))


def test_the_cli_resumes_or_abandons_a_stuck_close(
    books: Scenario, database_url: str, tmp_path: Any
) -> None:
    _plant(books.ledger, "line/G1")
    cli = Cli(tmp_path, database_url)
    close = ["close-year", "--unit", UNIT, "--year", str(YEAR)]
    stuck = cli(*close, "--role", "closer", ok=False)
    assert "rejected (close_blocked)" in stuck.stderr and "--resume" in stuck.stderr
    assert "need --reason" in cli(*close, "--resume", "--role", "admin", ok=False).stderr
    assert "rejected (forbidden)" in cli(*close, "--abandon", "--reason", "x",
                                         "--role", "closer", ok=False).stderr  # fmt: skip
    abandoned = cli(*close, "--abandon", "--reason", "步骤冲突，放弃", "--role", "admin")
    assert "abandoned" in abandoned.stdout
    assert _status(books.ledger) is YearStatus.OPEN
    cli(*close, "--role", "closer")
    assert _status(books.ledger) is YearStatus.CLOSED


def test_http_closes_before_year_end_only_with_a_reason(books: Scenario, database_url: str) -> None:
    closer = issue(books.ledger, "closer", Role.CLOSER)
    app = create_app(Settings(database_url=database_url), ledger=books.ledger)
    url = f"/v1/units/{UNIT}/years/{YEAR + 4}/close"  # a year that has not ended yet
    books.given(cmd("open_fiscal_year", unit=UNIT, year=YEAR + 4))
    headers = {"Authorization": f"Bearer {closer}"}
    with TestClient(app) as client:
        refused = client.post(url, headers=headers)
        if date.today() < date(YEAR + 4, 12, 31):
            assert refused.status_code == 409 and refused.json()["code"] == "close_blocked"
            assert "before-year-end" in refused.json()["detail"]
        closed = client.post(url, headers=headers, json={"before_year_end": "机构改革提前结账"})
        assert closed.status_code == 200, closed.text
