"""Issue 11 §6, on SQLite and PostgreSQL: an insider with write access to the database
rewrites a payee in the middle of the log and appends a forged payment that takes a closed
line to −1.00, then recomputes the hash chain. Without the chain key (plain SHA-256, or a
key of their own) ``verify`` fails; with the key, the head filed before the forgery and the
seal of the year's close catch it; ``check`` fails on the negative line either way."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from commands.api import create_app
from commands.chain_cli import audit_chain
from commands.cli import seed_path
from commands.closing import close_year
from commands.handlers import CommandHandler
from commands.importer import import_file
from commands.models import parse_command
from ledger.aggregates import BudgetLine, FiscalYear
from ledger.application import Ledger
from ledger.chain_key import ChainKey, ChainKeyError, ChainKeyRequired, add_key, load_keyring
from ledger.closing.policy import load_policy
from ledger.composition import Services, build_ledger
from ledger.hash_chain import Anchor, Head, chain_head, check_anchors, key_id_of, verify
from ledger.roles import Actor, Role
from ledger.seals import InvalidSeal, seals_in
from ledger.settings import Settings
from projections.books import books_of
from projections.checks import check_year
from tests.forgery import Forger, plain_sha256, with_key
from tests.integration.test_api import issue

UNIT = "CJ-SWGXJ"
LINE = "JB-2010301-RY"
CLOSER = Actor("closer", Role.CLOSER)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "chain.key"
    add_key(path, "k2024")
    return path


def open_ledger(database_url: str, key_file: Path | None) -> Ledger:
    """A fresh process's ledger (nothing cached from before the forgery)."""
    return build_ledger(Settings(database_url=database_url, chain_key_file=key_file))


@pytest.fixture
def keyed(database_url: str, key_file: Path) -> Iterator[Ledger]:
    ledger = open_ledger(database_url, key_file)
    yield ledger
    ledger.close()


def closed_2022(ledger: Ledger, database_url: str) -> Head:
    """The seed's 2022, closed; the head an auditor filed before the close."""
    assert import_file(CommandHandler(ledger), seed_path()).ok
    filed = verify(ledger.recorder).head
    assert filed is not None
    report = close_year(Services.of(ledger), UNIT, 2022, policy=load_policy(), actor=CLOSER)
    assert report.seal is not None and report.seal.position > filed.position
    return filed


def forge(database_url: str) -> tuple[int, int]:
    forger = Forger(database_url)
    rewritten = forger.rewrite_payee("影子公司")
    appended = forger.forge_payment(BudgetLine.id_for(UNIT, 2022, LINE), 100)
    return rewritten, appended


def negative_line_fails_check(database_url: str, key_file: Path | None) -> None:
    ledger = open_ledger(database_url, key_file)
    try:
        failed = {c.name: c.detail for c in check_year(books_of(ledger), UNIT, 2022) if not c.ok}
    finally:
        ledger.close()
    assert failed[f"line {LINE}: not below zero"] == "available: -1.00 yuan"
    assert f"line {LINE}: nothing left after the close" in failed


def test_the_keyed_chain_holds_and_names_its_key(keyed: Ledger, database_url: str) -> None:
    closed_2022(keyed, database_url)
    result = verify(keyed.recorder)
    assert result.ok and result.keyed and result.key_ids == ("k2024",) and not result.unkeyed
    assert result.head == chain_head(keyed.recorder)
    assert result.head is not None and result.head.hash.startswith("k2024:")
    outcome = audit_chain(keyed, [])
    assert outcome.status == 0 and not outcome.warnings
    assert "1 seal(s) of year-end closes match the log" in outcome.lines
    assert outcome.lines[-1] == f"head: {result.head}"


@pytest.mark.parametrize(
    "recompute",
    ["plain sha-256 from genesis", "plain sha-256 from the forgery", "a key of the forger's"],
)
def test_a_forgery_recomputed_without_the_key_fails_verify(
    keyed: Ledger, database_url: str, key_file: Path, recompute: str
) -> None:
    closed_2022(keyed, database_url)
    rewritten, _ = forge(database_url)
    forger = Forger(database_url)
    if recompute == "plain sha-256 from genesis":
        forger.rechain(plain_sha256)
        expected = "no link in the log is keyed"
    elif recompute == "plain sha-256 from the forgery":
        forger.rechain(plain_sha256, start=rewritten)
        expected = f"the link of event {rewritten} was made without the chain key"
    else:  # the forger's own key, under the real key's id
        forger.rechain(with_key(ChainKey("k2024", secrets.token_bytes(32))))
        expected = "the chain breaks at event 1:"

    ledger = open_ledger(database_url, key_file)
    try:
        result = verify(ledger.recorder)
        assert not result.ok and not result.unverifiable
        assert expected in result.problem
        assert audit_chain(ledger, []).status == 1
    finally:
        ledger.close()
    negative_line_fails_check(database_url, key_file)


def test_a_forgery_recomputed_with_the_key_is_caught_by_the_filed_head_and_the_seal(
    keyed: Ledger, database_url: str, key_file: Path
) -> None:
    filed = closed_2022(keyed, database_url)
    rewritten, _ = forge(database_url)
    assert rewritten < filed.position
    Forger(database_url).rechain(with_key(load_keyring(key_file).current))

    ledger = open_ledger(database_url, key_file)
    try:
        assert verify(ledger.recorder).ok  # the key itself was stolen: the chain holds …
        seals = seals_in(ledger)
        assert len(seals) == 1
        problems = check_anchors(ledger.recorder, [Anchor(filed, "the expected head"), *seals])
        assert len(problems) == 2  # … but not what was filed outside the database
        assert problems[0].startswith(f"the expected head {filed} differs from the log")
        assert "the seal of the close of 2022 of CJ-SWGXJ" in problems[1]
        outcome = audit_chain(ledger, [Anchor(filed, "the expected head")])
        assert outcome.status == 1 and all(x.startswith("TAMPERED") for x in outcome.lines)
    finally:
        ledger.close()
    negative_line_fails_check(database_url, key_file)


def test_a_filed_head_catches_events_removed_from_the_end(
    keyed: Ledger, database_url: str, key_file: Path
) -> None:
    assert import_file(CommandHandler(keyed), seed_path()).ok
    head = verify(keyed.recorder).head
    assert head is not None
    forger = Forger(database_url)
    with forger._cursor() as c:
        c.execute(
            forger._sql("DELETE FROM {events} WHERE notification_id > %s"), (head.position - 5,)
        )
        c.execute(
            forger._sql("DELETE FROM {hashes} WHERE notification_id > %s"), (head.position - 5,)
        )
    assert verify(keyed.recorder).ok
    problems = check_anchors(keyed.recorder, [Anchor(head, "the expected head")])
    assert problems == [
        f"the expected head {head} is beyond the end of the log (event {head.position - 5}): "
        "events were removed from the end of the log"
    ]


def test_old_links_verify_with_the_old_key_after_a_rotation(
    keyed: Ledger, database_url: str, key_file: Path
) -> None:
    assert import_file(CommandHandler(keyed), seed_path()).ok
    rotated_at = keyed.position()
    add_key(key_file, "k2025")  # rotation: the new key is current, the old one stays
    rotated = open_ledger(database_url, key_file)
    try:
        close_year(Services.of(rotated), UNIT, 2022, policy=load_policy(), actor=CLOSER)
        links = dict(Forger(database_url).links())
        assert key_id_of(links[rotated_at]) == "k2024"
        assert key_id_of(links[rotated_at + 1]) == "k2025"
        result = verify(rotated.recorder)
        assert result.ok and result.key_ids == ("k2024", "k2025")
    finally:
        rotated.close()

    only_new = key_file.with_name("new-only.key")
    add_key(only_new, "k2025")
    lost_old = open_ledger(database_url, only_new)
    try:
        result = verify(lost_old.recorder)
        assert not result.ok and result.broken_at == 1
        assert "names key 'k2024', which the key file does not hold" in result.problem
    finally:
        lost_old.close()


def test_an_unkeyed_log_takes_a_key_and_then_refuses_unkeyed_writes(
    ledger: Ledger, database_url: str, key_file: Path
) -> None:
    assert import_file(CommandHandler(ledger), seed_path()).ok
    legacy = verify(ledger.recorder)
    assert legacy.ok and not legacy.keyed and legacy.unkeyed == legacy.events
    assert audit_chain(ledger, []).warnings[0].startswith("WARNING: the hash chain is unkeyed")

    keyed = open_ledger(database_url, key_file)
    try:  # the key is set up, nothing written since: it cannot tell that from a downgrade
        assert "no link in the log is keyed" in verify(keyed.recorder).problem
        close_year(Services.of(keyed), UNIT, 2022, policy=load_policy(), actor=CLOSER)
        result = verify(keyed.recorder)
        assert result.ok and result.unkeyed == legacy.events and result.key_ids == ("k2024",)
        assert "the first keyed link covers them" in " ".join(audit_chain(keyed, []).lines)
    finally:
        keyed.close()

    keyless = open_ledger(database_url, None)
    try:
        unverified = verify(keyless.recorder)
        assert not unverified.ok and unverified.unverifiable
        assert "set FUNDFLOW_CHAIN_KEY_FILE" in unverified.problem
        assert audit_chain(keyless, []).status == 2
        before = keyless.position()
        command = parse_command(
            {
                "type": "register_project",
                "command_id": "after-the-key",
                "posted_by": "会计-王芳",
                "business_date": "2023-01-05",
                "unit": UNIT,
                "code": "P99",
                "name": "无钥写入",
            }
        )
        with pytest.raises(ChainKeyRequired) as refused:
            CommandHandler(keyless).handle(command)
        assert refused.value.code == "chain_key_required"
        assert keyless.position() == before
    finally:
        keyless.close()


def test_a_seal_that_is_not_a_link_of_the_log_is_refused(
    keyed: Ledger, database_url: str, tmp_path: Path
) -> None:
    assert import_file(CommandHandler(keyed), seed_path()).ok
    head = chain_head(keyed.recorder)
    assert head is not None
    policy = load_policy()
    # close steps from outside the close job (an imported history's): an admin's
    handler = CommandHandler(keyed, actor=Actor("admin", Role.ADMIN))
    start = {
        "posted_by": "closer",
        "business_date": "2022-12-31",
        "unit": UNIT,
        "year": 2022,
    }
    handler.handle(
        parse_command(
            {**start, "type": "start_closing", "command_id": "s", "policy": policy.snapshot()},
            close_steps=True,
        )
    )
    for line in books_of(keyed).lines_of(UNIT, 2022):
        handler.handle(
            parse_command(
                {
                    **start,
                    "type": "close_line",
                    "command_id": f"l-{line.code}",
                    "line": line.code,
                    "outcome": "lapse",
                    "rule": "test",
                },
                close_steps=True,
            )
        )
    forged = {
        **start,
        "type": "finish_closing",
        "command_id": "finish",
        "adjustment_until": "2023-01-31",
        "sealed_position": head.position,
        "sealed_hash": "k2024:" + "0" * 64,
    }
    path = tmp_path / "finish.jsonl"
    path.write_text(json.dumps(forged) + "\n", encoding="utf-8")
    outcome = import_file(handler, path, close_steps=True)
    assert not outcome.ok and outcome.error is not None
    assert outcome.error.code == InvalidSeal.code
    assert f"the seal {head.position}:k2024:" in outcome.error.message
    year = keyed.find(FiscalYear, FiscalYear.id_for(UNIT, 2022))
    assert year is not None and year.status.value == "closing"

    real = chain_head(keyed.recorder)
    assert real is not None
    path.write_text(
        json.dumps({**forged, "sealed_position": real.position, "sealed_hash": real.hash}) + "\n",
        encoding="utf-8",
    )
    assert import_file(handler, path, close_steps=True).ok
    assert [s.head for s in seals_in(keyed)] == [real]


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [
        ("k1:" + "ab" * 32 + "\n", 0o644, "chmod 600"),
        ("k1:" + "ab" * 16 + "\n", 0o600, "has 16 bytes; at least 32"),
        ("k1 " + "ab" * 32 + "\n", 0o600, "line 1: expected <id>:<hex secret>"),
        ("k1:" + "zz" * 32 + "\n", 0o600, "is not hex"),
        ("# nothing\n", 0o600, "holds no key"),
        (
            "k1:" + "ab" * 32 + "\nk1:" + "cd" * 32 + "\n",
            0o600,
            "line 2: key id 'k1' appears twice",
        ),
    ],
)
def test_a_bad_key_file_stops_the_start(
    tmp_path: Path, content: str, mode: int, message: str
) -> None:
    path = tmp_path / "chain.key"
    path.write_text(content, encoding="ascii")
    path.chmod(mode)
    with pytest.raises(ChainKeyError) as refused:
        build_ledger(Settings(database_url="memory://", chain_key_file=path))
    assert message in refused.value.message and refused.value.code == "chain_key_invalid"
    assert "ab" * 32 not in refused.value.message  # the secret is never shown


def test_a_missing_key_file_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ChainKeyError, match="cannot read the chain key file"):
        build_ledger(Settings(database_url="memory://", chain_key_file=tmp_path / "none"))


def test_the_close_over_http_returns_its_seal(keyed: Ledger, database_url: str) -> None:
    assert import_file(CommandHandler(keyed), seed_path()).ok
    token = issue(keyed, "closer", Role.CLOSER, units=[UNIT])
    app = create_app(Settings(database_url=database_url), ledger=keyed)
    with TestClient(app) as client:
        url = f"/v1/units/{UNIT}/years/2022/close"
        headers = {"Authorization": f"Bearer {token}"}
        closed = client.post(url, headers=headers)
        again = client.post(url, headers=headers)
    assert closed.status_code == 200, closed.text
    seal = Head.parse(closed.json()["seal"])
    assert seal.hash.startswith("k2024:") and [s.head for s in seals_in(keyed)] == [seal]
    assert again.json()["already_closed"] and again.json()["seal"] == str(seal)


def test_the_first_keyed_link_covers_the_unkeyed_links_before_it(
    ledger: Ledger, database_url: str, key_file: Path
) -> None:
    assert import_file(CommandHandler(ledger), seed_path()).ok
    legacy = ledger.position()
    keyed = open_ledger(database_url, key_file)
    try:
        close_year(Services.of(keyed), UNIT, 2022, policy=load_policy(), actor=CLOSER)
        forger = Forger(database_url)
        rewritten = forger.rewrite_payee("影子公司")
        kept = dict(forger.links())
        # the old, unkeyed part re-chained in plain SHA-256; the keyed links left as they were
        forger.rechain(
            lambda previous, row: plain_sha256(previous, row) if row[0] <= legacy else kept[row[0]]
        )
        result = verify(keyed.recorder)
        assert rewritten <= legacy and not result.ok and result.broken_at == legacy + 1
    finally:
        keyed.close()
