from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ledger.errors import InvalidAmount
from ledger.money import (
    MAX_FEN,
    parse_amount,
    percent,
    wanyuan_str,
    yuan_str,
)

DIGITS = "0123456789"


def reference(text: str) -> int | None:
    """The amount grammar written out a second way, by hand, in integer arithmetic:
    the fen an amount text stands for, or ``None`` if it is not in the grammar (the
    range — zero, over a trillion — is checked separately)."""
    body = text.strip(" \t")
    fen_per_unit, places = 100, 2
    for suffix, per_unit, allowed in (("万元", 1_000_000, 4), ("万", 1_000_000, 4), ("元", 100, 2)):
        if body.endswith(suffix):
            body, fen_per_unit, places = body[: -len(suffix)], per_unit, allowed
            break
    whole, point, decimals = body.partition(".")
    if point and not (1 <= len(decimals) <= places and all(c in DIGITS for c in decimals)):
        return None
    groups = whole.split(",")
    if len(groups) > 1 and not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
        return None
    digits = "".join(groups)
    if not digits or any(c not in DIGITS for c in digits):
        return None
    if len(digits) > 1 and digits[0] == "0":
        return None
    fen_per_place = fen_per_unit // 10**places
    return int(digits) * fen_per_unit + int(decimals.ljust(places, "0")) * fen_per_place


#: Strings close to amounts: digits, separators, points, units, signs, blanks, lookalikes.
NEAR_AMOUNTS = st.text(alphabet="0123456789,.万元 \t+-e_，．１٣", max_size=16)
GROUPED = st.builds(
    lambda whole, decimals, unit: f"{whole:,}{decimals}{unit}",
    st.integers(min_value=0, max_value=10**13),
    st.sampled_from(["", ".5", ".50", ".05", ".125", ".0001", ".12345", "."]),
    st.sampled_from(["", "元", "万", "万元", "元万"]),
)


@given(st.one_of(st.text(max_size=24), NEAR_AMOUNTS, GROUPED))
@example("12,3")
@example("1,50")
@example("1,005")
@example("1,234,567.89")
@example("0.0001万元")
@example(" 7.5元\t")
@example("007")
@example("1.00001万")
@example("1,23,456")
def test_the_parser_agrees_with_the_reference_grammar(text: str) -> None:
    expected = reference(text)
    in_range = expected is not None and 0 <= expected <= MAX_FEN
    try:
        fen = parse_amount(text, allow_zero=True)
    except InvalidAmount as error:
        assert not in_range, (text, expected, error.message)
        assert error.message
        return
    assert in_range and fen == expected, (text, expected, fen)


@given(st.integers(min_value=0, max_value=MAX_FEN))
def test_every_printed_amount_parses_back_to_itself(fen: int) -> None:
    assert parse_amount(yuan_str(fen), allow_zero=True) == fen
    assert parse_amount(f"{fen // 100:,}.{fen % 100:02d}", allow_zero=True) == fen
    # 万元 are printed rounded half-up to 0.01万 (100 yuan): the text is that rounded value.
    rounded = (fen + 5_000) // 10_000 * 10_000
    assert parse_amount(wanyuan_str(fen) + "万", allow_zero=True) == rounded
    assert parse_amount(wanyuan_str(fen) + "万元", allow_zero=True) == rounded


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1", 100),
        ("1234.56", 123456),
        ("0.01", 1),
        ("0.5", 50),
        (" 1,000.5 ", 100050),
        ("1,234,567.89", 123456789),
        ("1,005", 100500),  # a correct group of three: one thousand and five yuan
        ("12元", 1200),
        ("12.30元", 1230),
        ("26.08万", 26_080_000),
        ("26.0801万", 26_080_100),
        ("1690万元", 1_690_000_000),
        ("1,690万", 1_690_000_000),
        ("0.0001万", 100),
        (12, 1200),
    ],
)
def test_amounts_in_the_grammar(text: object, fen: int) -> None:
    assert parse_amount(text) == fen


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("12,3", "groups of three"),  # a decimal comma: 12.3, not 123
        ("1,50", "groups of three"),
        ("1234,567", "groups of three"),
        ("1,234,56", "groups of three"),
        ("1,234.567,8", "groups of three"),
        (",123", "groups of three"),
        ("1,000,", "groups of three"),
        ("1，000", "full-width"),
        ("1．5", "full-width"),
        ("1e3", "not an amount"),
        ("1E3", "not an amount"),
        ("1_000", "not an amount"),
        ("+5", "without a sign"),
        ("-5", "without a sign"),
        ("−5", "without a sign"),
        (".5", "both sides of the point"),
        ("5.", "both sides of the point"),
        ("5.万", "both sides of the point"),
        ("1..5", "not an amount"),
        ("1.2.3", "not an amount"),
        ("٣", "ASCII 0-9"),
        ("１２", "ASCII 0-9"),
        ("1 000", "blanks inside"),
        ("26.08 万", "blanks inside"),
        ("1\u3000000", "blanks inside"),
        ("007", "leading zeros"),
        ("00.5", "leading zeros"),
        ("0,123", "groups of three"),
        ("NaN", "not an amount"),
        ("Infinity", "not an amount"),
        ("0x10", "not an amount"),
        ("5元万", "not an amount"),
        ("万", "not an amount"),
        ("元5", "not an amount"),
        ("5 yuan", "blanks inside"),
        ("1.001", "more than two decimals"),
        ("1.001元", "more than two decimals"),
        ("1.00001万", "more than four decimals"),
        (
            "0.000001万",
            "more than four decimals",
        ),  # accepted (as 1 fen) before: now 万元 are exact to the yuan
        ("0", "zero"),
        ("0.00万", "zero"),
        ("", "empty"),
        ("  ", "empty"),
        ("9" * 30, "absurdly large"),
        ("1,000,000,000,000.01", "absurdly large"),
        ("9" * 50, "far too long"),
        (1.5, "floating-point"),
        (True, "not an amount"),
        (None, "not an amount"),
        (Decimal("3.10"), "not an amount"),
        (-3, "negative"),
        (0, "zero"),
        (10**13, "absurdly large"),
        (10**4000, "absurd"),
        (-(10**4000), "negative"),
    ],
)
def test_bad_amounts_are_refused_naming_the_text(text: object, why: str) -> None:
    with pytest.raises(InvalidAmount, match=why) as refused:
        parse_amount(text)
    if isinstance(text, str) and text.strip() and len(text) < 40 and text.isprintable():
        assert f'"{text}"' in refused.value.message  # the text as the clerk typed it


def test_invisible_characters_in_an_amount_are_shown_not_obeyed() -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_amount("1\u202e00")
    assert '"1\\u202e00"' in refused.value.message


def test_zero_only_where_allowed() -> None:
    assert parse_amount("0", allow_zero=True) == 0
    assert parse_amount("0.00万元", allow_zero=True) == 0
    assert parse_amount(0, allow_zero=True) == 0
    with pytest.raises(InvalidAmount, match="without a sign"):
        parse_amount("-3", allow_zero=True)


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


@given(st.decimals(allow_nan=True, allow_infinity=True, places=None))
def test_any_decimal_text_is_an_amount_or_a_clear_refusal(value: Decimal) -> None:
    try:
        fen = parse_amount(str(value))
    except InvalidAmount as error:
        assert error.message
        return
    assert Decimal(fen) == value * 100
