"""Chinese names the pages show for the ledger's own identifiers."""

from __future__ import annotations

from ledger.classifications import FUND_SOURCE_NAMES, NATURE_NAMES

EVENT_NAMES = {
    "BudgetLine.Opened": "开设指标",
    "BudgetLine.Allocated": "下达 / 追加",
    "BudgetLine.Reduced": "追减",
    "BudgetLine.TransferredToEnterprise": "拨付企业",
    "BudgetLine.Disbursed": "支付",
    "BudgetLine.ClawedBack": "财政收回",
    "BudgetLine.CarriedOver": "结转",
    "BudgetLine.CarryoverReceived": "上年结转",
    "BudgetLine.Lapsed": "结余（收回）",
    "BudgetLine.CarryoverAdjusted": "结转调整",
    "BudgetLine.CarryoverReceiptAdjusted": "上年结转调整",
    "BudgetLine.LapseAdjusted": "结余调整",
    "BudgetLine.EntryReversed": "红字冲销",
    "Project.Registered": "项目登记",
}

FUND_SOURCES = {k.value: v for k, v in FUND_SOURCE_NAMES.items()}
NATURES = {k.value: v for k, v in NATURE_NAMES.items()}
OUTCOMES = {"carry_over": "结转", "lapse": "结余（收回财政）"}
YEAR_STATUS = {"open": "进行中", "closing": "结账中", "closed": "已结账"}


def event_name(qualname: str) -> str:
    return EVENT_NAMES.get(qualname, qualname)
