"""What a hostile review of the trust changes found, each kept fixed: close step ids for the
longest codes, unit code/name clashes, scoped admins minting tokens, look-alike vouchers,
a refused resume that wrote, the CLI's scope on close/export/reconcile/demo, names resolved
inside one import batch."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from commands.closing import close_year, resume_close
from commands.handlers import CommandHandler
from commands.importer import import_file
from commands.models import parse_command
from ledger.aggregates import FiscalYear, YearStatus
from ledger.application import Ledger
from ledger.closing.policy import load_policy
from ledger.composition import Services, read_models_of
from ledger.errors import AlreadyExists, CloseBlocked, Forbidden, OutOfScope, PossibleDuplicate
from ledger.roles import Actor, Role
from ledger.tokens import new_token
from projections.read_model import catch_up
from tests.e2e.test_cli import Cli
from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands

CLOSER = Actor("closer", Role.CLOSER)
ADMIN = Actor("admin", Role.ADMIN)


def later() -> date:
    return date(YEAR + 1, 1, 5)


@pytest.fixture
def books(ledger: Ledger) -> Scenario:
    return Scenario(ledger).given(
        *setup_commands(), cmd("allocate_budget", line="L1", amount="1000", initial=True)
    )


def test_a_line_with_the_longest_code_is_closed(books: Scenario, database_url: str) -> None:
    code = "X" * 64
    books.given(
        cmd("open_budget_line", unit=UNIT, year=YEAR, line=code, title="长代码",
            nature="basic_public", function_code="2010301"),
        cmd("allocate_budget", line=code, amount="10"),
    )  # fmt: skip
    close_year(Services.of(books.ledger), UNIT, YEAR, policy=load_policy(), actor=CLOSER,
               today=later)  # fmt: skip
    year = books.ledger.find(FiscalYear, FiscalYear.id_for(UNIT, YEAR))
    assert year is not None and year.status is YearStatus.CLOSED


def test_a_units_name_and_anothers_code_cannot_clash(books: Scenario, database_url: str) -> None:
    with pytest.raises(AlreadyExists, match="code of another unit"):
        books.when(cmd("register_unit", code="A1", name=UNIT))
    with pytest.raises(AlreadyExists, match="name of another unit"):
        books.when(cmd("register_unit", code="测试局", name="假测试局"))
    books.when(cmd("register_unit", code="A2", name="A2"))  # its own code as its name is fine
    # the read model resolves a code as that unit's, whatever names exist
    store = read_models_of(books.ledger)
    catch_up(books.ledger, store)
    assert store.unit_code(UNIT) == UNIT and store.unit_code("测试局") == UNIT


def _token(unit_refs: list[str], role: str = "clerk") -> dict[str, Any]:
    made = new_token()
    return cmd("issue_token", token_id=made.token_id, identity="x", role=role,
               units=unit_refs, salt=made.salt, digest=made.digest)  # fmt: skip


def test_an_admin_scoped_to_units_issues_and_revokes_only_within_them(books: Scenario) -> None:
    books.given(cmd("register_unit", code="U2", name="第二局"))
    scoped = CommandHandler(books.ledger, actor=Actor("a", Role.ADMIN, units=frozenset({UNIT})))
    scoped.handle(parse_command(_token([UNIT])))
    for refs, role in (
        (["U2"], "clerk"),
        (["第二局"], "clerk"),
        ([], "admin"),
        (["NOPE"], "clerk"),
    ):
        with pytest.raises(OutOfScope) as refused:
            scoped.handle(parse_command(_token(refs, role)))
        assert "U2" not in refused.value.message or refs == ["U2"]
    other = _token(["U2"])
    CommandHandler(books.ledger).handle(parse_command(other))
    with pytest.raises(OutOfScope):
        scoped.handle(parse_command(cmd("revoke_token", token_id=other["token_id"], reason="r")))


@pytest.mark.parametrize(
    ("payee", "document_no"),
    [
        ("加油 站", "记-0001"),
        ("加油站", "记－0001"),
        ("加油站", "记-０００１"),
        ("ＡＢ加油站", "记-0001"),
    ],
)
def test_look_alike_vouchers_are_the_same_voucher(
    books: Scenario, payee: str, document_no: str
) -> None:
    first = "AB加油站" if payee.startswith("Ａ") else "加油站"
    books.given(cmd("allocate_budget", line="G1", amount="1000"))
    books.when(cmd("disburse", line="G1", amount="100", payee=first.lower(),
                   economic_code="30231", document_no="记-0001"))  # fmt: skip
    with pytest.raises(PossibleDuplicate):
        books.when(cmd("disburse", line="G1", amount="100", payee=payee, economic_code="30231",
                       document_no=document_no))  # fmt: skip


def test_a_resume_that_cannot_help_writes_nothing(books: Scenario, database_url: str) -> None:
    ledger = books.ledger
    imported = CommandHandler(ledger)
    imported.handle(parse_command(cmd("start_closing", unit=UNIT, year=YEAR,
                                      policy={"other": True}), close_steps=True))  # fmt: skip
    before = ledger.position()
    with pytest.raises(CloseBlocked, match="abandon"):
        resume_close(Services.of(ledger), UNIT, YEAR, reason="继续", policy=load_policy(),
                     actor=ADMIN, today=later)  # fmt: skip
    assert ledger.position() == before


def test_a_clerk_importing_close_steps_is_told_it_needs_an_admin(books: Scenario) -> None:
    clerk = CommandHandler(books.ledger, actor=Actor("c", Role.CLERK))
    step = parse_command(cmd("start_closing", unit=UNIT, year=YEAR, policy={}), close_steps=True)
    with pytest.raises(Forbidden, match="admin"):
        clerk.handle(step)


def test_a_unit_registered_earlier_in_a_batch_is_named_by_its_name(
    books: Scenario, tmp_path: Path
) -> None:
    path = tmp_path / "names.jsonl"
    lines = [
        cmd("register_unit", code="U5", name="戊局"),
        cmd("open_fiscal_year", unit="戊局", year=YEAR),
    ]
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in lines), "utf-8")
    assert import_file(CommandHandler(books.ledger), path, batch_size=100).ok
    assert import_file(CommandHandler(books.ledger), path, batch_size=100).already_applied == 2


def test_the_cli_keeps_its_scope_on_close_export_reconcile_and_demo(
    books: Scenario, database_url: str, tmp_path: Path, published_path: Path
) -> None:
    cli = Cli(tmp_path, database_url)
    cli.env["FUNDFLOW_UNITS"] = "U9"
    for args in (
        ["close-year", "--unit", "测试局", "--year", str(YEAR), "--role", "closer"],
        ["close-year", "--unit", "NOPE", "--year", str(YEAR), "--role", "closer"],
        ["export", "final-accounts", "--unit", UNIT, "--year", str(YEAR),
         "--xlsx", str(tmp_path / "x.xlsx")],
        ["audit", "reconcile", "--unit", UNIT, "--year", str(YEAR),
         "--published", str(published_path)],
        ["demo"],
    ):  # fmt: skip
        out = cli(*args, ok=False)
        assert out.returncode == 1 and "rejected (out_of_scope)" in out.stderr, (args, out.stderr)
        assert UNIT not in out.stderr or UNIT in args, args  # tells no code it was not given
    cli.env.pop("FUNDFLOW_UNITS")
    bad = cli("export", "final-accounts", "--unit", UNIT, "--year", str(YEAR),
              "--xlsx", str(tmp_path / "x.xlsx"), "--as-of", "2022-02-30", ok=False)  # fmt: skip
    assert "rejected (invalid_input)" in bad.stderr and "Traceback" not in bad.stderr


# --- the second review, of the merged work ------------------------------------------


def test_a_point_in_time_view_of_a_unit_with_classified_projects_needs_clearance(
    books: Scenario, database_url: str
) -> None:
    """Two such views compared would show each classified entry's amount and date."""
    from fastapi.testclient import TestClient

    from commands.api import create_app
    from ledger.settings import Settings
    from tests.integration.test_api import issue

    early = books.ledger.position()
    books.given(cmd("register_project", unit=UNIT, code="SEC", name="涉密", classified=True))
    plain = issue(books.ledger, "auditor", Role.AUDITOR)
    cleared = issue(books.ledger, "auditor-c", Role.AUDITOR, clearance=True)
    app = create_app(Settings(database_url=database_url), ledger=books.ledger)
    url = f"/v1/units/{UNIT}/years/{YEAR}/reports/balances"
    with TestClient(app) as client:
        now = books.ledger.position()  # the classified project is registered by then
        for query in ({"as_of": "2022-06-30"}, {"as_of_position": now}):
            refused = client.get(url, params=query, headers={"Authorization": f"Bearer {plain}"})
            assert refused.status_code == 403 and "clearance" in refused.json()["detail"]
            shown = client.get(url, params=query, headers={"Authorization": f"Bearer {cleared}"})
            assert shown.status_code == 200
        assert client.get(url, headers={"Authorization": f"Bearer {plain}"}).status_code == 200
        before = client.get(
            url, params={"as_of_position": early}, headers={"Authorization": f"Bearer {plain}"}
        )
        assert before.status_code == 200  # before the project existed there is nothing to hide


def test_another_key_under_the_same_id_may_read_but_not_write(
    database_url: str, tmp_path: Path
) -> None:
    from ledger.chain_key import ChainKeyRequired, add_key
    from ledger.composition import build_ledger
    from ledger.settings import Settings

    right, wrong = tmp_path / "right" / "k.key", tmp_path / "wrong" / "k.key"
    add_key(right, "k2026")
    add_key(wrong, "k2026")  # made apart, same id
    ledger = build_ledger(Settings(database_url=database_url, chain_key_file=right))
    Scenario(ledger).given(*setup_commands())
    before = ledger.position()
    ledger.close()
    misconfigured = build_ledger(Settings(database_url=database_url, chain_key_file=wrong))
    with pytest.raises(ChainKeyRequired, match="another key under the same id"):
        Scenario(misconfigured).given(cmd("register_unit", code="U7", name="第七局"))
    assert misconfigured.position() == before  # nothing written; reading still works
    misconfigured.close()
    again = build_ledger(Settings(database_url=database_url, chain_key_file=right))
    Scenario(again).given(cmd("register_unit", code="U7", name="第七局"))
    again.close()


def test_keys_made_apart_get_different_ids() -> None:
    from ledger.chain_key import default_key_id

    assert default_key_id() != default_key_id()


def test_a_setting_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.env["FUNDFLOW_CLEARANCE"] = "2"
    out = cli("check", "--unit", UNIT, "--year", str(YEAR), ok=False)
    assert out.returncode == 2 and "FUNDFLOW_CLEARANCE" in out.stderr
    assert "Traceback" not in out.stderr


def test_no_rate_is_printed_as_minus_zero() -> None:
    from ledger.money import percent_str

    assert percent_str(-1, 10_000_000) == "0.00"
