"""支出经济分类: economic classification, 3-digit classes and 5-digit items.

Postings of spending name a 5-digit item of the 部门预算支出经济分类 (301–399). 301 and
303 are personnel (人员经费), 302 and 310 public operating (公用经费) when spent from
basic lines; 312 is 对企业补助, the transfers to enterprises. The codes are data
(``catalogues/<year>/economic-department.csv`` and imported catalogues): a payment's
code is checked against the catalogue of its line's year (commands/handlers.py).
"""

from __future__ import annotations

from ledger.classifications.catalogue import CatalogueKind
from ledger.classifications.shipped import any_name
from ledger.errors import UnknownCode

#: Economic classes of personnel expenses (人员经费) when paid from basic lines.
PERSONNEL_CLASSES = frozenset({"301", "303"})
#: Economic classes of public operating expenses (公用经费) when paid from basic lines.
PUBLIC_OPERATING_CLASSES = frozenset({"302", "310"})


def economic_name(code: str) -> str:
    """The name of an economic code (latest shipped catalogue that has it); the code
    itself for one only an imported catalogue holds."""
    return any_name(CatalogueKind.ECONOMIC_DEPARTMENT, code) or code


def economic_item_class(code: object) -> str:
    """The 3-digit class of a 5-digit economic item, from its shape alone (whether it
    exists is a question for the catalogue of the line's year)."""
    if not (isinstance(code, str) and len(code) == 5 and code.isascii() and code.isdigit()):
        raise UnknownCode(f"economic code {code!r} must be a 5-digit item, for example 30201")
    return code[:3]


def economic_class(code: str) -> str:
    """The 3-digit class of a 5-digit economic item of a shipped catalogue."""
    klass = economic_item_class(code)
    if any_name(CatalogueKind.ECONOMIC_DEPARTMENT, code) is None:
        raise UnknownCode(f"economic code {code} (支出经济分类) does not exist")
    return klass
