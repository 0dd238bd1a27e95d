"""The keyed chain and its anchors as an operator and an auditor drive them: real
``fundflow`` processes, SQLite and PostgreSQL."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.aggregates import BudgetLine
from ledger.chain_key import load_keyring
from tests.conftest import postgres_schema_url
from tests.e2e.test_cli import Cli
from tests.forgery import Forger, with_key

UNIT = "CJ-SWGXJ"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cli]:
    if request.param == "sqlite":
        yield Cli(tmp_path)
    else:
        for url in postgres_schema_url():
            yield Cli(tmp_path, url)


def database_url(cli: Cli) -> str:
    return cli.env.get(
        "FUNDFLOW_DATABASE_URL", f"sqlite:///{cli.workdir / 'data' / 'fundflow.sqlite3'}"
    )


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_keyed_chain_heads_and_seals_from_the_command_line(any_cli: Cli) -> None:
    cli = any_cli
    key_file = cli.workdir / "keys" / "chain.key"
    made = cli("chain-key", "new", str(key_file), "--id", "k2024")
    assert "wrote key k2024" in made.stdout
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    cli.env["FUNDFLOW_CHAIN_KEY_FILE"] = str(key_file)

    cli("demo")
    verified = cli("audit", "verify")
    assert "events verified with the chain key (k2024)" in verified.stdout
    assert "WARNING" not in verified.stderr
    head = last_line(verified.stdout).removeprefix("head: ")
    position, _, stored = head.partition(":")
    assert stored.startswith("k2024:") and len(stored) == len("k2024:") + 64

    closed = cli("close-year", "--unit", UNIT, "--year", "2022", "--role", "closer")
    seal = next(x for x in closed.stdout.splitlines() if x.startswith("seal: "))
    assert seal.split()[1].split(":")[1] == "k2024"

    held = cli("audit", "verify", "--expect-head", head)
    assert "1 expected head(s) match the log" in held.stdout
    assert "1 seal(s) of year-end closes match the log" in held.stdout

    wrong = cli("audit", "verify", "--expect-head", f"{position}:{'0' * 64}", ok=False)
    assert wrong.returncode == 1
    assert f"TAMPERED: the expected head {position}:{'0' * 64} differs" in wrong.stdout
    beyond = cli("audit", "verify", "--expect-head", f"99999:{stored}", ok=False)
    assert beyond.returncode == 1 and "beyond the end of the log" in beyond.stdout
    garbled = cli("audit", "verify", "--expect-head", "head", ok=False)
    assert garbled.returncode == 2 and "is not a chain head" in garbled.stderr

    # rotation: a second key becomes current; links of the first still verify
    rotated = cli("chain-key", "new", str(key_file), "--id", "k2025")
    assert "added key k2025" in rotated.stdout
    cli(
        "post",
        "register-project",
        "--unit",
        UNIT,
        "--code",
        "P98",
        "--name",
        "轮换后",
        "--date",
        "2023-01-05",
    )
    after = cli("audit", "verify", "--expect-head", head)
    assert "verified with the chain key (k2024, k2025)" in after.stdout

    # without the key: nothing can be verified, and nothing is written
    keyless = dict(cli.env)
    del cli.env["FUNDFLOW_CHAIN_KEY_FILE"]
    unverified = cli("audit", "verify", ok=False)
    assert unverified.returncode == 2 and "CANNOT VERIFY" in unverified.stdout
    refused = cli(
        "post",
        "register-project",
        "--unit",
        UNIT,
        "--code",
        "P99",
        "--name",
        "无钥",
        "--date",
        "2023-01-05",
        ok=False,
    )
    assert refused.returncode == 1 and "rejected (chain_key_required)" in refused.stderr
    lines = cli.workdir / "more.jsonl"
    lines.write_text(
        '{"type": "register_project", "command_id": "imp-1", "posted_by": "会计", '
        '"business_date": "2023-01-05", "unit": "CJ-SWGXJ", "code": "P97", "name": "无钥"}\n',
        encoding="utf-8",
    )
    imported = cli("import", str(lines), ok=False)
    assert imported.returncode == 1 and "rejected (chain_key_required)" in imported.stderr
    assert "Traceback" not in imported.stderr
    cli.env = keyless

    # a key file others can read stops every command at start
    key_file.chmod(0o644)
    loose = cli("audit", "verify", ok=False)
    assert loose.returncode == 2 and "cannot start (chain_key_invalid)" in loose.stderr
    assert f"chmod 600 {key_file}" in loose.stderr
    key_file.chmod(0o600)

    # the key stolen too: the chain holds, the filed head and the seal do not
    forger = Forger(database_url(cli))
    forger.rewrite_payee("影子公司")
    forger.forge_payment(BudgetLine.id_for(UNIT, 2022, "JB-2010301-RY"), 100)
    forger.rechain(with_key(load_keyring(key_file).current))
    caught = cli("audit", "verify", "--expect-head", head, ok=False)
    assert caught.returncode == 1
    assert "TAMPERED: the expected head" in caught.stdout
    assert "TAMPERED: the seal of the close of 2022 of CJ-SWGXJ" in caught.stdout
    checked = cli("check", "--unit", UNIT, "--year", "2022", ok=False)
    assert checked.returncode == 1
    assert "FAILED line JB-2010301-RY: not below zero: available: -1.00 yuan" in checked.stdout


def test_an_unkeyed_chain_says_so(any_cli: Cli) -> None:
    cli = any_cli
    cli("demo")
    verified = cli("audit", "verify")
    assert "WARNING: the hash chain is unkeyed" in verified.stderr
    assert "events verified (unkeyed)" in verified.stdout
    head = last_line(verified.stdout).removeprefix("head: ")
    assert cli("audit", "verify", "--expect-head", head).returncode == 0
