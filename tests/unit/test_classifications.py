import json
from pathlib import Path

import pytest

from ledger.classifications import (
    FUND_SOURCE_NAMES,
    THREE_PUBLIC_BY_ECONOMIC_CODE,
    FundSource,
    economic_class,
    function_name,
    require_function_item,
)
from ledger.classifications.catalogue import CatalogueKind
from ledger.classifications.shipped import shipped_for
from ledger.errors import UnknownCode


def test_every_function_item_of_the_seed_has_its_published_name(published_path: Path) -> None:
    published = json.loads(published_path.read_text(encoding="utf-8"))
    for item in published["by_function_item"]:
        assert function_name(item["code"]) == item["name"]
    for klass in published["by_function_class"]:
        assert function_name(klass["code"]) == klass["name"]


def test_function_codes_are_validated() -> None:
    assert require_function_item("2010301") == "2010301"
    for bad in ["201", "20103", "2019999", "abc", "20103011", ""]:
        with pytest.raises(UnknownCode):
            require_function_item(bad)


def test_economic_items_the_seed_needs(published_path: Path) -> None:
    published = json.loads(published_path.read_text(encoding="utf-8"))
    names = set(shipped_for(CatalogueKind.ECONOMIC_DEPARTMENT, 2022).names.values())
    basic = published["basic_expenditure"]
    assert set(basic["personnel_items"]) <= names
    assert set(basic["public_operating_items"]) <= names
    assert economic_class("30231") == "302"
    with pytest.raises(UnknownCode):
        economic_class("30298")
    with pytest.raises(UnknownCode):
        economic_class("302")


def test_fund_sources_and_three_public() -> None:
    assert len(FundSource) == 8 and set(FUND_SOURCE_NAMES) == set(FundSource)
    assert len(set(THREE_PUBLIC_BY_ECONOMIC_CODE.values())) == 4
