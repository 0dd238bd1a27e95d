"""Reports and exports in 元 on request (``--amount-unit yuan``), 万元 by default."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

from openpyxl import load_workbook

from tests.e2e.test_cli import Cli, cli  # noqa: F401 - fixture

REPORT = ("report", "final-accounts", "--unit", "CJ-SWGXJ", "--year", "2022")


def test_reports_and_exports_in_yuan(cli: Cli) -> None:  # noqa: F811
    cli("demo", "--format", "json")
    wanyuan = json.loads(cli(*REPORT, "--format", "json").stdout)
    yuan = json.loads(cli(*REPORT, "--format", "json", "--amount-unit", "yuan").stdout)
    assert yuan["amount_unit"].startswith("元")
    for key in ("income_total", "current_year_expenditure"):
        exact = Decimal(yuan["overview"][key])
        assert exact.as_tuple().exponent == -2
        shown = (exact / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert str(shown) == wanyuan["overview"][key]
    assert yuan["three_public_expenses_detail"]["total"]["amount_yuan"] == "51600.00"
    table = cli(*REPORT, "--amount-unit", "yuan").stdout
    assert "一、收入支出决算总体情况（元）" in table

    out = cli.workdir / "out" / "决算.xlsx"
    cli(
        "export",
        "final-accounts",
        "--unit",
        "CJ-SWGXJ",
        "--year",
        "2022",
        "--xlsx",
        str(out),
        "--amount-unit",
        "yuan",
    )
    sheet = load_workbook(out).worksheets[0]
    assert "金额单位：元" in str(sheet.cell(2, sheet.max_column).value)
    refused = cli(*REPORT, "--amount-unit", "fen", ok=False)
    assert refused.returncode == 2
