"""Classification catalogues on both stores: loading a bureau's file (CSV and xlsx),
validation that stores nothing, idempotent re-import, the rule that picks a year's
catalogue for a posting, search, and report names from the imported catalogue."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from commands.api import create_app
from commands.catalogues import load_catalogue, read_catalogue, search
from commands.handlers import CommandHandler
from commands.models import parse_command
from ledger.application import Ledger
from ledger.classifications.catalogue import CatalogueKind, InvalidCatalogue
from ledger.composition import Services, read_models_of
from ledger.errors import OutOfScope, UnknownCode
from ledger.roles import Actor, Role
from ledger.settings import Settings
from projections import read_model
from projections.books import books_of
from projections.final_accounts import final_accounts
from projections.read_model import books_for_reports, catch_up, differences
from tests.integration.test_api import auth, issue
from tests.scenario import UNIT, Scenario, cmd, setup_commands

#: A 2023 function catalogue of the shape a bureau keeps: 207 appears (with two real
#: items the issue names), 201's 2010301 stays; 2150805 is not in it.
CATALOGUE_2023 = """科目编码,科目名称,级次
201,一般公共服务支出,类
20103,政府办公厅（室）及相关机构事务,款
2010301,行政运行,项
207,文化旅游体育与传媒支出,类
20701,文化和旅游,款
2070101,行政运行,项
2070109,群众文化,项
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(handler: CommandHandler, path: Path, year: int = 2023, **options: Any) -> dict[str, Any]:
    kind = options.pop("kind", CatalogueKind.FUNCTION)
    loaded = read_catalogue(path, kind=kind, year=year, posted_by="财政局-admin", **options)
    return load_catalogue(handler, loaded).model_dump()


def open_year(ledger: Ledger, year: int) -> Scenario:
    scenario = Scenario(ledger).given(*setup_commands())
    if year != 2022:
        scenario.given(cmd("open_fiscal_year", unit=UNIT, year=year, business_date=f"{year}-01-01"))
    return scenario


def line(year: int, code: str, function_code: str) -> dict[str, Any]:
    return cmd(
        "open_budget_line",
        unit=UNIT,
        year=year,
        line=code,
        title="文化项目",
        nature="basic_public",
        function_code=function_code,
        business_date=f"{year}-02-01",
    )


def test_a_loaded_catalogue_checks_its_year_and_names_its_codes(
    ledger: Ledger, handler: CommandHandler, tmp_path: Path, database_url: str
) -> None:
    scenario = open_year(ledger, 2023)
    result = load(handler, write(tmp_path, "2023.csv", CATALOGUE_2023))
    assert result["status"] == "applied"

    # 2023 takes 2070109, which only the imported 2023 catalogue has …
    scenario.given(line(2023, "W1", "2070109"))
    # … and refuses 2150805, which the shipped 2022 catalogue has but 2023's has not
    with pytest.raises(UnknownCode, match=r"2150805.*2023"):
        scenario.when(line(2023, "W2", "2150805"))
    # 2022 keeps its own (shipped) catalogue: 2070109 is unknown there
    with pytest.raises(UnknownCode, match="2070109"):
        scenario.when(line(2022, "W3", "2070109"))

    scenario.given(
        cmd("allocate_budget", year=2023, line="W1", amount="5000", business_date="2023-03-01"),
        cmd(
            "disburse",
            year=2023,
            line="W1",
            amount="1200",
            payee="文化馆",
            economic_code="30201",
            business_date="2023-03-02",
        ),
    )
    report = final_accounts(books_of(ledger), UNIT, 2023)
    items = {i["code"]: i["name"] for i in report["by_function_item"]}
    assert items["2070109"] == "文化旅游体育与传媒支出/文化和旅游/群众文化"
    classes = {c["code"]: c["name"] for c in report["by_function_class"]}
    assert classes["207"] == "文化旅游体育与传媒支出"

    # the read model holds the catalogue too (rebuilt == incremental)
    store = read_models_of(ledger)
    catch_up(ledger, store)
    assert differences(ledger, store) == []
    scoped = store.load(unit=UNIT)
    assert scoped.catalogue(CatalogueKind.FUNCTION, 2023).names["2070109"] == "群众文化"


def test_a_year_without_its_own_catalogue_takes_the_latest_shipped_one(
    ledger: Ledger, handler: CommandHandler, tmp_path: Path
) -> None:
    scenario = open_year(ledger, 2024)
    load(handler, write(tmp_path, "2023.csv", CATALOGUE_2023))
    # 2024: no catalogue imported or shipped for it → the shipped 2022 one (not 2023's)
    scenario.given(line(2024, "X1", "2150805"))
    with pytest.raises(UnknownCode):
        scenario.when(line(2024, "X2", "2070109"))
    found = search(handler, "2150805", year=2024, kind=CatalogueKind.FUNCTION)
    assert found["catalogues"][0]["catalogue"] == "shipped 2022"
    assert [r["code"] for r in found["results"]] == ["2150805"]


def test_economic_codes_are_checked_against_the_year(
    ledger: Ledger, handler: CommandHandler, tmp_path: Path
) -> None:
    scenario = open_year(ledger, 2023)
    scenario.given(
        line(2023, "G3", "2010301"),
        cmd("allocate_budget", year=2023, line="G3", amount="900", business_date="2023-03-01"),
    )
    economic = "科目编码,科目名称\n302,商品和服务支出\n30201,办公费\n30240,税金及附加费用\n"
    load(
        handler,
        write(tmp_path, "e.csv", economic),
        kind=CatalogueKind.ECONOMIC_DEPARTMENT,
    )

    def pay(code: str) -> dict[str, Any]:
        return cmd(
            "disburse",
            year=2023,
            line="G3",
            amount="100",
            payee="税务局",
            economic_code=code,
            business_date="2023-03-05",
        )

    scenario.given(pay("30240"))
    before = ledger.position()
    with pytest.raises(UnknownCode, match="30202"):  # 印刷费: not in the 2023 file
        scenario.when(pay("30202"))
    assert ledger.position() == before


def test_bad_rows_are_listed_and_nothing_is_stored(
    ledger: Ledger, handler: CommandHandler, tmp_path: Path
) -> None:
    bad = (
        "科目编码,科目名称,级次\n"
        "207,文化旅游体育与传媒支出,类\n"
        "2070101,行政运行,项\n"  # no 款 20701
        "20702,文物,项\n"  # a 款 by its length
        "2070,文物,款\n"  # 4 digits
        "207,重复,类\n"  # twice
        "30101,基本工资,款\n"  # not a function class
        "20703,,款\n"  # no name
        "20704,广\u202e播,款\n"  # hidden character
    )
    before = ledger.position()
    with pytest.raises(InvalidCatalogue) as refused:
        load(handler, write(tmp_path, "bad.csv", bad))
    rows = {row for row, _ in refused.value.problems}
    assert rows == {3, 4, 5, 6, 7, 8, 9}
    message = refused.value.message
    assert "row 3: code 2070101 lacks its 款 20701" in message
    assert "row 4: code 20702 has 5 digits, a 款, not 项" in message
    assert "row 6: code 207 appears twice (first on row 2)" in message
    assert "nothing was loaded" in message
    assert ledger.position() == before

    # twin names under one parent are refused; the same name under two parents is fine
    twins = "科目编码,科目名称\n207,文化\n20701,文化和旅游\n20702,文化和旅游\n"
    with pytest.raises(InvalidCatalogue, match="20702"):
        load(handler, write(tmp_path, "twins.csv", twins))
    # a mapping to a code the catalogue lacks
    mapping = write(tmp_path, "map.csv", "上年科目编码,科目编码\n2150805,2079999\n")
    with pytest.raises(InvalidCatalogue, match="2079999"):
        load(handler, write(tmp_path, "ok.csv", CATALOGUE_2023), mapping=mapping)
    assert ledger.position() == before


def test_reimport_is_idempotent_and_another_file_replaces(
    ledger: Ledger, handler: CommandHandler, tmp_path: Path
) -> None:
    path = write(tmp_path, "2023.csv", CATALOGUE_2023)
    mapping = write(tmp_path, "map.csv", "上年科目编码,科目编码\n2150805,2070101\n")
    assert load(handler, path, mapping=mapping)["status"] == "applied"
    after_first = ledger.position()
    again = load(handler, path, mapping=mapping)
    assert again["status"] == "already_applied" and ledger.position() == after_first
    # the same content under another command id (another admin) writes nothing either
    other = load(handler, path, mapping=mapping, command_id="另一次导入")
    assert other["status"] == "already_applied" and ledger.position() == after_first
    assert handler.catalogue(CatalogueKind.FUNCTION, 2023).mapping == {"2150805": "2070101"}
    found = search(handler, "2150805", year=2023, kind=CatalogueKind.FUNCTION)
    assert found["results"] == []
    assert found["moved_from_prior_year"] == [
        {
            "kind": "function",
            "prior_year_code": "2150805",
            "code": "2070101",
            "path": "文化旅游体育与传媒支出/文化和旅游/行政运行",
        }
    ]

    replaced = load(
        handler, write(tmp_path, "v2.csv", CATALOGUE_2023 + "2070199,其他文化和旅游支出,项\n")
    )
    assert replaced["status"] == "applied" and replaced["events"][0]["type"] == "Replaced"
    assert "2070199" in handler.catalogue(CatalogueKind.FUNCTION, 2023).names
    books = books_of(ledger)
    assert "2070199" in books.catalogue(CatalogueKind.FUNCTION, 2023).names


def test_an_xlsx_catalogue_loads_like_its_csv(
    ledger: Ledger, handler: CommandHandler, tmp_path: Path
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in CATALOGUE_2023.strip().splitlines():
        code, name, level = row.split(",")
        sheet.append([int(code) if code.isdigit() else code, name, level])
    path = tmp_path / "2023.xlsx"
    book.save(path)
    assert load(handler, path)["status"] == "applied"
    csv_twin = load(handler, write(tmp_path, "2023.csv", CATALOGUE_2023))
    assert csv_twin["status"] == "already_applied"  # the same catalogue


def test_only_an_unscoped_admin_loads_a_catalogue(ledger: Ledger, tmp_path: Path) -> None:
    path = write(tmp_path, "2023.csv", CATALOGUE_2023)
    before = ledger.position()
    scoped = CommandHandler(ledger, actor=Actor("区财政", Role.ADMIN, units=frozenset({UNIT})))
    with pytest.raises(OutOfScope):
        load(scoped, path)
    clerk = CommandHandler(ledger, actor=Actor("会计", Role.CLERK))
    with pytest.raises(Exception, match="admin"):
        load(clerk, path)
    assert ledger.position() == before


def test_search_by_name_or_code_prefix(
    ledger: Ledger, handler: CommandHandler, tmp_path: Path
) -> None:
    found = search(handler, "商贸", year=2022)
    assert [r["code"] for r in found["results"]] == ["20113", "2011399"]
    assert found["results"][0]["path"] == "一般公共服务支出/商贸事务"
    found = search(handler, "3023", year=2022)
    assert {r["code"] for r in found["results"]} == {"30231", "30239"}
    load(handler, write(tmp_path, "2023.csv", CATALOGUE_2023))
    found = search(handler, "文化", year=2023, kind=CatalogueKind.FUNCTION)
    assert [r["code"] for r in found["results"]] == ["207", "20701", "2070109"]
    assert found["catalogues"][0]["catalogue"] == "imported 2023"


def test_search_over_http_for_any_role(ledger: Ledger, database_url: str) -> None:
    Scenario(ledger).given(*setup_commands())
    token = {Role.AUDITOR: issue(ledger, "审计-李", Role.AUDITOR)}
    app = create_app(Settings(database_url=database_url), ledger=ledger)
    with TestClient(app) as client:
        response = client.get(
            "/v1/catalogues/search",
            params={"q": "招商", "year": 2022},
            headers=auth(token, Role.AUDITOR),
        )
        assert response.status_code == 200, response.text
        assert [r["code"] for r in response.json()["results"]] == ["2011308"]
        assert client.get("/v1/catalogues/search", params={"q": "招商"}).status_code == 401


def test_the_import_command_is_refused_whole_through_the_json_path(
    ledger: Ledger, handler: CommandHandler
) -> None:
    before = ledger.position()
    command = parse_command(
        {
            "type": "import_catalogue",
            "command_id": "cat-1",
            "posted_by": "admin",
            "business_date": "2023-01-01",
            "kind": "function",
            "year": 2023,
            "entries": [["207", "文化旅游体育与传媒支出"], ["2070101", "行政运行"]],
            "source": "bureau.csv",
        }
    )
    with pytest.raises(InvalidCatalogue, match="row 2: code 2070101 lacks its 款 20701"):
        handler.handle(command)
    assert ledger.position() == before


def test_a_batch_sees_a_catalogue_loaded_earlier_in_it(
    ledger: Ledger, handler: CommandHandler, tmp_path: Path
) -> None:
    open_year(ledger, 2023)
    loaded = read_catalogue(
        write(tmp_path, "2023.csv", CATALOGUE_2023),
        kind=CatalogueKind.FUNCTION,
        year=2023,
        posted_by="admin",
    )
    outcome = handler.handle_batch(
        [
            parse_command(line(2023, "Y1", "2150805")),  # shipped 2022 stands for 2023 …
            loaded.command,
            parse_command(line(2023, "Y2", "2070109")),  # … until 2023's is loaded
            parse_command(line(2023, "Y3", "2150805")),
        ]
    )
    assert [r.status for r in outcome.results] == ["applied", "applied", "applied"]
    assert isinstance(outcome.error, UnknownCode) and outcome.failed_index == 3


def test_a_carryover_follows_the_next_years_mapping_or_the_close_does_not_start(
    ledger: Ledger, handler: CommandHandler, database_url: str, tmp_path: Path
) -> None:
    """2023's catalogue drops 2150805: without a mapping the close is refused before it
    writes anything; with one, next year's line is booked to the code it became."""
    from commands.closing import close_year
    from ledger.aggregates import BudgetLine
    from ledger.closing.policy import load_policy
    from ledger.errors import CloseBlocked

    Scenario(ledger).given(*setup_commands(), cmd("allocate_budget", line="L1", amount="1000"))
    closer = Actor("结账-王", Role.CLOSER)
    load(handler, write(tmp_path, "2023.csv", CATALOGUE_2023))
    before = ledger.position()
    with pytest.raises(CloseBlocked, match="2150805 is not in the 2023 catalogue"):
        close_year(Services.of(ledger), UNIT, 2022, policy=load_policy(), actor=closer)
    assert ledger.position() == before  # nothing of the close was written

    mapping = write(tmp_path, "map.csv", "上年科目编码,科目编码\n2150805,2070109\n")
    load(handler, write(tmp_path, "2023.csv", CATALOGUE_2023), mapping=mapping)
    report = close_year(Services.of(ledger), UNIT, 2022, policy=load_policy(), actor=closer)
    assert report.carried_over == 100000
    moved = ledger.find(BudgetLine, BudgetLine.id_for(UNIT, 2023, "L1"))
    assert moved is not None and moved.function_code == "2070109"


@pytest.mark.parametrize("checkpoint_every", [1000, 2])
def test_a_units_past_books_name_codes_from_the_imported_catalogue(
    ledger: Ledger,
    handler: CommandHandler,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    checkpoint_every: int,
) -> None:
    """The books of a past moment, folded from the unit's own events (from its checkpoint
    or from the first), read the catalogues too: a catalogue serves every unit and is in no
    unit's checkpoint. They named 2070109 as itself, where the whole log's fold names it
    群众文化."""
    monkeypatch.setattr(read_model, "CHECKPOINT_EVERY", checkpoint_every)
    scenario = open_year(ledger, 2023)
    assert load(handler, write(tmp_path, "2023.csv", CATALOGUE_2023))["status"] == "applied"
    scenario.given(line(2023, "W1", "2070109"))
    for day in range(1, 6):
        scenario.given(
            cmd(
                "allocate_budget",
                year=2023,
                line="W1",
                amount="10",
                business_date=f"2023-03-0{day}",
            )
        )
    store = read_models_of(ledger)
    catch_up(ledger, store)
    for moment in ({"as_of_position": ledger.position()}, {"as_of_date": date(2023, 3, 4)}):
        whole = final_accounts(books_of(ledger, **moment), UNIT, 2023)  # type: ignore[arg-type]
        past = books_for_reports(ledger, store, unit=UNIT, **moment)  # type: ignore[arg-type]
        assert final_accounts(past, UNIT, 2023) == whole
        assert past.catalogue(CatalogueKind.FUNCTION, 2023).names["2070109"] == "群众文化"
