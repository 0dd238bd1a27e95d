"""支出功能分类: function classification, 类 (3 digits) / 款 (5) / 项 (7).

A budget line is booked to one 7-digit item; reports roll items up to sections and
classes. The codes are data (``catalogues/<year>/function.csv``, and catalogues a
finance bureau imports into the ledger per year): a line's code is checked against the
catalogue of its year when the line is opened (commands/handlers.py). Here: the shape a
code must have, and names from the shipped catalogues for labels.
"""

from __future__ import annotations

from ledger.classifications.catalogue import CatalogueKind
from ledger.classifications.shipped import any_name
from ledger.errors import UnknownCode


def require_function_shape(code: object) -> str:
    """``code`` if it has the shape of a function item (项: 7 ASCII digits); whether the
    item exists is a question for the catalogue of the line's year."""
    if not (isinstance(code, str) and len(code) == 7 and code.isascii() and code.isdigit()):
        raise UnknownCode(
            f"function code {code!r} must be a 7-digit item (类/款/项), for example 2010301"
        )
    return code


def function_name(code: str) -> str:
    """The full name of a function code, class/section/item joined by ``/``, from the
    latest shipped catalogue that holds each part (the code itself if none does)."""
    parts = [code[:3], code[:5], code][: {3: 1, 5: 2, 7: 3}.get(len(code), 0)]
    if not parts:
        raise UnknownCode(f"function code {code!r} is not 3, 5 or 7 digits")
    names = [any_name(CatalogueKind.FUNCTION, p) for p in parts]
    if names[-1] is None:
        raise UnknownCode(f"function code {code} (支出功能分类) does not exist")
    return "/".join(n or p for n, p in zip(names, parts, strict=True))


def require_function_item(code: str) -> str:
    """Check that ``code`` is a 7-digit function item (项) of a shipped catalogue."""
    require_function_shape(code)
    if any_name(CatalogueKind.FUNCTION, code) is None:
        raise UnknownCode(f"function code {code} (支出功能分类) does not exist")
    return code
