"""Reading a catalogue a finance bureau maintains: CSV (UTF-8, a header row) or xlsx
(the first sheet, a header row), columns named in Chinese or English.

Catalogue columns: ``科目编码``/``code``, ``科目名称``/``name``, optionally
``级次``/``level``; ``来源``/``source`` and ``说明``/``note`` are read past. A mapping file
(the year before's codes to this year's): ``上年科目编码``/``prior_code`` and
``科目编码``/``code``. Any other column is refused (a misspelt header would otherwise
be read past silently).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ledger.classifications.catalogue import Row
from ledger.errors import InvalidInput

CODE = {"科目编码", "code", "编码"}
NAME = {"科目名称", "name", "名称"}
LEVEL = {"级次", "level"}
IGNORED = {"来源", "source", "说明", "note"}
PRIOR = {"上年科目编码", "prior_code"}
MAX_BYTES = 20 * 1024 * 1024


def _cells(path: Path) -> list[list[str]]:
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    if path.stat().st_size > MAX_BYTES:
        raise InvalidInput(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_cells(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text (save the CSV as UTF-8)") from None
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]


def _xlsx_cells(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise InvalidInput(f"{path} cannot be read as xlsx ({type(error).__name__})") from None
    try:
        sheet = book.worksheets[0]
        rows: list[list[str]] = []
        for values in sheet.iter_rows(values_only=True):
            rows.append(["" if v is None else _cell_text(v) for v in values])
        return rows
    finally:
        book.close()


def _cell_text(value: object) -> str:
    """A cell as text; a code typed as a number (2010301) is its digits."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _columns(path: Path, header: list[str], wanted: dict[str, set[str]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        title = title.strip().lower() if title.isascii() else title.strip()
        if not title:
            continue
        role = next((r for r, names in wanted.items() if title in names), None)
        if role is None and title in IGNORED:
            continue
        if role is None:
            raise InvalidInput(
                f"{path}: column {index + 1} is headed {header[index]!r}, which is not one "
                f"of {', '.join(sorted(n for s in [*wanted.values(), IGNORED] for n in s))}"
            )
        if role in found:
            raise InvalidInput(f"{path}: two columns are headed as {role}")
        found[role] = index
    return found


def read_rows(path: Path) -> list[Row]:
    """The rows of a catalogue file (blank rows skipped), numbered as in the file."""
    cells = _cells(path)
    if not cells:
        raise InvalidInput(f"{path} is empty: it needs a header row (科目编码,科目名称)")
    columns = _columns(path, cells[0], {"code": CODE, "name": NAME, "level": LEVEL})
    if "code" not in columns or "name" not in columns:
        raise InvalidInput(f"{path}: the header row needs 科目编码 (code) and 科目名称 (name)")

    def cell(row: list[str], role: str) -> str:
        index = columns.get(role)
        return row[index] if index is not None and index < len(row) else ""

    return [
        Row(number, cell(row, "code"), cell(row, "name"), cell(row, "level"))
        for number, row in enumerate(cells[1:], start=2)
        if any(c.strip() for c in row)
    ]


def read_mapping(path: Path) -> list[Row]:
    """The rows of a mapping file as rows whose ``code`` is the year before's code and
    ``name`` this year's."""
    cells = _cells(path)
    if not cells:
        raise InvalidInput(f"{path} is empty: it needs a header row (上年科目编码,科目编码)")
    columns = _columns(path, cells[0], {"prior": PRIOR, "code": CODE})
    if "prior" not in columns or "code" not in columns:
        raise InvalidInput(f"{path}: the header row needs 上年科目编码 (prior_code) and 科目编码")
    rows = []
    for number, row in enumerate(cells[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        prior = row[columns["prior"]] if columns["prior"] < len(row) else ""
        code = row[columns["code"]] if columns["code"] < len(row) else ""
        rows.append(Row(number, prior, code))
    return rows
