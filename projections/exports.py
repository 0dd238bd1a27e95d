"""The statutory tables as files: an Excel workbook (a sheet per table, in the published
layout, 万元 with two decimals), CSV files and JSON alongside, a PNG chart of what became
of each project's and line's money, and a one-page HTML summary."""

from __future__ import annotations

import base64
import csv
import html
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as XlsxCell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

from ledger.amount_units import unit_label
from projections.chart import Bar
from projections.chart import write_chart as draw_chart
from projections.statutory_tables import Cell, Table

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def _plain(value: Cell) -> Any:
    return str(value) if isinstance(value, Decimal) else value


#: What a spreadsheet program takes as the start of a formula (or, for tab and CR, what
#: some of them strip before taking it so): text beginning so is never left live.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A plain decimal number, e.g. ``-1.24``: a spreadsheet reads it as a number, never a
#: formula, so it is written as it is.
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def formula_like(text: str) -> bool:
    """Whether a spreadsheet program could take ``text`` for a formula (a project or
    catalogue name like ``=HYPERLINK(…)`` registered by a clerk)."""
    return text.startswith(FORMULA_START) and PLAIN_NUMBER.fullmatch(text) is None


def csv_field(value: Cell) -> Any:
    """A CSV field: amounts as their decimal text; text that a spreadsheet program would
    take for a formula behind a leading ``'`` (OWASP's advice on CSV injection). Numbers —
    even negative ones such as a change of ``-1.24`` — are never altered."""
    plain = _plain(value)
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return plain


def put(sheet: Worksheet, row: int, column: int, value: Cell) -> XlsxCell:
    """Write ``value`` to a cell: amounts as numbers, text always as text. openpyxl takes
    a string beginning with ``=`` for a formula (and ``#N/A`` and the like for an error),
    so the type is set to string after the value; text that looks like a formula also
    gets Excel's quote prefix, so that editing the cell does not make it one either."""
    cell = sheet.cell(row, column, value)
    if isinstance(value, str):
        cell.data_type = "s"
        if formula_like(value):
            cell.quotePrefix = True
    return cell


def write_xlsx(tables: list[Table], path: Path, *, unit: str, year: int) -> None:
    """One sheet per table: title, unit and date line, headers, rows; amounts as numbers
    formatted ``0.00``."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(table.code)
        width = len(table.headers)
        put(sheet, 1, 1, table.title).font = Font(bold=True, size=14)
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        sheet.cell(1, 1).alignment = Alignment(horizontal="center")
        put(sheet, 2, 1, f"编制单位：{unit}")
        put(sheet, 2, width, f"{table.code}  {year}年度  金额单位：{unit_label()}")
        sheet.cell(2, width).alignment = Alignment(horizontal="right")
        for column, header in enumerate(table.headers, start=1):
            cell = put(sheet, 3, column, header)
            cell.font = Font(bold=True)
            cell.border = BOX
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
            sheet.column_dimensions[cell.column_letter].width = 14 if column > 2 else 30
        for r, row in enumerate(table.rows, start=4):
            for c, value in enumerate(row, start=1):
                cell = put(sheet, r, c, value)
                cell.border = BOX
                if isinstance(value, Decimal):
                    cell.number_format = "0.00"
        if table.note:
            put(sheet, 4 + len(table.rows), 1, table.note)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def write_csv(tables: list[Table], directory: Path) -> list[Path]:
    """One UTF-8 CSV (with BOM, so that spreadsheet programs read the Chinese) per table."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables:
        path = directory / f"{table.code}-{table.title}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([csv_field(h) for h in table.headers])
            writer.writerows([[csv_field(v) for v in row] for row in table.rows])
        written.append(path)
    return written


def tables_json(tables: list[Table], *, unit: str, year: int) -> dict[str, Any]:
    return {
        "unit": unit,
        "fiscal_year": year,
        "amount_unit": unit_label(),
        "tables": [
            {
                "code": t.code,
                "title": t.title,
                "headers": t.headers,
                "note": t.note,
                "rows": [[_plain(v) for v in row] for row in t.rows],
            }
            for t in tables
        ],
    }


def write_json(tables: list[Table], path: Path, *, unit: str, year: int) -> None:
    """The tables as JSON (:func:`tables_json`), UTF-8, the Chinese as it is."""
    path.write_text(
        json.dumps(tables_json(tables, unit=unit, year=year), ensure_ascii=False, indent=1),
        encoding="utf-8",
    )


def write_chart(
    projects: list[dict[str, Any]],
    path: Path,
    *,
    bars: tuple[list[Bar], list[Bar]] | None = None,
    title: str = "",
) -> None:
    """The execution chart (see :mod:`projections.chart`): per project and per line, what
    became of the money, labelled with the Chinese names. Without ``bars`` (the books'
    per-line figures) only the report's project rows are drawn: budget and executed."""
    if bars is None:
        bars = ([_bar_of_row(p) for p in projects], [])
    draw_chart(*bars, path, title=title)


def _bar_of_row(project: dict[str, Any]) -> Bar:
    total = project["funds"]["total"]
    budget = int(Decimal(total["full_year_budget"]) * 1_000_000)
    executed = int(Decimal(total["executed"]) * 1_000_000)
    return Bar(project["name"], budget, executed, 0, 0, 0, max(0, budget - executed))


def write_html(report: dict[str, Any], chart: Path, path: Path) -> None:
    """One page for people who would rather look than read."""
    overview = report["overview"]
    figures = [
        ("收入总计", overview["income_total"]),
        ("支出总计", overview["expenditure_total"]),
        ("基本支出", report["expenditure_by_nature"][0]["amount"]),
        ("项目支出", report["expenditure_by_nature"][1]["amount"]),
        ("年末结转和结余", overview["closing_carryover_and_balance"]),
        ("“三公”经费", report["three_public_expenses"]["total"]),
    ]
    label = unit_label()
    cards = "".join(
        f"<div class=card><b>{html.escape(v)}</b><span>{html.escape(k)}（{label}）</span></div>"
        for k, v in figures
    )
    rows = "".join(
        f"<tr><td>{i}</td><td>{html.escape(p['name'])}</td>"
        f"<td>{p['funds']['total']['full_year_budget']}</td>"
        f"<td>{p['funds']['total']['executed']}</td><td>{p['execution_rate_pct'] or '—'}</td></tr>"
        for i, p in enumerate(report["projects"], start=1)
    )
    image = base64.b64encode(chart.read_bytes()).decode()
    page = f"""<!doctype html><html lang=zh><meta charset=utf-8>
<title>{html.escape(report["unit"])} {report["fiscal_year"]}年度部门决算</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:auto}}.cards{{display:flex;
flex-wrap:wrap;gap:8px}}.card{{border:1px solid #ccc;padding:8px 12px;min-width:140px}}
.card b{{display:block;font-size:1.4em}}table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}td:nth-child(2){{text-align:left}}
</style>
<h1>{html.escape(report["unit"])} {report["fiscal_year"]}年度部门决算</h1>
<div class=cards>{cards}</div>
<h2>项目资金执行情况</h2>
<img alt="各项目的执行数、财政收回、结转、结余和可用余额（万元）"
 src="data:image/png;base64,{image}">
<table><tr><th>#</th><th>项目</th><th>全年预算数</th><th>全年执行数</th><th>执行率%</th></tr>
{rows}</table>
<p>金额单位：{unit_label()}，各数分别四舍五入。</p></html>
"""
    path.write_text(page, encoding="utf-8")


def export_all(
    tables: list[Table],
    report: dict[str, Any],
    xlsx: Path,
    *,
    bars: tuple[list[Bar], list[Bar]] | None = None,
) -> list[Path]:
    """The workbook, and beside it the JSON, the CSV files, the chart (``bars``: from
    :func:`projections.chart.chart_bars`) and the summary."""
    unit, year = report["unit"], report["fiscal_year"]
    write_xlsx(tables, xlsx, unit=unit, year=year)
    stem = xlsx.with_suffix("")
    as_json = stem.with_suffix(".json")
    write_json(tables, as_json, unit=unit, year=year)
    csvs = write_csv(tables, stem.parent / f"{stem.name}-csv")
    chart = stem.parent / f"{stem.name}-execution-rate.png"
    write_chart(report["projects"], chart, bars=bars, title=f"{unit} {year}年度")
    summary = stem.with_suffix(".html")
    write_html(report, chart, summary)
    return [xlsx, as_json, *csvs, chart, summary]
