from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import InvalidAmount
from ledger.money import (
    MAX_FEN,
    parse_amount,
    parse_wanyuan,
    parse_yuan,
    percent,
    wanyuan_str,
    yuan_str,
)


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1", 100),
        ("1234.56", 123456),
        ("0.01", 1),
        (" 1,000.5 ", 100050),
        (12, 1200),
        (Decimal("3.10"), 310),
    ],
)
def test_parse_yuan(text: object, fen: int) -> None:
    assert parse_yuan(text) == fen  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "fen"), [("26.08万", 26_080_000), ("0.000001万", 1), ("1690万元", 1_690_000_000)]
)
def test_parse_amount_in_wanyuan(text: str, fen: int) -> None:
    assert parse_amount(text) == fen


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1.001", "more than two decimals"),
        ("-5", "negative"),
        ("0", "zero"),
        ("abc", "not a number"),
        ("", "empty"),
        ("NaN", "not a finite"),
        ("Infinity", "not a finite"),
        ("1e30", "absurdly large"),
        ("9" * 50, "far too long"),
        (1.5, "floating-point"),
        (True, "not an amount"),
        ("0.0000001万", "more than six decimals"),
    ],
)
def test_bad_amounts_are_rejected_with_a_reason(text: object, why: str) -> None:
    with pytest.raises(InvalidAmount, match=why):
        parse_amount(text)  # type: ignore[arg-type]


def test_zero_and_negative_only_where_allowed() -> None:
    assert parse_yuan("0", allow_zero=True) == 0
    assert parse_yuan("-3", allow_negative=True) == -300
    assert parse_wanyuan("0", allow_zero=True) == 0


def test_each_figure_is_rounded_half_up_on_its_own() -> None:
    personnel, public = 7_108_050_00, 192_799_00
    assert wanyuan_str(personnel) == "710.81"  # 710.805 rounds half up
    assert wanyuan_str(public) == "19.28"
    assert wanyuan_str(personnel + public) == "730.08"  # not 730.09
    assert wanyuan_str(-76_201_00) == "-7.62"
    assert wanyuan_str(5_000) == "0.01"  # 0.005 万元 → 0.01


def test_percentages() -> None:
    assert percent(1, 3) == Decimal("33.33")
    assert percent(2, 3) == Decimal("66.67")
    assert percent(1, 0) is None  # not defined: the report says so instead of 0%
    assert percent(-13_800, 65_400) == Decimal("-21.10")


@given(st.integers(min_value=1, max_value=MAX_FEN))
def test_yuan_text_round_trips(fen: int) -> None:
    assert parse_yuan(yuan_str(fen)) == fen


@given(st.text(max_size=30))
def test_any_text_is_an_amount_or_a_clear_rejection(text: str) -> None:
    try:
        fen = parse_amount(text)
    except InvalidAmount as error:
        assert error.message
    else:
        assert isinstance(fen, int) and 0 < fen <= MAX_FEN


@given(st.decimals(allow_nan=True, allow_infinity=True, places=None))
def test_any_decimal_is_an_amount_or_a_clear_rejection(value: Decimal) -> None:
    try:
        fen = parse_yuan(str(value))
    except InvalidAmount:
        return
    assert Decimal(fen) == value * 100
