"""One policy for every free-text field: what is stored is what people will read.

Payees, memos, reasons, titles, names, document numbers and identities are shown to
clerks, auditors and the public — in terminals, spreadsheets, web pages and printed
reports. A character that displays as nothing, moves other text around or redraws the
screen lets the stored text say something other than what a reader sees (``U+202E``
turns ``付款给甲公司`` around; ``ESC[2J`` clears the terminal; a zero-width space makes
two identical-looking payees different; NUL cannot even be stored in a PostgreSQL
``jsonb``). So every free-text field refuses, wherever it enters:

- control characters, C0 (``U+0000``-``U+001F``, NUL and ESC included), DEL
  (``U+007F``) and C1 (``U+0080``-``U+009F``) — except tab and line feed in the
  multi-line fields (memo, reasons); there a CR LF pair is stored as LF and a lone CR
  is refused;
- every *format* character (Unicode category Cf): the bidirectional marks, embeddings,
  overrides and isolates (``U+200E``, ``U+200F``, ``U+061C``, ``U+202A``-``U+202E``,
  ``U+2066``-``U+2069``), the zero-width characters (``U+200B``-``U+200D``,
  ``U+2060``, ``U+FEFF``), the soft hyphen, invisible operators, tags, …;
- the line and paragraph separators ``U+2028`` and ``U+2029`` (a line break that some
  screens draw and others do not);
- characters drawn as nothing though not format characters: ``U+034F``, the Hangul
  fillers ``U+115F``, ``U+1160``, ``U+3164``, ``U+FFA0`` and ``U+17B4``, ``U+17B5``;
- lone surrogates, noncharacters (``U+FDD0``-``U+FDEF``, ``U+xFFFE``, ``U+xFFFF``) and
  ``U+FFFD`` (the mark a decoder leaves where it lost a character: the text is damaged);
- a combining mark as the first character (it would draw onto whatever precedes the
  field on the screen).

Text that passes is stored in Unicode normalization form NFC, so that the same name
typed on two systems (precomposed or with combining marks) is stored — and compared,
and fingerprinted — as the same text. NFC leaves Chinese text as typed, except that the
CJK compatibility ideographs (``U+F900``-``U+FAFF``, ``U+2F800``-``U+2FA1F``) become the
unified ideographs they are canonically equal to. Private-use characters (some legacy
GB18030 data and 造字 for rare names use them), variation selectors and ordinary spaces
(the ideographic space ``U+3000`` included) are allowed.

The refusal is a ``ValueError`` naming the character as ``U+XXXX`` with its Unicode
name and its position; the command models report it against the field, with the code
``invalid_input``.
"""

from __future__ import annotations

import unicodedata

#: Characters drawn as nothing that are not format characters (Default_Ignorable).
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")
_MULTI_LINE_CONTROLS = frozenset("\t\n")


def _why(char: str, *, multiline: bool) -> str | None:
    """Why ``char`` may not be stored in a free-text field, or ``None`` if it may."""
    point = ord(char)
    category = unicodedata.category(char)
    if category == "Cc":
        if multiline and char in _MULTI_LINE_CONTROLS:
            return None
        if multiline and char == "\r":
            return "a carriage return without a line feed, which can overwrite text on a screen"
        if char in "\t\n\r":
            return "a tab or line break, allowed only in a memo or a reason"
        return "a control character, which can hide or redraw text on a screen"
    if category == "Cf":
        if 0x202A <= point <= 0x202E or 0x2066 <= point <= 0x2069 or char in "\u200e\u200f\u061c":
            return "a bidirectional control, which shows the text in another order than stored"
        return "an invisible format character, which makes the text differ from what is shown"
    if category in ("Zl", "Zp"):
        return "a line or paragraph separator; use a line break in a memo or a reason"
    if category == "Cs":
        return "half of a surrogate pair, which is not a character"
    if char in _INVISIBLE:
        return "a character drawn as nothing"
    if 0xFDD0 <= point <= 0xFDEF or point & 0xFFFE == 0xFFFE:
        return "a noncharacter"
    if char == "\ufffd":
        return "the mark a decoder leaves where it lost a character: the text is damaged"
    return None


_CONTROL_NAMES = {
    0x00: "NULL",
    0x09: "CHARACTER TABULATION",
    0x0A: "LINE FEED",
    0x0D: "CARRIAGE RETURN",
    0x1B: "ESCAPE",
    0x7F: "DELETE",
}


def _name(char: str) -> str:
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(ord(char), "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def clean_text(text: str, *, multiline: bool = False) -> str:
    """``text`` as it is stored (NFC; CR LF as LF in multi-line text), or ``ValueError``
    naming the first character the policy refuses and its position (from 1)."""
    for index, char in enumerate(text):
        if multiline and char == "\r" and text[index + 1 : index + 2] == "\n":
            continue
        why = _why(char, multiline=multiline)
        if why is not None:
            raise ValueError(f"character {index + 1} is {_name(char)}: {why}; remove it")
    if multiline:
        text = text.replace("\r\n", "\n")
    normalized = unicodedata.normalize("NFC", text)
    shown = normalized.strip()  # the models strip surrounding blanks
    if shown and unicodedata.category(shown[0]).startswith("M"):
        raise ValueError(
            f"the text starts with {_name(shown[0])}, a combining mark with nothing "
            "to combine with; remove it"
        )
    return normalized


def single_line(value: object) -> object:
    """Pydantic ``BeforeValidator`` of one-line free text (non-text is left to pydantic)."""
    return clean_text(value) if isinstance(value, str) else value


def multi_line(value: object) -> object:
    """Pydantic ``BeforeValidator`` of free text where tabs and line breaks are allowed."""
    return clean_text(value, multiline=True) if isinstance(value, str) else value


def nested_text(value: object) -> object:
    """Pydantic validator of structured data (a recorded policy): every key and string
    inside under the one-line policy, so nothing unstorable hides in a ``dict``."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {nested_text(k): nested_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nested_text(v) for v in value]
    return value
