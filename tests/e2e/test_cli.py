"""The CLI as a person drives it: a real ``fundflow`` process, a real store."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from commands.handlers import today_in_china
from tests.conftest import postgres_schema_url
from tests.published import differences, unexplained_differences

UNIT = "昌吉市商务和工业信息化局"
FUNDFLOW = shutil.which("fundflow", path=str(Path(sys.executable).parent)) or "fundflow"


class Cli:
    def __init__(self, workdir: Path, database_url: str | None = None) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
        self.env["FUNDFLOW_DATA_DIR"] = str(workdir / "data")
        if database_url:
            self.env["FUNDFLOW_DATABASE_URL"] = database_url
        self.workdir = workdir

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [FUNDFLOW, *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture
def pg_cli(tmp_path: Path) -> Iterator[Cli]:
    for url in postgres_schema_url():
        yield Cli(tmp_path, url)


def test_demo_then_report_matches_the_published_figures(cli: Cli, published_path: Path) -> None:
    demo = cli("demo", "--format", "json")
    assert (cli.workdir / "data" / "fundflow.sqlite3").exists()
    published = json.loads(published_path.read_text(encoding="utf-8"))
    assert unexplained_differences(published, json.loads(demo.stdout)) == {}

    report = cli("report", "final-accounts", "--unit", UNIT, "--year", "2022", "--format", "json")
    assert json.loads(report.stdout) == json.loads(demo.stdout)

    again = cli("demo", "--format", "json")  # running the demo twice writes nothing twice
    assert json.loads(again.stdout) == json.loads(demo.stdout)
    assert "0 applied, 339 already applied" in again.stderr


def test_demo_of_a_unit_published_in_yuan(cli: Cli) -> None:
    """寻甸's 三公, published to the fen: `demo --unit XD-WLJ --amount-unit yuan` prints
    every published figure (the undefined 0% rates as null, as its figures file says)."""
    published = json.loads(
        (
            Path(__file__).resolve().parents[2]
            / "commands/seed/xundian-2022-published-figures.json"
        ).read_text(encoding="utf-8")
    )
    demo = cli("demo", "--unit", "XD-WLJ", "--amount-unit", "yuan", "--format", "json")
    differing = {path: ours for path, _, ours in differences(published, json.loads(demo.stdout))}
    assert differing == {
        e["where"]: e["consistent_value"]
        for e in published["known_inconsistencies_in_the_published_report"]
    }
    in_wanyuan = json.loads(
        cli("demo", "--unit", "寻甸回族彝族自治县文化和旅游局", "--format", "json").stdout
    )
    assert in_wanyuan["three_public_expenses"]["total"] == "2.61"  # 26,085.58 元
    assert "0 applied, 9 already applied" in cli("demo", "--unit", "XD-WLJ").stderr


def test_reports_for_people(cli: Cli) -> None:
    table = cli("demo").stdout
    assert "收入总计: 11050.74" in table and "人员经费: 710.81" in table
    execution = cli("report", "execution", "--unit", UNIT, "--year", "2022").stdout
    assert "招商引资工作经费" in execution and "26.08" in execution
    balances = json.loads(
        cli("report", "balances", "--unit", "CJ-SWGXJ", "--year", "2022", "--format", "json").stdout
    )
    assert balances["total_balance_wanyuan"] == "0.00"
    before = json.loads(
        cli(
            "report",
            "execution",
            "--unit",
            UNIT,
            "--year",
            "2022",
            "--as-of",
            "2022-06-30",
            "--clearance",
            "--format",
            "json",
        ).stdout
    )
    refused = cli(
        "report", "execution", "--unit", UNIT, "--year", "2022", "--as-of", "2022-06-30", ok=False
    )
    assert "rejected (forbidden)" in refused.stderr and "clearance" in refused.stderr
    names = {p["name"]: p["funds"]["total"] for p in before["projects"]}
    assert names["招商引资工作经费"]["full_year_budget"] == "30.00"
    assert names["2022年中央财政县域商业体系建设项目资金"]["full_year_budget"] == "0.00"  # August


def test_posting_by_hand(cli: Cli) -> None:
    common = ["--unit", "U9", "--year", "2024", "--date", "2024-02-01"]
    unit = ["post", "register-unit", "--code", "U9", "--name", "示例局", "--date", "2024-01-01"]
    refused = cli(*unit, ok=False)
    assert "rejected (forbidden)" in refused.stderr and "admin role" in refused.stderr
    cli.env["FUNDFLOW_ROLE"] = "admin"
    cli(*unit)
    cli("post", "open-year", "--unit", "U9", "--year", "2024", "--date", "2024-01-01")
    cli.env["FUNDFLOW_ROLE"] = "clerk"
    cli(
        "post",
        "open-line",
        *common,
        "--line",
        "G1",
        "--title",
        "公用经费",
        "--nature",
        "basic_public",
        "--function-code",
        "2010301",
    )
    cli(
        "post",
        "allocate",
        *common,
        "--line",
        "G1",
        "--amount",
        "1.5万",
        "--document-no",
        "昌市财预〔2024〕1号",
        "--command-id",
        "a1",
    )
    retry = cli(
        "post",
        "allocate",
        *common,
        "--line",
        "G1",
        "--amount",
        "15000.00",
        "--document-no",
        "昌市财预〔2024〕1号",
        "--command-id",
        "a1",
    )
    assert json.loads(retry.stdout)["status"] == "already_applied"
    paid = cli(
        "post",
        "disburse",
        *common,
        "--line",
        "G1",
        "--amount",
        "4300",
        "--payee",
        "加油站",
        "--economic-code",
        "30231",
        "--document-no",
        "记-1",
    )
    assert json.loads(paid.stdout)["available"] == "10700.00"

    refused = cli(
        "post",
        "disburse",
        *common,
        "--line",
        "G1",
        "--amount",
        "20000",
        "--payee",
        "X",
        "--economic-code",
        "30201",
        "--document-no",
        "记-2",
        ok=False,
    )
    assert refused.returncode == 1
    assert (
        "rejected (overspend)" in refused.stderr and "10700.00 yuan is available" in refused.stderr
    )
    bad = cli(
        "post",
        "allocate",
        *common,
        "--line",
        "G1",
        "--amount",
        "12.345",
        "--document-no",
        "d",
        ok=False,
    )
    assert bad.returncode == 1 and "more than two decimals" in bad.stderr


def test_import_reports_each_line_and_stops_at_the_first_bad_one(cli: Cli) -> None:
    good = {
        "type": "register_unit",
        "command_id": "i-1",
        "posted_by": "clerk",
        "business_date": "2024-01-01",
        "code": "U7",
        "name": "导入局",
    }
    bad = {
        "type": "open_fiscal_year",
        "command_id": "i-2",
        "posted_by": "clerk",
        "business_date": "2024-01-01",
        "unit": "U8",
        "year": 2024,
    }
    path = cli.workdir / "in.jsonl"
    path.write_text(
        json.dumps(good, ensure_ascii=False) + "\n" + json.dumps(bad) + "\n" + "{not json\n",
        encoding="utf-8",
    )
    done = cli("import", str(path), "--role", "admin", ok=False)
    assert done.returncode == 1
    assert "line 1: applied" in done.stdout
    assert "line 2 rejected (unknown_unit): unit U8 is not registered" in done.stderr

    gbk = cli.workdir / "gbk.jsonl"
    gbk.write_bytes(json.dumps({**good, "command_id": "i-9"}, ensure_ascii=False).encode("gbk"))
    done = cli("import", str(gbk), "--role", "admin", ok=False)
    assert "not UTF-8" in done.stderr


@pytest.mark.postgres
def test_demo_on_postgresql(pg_cli: Cli, published_path: Path) -> None:
    demo = pg_cli("demo", "--format", "json")
    published = json.loads(published_path.read_text(encoding="utf-8"))
    assert unexplained_differences(published, json.loads(demo.stdout)) == {}
    assert not (pg_cli.workdir / "data").exists()


def test_the_readme_import_example_imports(cli: Cli) -> None:
    readme = Path(__file__).resolve().parents[2] / "README.md"
    lines = [
        ln for ln in readme.read_text(encoding="utf-8").splitlines() if ln.startswith('{"type"')
    ]
    assert len(lines) >= 8
    path = cli.workdir / "readme.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = cli("import", str(path), "--role", "admin")
    assert f"{len(lines)} applied" in done.stdout
    balances = json.loads(
        cli("report", "balances", "--unit", "U9", "--year", "2024", "--format", "json").stdout
    )
    assert balances["lines"][0]["balance"] == "239000.00"  # 300000 − 60000 − 1000


def test_close_2022_then_post_into_2023(cli: Cli) -> None:
    cli("demo")
    refused = cli("close-year", "--unit", UNIT, "--year", "2022", ok=False)
    assert "rejected (forbidden)" in refused.stderr
    closed = cli("close-year", "--unit", UNIT, "--year", "2022", "--role", "closer")
    assert "2022 of CJ-SWGXJ closed" in closed.stdout
    assert (
        "already closed"
        in cli("close-year", "--unit", UNIT, "--year", "2022", "--role", "closer").stdout
    )
    assert "identities hold for 2022" in cli("check", "--unit", UNIT, "--year", "2022").stdout

    late = cli(
        "post",
        "disburse",
        "--unit",
        "CJ-SWGXJ",
        "--year",
        "2022",
        "--line",
        "JB-2010301-GY",
        "--amount",
        "10",
        "--payee",
        "X",
        "--economic-code",
        "30201",
        "--date",
        "2022-12-31",
        "--document-no",
        "记-x",
        ok=False,
    )
    assert "rejected (year_closed)" in late.stderr

    common = ["--unit", "CJ-SWGXJ", "--year", "2023", "--date", "2023-01-10"]
    cli(
        "post",
        "open-line",
        *common,
        "--line",
        "JB-2010301-GY",
        "--title",
        "公用经费",
        "--nature",
        "basic_public",
        "--function-code",
        "2010301",
    )
    cli(
        "post",
        "allocate",
        *common,
        "--line",
        "JB-2010301-GY",
        "--amount",
        "20万",
        "--initial",
        "--document-no",
        "昌市人大批复〔2023〕1号",
    )
    cli(
        "post",
        "disburse",
        *common,
        "--line",
        "JB-2010301-GY",
        "--amount",
        "4300",
        "--payee",
        "加油站",
        "--economic-code",
        "30231",
        "--document-no",
        "记-2023-01-0001",
    )
    r22 = json.loads(
        cli("report", "final-accounts", "--unit", UNIT, "--year", "2022", "--format", "json").stdout
    )
    r23 = json.loads(
        cli("report", "final-accounts", "--unit", UNIT, "--year", "2023", "--format", "json").stdout
    )
    assert (
        r23["overview"]["opening_carryover_and_balance"]
        == r22["overview"]["closing_carryover_and_balance"]
        == "0.00"
    )
    assert r23["overview"]["current_year_income"] == "20.00"
    assert r23["overview"]["closing_carryover_and_balance"] == "19.57"
    assert r23["three_public_expenses"]["vehicle_operation"] == "0.43"
    assert "identities hold for 2023" in cli("check", "--unit", UNIT, "--year", "2023").stdout


def test_tokens_are_managed_by_an_admin_and_never_shown_again(cli: Cli) -> None:
    refused = cli("tokens", "create", "--identity", "王芳", "--token-role", "clerk", ok=False)
    assert "rejected (forbidden)" in refused.stderr
    cli.env["FUNDFLOW_ROLE"] = "admin"
    token = cli("tokens", "create", "--identity", "王芳", "--token-role", "auditor").stdout.strip()
    assert token.startswith("ff_")
    token_id = token.split("_")[1]
    listed = cli("tokens", "list").stdout
    assert token_id in listed and token.split("_", 2)[2] not in listed
    assert json.loads(listed)[0]["revoked"] is False
    cli("tokens", "revoke", token_id, "--reason", "调离")
    assert json.loads(cli("tokens", "list").stdout)[0]["revoked"] is True
    store = (cli.workdir / "data" / "fundflow.sqlite3").read_bytes()
    assert token.split("_", 2)[2].encode() not in store  # only the salted hash is stored


def test_auditor_reconciles_and_follows_a_trail(cli: Cli, published_path: Path) -> None:
    cli("demo")
    done = cli(
        "audit",
        "reconcile",
        "--unit",
        UNIT,
        "--year",
        "2022",
        "--published",
        str(published_path),
        "--format",
        "json",
    )
    result = json.loads(done.stdout)
    published = json.loads(published_path.read_text(encoding="utf-8"))
    assert result["differing"] == len(result["differences"]) > 0
    assert (
        unexplained_differences(
            published,
            json.loads(
                cli(
                    "report", "final-accounts", "--unit", UNIT, "--year", "2022", "--format", "json"
                ).stdout
            ),
        )
        == {}
    )
    table_text = cli(
        "audit", "reconcile", "--unit", UNIT, "--year", "2022", "--published", str(published_path)
    ).stdout
    assert "by_function_item[2010399].amount" in table_text and "53.07" in table_text
    trail = json.loads(
        cli("audit", "trail", "--unit", UNIT, "--project", "P08", "--format", "json").stdout
    )
    assert trail[-1]["memo"] == "项目已经结束，剩余资金财政收回"
    bad = cli.workdir / "bad.json"
    bad.write_bytes("{不是JSON".encode("gbk"))
    refused = cli(
        "audit", "reconcile", "--unit", UNIT, "--year", "2022", "--published", str(bad), ok=False
    )
    assert refused.returncode == 2 and "not a UTF-8 JSON document" in refused.stderr


def test_audit_verify_names_a_tampered_event(cli: Cli) -> None:
    import sqlite3

    cli("demo")
    # 679 events of the seed, and FiscalYear.PostingsBegan (the take-on rule: the first posting)
    assert "the chain holds: 680 events verified" in cli("audit", "verify").stdout
    conn = sqlite3.connect(cli.workdir / "data" / "fundflow.sqlite3")
    with conn:
        conn.execute(
            "UPDATE stored_events SET state = CAST(state || X'20' AS BLOB) WHERE rowid = 250"
        )
    conn.close()
    done = cli("audit", "verify", ok=False)
    assert done.returncode == 1 and "TAMPERED: the chain breaks at event 250" in done.stdout


def test_the_readme_correction_example_rebalances_a_closed_year(cli: Cli) -> None:
    """README: ``fundflow post disburse … --adjustment-reason "…"`` — a correcting payment
    into a closed year, in its adjustment period, run as written (the … filled in)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = next(
        ln
        for ln in readme.splitlines()
        if ln.startswith("fundflow post disburse") and "--adjustment-reason" in ln
    )
    words = example.split("#")[0].split()
    assert words[:3] == ["fundflow", "post", "disburse"] and words[-2] == "--adjustment-reason"

    # the README's import example, as last year's books (still in their adjustment period)
    last = today_in_china().year - 1
    lines = [
        ln.replace("2024", str(last)) for ln in readme.splitlines() if ln.startswith('{"type"')
    ]
    path = cli.workdir / "books.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli("import", str(path), "--role", "admin")
    policy = cli.workdir / "policy.toml"
    policy.write_text("adjustment_period_days = 366\n", encoding="utf-8")
    closed = cli(
        "close-year",
        "--unit",
        "U9",
        "--year",
        str(last),
        "--policy",
        str(policy),
        "--role",
        "closer",
    )
    assert "XM-P1: carry_over 239000.00 yuan" in closed.stdout

    cli.env["FUNDFLOW_ROLE"] = "closer"
    filled = [
        "--unit", "U9", "--year", str(last), "--line", "XM-P1", "--amount", "4300",
        "--payee", "差旅报销", "--economic-code", "30211", "--date", f"{last}-12-31",
        "--document-no", f"记-{last}-12-0099", "--command-id", "adj-1",
    ]  # fmt: skip
    paid = cli(*words[1:3], *filled, words[-2], "审计发现漏记一笔差旅费")
    result = json.loads(paid.stdout)
    assert result["available"] == "0.00"
    assert [e["type"] for e in result["events"]] == [
        "Disbursed",
        "CarryoverAdjusted",
        "CarryoverReceiptAdjusted",
    ]
    for year in (last, last + 1):
        assert (
            f"identities hold for {year}"
            in cli("check", "--unit", "U9", "--year", str(year)).stdout
        )
    balances = json.loads(
        cli(
            "report", "balances", "--unit", "U9", "--year", str(last + 1), "--format", "json"
        ).stdout
    )
    assert balances["lines"][0]["balance"] == "234700.00"  # 239000 − 4300
    again = cli("close-year", "--unit", "U9", "--year", str(last), "--role", "closer")
    assert "already closed" in again.stdout

    # the correction reversed, also as a correction: the carryover comes back
    cli(
        "post", "reverse", "--unit", "U9", "--year", str(last), "--line", "XM-P1",
        "--reverses", "adj-1", "--reason", "重复报销", "--date", f"{last}-12-31",
        "--document-no", f"记-{last}-12-0100", "--adjustment-reason", "冲销重复报销",
    )  # fmt: skip
    for year in (last, last + 1):
        assert (
            f"identities hold for {year}"
            in cli("check", "--unit", "U9", "--year", str(year)).stdout
        )
    too_much = cli(*words[1:3], *filled[:-2], "--amount", "239000.01", words[-2], "?", ok=False)
    assert "rejected (overspend)" in too_much.stderr and "carried over" in too_much.stderr
