"""Classified (涉密) detail never leaves without clearance — through any output path.

A history with a classified project whose title, implementing units, line codes and
titles, payee, memos, document numbers, command ids, amounts and dates are unique marker
strings. Every output path is called with every selector: the HTTP reports (plain and as
of a date or a log position), the check, the audit trail by line, project, enterprise and
document number, refusals (overspend, nature mismatch, reversal) and results of postings
on the classified line, for every role without clearance; the CLI's reports, check,
trail, postings, import, close and export files (xlsx read back, csv, json, html, png).
No marker may appear in any response body, header, log line, printed output or file.
With clearance they all appear. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from structlog.testing import capture_logs
from typer.testing import CliRunner

from commands.api import create_app
from commands.cli import app as cli_app
from ledger.application import Ledger
from ledger.roles import Role
from ledger.settings import Settings
from projections.books import AdjustmentView, books_of
from projections.final_accounts import final_accounts
from tests.integration.test_api import issue
from tests.scenario import Scenario, cmd

UNIT = "RU"
YEAR = 2022
PROJECT, PROJECT_NAME, IMPLEMENTER = "MKPROJ9Q", "密标项目甲乙丙", "密标实施单位子丑"
LINE, LINE_TITLE = "MKLINE7Z", "密标指标丁戊己"
LINE2, LINE2_TITLE = "MKLINE8Y", "密标指标二号寅"
PAYEE, MEMO = "密标收款人庚辛", "密标摘要壬癸"
DOCS = ["MKDOC-31415", "MKDOC-27182", "MKDOC-16180", "MKDOC-92653", "MKDOC-58979"]
AMOUNTS = ["10000.37", "20000.59", "5000.13", "2345.83", "1234.71"]
DATES = ["2022-04-17", "2022-05-23", "2022-04-18", "2022-06-29", "2022-07-03"]
COMMAND = "MKCMD-"
MARKERS = [
    PROJECT,
    PROJECT_NAME,
    IMPLEMENTER,
    LINE,
    LINE_TITLE,
    LINE2,
    LINE2_TITLE,
    PAYEE,
    MEMO,
    COMMAND,
    *DOCS,
    *AMOUNTS,
    *DATES,
]


def clean(text: str, where: str) -> None:
    leaked = [m for m in MARKERS if m in text]
    assert not leaked, f"{leaked} leaked in {where}: {text[:2000]}"


def history(ledger: Ledger) -> int:
    """The unit's 2022: a public project and a classified one with two lines. Returns
    the log position in the middle of the classified postings."""
    s = Scenario(ledger)

    def posting(kind: str, n: int, line: str, **fields: Any) -> dict[str, Any]:
        return cmd(
            kind,
            unit=UNIT,
            year=YEAR,
            line=line,
            amount=AMOUNTS[n],
            document_no=DOCS[n],
            business_date=DATES[n],
            memo=MEMO,
            command_id=f"{COMMAND}{n}",
            **fields,
        )

    s.given(
        cmd("register_unit", code=UNIT, name="保密测试局"),
        cmd("open_fiscal_year", unit=UNIT, year=YEAR),
        cmd("register_project", unit=UNIT, code="PUB", name="公开项目", implementing_units="甲"),
        cmd(
            "register_project",
            unit=UNIT,
            code=PROJECT,
            name=PROJECT_NAME,
            implementing_units=IMPLEMENTER,
            classified=True,
            command_id=f"{COMMAND}p",
        ),
        *(
            cmd(
                "open_budget_line",
                unit=UNIT,
                year=YEAR,
                line=line,
                title=title,
                nature="project",
                function_code="2150805",
                project=project,
                command_id=f"{COMMAND}{line}" if project == PROJECT else f"open-{line}",
            )
            for line, title, project in (
                ("PUBL1", "公开指标", "PUB"),
                (LINE, LINE_TITLE, PROJECT),
                (LINE2, LINE2_TITLE, PROJECT),
            )
        ),
        cmd(
            "allocate_budget",
            unit=UNIT,
            year=YEAR,
            line="PUBL1",
            amount="1000",
            initial=True,
            document_no="PUB-1",
            business_date="2022-01-10",
        ),
        posting("allocate_budget", 0, LINE, initial=True),
        posting("allocate_budget", 2, LINE2, initial=True),
    )
    middle = ledger.position()
    s.given(
        posting("allocate_budget", 1, LINE, initial=False),
        posting("transfer_to_enterprise", 3, LINE, payee=PAYEE, economic_code="31299"),
        posting("disburse", 4, LINE2, payee=PAYEE, economic_code="30299"),
        cmd(
            "transfer_to_enterprise",
            unit=UNIT,
            year=YEAR,
            line="PUBL1",
            amount="300",
            payee="公开企业",
            economic_code="31299",
            document_no="PUB-2",
            business_date="2022-03-01",
        ),
    )
    return middle


@pytest.fixture
def books_with_secrets(ledger: Ledger) -> tuple[Ledger, int]:
    return ledger, history(ledger)


# --- HTTP ---------------------------------------------------------------------------


def test_http_never_shows_classified_detail_without_clearance(
    books_with_secrets: tuple[Ledger, int], database_url: str
) -> None:
    ledger, middle = books_with_secrets
    plain = {role: issue(ledger, f"user-{role.value}", role, units=[UNIT]) for role in Role}
    cleared = {role: issue(ledger, f"cleared-{role.value}", role, True, [UNIT]) for role in Role}
    app = create_app(Settings(database_url=database_url), ledger=ledger)
    base = f"/v1/units/{UNIT}/years/{YEAR}"
    reads = [
        f"{base}/reports/{name}{query}"
        for name in ("final-accounts", "execution", "balances")
        for query in ("", "?as_of=2022-05-31", f"?as_of_position={middle}")
    ] + [f"{base}/check"]
    trails = {
        "line": {"line": LINE, "year": YEAR},
        "line-any-year": {"line": LINE},
        "project": {"project": PROJECT},
        "enterprise": {"enterprise": PAYEE},
        "document": {"document_no": DOCS[3]},
        "public-line": {"line": "PUBL1", "year": YEAR},
        "public-project": {"project": "PUB"},
        "public-enterprise": {"enterprise": "公开企业"},
        "public-document": {"document_no": "PUB-2"},
    }
    seen_with_clearance: list[str] = []

    def call(client: TestClient, token: str, method: str, url: str, **kw: Any) -> str:
        headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
        response = client.request(method, url, headers=headers, **kw)
        assert response.status_code < 500, (url, response.text)
        body = response.text + json.dumps(response.json(), ensure_ascii=False)
        return body + json.dumps(dict(response.headers), ensure_ascii=False)

    def postings(role: Role, tag: str) -> list[tuple[str, dict[str, Any]]]:
        on = f"{base}/lines/{LINE}"
        doc = f"{DOCS[0]}-{tag}"
        return [
            (
                f"{on}/disbursements",
                {"amount": "999999", "payee": PAYEE, "economic_code": "30299",
                 "business_date": "2022-08-01", "document_no": doc, "memo": MEMO},
            ),
            (
                f"{on}/disbursements",
                {"amount": "1", "payee": PAYEE, "economic_code": "31299",
                 "business_date": "2022-08-01", "document_no": doc},
            ),
            (
                f"{on}/reversals",
                {"reverses_command_id": "no-such-command", "reason": "x",
                 "business_date": "2022-08-01", "document_no": doc},
            ),
            (
                f"{on}/allocations",
                {"amount": "0.01", "business_date": "2022-08-02", "document_no": doc,
                 "memo": MEMO},
            ),
        ]  # fmt: skip

    with capture_logs() as logs, TestClient(app) as client:
        for role in Role:
            token = plain[role]
            for url in reads:
                clean(call(client, token, "GET", url), f"{role} GET {url}")
            for name, params in trails.items():
                body = call(client, token, "GET", f"/v1/units/{UNIT}/audit/trail", params=params)
                clean(body, f"{role} trail by {name}")
            for n, (url, payload) in enumerate(postings(role, f"{role.value}-plain")):
                for attempt in range(2):  # the retry is answered from the command record
                    key = {"Idempotency-Key": f"plain-{role.value}-{n}"}
                    body = call(client, token, "POST", url, json=payload, headers=key)
                    clean(body, f"{role} POST {url} (attempt {attempt})")
        # the same with clearance: everything is there to see
        for role in Role:
            token = cleared[role]
            for url in reads:
                seen_with_clearance.append(call(client, token, "GET", url))
            for params in trails.values():
                seen_with_clearance.append(
                    call(client, token, "GET", f"/v1/units/{UNIT}/audit/trail", params=params)
                )
            for n, (url, payload) in enumerate(postings(role, f"{role.value}-cleared")):
                key = {"Idempotency-Key": f"cleared-{role.value}-{n}"}
                seen_with_clearance.append(call(client, token, "POST", url, json=payload,
                                                headers=key))  # fmt: skip
        # the year-end close by a closer without clearance, last (it changes the books)
        clean(call(client, plain[Role.CLOSER], "POST", f"{base}/close"), "close")
        clean(call(client, plain[Role.AUDITOR], "GET", f"{base}/check"), "check after the close")
    for entry in logs:
        clean(json.dumps(entry, ensure_ascii=False, default=str), f"log line {entry}")
    assert any(e["event"] == "command_applied" and e["command"] == "close_line" for e in logs)
    posted = [e for e in logs if e["event"] == "request" and e["method"] == "POST"]
    assert posted and all(
        "/lines/{line}/" in e["path"] or e["path"].endswith("/close") for e in posted
    )
    everything = "\n".join(seen_with_clearance)
    assert [m for m in MARKERS if m not in everything] == []


def test_http_refusals_keep_their_code_and_trails_refuse_without_naming(
    books_with_secrets: tuple[Ledger, int], database_url: str
) -> None:
    ledger, _ = books_with_secrets
    clerk = issue(ledger, "clerk", Role.CLERK, units=[UNIT])
    cleared = issue(ledger, "cleared", Role.CLERK, True, [UNIT])
    app = create_app(Settings(database_url=database_url), ledger=ledger)
    url = f"/v1/units/{UNIT}/years/{YEAR}/lines/{LINE}/disbursements"
    body = {"amount": "999999", "payee": "x", "economic_code": "30299",
            "business_date": "2022-08-01", "document_no": "d-1"}  # fmt: skip
    with TestClient(app) as client:
        hidden = client.post(
            url, json=body, headers={"Authorization": f"Bearer {clerk}", "Idempotency-Key": "k1"}
        )
        shown = client.post(
            url, json=body, headers={"Authorization": f"Bearer {cleared}", "Idempotency-Key": "k2"}
        )
        trail = client.get(
            f"/v1/units/{UNIT}/audit/trail",
            params={"line": LINE, "year": YEAR},
            headers={"Authorization": f"Bearer {clerk}"},
        )
    assert (hidden.status_code, hidden.json()["code"]) == (409, "overspend")
    assert "classified (涉密) line" in hidden.json()["detail"]
    assert (shown.status_code, shown.json()["code"]) == (409, "overspend")
    assert LINE in shown.json()["detail"] and LINE_TITLE in shown.json()["detail"]
    assert (trail.status_code, trail.json()["code"]) == (403, "forbidden")


# --- CLI ----------------------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI configures structlog to print to its (captured) stderr: put it back."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def read_exports(folder: Path) -> str:
    """Every exported file as text: workbook cells and sheet names, JSON, CSV, HTML, and
    the PNG's bytes (its metadata) decoded leniently."""
    texts = []
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".xlsx":
            book = load_workbook(path)
            for sheet in book.worksheets:
                texts.append(sheet.title)
                for row in sheet.iter_rows(values_only=True):
                    texts.extend(str(v) for v in row if v is not None)
        elif path.suffix == ".png":
            texts.append(path.read_bytes().decode("utf-8", errors="replace"))
        elif path.is_file():
            texts.append(path.read_text(encoding="utf-8-sig"))
    assert any(p.suffix == ".png" for p in folder.rglob("*"))
    return "\n".join(texts)


def test_cli_never_shows_classified_detail_without_clearance(
    books_with_secrets: tuple[Ledger, int],
    database_url: str,
    tmp_path: Path,
    restore_logging: None,
) -> None:
    _, middle = books_with_secrets
    runner = CliRunner()
    env = {"FUNDFLOW_DATABASE_URL": database_url, "FUNDFLOW_LOG_LEVEL": "INFO"}

    def run(*args: str, clearance: bool = False, role: str = "clerk") -> str:
        result = runner.invoke(
            cli_app,
            list(args),
            env={**env, "FUNDFLOW_ROLE": role, "FUNDFLOW_CLEARANCE": "1" if clearance else "0"},
        )
        assert result.exit_code in (0, 1), (args, result.output, result.exception)
        return result.stdout + result.stderr

    unit_year = ("--unit", UNIT, "--year", str(YEAR))
    reads = [
        ("report", name, *unit_year, "--format", fmt, *when)
        for name in ("final-accounts", "execution", "balances")
        for fmt in ("json", "table")
        for when in ((), ("--as-of", "2022-05-31"), ("--as-of-position", str(middle)))
    ] + [
        ("check", *unit_year),
        *(
            ("audit", "trail", "--unit", UNIT, *selector, "--format", fmt)
            for fmt in ("json", "table")
            for selector in (
                ("--year", str(YEAR), "--line", LINE),
                ("--line", LINE2),
                ("--project", PROJECT),
                ("--enterprise", PAYEE),
                ("--document-no", DOCS[3]),
                ("--year", str(YEAR), "--line", "PUBL1"),
                ("--project", "PUB"),
            )
        ),
    ]
    jsonl = tmp_path / "postings.jsonl"
    jsonl.write_text(
        json.dumps(
            cmd("disburse", unit=UNIT, year=YEAR, line=LINE, amount="999999", payee=PAYEE,
                economic_code="30299", document_no=DOCS[0], memo=MEMO,
                business_date="2022-08-01"),
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )  # fmt: skip
    posts = [
        ("post", "disburse", *unit_year, "--line", LINE, "--amount", "999999", "--payee", PAYEE,
         "--economic-code", "30299", "--date", "2022-08-01", "--document-no", DOCS[1],
         "--memo", MEMO),
        ("post", "allocate", *unit_year, "--line", LINE, "--amount", "0.02", "--date",
         "2022-08-01", "--document-no", DOCS[2], "--memo", MEMO),
        ("import", str(jsonl)),
    ]  # fmt: skip

    for args in [*reads, *posts]:
        clean(run(*args), " ".join(args))
    plain_export = tmp_path / "plain" / "决算.xlsx"
    clean(run("export", "final-accounts", *unit_year, "--xlsx", str(plain_export)), "export")
    clean(read_exports(plain_export.parent), "the exported files")

    shown = [run(*args, clearance=True) for args in [*reads, *posts]]
    shown += [run(*args[:2], "--clearance", *args[2:]) for args in reads[:3]]  # the flag too
    cleared_export = tmp_path / "cleared" / "决算.xlsx"
    run("export", "final-accounts", *unit_year, "--xlsx", str(cleared_export), clearance=True)
    exported = read_exports(cleared_export.parent)
    assert PROJECT_NAME in exported
    everything = "\n".join(shown)
    assert [m for m in MARKERS if m not in everything] == []

    # the year-end close, as a closer without clearance, last (it changes the books)
    closed = run("close-year", *unit_year, role="closer")
    clean(closed, "close-year")
    assert "（涉密项目，未公开）" in closed
    clean(run("check", *unit_year), "check after the close")


def test_trail_table_shows_the_recorded_time_and_what_a_correction_corrects(
    books_with_secrets: tuple[Ledger, int], database_url: str, restore_logging: None
) -> None:
    ledger, _ = books_with_secrets
    Scenario(ledger).given(
        cmd("transfer_to_enterprise", unit=UNIT, year=YEAR, line="PUBL1", amount="5",
            payee="公开企业", document_no="PUB-4", business_date="2022-03-02",
            command_id="pub-pay"),
        cmd("reverse_entry", unit=UNIT, year=YEAR, line="PUBL1", reverses_command_id="pub-pay",
            reason="wrong", document_no="PUB-5", business_date="2022-03-03"),
    )  # fmt: skip
    result = CliRunner().invoke(
        cli_app,
        ["audit", "trail", "--unit", UNIT, "--year", str(YEAR), "--line", "PUBL1"],
        env={"FUNDFLOW_DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0]
    assert "记录时间" in header and "更正的分录" in header
    reversal = next(line for line in result.stdout.splitlines() if "EntryReversed" in line)
    assert "pub-pay (TransferredToEnterprise, entry" in reversal
    recorded = [e for _, e in ledger.read_events() if type(e).__name__ == "EntryReversed"]
    assert recorded[0].timestamp.isoformat() in reversal


def test_corrections_after_the_close_on_a_classified_line_are_counted_not_shown(
    books_with_secrets: tuple[Ledger, int],
) -> None:
    ledger, _ = books_with_secrets
    books = books_of(ledger)
    for line, document, amount, day in (
        (LINE, DOCS[4], 123471, DATES[4]),
        ("PUBL1", "PUB-9", 500, "2022-12-30"),
    ):
        books.adjustments.append(
            AdjustmentView(
                position=999,
                type="Disbursed",
                unit_code=UNIT,
                year=YEAR,
                line=line,
                amount=amount,
                business_date=date.fromisoformat(day),
                posted_by="closer",
                document_no=document,
                reason=MEMO if line == LINE else "public",
            )
        )
    hidden = final_accounts(books, UNIT, YEAR)
    clean(json.dumps(hidden, ensure_ascii=False), "final accounts with adjustments")
    assert [a["line"] for a in hidden["adjustments_after_close"]] == ["PUBL1", None]
    assert hidden["adjustments_after_close"][1]["entries"] == 1
    shown = json.dumps(final_accounts(books, UNIT, YEAR, clearance=True), ensure_ascii=False)
    assert all(m in shown for m in (LINE, DOCS[4], MEMO, AMOUNTS[4], DATES[4]))
