"""Exact money: integer fen (分) inside, ``Decimal`` strings at the edges.

Nothing in the ledger ever holds money as a float. Amounts enter as decimal
strings in yuan (``"1690000.00"``) or 万元 (``"1690万"``), are parsed exactly
into an ``int`` number of fen, and leave as strings rounded half-up, one
figure at a time (四舍五入), so ``710.81 + 19.28`` may differ from ``730.08``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ledger.errors import InvalidAmount

FEN_PER_YUAN = 100
FEN_PER_WANYUAN = 1_000_000
#: The largest amount a single posting may carry: one trillion yuan. Anything
#: larger is a typing error, not a government fund flow.
MAX_FEN = 10**12 * FEN_PER_YUAN

_TWO_PLACES = Decimal("0.01")


def _to_decimal(text: str | int | Decimal) -> Decimal:
    if isinstance(text, bool):
        raise InvalidAmount(f"{text!r} is not an amount")
    if isinstance(text, int | Decimal):
        return Decimal(text)
    if not isinstance(text, str):
        raise InvalidAmount(
            f'{text!r} is not an amount: write amounts as text such as "1234.56", never as'
            " a floating-point number"
        )
    cleaned = text.strip().replace(",", "").replace("，", "")
    if not cleaned:
        raise InvalidAmount("the amount is empty")
    if len(cleaned) > 40:
        raise InvalidAmount(f"the amount {text[:40]!r}… is far too long to be an amount")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidAmount(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise InvalidAmount(f"{text!r} is not a finite amount")
    return value


def _check_range(fen: int, text: object, *, allow_zero: bool, allow_negative: bool) -> int:
    if fen < 0 and not allow_negative:
        raise InvalidAmount(f"the amount {text} is negative; amounts must be positive")
    if fen == 0 and not allow_zero:
        raise InvalidAmount(f"the amount {text} is zero; amounts must be positive")
    if abs(fen) > MAX_FEN:
        raise InvalidAmount(
            f"the amount {text} is absurdly large (over one trillion yuan); check the figure"
        )
    return fen


def parse_amount(
    text: str | int | Decimal, *, allow_zero: bool = False, allow_negative: bool = False
) -> int:
    """Parse an amount written in yuan, or in 万元 with a trailing ``万``, into fen.

    ``"1234.56"`` → 123456 fen; ``"26.08万"`` → 26,080,000 fen. An amount that is
    not exact in fen (``"1.005"`` yuan, ``"0.0000001万"``) is rejected.
    """
    if isinstance(text, str) and text.strip().endswith(("万", "万元")):
        return parse_wanyuan(
            text.strip().removesuffix("元").removesuffix("万"),
            allow_zero=allow_zero,
            allow_negative=allow_negative,
        )
    return parse_yuan(text, allow_zero=allow_zero, allow_negative=allow_negative)


def parse_yuan(
    text: str | int | Decimal, *, allow_zero: bool = False, allow_negative: bool = False
) -> int:
    """Parse a yuan amount with at most two decimals into fen."""
    value = _to_decimal(text)
    fen = value * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise InvalidAmount(
            f"the amount {text} has more than two decimals; yuan amounts are exact to the fen"
        )
    return _check_range(int(fen), text, allow_zero=allow_zero, allow_negative=allow_negative)


def parse_wanyuan(
    text: str | int | Decimal, *, allow_zero: bool = False, allow_negative: bool = False
) -> int:
    """Parse an amount in 万元 (10,000 yuan) into fen; at most six decimals (one fen)."""
    value = _to_decimal(text)
    fen = value * FEN_PER_WANYUAN
    if fen != fen.to_integral_value():
        raise InvalidAmount(
            f"the amount {text} 万元 has more than six decimals; it is not exact to the fen"
        )
    return _check_range(
        int(fen), f"{text}万元", allow_zero=allow_zero, allow_negative=allow_negative
    )


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
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
        _TWO_PLACES, rounding=ROUND_HALF_UP
    )


def percent_str(numerator: int, denominator: int) -> str | None:
    """:func:`percent` as text, or ``None`` where it is not defined."""
    value = percent(numerator, denominator)
    return None if value is None else str(value)
