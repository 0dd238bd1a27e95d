"""Write the histories of the real units that ship beside the seed (``commands/seed/``).

Each is a unit's published year as the commands a clerk posts, built so that replaying it
reproduces every figure of its published-figures file (``commands/seed/*-published-figures
.json``, quoted from ``commands/seed/sources/``). Deterministic: run it again and the files
are byte-identical.

- ``daying-2022.jsonl``: 大英县文化广播电视和旅游局, 2022 — an opening balance taken on
  (open_balance), 其他收入 received (record_receipt) and spent from its own line, 三公
  reception, procurement by category.
- ``xundian-2022.jsonl``: 寻甸回族彝族自治县文化和旅游局, 2022 — its 三公 published in 元 to
  the fen: 三公 budget, published prior-year 三公, vehicles held, the two 三公 payments.

    python scripts/make_unit_seeds.py            # rewrite the files
    python scripts/make_unit_seeds.py --check    # fail if one is out of date
"""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

SEED = Path(__file__).resolve().parent.parent / "commands" / "seed"
ACCOUNTANT = "会计"
CLERK = "出纳"


def yuan(wan: str) -> str:
    """Yuan text with two decimals from a 万元 figure as published."""
    return f"{Decimal(wan) * 10000:.2f}"


class History:
    """Commands of one unit's year, numbered in order."""

    def __init__(self, prefix: str, unit: str, year: int) -> None:
        self.prefix, self.unit, self.year = prefix, unit, year
        self.commands: list[dict[str, Any]] = []
        self.vouchers = 0

    def add(self, command_type: str, day: date, **fields: Any) -> str:
        command_id = f"{self.prefix}-{self.year}-{len(self.commands) + 1:04d}"
        self.commands.append(
            {
                "type": command_type,
                "command_id": command_id,
                "posted_by": fields.pop("posted_by", ACCOUNTANT),
                "business_date": day.isoformat(),
                **fields,
            }
        )
        return command_id

    def on_line(self, command_type: str, line: str, day: date, **fields: Any) -> str:
        return self.add(command_type, day, unit=self.unit, year=self.year, line=line, **fields)

    def voucher(self, day: date) -> str:
        self.vouchers += 1
        return f"记-{self.year}-{day.month:02d}-{self.vouchers:04d}"

    def pay(self, line: str, wan: str, day: date, economic_code: str, **extra: Any) -> str:
        return self.pay_yuan(line, yuan(wan), day, economic_code, **extra)

    def pay_yuan(self, line: str, amount: str, day: date, economic_code: str, **extra: Any) -> str:
        return self.on_line(
            "disburse",
            line,
            day,
            posted_by=CLERK,
            amount=amount,
            economic_code=economic_code,
            document_no=self.voucher(day),
            **extra,
        )


def daying_2022() -> list[dict[str, Any]]:
    """大英县文化广播电视和旅游局, 2022 (see daying-2022-published-figures.json)."""
    h = History("dy", "DY-WGLJ", 2022)
    jan = date(2022, 1, 1)
    h.add(
        "register_unit",
        jan,
        code="DY-WGLJ",
        name="大英县文化广播电视和旅游局",
        kind="administrative",
    )
    h.add("open_fiscal_year", jan, unit="DY-WGLJ", year=2022)
    for code, name in (
        ("XM-YB", "一般公共预算安排的项目支出"),
        ("XM-QT", "其他收入安排的项目支出"),
    ):
        h.add("register_project", jan, unit="DY-WGLJ", code=code, name=name)
    for line, title, nature, function_code, fund_source, project in (
        ("JB-RY", "人员经费", "basic_personnel", "2070101", "general_public_budget", None),
        ("JB-GY", "公用经费", "basic_public", "2070101", "general_public_budget", None),
        ("XM-YB", "一般公共预算项目", "project", "2070199", "general_public_budget", "XM-YB"),
        ("XM-QT", "其他收入项目", "project", "2070199", "other", "XM-QT"),
    ):
        fields: dict[str, Any] = {
            "title": title,
            "nature": nature,
            "function_code": function_code,
            "fund_source": fund_source,
        }
        if project:
            fields["project"] = project
        h.on_line("open_budget_line", line, jan, **fields)

    # Take-on: the year opens with what 2021 left (not published; 本年支出 − 本年收入).
    h.on_line(
        "open_balance",
        "XM-YB",
        jan,
        amount=yuan("18.42"),
        document_no="2021年度决算结转和结余（接管）",
        memo="上年结转项目资金，账务接管时录入",
    )
    # Appropriations: 3859.16 = 1066.54 + 73.73 + 2718.89.
    h.on_line(
        "allocate_budget",
        "JB-RY",
        jan,
        amount=yuan("1066.54"),
        initial=True,
        document_no="大英县2022年部门预算批复",
    )
    h.on_line(
        "allocate_budget",
        "JB-GY",
        jan,
        amount=yuan("73.73"),
        initial=True,
        document_no="大英县2022年部门预算批复",
    )
    h.on_line(
        "allocate_budget",
        "XM-YB",
        date(2022, 3, 1),
        amount=yuan("2718.89"),
        document_no="大英县财政局项目资金指标文件",
    )
    # Other income (其他收入), received on its own line and spent from it.
    h.on_line(
        "record_receipt",
        "XM-QT",
        date(2022, 6, 30),
        amount=yuan("266.33"),
        payer="其他收入缴款单位",
        document_no="收-2022-06-0001",
    )
    h.pay("JB-RY", "1066.54", date(2022, 12, 20), "30101", payee="在职人员工资")
    h.pay("JB-GY", "7.80", date(2022, 11, 10), "30217", payee="公务接待", memo="国内公务接待16批次")
    h.pay("JB-GY", "65.93", date(2022, 12, 10), "30201", payee="机关运行")
    h.pay(
        "XM-YB",
        "670.65",
        date(2022, 9, 15),
        "30227",
        payee="政府采购服务供应商",
        procurement_category="services",
        supplier_size="large",
    )
    h.pay(
        "XM-YB",
        "39.00",
        date(2022, 10, 15),
        "31099",
        payee="政府采购工程供应商",
        procurement_category="works",
        supplier_size="large",
    )
    h.pay("XM-YB", "2027.66", date(2022, 12, 15), "30227", payee="项目实施")
    h.pay("XM-QT", "266.33", date(2022, 12, 16), "30227", payee="项目实施")
    return h.commands


def xundian_2022() -> list[dict[str, Any]]:
    """寻甸回族彝族自治县文化和旅游局, 2022 (see xundian-2022-published-figures.json): only
    its 三公 statement is published, in 元; amounts here are 元 as published."""
    unit, name = "XD-WLJ", "寻甸回族彝族自治县文化和旅游局"
    h = History("xd", unit, 2022)
    jan = date(2022, 1, 1)
    h.add("register_unit", jan, code=unit, name=name, kind="administrative")
    h.add("open_fiscal_year", jan, unit=unit, year=2022)
    # 2021's 三公, from the published 2022 amounts and their changes (derived_notes (2)).
    h.add(
        "import_prior_year_figures",
        jan,
        unit=unit,
        year=2022,
        document_no="寻甸县文化和旅游局2022年度“三公”经费决算情况说明",
        memo="2021年未在本系统记账：由已公开的2022年决算数及比上年增减数推出2021年“三公”经费",
        figures={
            "three_public": {
                "overseas_travel": "0",
                "vehicle_purchase": "0",
                "vehicle_operation": "24000.00",  # 23,005.58 + 994.42
                "official_reception": "21073.00",  # 3,080 + 17,993
            }
        },
    )
    # 年初预算 27,080 in all; per category not published (derived_notes (1)).
    h.add(
        "set_three_public_budget",
        jan,
        unit=unit,
        year=2022,
        document_no="寻甸县2022年部门预算批复",
        memo="“三公”经费年初预算合计27,080元",
        amounts={
            "overseas_travel": "0",
            "vehicle_purchase": "0",
            "vehicle_operation": "24000.00",
            "official_reception": "3080.00",
        },
    )
    h.on_line(
        "open_budget_line",
        "JB-GY",
        jan,
        title="公用经费",
        nature="basic_public",
        function_code="2070101",
        fund_source="general_public_budget",
    )
    h.on_line(
        "allocate_budget",
        "JB-GY",
        jan,
        amount="26085.58",
        initial=True,
        document_no="寻甸县2022年部门预算批复",
    )
    h.pay_yuan("JB-GY", "3080.00", date(2022, 12, 10), "30217", payee="公务接待")
    h.pay_yuan(
        "JB-GY",
        "23005.58",
        date(2022, 12, 20),
        "30231",
        payee="公务用车运行维护",
        memo="文化旅游工作所需车辆燃料费、维修费、过路过桥费等（公务用车2辆）",
    )
    h.add(
        "record_year_facts",
        date(2022, 12, 31),
        unit=unit,
        year=2022,
        document_no="寻甸县文化和旅游局2022年度“三公”经费决算情况说明",
        memo="公务用车保有量（年末数）、购置车辆、因公出国（境）团组",
        facts={
            "vehicles_held": 2,
            "vehicles_purchased": 0,
            "overseas_groups": 0,
            "overseas_persons": 0,
        },
    )
    return h.commands


HISTORIES = {"daying-2022.jsonl": daying_2022, "xundian-2022.jsonl": xundian_2022}


def render(build: Any) -> str:
    return "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in build())


def main() -> int:
    stale = []
    for name, build in HISTORIES.items():
        path, text = SEED / name, render(build)
        if "--check" in sys.argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
            continue
        path.write_text(text, encoding="utf-8")
        print(f"wrote {len(text.splitlines())} commands to {path}")
    if stale:
        print(f"out of date: {', '.join(stale)}: run python scripts/make_unit_seeds.py")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
