"""Classifications as validated data: function codes, economic codes, fund sources,
expenditure natures and the three public expenses."""

from ledger.classifications.economic import (
    ECONOMIC_CODES,
    PERSONNEL_CLASSES,
    PUBLIC_OPERATING_CLASSES,
    economic_class,
    economic_name,
)
from ledger.classifications.function import FUNCTION_CODES, function_name, require_function_item
from ledger.classifications.kinds import (
    FISCAL_FUND_SOURCES,
    FUND_SOURCE_NAMES,
    NATURE_NAMES,
    OTHER_NATURES,
    THREE_PUBLIC_BY_ECONOMIC_CODE,
    THREE_PUBLIC_NAMES,
    FundSource,
    Nature,
    ProcurementCategory,
    SupplierSize,
    ThreePublic,
)

__all__ = [
    "ECONOMIC_CODES",
    "FISCAL_FUND_SOURCES",
    "FUNCTION_CODES",
    "FUND_SOURCE_NAMES",
    "NATURE_NAMES",
    "OTHER_NATURES",
    "PERSONNEL_CLASSES",
    "PUBLIC_OPERATING_CLASSES",
    "THREE_PUBLIC_BY_ECONOMIC_CODE",
    "THREE_PUBLIC_NAMES",
    "FundSource",
    "Nature",
    "ProcurementCategory",
    "SupplierSize",
    "ThreePublic",
    "economic_class",
    "economic_name",
    "function_name",
    "require_function_item",
]
