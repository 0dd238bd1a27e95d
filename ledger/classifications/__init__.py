"""Classifications as validated data: function codes, economic codes, fund sources,
expenditure natures and the three public expenses."""

from ledger.classifications.economic import (
    PERSONNEL_CLASSES,
    PUBLIC_OPERATING_CLASSES,
    economic_class,
    economic_item_class,
    economic_name,
)
from ledger.classifications.function import (
    function_name,
    require_function_item,
    require_function_shape,
)
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
    "FISCAL_FUND_SOURCES",
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
    "economic_item_class",
    "economic_name",
    "function_name",
    "require_function_item",
    "require_function_shape",
]
