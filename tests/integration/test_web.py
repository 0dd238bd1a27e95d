"""The 工作台 in process, on SQLite and PostgreSQL: sign-in and the session cookie, CSRF on
every form, posting through the command handler (confirmation, one posting however often
a form is sent, the domain's message beside its field), unit scopes and redaction."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from commands.api import create_app
from commands.cli import seed_path
from commands.handlers import CommandHandler
from commands.importer import import_file
from commands.models import parse_command
from commands.web.session import COOKIE
from ledger.application import Ledger
from ledger.roles import Role
from ledger.settings import Settings
from tests.integration.test_api import issue

UNIT = "CJ-SWGXJ"
LINE = "JB-2010301-GY"


@pytest.fixture
def web(ledger: Ledger, database_url: str) -> Iterator[TestClient]:
    assert import_file(CommandHandler(ledger), seed_path()).ok
    app = create_app(Settings(database_url=database_url), ledger=ledger)
    with TestClient(app, follow_redirects=False) as client:
        yield client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def sign_in(client: TestClient, token: str) -> str:
    """Sign in; the session's CSRF token (from the next page's forms)."""
    form = client.get("/signin")
    response = client.post("/signin", data={"token": token, "csrf": csrf_of(form.text)})
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)


def test_pages_need_a_session_and_the_cookie_is_strict(web: TestClient, ledger: Ledger) -> None:
    assert web.get("/").headers["location"] == "/signin"
    token = issue(ledger, "会计-李娜", Role.CLERK, units=[UNIT])
    form = web.get("/signin")
    refused = web.post("/signin", data={"token": token, "csrf": "forged"})
    assert refused.status_code == 403 and COOKIE not in refused.cookies
    wrong = web.post("/signin", data={"token": "ff_x_y", "csrf": csrf_of(form.text)})
    assert wrong.status_code in (401, 403)
    form = web.get("/signin")
    signed = web.post("/signin", data={"token": token, "csrf": csrf_of(form.text)})
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and token not in cookie
    home = web.get("/")
    assert home.status_code == 200 and "会计-李娜" in home.text
    # A forged cookie is no session.
    web.cookies.set(COOKIE, web.cookies[COOKIE][:-2] + "00")
    assert web.get("/").status_code == 303


def test_a_posting_is_confirmed_posted_once_and_refusals_sit_by_their_field(
    web: TestClient, ledger: Ledger
) -> None:
    csrf = sign_in(web, issue(ledger, "会计-李娜", Role.CLERK, units=[UNIT]))
    form = web.get(f"/u/{UNIT}/2022/post/disburse?line={LINE}")
    command_id = re.search(r'name="command_id" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    values = {
        "csrf": csrf,
        "command_id": command_id,
        "line": LINE,
        "amount": "100000000",
        "payee": "加油站",
        "economic_code": "30231",
        "document_no": "记-2022-12-0099",
        "business_date": "2022-12-30",
    }
    no_csrf = web.post(f"/u/{UNIT}/2022/post/disburse", data={**values, "csrf": "x"})
    assert no_csrf.status_code == 403
    confirm = web.post(f"/u/{UNIT}/2022/post/disburse", data={**values, "step": "preview"})
    assert confirm.status_code == 200 and "确认记账" in confirm.text and "加油站" in confirm.text
    before = ledger.position()
    over = web.post(f"/u/{UNIT}/2022/post/disburse", data={**values, "step": "post"})
    assert over.status_code == 409
    assert re.search(r'id="e-amount"[^>]*>[^<]*', over.text), over.text
    assert ledger.position() == before
    bad = web.post(f"/u/{UNIT}/2022/post/disburse", data={**values, "amount": "1.234"})
    assert bad.status_code == 422 and 'id="e-amount"' in bad.text
    # Fund the line, then the same form goes through — once, however often it is sent.
    top_up = {
        "csrf": csrf,
        "command_id": "web-topup-1",
        "line": LINE,
        "amount": "100000000",
        "document_no": "昌市财预〔2022〕99号",
        "business_date": "2022-12-30",
        "step": "post",
    }
    assert web.post(f"/u/{UNIT}/2022/post/allocate", data=top_up).status_code == 303
    first = web.post(f"/u/{UNIT}/2022/post/disburse", data={**values, "step": "post"})
    again = web.post(f"/u/{UNIT}/2022/post/disburse", data={**values, "step": "post"})
    assert "done=posted" in first.headers["location"]
    assert "done=again" in again.headers["location"]
    journal = web.get(f"/u/{UNIT}/2022/journal?document_no=记-2022-12-0099")
    assert journal.text.count('class="entry"') == 1


def test_a_clerk_of_one_unit_cannot_reach_another(web: TestClient, ledger: Ledger) -> None:
    CommandHandler(ledger).handle(
        parse_command(
            {
                "type": "register_unit",
                "command_id": "u-other",
                "posted_by": "admin",
                "business_date": "2022-01-01",
                "code": "OTHER",
                "name": "别的局",
            }
        )
    )
    sign_in(web, issue(ledger, "会计-别处", Role.CLERK, units=["OTHER"]))
    home = web.get("/")
    assert UNIT not in home.text
    for path in (f"/u/{UNIT}/2022", f"/u/{UNIT}/2022/journal", f"/u/{UNIT}/2022/reports"):
        response = web.get(path)
        assert response.status_code == 403 and "out_of_scope" in response.text


def test_an_auditor_without_clearance_sees_no_classified_detail(
    web: TestClient, ledger: Ledger
) -> None:
    sign_in(web, issue(ledger, "审计-张", Role.AUDITOR))
    for path in (
        f"/u/{UNIT}/2022",
        f"/u/{UNIT}/2022/journal",
        f"/u/{UNIT}/2022/reports",
        f"/u/{UNIT}/2022/execution",
        f"/u/{UNIT}/2022/balances",
    ):
        page = web.get(path)
        assert page.status_code == 200, (path, page.text)
        assert "XM-P20" not in page.text, path
    trail = web.get(f"/u/{UNIT}/trail?project=P20")
    assert trail.status_code == 403, trail.text
    assert "XM-P20" not in trail.text
    assert web.get(f"/u/{UNIT}/2022/post/disburse").status_code == 403


def test_pages_are_not_cached_framed_or_scripted_from_elsewhere(
    web: TestClient, ledger: Ledger
) -> None:
    sign_in(web, issue(ledger, "审计-张", Role.AUDITOR))
    page = web.get(f"/u/{UNIT}/2022")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/static/web/htmx.min.js"' in page.text
    assert web.get("/static/web/htmx.min.js").status_code == 200


def test_an_auditor_reconciles_and_downloads(
    web: TestClient, ledger: Ledger, published_path: Path
) -> None:
    csrf = sign_in(web, issue(ledger, "审计-张", Role.AUDITOR))
    result = web.post(
        f"/u/{UNIT}/2022/reconcile",
        data={"csrf": csrf},
        files={"published": ("figures.json", published_path.read_bytes(), "application/json")},
    )
    assert result.status_code == 200 and 'class="diff"' in result.text
    chart = web.get(f"/u/{UNIT}/2022/download/chart")
    assert chart.headers["content-type"] == "image/png" and chart.content[:4] == b"\x89PNG"
    workbook = web.get(f"/u/{UNIT}/2022/download/workbook")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    assert web.get(f"/u/{UNIT}/2022/download/csv").content[:2] == b"PK"


def test_a_closer_previews_and_closes_and_a_clerk_may_not(web: TestClient, ledger: Ledger) -> None:
    clerk = TestClient(web.app, follow_redirects=False)
    sign_in(clerk, issue(ledger, "会计-李娜", Role.CLERK, units=[UNIT]))
    assert clerk.get(f"/u/{UNIT}/2022/close").status_code == 403
    csrf = sign_in(web, issue(ledger, "结账员-赵", Role.CLOSER, units=[UNIT]))
    preview = web.get(f"/u/{UNIT}/2022/close")
    assert preview.status_code == 200 and "default.basic" in preview.text
    assert "XM-P20" not in preview.text
    assert web.post(f"/u/{UNIT}/2022/close", data={"csrf": "x"}).status_code == 403
    done = web.post(f"/u/{UNIT}/2022/close", data={"csrf": csrf})
    assert done.status_code == 200 and 'id="seal"' in done.text
    assert "已结账" in web.get(f"/u/{UNIT}/2022").text
    # A correction into the closed year after its adjustment period: refused by the books,
    # the message beside the reason.
    late = web.post(
        f"/u/{UNIT}/2022/post/reverse",
        data={
            "csrf": csrf,
            "command_id": "web-late-fix",
            "line": LINE,
            "reverses_command_id": "seed-2022-0337",
            "reason": "错账",
            "document_no": "记-2023-09-0001",
            "business_date": "2022-12-31",
            "adjustment_reason": "审计调整",
            "step": "post",
        },
    )
    assert late.status_code == 409 and 'id="e-adjustment_reason"' in late.text
    # An admin reopens it, with a reason.
    admin = TestClient(web.app, follow_redirects=False)
    admin_csrf = sign_in(admin, issue(ledger, "管理员", Role.ADMIN))
    reopen = {"csrf": admin_csrf, "command_id": "web-reopen-1", "reason": "审计发现漏记"}
    reopened = admin.post(f"/u/{UNIT}/2022/reopen", data={**reopen, "business_date": "2023-02-01"})
    assert reopened.status_code == 303, reopened.text
    assert "进行中" in admin.get(f"/u/{UNIT}/2022").text


def test_reports_and_downloads_in_yuan_or_wanyuan(web: TestClient, ledger: Ledger) -> None:
    from ledger.amount_units import AmountUnit, amounts_in
    from projections.books import books_of
    from projections.statutory_tables import statutory_tables

    sign_in(web, issue(ledger, "审计-李", Role.AUDITOR))
    with amounts_in(AmountUnit.YUAN):
        first = statutory_tables(books_of(ledger), UNIT, 2022)[0]
    figure = next(str(v) for row in first.rows for v in row if "." in str(v) and str(v) != "0.00")
    in_yuan = web.get(f"/u/{UNIT}/2022/reports?amount_unit=yuan").text
    assert "金额单位：元" in in_yuan and figure in in_yuan
    in_wanyuan = web.get(f"/u/{UNIT}/2022/reports").text
    assert "金额单位：万元" in in_wanyuan and figure not in in_wanyuan
    assert "项目（元）" in web.get(f"/u/{UNIT}/2022/execution?amount_unit=yuan").text
    workbook = web.get(f"/u/{UNIT}/2022/download/workbook?amount_unit=yuan")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    assert web.get(f"/u/{UNIT}/2022/reports?amount_unit=dollars").status_code == 422
