"""``fundflow codes import`` / ``codes search`` as an admin and a clerk drive them."""

from __future__ import annotations

import json

from tests.e2e.test_cli import Cli, cli, pg_cli  # noqa: F401 - fixtures

CATALOGUE = (
    "科目编码,科目名称,级次,来源\n"
    "207,文化旅游体育与传媒支出,类,财政部《2023年政府收支分类科目》\n"
    "20701,文化和旅游,款,同上\n"
    "2070101,行政运行,项,同上\n"
    "2070109,群众文化,项,同上\n"
)


def _import_then_search(run: Cli) -> None:
    path = run.workdir / "2023-function.csv"
    path.write_text(CATALOGUE, encoding="utf-8")

    refused = run("codes", "import", str(path), "--year", "2023", ok=False)
    assert refused.returncode == 1 and "rejected (forbidden)" in refused.stderr

    loaded = run("codes", "import", str(path), "--year", "2023", "--role", "admin")
    assert json.loads(loaded.stdout)["status"] == "applied"
    again = run("codes", "import", str(path), "--year", "2023", "--role", "admin")
    assert json.loads(again.stdout)["status"] == "already_applied"

    found = run("codes", "search", "文化", "--year", "2023", "--kind", "function")
    assert "imported 2023" in found.stdout
    assert "2070109\t项\t文化旅游体育与传媒支出/文化和旅游/群众文化" in found.stdout
    shipped = run("codes", "search", "2070", "--year", "2022", "--format", "json")
    codes = [r["code"] for r in json.loads(shipped.stdout)["results"]]
    assert codes == ["20701", "2070101", "2070199"]  # the shipped 2022 rows under 207 …
    assert "2070109" not in codes  # … not the imported 2023 one

    bad = run.workdir / "bad.csv"
    bad.write_text("科目编码,科目名称\n2070101,行政运行\n2079,错\n", encoding="utf-8")
    refused = run("codes", "import", str(bad), "--year", "2024", "--role", "admin", ok=False)
    assert refused.returncode == 1
    assert "row 2: code 2070101 lacks its 类 207 and its 款 20701" in refused.stderr
    assert "row 3: code '2079' is not 3 or 5 or 7 ASCII digits" in refused.stderr
    assert "nothing was loaded" in refused.stderr
    misspelt = run.workdir / "misspelt.csv"
    misspelt.write_text("科目代码,科目名称\n207,文化\n", encoding="utf-8")
    refused = run("codes", "import", str(misspelt), "--year", "2024", "--role", "admin", ok=False)
    assert "column 1 is headed '科目代码'" in refused.stderr


def test_codes_import_and_search(cli: Cli) -> None:  # noqa: F811
    _import_then_search(cli)


def test_codes_import_and_search_on_postgresql(pg_cli: Cli) -> None:  # noqa: F811
    _import_then_search(pg_cli)
