"""Exact money: integer fen (分) inside, decimal text at the edges.

Nothing in the ledger ever holds money as a float. Amounts enter as text in yuan
(``"1690000.00"``, ``"1,690,000"``) or 万元 (``"169万"``), are parsed exactly into an
``int`` number of fen by :func:`parse_amount` — the one parser every entry point (CLI,
JSON Lines import, HTTP) goes through — and leave as strings rounded half-up, one figure
at a time (四舍五入), so ``710.81 + 19.28`` may differ from ``730.08``.

The grammar of an amount written as text (:data:`AMOUNT_GRAMMAR`)::

    amount   = whole [ "." decimals ] [ unit ]       blanks (space, tab) around it are ignored
    whole    = "0" | nonzero digit* | nonzero [digit [digit]] ( "," digit digit digit )+
    unit     = "元" | "万" | "万元"
    decimals = 1 or 2 ASCII digits in yuan (no unit, or 元); 1 to 4 in 万 / 万元

Digits are ASCII ``0``-``9``; the comma is the ASCII ``,`` and only ever separates
groups of exactly three digits of the whole part. So: no sign, no exponent, no
underscores, no leading or trailing ``.``, no leading zeros (``007``), no blanks inside,
no full-width digits, comma (``，``) or point (``．``). A JSON integer is whole yuan
(a boolean or a float is refused). Anything else is refused with
:class:`~ledger.errors.InvalidAmount`, naming the text as it was typed.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from ledger.errors import InvalidAmount

FEN_PER_YUAN = 100
FEN_PER_WANYUAN = 1_000_000
#: The largest amount a single posting may carry: one trillion yuan. Anything
#: larger is a typing error, not a government fund flow.
MAX_FEN = 10**12 * FEN_PER_YUAN

_TWO_PLACES = Decimal("0.01")

#: Decimals allowed after the point, by unit: yuan are exact to the fen, 万元 to the yuan.
YUAN_DECIMALS = 2
WANYUAN_DECIMALS = 4
#: The amount grammar as one regular expression over the text with its surrounding
#: blanks removed (ASCII only: no ``\d``, which would take any script's digits).
AMOUNT_GRAMMAR = re.compile(
    r"(?P<whole>0|[1-9][0-9]*|[1-9][0-9]{0,2}(?:,[0-9]{3})+)"
    r"(?:\.(?P<decimals>[0-9]+))?"
    r"(?P<unit>元|万元|万)?"
)
#: The same grammar as a JSON Schema (ECMA-262) pattern, for the OpenAPI document.
AMOUNT_PATTERN = (
    r"^[ \t]*(0|[1-9][0-9]*|[1-9][0-9]{0,2}(,[0-9]{3})+)"
    r"((\.[0-9]{1,2})?元?|(\.[0-9]{1,4})?万元?)[ \t]*$"
)
_BLANKS = " \t"
_LONGEST = 40


def _shown(text: str) -> str:
    """The text as the clerk typed it, quoted, with anything invisible spelled ``\\uXXXX``
    (so that a control or bidirectional character cannot disguise the message), bounded."""
    cut = text[:_LONGEST]
    shown = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in cut)
    return f'"{shown}{"…" if len(text) > _LONGEST else ""}"'


def _why_not(text: str) -> str:
    """Why ``text`` (blanks removed) is not an amount, for a clerk."""
    if any(c in "+-−－" for c in text):
        return (
            "amounts are written without a sign; a negative amount is never posted "
            "(a reduction, clawback or reversal is its own command)"
        )
    if "，" in text or "．" in text:
        return "write the comma and point in ASCII (',' and '.'), not full-width"
    if any(c.isdigit() and not ("0" <= c <= "9") for c in text):
        return "write the digits as ASCII 0-9"
    if any(c in _BLANKS or c.isspace() for c in text):
        return "it has blanks inside"
    if "," in text:
        return (
            "commas may only separate groups of three digits before the point "
            "(1,234,567.89); the decimal point is '.'"
        )
    if text.startswith(".") or ".万" in text or ".元" in text or text.endswith("."):
        return "write a digit on both sides of the point (0.50, 5.00)"
    if re.match(r"0[0-9]", text):
        return "it has leading zeros"
    return "write digits, at most one '.', and optionally 元, 万 or 万元 (e.g. 1234.56, 26.08万)"


def _text_to_fen(text: str) -> int:
    stripped = text.strip(_BLANKS)
    if not stripped:
        raise InvalidAmount("the amount is empty")
    if len(stripped) > _LONGEST:
        raise InvalidAmount(f"the amount {_shown(text)} is far too long to be an amount")
    match = AMOUNT_GRAMMAR.fullmatch(stripped)
    if match is None:
        raise InvalidAmount(f"{_shown(text)} is not an amount: {_why_not(stripped)}")
    whole: str = match["whole"]
    decimals: str = match["decimals"] or ""
    unit: str | None = match["unit"]
    in_wanyuan = unit in ("万", "万元")
    places = WANYUAN_DECIMALS if in_wanyuan else YUAN_DECIMALS
    if len(decimals) > places:
        raise InvalidAmount(
            f"the amount {_shown(text)} has more than four decimals; 万元 amounts are "
            "exact to the yuan (0.0001万)"
            if in_wanyuan
            else f"the amount {_shown(text)} has more than two decimals; "
            "yuan amounts are exact to the fen"
        )
    scale = FEN_PER_WANYUAN if in_wanyuan else FEN_PER_YUAN
    fen_per_last_place = 100 if in_wanyuan else 1  # 0.0001万 is 100 fen; 0.01 yuan is 1
    fraction = int(decimals.ljust(places, "0")) * fen_per_last_place
    return int(whole.replace(",", "")) * scale + fraction


def _check_range(fen: int, shown: str, *, allow_zero: bool) -> int:
    if fen < 0:
        raise InvalidAmount(f"the amount {shown} is negative; amounts must be positive")
    if fen == 0 and not allow_zero:
        raise InvalidAmount(f"the amount {shown} is zero; amounts must be positive")
    if fen > MAX_FEN:
        raise InvalidAmount(
            f"the amount {shown} is absurdly large (over one trillion yuan); check the figure"
        )
    return fen


def parse_amount(value: object, *, allow_zero: bool = False) -> int:
    """Parse an amount into fen: text in the grammar above, or an integer of whole yuan.

    ``"1234.56"`` → 123456 fen; ``"1,234.56元"`` → 123456; ``"26.08万"`` → 26,080,000;
    ``12`` → 1200. Zero is refused unless ``allow_zero``; negative amounts and amounts
    over one trillion yuan always are.
    """
    if isinstance(value, bool):
        raise InvalidAmount(f"{value!r} is not an amount")
    if isinstance(value, int):
        shown = str(value) if abs(value) <= MAX_FEN else "(an integer of absurd size)"
        return _check_range(value * FEN_PER_YUAN, shown, allow_zero=allow_zero)
    if isinstance(value, float):
        raise InvalidAmount(
            f'the amount {value!r} is a floating-point number: write it as text, e.g. "1234.56"'
        )
    if not isinstance(value, str):
        raise InvalidAmount(f"{value!r} is not an amount")
    return _check_range(_text_to_fen(value), _shown(value), allow_zero=allow_zero)


def to_yuan(fen: int) -> Decimal:
    """Exact yuan value of an amount in fen."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(_TWO_PLACES)


def yuan_str(fen: int) -> str:
    """Exact yuan text of an amount in fen, e.g. ``"7108050.00"``."""
    return str(to_yuan(fen))


def wanyuan_str(fen: int) -> str:
    """An amount printed in 万元 with two decimals, rounded half-up on its own."""
    return str((Decimal(fen) / FEN_PER_WANYUAN).quantize(_TWO_PLACES, rounding=ROUND_HALF_UP))


def percent(numerator: int, denominator: int) -> Decimal | None:
    """``numerator / denominator × 100`` rounded half-up to two decimals.

    ``None`` where the denominator is zero: the rate is not defined (a new item),
    and reports say so rather than print 0%.
    """
    if denominator == 0:
        return None
    rate = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
        _TWO_PLACES, rounding=ROUND_HALF_UP
    )
    return rate if rate else Decimal("0.00")  # never "-0.00"


def percent_str(numerator: int, denominator: int) -> str | None:
    """:func:`percent` as text, or ``None`` where it is not defined."""
    value = percent(numerator, denominator)
    return None if value is None else str(value)
