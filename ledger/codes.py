"""The one pattern every business code obeys, and the one for command ids.

A business code names a unit (预算单位编码), a budget line or a project. Codes become
parts of aggregate ids and of URLs, so they carry no separators, whitespace or control
characters and are bounded in length: letters (Latin or CJK), digits, ``-``, ``_`` and
``.``, starting with a letter or digit, at most 64 characters.

A command id is the client's own id for one command (a voucher number such as
``记-2023-03-0001`` will do): 1–64 characters, none of them whitespace or control
characters.
"""

from __future__ import annotations

import re

from ledger.errors import InvalidInput

MAX_CODE_LENGTH = 64
_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
BUSINESS_CODE_PATTERN = rf"^[0-9A-Za-z{_CJK}][0-9A-Za-z{_CJK}._-]{{0,{MAX_CODE_LENGTH - 1}}}$"
_BUSINESS_CODE = re.compile(BUSINESS_CODE_PATTERN)
COMMAND_ID_PATTERN = r"^[^\s\x00-\x1f\x7f-\x9f]{1,64}$"
_COMMAND_ID = re.compile(COMMAND_ID_PATTERN)
#: Characters Python's ``\s`` misses but that still look like nothing.
_INVISIBLE = re.compile("[\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


class InvalidCode(InvalidInput, ValueError):
    """A unit, line or project code, or a command id, that breaks the pattern."""


def require_business_code(value: str) -> str:
    """``value`` if it is a valid business code, else :class:`InvalidCode` saying why."""
    if _BUSINESS_CODE.fullmatch(value) is None:
        shown = value if len(value) <= 80 else value[:80] + "…"
        raise InvalidCode(
            f"{shown!r} is not a valid code: a unit, line or project code is 1–{MAX_CODE_LENGTH}"
            " letters or digits, '-', '_' or '.', starting with a letter or digit — no "
            "spaces, slashes or other separators"
        )
    return value


def require_command_id(value: str) -> str:
    """``value`` if it is a valid command id, else :class:`InvalidCode` saying why."""
    if _COMMAND_ID.fullmatch(value) is None or _INVISIBLE.search(value):
        shown = value if len(value) <= 80 else value[:80] + "…"
        raise InvalidCode(
            f"{shown!r} is not a valid command id: 1–64 characters without spaces, "
            "invisible or control characters"
        )
    return value


def is_business_code(value: str) -> bool:
    """Whether ``value`` follows the business-code pattern."""
    return _BUSINESS_CODE.fullmatch(value) is not None
