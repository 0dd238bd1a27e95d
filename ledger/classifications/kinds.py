"""Closed vocabularies: fund sources, expenditure natures, the three public expenses,
and the procurement attributes a payment may carry."""

from __future__ import annotations

from enum import StrEnum


class FundSource(StrEnum):
    """资金来源: where a line's money comes from (the eight of the statutory tables)."""

    GENERAL_PUBLIC_BUDGET = "general_public_budget"
    GOVERNMENT_FUND = "government_fund"
    STATE_CAPITAL = "state_capital"
    HIGHER_LEVEL_SUBSIDY = "higher_level_subsidy"
    BUSINESS_INCOME = "business_income"
    OPERATING_INCOME = "operating_income"
    AFFILIATED_REMITTANCE = "affiliated_remittance"
    OTHER = "other"


FUND_SOURCE_NAMES: dict[FundSource, str] = {
    FundSource.GENERAL_PUBLIC_BUDGET: "一般公共预算财政拨款",
    FundSource.GOVERNMENT_FUND: "政府性基金预算财政拨款",
    FundSource.STATE_CAPITAL: "国有资本经营预算财政拨款",
    FundSource.HIGHER_LEVEL_SUBSIDY: "上级补助收入",
    FundSource.BUSINESS_INCOME: "事业收入",
    FundSource.OPERATING_INCOME: "经营收入",
    FundSource.AFFILIATED_REMITTANCE: "附属单位上缴收入",
    FundSource.OTHER: "其他收入",
}

#: The three kinds of 财政拨款 (fiscal appropriation).
FISCAL_FUND_SOURCES = frozenset(
    {FundSource.GENERAL_PUBLIC_BUDGET, FundSource.GOVERNMENT_FUND, FundSource.STATE_CAPITAL}
)


class Nature(StrEnum):
    """支出性质: what a line is for: keeping the unit running, a project, or one of the
    other kinds of spending the 支出决算表 lists beside them (money a unit passes up to its
    superior, spends on its non-independent business, or passes down to its subordinates)."""

    BASIC_PERSONNEL = "basic_personnel"
    BASIC_PUBLIC = "basic_public"
    PROJECT = "project"
    HIGHER_LEVEL_REMITTANCE = "higher_level_remittance"
    """上缴上级支出."""
    OPERATING = "operating"
    """经营支出."""
    AFFILIATED_SUBSIDY = "affiliated_subsidy"
    """对附属单位补助支出."""

    @property
    def is_basic(self) -> bool:
        return self in (Nature.BASIC_PERSONNEL, Nature.BASIC_PUBLIC)


#: The kinds of spending beside basic and project, in the order the 支出决算表 lists them.
OTHER_NATURES = (Nature.HIGHER_LEVEL_REMITTANCE, Nature.OPERATING, Nature.AFFILIATED_SUBSIDY)

NATURE_NAMES: dict[Nature, str] = {
    Nature.BASIC_PERSONNEL: "基本支出（人员经费）",
    Nature.BASIC_PUBLIC: "基本支出（公用经费）",
    Nature.PROJECT: "项目支出",
    Nature.HIGHER_LEVEL_REMITTANCE: "上缴上级支出",
    Nature.OPERATING: "经营支出",
    Nature.AFFILIATED_SUBSIDY: "对附属单位补助支出",
}


class ThreePublic(StrEnum):
    """“三公”经费: the three public expenses, reported separately."""

    OVERSEAS_TRAVEL = "overseas_travel"
    VEHICLE_PURCHASE = "vehicle_purchase"
    VEHICLE_OPERATION = "vehicle_operation"
    OFFICIAL_RECEPTION = "official_reception"


THREE_PUBLIC_NAMES: dict[ThreePublic, str] = {
    ThreePublic.OVERSEAS_TRAVEL: "因公出国（境）费",
    ThreePublic.VEHICLE_PURCHASE: "公务用车购置费",
    ThreePublic.VEHICLE_OPERATION: "公务用车运行维护费",
    ThreePublic.OFFICIAL_RECEPTION: "公务接待费",
}

#: Each three-public category has exactly one economic item.
THREE_PUBLIC_BY_ECONOMIC_CODE: dict[str, ThreePublic] = {
    "30212": ThreePublic.OVERSEAS_TRAVEL,
    "31013": ThreePublic.VEHICLE_PURCHASE,
    "30231": ThreePublic.VEHICLE_OPERATION,
    "30217": ThreePublic.OFFICIAL_RECEPTION,
}


class ProcurementCategory(StrEnum):
    """政府采购 category of a payment made under a procurement contract."""

    GOODS = "goods"
    WORKS = "works"
    SERVICES = "services"


class SupplierSize(StrEnum):
    """Size of the supplier awarded a procurement contract (中小企业 = medium, small, micro)."""

    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    MICRO = "micro"
