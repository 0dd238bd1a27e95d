"""Auditors' queries for one unit answer from the read model and the unit's own events
(not a fold of the whole log) with the same results as the fold: the trail by line,
project, payee or document number, ``check``, and the reports as of a log position or a
business date — with or without clearance (the redaction policy), on both stores, while
the read model lags behind the log (its tail holds other units' events too)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.cli import seed_path
from commands.handlers import CommandHandler
from commands.importer import import_file
from ledger.application import Ledger
from ledger.composition import build_ledger, read_models_of
from ledger.errors import LedgerError
from ledger.settings import Settings
from projections import read_model
from projections.audit_trail import audit_trail, unit_trail
from projections.balances import balances_report
from projections.books import books_of
from projections.checks import check_year
from projections.execution import execution_report
from projections.final_accounts import final_accounts
from projections.read_model import ReadModelStore, books_for_reports, catch_up
from scripts.generate import generate
from tests.conftest import postgres_schema_url

#: Generated units, and the shipped unit whose year has a take-on, a non-fiscal receipt (its
#: reversal and the receipt again come in the read model's tail).
UNITS = ["U00000", "U00001", "U00002", "DY-WGLJ"]
YEARS = [2022, 2023, 2024, 2025]
NON_FISCAL_TAIL = [
    {
        "type": "record_receipt",
        "command_id": "aq-1",
        "amount": "5000.00",
        "payer": "捐赠人甲",
        "document_no": "收-2022-12-0001",
    },
    {
        "type": "reverse_entry",
        "command_id": "aq-2",
        "reverses_command_id": "aq-1",
        "reason": "缴款单位填错",
        "document_no": "红-2022-12-0001",
    },
    {
        "type": "record_receipt",
        "command_id": "aq-3",
        "amount": "5000.00",
        "payer": "捐赠人乙",
        "document_no": "收-2022-12-0002",
    },
    {
        "type": "distribute_balance",
        "command_id": "aq-5",
        "amount": "1000.00",
        "purpose": "提取专用基金",
        "document_no": "记-2022-12-0099",
    },
    {
        "type": "use_non_fiscal_balance",
        "command_id": "aq-4",
        "amount": "200.00",
        "document_no": "记-2022-12-0098",
    },
]


@dataclass
class History:
    ledger: Ledger
    url: str
    lines: list[tuple[str, int, str]]
    projects: list[tuple[str, str]]
    payees: list[str]
    documents: list[str]
    names: dict[str, str]


def _outcome(action: Callable[[], Any]) -> Any:
    """What an action gives: its result, or the error it raises (type and messages)."""
    try:
        return ("ok", action())
    except LedgerError as error:
        return ("refused", type(error).__name__, str(error), error.redacted)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def history(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[History]:
    folder = tmp_path_factory.mktemp("auditor")
    urls = (
        iter([f"sqlite:///{folder / 'fundflow.sqlite3'}"])
        if request.param == "sqlite"
        else postgres_schema_url()
    )
    url = next(urls)
    commands = list(generate(3, 22, 12, 2023, 7, years=2))
    half = len(commands) // 2
    shipped = (seed_path().parent / "daying-2022.jsonl").read_text(encoding="utf-8").splitlines()
    common = {"posted_by": "会计", "business_date": "2022-12-28", "unit": "DY-WGLJ"}
    line = {"year": 2022, "line": "XM-QT"}
    tail = [json.dumps({**common, **line, **c}, ensure_ascii=False) for c in NON_FISCAL_TAIL]
    commands = [*shipped, *commands[:half], *commands[half:], *tail]
    half += len(shipped)
    ledger = build_ledger(Settings(database_url=url))
    handler = CommandHandler(ledger)
    for n, part in enumerate((commands[:half], commands[half:])):
        path = folder / f"part{n}.jsonl"
        path.write_text("\n".join(part) + "\n", encoding="utf-8")
        assert import_file(handler, path, batch_size=97, close_steps=True).ok
        if n == 0:  # the read model stops half way: the rest is its tail
            # small batches and checkpoints: the past is folded from many starting points
            every, read_model.CHECKPOINT_EVERY = read_model.CHECKPOINT_EVERY, 15
            try:
                catch_up(ledger, read_models_of(ledger), batch=40)
            finally:
                read_model.CHECKPOINT_EVERY = every
    books = books_of(ledger)
    assert any(p.classified for p in books.projects.values())
    store = read_models_of(ledger)
    table = store.live_table()
    with store.transaction() as c:  # checkpoints of every unit were kept
        c.execute(store._q("SELECT DISTINCT unit FROM {t}", t=f"{table}_cp"))
        assert len(c.fetchall()) >= 2  # the first half of the log holds two units
    events = [e for _, e in ledger.read_events() if hasattr(e, "posted_by")]
    yield History(
        ledger,
        url,
        lines=sorted({(ln.unit_code, ln.year, ln.code) for ln in books.lines.values()}),
        projects=sorted(books.projects),
        payees=[*sorted({e.payee for e in events if getattr(e, "payee", None)})[:40], "无此人"],
        documents=[*sorted({e.document_no for e in events})[:60], "无此号"],
        names={u.code: u.name for u in books.units.values()},
    )
    ledger.close()
    for _ in urls:  # drops the PostgreSQL schema
        pass


relaxed = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@relaxed
@given(data=st.data())
def test_one_units_trail_equals_the_trail_over_the_whole_log(
    history: History, data: st.DataObject
) -> None:
    ledger = history.ledger
    unit = data.draw(st.sampled_from(UNITS))
    by = data.draw(st.sampled_from(["line", "project", "enterprise", "document_no"]))
    selector: dict[str, Any] = {}
    if by == "line":
        _, year, code = data.draw(st.sampled_from(history.lines))
        selector = {"line": code, "year": data.draw(st.sampled_from([year, None]))}
    elif by == "project":
        selector = {"project": data.draw(st.sampled_from(history.projects))[1]}
    elif by == "enterprise":
        selector = {"enterprise": data.draw(st.sampled_from(history.payees))}
    else:
        selector = {"document_no": data.draw(st.sampled_from(history.documents))}
    named = data.draw(st.sampled_from([unit, history.names[unit]]))
    clearance = data.draw(st.booleans())
    whole = _outcome(
        lambda: audit_trail(
            ledger.read_events(), books_of(ledger), unit=named, clearance=clearance, **selector
        )
    )
    indexed = _outcome(
        lambda: unit_trail(
            ledger, read_models_of(ledger), unit=named, clearance=clearance, **selector
        )
    )
    assert indexed == whole


@relaxed
@given(unit=st.sampled_from(UNITS), year=st.sampled_from(YEARS), clearance=st.booleans())
def test_one_units_check_equals_the_check_of_the_whole_books(
    history: History, unit: str, year: int, clearance: bool
) -> None:
    ledger = history.ledger

    def rows(books_for: Callable[[], Any]) -> Any:
        checks = check_year(books_for(), unit, year, clearance=clearance)
        return [(c.name, c.ok, c.detail) for c in checks]

    whole = _outcome(lambda: rows(lambda: books_of(ledger)))
    indexed = _outcome(
        lambda: rows(lambda: books_for_reports(ledger, read_models_of(ledger), unit=unit))
    )
    assert indexed == whole
    assert whole[0] == "refused" or any(name.startswith("double entry") for name, *_ in whole[1])


@relaxed
@given(
    unit=st.sampled_from(UNITS),
    year=st.sampled_from(YEARS),
    clearance=st.booleans(),
    report=st.sampled_from([final_accounts, execution_report, balances_report]),
    when=st.one_of(
        st.tuples(st.just("position"), st.floats(min_value=0, max_value=1.05)),
        st.tuples(st.just("date"), st.integers(min_value=-30, max_value=800)),
    ),
)
def test_one_units_books_at_a_past_moment_equal_the_fold(
    history: History,
    unit: str,
    year: int,
    clearance: bool,
    report: Callable[..., Any],
    when: tuple[str, float],
) -> None:
    ledger = history.ledger
    moment: dict[str, Any]
    if when[0] == "position":
        moment = {"as_of_position": int(when[1] * ledger.position())}
    else:
        moment = {"as_of_date": date(2023, 1, 1) + timedelta(days=int(when[1]))}
    whole = _outcome(lambda: report(books_of(ledger, **moment), unit, year, clearance=clearance))
    indexed = _outcome(
        lambda: report(
            books_for_reports(ledger, read_models_of(ledger), unit=unit, **moment),
            unit,
            year,
            clearance=clearance,
        )
    )
    assert indexed == whole


def test_a_point_in_time_report_reads_only_the_units_events(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The indexed path does not fall back to a scan of the log."""
    ledger = history.ledger

    store = read_models_of(ledger)
    catch_up(ledger, store)
    read_events = ledger.read_events

    def tail_only(*, start: int = 1, **kwargs: Any) -> Any:
        if start <= store.position():
            raise AssertionError("the log was read from before the read model's position")
        return read_events(start=start, **kwargs)

    monkeypatch.setattr(ledger, "read_events", tail_only)
    books = books_for_reports(
        ledger, read_models_of(ledger), unit="U00001", as_of_position=ledger.position()
    )
    assert final_accounts(books, "U00001", 2023, clearance=True)
    assert unit_trail(ledger, read_models_of(ledger), unit="U00001", enterprise="无此人") == []
    assert check_year(
        books_for_reports(ledger, read_models_of(ledger), unit="U00001"), "U00001", 2024
    )


def test_books_as_of_a_date_from_checkpoints_keep_backdated_and_later_entries_apart(
    ledger: Ledger, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dates do not follow the log: a checkpoint holding an entry dated after the as-of
    date is not started from, and an entry posted later but dated earlier still counts —
    the report as of each day equals the fold of the whole log, read from checkpoints."""
    from tests.scenario import UNIT, YEAR, Scenario, cmd, setup_commands

    monkeypatch.setattr(read_model, "CHECKPOINT_EVERY", 2)
    setup = [{**c, "business_date": "2022-01-02"} for c in setup_commands()]
    scenario = Scenario(ledger).given(*setup)
    store = read_models_of(ledger)
    days = ["2022-03-01", "2022-05-10", "2022-02-01", "2022-07-01", "2022-04-15", "2022-01-20"]
    scenario.given(
        cmd("allocate_budget", line="L1", amount="900000.00", business_date="2022-01-05")
    )
    for n, day in enumerate(days):
        scenario.given(
            cmd(
                "transfer_to_enterprise",
                line="L1",
                amount=f"{1000 + n}.00",
                payee="某公司",
                business_date=day,
            )
        )
        catch_up(ledger, store, batch=1)  # a checkpoint every other event of the unit
    table = store.live_table()
    with store.transaction() as c:
        c.execute(store._q("SELECT COUNT(*) FROM {t}", t=f"{table}_cp"))
        assert c.fetchone()[0] >= 3
    started_from: list[int | None] = []
    checkpoint = ReadModelStore.checkpoint

    def spy(self: ReadModelStore, *args: Any, **kwargs: Any) -> Any:
        found = checkpoint(self, *args, **kwargs)
        started_from.append(None if found is None else found.position)
        return found

    monkeypatch.setattr(ReadModelStore, "checkpoint", spy)

    def as_of(moment: date, *, indexed: bool) -> Any:
        books = (
            books_for_reports(ledger, read_models_of(ledger), unit=UNIT, as_of_date=moment)
            if indexed
            else books_of(ledger, as_of_date=moment)
        )
        return final_accounts(books, UNIT, YEAR, clearance=True)

    for day in [
        "2022-01-01",
        "2022-01-04",
        "2022-01-20",
        "2022-02-15",
        "2022-04-15",
        "2022-06-30",
        "2022-12-31",
    ]:
        moment = date.fromisoformat(day)
        whole = _outcome(partial(as_of, moment, indexed=False))
        assert _outcome(partial(as_of, moment, indexed=True)) == whole, day
    # early days fold from the start; later ones from a checkpoint, not always the last
    assert started_from[0] is None and len(set(started_from)) >= 3, started_from
