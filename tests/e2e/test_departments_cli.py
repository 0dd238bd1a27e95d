"""A department as a person drives it from the CLI: its units' history and the department
imported from a file, declared and assigned by hand, its 部门决算 printed, and refused to
a user scoped to only some of its units."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import Cli
from tests.scenario import YEAR
from tests.unit.test_departments import DEPT, OFFICE, SUB, department_history


def test_a_department_is_declared_assigned_and_reported_from_the_cli(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    history = department_history()
    units_only = [c for c in history if "department" not in c["type"]]
    path = tmp_path / "history.jsonl"
    path.write_text(
        "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in units_only), encoding="utf-8"
    )
    cli("import", str(path), "--role", "admin")
    cli(
        "post", "declare-department", "--code", DEPT, "--name", "某县文化广播电视和旅游局",
        "--date", "2022-01-01", "--role", "admin",
    )  # fmt: skip
    for unit in (OFFICE, "某县图书馆"):
        cli(
            "post", "assign-unit", "--department", DEPT, "--unit", unit,
            "--date", "2022-01-01", "--role", "admin",
        )  # fmt: skip
    clerk = cli(
        "post", "assign-unit", "--department", DEPT, "--unit", SUB, "--date", "2022-01-01",
        "--role", "clerk", ok=False,
    )  # fmt: skip
    assert clerk.returncode == 1 and "forbidden" in clerk.stderr

    args = ["report", "final-accounts", "--department", DEPT, "--year", str(YEAR)]
    report = json.loads(cli(*args, "--format", "json").stdout)
    assert report["overview"]["current_year_income"] == "88.00"
    assert report["eliminated_income"] == report["eliminated_expenditure"] == "23.00"
    assert report["ok"] and set(report["unit_reports"]) == {OFFICE, SUB}
    table = cli(*args).stdout
    assert "某县文化广播电视和旅游局 2022年 部门决算" in table and "年初结转和结余" in table

    checked = cli("check", "--department", DEPT, "--year", str(YEAR)).stdout
    assert "FAILED" not in checked and "identities hold for 2022" in checked
    # One side of a transfer within the department is missing: the department's identity fails.
    cli(
        "post", "receive", "--unit", SUB, "--year", str(YEAR), "--line", "S1", "--amount", "1万",
        "--payer", OFFICE, "--document-no", "记-9", "--date", "2022-06-01",
    )  # fmt: skip
    failed = cli("check", "--department", DEPT, "--year", str(YEAR), ok=False)
    assert failed.returncode == 1
    assert f"FAILED {DEPT}: 部门: 收入总计 = 支出总计" in failed.stdout

    cli.env["FUNDFLOW_UNITS"] = OFFICE
    refused = cli(*args, ok=False)
    assert refused.returncode == 1 and "rejected (out_of_scope)" in refused.stderr
    del cli.env["FUNDFLOW_UNITS"]
    both = cli("report", "final-accounts", "--year", "2022", ok=False)
    assert both.returncode == 2 and "either --unit or --department" in both.stderr
