"""One text policy for every free-text field (ledger/text_policy.py)."""

from __future__ import annotations

import types
import typing
import unicodedata
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from commands.models import AnyCommand, parse_command
from ledger.errors import InvalidInput
from ledger.text_policy import clean_text

#: Fields holding codes and ids, checked by their own patterns (not free text).
NOT_FREE_TEXT = {
    "type",
    "command_id",
    "unit",
    "line",
    "code",
    "project",
    "department",
    "reverses_command_id",
    "corrects",
    "function_code",
    "economic_code",
    "token_id",
    "salt",
    "digest",
    "sealed_hash",
}
HEX16, HEX32, HEX64 = "0" * 16, "0" * 32, "0" * 64
FIGURES = {
    "income_total": "1",
    "expenditure_total": "1",
    "fiscal_appropriation_income_total": "1",
    "fiscal_appropriation_expenditure_total": "1",
    "general_public_budget_expenditure": "1",
}
LINE = {"unit": "U1", "year": 2022, "line": "L1"}
MONEY = {**LINE, "amount": "10", "document_no": "记-1"}
#: One valid command of every type (valid as a model; the books are not consulted).
EXAMPLES: dict[str, dict[str, Any]] = {
    "register_unit": {"code": "U1", "name": "测试局"},
    "declare_department": {"code": "D1", "name": "测试部门"},
    "assign_unit_to_department": {"department": "D1", "unit": "U1"},
    "open_fiscal_year": {"unit": "U1", "year": 2022},
    "register_project": {"unit": "U1", "code": "P1", "name": "项目", "implementing_units": "某"},
    "open_budget_line": {
        **LINE,
        "title": "公用",
        "nature": "basic_public",
        "function_code": "2010301",
    },
    "allocate_budget": MONEY,
    "reduce_budget": MONEY,
    "transfer_to_enterprise": {**MONEY, "payee": "某公司"},
    "disburse": {**MONEY, "payee": "某公司", "economic_code": "30227"},
    "claw_back": MONEY,
    "reverse_entry": {**LINE, "reverses_command_id": "d-1", "reason": "错", "document_no": "记-2"},
    "open_balance": {**MONEY, "corrects": "ob-1"},
    "record_receipt": {**MONEY, "payer": "上级主管部门"},
    "use_non_fiscal_balance": MONEY,
    "distribute_balance": {**MONEY, "purpose": "提取专用基金"},
    "import_prior_year_figures": {"unit": "U1", "year": 2022, "figures": FIGURES},
    "set_three_public_budget": {"unit": "U1", "year": 2022, "amounts": {}},
    "record_year_facts": {"unit": "U1", "year": 2022, "facts": {}},
    "import_catalogue": {
        "kind": "function",
        "year": 2023,
        "entries": [["201", "一般公共服务支出"]],
        "source": "财政部《2023年政府收支分类科目》",
    },
    "start_closing": {"unit": "U1", "year": 2022, "policy": {"default": {"basic": "lapse"}}},
    "close_line": {**LINE, "outcome": "lapse", "rule": "default.basic"},
    "finish_closing": {"unit": "U1", "year": 2022, "adjustment_until": "2023-03-31"},
    "reopen_fiscal_year": {"unit": "U1", "year": 2022, "reason": "更正"},
    "resume_closing": {"unit": "U1", "year": 2022, "reason": "继续"},
    "abandon_closing": {"unit": "U1", "year": 2022, "reason": "放弃"},
    "issue_token": {
        "token_id": HEX16,
        "identity": "王芳",
        "role": "clerk",
        "salt": HEX32,
        "digest": HEX64,
    },
    "revoke_token": {"token_id": HEX16, "reason": "离职"},
}


def _command_models() -> list[type[BaseModel]]:
    union = get_args(AnyCommand)[0]
    return list(get_args(union))


def _holds_text(annotation: object) -> bool:
    if annotation is str:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        return any(_holds_text(a) for a in get_args(annotation))
    return False


def _free_text_fields() -> list[tuple[str, str]]:
    found = []
    for model in _command_models():
        command_type = model.model_fields["type"].default
        for name, info in model.model_fields.items():
            if name not in NOT_FREE_TEXT and _holds_text(info.annotation):
                found.append((command_type, name))
    return found


def _example(command_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": command_type,
        "command_id": "c-1",
        "posted_by": "clerk",
        "business_date": "2022-03-01",
        **EXAMPLES[command_type],
        **fields,
    }


def test_every_command_type_has_an_example_that_parses() -> None:
    types_ = {m.model_fields["type"].default for m in _command_models()}
    assert types_ == set(EXAMPLES)
    for command_type in EXAMPLES:
        parse_command(
            _example(command_type, memo="备注", adjustment_reason="更正"), close_steps=True
        )


@pytest.mark.parametrize(
    "hidden",
    ["\x00", "\x1b", "\x7f", "\x85", "\u202e", "\u2067", "\u200b", "\u2060", "\ufeff", "\u3164"],
)
@pytest.mark.parametrize(("command_type", "field"), _free_text_fields())
def test_every_free_text_field_of_every_command_refuses_hidden_characters(
    command_type: str, field: str, hidden: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_command(_example(command_type, **{field: f"甲{hidden}乙"}), close_steps=True)
    assert refused.value.code == "invalid_input"
    assert refused.value.message.startswith(f"{field}: character 2 is U+{ord(hidden):04X}")


def test_the_fields_covered_include_the_ones_the_issue_names() -> None:
    fields = {name for _, name in _free_text_fields()}
    assert {
        "payee",
        "memo",
        "reason",
        "adjustment_reason",
        "title",
        "name",
        "implementing_units",
        "document_no",
        "posted_by",
        "identity",
        "rule",
    } <= fields


@pytest.mark.parametrize("field", ["memo", "adjustment_reason"])
def test_tabs_and_line_breaks_only_in_multi_line_fields(field: str) -> None:
    command = parse_command(
        _example("disburse", **{field: "第一行\r\n第二行\t末"}), close_steps=True
    )
    assert getattr(command, field) == "第一行\n第二行\t末"
    for one_line in ("payee", "document_no", "posted_by"):
        with pytest.raises(InvalidInput, match=f"{one_line}: character 2 is U\\+000A"):
            parse_command(_example("disburse", **{one_line: "甲\n乙"}), close_steps=True)


def test_a_policy_recorded_with_a_close_is_checked_too() -> None:
    with pytest.raises(InvalidInput, match="policy: character 3 is U\\+0000"):
        parse_command(
            _example("start_closing", policy={"project": {"U1\x00": "x"}}), close_steps=True
        )


def test_a_lone_surrogate_and_a_lone_combining_mark_are_refused() -> None:
    with pytest.raises(InvalidInput, match="payee: character 1 is U\\+D800"):
        parse_command(_example("disburse", payee="\ud800"), close_steps=True)
    with pytest.raises(InvalidInput, match="payee: the text starts with U\\+0301"):
        parse_command(_example("disburse", payee="\u0301甲"), close_steps=True)


def test_ordinary_text_is_kept_as_typed() -> None:
    for text in (
        "昌吉市商务和工业信息化局",
        "全角\u3000空格",
        "O'Brien & Co. (株)",
        "记-2023-03-0001",
    ):
        assert clean_text(text) == text


#: What no stored free text may contain after the policy (tab and LF aside).
def _shows_other_than_stored(char: str) -> bool:
    category = unicodedata.category(char)
    return (
        category in ("Cc", "Cf", "Cs", "Zl", "Zp")
        or char in "\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0\ufffd"
        or 0xFDD0 <= ord(char) <= 0xFDEF
        or ord(char) & 0xFFFE == 0xFFFE
    )


@given(st.text(), st.booleans())
def test_any_text_is_refused_or_stored_clean_and_in_nfc(text: str, multiline: bool) -> None:
    try:
        stored = clean_text(text, multiline=multiline)
    except ValueError as error:
        assert "U+" in str(error)
        return
    allowed = "\t\n" if multiline else ""
    assert not any(_shows_other_than_stored(c) and c not in allowed for c in stored)
    assert unicodedata.is_normalized("NFC", stored)
    assert clean_text(stored, multiline=multiline) == stored  # stable: a retry is the same
