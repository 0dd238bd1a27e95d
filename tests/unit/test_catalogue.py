"""Catalogues as data: the shipped ones, the rules a loaded one must obey, the year rule."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from ledger.classifications.catalogue import CatalogueKind, InvalidCatalogue, Row, build
from ledger.classifications.shipped import resolve, shipped, shipped_for, shipped_years
from ledger.errors import UnknownCode

FUNCTION = CatalogueKind.FUNCTION
DEPARTMENT = CatalogueKind.ECONOMIC_DEPARTMENT


def rows(*pairs: tuple[str, str]) -> list[Row]:
    return [Row(i, code, name) for i, (code, name) in enumerate(pairs, start=2)]


def test_every_code_the_seed_posts_is_in_the_shipped_2022_catalogues() -> None:
    seed = files("commands") / "seed" / "changji-2022.jsonl"
    function = shipped(FUNCTION, 2022)
    economic = shipped(DEPARTMENT, 2022)
    assert function is not None and economic is not None
    used = 0
    for text in seed.read_text(encoding="utf-8").splitlines():
        command = json.loads(text)
        if "function_code" in command:
            function.require_item(command["function_code"])
            used += 1
        if "economic_code" in command:
            economic.require_item(command["economic_code"])
            used += 1
    assert used > 100


def test_shipped_catalogues_are_valid_and_every_kind_is_shipped() -> None:
    assert shipped_years()[0] == 2022
    for kind in CatalogueKind:
        catalogue = shipped(kind, 2022)
        assert catalogue is not None and catalogue.names
        assert catalogue.origin == "shipped 2022"


def test_the_year_rule() -> None:
    imported = build(FUNCTION, 2023, rows(("207", "文化旅游体育与传媒支出")))
    assert resolve(FUNCTION, 2023, {("function", 2023): imported}) is imported
    assert resolve(FUNCTION, 2023).origin == "shipped 2022"  # latest shipped before
    assert resolve(FUNCTION, 2024, {("function", 2023): imported}).origin == "shipped 2022"
    assert shipped_for(FUNCTION, 2019).origin == "shipped 2022"  # before the first: the first


def test_levels_parents_and_names() -> None:
    catalogue = build(
        FUNCTION,
        2023,
        [
            Row(2, "207", "文化旅游体育与传媒支出", "类"),
            Row(3, "20701", "文化和旅游", "section"),
            Row(4, "2070101", "行政运行", "项"),
            Row(5, "20702", "文物", "款"),
            Row(6, "2070201", "行政运行", "项"),  # the same name under another 款: fine
        ],
    )
    assert catalogue.path_name("2070201") == "文化旅游体育与传媒支出/文物/行政运行"
    assert catalogue.level("20701") == "款"
    assert [c for c, _ in catalogue.search("行政")] == ["2070101", "2070201"]
    assert [c for c, _ in catalogue.search("20702")] == ["20702", "2070201"]
    with pytest.raises(UnknownCode, match="must have 7 digits"):
        catalogue.require_item("20701")
    with pytest.raises(UnknownCode, match="2070199 does not exist in the 2023 catalogue"):
        catalogue.require_item("2070199")


@pytest.mark.parametrize(
    ("kind", "bad", "why"),
    [
        (FUNCTION, ("2070101", "行政运行"), "lacks its 类 207 and its 款 20701"),
        (FUNCTION, ("２０７", "全角"), "is not 3 or 5 or 7 ASCII digits"),
        (FUNCTION, ("301", "工资福利支出"), "outside the classes 200–299"),
        (DEPARTMENT, ("201", "一般公共服务支出"), "outside the classes 301–399"),
        (DEPARTMENT, ("3010101", "七位"), "is not 3 or 5 ASCII digits"),
        (FUNCTION, ("208", "a\tb"), "U+0009"),
        (FUNCTION, ("208", "  "), "needs a name"),
    ],
)
def test_bad_rows_are_named(kind: CatalogueKind, bad: tuple[str, str], why: str) -> None:
    good = ("302", "商品和服务支出") if kind is DEPARTMENT else ("201", "一般公共服务支出")
    with pytest.raises(InvalidCatalogue) as refused:
        build(kind, 2023, rows(good, bad))
    assert refused.value.problems[0][0] == 3
    assert why in refused.value.message


def test_an_empty_file_and_a_bad_mapping_are_refused() -> None:
    with pytest.raises(InvalidCatalogue, match="holds no codes"):
        build(FUNCTION, 2023, [])
    with pytest.raises(InvalidCatalogue, match="mapped twice"):
        build(
            FUNCTION,
            2023,
            rows(("201", "一般公共服务支出")),
            [Row(2, "2150805", "201"), Row(3, "2150805", "201")],
        )


def test_the_digest_names_the_content() -> None:
    one = build(FUNCTION, 2023, rows(("201", "一般公共服务支出"), ("207", "文化")))
    same = build(FUNCTION, 2023, rows(("207", "文化"), ("201", "一般公共服务支出")))
    other = build(FUNCTION, 2023, rows(("201", "一般公共服务支出")))
    assert one.digest == same.digest != other.digest
