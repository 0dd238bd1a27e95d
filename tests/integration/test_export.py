"""The statutory tables as files, checked cell by cell against the report."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from commands.cli import seed_path
from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.application import Ledger
from projections.books import books_of
from projections.exports import export_all
from projections.final_accounts import final_accounts
from projections.statutory_tables import statutory_tables

UNIT = "CJ-SWGXJ"
SHEETS = [f"公开0{n}表" for n in range(1, 10)] + ["绩效自评"]


@pytest.fixture
def exported(ledger: Ledger, tmp_path: Path) -> tuple[Path, dict[str, object]]:
    assert import_file(CommandHandler(ledger), seed_path()).ok
    books = books_of(ledger)
    report = final_accounts(books, UNIT, 2022)
    export_all(statutory_tables(books, UNIT, 2022), report, tmp_path / "决算.xlsx")
    return tmp_path, report


def rows(sheet: object) -> dict[str, list[object]]:
    """Rows by their first two cells (code, or label)."""
    found: dict[str, list[object]] = {}
    for row in sheet.iter_rows(min_row=4, values_only=True):  # type: ignore[attr-defined]
        for key in row[:2]:
            if isinstance(key, str) and key:
                found.setdefault(key, list(row))
    return found


def test_the_workbook_matches_the_report(exported: tuple[Path, dict[str, object]]) -> None:
    folder, report = exported
    book = load_workbook(folder / "决算.xlsx")
    assert book.sheetnames == SHEETS
    d = lambda text: Decimal(str(text))  # noqa: E731
    overview: dict[str, str] = report["overview"]  # type: ignore[assignment]

    t1 = rows(book["公开01表"])
    assert d(t1["总计"][1]) == d(overview["income_total"]) == Decimal("11050.74")
    assert d(t1["本年收入合计"][3]) == d(overview["current_year_expenditure"])  # 本年支出合计
    assert book["公开01表"]["A1"].value == "收入支出决算总表"
    assert "金额单位：万元" in book["公开01表"].cell(2, 4).value
    assert book["公开01表"].cell(4, 2).number_format == "0.00"

    t3 = rows(book["公开03表"])
    assert (d(t3["合计"][3]), d(t3["合计"][4])) == (Decimal("730.08"), Decimal("10320.66"))
    for item in report["by_function_item"]:  # type: ignore[attr-defined]
        assert d(t3[item["code"]][2]) == d(item["amount"]), item["code"]
    for klass in report["by_function_class"]:  # type: ignore[attr-defined]
        assert d(t3[klass["code"]][2]) == d(klass["amount"])

    t5 = rows(book["公开05表"])
    assert [d(x) for x in t5["合计"][2:7]] == [
        Decimal(x) for x in ("11050.74", "730.08", "710.81", "19.28", "10320.66")
    ]
    t6 = rows(book["公开06表"])
    assert (d(t6["人员经费"][2]), d(t6["公用经费"][2])) == (Decimal("710.81"), Decimal("19.28"))
    assert d(t6["30231"][2]) == Decimal("5.16")
    t7 = rows(book["公开07表"])
    assert (d(t7["合计"][1]), d(t7["合计"][2])) == (Decimal("7.80"), Decimal("5.16"))
    for empty in ("公开08表", "公开09表"):
        assert "本表为空表" in str(book[empty].cell(4, 1).value)
    perf = list(book["绩效自评"].iter_rows(min_row=4, values_only=True))
    assert len(perf) == 20 and all(d(r[6]) == Decimal("10.00") for r in perf)


def test_csv_json_chart_and_summary_alongside(exported: tuple[Path, dict[str, object]]) -> None:
    folder, _ = exported
    tables = json.loads((folder / "决算.json").read_text(encoding="utf-8"))["tables"]
    assert [t["code"] for t in tables] == SHEETS
    with (folder / "决算-csv" / "公开03表-支出决算表.csv").open(encoding="utf-8-sig") as handle:
        table = list(csv.reader(handle))
    assert table[0][:3] == ["科目编码", "科目名称", "本年支出合计"]
    assert [r[0] for r in table[1:6]] == ["201", "20103", "2010301", "2010350", "2010399"]
    assert table[5][:3] == ["2010399", "其他政府办公厅（室）及相关机构事务支出", "53.08"]
    assert (folder / "决算-execution-rate.png").read_bytes().startswith(b"\x89PNG")
    page = (folder / "决算.html").read_text(encoding="utf-8")
    assert "11050.74" in page and "data:image/png;base64," in page
